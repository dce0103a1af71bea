/* SPDX-License-Identifier: MIT */
/*
 * Detaching one of two attachments of a target that set its default route: the recorded
 * routes the detached one would put back are handed down to the later one (its record saved
 * first), so any detach order ends with the target's own routes back (default-route.c). The
 * source rules go along: the later one keeps the detached one's (replies from the engine's
 * interface leave by it while a replacing attachment remains), the detached one takes the later
 * one's rule for its own departing link and removes it in its undo.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kernel/addr.h"
#include "lib/core/attach.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"
#include "lib/core/plan.h"
#include "lib/core/status.h"
#include "lib/core/undo.h"
#include "lib/kernel/route.h"
#include "lib/kernel/rule.h"
#include "lib/steps/default-route.h"
#include "lib/steps/uplink-addr.h"

/* --- handing the recorded routes down on detach (undo.h) --------------------------------- */

/* Do records a and b attach the same namespace? */
static bool same_target(const struct lj_record *a, const struct lj_record *b)
{
	return a->netns.dev == b->netns.dev && a->netns.ino == b->netns.ino &&
	       (!a->netns_cookie || !b->netns_cookie || a->netns_cookie == b->netns_cookie);
}

/*
 * to's recorded routes with each one through link (name, ifindex) replaced by the routes of
 * from (those through to's own link left out, and none twice); NULL if none goes through it.
 */
