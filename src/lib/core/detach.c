/* SPDX-License-Identifier: MIT */
/*
 * Detach, detach --all, detach by a front end's key, and the bulk undo they share with gc
 * (undo.h): each replays the undo plans of state records, deleting the host links of many
 * records in one request.
 */
#include "lib/core/detach.h"
#include "lib/core/undo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/handed.h"
#include "lib/core/spec-store.h"
#include "lib/core/txn.h"
#include "lib/kernel/link.h"
#include "lib/kernel/proc.h"
#include "lib/kernel/netns.h"
#include "lib/core/way.h"
#include "shared/shquote.h"

/* See undo.h. */
bool lj_record_in_netns(const struct lj_record *rec, const struct lj_target *t)
{
	return t->netns_fd >= 0 && t->id.dev == rec->netns.dev && t->id.ino == rec->netns.ino &&
	       (!rec->netns_cookie || !t->cookie || rec->netns_cookie == t->cookie);
}

/* See undo.h. */
struct lj_netns_index *lj_undo_netns_index;

void lj_undo_netns_index_drop(void)
{
	lj_netns_index_free(lj_undo_netns_index);
	lj_undo_netns_index = NULL;
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
	if (!lj_undo_netns_index && lj_netns_index_new(&lj_undo_netns_index) < 0)
		return false;
	memset(t, 0, sizeof(*t));
	if (lj_netns_find(lj_undo_netns_index, &rec->netns, rec->netns_cookie, &fd, t->name,
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

/*
 * Mark rec "detaching", with this process as its owner, on disk before its first undo step:
 * if the detach is killed part-way, the half-undone attachment reads as a detach to finish
 * (reconcile, watch, gc), not as drift to repair. The mark says whether the attachment's
 * stored spec goes too (spec), so that whoever finishes the detach does as it was asked.
 * 0 or -errno.
 */
static int mark_detaching(struct lj_state *st, struct lj_record *rec, enum lj_undo_spec spec)
{
	bool drop = spec == LJ_UNDO_SPEC_AS_MARKED ? rec->drop_spec : spec == LJ_UNDO_SPEC_DROP;

	if (strcmp(rec->status, "detaching") == 0 && rec->owner_pid == getpid() &&
	    rec->drop_spec == drop)
		return 0;
	snprintf(rec->status, sizeof(rec->status), "detaching");
	rec->drop_spec = drop;
	rec->owner_pid = getpid();
	if (lj_proc_start_time(getpid(), &rec->owner_start) < 0)
		rec->owner_start = 0; /* then judged interrupted (never by PID alone) */
	return lj_state_save(st, rec);
}

/* What the first part of a record's undo needs: its default routes handed down, its mark. */
struct hand_down {
	struct lj_state *st;
	struct lj_record *recs;
	size_t n, i;
	const bool *undone;
	enum lj_undo_spec spec;
	struct lj_result *res;
};

/*
 * Before recs[i]'s undo (ctx open on its target): its default routes handed down first (a
 * kill after it leaves both records holding them), then the record marked. 0 to go on with
 * its undo; else -errno, ctx->detail says why, and nothing of it was undone.
 */
static int begin_undo(struct lj_ctx *ctx, const struct hand_down *hd)
{
	int r;

	r = lj_default_route_hand_down(ctx, hd->st, hd->recs, hd->n, hd->i, hd->undone, NULL,
				       hd->res);
	if (r < 0)
		return r;
	r = mark_detaching(hd->st, &hd->recs[hd->i], hd->spec);
	if (r < 0)
		lj_ctx_detail(ctx, "write the state record: %s", strerror(-r));
	return r;
}

/*
 * After rec's undo, with failed of its steps failed (detail: why): keep rec, res saying so
 * (-EIO); or, all undone, remove its stored spec if its mark says so, then rec itself, which
 * goes to res as it was before the detach (status was). 0 or -errno.
 */
static int end_undo(struct lj_state *st, struct lj_record *rec, const char *was, size_t failed,
		    const char *detail, struct lj_result *res)
{
	char why[512];
	int r = 0;

	res->undo_failed += failed;
	if (!failed && rec->drop_spec && (r = lj_spec_forget(rec)) < 0)
		snprintf(why, sizeof(why), "remove its stored spec from %s: %s", lj_spec_dir(),
			 strerror(-r));
	if (failed || r < 0)
		return lj_fail(res, -EIO,
			       "Failed to detach %s ('%s'): %s; the record is kept, run detach "
			       "again once the cause is fixed",
			       rec->target_spec, rec->ifname, failed ? detail : why);
	r = lj_state_remove(st, rec->id);
	/* reported as it was before this detach marked it */
	snprintf(rec->status, sizeof(rec->status), "%s", was);
	if (r == 0)
		lj_result_add_record(res, rec);
	return r;
}

/* Undo recs[i] (begin_undo, its plan, end_undo). */
static int undo_record(struct lj_state *st, struct lj_record *recs, size_t n, size_t i,
		       const bool *undone, bool target_alive, const struct lj_target *t,
		       enum lj_undo_spec spec, struct lj_result *res)
{
	struct hand_down hd = {st, recs, n, i, undone, spec, res};
	struct lj_record *rec = &recs[i];
	char was[sizeof(rec->status)];
	struct lj_ctx ctx;
	size_t failed = 0;
	int r;

	memcpy(was, rec->status, sizeof(was));
	r = lj_ctx_open(&ctx, NULL, target_alive ? t : NULL);
	if (r < 0)
		return lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
	if (begin_undo(&ctx, &hd) < 0)
		failed++;
	else
		lj_plan_undo_all(&ctx, &rec->plan, &failed);
	r = end_undo(st, rec, was, failed, ctx.detail, res);
	lj_ctx_close(&ctx);
	return r;
}

/*
 * --dry-run: describe recs[i]'s undo as the detach runs it, in the target t (NULL: gone): its
 * default routes handed down first (in recs alone), then its plan; undone[i] is then set.
 */
static void dry_undo(struct lj_record *recs, size_t n, size_t i, bool *undone,
		     const struct lj_target *t, struct lj_result *res)
{
	struct lj_record *rec = &recs[i];
	char *hand = NULL;
	size_t size = 0;
	struct lj_ctx ctx;
	FILE *f;

	if (lj_ctx_open(&ctx, NULL, t) == 0) {
		f = open_memstream(&hand, &size);
		if (f) {
			lj_default_route_hand_down(&ctx, NULL, recs, n, i, undone, f, res);
			fclose(f);
		}
		ctx.describing = &rec->plan;
		lj_result_dry_plan(res, &ctx, &rec->plan, true, "detach %s (%s), way %s%s",
				   LJ_SHC(rec->target_spec), rec->ifname, rec->way,
				   hand ? hand : "");
	}
	lj_ctx_close(&ctx);
	free(hand);
	undone[i] = true;
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
		if (!(opened && lj_record_in_netns(rec, t)) &&
		    strcmp(rec->target_spec, t->spec) != 0 &&
		    !(t->container_id[0] && strcmp(rec->container_id, t->container_id) == 0))
			continue;
		if (!lj_undo_netns_index && lj_netns_index_new(&lj_undo_netns_index) < 0)
			lj_undo_netns_index = NULL;
		if (lj_undo_netns_index &&
		    lj_netns_find(lj_undo_netns_index, &rec->host_netns, rec->host_netns_cookie,
				  &fd, where, sizeof(where)) == 0)
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

/*
 * rec, found in the namespace of container t, was made for another container (t shares its
 * network namespace: docker run --network container:OTHER): that one's, not t's.
 */
static bool other_container(const struct lj_record *rec, const struct lj_target *t)
{
	return t->container_id[0] && rec->container_id[0] &&
	       strcmp(rec->container_id, t->container_id) != 0 &&
	       strcmp(rec->target_spec, t->spec) != 0;
}

/* A nat --to attachment has no interface of its own in the target: the address it forwards
 * to (NULL for any other attachment). */
static const char *nat_to(const struct lj_record *rec)
{
	return json_string_value(json_object_get(rec->info, "to"));
}

/*
 * Is rec a link handed to a container engine (handoff.h: a Docker plugin endpoint)? The engine
 * owns it (docker network disconnect, removing the container): detach leaves it alone, never
 * dropping its record while the engine keeps the link.
 */
static bool handed_to_engine(const struct lj_record *rec)
{
	return lj_record_handed(rec);
}

/*
 * The Docker plugin's endpoints of target (a container: its engine is asked which sandbox and
 * endpoints it has; any other target by its namespace), which are recorded by their sandbox
 * in lanjoin's own namespace, not by the container: among recs (n) when all records are
 * there (all), else read from the records made for lanjoin's namespace; with ifname, only the
 * one named so in the target (netns_fd: its namespace, borrowed; -1 if not open). Their
 * networks (the engine's names, else ID prefixes) into nets (size bytes, "'lan', 'lan2'").
 * Returns how many; 0 when none or when that cannot be told.
 */
static size_t handed_of(struct lj_state *st, const struct lj_record *recs, size_t n, bool all,
			const char *target, const char *ifname, int netns_fd, char *nets,
			size_t size)
{
	struct lj_handed_owner *o = calloc(1, sizeof(*o));
	struct lj_record *own = NULL;
	struct lj_netns_id self;
	size_t n_own = 0, count = 0, len = 0;
	char key[48];

	nets[0] = '\0';
	if (!o || !st)
		goto out;
	if (!all && lj_netns_self_id(&self) == 0) {
		snprintf(key, sizeof(key), "ns:%llu:%llu", (unsigned long long)self.dev,
			 (unsigned long long)self.ino);
		if (lj_state_list_target(st, key, &own, &n_own) == 0) {
			recs = own;
			n = n_own;
		}
	} else if (!all) {
		goto out;
	}
	/* Only a handed record can be one of the owner's (lj_handed_owned): without one, no
	 * engine to ask and no dump of the target's and the host's links (issue 21: a detach
	 * paid two link dumps, the host's growing with its links, for nothing). */
	while (n && !lj_record_handed(&recs[n - 1]))
		n--;
	if (n == 0 || lj_handed_owner_get(target, o) < 0)
		goto out;
	/* after lj_handed_owner_get, which starts o afresh (a netns target's has its links) */
	if (ifname && netns_fd >= 0)
		lj_handed_owner_links(o, netns_fd); /* on failure: no links, none named */
	for (size_t i = 0; i < n; i++) {
		const char *net, *nid;

		if (!lj_handed_owned(o, &recs[i], &net) ||
		    (ifname && !lj_handed_named(o, &recs[i], ifname)))
			continue;
		nid = json_string_value(
			json_object_get(json_object_get(recs[i].info, "docker"), "network"));
		if (len + 4 < size)
			len += (size_t)snprintf(nets + len, size - len, "%s'%.*s'",
						count ? ", " : "", net ? 128 : 12,
						net   ? net
						: nid ? nid
						      : "?");
		count++;
	}
out:
	lj_records_free(own, n_own);
	lj_handed_owner_free(o);
	free(o);
	return count;
}

/* Is rec a CNI runtime's attachment (made by a CNI ADD: its runtime removes it with DEL)? */
static bool cni_runtimes(const struct lj_record *rec)
{
	return json_object_get(rec->info, "cni") != NULL;
}

/* Append to res->message what detach --all left to CNI runtimes: n attachments (n > 0). */
static void say_cni_left(struct lj_result *res, size_t n)
{
	size_t len = strlen(res->message);

	snprintf(res->message + len, sizeof(res->message) - len,
		 "%s%zu attachment%s of a CNI runtime left: its runtime removes %s (CNI DEL); "
		 "'lanjoin detach TARGET' or 'detach --all --include-cni' detaches %s too",
		 len ? "\n" : "", n, n == 1 ? "" : "s", n == 1 ? "it" : "them",
		 n == 1 ? "it" : "them");
}

/* Append to res->message what detach left to the engine: n endpoints (n > 0). */
static void say_handed_left(struct lj_result *res, size_t n)
{
	size_t len = strlen(res->message);

	snprintf(res->message + len, sizeof(res->message) - len,
		 "%s%zu endpoint%s of the Docker plugin left: docker network disconnect removes "
		 "%s",
		 len ? "\n" : "", n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
}

int lj_detach(const char *target, const char *ifname, unsigned flags, struct lj_result *res)
{
	bool dry_run = flags & LJ_DETACH_DRY_RUN;
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	struct lj_target t;
	size_t n = 0, matched = 0, handed = 0, other = SIZE_MAX;
	bool opened, *undone = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	if (ifname && !lj_ifname_valid(ifname))
		return lj_bad_input(res, "Invalid interface name '%s'", ifname);
	if (lj_target_parse(target, &t) < 0)
		return lj_bad_input(res, "Invalid target '%s'", target);
	opened = lj_target_open(&t) == 0;

	/* A dry run creates nothing: without a state directory, nothing is attached. */
	r = dry_run ? lj_state_open_read("attachments", &st) : lj_state_open(true, &st);
	if (r == -ENOENT && dry_run)
		st = NULL;
	else if (r < 0) {
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
	r = !st ? 0 : opened ? lj_state_list_target(st, t.key, &recs, &n) : -ENOENT;
	if (r == 0 && st && !has_target_record(recs, n, &t, ifname)) {
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
	undone = calloc(n ? n : 1, sizeof(*undone));
	if (!undone) {
		r = lj_fail(res, -ENOMEM, "Out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct lj_record *rec = &recs[i];
		bool same_ns = opened && lj_record_in_netns(rec, &t);
		struct lj_target found = {.netns_fd = -1};
		bool in_found;

		if (ifname && strcmp(rec->ifname, ifname) != 0)
			continue;
		if (!same_ns && strcmp(rec->target_spec, t.spec) != 0 &&
		    !(t.container_id[0] && strcmp(rec->container_id, t.container_id) == 0))
			continue;
		if (same_ns && other_container(rec, &t)) {
			other = other == SIZE_MAX ? i : other; /* named if nothing else is t's */
			continue;
		}
		if (handed_to_engine(rec)) {
			handed++;
			continue;
		}
		matched++;
		/* The target by name is gone or another namespace: is its namespace still there? */
		in_found = !same_ns && find_netns(rec, &found);
		if (dry_run) {
			dry_undo(recs, n, i, undone, same_ns ? &t : in_found ? &found : NULL, res);
			lj_target_close(&found);
			continue;
		}
		int u = undo_record(
			st, recs, n, i, undone, same_ns || in_found, same_ns ? &t : &found,
			flags & LJ_DETACH_DROP_SPEC ? LJ_UNDO_SPEC_DROP : LJ_UNDO_SPEC_KEEP, res);
		undone[i] = true;
		lj_target_close(&found);
		if (u < 0 && r == 0)
			r = u;
		if (u == 0) {
			size_t len = strlen(res->message);
			snprintf(res->message + len, sizeof(res->message) - len,
				 "%sDetached %s (%s%s)", len ? "\n" : "", rec->target_spec,
				 nat_to(rec) ? "nat to " : "",
				 nat_to(rec) ? nat_to(rec) : rec->ifname);
			enum lj_way w;
			if (lj_way_find(rec->way, &w) == 0 && lj_way_get(w)->detached)
				lj_way_get(w)->detached(st, rec, res);
		}
	}
	/* A container's plugin endpoints are recorded by their sandbox, not by the container:
	 * asked for by its name (or PID, namespace), they are found through its engine or
	 * namespace, and refused as Docker's (not "not attached"); with --ifname, the one of
	 * that name in the target, looked for only when no attachment of lanjoin's has it (a
	 * name is one link's). */
	if (!matched && !handed && other != SIZE_MAX) {
		r = lj_bad_input(
			res,
			"%s and container %s share one network namespace (one runs with "
			"--network container:OTHER): '%s' there is %s's attachment, not %s's; "
			"detach %s%s%s; nothing was changed",
			target, recs[other].target_spec, recs[other].ifname,
			recs[other].target_spec, target, recs[other].target_spec,
			ifname ? " --ifname " : "", ifname ? ifname : "");
		goto out;
	}
	if (!handed && (!ifname || !matched)) {
		char nets[512];
		size_t k = handed_of(st, recs, n, !matched, target, ifname,
				     opened ? t.netns_fd : -1, nets, sizeof(nets));

		if (k && !matched)
			r = lj_bad_input(
				res,
				"%s%s%s is on Docker network%s %s through the lanjoin Docker "
				"plugin: %s Docker's, made and removed by Docker (run: docker "
				"network disconnect %.*s %s%s; or remove the container); nothing "
				"was changed",
				target, ifname ? "'s " : "", ifname ? ifname : "",
				k == 1 ? "" : "s", nets,
				k == 1 ? "that endpoint is" : "those endpoints are",
				/* nets is "'NAME'": the name without its quotes */
				k == 1 ? (int)strlen(nets) - 2 : 7, k == 1 ? nets + 1 : "NETWORK",
				target, k == 1 ? "" : ", for each");
		else if (k) {
			size_t len = strlen(res->message);

			snprintf(res->message + len, sizeof(res->message) - len,
				 "%s%zu endpoint%s of the Docker plugin left (Docker network%s "
				 "%s): 'docker network disconnect' removes %s",
				 len ? "\n" : "", k, k == 1 ? "" : "s", k == 1 ? "" : "s", nets,
				 k == 1 ? "it" : "them");
		}
		if (k && !matched)
			goto out;
	}
	if (!matched && handed)
		r = lj_bad_input(res,
				 "%s%s%s is %s of the Docker plugin: Docker owns %s (docker "
				 "network disconnect removes %s); nothing was changed",
				 target, ifname ? " as " : "", ifname ? ifname : "",
				 handed == 1 ? "an endpoint" : "endpoints",
				 handed == 1 ? "it" : "them", handed == 1 ? "it" : "them");
	else if (handed && !dry_run)
		say_handed_left(res, handed);
	else if (!matched && !dry_run && refuse_foreign(st, &t, opened, target, ifname, res) < 0)
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
	free(undone);
	lj_undo_netns_index_drop();
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
bool lj_undo_open_alive(const struct lj_record *rec, struct lj_target *t)
{
	if (lj_target_reopen(rec->target_spec, rec->container_id, (pid_t)rec->target_pid, t) < 0)
		t->netns_fd = -1;
	if (lj_record_in_netns(rec, t))
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
		      const struct hand_down *hd, struct lj_link_batch *batch, size_t *pos,
		      size_t *failed, char *detail, size_t detail_size)
{
	struct lj_target t = {.netns_fd = -1};
	struct lj_ctx ctx;
	bool needs = needs_target(&rec->plan, *pos);
	bool alive = needs && (known ? known->netns_fd >= 0 : lj_undo_open_alive(rec, &t));
	int r;

	r = lj_ctx_open(&ctx, host, alive ? (known ? known : &t) : NULL);
	if (r == 0) {
		ctx.batch = batch;
		if (hd && begin_undo(&ctx, hd) < 0)
			(*failed)++; /* the record is kept, nothing undone */
		else
			lj_plan_undo_from(&ctx, &rec->plan, pos, failed);
		if (ctx.detail[0])
			snprintf(detail, detail_size, "%s", ctx.detail);
	} else {
		(*failed)++;
		snprintf(detail, detail_size, "open netlink sockets: %s", strerror(-r));
	}
	lj_ctx_close(&ctx);
	lj_target_close(&t);
}

/* undo_bulk: a record selected without a note. */
static const char SEL_QUIET[] = "";

struct bulk_item {
	size_t pos;		     /* undo resumes below this step */
	size_t failed;		     /* undo steps that failed */
	size_t batch_from, batch_to; /* its links in the batch */
	char detail[512];
	char was[sizeof(((struct lj_record *)0)->status)]; /* its status before the undo */
};

/*
 * Undo the records recs[i] with sel[i] set, so that the host links they delete go in one
 * request: each plan is undone down to its link deletion (deferred to a batch), the batch is
 * deleted at once (lj_link_del_batch; one by one if that fails), then the rest of each plan.
 * Records undone without failure are removed. Returns 0 or the first -errno (res->message
 * says which record is kept); *ret_removed counts the removed records. known (NULL: each
 * target is opened here) is, per record, its target opened before (see undo_part).
 */
int lj_undo_bulk(struct lj_state *st, struct lj_record *recs, const char *const *sel, size_t n,
		 const struct lj_target *known, enum lj_undo_spec spec, struct lj_result *res,
		 size_t *ret_removed)
{
	struct lj_link_batch batch = {0};
	struct bulk_item *items;
	struct lj_nl *host = NULL;
	size_t removed = 0;
	int r = 0;

	bool *undone;

	items = calloc(n ? n : 1, sizeof(*items));
	undone = calloc(n ? n : 1, sizeof(*undone));
	if (!items || !undone) {
		free(items);
		free(undone);
		return -ENOMEM;
	}
	r = lj_nl_open(-1, &host);
	if (r < 0) {
		free(items);
		free(undone);
		return lj_fail(res, r, "Failed to open a netlink socket: %s", strerror(-r));
	}
	for (size_t i = 0; i < n; i++) {
		struct hand_down hd = {st, recs, n, i, undone, spec, res};

		if (!sel[i])
			continue;
		snprintf(items[i].was, sizeof(items[i].was), "%s", recs[i].status);
		items[i].pos = recs[i].plan.n;
		items[i].batch_from = batch.n;
		undo_part(host, &recs[i], known ? &known[i] : NULL, &hd, &batch, &items[i].pos,
			  &items[i].failed, items[i].detail, sizeof(items[i].detail));
		items[i].batch_to = batch.n;
		undone[i] = true;
	}
	if (batch.n) {
		/* Test hook: LANJOIN_FAULT_BATCH=1 takes the one-by-one path below. */
		int b = lj_test_hook("LANJOIN_FAULT_BATCH") == 1 ? -EIO
								 : lj_link_del_batch(host, &batch);

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
		char who[LJ_TARGET_SPEC_MAX + 96];
		int u = 0;

		if (!sel[i])
			continue;
		if (items[i].pos)
			undo_part(host, rec, known ? &known[i] : NULL, NULL, NULL, &items[i].pos,
				  &items[i].failed, items[i].detail, sizeof(items[i].detail));
		u = end_undo(st, rec, items[i].was, items[i].failed, items[i].detail, res);
		if (u == 0 && sel[i] != SEL_QUIET && lj_record_handed(rec))
			lj_result_note(res, "Removed attachment of %s (%s way): %s",
				       lj_record_who(rec, who, sizeof(who)), rec->way, sel[i]);
		else if (u == 0 && sel[i] != SEL_QUIET)
			lj_result_note(res, "Removed attachment %s %s (%s way): %s",
				       rec->target_spec, rec->ifname, rec->way, sel[i]);
		if (u == 0)
			removed++;
		else if (r == 0)
			r = u;
	}
	lj_nl_close(host);
	lj_link_batch_free(&batch);
	free(items);
	free(undone);
	*ret_removed = removed;
	return r;
}

/*
 * Open the state directory (exclusively unless shared), drop the leftovers of record writes a
 * killed process never finished (exclusive only) and load every record. On failure res says
 * why and nothing is left to free.
 */
int lj_undo_load_records(bool exclusive, const char *hint_key, const char *hint_value,
			 struct lj_state **ret_st, struct lj_record **ret_recs, size_t *ret_n,
			 struct lj_result *res)
{
	struct lj_state *st;
	int r;

	r = exclusive ? lj_state_open(true, &st) : lj_state_open_read("attachments", &st);
	if (r == -ENOENT) { /* read only, and nothing was ever recorded */
		*ret_st = NULL;
		*ret_recs = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			       lj_state_strerror(r));
	if (exclusive)
		lj_state_sweep_tmp(st);
	if (exclusive && !hint_key) /* gc, detach --all: every record is read anyway */
		lj_state_prune_index(st);
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
			 const char *(*why)(const struct lj_record *rec), enum lj_undo_spec spec,
			 struct lj_result *res, size_t *ret_removed)
{
	const char **sel = calloc(n ? n : 1, sizeof(*sel));
	int r;

	if (!sel)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (match(&recs[i], data))
			sel[i] = why ? why(&recs[i]) : SEL_QUIET;
	r = lj_undo_bulk(st, recs, sel, n, NULL, spec, res, ret_removed);
	free((void *)sel);
	return r;
}

static bool match_all(const struct lj_record *rec, void *data)
{
	return true;
}

/* What detach --all leaves to their owners, counted. */
struct left {
	bool include_cni; /* LJ_DETACH_INCLUDE_CNI */
	size_t handed;	  /* the Docker plugin's endpoints */
	size_t cni;	  /* CNI runtimes' attachments */
};

/*
 * detach --all: everything but the links handed to an engine and, unless asked, the CNI
 * runtimes' attachments (counted in *data, a struct left).
 */
static bool match_not_owned(const struct lj_record *rec, void *data)
{
	struct left *left = data;

	if (handed_to_engine(rec)) {
		left->handed++;
		return false;
	}
	if (cni_runtimes(rec) && !left->include_cni) {
		left->cni++;
		return false;
	}
	return true;
}

/* Append to res->message what detach --all left to their owners. */
static void say_left(struct lj_result *res, const struct left *left)
{
	if (left->handed)
		say_handed_left(res, left->handed);
	if (left->cni)
		say_cni_left(res, left->cni);
}

int lj_detach_all(unsigned flags, struct lj_result *res, size_t *ret_removed)
{
	bool dry_run = flags & LJ_DETACH_DRY_RUN, *undone = NULL;
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	size_t n = 0, removed = 0;
	struct left left = {.include_cni = flags & LJ_DETACH_INCLUDE_CNI};
	int r;

	memset(res, 0, sizeof(*res));
	r = lj_undo_load_records(!dry_run, NULL, NULL, &st, &recs, &n, res);
	if (r < 0)
		return r;
	if (dry_run) {
		undone = calloc(n ? n : 1, sizeof(*undone));
		if (!undone)
			r = lj_fail(res, -ENOMEM, "Out of memory");
		for (size_t i = 0; undone && i < n; i++) {
			struct lj_target t;
			bool alive;

			if (!match_not_owned(&recs[i], &left))
				continue;
			alive = lj_undo_open_alive(&recs[i], &t);

			dry_undo(recs, n, i, undone, alive ? &t : NULL, res);
			lj_target_close(&t);
		}
		free(undone);
	} else {
		r = undo_matching(st, recs, n, match_not_owned, &left, NULL,
				  flags & LJ_DETACH_DROP_SPEC ? LJ_UNDO_SPEC_DROP
							      : LJ_UNDO_SPEC_KEEP,
				  res, &removed);
		say_left(res, &left);
		/* what single detaches say after the last attachment of something went (an
		 * adopted uplink's bridge left without one) */
		for (size_t i = 0; i < n; i++) {
			struct lj_record gone;
			enum lj_way w;

			if (lj_state_load(st, recs[i].id, &gone) == 0) {
				lj_record_free(&gone); /* still there: its undo failed */
				continue;
			}
			if (lj_way_find(recs[i].way, &w) == 0 && lj_way_get(w)->detached)
				lj_way_get(w)->detached(st, &recs[i], res);
		}
	}
	lj_undo_netns_index_drop();
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
	r = lj_undo_load_records(true, hint_key, hint_value, &st, &recs, &n, res);
	if (r < 0)
		return r;
	r = undo_matching(st, recs, n, match, data, NULL, LJ_UNDO_SPEC_AS_MARKED, res, &removed);
	lj_undo_netns_index_drop();
	lj_records_free(recs, n);
	lj_state_close(st);
	if (ret_removed)
		*ret_removed = removed;
	return r;
}

int lj_detach_ids(struct lj_state *st, const char *const *ids, size_t n, lj_record_match_fn match,
		  void *data, struct lj_result *res, size_t *ret_removed)
{
	struct lj_record *recs = calloc(n ? n : 1, sizeof(*recs));
	size_t k = 0, removed = 0;
	int r;

	memset(res, 0, sizeof(*res));
	if (!recs)
		return lj_fail(res, -ENOMEM, "Failed to read the state directory: %s",
			       strerror(ENOMEM));
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= strcmp(ids[i], ids[j]) == 0;
		if (seen)
			continue;
		r = lj_state_load(st, ids[i], &recs[k]);
		if (r == 0 && match(&recs[k], data))
			k++;
		else if (r == 0)
			lj_record_free(&recs[k]);
		else if (r != -ENOENT && r != -EXDEV && r != -EBADMSG) {
			lj_records_free(recs, k);
			return lj_fail(res, r, "Failed to read the record %s: %s", ids[i],
				       strerror(-r));
		}
	}
	/* Nothing to undo: no netlink socket either (a repeated DEL). */
	r = k ? undo_matching(st, recs, k, match_all, NULL, NULL, LJ_UNDO_SPEC_AS_MARKED, res,
			      &removed)
	      : 0;
	lj_undo_netns_index_drop();
	lj_records_free(recs, k);
	if (ret_removed)
		*ret_removed = removed;
	return r;
}

/* lj_detach_finish: still the interrupted detach's record (same attachment, same owner)? */
static bool match_interrupted(const struct lj_record *rec, void *data)
{
	const struct lj_record *was = data;

	return strcmp(rec->id, was->id) == 0 && rec->created == was->created &&
	       rec->owner_pid == was->owner_pid && rec->owner_start == was->owner_start &&
	       lj_record_detach_interrupted(rec);
}

/*
 * One record, id, detached under the exclusive lock if match(rec, data) says so. Nothing but
 * that record is read: no sweep of the other records' leftover temporary files (a record's
 * own goes with it, lj_state_remove; the others' are harmless, the next write of theirs
 * reuses them, and gc or a detach --all sweeps them), so that the Docker plugin's
 * DeleteEndpoint does not read the name of every record.
 */
static int detach_one(const char *id, lj_record_match_fn match, void *data, struct lj_result *res,
		      size_t *ret_removed)
{
	struct lj_state *st;
	int r;

	memset(res, 0, sizeof(*res));
	r = lj_state_open(true, &st);
	if (r < 0)
		return lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			       lj_state_strerror(r));
	r = lj_detach_ids(st, &id, 1, match, data, res, ret_removed);
	lj_state_close(st);
	return r;
}

int lj_detach_finish(const struct lj_record *rec, struct lj_result *res, size_t *ret_removed)
{
	return detach_one(rec->id, match_interrupted, (void *)rec, res, ret_removed);
}

static bool match_id(const struct lj_record *rec, void *data)
{
	return strcmp(rec->id, (const char *)data) == 0;
}

int lj_detach_id(const char *id, struct lj_result *res, size_t *ret_removed)
{
	return detach_one(id, match_id, (void *)id, res, ret_removed);
}
