/* SPDX-License-Identifier: MIT */
/*
 * The one journaled transaction every command that changes the system goes through (attach,
 * uplink adopt, extending a live attachment):
 *
 *   lj_txn_existing   a record under the same id? the caller's policy: refuse, keep, replace
 *   lj_txn_apply      record the plan ("applying") before the first change, apply it with
 *                     progress saves (save_after steps); on failure the runner rolls back and
 *                     the record goes (kept when an undo failed, for detach/gc)
 *   lj_txn_settle     the waiting steps (a DHCP lease, DAD), recorded as "settling", without
 *                     the state lock; undone on failure unless a detach took over meanwhile
 *   lj_txn_commit     check what the plan relies on, record the final status; else undo all
 *
 * Each call returns 0 or -errno and leaves the facts of a failure in the lj_txn (which step,
 * how many undos failed, the step's detail) for the caller's own words; the shared ones
 * ("Failed to write the state record") go into res. Also here: the one constructor of the
 * step context (struct lj_ctx) for every caller.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/core/ctx.h"
#include "lib/core/plan.h"
#include "lib/core/result.h"
#include "lib/core/state.h"
#include "lib/core/target.h"

/* One transaction: what it acts on (borrowed) and, after a failed call, what went wrong. */
struct lj_txn {
	struct lj_state *st;   /* the locked state directory (lj_txn_settle may reopen it: the
				  caller closes txn->st in the end) */
	struct lj_ctx *ctx;    /* what the steps run against */
	struct lj_record *rec; /* the record: id, way, status, info; its plan stays empty (the
				  plan is lent to it for each save) */
	struct lj_plan *plan;  /* the plan; steps below from are already applied and recorded */
	size_t from;	       /* lj_txn_extend: the first new step; 0 otherwise */

	/* after a failure */
	size_t step;	       /* the failed step (index into plan) */
	size_t undo_failed;    /* undos that failed in the rollback */
	bool ours;	       /* lj_txn_settle: the record was still this transaction's */
	char detail[512];      /* the failed step's detail (ctx->detail), or "" */
	char undo_detail[512]; /* lj_txn_apply: what could not be undone */
};

/*
 * The caller's policy for a record that exists under the new record's id (old), or, when
 * that record was written by lanjoin in another network namespace, old NULL and load_error
 * -EXDEV. Returns LJ_TXN_REPLACE after undoing old itself (its record is then removed here),
 * LJ_TXN_KEEP when there is nothing to do (res->message says so), or -errno with res set.
 */
typedef int (*lj_txn_existing_fn)(struct lj_txn *txn, const struct lj_record *old, int load_error,
				  void *data, struct lj_result *res);
#define LJ_TXN_REPLACE 0
#define LJ_TXN_KEEP 1

/*
 * Look for a record under txn->rec->id in txn->st (subdir names the directory in messages:
 * "attachments", "uplinks") and apply policy to it. Returns 0 (none, or replaced: go on),
 * LJ_TXN_KEEP, or -errno with res set.
 */
int lj_txn_existing(struct lj_txn *txn, const char *subdir, lj_txn_existing_fn policy, void *data,
		    struct lj_result *res);

/*
 * Record txn->plan (txn->rec's status as set, "applying" for a new record) and apply its
 * steps from txn->from on, saving the record after each save_after step that learnt something
 * (lj_plan_apply). On a failed step
 * the runner undoes the new steps; then the record is removed (a new one) or saved back
 * with the plan as it was before (an extension), unless an undo failed (kept for detach and
 * gc). Returns 0, or -errno: txn->step, undo_failed, detail, undo_detail say what failed
 * and res->rolled_back, res->undo_failed are set; a failed first save leaves nothing done
 * (res->message set, txn->step = SIZE_MAX).
 */
int lj_txn_apply(struct lj_txn *txn, struct lj_result *res);

/* Does one of p's steps wait in lj_txn_settle (a step type with settle)? */
bool lj_txn_settles(const struct lj_plan *p);

/*
 * If the plan has waiting steps: record it as "settling" with this process as its owner,
 * drop the state lock, run the waits (lj_plan_settle, into txn->rec->info), take the lock
 * again (txn->st is the new one) and tell whether the record is still this one (txn->ours:
 * not detached meanwhile). On a failed wait the attachment is undone and its record
 * removed if still ours. Returns 0; -errno after a failed wait (txn->step, detail, ours,
 * undo_failed; res->rolled_back, undo_failed set when ours); -ECANCELED when the waits
 * succeeded but the record was detached meanwhile; or -errno with res->message when the
 * record could not be written or the lock not taken again (txn->step = SIZE_MAX).
 */
int lj_txn_settle(struct lj_txn *txn, struct lj_result *res);

/*
 * The end, under the lock: with check, stop at the LANJOIN_PAUSE_AT test point plan->n + 1
 * and confirm what the plan relies on (lj_plan_check); then record status (e.g. "attached",
 * "adopted", no owner). If either fails, the whole plan is undone and the record removed
 * (kept if an undo failed). Returns 0, or -errno with txn->detail saying what failed,
 * txn->undo_failed, res->rolled_back and res->undo_failed set.
 */
int lj_txn_commit(struct lj_txn *txn, const char *status, bool check, struct lj_result *res);

/*
 * The reverse of a transaction, all or nothing (uplink release): undo txn->plan as a whole
 * (lj_plan_undo_atomic) and remove the record. If an undo fails, the steps already undone
 * are applied again and the record stays as it was; if that fails too, the record is kept
 * with status stuck_status (e.g. "releasing"). Returns 0 or -errno: txn->step is the failed
 * undo, txn->detail its detail, txn->undo_failed 1 when the redo failed too (txn->undo_detail
 * says which steps); res->rolled_back (the whole is back) and res->undo_failed are set.
 */
int lj_txn_undo_atomic(struct lj_txn *txn, const char *stuck_status, struct lj_result *res);