static json_t *handed_down(const json_t *to, const char *to_link, const json_t *from,
			   const char *link, int ifindex)
{
	json_t *out = json_array(), *e, *f;
	bool changed = false;
	size_t i, k;

	if (!out)
		return NULL;
	json_array_foreach(to, i, e)
	{
		struct lj_route_info rt;
		const char *dev;
		int idx;

		if (lj_defroute_entry_parse(e, &rt, &dev, &idx) < 0 || idx != ifindex ||
		    strcmp(dev, link) != 0) {
			json_array_append(out, e);
			continue;
		}
		changed = true;
		json_array_foreach(from, k, f)
		{
			bool dup = false;
			size_t m;
			json_t *g;

			if (lj_defroute_entry_parse(f, &rt, &dev, &idx) < 0 ||
			    strcmp(dev, to_link) == 0)
				continue;
			json_array_foreach(out, m, g) dup |= json_equal(g, f);
			if (!dup)
				json_array_append(out, f);
		}
	}
	if (!changed) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Say which of s's recorded routes cannot be put back (their link is gone) while the route of
 * their key is still s's own (oif). */
static void note_lost(struct lj_ctx *ctx, const struct lj_step *s, const json_t *list, int oif,
		      const struct lj_record *rec, struct lj_result *res)
{
	struct lj_route_info *cur = NULL;
	size_t n = 0, i;
	json_t *e;

	if (lj_defroute_dump(ctx->target, s->cidr.ip.family, &cur, &n) < 0)
		return;
	json_array_foreach(list, i, e)
	{
		struct lj_route_info rec_rt;
		const char *dev;
		char *p = NULL;
		size_t size = 0, k;
		FILE *f;
		int idx;

		if (lj_defroute_entry_parse(e, &rec_rt, &dev, &idx) < 0 ||
		    lj_defroute_same_link(ctx->target, dev, idx))
			continue;
		for (k = 0; k < n && !lj_defroute_same_key(&rec_rt, &cur[k]); k++)
			;
		if (k < n && cur[k].oif != oif)
			continue; /* someone else's route has the place: nothing lost by us */
		f = open_memstream(&p, &size);
		if (!f)
			continue;
		lj_defroute_print(&rec_rt, dev, f);
		fclose(f);
		lj_result_note(res,
			       "Warning: %s (%s): cannot put back the default route '%s': its link "
			       "'%s' is gone",
			       rec->target_spec, rec->ifname, p ? p : "", dev);
		free(p);
	}
	free(cur);
}

/* --dry-run: say that the routes of list go to to's record. */
static void describe_hand_down(const json_t *list, const struct lj_record *to, FILE *f)
{
	char before[96];

	snprintf(before, sizeof(before),
		 "\n# hands down to %s (its detach puts it back): ", to->ifname);
	lj_defroute_print_each(list, before, "", f);
}

/*
 * --dry-run: drop from s's recorded routes (in memory) those whose place the default route of
 * a later attachment took (it recorded a route of the same key through link, ifindex): s's
 * undo leaves them alone, that attachment's detach puts them back.
 */
static void dry_left_alone(struct lj_step *s, const json_t *later, const char *link, int ifindex)
{
	json_t *list = lj_defroute_recorded(s), *out = json_array(), *e, *f;
	char *text;
	size_t i, k;

	json_array_foreach(list, i, e)
	{
		struct lj_route_info rt, lt;
		const char *dev, *ldev;
		bool taken = false;
		int idx, lidx;

		if (lj_defroute_entry_parse(e, &rt, &dev, &idx) < 0)
			continue;
		json_array_foreach(later, k, f)
		{
			if (lj_defroute_entry_parse(f, &lt, &ldev, &lidx) == 0 && lidx == ifindex &&
			    strcmp(ldev, link) == 0 && lj_defroute_same_key(&rt, &lt))
				taken = true;
		}
		if (!taken)
			json_array_append(out, e);
	}
	text = out ? json_dumps(out, JSON_COMPACT) : NULL;
	if (text) {
		free(s->text);
		s->text = text;
	}
	json_decref(out);
	json_decref(list);
}

/* Is step a source-route step of family (still undone by its record)? */
static bool is_src(const struct lj_step *a, int family)
{
	return a->type == &lj_step_source_route && a->cidr.ip.family == family && !a->skip_undo;
}

/* Append a copy of step a (its text too) to plan p. 0 or -ENOMEM. */
static int plan_add_copy(struct lj_plan *p, const struct lj_step *a)
{
	char *text = a->text ? strdup(a->text) : NULL;
	struct lj_step *c;

	if (a->text && !text)
		return -ENOMEM;
	c = lj_plan_add(p, a->type, a->where, "%s", a->what);
	if (!c) {
		free(text);
		return -ENOMEM;
	}
	*c = *a;
	c->text = text;
	return 0;
}

/* --dry-run: say that source-route step a goes to to's record. */
static void describe_src_hand_down(const struct lj_step *a, const struct lj_record *to, FILE *f)
{
	json_t *o = a->text ? json_loads(a->text, 0, NULL) : NULL, *e;
	size_t i;

	json_array_foreach(json_object_get(o, "from"), i, e)
		fprintf(f, "\n# hands down to %s (its detach removes it): rule from %s lookup %u",
			to->ifname, json_string_value(e), a->u32);
	json_decref(o);
}

/*
 * The source rules (source-route steps, family) of rec when to's default-route step took over
 * the routes rec's default route (through link, ifindex) replaced: to keeps rec's (replies from
 * the engine's addresses must leave by it while to's default route is there) and rec takes
 * to's for rec's own link (which goes with rec: its rule is removed by rec's undo). A step of
 * rec that to holds already (a detach killed after the hand-down) is left to to. In memory
 * alone; the caller saves to. 0 or -ENOMEM (then recs may be half changed: restore them).
 */
static int hand_down_sources(struct lj_record *rec, struct lj_record *to, int family,
			     const char *link, int ifindex, FILE *dry)
{
	size_t mine = SIZE_MAX;
	int r;

	for (size_t b = 0; b < to->plan.n; b++) {
		const struct lj_step *t = &to->plan.steps[b];
		if (mine == SIZE_MAX && is_src(t, family) && t->i64 == ifindex &&
		    strcmp(t->link, link) == 0)
			mine = b;
	}
	for (size_t a = 0; a < rec->plan.n; a++) {
		struct lj_step *s = &rec->plan.steps[a];
		bool held = false;

		if (!is_src(s, family) || (s->i64 == ifindex && strcmp(s->link, link) == 0))
			continue;
		for (size_t b = 0; b < to->plan.n; b++) {
			const struct lj_step *t = &to->plan.steps[b];
			held |= is_src(t, family) && t->u32 == s->u32 && t->i64 == s->i64 &&
				strcmp(t->link, s->link) == 0;
		}
		if (held) {
			s->skip_undo = true;
			continue;
		}
		if (dry)
			describe_src_hand_down(s, to, dry);
		if (mine != SIZE_MAX) {
			/* exchanged: to's rule for rec's link goes with rec */
			struct lj_step tmp = *s;
			*s = to->plan.steps[mine];
			to->plan.steps[mine] = tmp;
			mine = SIZE_MAX;
			continue;
		}
		r = plan_add_copy(&to->plan, s);
		if (r < 0)
			return r;
		rec->plan.steps[a].skip_undo = true;
	}
	if (mine != SIZE_MAX) {
		/* rec had none to give: to's rule for rec's link goes with rec all the same */
		struct lj_step *t = &to->plan.steps[mine];
		r = plan_add_copy(&rec->plan, t);
		if (r < 0)
			return r;
		t = &to->plan.steps[mine];
		free(t->text);
		memmove(t, t + 1, (to->plan.n - mine - 1) * sizeof(*t));
		to->plan.n--;
	}
	return 0;
}

/* Put plan p back as j (lj_plan_to_json of it before a change). */
static void plan_restore(struct lj_plan *p, const json_t *j)
{
	struct lj_plan back = {0};

	if (j && lj_plan_from_json(j, &back) == 0) {
		lj_plan_free(p);
		*p = back;
	}
}

int lj_default_route_hand_down(struct lj_ctx *ctx, struct lj_state *st, struct lj_record *recs,
			       size_t n, size_t i, const bool *undone, FILE *dry,
			       struct lj_result *res)
{
	struct lj_record *rec = &recs[i];

	if (!ctx->target)
		return 0;
	for (size_t a = 0; a < rec->plan.n; a++) {
		const struct lj_step *s = &rec->plan.steps[a];
		char link[sizeof(s->link)];
		int oif, family;
		json_t *list;

		if (s->type != &lj_step_default_route || s->skip_undo)
			continue;
		oif = lj_ctx_ifindex(ctx, LJ_TARGET, s->link);
		list = lj_defroute_recorded(s);
		if (oif < 0 || !list) {
			json_decref(list);
			continue;
		}
		memcpy(link, s->link, sizeof(link));
		family = s->cidr.ip.family;
		for (size_t j = 0; j < n; j++) {
			struct lj_record *to = &recs[j];
			json_t *to_before = NULL, *rec_before = NULL;
			bool handed = false;
			int r = 0;

			if (j == i || (undone && undone[j]) || !same_target(rec, to))
				continue;
			for (size_t b = 0; b < to->plan.n; b++) {
				struct lj_step *t = &to->plan.steps[b];
				json_t *tl, *nl;
				char *text;

				if (t->type != &lj_step_default_route ||
				    t->cidr.ip.family != family)
					continue;
				tl = lj_defroute_recorded(t);
				nl = tl ? handed_down(tl, t->link, list, link, oif) : NULL;
				text = nl ? json_dumps(nl, JSON_COMPACT) : NULL;
				json_decref(nl);
				if (!text) {
					json_decref(tl);
					continue;
				}
				if (!dry && !to_before) {
					to_before = lj_plan_to_json(&to->plan);
					rec_before = lj_plan_to_json(&rec->plan);
				}
				free(t->text);
				t->text = text;
				handed = true;
				if (dry) {
					describe_hand_down(list, to, dry);
					dry_left_alone(&rec->plan.steps[a], tl, link, oif);
				}
				json_decref(tl);
			}
			if (!handed)
				continue;
			/* the source rules go with the routes (steps may have moved: s is stale) */
			r = hand_down_sources(rec, to, family, link, oif, dry);
			if (r == 0 && !dry)
				r = lj_state_save(st, to);
			if (r < 0 && !dry) {
				plan_restore(&to->plan, to_before);
				plan_restore(&rec->plan, rec_before);
			}
			json_decref(to_before);
			json_decref(rec_before);
			if (r < 0) {
				json_decref(list);
				snprintf(ctx->detail, sizeof(ctx->detail),
					 "hand the default routes down to '%s': %s", to->ifname,
					 strerror(-r));
				return r;
			}
		}
		note_lost(ctx, &rec->plan.steps[a], list, oif, rec, res);
		json_decref(list);
	}
	return 0;
}
