/* SPDX-License-Identifier: MIT */
/* lanjoin reconcile [TARGET] [--json]: bring each attachment back to its spec. */
#include "cli/reconcile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/spec.h"
#include "lib/core/state.h"
#include "lib/ways/uplink.h"
#include "lib/core/status.h"
#include "shared/macro.h"

#define LJ_SCHEMA_RECONCILE "lanjoin/reconcile/v1"

static const char usage[] =
	"Usage: lanjoin reconcile [TARGET] [--json] [--engine-socket PATH]\n"
	"Bring each attachment (of TARGET, or all) back to its spec: ok, nothing; drifted,\n"
	"repaired (what is left is undone, then attached again from the spec); target-restarted\n"
	"(same container, new namespace), attached again with the same MAC and addresses;\n"
	"target-gone, the host side is dropped (a persistent spec is kept). A persistent spec\n"
	"whose container runs without an attachment (after a reboot) is attached; a container\n"
	"renamed since is followed (rename: its record and spec take the new name). A repair\n"
	"whose attach fails (its own steps rolled back) keeps the record, drifted, with the\n"
	"reason. Runs at once repair one at a time (\"already repaired\" if another did).\n"
	"Drifted only because its uplink, parent or bridge is down: left alone (wait).\n"
	"Settling (its attach still runs, a live process): left alone (leave).\n"
	"CNI attachments are only checked. An uplink adoption's accept rules a firewall\n"
	"reload dropped are put back; the rest of an adoption is only reported.\n"
	"One line per action. Exit status 0 all ok\n"
	"or repaired, 1 otherwise (also for a TARGET with no attachment and no persistent spec).\n";

struct run {
	FILE *log;
	json_t *actions;
	bool failed;
	bool retry; /* an attach failed for a reason that may pass (not bad input) */
};

/*
 * One action: a log line "TARGET IFNAME: ACTION: WHAT" and a JSON entry. The line names the
 * target as shown (status's TARGET column: "host" for an uplink adoption), the JSON entry as
 * recorded (status --json's "target").
 */
static void act_v(struct run *run, const char *target, const char *shown, const char *ifname,
		  const char *status, const char *action, bool ok, const char *fmt, va_list ap)
	__attribute__((format(printf, 8, 0)));

static void act_v(struct run *run, const char *target, const char *shown, const char *ifname,
		  const char *status, const char *action, bool ok, const char *fmt, va_list ap)
{
	char what[1200];

	vsnprintf(what, sizeof(what), fmt, ap);
	if (!ok)
		run->failed = true;
	if (run->log) {
		fprintf(run->log, "%s %s: %s%s%s\n", shown, ifname, action, what[0] ? ": " : "",
			what);
		fflush(run->log);
	}
	json_array_append_new(run->actions, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "target",
						      target, "ifname", ifname, "status", status,
						      "action", action, "ok", ok, "what", what));
}

