/* SPDX-License-Identifier: MIT */
/*
 * Uplink adoption: move a host link's addresses and routes onto a new bridge that holds the
 * link, with a probe and automatic rollback (the `netplan try` idea), and give them back.
 * Records live in the state directory's "uplinks" subdirectory, one per bridge.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>

#include "lib/kernel/addr.h"
#include "lib/core/plan.h"
#include "lib/core/result.h"
#include "lib/ways/uplink-opts.h"
#include "lib/kernel/route.h"

/*
 * Adopt o->dev into the new bridge o->bridge. Returns 0 (res->json describes the adoption and
 * holds "warnings", e.g. about DHCP), or -errno with res->message; res->bad_input when nothing
 * was attempted, res->rolled_back when steps (or a failed probe) were undone. Re-running it for
 * an adoption that is complete is a no-op (res->message says so); one left half-done by a
 * crash is rolled back and redone.
 */
int lj_uplink_adopt(const struct lj_uplink_opts *o, struct lj_result *res);

/*
 * Give bridge's uplink back: addresses and routes back onto it, out of the bridge, bridge
 * removed. Refused while other links (containers) are ports of the bridge unless force.
 * Atomic: if a step fails, the steps already undone are redone (the adoption stays whole) and
 * -errno is returned. Nothing adopted under that name is success (res->message says so).
 */
int lj_uplink_release(const char *bridge, bool force, bool dry_run, struct lj_result *res);

/*
 * For a failed `attach bridge --uplink` that adopted BR itself: give the uplink back as
 * lj_uplink_release with force does, unless someone else relies on the adoption by then (an
 * explicit `uplink adopt` of it, another attach that went on with it, an attachment recorded
 * on BR), decided under the state lock the release holds. Returns 0 (released, or nothing
 * adopted), 1 (kept: res->message says who relies on it), or -errno as lj_uplink_release.
 */
int lj_uplink_give_back(const char *bridge, struct lj_result *res);

/*
 * For `attach bridge --bridge BR --uplink DEV`: if BR does not exist, adopt DEV into it (with
 * the default probe) and set *ret_adopted, unless another command adopted it meanwhile (then
 * res->unchanged). If BR exists and is lanjoin's adoption, this process is recorded as
 * relying on it (lj_uplink_give_back of another attach keeps it). Returns 0 or -errno with
 * res filled as by lj_uplink_adopt.
 */
int lj_uplink_adopt_if_missing(const char *bridge, const char *dev, struct lj_result *res,
			       bool *ret_adopted);

/*
 * For `attach bridge --uplink DEV --dry-run` on a missing bridge: append the adoption's steps
 * to plan (for describing only) and return DEV's MTU in *ret_mtu. Returns 0 or -errno with res.
 */
int lj_uplink_plan(struct lj_ctx *ctx, const char *bridge, const char *dev, struct lj_plan *plan,
		   uint32_t *ret_mtu, struct lj_result *res);

/*
 * For gc, under the lock of st (the attachments state): roll back adoptions a crash left
 * half-done, and remove OVS uplink ports (external_ids:lanjoin-target=uplink) that no record
 * explains any more (after a reboot ovs-vswitchd puts the uplink back into its bridge while
 * the addresses are on the uplink again: the host would be cut off). Adds to *ret_removed.
 */
int lj_uplink_gc(const struct lj_state *st, struct lj_result *res, size_t *ret_removed);

/*
 * Put back what a firewall reload dropped of the uplink adoption recorded as id (from this
 * namespace): each of its accept rules (bridged-accept) missing from its chain is inserted
 * again. Nothing else of the adoption is touched: its addresses and routes are the host's
 * own. Under the state lock. Returns how many rules were put back (0: none was missing, or
 * no such adoption), or -errno with res->message.
 */
int lj_uplink_repair_fw(const char *id, struct lj_result *res);

/* List adopted uplinks as a JSON array (new reference in *ret); *ret_bad (may be NULL) counts
 * the adoption records that could not be read (lj_state_list_unreadable names them). */
int lj_uplink_list(json_t **ret, size_t *ret_bad);

/*
 * The uplink lanjoin adopted into bridge in this network namespace (an "adopted" record),
 * copied to ret_dev; read under the lock st holds (an attachment state). -ENOENT if none.
 */
int lj_uplink_adopted_dev(const struct lj_state *st, const char *bridge, char ret_dev[IFNAMSIZ]);

/* Was rec (an adoption record) made in lanjoin's own network namespace? */
bool lj_uplink_own_record(const struct lj_record *rec);
