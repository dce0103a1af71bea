/* SPDX-License-Identifier: MIT */
/* lanjoin reconcile: bring attachments back to their specs (also the core of lanjoin watch). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/*
 * Reconcile the attachments of target (NULL = all; TARGET as status takes it), and attach
 * the stored persistent specs (of target) whose target runs but has no attachment (after a
 * reboot). Per attachment, by its status (lib/core/status.h): ok, nothing; drifted, repaired;
 * target-restarted, attached again from its spec with the same MAC and addresses;
 * target-gone, its host-side leftovers dropped (a stored spec is kept). A repair undoes what
 * is left of the record and attaches from the spec, each through the transaction; if the
 * attach fails, the old record is kept and the attachment stays reported as drifted, with the
 * reason. CNI attachments are checked, never attached again (their runtime owns them). One
 * line per action goes to log (may be NULL); with json, a lanjoin/reconcile/v1 document goes to
 * stdout. Returns 0 when all are ok or repaired, 1 when something stays drifted or failed,
 * 2 when that includes an attach that failed for a reason that may pass (not bad input: e.g.
 * its MAC still taken by the old macvlan of a namespace the kernel frees later; a caller
 * that keeps running, watch, tries again), negative errno on an error before anything was
 * looked at (printed to stderr).
 */
int cli_reconcile(const char *target /* NULL = all */, bool json, FILE *log);

struct lj_session;

/*
 * The session (lib/core/session.h; borrowed, NULL = none) the attaches of later
 * cli_reconcile calls run with: a long-running caller (watch) keeps one for all of them.
 */
void cli_reconcile_use_session(struct lj_session *s);

/*
 * watch's rule for later cli_reconcile calls (on: true): a target-restarted attachment without
 * a stored persistent spec is dropped like a target-gone one, not attached again. Under watch
 * a non-persistent attachment ends with its target's run, however the stop and the start
 * of a restart interleave with the reconciles; plain reconcile (off) attaches it again from
 * its record.
 */
void cli_reconcile_end_with_target(bool on);
