/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink requests of route.c, each built into a caller's buffer (buf, size bytes,
 * aligned for struct nlmsghdr) with bounded attribute puts: the lj_route_* functions build
 * them in the socket's buffer and send them; the unit test parses them back. Each returns 0
 * (the request starts at buf) or -EMSGSIZE if it does not fit (then nothing must be sent).
 */
#pragma once

#include <stddef.h>

#include "shared/parse.h"

/* Declared in lib/kernel/route.h (not included: route.c includes this header). */
struct lj_route;
struct lj_route_info;

/* What a request does with a route: its message type and flags. */
enum lj_route_op {
	LJ_ROUTE_ADD,	  /* RTM_NEWROUTE, NLM_F_CREATE|NLM_F_EXCL */
	LJ_ROUTE_APPEND,  /* RTM_NEWROUTE, NLM_F_CREATE|NLM_F_APPEND */
	LJ_ROUTE_REPLACE, /* RTM_NEWROUTE, NLM_F_CREATE|NLM_F_REPLACE */
	LJ_ROUTE_DEL,	  /* RTM_DELROUTE */
};

/* The request of op for route rt (lj_route_add, _append, _replace, _del). */
int lj_route_msg(void *buf, size_t size, enum lj_route_op op, const struct lj_route *rt);

/* The request of op for route rt going out of link oif (lj_route_*_info). */
int lj_route_msg_info(void *buf, size_t size, enum lj_route_op op, const struct lj_route_info *rt,
		      int oif);

/* RTM_GETROUTE dump of family, of the routes through link oif (0: all). */
int lj_route_msg_dump(void *buf, size_t size, int family, int oif);

/* RTM_GETROUTE lookup of the route to dst. -EAFNOSUPPORT if dst is no IPv4/IPv6 address. */
int lj_route_msg_get(void *buf, size_t size, const struct lj_ip *dst);
