/* SPDX-License-Identifier: MIT */
#include "lib/core/attach.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/foreign/dhcp.h"
#include "lib/core/interrupt.h"
#include "lib/core/way.h"
#include "lib/kernel/link.h"
#include "lib/ways/uplink.h"
#include "shared/macro.h"
#include "shared/name.h"

int lj_bad_input(struct lj_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	res->bad_input = true;
	return -EINVAL;
}

int lj_fail(struct lj_result *res, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	return r;
}

void lj_result_done(struct lj_result *res)
{
	json_decref(res->json);
	res->json = NULL;
	lj_records_free(res->records, res->n_records);
	res->records = NULL;
	res->n_records = 0;
	lj_plan_free(&res->dry_plan);
	if (res->dry_ctx) {
		lj_nl_close(res->dry_ctx->host);
		lj_nl_close(res->dry_ctx->target);
		free(res->dry_ctx);
		res->dry_ctx = NULL;
	}
}

void lj_result_note(struct lj_result *res, const char *fmt, ...)
{
	json_t *notes;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!res->json)
		res->json = json_object();
	if (!json_is_object(res->json))
		return;
	notes = json_object_get(res->json, "notes");
	if (!notes) {
		notes = json_array();
		json_object_set_new(res->json, "notes", notes);
	}
	json_array_append_new(notes, json_string(buf));
}

/* Add a copy of rec, without its plan, to res->records (best effort: out of memory, it is
 * left out). */
static void result_add_record(struct lj_result *res, const struct lj_record *rec)
{
	struct lj_record *a = realloc(res->records, (res->n_records + 1) * sizeof(*a));

	if (!a)
		return;
	res->records = a;
	a[res->n_records] = *rec;
	a[res->n_records].plan = (struct lj_plan){0};
	a[res->n_records].info = rec->info ? json_deep_copy(rec->info) : NULL;
	res->n_records++;
}

/* Open netlink sockets for the host and (if fd >= 0) the target into ctx. */
/* Like ctx_open, with host a borrowed socket in lanjoin's namespace (NULL: open one). */
static int ctx_open_with(struct lj_ctx *ctx, struct lj_nl *host, const struct lj_target *t)
{
	int r;

	memset(ctx, 0, sizeof(*ctx));
	ctx->target_fd = -1;
	ctx->host = host;
	r = host ? 0 : lj_nl_open(-1, &ctx->host);
	if (r < 0)
		return r;
	if (t && t->netns_fd >= 0) {
		r = lj_nl_open(t->netns_fd, &ctx->target);
		if (r < 0)
			return r;
		ctx->target_fd = t->netns_fd;
		ctx->tgt_copy = *t;
		ctx->tgt = &ctx->tgt_copy;
		lj_target_ip_prefix(t, ctx->target_ip, sizeof(ctx->target_ip));
	}
	return 0;
}

static int ctx_open(struct lj_ctx *ctx, const struct lj_target *t)
{
	return ctx_open_with(ctx, NULL, t);
}

static void ctx_close(struct lj_ctx *ctx)
{
	lj_nl_close(ctx->host);
	lj_nl_close(ctx->target);
	ctx->host = ctx->target = NULL;
}

static void record_init(struct lj_record *rec, const struct lj_target *t, const char *ifname,
			const char *way)
{
	memset(rec, 0, sizeof(*rec));
	lj_record_id(t->key, ifname, rec->id);
	snprintf(rec->way, sizeof(rec->way), "%s", way);
	snprintf(rec->status, sizeof(rec->status), "applying");
	snprintf(rec->ifname, sizeof(rec->ifname), "%s", ifname);
	rec->target_kind = t->kind;
	snprintf(rec->target_spec, sizeof(rec->target_spec), "%s", t->spec);
	snprintf(rec->target_name, sizeof(rec->target_name), "%s", t->name);
	rec->target_pid = t->pid;
	snprintf(rec->container_id, sizeof(rec->container_id), "%s", t->container_id);
	rec->netns = t->id;
	rec->netns_cookie = t->cookie;
	rec->created = (int64_t)time(NULL);
	lj_netns_self_id(&rec->host_netns);
	if (lj_netns_self_cookie(&rec->host_netns_cookie) < 0)
		rec->host_netns_cookie = 0;
	rec->info = json_object();
}

/* Describe a target for messages: "netns:c1" as given. */
static const char *tname(const struct lj_target *t)
{
	return t->spec;
}

/*
 * old is a live attachment of target t as ifname: an attach that still waits for its
 * addresses, or an attached record of this very namespace whose interface is there. Then a
 * second attach is refused (the returned -EINVAL, res says why); else 0.
 */
static int refuse_live(struct lj_ctx *ctx, const struct lj_target *t, const char *ifname,
		       const struct lj_record *old, struct lj_result *res)
{
	struct lj_link l;

	if (lj_record_settling_live(old))
		return lj_bad_input(
			res,
			"%s is being attached as '%s' by lanjoin (PID %" PRId64 "), "
			"which waits for its addresses; wait for it, or detach it first",
			tname(t), ifname, old->owner_pid);
	/* nat --to creates no interface in the target: its record is live as long as the
	 * namespace is the same one. */
	bool no_link = strcmp(old->way, "nat") == 0 && json_object_get(old->info, "to");

	if (strcmp(old->status, "attached") == 0 &&
	    (!old->netns_cookie || !t->cookie || old->netns_cookie == t->cookie) &&
	    (no_link || lj_link_get(ctx->target, ifname, &l) == 0)) {
		if (no_link)
			return lj_bad_input(res,
					    "%s is already attached (way nat, --to %s); detach "
					    "it first",
					    tname(t),
					    json_string_value(json_object_get(old->info, "to")));
		return lj_bad_input(res, "%s is already attached as '%s' (way %s); detach it first",
				    tname(t), ifname, old->way);
	}
	return 0;
}

/*
 * An existing record for the same target and ifname: if the interface is still there, it
 * is a second attach (refused); otherwise the record is stale (e.g. left by a crash) and is
 * undone first.
 */
static int handle_existing(struct lj_state *st, struct lj_ctx *ctx, const struct lj_target *t,
			   const char *ifname, const char *id, struct lj_result *res)
{
	struct lj_record old;
	size_t failed = 0;
	int r;

	r = lj_state_load(st, id, &old);
	if (r == -ENOENT)
		return 0;
	if (r == -EXDEV)
		return lj_bad_input(res,
				    "%s is already attached as '%s' by lanjoin running in another "
				    "network namespace; detach it there",
				    tname(t), ifname);
	if (r < 0)
		return lj_fail(res, r, "Failed to read the state record %s/attachments/%s.json: %s",
			       lj_state_dir(), id,
			       r == -EBADMSG ? "it is malformed or not lanjoin's" : strerror(-r));
	r = refuse_live(ctx, t, ifname, &old, res);
	if (r < 0) {
		lj_record_free(&old);
		return r;
	}
	if (old.netns_cookie && t->cookie && old.netns_cookie != t->cookie) {
		/*
		 * The record's namespace died and this newer one got its inode number (and so the
		 * record's id): undo the host side alone, never in this namespace.
		 */
		struct lj_ctx host_only;

		r = ctx_open_with(&host_only, ctx->host, NULL);
		if (r == 0)
			r = lj_plan_undo_all(&host_only, &old.plan, &failed);
		if (r < 0)
			snprintf(ctx->detail, sizeof(ctx->detail), "%s", host_only.detail);
		host_only.host = NULL; /* borrowed */
		ctx_close(&host_only);
	} else {
		r = lj_plan_undo_all(ctx, &old.plan, &failed);
	}
	if (r < 0) {
		lj_record_free(&old);
		return lj_fail(res, r, "Failed to clean up a stale attachment of %s as '%s': %s",
			       tname(t), ifname, ctx->detail);
	}
	lj_record_free(&old);
	return lj_state_remove(st, id);
}

