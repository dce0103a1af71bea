/* SPDX-License-Identifier: MIT */
/* Does an address answer? ICMP echo and neighbour (ARP/ND) reachability, with a deadline. */
#pragma once

#include <stdbool.h>

#include "lib/kernel/netlink.h"
#include "shared/parse.h"

/*
 * Probe ip through link ifindex (named ifname) for at most timeout_ms milliseconds: send an
 * ICMP/ICMPv6 echo request every 200 ms (raw socket bound to the link; needs CAP_NET_RAW) and,
 * when onlink, also watch the link's neighbour entry for ip. Success is an echo reply from ip
 * or the neighbour entry turning REACHABLE (an ARP reply / neighbour advertisement, or traffic
 * confirming it). Returns 0 on an answer, -ETIMEDOUT without one, -EINTR as soon as the front
 * end caught SIGINT/SIGTERM/SIGHUP (core/interrupt.h), other -errno on failure.
 */
int lj_probe(struct lj_nl *nl, int ifindex, const char *ifname, const struct lj_ip *ip, bool onlink,
	     unsigned timeout_ms);

/*
 * The NUD_* state of the neighbour entry for ip on link ifindex (RTM_GETNEIGH, Linux 4.18).
 * -ENOENT if there is none.
 */
int lj_neigh_state(struct lj_nl *nl, int ifindex, const struct lj_ip *ip, uint16_t *ret);
