/* SPDX-License-Identifier: MIT */
/*
 * Handing a link to a container engine: a link made in lanjoin's own namespace for an engine
 * to move into its sandbox itself (Docker's network drivers: Join names the link, Docker moves
 * it, renames it and sets the addresses its IPAM gave). The change is a plan with undo, as
 * every attach is; the caller keeps the plan (lj_plan_to_json) to undo it later.
 */
#pragma once

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/core/attach.h"

/* What link to hand over. Strings are copied into the plan. */
struct lj_handoff_opts {
	enum lj_way way;       /* LJ_WAY_BRIDGE or LJ_WAY_MACVLAN */
	char name[IFNAMSIZ];   /* the link the engine takes (bridge: the veth's container end) */
	char host[IFNAMSIZ];   /* bridge: the veth's host end, a port of bridge */
	char bridge[IFNAMSIZ]; /* bridge: an existing Linux bridge */
	char parent[IFNAMSIZ]; /* macvlan: the parent link */
	uint32_t macvlan_mode; /* MACVLAN_MODE_*, 0 = bridge */
	uint8_t mac[LJ_MAC_LEN];
	bool has_mac;
	uint32_t mtu; /* 0 = the bridge's/parent's */
	/* macvlan: host routes to these addresses (/32, /128) through the host shim shim
	 * (lj_shim_add made it), so that the host reaches the container */
	char shim[IFNAMSIZ];
	struct lj_cidr shim_routes[2];
	size_t n_shim_routes;
};

/*
 * Make o's link in lanjoin's namespace through a plan: on failure the steps done are undone
 * and nothing is left. On success *ret_plan is the plan as JSON (new reference) for
 * lj_handoff_undo. Returns 0, or -errno with res->message (res->bad_input: o is invalid or
 * names a missing bridge/parent).
 */
int lj_handoff_make(const struct lj_handoff_opts *o, json_t **ret_plan, struct lj_result *res);

/*
 * Undo a plan lj_handoff_make returned: delete the link if it is back in lanjoin's namespace
 * (the engine moves it back when it leaves the sandbox). Gone is success. Returns 0 or -errno
 * with res->message.
 */
int lj_handoff_undo(const json_t *plan, struct lj_result *res);

/*
 * Undo what lj_handoff_make(o) would have made, without its plan: for a run killed after
 * making the link and before keeping the plan. The links are found by o's names (a veth by
 * name alone), the shim routes by address. Nothing there is success. Returns 0 or -errno with
 * res->message.
 */
int lj_handoff_unmake(const struct lj_handoff_opts *o, struct lj_result *res);
