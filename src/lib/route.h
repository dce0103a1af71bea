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

/* Add or replace the route to rt->dst in its table (NLM_F_CREATE|NLM_F_REPLACE). */
int lj_route_replace(struct lj_nl *nl, const struct lj_route *rt);

/*
 * Count the routes, IPv4 and IPv6, of every table except the local one, that leave through
 * link ifindex and that someone added: not those the kernel made by itself (protocol
 * "kernel" for address prefixes, "ra" from router advertisements, "redirect"), with a dump.
 * Returns the count or -errno.
 */
int lj_route_count_dev(struct lj_nl *nl, int ifindex);
/* A route as the kernel reports it (dump or lookup). */
struct lj_route_entry {
	struct lj_cidr dst;  /* prefixlen 0 = default route */
	struct lj_ip via;    /* AF_UNSPEC = directly connected */
	struct lj_ip src;    /* preferred source (RTA_PREFSRC), AF_UNSPEC if none */
	int oif;             /* 0 if none */
	uint32_t table;
	uint8_t type;        /* RTN_UNICAST, RTN_LOCAL, RTN_UNREACHABLE, ... */
	uint8_t protocol;    /* RTPROT_KERNEL, RTPROT_STATIC, RTPROT_RA, ... */
};

/*
 * Dump the routes of family (AF_INET or AF_INET6) of every table in nl's namespace. On
 * success *ret is a malloc'd array of *ret_n entries (caller frees; NULL when none).
 */
int lj_route_list(struct lj_nl *nl, int family, struct lj_route_entry **ret, size_t *ret_n);

/*
 * Ask the kernel which route it would use to reach dst (`ip route get`). Errors:
 * -ENETUNREACH (or another -errno) when there is none.
 */
int lj_route_get(struct lj_nl *nl, const struct lj_ip *dst, struct lj_route_entry *ret);
