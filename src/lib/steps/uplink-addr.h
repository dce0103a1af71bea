/* SPDX-License-Identifier: MIT */
/*
 * Addresses and routes of uplink adoption (steps/uplink-addr.c): their text form in a step,
 * their `ip` syntax, and the step types that copy and move them.
 */
#pragma once

#include <stdio.h>

#include "lib/core/plan.h"
#include "lib/kernel/addr.h"
#include "lib/kernel/route.h"

extern const struct lj_step_type lj_step_addr_copy;  /* text = address on link (BR) */
extern const struct lj_step_type lj_step_addr_flags; /* text = address on link (BR): final flags */
extern const struct lj_step_type lj_step_addr_move;  /* text = address removed from link (DEV) */
extern const struct lj_step_type lj_step_route_move; /* text = route on link (DEV) → master (BR) */

/* Step flag of addr-copy (lj_step.flags): add with IFA_F_NODAD (flags fixed later). */
#define LJ_STEP_F_NODAD_FIRST (1u << 8)

/* Address / route as JSON text for a step (malloc'd) and back (validated). */
char *lj_addr_full_to_text(const struct lj_addr_full *a);
int lj_addr_full_from_text(const char *text, struct lj_addr_full *ret);
char *lj_route_info_to_text(const struct lj_route_info *rt);
int lj_route_info_from_text(const char *text, struct lj_route_info *ret);

/* Print address a / route rt in `ip` syntax (no newline). */
void lj_addr_full_print(const struct lj_addr_full *a, const char *dev, FILE *f);
void lj_route_info_print(const struct lj_route_info *rt, const char *dev, FILE *f);
