/* SPDX-License-Identifier: MIT */
/* Gratuitous ARP: tell a LAN that an IPv4 address now lives at a MAC address. */
#pragma once

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
