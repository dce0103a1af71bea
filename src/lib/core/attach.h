/* SPDX-License-Identifier: MIT */
/*
 * Attach and detach: the library entry points the CLI and CNI front ends call. An attach
 * resolves the target once, builds the way's plan, records it, applies it, and on failure
 * rolls back so that nothing is left behind.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/core/plan.h"
#include "lib/core/spec.h"
#include "lib/core/state.h"
#include "shared/parse.h"

/* What happened, for the front end to print. */
struct lj_result {
	bool bad_input;		 /* invalid request: nothing was attempted (exit 2) */
	bool rolled_back;	 /* a step failed and the done steps were undone */
	size_t undo_failed;	 /* undo steps that failed during rollback/detach */
	size_t bad_records;	 /* detach, gc: record files that could not be read (left alone) */
	int interrupted;	 /* attach: the signal (lj_interrupt_raise) that stopped it, or 0 */
	char message[1024];	 /* what failed and why; "" on success */
	json_t *json;		 /* on success: a description (owned; lj_result_done frees) */
	struct lj_plan dry_plan; /* --dry-run: the plan (owned) */
	struct lj_ctx *dry_ctx;	 /* --dry-run: context for describing it (owned) */
	/* attach: the attachment made; detach, detach --all, gc: the attachments undone and
	 * forgotten. Copies without their undo plans (owned; lj_result_done frees them). For the
	 * front ends' output (lj_record_* accessors, never the record format itself). */
	struct lj_record *records;
	size_t n_records;
};

void lj_result_done(struct lj_result *res);

/*
 * Add a line to res->json's array "notes" (res->json becomes an object if it is NULL): what a
 * successful run did that its caller should say (e.g. gc dropping records).
 */
void lj_result_note(struct lj_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The ifname used when none is given. */
#define LJ_DEFAULT_IFNAME "eth1"

/*
 * Attach o->target. Returns 0 on success (res->json describes the attachment), or -errno with
 * res->message set; res->bad_input says whether the input was at fault (nothing attempted)
 * and res->rolled_back whether steps had to be undone. While it waits for a DHCP lease or
 * DAD the record has status "settling" and names this process (see lj_record_settling_live).
 * A signal the front end passed to lj_interrupt_raise stops it before the next step or in
 * that wait: it rolls back and returns -EINTR with res->interrupted set.
 */
int lj_attach(const struct lj_attach_opts *o, struct lj_result *res);

/*
 * Detach what lanjoin attached to target as ifname (NULL: every attachment of the target).
 * Safe to repeat: nothing attached is success (res->message says so). Works when the target
 * is gone (undoes the host side). Returns 0 or -errno with res->message.
 */
int lj_detach(const char *target, const char *ifname, bool dry_run, struct lj_result *res);

/*
 * Undo every attachment whose namespace is gone, or that a crash left half-done: "applying",
 * or "settling" whose attach process is gone (killed while it waited). Host links
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
 * Detach every attachment (lanjoin detach --all). The host-side links of all of them are
 * deleted with one request (a link group), so the kernel's wait after deleting links is paid
 * once rather than once per attachment. With dry_run, print the undo plans instead. Returns
 * 0 or the first -errno (records that could not be undone are kept); *ret_removed (may be
 * NULL) counts the records removed.
 */
int lj_detach_all(bool dry_run, struct lj_result *res, size_t *ret_removed);

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

/* --- for the attach-*.c files ------------------------------------------------------- */

/*
 * Add the step that sets the default route of family in the target via via on ifname (via
 * NULL: a DHCP client's hook sets it; the step only records). It records the default routes of
 * that family it finds (listed in rec->info "replaced_default_routes" for the front end) and
 * its undo puts them back. Returns 0 or -errno (res filled).
 */
int lj_attach_add_default_route(struct lj_ctx *ctx, struct lj_plan *plan, struct lj_record *rec,
				const char *ifname, int family, const struct lj_ip *via,
				bool onlink, struct lj_result *res);

/*
 * Add, for each link the target's default routes use now (an engine's interface), a step that
 * sends replies from that link's addresses back through it (a rule `from ADDR lookup TABLE`
 * with a copy of the link's main-table routes in TABLE), so that connections that came in
 * through it (published ports) keep working once another link exists. Returns 0 or -errno.
 */
int lj_attach_add_source_routes(struct lj_ctx *ctx, struct lj_plan *plan, struct lj_record *rec,
				struct lj_result *res);

/*
 * Add the container-side addressing steps shared by the bridge, ovs and macvlan ways:
 * link up, static addresses, default routes via the gateways, extra routes. The link is
 * assumed to be removed as a whole on undo (the steps are marked skip_undo).
 */
int lj_attach_add_addressing(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			     struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);

/*
 * The records of live attachments of the given way whose info[key] is value (e.g. "parent",
 * "eth0"): into *ret (n in *ret_n; free with lj_records_free). st: the locked state directory,
 * or NULL (dry run: opened shared here). Returns 0 or -errno (res says why).
 */
int lj_attach_live_records(struct lj_state *st, const char *way, const char *key, const char *value,
			   struct lj_record **ret, size_t *ret_n, struct lj_result *res);

/*
 * Refuse (lj_bad_input, -EINVAL) a MAC address that a live attachment of the given way
 * already has, among the records whose info[key] is value (e.g. "bridge", "br-em1"): its
 * recorded MAC (info.mac), or for records made before that was kept, the --mac its plan
 * asked for. what names the shared link in the message ("bridge 'br-em1'"). st: the locked
 * state directory, or NULL (dry run: opened shared here). Returns 0 or -errno.
 */
int lj_attach_check_mac_users(struct lj_state *st, const char *way, const char *key,
			      const char *value, const uint8_t mac[LJ_MAC_LEN], const char *what,
			      struct lj_result *res);

/* Set res->message (printf-style) and mark the input as bad; returns -EINVAL. */
int lj_bad_input(struct lj_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set res->message (printf-style); returns r. */
int lj_fail(struct lj_result *res, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
