/* SPDX-License-Identifier: MIT */
/*
 * Address announcements and conflict detection on a link, from inside a network namespace:
 * RFC 5227 ARP probes and announcements (raw AF_PACKET), and IPv6 unsolicited neighbour
 * advertisements (RFC 4861 §7.2.6). Sockets are opened inside the namespace and closed
 * before returning; the caller's namespace is left as it was.
 */
#pragma once

#include <netinet/in.h>
#include <stdint.h>

#include "shared/parse.h"

/* Default probe timing: 3 probes 50 ms apart, then 100 ms of listening (200 ms in all; RFC
 * 5227 spaces them 1-2 s, but a LAN answers in well under a millisecond). */
#define LJ_ARP_PROBE_NUM 3
#define LJ_ARP_PROBE_INTERVAL_MS 50
#define LJ_ARP_PROBE_WAIT_MS 100

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
 * Announce that ip is now at link ifindex's MAC (RFC 5227 §2.3 ARP announcement, i.e. a
 * gratuitous ARP request, sender = target = ip, broadcast), count times back to back, so
 * that neighbours that cached another MAC for ip update it. netns_fd as lj_arp_probe.
 * Returns 0 or -errno.
 */
int lj_arp_announce(int netns_fd, int ifindex, const struct in_addr *ip, unsigned count);

/*
 * Send an unsolicited neighbour advertisement for ip (Override set, to all-nodes ff02::1)
 * from link ifindex of netns_fd, with the link's MAC as target link-layer address. ip must
 * be an address of the link that is no longer tentative. Returns 0 or -errno.
 */
int lj_ndisc_announce(int netns_fd, int ifindex, const struct in6_addr *ip);
