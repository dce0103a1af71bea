/* SPDX-License-Identifier: MIT */
/*
 * gc: undo the attachments whose namespace is gone or that a crash left half-done, drop the
 * records of host namespaces that are gone, then the uplink adoptions and OVS rows no record
 * explains. The targets are asked about without the state lock (gc_survey).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/attach.h"
#include "lib/core/detach.h"
#include "lib/core/status.h"
#include "lib/core/undo.h"
#include "lib/core/way.h"

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
	/* A detaching one is the detach's while it runs (it holds the lock anyway). */
	if (strcmp(rec->status, "detaching") == 0)
		return lj_record_detach_interrupted(rec);
	return strcmp(rec->status, "attached") != 0;
}

/* What gc learned about a record before taking the lock (gc_survey). */
struct gc_seen {
	struct lj_record rec; /* the record as it was then (its plan freed) */
	struct lj_target t;   /* its target, open if alive and gc was to act on it then */
	bool alive;
	char gone[256]; /* why a step sees the target gone though its namespace lives */
};

static void gc_seen_free(struct gc_seen *seen, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lj_target_close(&seen[i].t);
	free(seen);
}

/* *host: a dump of lanjoin's namespace, made at the first call (*dumped 1 before, then the
 * dump's 0 or -errno). */
static int gc_host_dump(struct lj_status_ns *host, int *dumped)
{
	struct lj_nl *nl = NULL;

	if (*dumped <= 0)
		return *dumped;
	*dumped = lj_nl_open(-1, &nl);
	if (*dumped == 0)
		*dumped = lj_status_ns_dump(nl, -1, host);
	lj_nl_close(nl);
	return *dumped;
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
	struct lj_status_ns host = {0};
	int dumped = 1; /* not yet */
	size_t n = 0;
	int r;

	r = lj_undo_load_records(false, NULL, NULL, &st, &recs, &n, res);
	if (r < 0)
		return r;
	lj_state_close(st); /* the lock goes: what follows may wait for the engine */
	seen = calloc(n ? n : 1, sizeof(*seen));
	if (!seen) {
		lj_records_free(recs, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		seen[i].alive = lj_undo_open_alive(&recs[i], &seen[i].t);
		/* A step may see its target gone in a namespace that lives (a link handed to an
		 * engine that came back): judged against one dump of lanjoin's namespace. */
		if (seen[i].alive && strcmp(recs[i].status, "attached") == 0 &&
		    gc_host_dump(&host, &dumped) == 0 &&
		    lj_status_gone(&host, &recs[i], seen[i].gone, sizeof(seen[i].gone))) {
			lj_target_close(&seen[i].t);
			seen[i].alive = false;
		}
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
	if (dumped == 0)
		lj_status_ns_free(&host);
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
static const char *gc_why(const struct lj_record *rec, const struct gc_seen *g)
{
	if (!g->alive && g->gone[0])
		return g->gone;
	if (!g->alive)
		return "its namespace (or container) is gone";
	if (strcmp(rec->status, "applying") == 0)
		return "an attach was interrupted while applying it";
	if (strcmp(rec->status, "settling") == 0)
		return "the attach that waited for its addresses was killed";
	if (strcmp(rec->status, "detaching") == 0)
		return "a detach was interrupted: finished";
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
			sel[i] = gc_why(&recs[i], g);
		known[i] = g->t; /* borrowed: closed with seen */
	}
	r = lj_undo_bulk(st, recs, sel, n, known, LJ_UNDO_SPEC_AS_MARKED, res, ret_removed);
	free(known);
	free((void *)sel);
	return r;
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
	if (n && !lj_undo_netns_index && (r = lj_netns_index_new(&lj_undo_netns_index)) < 0) {
		lj_records_free(recs, n);
		return lj_fail(res, r, "Failed to look for network namespaces: %s", strerror(-r));
	}
	for (size_t i = 0; i < n; i++) {
		if (lj_netns_exists(lj_undo_netns_index, &recs[i].host_netns,
				    recs[i].host_netns_cookie) ||
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
		lj_result_add_record(res, &recs[i]);
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
	r = lj_undo_load_records(true, NULL, NULL, &st, &recs, &n, res);
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
	u = lj_way_record_gc.gc(st, res, &n_uplinks);
	if (u < 0 && r == 0)
		r = u;
	/*
	 * OVS rows outlive /run/lanjoin (a reboot) and a namespace: remove the ones no record
	 * explains. The dropped records name their databases but claim no port.
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
				 lj_way_record_gc.key, (json_int_t)n_uplinks);
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
	lj_undo_netns_index_drop();
	lj_records_free(recs, n);
	lj_state_close(st);
	if (ret_removed)
		*ret_removed = removed;
	return r;
}
