/* SPDX-License-Identifier: MIT */
/* rtnetlink addresses on a link. */
#pragma once

#include <stdint.h>

#include "lib/netlink.h"
#include "shared/parse.h"

/*
 * Add address c (with its prefix length) to link ifindex. flags are IFA_F_* (e.g.
 * IFA_F_NODAD), sent as IFA_FLAGS. For IPv4 the broadcast address is derived. -EEXIST if the
 * link already has it.
 */
int lj_addr_add(struct lj_nl *nl, int ifindex, const struct lj_cidr *c, uint32_t flags);

/* Remove address c from link ifindex. -EADDRNOTAVAIL if it is not there. */
int lj_addr_del(struct lj_nl *nl, int ifindex, const struct lj_cidr *c);

/*
 * List the addresses of family (AF_INET, AF_INET6 or AF_UNSPEC for both) on link ifindex
 * (0 = every link) into ret[0..max), with a dump. *ret_n receives how many there are, which
 * may exceed max (only max are stored). Returns 0 or -errno.
 */
int lj_addr_list(struct lj_nl *nl, int ifindex, int family, struct lj_cidr *ret, size_t max,
		 size_t *ret_n);
