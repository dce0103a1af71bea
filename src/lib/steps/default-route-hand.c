/* SPDX-License-Identifier: MIT */
/*
 * Detaching one of two attachments of a target that set its default route: the recorded
 * routes the detached one would put back are handed down to the later one (its record saved
 * first), so any detach order ends with the target's own routes back (default-route.c).
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

int lj_default_route_hand_down(struct lj_ctx *ctx, struct lj_state *st, struct lj_record *recs,
			       size_t n, size_t i, const bool *undone, FILE *dry,
			       struct lj_result *res)
{
	struct lj_record *rec = &recs[i];

	if (!ctx->target)
		return 0;
	for (size_t a = 0; a < rec->plan.n; a++) {
		const struct lj_step *s = &rec->plan.steps[a];
		json_t *list;
		int oif;

		if (s->type != &lj_step_default_route || s->skip_undo)
			continue;
		oif = lj_ctx_ifindex(ctx, LJ_TARGET, s->link);
		list = lj_defroute_recorded(s);
		if (oif < 0 || !list) {
			json_decref(list);
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			struct lj_record *to = &recs[j];

			if (j == i || (undone && undone[j]) || !same_target(rec, to))
				continue;
			for (size_t b = 0; b < to->plan.n; b++) {
				struct lj_step *t = &to->plan.steps[b];
				json_t *tl, *nl;
				char *text, *old;
				int r;

				if (t->type != &lj_step_default_route ||
				    t->cidr.ip.family != s->cidr.ip.family)
					continue;
				tl = lj_defroute_recorded(t);
				nl = tl ? handed_down(tl, t->link, list, s->link, oif) : NULL;
				text = nl ? json_dumps(nl, JSON_COMPACT) : NULL;
				json_decref(nl);
				if (!dry || !text)
					json_decref(tl);
				if (!text)
					continue;
				old = t->text;
				t->text = text;
				if (dry) {
					describe_hand_down(list, to, dry);
					dry_left_alone(&rec->plan.steps[a], tl, s->link, oif);
					json_decref(tl);
					free(old);
					continue;
				}
				r = lj_state_save(st, to);
				if (r < 0) {
					t->text = old;
					free(text);
					json_decref(list);
					snprintf(ctx->detail, sizeof(ctx->detail),
						 "hand the default routes down to '%s': %s",
						 to->ifname, strerror(-r));
					return r;
				}
				free(old);
			}
		}
		note_lost(ctx, s, list, oif, rec, res);
		json_decref(list);
	}
	return 0;
}