/*
 * --dry-run: say what the attach would say about a live attachment of the same target and
 * ifname (read-only; the stale cases handle_existing cleans up are left to the real run).
 */
static int dry_run_existing(struct lj_ctx *ctx, const struct lj_target *t, const char *ifname,
			    const char *id, struct lj_result *res)
{
	struct lj_state *ro = NULL;
	struct lj_record old;
	char path[PATH_MAX];
	int r = 0;

	/* No record, nothing to say; and a dry run creates no state directory. */
	snprintf(path, sizeof(path), "%s/attachments/%s.json", lj_state_dir(), id);
	if (lj_state_dir()[0] != '/' || access(path, F_OK) < 0)
		return 0;
	if (lj_state_open(false, &ro) < 0)
		return 0; /* the real run reports it */
	if (lj_state_load(ro, id, &old) == 0) {
		r = refuse_live(ctx, t, ifname, &old, res);
		lj_record_free(&old);
	}
	lj_state_close(ro);
	return r;
}

/* info.mac: the interface's MAC as it is now (what lj_attach_check_mac_users compares),
 * set before the record is saved, so that list shows it too. */
static void record_mac(struct lj_ctx *ctx, const char *ifname, struct lj_record *rec)
{
	struct lj_link l;
	char mac[LJ_MAC_STRLEN];

	if (ctx->target && lj_link_get(ctx->target, ifname, &l) == 0 && l.has_mac)
		json_object_set_new(rec->info, "mac",
				    json_string(lj_mac_to_string(l.mac, mac, sizeof(mac))));
}

static void fill_result(struct lj_ctx *ctx, const char *ifname, struct lj_record *rec,
			struct lj_result *res)
{
	res->json = lj_record_to_json(rec);
	result_add_record(res, rec);
}

/* The MAC rec's interface has (info.mac), or failing that the one its plan asked for. */
static bool record_has_mac(const struct lj_record *rec, const uint8_t mac[LJ_MAC_LEN])
{
	const char *m = json_string_value(json_object_get(rec->info, "mac"));
	uint8_t v[LJ_MAC_LEN];

	if (m)
		return lj_parse_mac(m, v) == 0 && memcmp(v, mac, LJ_MAC_LEN) == 0;
	for (size_t i = 0; i < rec->plan.n; i++) {
		const struct lj_step *s = &rec->plan.steps[i];
		if (s->has_mac && (s->type == &lj_step_veth || s->type == &lj_step_macvlan))
			return memcmp(s->mac, mac, LJ_MAC_LEN) == 0;
	}
	return false;
}

int lj_attach_live_records(struct lj_state *st, const char *way, const char *key, const char *value,
			   struct lj_record **ret, size_t *ret_n, struct lj_result *res)
{
	struct lj_state *own = NULL;
	struct lj_record *recs = NULL;
	size_t n = 0, k = 0;
	int r;

	if (!st) {
		/* --dry-run: no lock is held, so a shared one can be taken. */
		r = lj_state_open(false, &own);
		if (r < 0)
			return lj_fail(res, r, "Failed to open the state directory %s: %s",
				       lj_state_dir(), lj_state_strerror(r));
		st = own;
	}
	r = lj_state_list_info(st, key, value, &recs, &n);
	lj_state_close(own);
	if (r < 0)
		return lj_fail(res, r, "Failed to read the state directory: %s", strerror(-r));
	for (size_t i = 0; i < n; i++) {
		const char *v = json_string_value(json_object_get(recs[i].info, key));

		/* The kernel removed the links of a namespace that is gone. */
		if (strcmp(recs[i].way, way) != 0 || !v || strcmp(v, value) != 0 ||
		    !lj_target_alive(recs[i].target_spec, &recs[i].netns)) {
			lj_record_free(&recs[i]);
			continue;
		}
		recs[k++] = recs[i];
	}
	*ret = recs;
	*ret_n = k;
	return 0;
}

int lj_attach_check_mac_users(struct lj_state *st, const char *way, const char *key,
			      const char *value, const uint8_t mac[LJ_MAC_LEN], const char *what,
			      struct lj_result *res)
{
	struct lj_record *recs = NULL;
	char buf[LJ_MAC_STRLEN];
	size_t n = 0;
	int r;

	r = lj_attach_live_records(st, way, key, value, &recs, &n, res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		if (record_has_mac(&recs[i], mac))
			r = lj_bad_input(res, "MAC %s is already used on %s by %s ('%s')",
					 lj_mac_to_string(mac, buf, sizeof(buf)), what,
					 recs[i].target_spec, recs[i].ifname);
	lj_records_free(recs, n);
	return r;
}

/* ctx->save during apply: the record ("applying") with what the steps learned so far. */
static int save_progress(struct lj_ctx *ctx, const struct lj_plan *p)
{
	struct lj_record *rec = ctx->save_data;
	int r;

	rec->plan = *p;
	r = lj_state_save(ctx->state, rec);
	rec->plan = (struct lj_plan){0};
	return r;
}

static bool plan_settles(const struct lj_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->steps[i].type->settle &&
		    (!p->steps[i].type->settles || p->steps[i].type->settles(&p->steps[i])))
			return true;
	return false;
}

/* What settle step s waits for, for messages: "a DHCP lease on 'eth1'". */
static const char *settle_what(const struct lj_step *s, char *buf, size_t size)
{
	char ip[LJ_IP_STRLEN];

	if (s->type == &lj_step_dhcp)
		snprintf(buf, size, "a DHCP lease on '%s'", s->link);
	else if (s->type == &lj_step_slaac)
		snprintf(buf, size, "a SLAAC address on '%s'", s->link);
	else if (s->type == &lj_step_announce)
		snprintf(buf, size, "duplicate address detection of %s on '%s'",
			 lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip)), s->link);
	else
		snprintf(buf, size, "%s", s->what);
	return buf;
}

/*
 * Run the plan's waiting steps (a DHCP lease, DAD) after it is applied and recorded as
 * "settling" (with this process as its owner), without holding the state lock: other
 * attaches are not held up meanwhile. Then take the lock again: on success record it as
 * "attached" with the facts learned (rec->info); on failure or a signal undo the attachment,
 * unless a concurrent detach already did.
 */
