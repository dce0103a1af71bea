/* SPDX-License-Identifier: MIT */
/* rtnetlink routes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/kernel/netlink.h"
#include "shared/parse.h"

struct lj_route {
	struct lj_cidr dst; /* prefixlen 0 = default route */
	struct lj_ip via;   /* family AF_UNSPEC = directly connected */
	int oif;	    /* output ifindex, 0 = let the kernel pick (needs via) */
	uint32_t table;	    /* 0 = main */
	uint32_t metric;    /* 0 = kernel default */
	bool onlink;	    /* gateway is on the link even if no prefix covers it */
};

/* Add a route (NLM_F_CREATE|NLM_F_EXCL): -EEXIST if an equal one exists. */
int lj_route_add(struct lj_nl *nl, const struct lj_route *rt);

/*
 * Add a route beside any to the same destination through other links (NLM_F_CREATE|
 * NLM_F_APPEND; IPv6 makes them one multipath route): -EEXIST only if this very route exists.
 */
int lj_route_append(struct lj_nl *nl, const struct lj_route *rt);

/* Delete a route; -ESRCH if there is none. */
int lj_route_del(struct lj_nl *nl, const struct lj_route *rt);

/* Add or replace the route to rt->dst in its table (NLM_F_CREATE|NLM_F_REPLACE). */
int lj_route_replace(struct lj_nl *nl, const struct lj_route *rt);

#define LJ_ROUTE_METRICS 17 /* RTAX_MAX + 1 on Linux 6.x; unknown ones make a route unsupported */

/*
 * Everything rtnetlink says about one route, enough to re-create it on another link exactly.
 * Routes lanjoin cannot re-create faithfully are marked unsupported with the reason.
 */
struct lj_route_info {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t dst_len, src_len, tos;
	uint8_t protocol; /* RTPROT_* */
	uint8_t scope;	  /* RT_SCOPE_* */
	uint8_t type;	  /* RTN_* */
	uint32_t flags;	  /* rtm_flags (only RTNH_F_ONLINK is re-sent) */
	uint32_t table;
	struct lj_ip dst, src, gateway, prefsrc; /* AF_UNSPEC when absent */
	int oif;
	bool has_priority;
	uint32_t priority; /* metric */
	uint32_t flow;	   /* IPv4 realms, 0 = none */
	bool has_pref;
	uint8_t pref;	       /* IPv6 router preference */
	uint32_t expires;      /* IPv6: seconds left, 0 = does not expire */
	uint32_t metrics_mask; /* bit i set: metrics[i] (RTAX_i) is present */
	uint32_t metrics[LJ_ROUTE_METRICS];
	const char *unsupported; /* static text, NULL if the route can be re-created */
};

/*
 * Dump the routes of family (AF_INET or AF_INET6; AF_UNSPEC: both, in one request) in every
 * table whose nexthop uses link oif (kernel-filtered on a strict socket, filtered here anyway;
 * oif 0: every route). Cloned/cache
 * entries are not included. *ret is malloc'd (caller frees), possibly NULL when *ret_n is 0.
 */
int lj_route_dump(struct lj_nl *nl, int family, int oif, struct lj_route_info **ret, size_t *ret_n);

/* Whether a and b have the same key for the kernel's replace: family, table, destination,
 * (IPv6) source, TOS, metric. */
bool lj_route_info_same_key(const struct lj_route_info *a, const struct lj_route_info *b);

/*
 * Add or replace route rt, going out of link oif (rt->oif is ignored), in one NLM_F_REPLACE
 * request: a route with the same table, destination, TOS and metric is switched over
 * atomically, else a new one is created. Returns 0 or -errno.
 */
int lj_route_replace_info(struct lj_nl *nl, const struct lj_route_info *rt, int oif);

/* Add route rt going out of link oif (NLM_F_CREATE|NLM_F_EXCL): -EEXIST if one with the same
 * table, destination, TOS and metric exists. */
int lj_route_add_info(struct lj_nl *nl, const struct lj_route_info *rt, int oif);

/* Delete route rt as it is on link oif. -ESRCH if there is none. */
int lj_route_del_info(struct lj_nl *nl, const struct lj_route_info *rt, int oif);

/*
 * Count the routes, IPv4 and IPv6, of every table except the local one, that leave through
 * link ifindex and that someone added: not those the kernel made by itself (protocol
 * "kernel" for address prefixes, "ra" from router advertisements, "redirect"), with a dump.
 * Returns the count or -errno.
 */
int lj_route_count_dev(struct lj_nl *nl, int ifindex);
/* A route as the kernel reports it (dump or lookup). */
struct lj_route_entry {
	struct lj_cidr dst; /* prefixlen 0 = default route */
	struct lj_ip via;   /* AF_UNSPEC = directly connected */
	struct lj_ip src;   /* preferred source (RTA_PREFSRC), AF_UNSPEC if none */
	int oif;	    /* 0 if none */
	uint32_t table;
	uint8_t type;	  /* RTN_UNICAST, RTN_LOCAL, RTN_UNREACHABLE, ... */
	uint8_t protocol; /* RTPROT_KERNEL, RTPROT_STATIC, RTPROT_RA, ... */
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

/*
 * Like lj_route_list, but only the routes of table (RT_TABLE_MAIN, ...; 0: every table) that
 * leave through link oif (0: any). The kernel filters the dump where it can (strict checking
 * for this request, lj_nl_transact_filtered): it then sends those routes only, not every
 * route of the host. Returns 0 or -errno; *ret as lj_route_list.
 */
int lj_route_list_filtered(struct lj_nl *nl, int family, uint32_t table, int oif,
			   struct lj_route_entry **ret, size_t *ret_n);

/*
 * The route entry the kernel's lookup of dst ends in (`ip route get fibmatch DST`,
 * RTM_F_FIB_MATCH): its prefix as configured (dst, prefixlen), table, type and link, rather
 * than the resolved route of lj_route_get. One lookup through the policy rules, not a dump.
 * Errors: -ENETUNREACH (or the -errno of an unreachable, blackhole or prohibit route, or
 * another -errno) when the lookup ends in no route entry.
 */
int lj_route_match(struct lj_nl *nl, const struct lj_ip *dst, struct lj_route_entry *ret);
