/* SPDX-License-Identifier: MIT */
/*
 * Shared by default-route.c (the default-route and source-route steps) and
 * default-route-hand.c (handing recorded routes down on detach): how a recorded default
 * route is kept in a step's text and read back.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "lib/core/plan.h"
#include "lib/kernel/netlink.h"
#include "lib/kernel/route.h"

/* Whether a and b have the kernel's key of a route in a table (NLM_F_REPLACE replaces). */
bool lj_defroute_same_key(const struct lj_route_info *a, const struct lj_route_info *b);

/* The main table's default routes of family in nl's namespace: *ret (caller frees), *ret_n.
 * Returns 0 or -errno from the dump. */
int lj_defroute_dump(struct lj_nl *nl, int family, struct lj_route_info **ret, size_t *ret_n);

/* Parse one recorded route {"dev", "ifindex", "route"} into rt, *dev (borrowed from e) and
 * *ifindex. Returns 0, -EBADMSG for a malformed entry, or -errno of the route's text. */
int lj_defroute_entry_parse(const json_t *e, struct lj_route_info *rt, const char **dev,
			    int *ifindex);

/* The recorded routes of a step's text (a JSON array, new reference), or NULL. */
json_t *lj_defroute_recorded(const struct lj_step *s);

/* Whether link name in nl still is the one with ifindex (false without nl). */
bool lj_defroute_same_link(struct lj_nl *nl, const char *name, int ifindex);

/* Print rt as `ip route` words (through dev) to f. */
void lj_defroute_print(const struct lj_route_info *rt, const char *dev, FILE *f);

/* Print each route of a recorded list (see lj_defroute_recorded) to f, as lj_defroute_print
 * does, between the texts before and after. Malformed entries are left out. */
void lj_defroute_print_each(const json_t *list, const char *before, const char *after, FILE *f);
