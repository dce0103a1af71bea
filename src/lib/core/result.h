/* SPDX-License-Identifier: MIT */
/*
 * The outcome of a library command (attach, detach, gc, uplink, shim) for its front end to
 * print: a message, flags for the exit code, a JSON description, a dry run's plan or text.
 * The library never prints: everything the user sees is handed back here.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/core/plan.h"
#include "lib/core/state.h"

/* What happened, for the front end to print. */
struct lj_result {
	bool bad_input;		 /* invalid request: nothing was attempted (exit 2) */
	bool rolled_back;	 /* a step failed and the done steps were undone */
	size_t undo_failed;	 /* undo steps that failed during rollback/detach */
	size_t bad_records;	 /* detach, gc: record files that could not be read (left alone) */
	size_t bad_uplinks;	 /* status: uplink adoption records that could not be read */
	int interrupted;	 /* attach: the signal (lj_interrupt_raise) that stopped it, or 0 */
	bool lock_interrupted;	 /* attach: that was while it waited for the state lock, before
				    anything was done (lj_state_lock_interruptible_once) */
	bool unchanged;		 /* attach: already attached as asked (equal specs): nothing done */
	char message[1024];	 /* what failed and why; "" on success */
	json_t *json;		 /* on success: a description (owned; lj_result_done frees) */
	struct lj_plan dry_plan; /* --dry-run: the plan (owned) */
	struct lj_ctx *dry_ctx;	 /* --dry-run: context for describing it (owned) */
	/* --dry-run of detach, detach --all, uplink release: the undo plans as shell commands,
	 * one "# ..." header line before each plan, for the front end to print as it is
	 * (owned; NULL: nothing to print) */
	char *dry_text;
	/* attach: the attachment made; detach, detach --all, gc: the attachments undone and
	 * forgotten. Copies without their undo plans (owned; lj_result_done frees them). For the
	 * front ends' output (lj_record_* accessors, never the record format itself). */
	struct lj_record *records;
	size_t n_records;
};

/* Free what res owns (it may be reused after). */
void lj_result_done(struct lj_result *res);

/*
 * Add a line to res->json's array "notes" (res->json becomes an object if it is NULL): what a
 * successful run did that its caller should say (e.g. gc dropping records).
 */
void lj_result_note(struct lj_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Add a copy of rec, without its plan, to res->records (best effort: out of memory, it is
 * left out). */
void lj_result_add_record(struct lj_result *res, const struct lj_record *rec);

/*
 * Append to res->dry_text: the line "# header\n" (printf-style), then p's undo (undo true) or
 * apply as shell commands (lj_plan_describe) in ctx. Out of memory: left out.
 */
void lj_result_dry_plan(struct lj_result *res, const struct lj_ctx *ctx, const struct lj_plan *p,
			bool undo, const char *header_fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Set res->message (printf-style) and mark the input as bad; returns -EINVAL. */
int lj_bad_input(struct lj_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * res for a failed lj_state_open (r): "Failed to open the state directory ...", or, when
 * lj_interrupt_raise stopped its wait for the lock (lj_state_lock_interruptible_once),
 * interrupted and lock_interrupted set and "Interrupted (SIGINT) while waiting for the state
 * lock ...: nothing was changed". Returns r.
 */
int lj_result_state_failed(struct lj_result *res, int r);

/* Set res->message (printf-style); returns r. */
int lj_fail(struct lj_result *res, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append to res->message (printf-style), truncated to its size. */
void lj_result_append(struct lj_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
