/* SPDX-License-Identifier: MIT */
#include "lib/core/txn.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/kernel/proc.h"

/*
 * Save txn->rec with the first n steps of txn->plan. more: the transaction saves it again
 * (lj_state_save_more: the saves of one attach reuse one temporary file).
 */
static int save_with(struct lj_txn *txn, size_t n, bool more)
{
	int r;

	txn->rec->plan = (struct lj_plan){.steps = txn->plan->steps, .n = n, .cap = n};
	r = more ? lj_state_save_more(txn->st, txn->rec) : lj_state_save(txn->st, txn->rec);
	txn->rec->plan = (struct lj_plan){0};
	return r;
}

int lj_txn_existing(struct lj_txn *txn, const char *subdir, lj_txn_existing_fn policy, void *data,
		    struct lj_result *res)
{
	struct lj_record old;
	int r;

	r = lj_state_load(txn->st, txn->rec->id, &old);
	if (r == -ENOENT)
		return 0;
	if (r == -EXDEV)
		return policy(txn, NULL, r, data, res);
	if (r < 0)
		return lj_fail(res, r, "Failed to read the state record %s/%s/%s.json: %s",
			       lj_state_dir(), subdir, txn->rec->id,
			       r == -EBADMSG ? "it is malformed or not lanjoin's" : strerror(-r));
	r = policy(txn, &old, 0, data, res);
	lj_record_free(&old);
	if (r == LJ_TXN_REPLACE)
		return lj_state_remove(txn->st, txn->rec->id);
	return r;
}

/* ctx->save during apply: the record with what the steps learned so far. */
static int save_progress(struct lj_ctx *ctx, const struct lj_plan *p)
{
	struct lj_txn *txn = ctx->save_data;

	return save_with(txn, txn->plan->n, true);
}

/* Undo the whole plan after a failure past apply, and forget the record if that worked. */
static void undo_all(struct lj_txn *txn, struct lj_result *res)
{
	size_t failed = 0;

	txn->ctx->rollback = true;
	lj_plan_undo_all(txn->ctx, txn->plan, &failed);
	txn->ctx->rollback = false;
	if (!failed)
		lj_state_remove(txn->st, txn->rec->id);
	else
		lj_state_drop_spare(txn->st, txn->rec->id);
	txn->undo_failed = failed;
	res->rolled_back = true;
}

int lj_txn_apply(struct lj_txn *txn, struct lj_result *res)
{
	struct lj_plan view = {
		.steps = txn->plan->steps + txn->from,
		.n = txn->plan->n - txn->from,
		.cap = txn->plan->n - txn->from,
	};
	struct lj_plan_error perr;
	int r;

	txn->step = SIZE_MAX;
	txn->undo_failed = 0;
	txn->detail[0] = txn->undo_detail[0] = '\0';
	/* Record the undo plan before the first change: a crash leaves a record gc can undo. */
	r = save_with(txn, txn->plan->n, true);
	if (r < 0)
		return lj_fail(res, r, "Failed to write the state record: %s", strerror(-r));

	txn->ctx->save = save_progress;
	txn->ctx->save_data = txn;
	r = lj_plan_apply(txn->ctx, &view, &perr);
	txn->ctx->save = NULL;
	txn->ctx->save_data = NULL;
	if (r == 0)
		return 0;
	lj_state_drop_spare(txn->st, txn->rec->id);
	txn->step = txn->from + perr.step;
	txn->undo_failed = perr.undo_failed;
	snprintf(txn->detail, sizeof(txn->detail), "%s", txn->ctx->detail);
	snprintf(txn->undo_detail, sizeof(txn->undo_detail), "%s", perr.undo_detail);
	res->rolled_back = true;
	res->undo_failed = perr.undo_failed;
	if (perr.undo_failed == 0) {
		if (txn->from == 0)
			lj_state_remove(txn->st, txn->rec->id);
		else
			save_with(txn, txn->from, false); /* the attachment as it was */
	}
	return r;
}

bool lj_txn_settles(const struct lj_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->steps[i].type->settle &&
		    (!p->steps[i].type->settles || p->steps[i].type->settles(&p->steps[i])))
			return true;
	return false;
}

