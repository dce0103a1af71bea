/* SPDX-License-Identifier: MIT */
/*
 * Read-back of live state, for verifying an attachment (CNI CHECK): is an address on a link,
 * is a route in the main table. Dumps filtered by the kernel where it can, checked again here.
 */
#pragma once

#include <stdbool.h>

#include "lib/kernel/netlink.h"
#include "shared/parse.h"

/*
 * Whether link ifindex carries address c (same address and prefix length).
 * Returns 1 (yes), 0 (no) or -errno.
 */
int lj_inspect_has_addr(struct lj_nl *nl, int ifindex, const struct lj_cidr *c);

/*
 * Whether the main table has a unicast route to dst (host bits ignored) through gateway via
 * (any gateway when via->family is AF_UNSPEC, or via is NULL) out of link oif (any when 0).
 * Returns 1, 0 or -errno.
 */
int lj_inspect_has_route(struct lj_nl *nl, const struct lj_cidr *dst, const struct lj_ip *via,
			 int oif);
