/* SPDX-License-Identifier: MIT */
/* rtnetlink neighbour (ARP/NDP) entries. */
#pragma once

#include "lib/kernel/netlink.h"
#include "shared/parse.h"

/*
 * Delete the neighbour entry of ip on link ifindex (e.g. a MAC address learnt for an
 * address that now belongs to another link). -ENOENT if there is none.
 */
int lj_neigh_del(struct lj_nl *nl, int ifindex, const struct lj_ip *ip);