static int settle(struct lj_state **st, struct lj_ctx *ctx, const struct lj_target *t,
		  const char *ifname, const struct lj_attach_opts *o, struct lj_plan *plan,
		  struct lj_record *rec, struct lj_result *res)
{
	struct lj_record cur;
	size_t step = 0, failed = 0;
	bool ours;
	int r, l;

	if (!plan_settles(plan))
		return 0;
	lj_state_close(*st);
	*st = NULL;
	r = lj_plan_settle(ctx, plan, rec->info, &step);
	l = lj_state_open(true, st);
	if (l < 0)
		return lj_fail(res, l,
			       "Failed to reopen the state directory %s: %s; run 'lanjoin "
			       "detach %s --ifname %s'",
			       lj_state_dir(), strerror(-l), tname(t), ifname);
	/* Still the record this attach wrote: not detached (and maybe re-attached) meanwhile. */
	ours = lj_state_load(*st, rec->id, &cur) == 0;
	if (ours) {
		ours = cur.created == rec->created && strcmp(cur.status, "settling") == 0 &&
		       cur.owner_pid == rec->owner_pid && cur.owner_start == rec->owner_start;
		lj_record_free(&cur);
	}
	if (r < 0) {
		const struct lj_step *s = &plan->steps[step];
		char detail[sizeof(ctx->detail)], waited[128];

		snprintf(detail, sizeof(detail), "%s", ctx->detail);
		if (ours) {
			ctx->rollback = true;
			lj_plan_undo_all(ctx, plan, &failed);
			ctx->rollback = false;
			if (!failed)
				lj_state_remove(*st, rec->id);
		}
		if (!ours && !(r == -EINTR && lj_interrupted()))
			return lj_fail(res, -ECANCELED,
				       "%s as '%s' was detached while attach waited "
				       "for it (then %s: %s)",
				       tname(t), ifname, s->what, strerror(-r));
		res->rolled_back = true;
		res->undo_failed = failed;
		if (r == -EINTR && lj_interrupted()) {
			res->interrupted = lj_interrupted();
			snprintf(res->message, sizeof(res->message),
				 "Interrupted (%s) while waiting for %s%s",
				 lj_interrupt_name(res->interrupted),
				 settle_what(s, waited, sizeof(waited)),
				 failed ? "; some steps could not be undone: run 'lanjoin detach' "
					  "again"
					: "");
			return r;
		}
		snprintf(res->message, sizeof(res->message),
			 "Failed to attach %s (%s way), step %zu of %zu, %s: %s%s%s%s%s", tname(t),
			 lj_way_name(o->way), step + 1, plan->n, s->what, strerror(-r),
			 detail[0] ? " (" : "", detail, detail[0] ? ")" : "",
			 failed ? "; some steps could not be undone: run 'lanjoin detach' again"
				: "");
		return r;
	}
	if (!ours)
		return lj_fail(res, -ECANCELED,
			       "%s as '%s' was detached while attach waited for it", tname(t),
			       ifname);
	return 0;
}

/*
 * The end of an attach, under the state lock, after the plan and its waits: check that what
 * the plan relies on still holds (lj_plan_check: e.g. its bridge was not deleted meanwhile),
 * then record the attachment as attached. If either fails, the whole attachment is undone and
 * its record removed, as for a failed step (res says so).
 */
static int finish(struct lj_state *st, struct lj_ctx *ctx, const struct lj_target *t,
		  const char *ifname, const struct lj_attach_opts *o, struct lj_plan *plan,
		  struct lj_record *rec, struct lj_result *res)
{
	char detail[sizeof(ctx->detail)];
	size_t step = 0, failed = 0;
	int r;

	lj_plan_test_pause(plan->n + 1);
	r = lj_plan_check(ctx, plan, &step);
	if (r < 0) {
		snprintf(detail, sizeof(detail), "%s",
			 ctx->detail[0] ? ctx->detail : plan->steps[step].what);
	} else {
		snprintf(rec->status, sizeof(rec->status), "attached");
		rec->owner_pid = 0;
		rec->owner_start = 0;
		rec->plan = *plan;
		r = lj_state_save(st, rec);
		rec->plan = (struct lj_plan){0};
		if (r == 0)
			return 0;
		snprintf(detail, sizeof(detail), "cannot write the state record: %s", strerror(-r));
	}
	/* Keep the system consistent with the state: undo everything, as for a failed step. */
	ctx->rollback = true;
	lj_plan_undo_all(ctx, plan, &failed);
	ctx->rollback = false;
	if (!failed)
		lj_state_remove(st, rec->id);
	res->rolled_back = true;
	res->undo_failed = failed;
	lj_fail(res, r, "Failed to attach %s (%s way): %s", tname(t), lj_way_name(o->way), detail);
	if (failed) {
		size_t len = strlen(res->message);
		snprintf(
			res->message + len, sizeof(res->message) - len,
			"; some steps could not be undone: the record is kept: run 'lanjoin detach "
			"%s --ifname %s'",
			tname(t), ifname);
	}
	return r;
}

static int attach_one(const struct lj_attach_opts *o, struct lj_result *res);

/*
 * attach bridge --uplink DEV on a missing bridge: adopt DEV first (its own record, see
 * uplink.h), and give it back if the attach then fails, so a failed attach leaves nothing.
 */
int lj_attach(const struct lj_attach_opts *o, struct lj_result *res)
{
	struct lj_result rr;
	bool adopted = false;
	int r;

	if (o->way == LJ_WAY_BRIDGE && o->uplink[0] && !o->dry_run) {
		r = lj_uplink_adopt_if_missing(o->bridge, o->uplink, res, &adopted);
		if (r < 0)
			return r;
		lj_result_done(res);
	}
	r = attach_one(o, res);
	if (r < 0 && adopted) {
		if (lj_uplink_release(o->bridge, true, false, &rr) < 0) {
			size_t len = strlen(res->message);
			snprintf(res->message + len, sizeof(res->message) - len,
				 "; and the uplink adopted for it could not be given back: %s",
				 rr.message);
			res->undo_failed++;
		}
		lj_result_done(&rr);
	} else if (r == 0 && adopted && res->json) {
		json_object_set_new(res->json, "adopted_uplink", json_string(o->uplink));
	}
	return r;
}