int lj_txn_settle(struct lj_txn *txn, struct lj_result *res)
{
	struct lj_record *rec = txn->rec, cur;
	size_t step = 0;
	int r, l;

	txn->step = SIZE_MAX;
	txn->ours = true;
	txn->detail[0] = '\0';
	if (!lj_txn_settles(txn->plan))
		return 0;
	/* gc tells a live wait from a killed one by this process and its start time. */
	rec->owner_pid = getpid();
	r = lj_proc_start_time(getpid(), &rec->owner_start);
	snprintf(rec->status, sizeof(rec->status), "settling");
	if (r == 0)
		r = save_with(txn, txn->plan->n, true);
	if (r < 0) {
		/* Keep the system consistent with the state: undo everything. */
		undo_all(txn, res);
		return lj_fail(res, r, "Failed to write the state record: %s", strerror(-r));
	}

	lj_state_close(txn->st);
	txn->st = NULL;
	lj_plan_test_pause_settle();
	r = lj_plan_settle(txn->ctx, txn->plan, rec->info, &step);
	l = lj_state_open(true, &txn->st);
	if (l < 0)
		return lj_fail(res, l, "Failed to reopen the state directory %s: %s",
			       lj_state_dir(), strerror(-l));
	/* Still the record this transaction wrote: not detached (and maybe re-attached)
	 * meanwhile. */
	txn->ours = lj_state_load(txn->st, rec->id, &cur) == 0;
	if (txn->ours) {
		txn->ours = cur.created == rec->created && strcmp(cur.status, "settling") == 0 &&
			    cur.owner_pid == rec->owner_pid && cur.owner_start == rec->owner_start;
		lj_record_free(&cur);
	}
	if (r < 0) {
		txn->step = step;
		snprintf(txn->detail, sizeof(txn->detail), "%s", txn->ctx->detail);
		if (txn->ours) {
			size_t failed = 0;

			txn->ctx->rollback = true;
			lj_plan_undo_all(txn->ctx, txn->plan, &failed);
			txn->ctx->rollback = false;
			if (!failed)
				lj_state_remove(txn->st, rec->id);
			else
				lj_state_drop_spare(txn->st, rec->id);
			txn->undo_failed = failed;
		}
		return r;
	}
	return txn->ours ? 0 : -ECANCELED;
}

int lj_txn_commit(struct lj_txn *txn, const char *status, bool check, struct lj_result *res)
{
	struct lj_plan *plan = txn->plan;
	size_t step = 0;
	int r = 0;

	txn->undo_failed = 0;
	txn->detail[0] = '\0';
	if (check) {
		lj_plan_test_pause(plan->n + 1);
		r = lj_plan_check(txn->ctx, plan, &step);
	}
	if (r < 0) {
		txn->step = step;
		snprintf(txn->detail, sizeof(txn->detail), "%s",
			 txn->ctx->detail[0] ? txn->ctx->detail : plan->steps[step].what);
	} else {
		snprintf(txn->rec->status, sizeof(txn->rec->status), "%s", status);
		txn->rec->owner_pid = 0;
		txn->rec->owner_start = 0;
		r = save_with(txn, plan->n, false);
		if (r == 0)
			return 0;
		txn->step = SIZE_MAX;
		snprintf(txn->detail, sizeof(txn->detail), "cannot write the state record: %s",
			 strerror(-r));
	}
	/* Keep the system consistent with the state: undo everything, as for a failed step. */
	undo_all(txn, res);
	res->undo_failed = txn->undo_failed;
	return r;
}

int lj_txn_undo_atomic(struct lj_txn *txn, const char *stuck_status, struct lj_result *res)
{
	bool redo_failed = false;
	size_t step = 0;
	int r;

	txn->step = SIZE_MAX;
	txn->undo_failed = 0;
	txn->detail[0] = txn->undo_detail[0] = '\0';
	r = lj_plan_undo_atomic(txn->ctx, txn->plan, &step, &redo_failed, txn->undo_detail,
				sizeof(txn->undo_detail));
	if (r == 0)
		return lj_state_remove(txn->st, txn->rec->id);
	txn->step = step;
	txn->undo_failed = redo_failed;
	snprintf(txn->detail, sizeof(txn->detail), "%s", txn->ctx->detail);
	res->rolled_back = !redo_failed;
	res->undo_failed = redo_failed;
	if (redo_failed) {
		snprintf(txn->rec->status, sizeof(txn->rec->status), "%s", stuck_status);
		save_with(txn, txn->plan->n, false);
	}
	return r;
}