static void act(struct run *run, const char *target, const char *ifname, const char *status,
		const char *action, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void act(struct run *run, const char *target, const char *ifname, const char *status,
		const char *action, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	act_v(run, target, target, ifname, status, action, ok, fmt, ap);
	va_end(ap);
}

/* act for an uplink adoption: the host's, shown as "host" (its record's target is the path
 * of the namespace it was made in). */
static void act_host(struct run *run, const struct lj_record *rec, const char *status,
		     const char *action, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void act_host(struct run *run, const struct lj_record *rec, const char *status,
		     const char *action, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	act_v(run, rec->target_spec, "host", rec->ifname, status, action, ok, fmt, ap);
	va_end(ap);
}

/* Undo what is left of rec (missing objects are no error) and forget it. */
static int drop_record(const struct lj_record *rec, char *why, size_t size)
{
	struct lj_result res;
	int r;

	r = lj_detach_id(rec->id, &res, NULL);
	if (r < 0)
		snprintf(why, size, "%s", res.message[0] ? res.message : strerror(-r));
	lj_result_done(&res);
	return r;
}

/*
 * Put rec back as it was recorded (a repair whose attach failed), with why in its info's
 * "repair_failed" (status shows it).
 */
static void keep_record(const struct lj_record *rec, const char *why)
{
	struct lj_state *st = NULL;

	json_object_set_new(rec->info, "repair_failed", json_string(why));
	if (lj_state_open(true, &st) == 0)
		lj_state_save(st, rec);
	lj_state_close(st);
}

/* watch's session (cli_reconcile_use_session), or NULL. */
static struct lj_session *session;

void cli_reconcile_use_session(struct lj_session *s)
{
	session = s;
}

/* watch's rule (cli_reconcile_end_with_target): a non-persistent attachment whose target
 * restarted is dropped, not attached again */
static bool end_with_target;

void cli_reconcile_end_with_target(bool on)
{
	end_with_target = on;
}

/*
 * Attach from spec; mac (may be NULL) unless the spec names one; to_engine: the nat way's
 * forward to the container's address on its engine networks (as --to docker: a container
 * that has none now fails, rather than getting a private link instead), on network (may be
 * NULL: its only one) unless the spec names one. 0, or -errno with why. Errors of the spec
 * itself are printed by cli_spec_to_opts.
 */
static int attach_spec(json_t *spec, const char *what, const char *mac, bool to_engine,
		       const char *network, const struct lj_target *resolved, char *why,
		       size_t size)
{
	struct lj_attach_opts o;
	struct cli_attach_flags f;
	struct lj_result res;
	json_t *canon = NULL, *asked = NULL;
	int r;

	if (json_object_get(spec, "container-id")) {
		/* the stored file's note of which container it follows: not what is asked */
		asked = json_deep_copy(spec);
		if (!asked) {
			snprintf(why, size, "%s", strerror(ENOMEM));
			return -ENOMEM;
		}
		json_object_del(asked, "container-id");
		spec = asked;
	}
	if (cli_spec_to_opts(spec, what, &o, &f, &canon) < 0) {
		snprintf(why, size, "its spec is not valid (see above)");
		json_decref(asked);
		return -EINVAL;
	}
	if (cli_attach_idle_option(&o)) {
		/* an older lanjoin took it: the spec still attaches, the option ignored */
		lj_err("warning: %s: %s: ignored", what, cli_attach_idle_option(&o));
		o.mtu = 0;
	}
	/* the same MAC as before: neighbours' caches stay right (also over the one a persistent
	 * spec derives from its target's name: a container renamed since keeps its MAC) */
	if (mac && !json_object_get(spec, "mac") && lj_parse_mac(mac, o.mac) == 0)
		o.has_mac = true;
	if (to_engine && o.to.family == AF_UNSPEC && o.private_net.ip.family == AF_UNSPEC) {
		o.to_engine = true;
		if (!o.to_network)
			o.to_network = network; /* where it was taken from, not a network since */
	}
	o.spec = spec;
	o.session = session;
	o.resolved = resolved;
	r = lj_attach(&o, &res);
	if (r < 0)
		snprintf(why, size, "%s", res.message[0] ? res.message : strerror(-r));
	lj_result_done(&res);
	json_decref(canon);
	json_decref(asked);
	return r;
}

/* The stored spec of target as ifname in specs ({"file", "spec"} items), or NULL. */
static json_t *stored_spec(json_t *specs, const char *target, const char *ifname)
{
	size_t i;
	json_t *e;

	json_array_foreach(specs, i, e)
	{
		json_t *s = json_object_get(e, "spec");
		const char *t = json_string_value(json_object_get(s, "target"));
		const char *n = json_string_value(json_object_get(s, "ifname"));
		if (t && strcmp(t, target) == 0 && strcmp(n ? n : LJ_DEFAULT_IFNAME, ifname) == 0)
			return e;
	}
	return NULL;
}

/* Repair (undo, attach from the spec) one attachment; on failure keep its record. */
/*
 * e's drift as status says it, without the "its repair failed: ..." of an earlier repair
 * (status.c's text of the record's "repair_failed"): into buf. True if that was there.
 */
static bool drift_without_failed_repair(const struct lj_status_entry *e, char *buf, size_t size)
{
	const char *why = json_string_value(json_object_get(e->rec.info, "repair_failed"));
	char failed[400];
	const char *p;
	size_t n;

	snprintf(buf, size, "%s", e->what);
	if (!why)
		return false;
	snprintf(failed, sizeof(failed), "its repair failed: %s", why);
	n = strlen(failed);
	for (p = buf; (p = strstr(p, failed)); p += n)
		if ((p == buf || (p >= buf + 2 && p[-2] == ';' && p[-1] == ' ')) &&
		    (p[n] == '\0' || p[n] == ';'))
			break;
	if (!p)
		return true;
	/* drop it with one "; " beside it */
	size_t at = (size_t)(p - buf), len = n;

	if (p[n] == ';')
		len += 2;
	else if (at >= 2)
		at -= 2, len += 2;
	memmove(buf + at, buf + at + len, strlen(buf + at + len) + 1);
	return true;
}

static void repair(struct run *run, const struct lj_status_entry *e, json_t *spec,
		   const char *action)
{
	const struct lj_record *rec = &e->rec;
	const char *mac = json_string_value(json_object_get(rec->info, "mac"));
	const char *status = lj_status_kind_str(e->kind);
	char why[1024] = "";
	int r;

	if (drop_record(rec, why, sizeof(why)) < 0) {
		act(run, rec->target_spec, rec->ifname, status, action, false,
		    "failed to undo what is left: %s", why);
		return;
	}
	/* a nat attachment forwarding to its container's address: to its address now (the old
	 * one may be another container's), or to none */
	r = attach_spec(spec, rec->target_spec, mac,
			json_object_get(rec->info, "to") && rec->container_id[0],
			json_string_value(json_object_get(rec->info, "to_network")), NULL, why,
			sizeof(why));
	if (r == -ECANCELED) {
		/* detached while the attach waited (DAD, a lease): the user's word stands, the
		 * old record is not put back */
		act(run, rec->target_spec, rec->ifname, status, action, true,
		    "detached meanwhile: %s", why);
		return;
	}
	if (r < 0) {
		/* e.g. the MAC still taken by the old macvlan in a namespace the kernel has not
		 * freed yet (out of lanjoin's reach): a later try may succeed */
		run->retry |= r != -EINVAL;
		keep_record(rec, why);
		act(run, rec->target_spec, rec->ifname, "drifted", action, false,
		    "failed (the attach rolled back; still drifted): %s", why);
		return;
	}
	{
		char what[sizeof(e->what)];
		bool earlier = drift_without_failed_repair(e, what, sizeof(what));

		act(run, rec->target_spec, rec->ifname, status, action, true, "%s%s",
		    what[0] ? what : "attached again from its spec",
		    earlier ? " (an earlier repair had failed; this one succeeded)" : "");
	}
}

/*
 * Take <state dir>/reconcile.lock (flock, exclusive, waiting): one repair at a time, so that
 * concurrent reconciles (or watch) do not each tear down and attach again. An fd, or -errno.
 */
static int repair_lock(void)
{
	_cleanup_close_ int dir = -1;
	int fd, r;

	r = lj_state_open_dir(lj_state_dir(), &dir);
	if (r < 0)
		return r;
	fd = openat(dir, "reconcile.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return lj_negerrno();
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			r = lj_negerrno();
			close(fd);
			return r;
		}
	return fd;
}

/*
 * Under the repair lock: the status of rec's attachment now (another run may have repaired
 * it while this one waited: its record then has the new namespace's id). The entry of rec's
 * target and ifname into *ret (freed with lj_status_free(*ret, 1)); 1 found, 0 no longer
 * recorded, -errno.
 */
static int recheck(const struct lj_record *rec, struct lj_status_entry **ret)
{
	struct lj_status_entry *e = NULL;
	struct lj_result res;
	size_t n = 0;
	int r, found = 0;

	r = lj_status(rec->target_spec, &e, &n, &res);
	lj_result_done(&res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (found || strcmp(e[i].rec.ifname, rec->ifname) != 0)
			continue;
		*ret = calloc(1, sizeof(**ret));
		if (!*ret) {
			found = -ENOMEM;
			break;
		}
		**ret = e[i];
		memset(&e[i], 0, sizeof(e[i])); /* moved */
		found = 1;
	}
	lj_status_free(e, n);
	return found;
}

/* Repair e under the repair lock, unless another run already did (its status now ok). */
static void repair_locked(struct run *run, const struct lj_status_entry *e, json_t *spec,
			  const char *action)
{
	const struct lj_record *rec = &e->rec;
	struct lj_status_entry *now = NULL;
	int lock = repair_lock(), r;

	r = lock < 0 ? -EAGAIN : recheck(rec, &now);
	if (r == 0)
		act(run, rec->target_spec, rec->ifname, lj_status_kind_str(e->kind), action, true,
		    "no longer recorded (detached meanwhile)");
	else if (r > 0 && now->kind == LJ_STATUS_OK)
		act(run, rec->target_spec, rec->ifname, lj_status_kind_str(e->kind), action, true,
		    "already repaired (by another run)");
	else if (r > 0 && now->kind == LJ_STATUS_SETTLING)
		act(run, rec->target_spec, rec->ifname, lj_status_kind_str(e->kind), action, true,
		    "attached again meanwhile (its attach still runs): left alone");
	else if (r > 0)
		repair(run, now, now->rec.spec ? now->rec.spec : spec, action);
	else
		repair(run, e, spec, action);
	if (now)
		lj_status_free(now, 1);
	if (lock >= 0)
		close(lock);
}

/* Does target name the container with full ID id by an ID prefix (not by its name)? */
static bool by_id(const char *target, const char *id)
{
	size_t n = strlen(target);

	return n <= strlen(id) && strncmp(id, target, n) == 0;
}

/*
 * The container of e was renamed since it was attached (its engine names it e->container_name
 * now, not as its record does): its record and stored spec follow it, so that list, status
 * and a restart of it name it as it is named now. Only a container attached by its name (by
 * an ID prefix it stays so); CNI's and the Docker driver's records are their runtime's.
 */
static void follow_rename(struct run *run, struct lj_status_entry *e, json_t *specs)
{
	struct lj_record *rec = &e->rec, now;
	const char *to = e->container_name;
	struct lj_state *st = NULL;
	json_t *stored;
	char old[LJ_TARGET_SPEC_MAX];
	int lock, r;

	if (rec->target_kind != LJ_TARGET_CONTAINER || !rec->container_id[0] || !to[0] ||
	    strcmp(rec->target_name, to) == 0 || strcmp(rec->target_spec, rec->target_name) != 0 ||
	    json_object_get(rec->info, "cni") || json_object_get(rec->info, "docker") ||
	    strcmp(rec->status, "attached") != 0)
		return;
	snprintf(old, sizeof(old), "%s", rec->target_spec);
	stored = stored_spec(specs, old, rec->ifname);
	lock = repair_lock();
	if (lock < 0)
		return;
	/* the spec first: a record without its spec would read as not persistent */
	r = stored ? cli_spec_retarget(old, rec->ifname, to, rec->container_id) : 0;
	if (r == -ENOENT)
		r = 0; /* an earlier run renamed it, or it was removed meanwhile */
	if (r < 0) {
		act(run, old, rec->ifname, lj_status_kind_str(e->kind), "rename", false,
		    "its container is now named %s; its spec could not follow: %s", to,
		    r == -EEXIST ? "another spec is stored under that name" : strerror(-r));
		close(lock);
		return;
	}
	r = lj_state_open(true, &st);
	if (r == 0)
		r = lj_state_load(st, rec->id, &now);
	if (r == 0) {
		/* still the record read (not detached and attached again meanwhile) */
		if (strcmp(now.container_id, rec->container_id) == 0 &&
		    strcmp(now.target_spec, old) == 0) {
			snprintf(now.target_spec, sizeof(now.target_spec), "%s", to);
			snprintf(now.target_name, sizeof(now.target_name), "%s", to);
			if (json_is_object(now.spec))
				json_object_set_new(now.spec, "target", json_string(to));
			r = lj_state_save(st, &now);
		}
		lj_record_free(&now);
	}
	lj_state_close(st);
	close(lock);
	if (r < 0) {
		act(run, old, rec->ifname, lj_status_kind_str(e->kind), "rename", false,
		    "its container is now named %s; its record could not follow: %s", to,
		    strerror(-r));
		return;
	}
	snprintf(rec->target_spec, sizeof(rec->target_spec), "%s", to);
	snprintf(rec->target_name, sizeof(rec->target_name), "%s", to);
	if (json_is_object(rec->spec))
		json_object_set_new(rec->spec, "target", json_string(to));
	if (stored) {
		json_object_set_new(json_object_get(stored, "spec"), "target", json_string(to));
		json_object_set_new(json_object_get(stored, "spec"), "container-id",
				    json_string(rec->container_id));
	}
	act(run, old, rec->ifname, lj_status_kind_str(e->kind), "rename", true,
	    "its container is now named %s: its record%s follow%s", to,
	    stored ? " and persistent spec" : "", stored ? "" : "s");
}

static void one(struct run *run, struct lj_status_entry *e, json_t *specs)
{
	const struct lj_record *rec = &e->rec;
	const char *status = lj_status_kind_str(e->kind);
	json_t *stored;

	follow_rename(run, e, specs);
	stored = stored_spec(specs, rec->target_spec, rec->ifname);
	json_t *spec = rec->spec ? rec->spec : json_object_get(stored, "spec");
	bool cni = json_object_get(rec->info, "cni") != NULL;
	bool plugin = json_object_get(rec->info, "docker") != NULL;
	char why[1024] = "";

	if (stored)
		json_object_set_new(stored, "seen", json_true());
	if (e->kind == LJ_STATUS_OK)
		return;
	if (e->kind == LJ_STATUS_SETTLING) {
		/* its attach still runs (a live process: PID and start time): what it made is
		 * its own to finish or roll back; a repair would tear down its link under it */
		act(run, rec->target_spec, rec->ifname, status, "leave", true, "%s", e->what);
		return;
	}
	if (strcmp(rec->status, "detaching") == 0) {
		/* A detach was killed part-way (or its undo failed): what is left is no drift
		 * to repair but the rest of the detach the user asked for. One still at work
		 * (it holds the lock) is left to itself. */
		struct lj_result res;
		size_t removed = 0;
		int r;

		if (!lj_record_detach_interrupted(rec))
			return;
		r = lj_detach_finish(rec, &res, &removed);
		if (r < 0)
			act(run, rec->target_spec, rec->ifname, status, "detach", false,
			    "finishing an interrupted detach failed: %s",
			    res.message[0] ? res.message : strerror(-r));
		else if (removed)
			act(run, rec->target_spec, rec->ifname, status, "detach", true,
			    "finished an interrupted detach");
		lj_result_done(&res);
		return;
	}
	if (strcmp(rec->status, "attached") != 0) {
		/* An attach killed part-way (one at work holds the lock; a live one waiting for
		 * its addresses is settling, above): its user saw it fail. What it made is gc's
		 * to undo, not a drift to repair: a repair would finish it. */
		act(run, rec->target_spec, rec->ifname, status, "leave", false,
		    "an attach did not finish (status %s): not repaired, 'lanjoin gc' undoes it",
		    rec->status);
		return;
	}
	if (plugin) {
		/*
		 * The Docker driver's endpoints are Docker's: it makes them, moves them into the
		 * sandbox and removes them, and the driver undoes what a dead sandbox left when it
		 * starts. A Join in progress reads as gone or drifted here (the link is not in the
		 * sandbox yet): touching it would break the container's start.
		 */
		act(run, rec->target_spec, rec->ifname, status, "report", false,
		    "%s; a Docker network endpoint: Docker and lanjoin's driver own it",
		    e->what[0] ? e->what : status);
		return;
	}
	switch (e->kind) {
	case LJ_STATUS_OK:
	case LJ_STATUS_SETTLING:
		return;
	case LJ_STATUS_TARGET_GONE:
		if (drop_record(rec, why, sizeof(why)) < 0) {
			act(run, rec->target_spec, rec->ifname, status, "drop", false, "%s", why);
			return;
		}
		act(run, rec->target_spec, rec->ifname, status, "drop", true, "host side removed%s",
		    stored ? "; its persistent spec is kept" : "");
		/* the spec is again one without an attachment: if its TARGET runs now (a
		 * container removed and made again under its name), this run attaches it */
		if (stored)
			json_object_del(stored, "seen");
		return;
	case LJ_STATUS_DRIFTED:
	case LJ_STATUS_TARGET_RESTARTED:
		break;
	}
	if (e->waits_for_link) {
		/* a repair would remake it on a link that is down, and fail: its uplink, parent
		 * or bridge is not lanjoin's to bring up; reconciled again once it is up */
		act(run, rec->target_spec, rec->ifname, status, "wait", false,
		    "%s; not repaired while it is down", e->what);
		return;
	}
	if (cni) {
		act(run, rec->target_spec, rec->ifname, status, "report", false,
		    "%s; a CNI attachment: its runtime owns it, not attached again",
		    e->what[0] ? e->what : status);
		return;
	}
	if (e->kind == LJ_STATUS_TARGET_RESTARTED && end_with_target && !stored) {
		/* watch saw its target stop (die, or its namespace deleted): whether the engine
		 * started it again before this run looked (docker restart) or not (docker stop),
		 * a non-persistent attachment ended with it; --persist is what brings it back */
		if (drop_record(rec, why, sizeof(why)) < 0)
			act(run, rec->target_spec, rec->ifname, status, "drop", false, "%s", why);
		else
			act(run, rec->target_spec, rec->ifname, status, "drop", true,
			    "host side removed: its target restarted and it is not persistent "
			    "(--persist keeps an attachment across restarts)");
		return;
	}
	if (!spec || !json_object_get(spec, "target")) {
		act(run, rec->target_spec, rec->ifname, status, "report", false,
		    "%s; no spec to repair it from (attached by an older lanjoin or by PID): "
		    "detach and attach it again",
		    e->what[0] ? e->what : status);
		return;
	}
	repair_locked(run, e, spec, e->kind == LJ_STATUS_TARGET_RESTARTED ? "reattach" : "repair");
}

/* Does the stored spec s concern target (NULL: all)? */
static bool spec_for(const json_t *s, const char *target)
{
	const char *t = json_string_value(json_object_get(s, "target"));

	return !target || (t && strcmp(t, target) == 0);
}

/* Persistent specs without an attachment: attach those whose target runs. */
static void unattached(struct run *run, json_t *specs, const char *target)
{
	size_t i;
	json_t *e;

	json_array_foreach(specs, i, e)
	{
		json_t *s = json_object_get(e, "spec");
		const char *t = json_string_value(json_object_get(s, "target"));
		const char *n = json_string_value(json_object_get(s, "ifname"));
		struct lj_target tg;
		char why[1024] = "";

		if (json_object_get(e, "seen") || !t || !spec_for(s, target))
			continue;
		if (!n)
			n = LJ_DEFAULT_IFNAME;
		/* attached from another network namespace: attaching it here would be twice */
		if (cli_attached_elsewhere(t, n, why, sizeof(why))) {
			act(run, t, n, "elsewhere", "leave", false,
			    "attached from network namespace %s, not this one: run 'lanjoin "
			    "reconcile' there",
			    why);
			continue;
		}
		/* its container by the ID it was attached to, else by its name */
		if (lj_target_parse(t, &tg) < 0)
			continue;
		int r = cli_spec_open_target(s, &tg);
		if ((r == 0 || r == -ESRCH) && tg.kind == LJ_TARGET_CONTAINER &&
		    tg.container_id[0] && strcmp(tg.name, t) != 0 && !by_id(t, tg.container_id)) {
			/* renamed since: its spec follows it (a container that took its old name
			 * is not it) */
			int k = cli_spec_retarget(t, n, tg.name, tg.container_id);

			act(run, t, n, r == 0 ? "missing" : "waiting", "rename", k == 0,
			    "its container is now named %s%s%s", tg.name,
			    k == 0	   ? ": its persistent spec follows"
			    : k == -EEXIST ? "; its spec could not follow: another spec is stored "
					     "under that name"
					   : "; its spec could not follow: ",
			    k == 0 || k == -EEXIST ? "" : strerror(-k));
			if (k < 0) {
				lj_target_close(&tg);
				continue;
			}
			json_object_set_new(s, "target", json_string(tg.name));
			snprintf(tg.spec, sizeof(tg.spec), "%s", tg.name);
			t = json_string_value(json_object_get(s, "target"));
		}
		if (r == -ESRCH || r == -ENOENT)
			continue; /* not running: it is attached when it is */
		if (r < 0) {
			/* the engine cannot say (busy, restarting): tried again later */
			run->retry = true;
			act(run, t, n, "missing", "attach", false, "cannot look at its target: %s",
			    tg.error[0] ? tg.error : strerror(-r));
			continue;
		}
		r = attach_spec(s, json_string_value(json_object_get(e, "file")), NULL, false, NULL,
				tg.kind == LJ_TARGET_CONTAINER ? &tg : NULL, why, sizeof(why));
		if (r < 0) {
			run->retry |= r != -EINVAL; /* as in repair */
			act(run, t, n, "missing", "attach", false, "failed: %s", why);
		} else {
			const char *id = json_string_value(json_object_get(s, "container-id"));

			act(run, t, n, "missing", "attach", true, "from its persistent spec");
			/* a container made again under its name (or an older spec without an
			 * ID): the spec follows this one from now on */
			if (tg.container_id[0] && (!id || strcmp(id, tg.container_id) != 0))
				(void)cli_spec_retarget(t, n, t, tg.container_id);
		}
		lj_target_close(&tg);
	}
}

/* Is every drift status found ('; '-separated) a missing accept rule, which
 * lj_uplink_repair_fw puts back? */
static bool only_fw_drift(const char *what)
{
	for (const char *p = what; *p;) {
		const char *end = strstr(p, "; ");
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char part[512];

		snprintf(part, sizeof(part), "%.*s", (int)n, p);
		if (!strstr(part, "accept rule for bridge"))
			return false;
		p += n + (end ? 2 : 0);
	}
	return what[0] != '\0';
}

/*
 * An uplink adoption that drifted: what a firewall reload dropped (its accept rules) is put
 * back; the rest (the host's own addresses and routes on the bridge) is only reported.
 */
static void adoption(struct run *run, const struct lj_status_entry *e)
{
	const struct lj_record *rec = &e->rec;
	const char *status = lj_status_kind_str(e->kind);
	struct lj_result res;
	int r;

	if (e->kind == LJ_STATUS_OK)
		return;
	r = lj_uplink_repair_fw(rec->id, &res);
	if (r < 0)
		act_host(run, rec, status, "repair", false, "%s", res.message);
	else if (r > 0 && only_fw_drift(e->what))
		act_host(run, rec, status, "repair", true, "%s; put back", e->what);
	else
		act_host(run, rec, status, "report", false, "%s; an uplink adoption: %s",
			 e->what[0] ? e->what : status,
			 r > 0 ? "its accept rules were put back, the rest is the host's own "
				 "network (see 'lanjoin uplink')"
			       : "the host's own network, not repaired (see 'lanjoin uplink')");
	lj_result_done(&res);
}

int cli_reconcile(const char *target, bool json, FILE *log)
{
	struct lj_status_entry *e = NULL;
	struct run run = {.log = log};
	struct lj_result res;
	json_t *specs = NULL, *unreadable = NULL, *u = NULL;
	size_t n = 0;
	int r;

	r = cli_spec_list(&specs);
	if (r < 0) {
		lj_err("Failed to read the spec directory %s: %s", cli_spec_dir(),
		       cli_spec_strerror(r));
		return r;
	}
	r = lj_status(target, &e, &n, &res);
	if (r < 0) {
		lj_report_failure(&res, r);
		lj_result_done(&res);
		json_decref(specs);
		return r;
	}
	/* a record that cannot be read cannot be reconciled: it stays as it is, not ok */
	if (lj_json_unreadable("attachments", res.bad_records, false, json ? &unreadable : NULL))
		run.failed = true;
	if (lj_json_unreadable("uplinks", res.bad_uplinks, false, json ? &u : NULL))
		run.failed = true;
	json_array_extend(unreadable, u);
	json_decref(u);
	lj_result_done(&res);
	run.actions = json_array();
	for (size_t i = 0; i < n; i++)
		if (e[i].adoption)
			adoption(&run, &e[i]);
		else
			one(&run, &e[i], specs);
	unattached(&run, specs, target);
	lj_status_free(e, n);
	json_decref(specs);
	if (json)
		lj_print_json(json_pack("{s:s, s:b, s:o, s:o}", "schema", LJ_SCHEMA_RECONCILE, "ok",
					!run.failed, "actions", run.actions, "unreadable",
					unreadable ? unreadable : json_array()));
	else
		json_decref(run.actions);
	return run.failed ? (run.retry ? 2 : 1) : 0;
}

/*
 * Does target name something to reconcile: an attachment, or a persistent spec? A misspelt
 * TARGET must not read as "all ok" (status says the same). Errors: true (the run says).
 */
static bool known_now(const char *target)
{
	struct lj_status_entry *e = NULL;
	struct lj_result res;
	json_t *specs = NULL, *x;
	size_t n = 0, i;
	bool known;

	if (lj_status(target, &e, &n, &res) < 0) {
		lj_result_done(&res);
		return true;
	}
	lj_result_done(&res);
	lj_status_free(e, n);
	known = n > 0;
	if (!known && cli_spec_list(&specs) == 0)
		json_array_foreach(specs, i, x) known |=
			spec_for(json_object_get(x, "spec"), target);
	json_decref(specs);
	return known;
}

static bool known_target(const char *target)
{
	int lock;
	bool known;

	if (known_now(target))
		return true;
	/* Another run may be repairing it, between the old record and the new: look again once
	 * it is done. */
	lock = repair_lock();
	known = known_now(target);
	if (lock >= 0)
		close(lock);
	return known;
}

int lj_cmd_reconcile(int argc, char **argv)
{
	const char *target = NULL;
	bool json = false;
	int r;

	r = lj_cli_target_args(argc, argv, usage, &target, &json);
	if (r >= 0)
		return r;
	if (target && !known_target(target)) {
		lj_err("no attachment of %s ('lanjoin list' shows what is attached)", target);
		return LJ_EXIT_FAILED;
	}
	r = cli_reconcile(target, json, json ? stderr : stdout);
	if (r < 0)
		return LJ_EXIT_FAILED;
	return r ? LJ_EXIT_FAILED : LJ_EXIT_OK;
}