static int attach_one(const struct lj_attach_opts *o, struct lj_result *res)
{
	const char *ifname = o->ifname[0] ? o->ifname : LJ_DEFAULT_IFNAME;
	struct lj_state *st = NULL;
	struct lj_plan plan = {0};
	struct lj_record rec = {0};
	struct lj_plan_error perr;
	struct lj_target t;
	struct lj_ctx *ctx;
	lj_build_fn build;
	int r;

	memset(res, 0, sizeof(*res));
	build = lj_way_get(o->way) ? lj_way_get(o->way)->build : NULL;
	if (!build)
		return lj_fail(res, -EOPNOTSUPP, "The %s way is not implemented yet",
			       lj_way_name(o->way));
	if (!lj_ifname_valid(ifname))
		return lj_bad_input(res, "Invalid interface name '%s'", ifname);
	if (lj_target_parse(o->target, &t) < 0)
		return lj_bad_input(res,
				    "Invalid target '%s': expected a container name, pid:N, "
				    "netns:NAME or a path to a netns file",
				    o->target);
	r = lj_target_open(&t);
	if (r < 0) {
		if (t.error[0])
			return lj_bad_input(res, "%s", t.error);
		if (r == -EPROTONOSUPPORT)
			return lj_bad_input(res,
					    "Cannot resolve container '%s': no Docker or "
					    "Podman engine support yet",
					    o->target);
		return lj_bad_input(
			res, "Target %s: %s", o->target,
			r == -ENOENT || r == -ESRCH ? "no such namespace or process"
			: r == -EINVAL		    ? "not a network namespace"
			: (r == -EACCES || r == -EPERM) && t.kind == LJ_TARGET_PID
				? "the kernel refuses to open its network namespace (the "
				  "process is protected, e.g. not dumpable or in another "
				  "user namespace)"
				: strerror(-r));
	}
	if (lj_netns_is_current(t.netns_fd)) {
		lj_target_close(&t);
		return lj_bad_input(res, "Target %s is lanjoin's own network namespace", o->target);
	}

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		lj_target_close(&t);
		return -ENOMEM;
	}
	r = ctx_open(ctx, &t);
	if (r < 0) {
		lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
		goto out;
	}

	if (!o->dry_run) {
		r = lj_state_open(true, &st);
		if (r < 0) {
			lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
				lj_state_strerror(r));
			goto out;
		}
	}
	record_init(&rec, &t, ifname, lj_way_name(o->way));
	if (o->extra_info && json_object_update(rec.info, o->extra_info) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (st) {
		r = handle_existing(st, ctx, &t, ifname, rec.id, res);
		if (r < 0)
			goto out;
	} else {
		r = dry_run_existing(ctx, &t, ifname, rec.id, res);
		if (r < 0)
			goto out;
	}

	ctx->state = st;
	r = build(ctx, o, ifname, &plan, &rec, res);
	if (r < 0)
		goto out;

	if (o->dry_run) {
		/* Hand the plan and its context to the caller for printing. */
		res->dry_plan = plan;
		memset(&plan, 0, sizeof(plan));
		res->dry_ctx = ctx;
		ctx = NULL;
		r = 0;
		goto out;
	}

	/* Record the undo plan before the first change: a crash leaves a record gc can undo. */
	rec.plan = plan;
	r = lj_state_save(st, &rec);
	rec.plan = (struct lj_plan){0};
	if (r < 0) {
		lj_fail(res, r, "Failed to write the state record: %s", strerror(-r));
		goto out;
	}

	ctx->save = save_progress;
	ctx->save_data = &rec;
	r = lj_plan_apply(ctx, &plan, &perr);
	ctx->save = NULL;
	if (r < 0) {
		const struct lj_step *s = &plan.steps[perr.step];
		res->rolled_back = true;
		res->undo_failed = perr.undo_failed;
		if (perr.undo_failed == 0)
			lj_state_remove(st, rec.id);
		if (r == -EINTR && lj_interrupted()) {
			res->interrupted = lj_interrupted();
			snprintf(res->message, sizeof(res->message),
				 "Interrupted (%s) while attaching %s (%s way), before step %zu of "
				 "%zu, "
				 "%s%s",
				 lj_interrupt_name(res->interrupted), tname(&t),
				 lj_way_name(o->way), perr.step + 1, plan.n, s->what,
				 perr.undo_failed ? ". Could not undo: " : "");
		} else {
			snprintf(res->message, sizeof(res->message),
				 "Failed to attach %s (%s way), step %zu of %zu, %s: %s%s%s%s%s",
				 tname(&t), lj_way_name(o->way), perr.step + 1, plan.n, s->what,
				 strerror(-r), ctx->detail[0] ? " (" : "", ctx->detail,
				 ctx->detail[0] ? ")" : "",
				 perr.undo_failed ? ". Could not undo: " : "");
		}
		if (perr.undo_failed) {
			size_t len = strlen(res->message);
			snprintf(res->message + len, sizeof(res->message) - len,
				 "%s; the record is kept: run 'lanjoin detach %s --ifname %s'",
				 perr.undo_detail, tname(&t), ifname);
		}
		goto out;
	}

	r = 0;
	record_mac(ctx, ifname, &rec);
	if (plan_settles(&plan)) {
		/* gc tells a live wait from a killed one by this process and its start time. */
		rec.owner_pid = getpid();
		r = lj_proc_start_time(getpid(), &rec.owner_start);
		snprintf(rec.status, sizeof(rec.status), "settling");
		rec.plan = plan;
		if (r == 0)
			r = lj_state_save(st, &rec);
		rec.plan = (struct lj_plan){0};
	}
	if (r < 0) {
		/* Keep the system consistent with the state: undo everything. */
		size_t failed = 0;
		ctx->rollback = true;
		lj_plan_undo_all(ctx, &plan, &failed);
		if (!failed)
			lj_state_remove(st, rec.id);
		res->rolled_back = true;
		lj_fail(res, r, "Failed to write the state record: %s", strerror(-r));
		goto out;
	}
	r = settle(&st, ctx, &t, ifname, o, &plan, &rec, res);
	if (r < 0)
		goto out;
	r = finish(st, ctx, &t, ifname, o, &plan, &rec, res);
	if (r < 0)
		goto out;
	rec.plan = plan;
	fill_result(ctx, ifname, &rec, res);
	rec.plan = (struct lj_plan){0};
	r = 0;
out:
	lj_record_free(&rec);
	lj_plan_free(&plan);
	lj_state_close(st);
	if (ctx) {
		ctx_close(ctx);
		free(ctx);
	}
	lj_target_close(&t);
	return r;
}

/* --- detach and gc ---------------------------------------------------------------------- */

/* Is the open target t the namespace rec was made for (inode, and cookie when both known)? */
static bool same_netns(const struct lj_record *rec, const struct lj_target *t)
{
	return t->netns_fd >= 0 && t->id.dev == rec->netns.dev && t->id.ino == rec->netns.ino &&
	       (!rec->netns_cookie || !t->cookie || rec->netns_cookie == t->cookie);
}

/*
 * The namespaces of the processes and the bind mounts, read once per detach or gc (only when
 * a record's target is gone), freed by lj_detach, lj_gc, lj_detach_all, lj_detach_matching.
 */
static struct lj_netns_index *netns_index;

static void netns_index_drop(void)
{
	lj_netns_index_free(netns_index);
	netns_index = NULL;
}

/*
 * rec's target by name is gone or now another namespace (a pid:N whose process died, or whose
 * PID a process in another namespace has now): find the namespace by its identity, which
 * lives on while a process is in it or a file is bound to it (/run/netns). Only for records
 * with a cookie: an inode number alone may be a newer namespace's (the kernel gives freed
 * numbers out again at once), and the undo must never act in a namespace not ours. On success
 * t is that namespace, kind LJ_TARGET_PATH (named by its nsfs file, for messages).
 */
