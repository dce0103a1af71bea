/* SPDX-License-Identifier: MIT */
/*
 * Address announcements and conflict detection on a link, from inside a network namespace:
 * gratuitous ARP, RFC 5227 ARP probes (raw AF_PACKET) and IPv6 unsolicited neighbour
 * advertisements (RFC 4861 §7.2.6). Sockets are opened inside the namespace; the caller's
 * namespace is left as it was.
 */
#pragma once

#include <netinet/in.h>
#include <stdint.h>

#include "shared/parse.h"

/*
 * Send one gratuitous ARP request (sender and target address both ip, sender hardware
 * address mac, to the broadcast address) out of link ifname, in network namespace netns_fd
 * (borrowed; -1 = the caller's namespace). mac NULL means the link's own address. Neighbours
 * that already have an entry for ip update it; with arp_accept set they also create one.
 * Errors: -EAFNOSUPPORT for a non-IPv4 ip, -ENODEV if there is no such link, -errno of
 * socket/setns/sendto (-EPERM without CAP_NET_RAW).
 */
int lj_arp_announce(int netns_fd, const char *ifname, const struct lj_ip *ip, const uint8_t *mac);

/*
 * Reap the children that announcements and probes left to close their packet sockets (see
 * arp.c) and that have exited. A long-running process calls it now and then; each new such
 * child also reaps the earlier ones. Only those PIDs are waited for.
 */
void lj_arp_reap(void);

/*
 * Default probe timing: 2 probes 10 ms apart, then 30 ms of listening (40 ms in all). RFC
 * 5227 spaces probes 1-2 s apart for lossy media and slow hosts; a switched LAN answers in
 * well under a millisecond, and an attach should not cost a second. The second probe covers
 * one lost frame. --no-conflict-check skips the probe entirely.
 */
#define LJ_ARP_PROBE_NUM 2
#define LJ_ARP_PROBE_INTERVAL_MS 10
#define LJ_ARP_PROBE_WAIT_MS 30

/*
 * Ask the link whether ip is in use (RFC 5227 §2.1.1 probe: sender IP 0.0.0.0, target ip):
 * send probes ARP requests interval_ms apart from link ifindex of namespace netns_fd
 * (borrowed; -1 = the caller's namespace), and listen until wait_ms after the last one.
 * The link must be up and must not have ip yet. Any ARP packet from another MAC claiming
 * ip as its sender, or probing for ip itself, is a conflict.
 * Returns 0 if nobody claimed ip, -EADDRINUSE with ret_mac (may be NULL) set to the MAC
 * that did, -ENETDOWN if the link is down, or another -errno.
 */
int lj_arp_probe(int netns_fd, int ifindex, const struct in_addr *ip, unsigned probes,
		 unsigned interval_ms, unsigned wait_ms, uint8_t ret_mac[LJ_MAC_LEN]);

/*
 * Send an unsolicited neighbour advertisement for ip (Override set, to all-nodes ff02::1)
 * from link ifindex of netns_fd, with the link's MAC as target link-layer address. ip must
 * be an address of the link that is no longer tentative. Returns 0 or -errno.
 */
int lj_ndisc_announce(int netns_fd, int ifindex, const struct in6_addr *ip);

/*
 * The same for an address of another link that this one answers for (a proxy neighbour
 * entry): the advertisement for ip carries link ifindex's MAC and leaves from the link's own
 * link-local address. Returns 0 or -errno.
 */
int lj_ndisc_announce_proxy(int netns_fd, int ifindex, const struct in6_addr *ip);

/*
 * Ask the link whether IPv6 address ip is in use, as lj_arp_probe does for IPv4: send probes
 * neighbour solicitations for ip (to its solicited-node group, from the link's link-local
 * address) interval_ms apart from link ifindex of netns_fd, and listen until wait_ms after
 * the last. A neighbour advertisement for ip is a conflict. For an address the host will
 * answer for by proxy (the host's kernel ignores the solicitations meanwhile). Returns 0,
 * -EADDRINUSE with ret_mac (may be NULL; zero when the answer named no MAC) set,
 * -ENETDOWN if the link is down, or another -errno (-EADDRNOTAVAIL without a link-local
 * address on the link).
 */
int lj_ndisc_probe(int netns_fd, int ifindex, const struct in6_addr *ip, unsigned probes,
		   unsigned interval_ms, unsigned wait_ms, uint8_t ret_mac[LJ_MAC_LEN]);
