/* SPDX-License-Identifier: MIT */
/* rtnetlink routes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/netlink.h"
#include "shared/parse.h"

struct lj_route {
	struct lj_cidr dst;  /* prefixlen 0 = default route */
	struct lj_ip via;    /* family AF_UNSPEC = directly connected */
	int oif;             /* output ifindex, 0 = let the kernel pick (needs via) */
	uint32_t table;      /* 0 = main */
	uint32_t metric;     /* 0 = kernel default */
	bool onlink;         /* gateway is on the link even if no prefix covers it */
};

/* Add a route (NLM_F_CREATE|NLM_F_EXCL): -EEXIST if an equal one exists. */
int lj_route_add(struct lj_nl *nl, const struct lj_route *rt);

/* Delete a route; -ESRCH if there is none. */
int lj_route_del(struct lj_nl *nl, const struct lj_route *rt);

/*
 * Count the routes, IPv4 and IPv6, of every table except the local one, that leave through
 * link ifindex and that someone added: not those the kernel made by itself (protocol
 * "kernel" for address prefixes, "ra" from router advertisements, "redirect"), with a dump. Returns the count or -errno.
 */
int lj_route_count_dev(struct lj_nl *nl, int ifindex);