static bool find_netns(const struct lj_record *rec, struct lj_target *t)
{
	int fd;

	if (!rec->netns_cookie || !rec->netns.ino)
		return false;
	if (!netns_index && lj_netns_index_new(&netns_index) < 0)
		return false;
	memset(t, 0, sizeof(*t));
	if (lj_netns_find(netns_index, &rec->netns, rec->netns_cookie, &fd, t->name,
			  sizeof(t->name)) < 0) {
		t->netns_fd = -1;
		return false;
	}
	t->kind = LJ_TARGET_PATH;
	snprintf(t->spec, sizeof(t->spec), "%s", rec->target_spec);
	t->netns_fd = fd;
	t->id = rec->netns;
	t->cookie = rec->netns_cookie;
	snprintf(t->key, sizeof(t->key), "ns:%llu:%llu", (unsigned long long)t->id.dev,
		 (unsigned long long)t->id.ino);
	return true;
}

static int undo_record(struct lj_state *st, struct lj_record *rec, bool target_alive,
		       const struct lj_target *t, struct lj_result *res)
{
	struct lj_ctx ctx;
	size_t failed = 0;
	int r;

	r = ctx_open(&ctx, target_alive ? t : NULL);
	if (r < 0)
		return lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
	lj_plan_undo_all(&ctx, &rec->plan, &failed);
	if (failed) {
		r = lj_fail(res, -EIO,
			    "Failed to detach %s ('%s'): %s; the record is kept, run "
			    "detach again once the cause is fixed",
			    rec->target_spec, rec->ifname, ctx.detail);
	} else {
		r = lj_state_remove(st, rec->id);
		if (r == 0)
			result_add_record(res, rec);
	}
	res->undo_failed += failed;
	ctx_close(&ctx);
	return r;
}

/*
 * rec (on a bridge) was just detached: if it was the last attachment on a bridge that holds an
 * uplink lanjoin adopted, say so in res->message, and how to give the uplink its addresses
 * back: detach never does that by itself (the host's own network is on that bridge).
 */
static void note_adopted_bridge(struct lj_state *st, const struct lj_record *rec,
				struct lj_result *res)
{
	const char *br = json_string_value(json_object_get(rec->info, "bridge"));
	struct lj_record *others = NULL;
	char dev[IFNAMSIZ];
	size_t n = 0, len, left = 0;

	if (!br || lj_uplink_adopted_dev(st, br, dev) < 0)
		return;
	if (lj_state_list_info(st, "bridge", br, &others, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *b = json_string_value(json_object_get(others[i].info, "bridge"));
		left += b && strcmp(b, br) == 0 && strcmp(others[i].id, rec->id) != 0;
	}
	lj_records_free(others, n);
	if (left)
		return;
	len = strlen(res->message);
	snprintf(res->message + len, sizeof(res->message) - len,
		 "\nNo attachment is left on %s, which still holds the uplink %s with the host's "
		 "addresses and routes; give them back to %s with 'lanjoin uplink release %s'",
		 br, dev, dev, br);
}

/*
 * Nothing here attaches target: if lanjoin attached it from another network namespace, refuse
 * (res->bad_input, -EINVAL) and say where, for the user to run detach there; else 0.
 */
static int refuse_foreign(struct lj_state *st, const struct lj_target *t, bool opened,
			  const char *target, const char *ifname, struct lj_result *res)
{
	struct lj_record *recs = NULL;
	size_t n = 0;
	int r = 0;

	if (lj_state_list_foreign(st, &recs, &n) < 0)
		return 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct lj_record *rec = &recs[i];
		char where[256] = "";
		int fd;

		if (ifname && strcmp(rec->ifname, ifname) != 0)
			continue;
		if (!(opened && same_netns(rec, t)) && strcmp(rec->target_spec, t->spec) != 0 &&
		    !(t->container_id[0] && strcmp(rec->container_id, t->container_id) == 0))
			continue;
		if (!netns_index && lj_netns_index_new(&netns_index) < 0)
			netns_index = NULL;
		if (netns_index &&
		    lj_netns_find(netns_index, &rec->host_netns, rec->host_netns_cookie, &fd, where,
				  sizeof(where)) == 0)
			close(fd);
		else
			where[0] = '\0';
		if (where[0])
			r = lj_bad_input(
				res,
				"%s is attached as '%s' (%s way) from network namespace "
				"%s, not this one: run detach there (e.g. 'nsenter --net=%s "
				"lanjoin detach %s')",
				target, rec->ifname, rec->way, where, where, target);
		else
			r = lj_bad_input(
				res,
				"%s is attached as '%s' (%s way) from a network namespace "
				"that no longer exists: its links went with it; 'lanjoin gc' "
				"drops the record",
				target, rec->ifname, rec->way);
	}
	lj_records_free(recs, n);
	return r;
}

/* Is one of recs an attachment of the (open) target t as ifname (NULL: any)? */
static bool has_target_record(const struct lj_record *recs, size_t n, const struct lj_target *t,
			      const char *ifname)
{
	for (size_t i = 0; i < n; i++)
		if (recs[i].netns.dev == t->id.dev && recs[i].netns.ino == t->id.ino &&
		    (!ifname || strcmp(recs[i].ifname, ifname) == 0))
			return true;
	return false;
}

int lj_detach(const char *target, const char *ifname, bool dry_run, struct lj_result *res)
{
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	struct lj_target t;
	size_t n = 0, matched = 0;
	bool opened;
	int r;

	memset(res, 0, sizeof(*res));
	if (ifname && !lj_ifname_valid(ifname))
		return lj_bad_input(res, "Invalid interface name '%s'", ifname);
	if (lj_target_parse(target, &t) < 0)
		return lj_bad_input(res, "Invalid target '%s'", target);
	opened = lj_target_open(&t) == 0;

	r = lj_state_open(!dry_run, &st);
	if (r < 0) {
		lj_target_close(&t);
		return lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			       lj_state_strerror(r));
	}
	/*
	 * A live target's records are named by its key: read only those, not every record (a
	 * detach among 1000 attachments would read 1000 files). Nothing there (a record named
	 * before ids had a target prefix, a namespace replaced under the same name, or nothing
	 * attached): look at them all.
	 */
	r = opened ? lj_state_list_target(st, t.key, &recs, &n) : -ENOENT;
	if (r == 0 && !has_target_record(recs, n, &t, ifname)) {
		lj_records_free(recs, n);
		recs = NULL;
		n = 0;
		r = -ENOENT;
	}
	if (r < 0)
		r = lj_state_list(st, &recs, &n, &res->bad_records);
	if (r < 0) {
		lj_fail(res, r, "Failed to read the state directory: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct lj_record *rec = &recs[i];
		bool same_ns = opened && same_netns(rec, &t);
		struct lj_target found = {.netns_fd = -1};
		bool in_found;

		if (ifname && strcmp(rec->ifname, ifname) != 0)
			continue;
		if (!same_ns && strcmp(rec->target_spec, t.spec) != 0 &&
		    !(t.container_id[0] && strcmp(rec->container_id, t.container_id) == 0))
			continue;
		matched++;
		/* The target by name is gone or another namespace: is its namespace still there? */
		in_found = !same_ns && find_netns(rec, &found);
		if (dry_run) {
			struct lj_ctx ctx;
			if (ctx_open(&ctx, same_ns ? &t : in_found ? &found : NULL) == 0) {
				printf("# detach %s (%s), way %s\n", rec->target_spec, rec->ifname,
				       rec->way);
				lj_plan_describe(&ctx, &rec->plan, true, stdout);
			}
			ctx_close(&ctx);
			lj_target_close(&found);
			continue;
		}
		int u = undo_record(st, rec, same_ns || in_found, same_ns ? &t : &found, res);
		lj_target_close(&found);
		if (u < 0 && r == 0)
			r = u;
		if (u == 0) {
			size_t len = strlen(res->message);
			snprintf(res->message + len, sizeof(res->message) - len,
				 "%sDetached %s (%s)", len ? "\n" : "", rec->target_spec,
				 rec->ifname);
			note_adopted_bridge(st, rec, res);
		}
	}
	if (!matched && !dry_run && refuse_foreign(st, &t, opened, target, ifname, res) < 0)
		r = -EXDEV;
	else if (!matched && res->bad_records)
		r = lj_fail(res, -EBADMSG,
			    "No readable record attaches %s%s%s, but %zu record file%s "
			    "in %s/attachments could not be read (malformed or not lanjoin's): "
			    "nothing was changed",
			    target, ifname ? " as " : "", ifname ? ifname : "", res->bad_records,
			    res->bad_records == 1 ? "" : "s", lj_state_dir());
	else if (!matched)
		snprintf(res->message, sizeof(res->message),
			 "%s%s%s is not attached; nothing to do", target, ifname ? " as " : "",
			 ifname ? ifname : "");
out:
	netns_index_drop();
	lj_records_free(recs, n);
	lj_state_close(st);
	lj_target_close(&t);
	return r;
}

