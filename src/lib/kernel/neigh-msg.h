/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink neighbour requests (neigh.c, probe.c), built into a caller's buffer (buf,
 * size bytes, aligned for struct nlmsghdr) with bounded attribute puts, for the senders and
 * the unit test. Returns 0 (the request starts at buf) or -EMSGSIZE if it does not fit.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "shared/parse.h"

/* RTM_GETNEIGH or RTM_DELNEIGH (type) of the entry of ip on link ifindex. */
int lj_neigh_msg(void *buf, size_t size, uint16_t type, int ifindex, const struct lj_ip *ip);

/*
 * The proxy entry (NTF_PROXY) of ip on link ifindex: RTM_NEWNEIGH (created, NLM_F_EXCL) or
 * RTM_DELNEIGH (type); or, with ip NULL and RTM_GETNEIGH, a dump of the proxy entries of
 * family (ifindex 0: of every link).
 */
int lj_neigh_proxy_msg(void *buf, size_t size, uint16_t type, int family, int ifindex,
		       const struct lj_ip *ip);

/*
 * RTM_GETNEIGH of the forwarding entry of mac (6 bytes, VLAN 0) in the database of the Linux
 * bridge master (`bridge fdb get MAC br BRIDGE`): family AF_BRIDGE, NDA_LLADDR, NDA_MASTER.
 */
int lj_neigh_fdb_get_msg(void *buf, size_t size, int master, const uint8_t *mac);
