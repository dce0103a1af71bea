/* SPDX-License-Identifier: MIT */
/*
 * What detach (detach.c) and gc (gc.c) share: loading the records, finding a record's
 * namespace again, and the bulk undo that deletes the host links of many records at once.
 * Internal to src/lib/core.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/core/result.h"
#include "lib/core/state.h"
#include "lib/core/target.h"
#include "lib/kernel/netns.h"

/*
 * The namespaces of the processes and the bind mounts, read once per detach or gc (only when
 * a record's target is gone; NULL until then), dropped with lj_undo_netns_index_drop at the
 * end of lj_detach, lj_gc, lj_detach_all, lj_detach_matching.
 */
extern struct lj_netns_index *lj_undo_netns_index;
void lj_undo_netns_index_drop(void);

/*
 * Open the state directory (exclusively unless shared), drop the leftovers of record writes a
 * killed process never finished (exclusive only) and load every record (with hint_key and
 * hint_value, only those whose text has them). On failure res says why and nothing is left
 * to free.
 */
int lj_undo_load_records(bool exclusive, const char *hint_key, const char *hint_value,
			 struct lj_state **ret_st, struct lj_record **ret_recs, size_t *ret_n,
			 struct lj_result *res);

/*
 * Open rec's target (by container ID, recorded PID, or the namespace's identity); true if it
 * is the namespace the record was made for (t then open), else t->netns_fd is -1.
 */
bool lj_undo_open_alive(const struct lj_record *rec, struct lj_target *t);

/* Is the open target t (netns_fd -1: no) the namespace rec was made for: its inode, and its
 * cookie when both are known? */
bool lj_record_in_netns(const struct lj_record *rec, const struct lj_target *t);

/*
 * What the "detaching" mark a detach sets before its first undo says of the attachment's
 * stored spec (lj_record drop_spec): as a mark already there says (gc, reconcile, CNI and
 * the Docker driver have no word on it; none: kept), kept (detach --keep-spec), or dropped
 * once the undo is done (detach).
 */
enum lj_undo_spec {
	LJ_UNDO_SPEC_AS_MARKED,
	LJ_UNDO_SPEC_KEEP,
	LJ_UNDO_SPEC_DROP,
};

/*
 * Undo the records recs[i] with sel[i] set (sel[i]: the reason for its note, "" for none),
 * their host links deleted in one request; each is marked "detaching" (spec: what the mark
 * says of its stored spec) before its first undo. Records undone without failure are removed
 * (and their stored spec, when their mark says so). known (NULL: each target is opened here)
 * is, per record, its target opened before. Returns 0 or the first -errno; *ret_removed
 * counts the removed records.
 */
int lj_undo_bulk(struct lj_state *st, struct lj_record *recs, const char *const *sel, size_t n,
		 const struct lj_target *known, enum lj_undo_spec spec, struct lj_result *res,
		 size_t *ret_removed);

/*
 * Before recs[i]'s undo (ctx open on its target): the default routes its default-route steps
 * recorded as "what to put back" pass to the records of the same target whose default-route
 * step replaced recs[i]'s route (they recorded a route through recs[i]'s link, which goes with
 * it), each saved under the lock before recs[i]'s undo, so that detaching in any order puts the
 * first routes back (a crash in between leaves both records holding them: undone once); its
 * source-route steps go to that record too, in exchange for that record's rule for recs[i]'s
 * link (which goes with recs[i]: recs[i]'s undo removes it). A route
 * recs[i] would put back whose link is gone gets a note in res (it cannot be put back).
 * Records with undone[j] (NULL: none) are left alone. With dry (--dry-run; st may be NULL),
 * nothing is saved: the routes are handed down in recs alone and each hand-down is described
 * on dry, one "\n# ..." line each. Returns 0 or -errno (a save failed: recs[i] must not be
 * undone; ctx->detail says why).
 */
int lj_default_route_hand_down(struct lj_ctx *ctx, struct lj_state *st, struct lj_record *recs,
			       size_t n, size_t i, const bool *undone, FILE *dry,
			       struct lj_result *res);

/*
 * The records of st (locked exclusively; with dry_run, shared is enough) other than self_id
 * (NULL: none) that hold one of the addresses ips[0..n_ips) but whose target is gone (judged
 * by its namespace's identity, inode and cookie, never by a name or inode alone): undone and
 * removed as gc does (lj_undo_bulk: host links deleted, stored specs kept), each with a note
 * in res naming it. With dry_run, only the notes (what would be removed). A live holder is
 * left for the ways' address checks to refuse. *ret_removed counts the removed records.
 * Returns 0 or -errno with res->message (records that could not be undone are kept).
 */
int lj_undo_stale_holders(struct lj_state *st, const char *self_id, const struct lj_cidr *ips,
			  size_t n_ips, bool dry_run, struct lj_result *res, size_t *ret_removed);