/*
 * Open rec's target (a container by its full ID, by the recorded PID if the engine is
 * unreachable; failing that, the namespace by its identity, see find_netns); true if it is
 * the namespace the record was made for (t then open).
 */
static bool open_alive(const struct lj_record *rec, struct lj_target *t)
{
	if (lj_target_reopen(rec->target_spec, rec->container_id, (pid_t)rec->target_pid, t) < 0)
		t->netns_fd = -1;
	if (same_netns(rec, t))
		return true;
	lj_target_close(t);
	if (find_netns(rec, t))
		return true;
	t->netns_fd = -1;
	return false;
}

/* Does a step below pos act in the target when undone? */
static bool needs_target(const struct lj_plan *p, size_t pos)
{
	for (size_t i = 0; i < pos; i++)
		if (p->steps[i].where == LJ_TARGET && !p->steps[i].skip_undo &&
		    p->steps[i].type->undo)
			return true;
	return false;
}

/*
 * Undo rec's plan from *pos down (see lj_plan_undo_from), deferring to batch if not NULL,
 * with host (borrowed) as the socket in lanjoin's namespace. The target is opened only when a
 * step to undo acts there: a bridge way's plan undoes in the host alone. With known (not
 * NULL), the target was opened before (gc, see gc_survey): known->netns_fd (borrowed), or
 * gone when it is -1; nothing is asked again.
 */
static void undo_part(struct lj_nl *host, struct lj_record *rec, const struct lj_target *known,
		      struct lj_link_batch *batch, size_t *pos, size_t *failed, char *detail,
		      size_t detail_size)
{
	struct lj_target t = {.netns_fd = -1};
	struct lj_ctx ctx;
	bool needs = needs_target(&rec->plan, *pos);
	bool alive = needs && (known ? known->netns_fd >= 0 : open_alive(rec, &t));
	int r;

	r = ctx_open_with(&ctx, host, alive ? (known ? known : &t) : NULL);
	if (r == 0) {
		ctx.batch = batch;
		lj_plan_undo_from(&ctx, &rec->plan, pos, failed);
		if (ctx.detail[0])
			snprintf(detail, detail_size, "%s", ctx.detail);
	} else {
		(*failed)++;
		snprintf(detail, detail_size, "open netlink sockets: %s", strerror(-r));
	}
	ctx.host = NULL; /* borrowed */
	ctx_close(&ctx);
	lj_target_close(&t);
}

/* undo_bulk: a record selected without a note. */
static const char SEL_QUIET[] = "";

struct bulk_item {
	size_t pos;		     /* undo resumes below this step */
	size_t failed;		     /* undo steps that failed */
	size_t batch_from, batch_to; /* its links in the batch */
	char detail[512];
};

/*
 * Undo the records recs[i] with sel[i] set, so that the host links they delete go in one
 * request: each plan is undone down to its link deletion (deferred to a batch), the batch is
 * deleted at once (lj_link_del_batch; one by one if that fails), then the rest of each plan.
 * Records undone without failure are removed. Returns 0 or the first -errno (res->message
 * says which record is kept); *ret_removed counts the removed records. known (NULL: each
 * target is opened here) is, per record, its target opened before (see undo_part).
 */
