/* SPDX-License-Identifier: MIT */
/*
 * Detach and gc: undo what attach recorded. Each replays the undo plans of state records; the
 * bulk ones (detach --all, gc, detach by a front end's key) delete the host links together.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/core/result.h"
#include "lib/core/state.h"

/* lj_detach, lj_detach_all: what is asked (or-ed together; 0: none). */
enum {
	LJ_DETACH_DRY_RUN = 1 << 0,	/* change nothing: res->dry_text holds the undo plans */
	LJ_DETACH_DROP_SPEC = 1 << 1,	/* the attachments' stored specs go too (not --keep-spec) */
	LJ_DETACH_INCLUDE_CNI = 1 << 2, /* lj_detach_all: a CNI runtime's attachments too */
};

/*
 * Detach what lanjoin attached to target as ifname (NULL: every attachment of the target).
 * Safe to repeat: nothing attached is success (res->message says so). Works when the target
 * is gone (undoes the host side). Each record is marked "detaching" before its undo; with
 * LJ_DETACH_DROP_SPEC the mark says that its stored spec (--persist) goes too, removed once
 * its undo is done (here, or by whoever finishes an interrupted detach), and kept when the
 * undo fails. With LJ_DETACH_DRY_RUN, nothing changes: res->dry_text holds the undo plans as
 * the detach runs them (default routes handed down first). Returns 0 or -errno with
 * res->message.
 */
int lj_detach(const char *target, const char *ifname, unsigned flags, struct lj_result *res);

/*
 * Undo every attachment whose namespace is gone, or that a crash left half-done: "applying",
 * "settling" whose attach process is gone (killed while it waited), or "detaching" whose
 * detach process is gone (lj_record_detach_interrupted). Host links
 * are deleted together in one request (see lj_detach_all). A pid:N target whose process died
 * is not gone while its namespace lives on (another process in it, a file bound to it): it
 * stays attached until detached. Records written by lanjoin running in a network namespace
 * that no longer exists (its links went with it) are dropped, each with a note in res->json
 * (lj_result_note). Everything removed gets a note naming it (attachment: target, ifname,
 * way; uplink adoption: bridge, uplink; OVS rows). *ret_removed (may be NULL) counts all of
 * them; res->json's "removed" is {"attachments", "uplink_adoptions", "ovs_rows"} (counts).
 */
int lj_gc(struct lj_result *res, size_t *ret_removed);

/*
 * Detach every attachment (lanjoin detach --all) but the Docker plugin's endpoints (Docker's)
 * and, without LJ_DETACH_INCLUDE_CNI, a CNI runtime's attachments (its runtime's: CNI DEL),
 * which are left and counted in res->message. The host-side links of all of them are
 * deleted with one request (a link group), so the kernel's wait after deleting links is paid
 * once rather than once per attachment. flags as lj_detach's (with LJ_DETACH_DRY_RUN, the
 * undo plans are handed back in res->dry_text). Returns 0 or the first -errno (records that
 * could not be undone are kept); *ret_removed (may be NULL) counts the records removed.
 */
int lj_detach_all(unsigned flags, struct lj_result *res, size_t *ret_removed);

/* A predicate over state records (for lj_detach_matching); data is the caller's. */
typedef bool (*lj_record_match_fn)(const struct lj_record *rec, void *data);

/*
 * Detach every attachment whose record matches, under the exclusive state lock: the host side
 * always, the target side too while the recorded namespace still lives (it is found again by
 * the recorded spec and identity). For front ends that key attachments by something other
 * than the target, e.g. CNI's (network, container ID, ifname) when CNI_NETNS is gone or empty.
 * Safe to repeat: no match is success. *ret_removed (may be NULL) counts the records removed.
 * Returns 0, or the first -errno with res->message (the other matches are still tried).
 */
int lj_detach_matching(lj_record_match_fn match, void *data, struct lj_result *res,
		       size_t *ret_removed);

/*
 * lj_detach_matching, looking only at the records whose text has the member
 * "hint_key": "hint_value" (see lj_state_list_info): with many records, the others are not
 * parsed (hint_key or hint_value NULL: all are). match still decides. Unreadable records
 * are not counted.
 */
int lj_detach_matching_hint(const char *hint_key, const char *hint_value, lj_record_match_fn match,
			    void *data, struct lj_result *res, size_t *ret_removed);

/*
 * lj_detach_matching over the records ids[0..n) alone (duplicates, missing and unreadable
 * ones are skipped, as are records written from another network namespace), in st, which the caller
 * opened exclusively and keeps: for a front end that finds its records by a key of its own
 * (CNI's index, see src/cni/index.c) and updates what it keeps under the same lock. Returns 0
 * or the first -errno with res->message; *ret_removed (may be NULL) counts the records removed.
 */
int lj_detach_ids(struct lj_state *st, const char *const *ids, size_t n, lj_record_match_fn match,
		  void *data, struct lj_result *res, size_t *ret_removed);

/*
 * Finish the interrupted detach of rec (lj_record_detach_interrupted, read without the lock):
 * under the lock, undo what is left of it and remove it, if it is still that record (same
 * attachment, same dead owner; not re-attached or finished meanwhile). 0 (*ret_removed, may be
 * NULL, says 0 when there was nothing to do) or -errno with res->message.
 */
int lj_detach_finish(const struct lj_record *rec, struct lj_result *res, size_t *ret_removed);

/*
 * Undo the record id alone and remove it (its file looked up, no other record read), under
 * the state lock: lj_detach_ids with a lock of its own. 0 (also when there is no such
 * record; *ret_removed, may be NULL, says 0 then) or -errno with res->message.
 */
int lj_detach_id(const char *id, struct lj_result *res, size_t *ret_removed);
