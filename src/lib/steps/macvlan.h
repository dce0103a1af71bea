/* SPDX-License-Identifier: MIT */
/*
 * The macvlan step types' own facts, shared with the macvlan way and the shim commands above
 * them: the mode names, the shim's name and how lanjoin tells its shims apart. (The step
 * types themselves, lj_step_macvlan, lj_step_shim and lj_step_shim_route, are declared in
 * core/plan.h.)
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/way.h"
#include "lib/kernel/link.h"

/* The macvlan modes (MACVLAN_MODE_*), the default (bridge) first: the macvlan way's row. */
#define LJ_MACVLAN_N_MODES 4
extern const struct lj_way_choice lj_macvlan_modes[LJ_MACVLAN_N_MODES];

/*
 * The alias of a shim made with `lanjoin shim add`: kept until `lanjoin shim del`, whatever
 * containers come and go. A shim made by an attach carries LJ_OWNED_ALIAS instead and is
 * removed by the undo that takes away the last route through it.
 */
#define LJ_SHIM_PINNED_ALIAS "lanjoin: host shim, kept until 'lanjoin shim del'"

/*
 * The alias of a shim a Docker network of lanjoin's plugin made (its host_shim option): the
 * network's, removed with it; `lanjoin shim del` refuses it.
 */
#define LJ_SHIM_NETWORK_ALIAS "lanjoin: host shim of a Docker network, removed with it"

/* The alias a shim step's u32 asks for: 0 LJ_OWNED_ALIAS, 1 pinned, 2 a network's. */
const char *lj_shim_alias(uint32_t u32);

/* Most addresses looked at on one link. */
#define LJ_MACVLAN_MAX_ADDRS 64

/* "bridge", "vepa", "private" or "passthru" (a value none of them: bridge). */
const char *lj_macvlan_mode_name(uint32_t mode);

/* The shim's name for parent: "ljs" + 12 hex digits of a hash of the parent's name. */
void lj_shim_name(const char *parent, char ret[IFNAMSIZ]);

/* True if l is a link lanjoin made as a shim (a macvlan with one of lanjoin's aliases). */
bool lj_shim_is_ours(const struct lj_link *l);

/*
 * Is l (named as lanjoin names the shim on the parent with ifindex parent) what a run killed
 * between creating the shim and marking it left behind: a macvlan on that parent with no
 * alias and no address? The kernel ignores an alias in the creating request, so that window
 * cannot be closed. Returns 1 (a leftover: lanjoin may remove it), 0, or -errno.
 */
int lj_shim_is_leftover(struct lj_nl *nl, const struct lj_link *l, int parent);