static int undo_bulk(struct lj_state *st, struct lj_record *recs, const char *const *sel, size_t n,
		     const struct lj_target *known, struct lj_result *res, size_t *ret_removed)
{
	struct lj_link_batch batch = {0};
	struct bulk_item *items;
	struct lj_nl *host = NULL;
	size_t removed = 0;
	int r = 0;

	items = calloc(n ? n : 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	r = lj_nl_open(-1, &host);
	if (r < 0) {
		free(items);
		return lj_fail(res, r, "Failed to open a netlink socket: %s", strerror(-r));
	}
	for (size_t i = 0; i < n; i++) {
		if (!sel[i])
			continue;
		items[i].pos = recs[i].plan.n;
		items[i].batch_from = batch.n;
		undo_part(host, &recs[i], known ? &known[i] : NULL, &batch, &items[i].pos,
			  &items[i].failed, items[i].detail, sizeof(items[i].detail));
		items[i].batch_to = batch.n;
	}
	if (batch.n) {
		/* Test hook: LANJOIN_FAULT_BATCH=1 takes the one-by-one path below. */
		const char *fault = getenv("LANJOIN_FAULT_BATCH");
		int b = fault && *fault == '1' ? -EIO : lj_link_del_batch(host, &batch);

		for (size_t k = 0; b < 0 && k < batch.n; k++) {
			int d = lj_link_del(host, batch.names[k]);
			if (d == 0 || d == -ENODEV)
				continue;
			for (size_t i = 0; i < n; i++)
				if (sel[i] && k >= items[i].batch_from && k < items[i].batch_to) {
					items[i].failed++;
					snprintf(items[i].detail, sizeof(items[i].detail),
						 "delete link '%s': %s", batch.names[k],
						 strerror(-d));
				}
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct lj_record *rec = &recs[i];
		int u = 0;

		if (!sel[i])
			continue;
		if (items[i].pos)
			undo_part(host, rec, known ? &known[i] : NULL, NULL, &items[i].pos,
				  &items[i].failed, items[i].detail, sizeof(items[i].detail));
		res->undo_failed += items[i].failed;
		if (items[i].failed)
			u = lj_fail(res, -EIO,
				    "Failed to detach %s ('%s'): %s; the record is kept, "
				    "run detach again once the cause is fixed",
				    rec->target_spec, rec->ifname, items[i].detail);
		else
			u = lj_state_remove(st, rec->id);
		if (u == 0 && sel[i] != SEL_QUIET)
			lj_result_note(res, "Removed attachment %s %s (%s way): %s",
				       rec->target_spec, rec->ifname, rec->way, sel[i]);
		if (u == 0) {
			removed++;
			result_add_record(res, rec);
		} else if (r == 0)
			r = u;
	}
	lj_nl_close(host);
	lj_link_batch_free(&batch);
	free(items);
	*ret_removed = removed;
	return r;
}

/*
 * Open the state directory (exclusively unless shared), drop the leftovers of record writes a
 * killed process never finished (exclusive only) and load every record. On failure res says
 * why and nothing is left to free.
 */
static int load_records(bool exclusive, const char *hint_key, const char *hint_value,
			struct lj_state **ret_st, struct lj_record **ret_recs, size_t *ret_n,
			struct lj_result *res)
{
	struct lj_state *st;
	int r;

	r = lj_state_open(exclusive, &st);
	if (r < 0)
		return lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			       lj_state_strerror(r));
	if (exclusive)
		lj_state_sweep_tmp(st);
	/* With a hint, only the records whose text has it are parsed (lj_state_list_info). */
	if (hint_key && hint_value)
		r = lj_state_list_info(st, hint_key, hint_value, ret_recs, ret_n);
	else
		r = lj_state_list(st, ret_recs, ret_n, &res->bad_records);
	if (r < 0) {
		lj_state_close(st);
		return lj_fail(res, r, "Failed to read the state directory: %s", strerror(-r));
	}
	*ret_st = st;
	return 0;
}

/*
 * Undo, in bulk, the records for which match says true; with why (gc), each removed record
 * gets a note naming it and why(rec) (a static string).
 */
static int undo_matching(struct lj_state *st, struct lj_record *recs, size_t n,
			 lj_record_match_fn match, void *data,
			 const char *(*why)(const struct lj_record *rec), struct lj_result *res,
			 size_t *ret_removed)
{
	const char **sel = calloc(n ? n : 1, sizeof(*sel));
	int r;

	if (!sel)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (match(&recs[i], data))
			sel[i] = why ? why(&recs[i]) : SEL_QUIET;
	r = undo_bulk(st, recs, sel, n, NULL, res, ret_removed);
	free((void *)sel);
	return r;
}

/*
 * gc: the target is gone (alive false), or (under the lock no attach runs) an attach crashed
 * midway.
 */
static bool gc_due(const struct lj_record *rec, bool alive)
{
	/* A settling record is live while its attach process waits: that one finishes it. */
	if (!alive)
		return true;
	if (strcmp(rec->status, "settling") == 0)
		return !lj_record_settling_live(rec);
	return strcmp(rec->status, "attached") != 0;
}

/* What gc learned about a record before taking the lock (gc_survey). */
struct gc_seen {
	struct lj_record rec; /* the record as it was then (its plan freed) */
	struct lj_target t;   /* its target, open if alive and gc was to act on it then */
	bool alive;
};

static void gc_seen_free(struct gc_seen *seen, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lj_target_close(&seen[i].t);
	free(seen);
}

/*
 * gc asks about each record's target (the container engine, which may hang up to its timeout,
 * see engine.h; the namespaces) without the state lock, so that a slow engine holds up no
 * other attach or detach: the records are read under a shared lock, which is then dropped,
 * and each target is opened. *ret (n in *ret_n, freed with gc_seen_free) says, per record,
 * whether its target is alive, and holds it open if the record was due (gc_due) then.
 */
static int gc_survey(struct gc_seen **ret, size_t *ret_n, struct lj_result *res)
{
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	struct gc_seen *seen;
	size_t n = 0;
	int r;

	r = load_records(false, NULL, NULL, &st, &recs, &n, res);
	if (r < 0)
		return r;
	lj_state_close(st); /* the lock goes: what follows may wait for the engine */
	seen = calloc(n ? n : 1, sizeof(*seen));
	if (!seen) {
		lj_records_free(recs, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		seen[i].alive = open_alive(&recs[i], &seen[i].t);
		/* Only a target gc will act in stays open (a thousand attachments, a thousand fds)
		 */
		if (seen[i].alive && !gc_due(&recs[i], true))
			lj_target_close(&seen[i].t);
		if (!seen[i].alive)
			seen[i].t.netns_fd = -1;
		seen[i].rec = recs[i];
		lj_record_free(&seen[i].rec); /* info and plan: not needed, the reload has them */
	}
	free(recs);
	*ret = seen;
	*ret_n = n;
	return 0;
}

/*
 * rec (read under the exclusive lock) as gc_survey saw it, unchanged since: the same
 * attachment (creation, namespace) in the same status and owner. NULL when it is new or
 * changed: then gc leaves it to the next run (asking the engine now would hold the lock).
 */
static const struct gc_seen *gc_seen_find(const struct gc_seen *seen, size_t n,
					  const struct lj_record *rec)
{
	for (size_t i = 0; i < n; i++) {
		const struct lj_record *o = &seen[i].rec;
		if (strcmp(o->id, rec->id) == 0 && o->created == rec->created &&
		    strcmp(o->status, rec->status) == 0 && o->owner_pid == rec->owner_pid &&
		    o->owner_start == rec->owner_start && o->netns.dev == rec->netns.dev &&
		    o->netns.ino == rec->netns.ino && o->netns_cookie == rec->netns_cookie)
			return &seen[i];
	}
	return NULL;
}

/* Why gc undoes rec (gc_due said so), for its note. */
static const char *gc_why(const struct lj_record *rec, bool alive)
{
	if (!alive)
		return "its namespace (or container) is gone";
	if (strcmp(rec->status, "applying") == 0)
		return "an attach was interrupted while applying it";
	if (strcmp(rec->status, "settling") == 0)
		return "the attach that waited for its addresses was killed";
	return "an attach did not finish";
}

/*
 * Undo, in bulk, the records gc_survey found due (gc_due) and that are unchanged since; their
 * targets are the ones it opened.
 */
static int gc_undo(struct lj_state *st, struct lj_record *recs, size_t n,
		   const struct gc_seen *seen, size_t n_seen, struct lj_result *res,
		   size_t *ret_removed)
{
	struct lj_target *known = calloc(n ? n : 1, sizeof(*known));
	const char **sel = calloc(n ? n : 1, sizeof(*sel));
	int r;

	if (!known || !sel) {
		free(known);
		free((void *)sel);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct gc_seen *g = gc_seen_find(seen, n_seen, &recs[i]);

		known[i].netns_fd = -1;
		/* New or changed since, or due now but alive and not due then: the next gc's. */
		if (!g || (g->alive && g->t.netns_fd < 0))
			continue;
		if (gc_due(&recs[i], g->alive))
			sel[i] = gc_why(&recs[i], g->alive);
		known[i] = g->t; /* borrowed: closed with seen */
	}
	r = undo_bulk(st, recs, sel, n, known, res, ret_removed);
	free(known);
	free((void *)sel);
	return r;
}

static bool match_all(const struct lj_record *rec, void *data)
{
	return true;
}

/*
 * Remove the records written from a network namespace that no longer exists anywhere: all the
 * kernel objects they describe went with it. *ret (n in *ret_n) are the removed records, for
 * OVS gc (the caller frees them with lj_records_free).
 */
static int drop_foreign(struct lj_state *st, struct lj_result *res, struct lj_record **ret,
			size_t *ret_n)
{
	struct lj_record *recs = NULL;
	size_t n = 0, k = 0;
	int r, first = 0;

	*ret = NULL;
	*ret_n = 0;
	r = lj_state_list_foreign(st, &recs, &n);
	if (r < 0)
		return lj_fail(res, r, "Failed to read the state directory: %s", strerror(-r));
	if (n && !netns_index && (r = lj_netns_index_new(&netns_index)) < 0) {
		lj_records_free(recs, n);
		return lj_fail(res, r, "Failed to look for network namespaces: %s", strerror(-r));
	}
	for (size_t i = 0; i < n; i++) {
		if (lj_netns_exists(netns_index, &recs[i].host_netns, recs[i].host_netns_cookie) ||
		    (r = lj_state_remove(st, recs[i].id)) < 0) {
			if (r < 0 && !first)
				first = lj_fail(res, r, "Failed to remove the record %s: %s",
						recs[i].id, strerror(-r));
			lj_record_free(&recs[i]);
			r = 0;
			continue;
		}
		lj_result_note(res,
			       "Removed attachment %s %s (%s way): dropped its record, the "
			       "network namespace lanjoin attached it from no longer exists",
			       recs[i].target_spec, recs[i].ifname, recs[i].way);
		result_add_record(res, &recs[i]);
		recs[k++] = recs[i];
	}
	*ret = recs;
	*ret_n = k;
	return first;
}

int lj_gc(struct lj_result *res, size_t *ret_removed)
{
	struct lj_record *recs = NULL, *dropped = NULL, *all;
	struct lj_state *st = NULL;
	struct gc_seen *seen = NULL;
	size_t n = 0, removed = 0, n_dropped = 0, n_seen = 0, n_uplinks = 0;
	size_t n_way[LJ_WAY_COUNT] = {0};
	json_t *removed_json;
	int r, u;

	memset(res, 0, sizeof(*res));
	r = gc_survey(&seen, &n_seen, res);
	if (r < 0)
		return r;
	r = load_records(true, NULL, NULL, &st, &recs, &n, res);
	if (r < 0) {
		gc_seen_free(seen, n_seen);
		return r;
	}
	r = gc_undo(st, recs, n, seen, n_seen, res, &removed);
	gc_seen_free(seen, n_seen);
	/* Records of a host namespace that is gone: they describe nothing any more. */
	u = drop_foreign(st, res, &dropped, &n_dropped);
	removed += n_dropped;
	if (u < 0 && r == 0)
		r = u;
	/* Adoptions a crash left half-done or whose namespace is gone; OVS uplink ports no
	 * adoption explains. */
	u = lj_uplink_gc(st, res, &n_uplinks);
	if (u < 0 && r == 0)
		r = u;
	/*
	 * What of a way outlives /run/lanjoin (a reboot) and a namespace, e.g. OVS rows: each
	 * way's gc removes what no record explains. The dropped records name their databases
	 * but claim no port.
	 */
	all = calloc(n + n_dropped + 1, sizeof(*all));
	if (!all) {
		u = -ENOMEM;
	} else {
		if (n)
			memcpy(all, recs, n * sizeof(*all));
		for (size_t i = 0; i < n_dropped; i++) {
			all[n + i] = dropped[i];
			all[n + i].host_ifname[0] = '\0';
		}
		u = 0;
		for (size_t w = 0; w < LJ_WAY_COUNT; w++) {
			const struct lj_way_ops *way = lj_way_table[w];
			int k;
			if (!way->gc)
				continue;
			k = way->gc(all, n + n_dropped, res, &n_way[w]);
			if (k < 0 && u == 0)
				u = k;
		}
		free(all); /* shallow copies: the records are freed below */
	}
	if (u < 0 && r == 0)
		r = u;
	if (!res->json)
		res->json = json_object();
	removed_json = json_pack("{s:I, s:I}", "attachments", (json_int_t)removed,
				 "uplink_adoptions", (json_int_t)n_uplinks);
	removed += n_uplinks;
	for (size_t w = 0; w < LJ_WAY_COUNT; w++) {
		if (!lj_way_table[w]->gc)
			continue;
		json_object_set_new(removed_json, lj_way_table[w]->gc_key,
				    json_integer((json_int_t)n_way[w]));
		removed += n_way[w];
	}
	json_object_set_new(res->json, "removed", removed_json);
	lj_records_free(dropped, n_dropped);
	netns_index_drop();
	lj_records_free(recs, n);
	lj_state_close(st);
	if (ret_removed)
		*ret_removed = removed;
	return r;
}

int lj_detach_all(bool dry_run, struct lj_result *res, size_t *ret_removed)
{
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	size_t n = 0, removed = 0;
	int r;

	memset(res, 0, sizeof(*res));
	r = load_records(!dry_run, NULL, NULL, &st, &recs, &n, res);
	if (r < 0)
		return r;
	if (dry_run) {
		for (size_t i = 0; i < n; i++) {
			struct lj_target t;
			struct lj_ctx ctx;
			bool alive = open_alive(&recs[i], &t);

			if (ctx_open(&ctx, alive ? &t : NULL) == 0) {
				printf("# detach %s (%s), way %s\n", recs[i].target_spec,
				       recs[i].ifname, recs[i].way);
				lj_plan_describe(&ctx, &recs[i].plan, true, stdout);
			}
			ctx_close(&ctx);
			lj_target_close(&t);
		}
	} else {
		r = undo_matching(st, recs, n, match_all, NULL, NULL, res, &removed);
	}
	netns_index_drop();
	lj_records_free(recs, n);
	lj_state_close(st);
	if (ret_removed)
		*ret_removed = removed;
	return r;
}

int lj_detach_matching(lj_record_match_fn match, void *data, struct lj_result *res,
		       size_t *ret_removed)
{
	return lj_detach_matching_hint(NULL, NULL, match, data, res, ret_removed);
}

int lj_detach_matching_hint(const char *hint_key, const char *hint_value, lj_record_match_fn match,
			    void *data, struct lj_result *res, size_t *ret_removed)
{
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	size_t n = 0, removed = 0;
	int r;

	memset(res, 0, sizeof(*res));
	r = load_records(true, hint_key, hint_value, &st, &recs, &n, res);
	if (r < 0)
		return r;
	r = undo_matching(st, recs, n, match, data, NULL, res, &removed);
	netns_index_drop();
	lj_records_free(recs, n);
	lj_state_close(st);
	if (ret_removed)
		*ret_removed = removed;
	return r;
}
