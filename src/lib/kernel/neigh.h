/* SPDX-License-Identifier: MIT */
/* rtnetlink neighbour (ARP/NDP) entries. */
#pragma once

#include <stdbool.h>

#include "lib/kernel/netlink.h"
#include "shared/parse.h"

/*
 * Delete the neighbour entry of ip on link ifindex (e.g. a MAC address learnt for an
 * address that now belongs to another link). -ENOENT if there is none.
 */
int lj_neigh_del(struct lj_nl *nl, int ifindex, const struct lj_ip *ip);

/*
 * Add a proxy neighbour entry for ip on link ifindex (`ip neigh add proxy IP dev LINK`): the
 * kernel answers ARP requests (with forwarding on the link) and neighbour solicitations (with
 * proxy_ndp and forwarding) for ip on that link with the link's MAC. -EEXIST if it is there.
 */
int lj_neigh_proxy_add(struct lj_nl *nl, int ifindex, const struct lj_ip *ip);

/* Delete the proxy entry of ip on link ifindex. -ENOENT if there is none. */
int lj_neigh_proxy_del(struct lj_nl *nl, int ifindex, const struct lj_ip *ip);

/*
 * The proxy entries of family (AF_INET or AF_INET6) on link ifindex (0: on any link): how
 * many there are, and whether ip (NULL: not asked) is among them in *ret_has (may be NULL).
 * Returns the count or -errno.
 */
int lj_neigh_proxy_count(struct lj_nl *nl, int family, int ifindex, const struct lj_ip *ip,
			 bool *ret_has);

/*
 * Whether link ifindex has a proxy entry (`ip neigh add proxy`) for ip: 1 yes, 0 no, or
 * -errno. One lookup of that entry where the kernel has it (Linux 5.0), else a dump.
 */
int lj_neigh_proxy_has(struct lj_nl *nl, int ifindex, const struct lj_ip *ip);

/*
 * Whether mac is a local address in the forwarding database of bridge master (the address of
 * the bridge or of one of its ports: the bridge adds one such entry for each, or a permanent
 * entry a user added): 1 yes (*ret_ifindex, may be NULL, the link whose it is), 0 no (none,
 * or one the bridge learnt), or -errno (-EOPNOTSUPP, -EINVAL: the kernel has no such lookup,
 * Linux before 5.0). One request, whatever the number of ports.
 */
int lj_neigh_fdb_local(struct lj_nl *nl, int master, const uint8_t *mac, int *ret_ifindex);
