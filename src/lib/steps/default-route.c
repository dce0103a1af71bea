/* SPDX-License-Identifier: MIT */
/*
 * A container that already has a network (Docker's or Podman's default bridge): its default
 * route, and replies from its engine-side address.
 *
 * default-route: the one step type that sets a default route in the target (bridge, ovs,
 * macvlan, nat; static --gateway, or a DHCP lease's router). It records every default route of
 * its family in the main table as it finds it, with all its attributes, replaces the one with
 * the same key (atomically, NLM_F_REPLACE, like `ip route replace`), deletes the others, and
 * its undo puts back exactly what it recorded. Two attachments of one target: the second
 * records the first's route; detaching the first hands its recorded routes down to the second
 * (lj_default_route_hand_down, before the first's undo), so any detach order ends with the
 * target's own routes back; one that cannot be put back (its link gone) is named in a note.
 *
 * source-route: replies to connections that came in through the engine's interface (published
 * ports: the engine DNATs to the container's engine-side address) leave through it, whatever
 * the main table says: `ip rule add from ADDR lookup TABLE priority 32700` with TABLE holding a
 * copy of the main table's routes through that interface (its default route and its subnet).
 * TABLE is the first of 0x6c6a0000 ("lj") upwards that has no route and no rule in the target,
 * checked again when applied; both are removed exactly on undo.
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
#include "shared/shquote.h"

/* --- helpers ----------------------------------------------------------------------------- */

static uint32_t prio_of(const struct lj_route_info *r)
{
	return r->has_priority ? r->priority : 0;
}

/* The kernel's key of a route in a table: same key = NLM_F_REPLACE replaces it. */
bool lj_defroute_same_key(const struct lj_route_info *a, const struct lj_route_info *b)
{
	return a->table == b->table && a->dst_len == b->dst_len && a->tos == b->tos &&
	       prio_of(a) == prio_of(b) && (!a->dst_len || lj_ip_equal(&a->dst, &b->dst));
}

/* The main table's default routes of family in nl's namespace. */
int lj_defroute_dump(struct lj_nl *nl, int family, struct lj_route_info **ret, size_t *ret_n)
{
	struct lj_route_info *v = NULL;
	size_t n = 0, k = 0;
	int r;

	r = lj_route_dump(nl, family, 0, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (v[i].table == RT_TABLE_MAIN && v[i].dst_len == 0)
			v[k++] = v[i];
	*ret = v;
	*ret_n = k;
	return 0;
}

/* A recorded route: {"dev": NAME, "ifindex": N, "route": {...lj_route_info_to_text...}}. */
static json_t *route_entry(const struct lj_route_info *rt, const char *dev, int ifindex)
{
	char *text = lj_route_info_to_text(rt);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;

	free(text);
	if (!o)
		return NULL;
	return json_pack("{s:s, s:i, s:o}", "dev", dev, "ifindex", ifindex, "route", o);
}

int lj_defroute_entry_parse(const json_t *e, struct lj_route_info *rt, const char **dev,
			    int *ifindex)
{
	const json_t *d = json_object_get(e, "dev"), *i = json_object_get(e, "ifindex");
	char *text;
	int r;

	if (!json_is_string(d) || !lj_ifname_valid(json_string_value(d)) || !json_is_integer(i) ||
	    json_integer_value(i) <= 0 || json_integer_value(i) > INT32_MAX)
		return -EBADMSG;
	text = json_dumps(json_object_get(e, "route"), JSON_COMPACT);
	if (!text)
		return -EBADMSG;
	r = lj_route_info_from_text(text, rt);
	free(text);
	if (r < 0)
		return r;
	*dev = json_string_value(d);
	*ifindex = (int)json_integer_value(i);
	return 0;
}

/* The recorded routes of a step's text (a JSON array), or NULL if it is not one. */
json_t *lj_defroute_recorded(const struct lj_step *s)
{
	json_t *a = s->text ? json_loads(s->text, JSON_REJECT_DUPLICATES, NULL) : NULL;

	if (a && !json_is_array(a)) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* Whether link name in nl still is the one with ifindex (and so the recorded route's). */
bool lj_defroute_same_link(struct lj_nl *nl, const char *name, int ifindex)
{
	struct lj_link l;

	return nl && lj_link_get(nl, name, &l) == 0 && l.ifindex == ifindex;
}

void lj_defroute_print(const struct lj_route_info *rt, const char *dev, FILE *f)
{
	lj_route_info_print(rt, dev, f);
}

void lj_defroute_print_each(const json_t *list, const char *before, const char *after, FILE *f)
{
	for (size_t i = 0; i < json_array_size(list); i++) {
		struct lj_route_info rt;
		const char *dev;
		int idx;

		if (lj_defroute_entry_parse(json_array_get(list, i), &rt, &dev, &idx) == 0) {
			fputs(before, f);
			lj_defroute_print(&rt, dev, f);
			fputs(after, f);
		}
	}
}

/* --- default-route: link = our link in the target; cidr.ip.family = family; via = gateway
 *     (AF_UNSPEC: a DHCP client's hook sets it, the step only records); flags ONLINK;
 *     text = JSON array of the default routes found (and replaced) ------------------------- */

/*
 * The main-table default routes of the family, as a JSON array of entries, for s->text: from
 * plan->defroutes (the plan builder's list of both families) when it has one (plan may be
 * NULL: the kernel is asked), one dump less per attach.
 */
static int record_defaults_in(struct lj_nl *nl, int family, const struct lj_ctx *plan,
			      char **ret_text, json_t **ret_list)
{
	struct lj_route_info *v = NULL;
	size_t n = 0;
	json_t *a;
	int r;

	if (plan && plan->has_defroutes) {
		v = malloc((plan->n_defroutes ? plan->n_defroutes : 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < plan->n_defroutes; i++)
			if (plan->defroutes[i].family == family)
				v[n++] = plan->defroutes[i];
	} else {
		r = lj_defroute_dump(nl, family, &v, &n);
		if (r < 0)
			return r;
	}
	a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		struct lj_link l;
		json_t *e;

		if (v[i].unsupported) {
			free(v);
			json_decref(a);
			return -EOPNOTSUPP;
		}
		if (lj_link_get_by_index(nl, v[i].oif, &l) < 0) {
			free(v);
			json_decref(a);
			return -EOPNOTSUPP;
		}
		e = route_entry(&v[i], l.name, v[i].oif);
		if (!e || json_array_append_new(a, e) < 0) {
			json_decref(a);
			a = NULL;
		}
	}
	free(v);
	if (!a)
		return -ENOMEM;
	*ret_text = json_dumps(a, JSON_COMPACT);
	if (!*ret_text) {
		json_decref(a);
		return -ENOMEM;
	}
	if (ret_list)
		*ret_list = a;
	else
		json_decref(a);
	return 0;
}

static int record_defaults(struct lj_nl *nl, int family, char **ret_text, json_t **ret_list)
{
	return record_defaults_in(nl, family, NULL, ret_text, ret_list);
}

static int defroute_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_nl *nl = ctx->target;
	int oif = lj_ctx_ifindex(ctx, LJ_TARGET, s->link);
	json_t *list = NULL, *e;
	char *text = NULL;
	size_t i;
	int r;

	if (oif < 0)
		return lj_ctx_nl_error(ctx, nl, oif);
	struct lj_route rt = {
		.dst.ip.family = s->cidr.ip.family,
		.via = s->via,
		.oif = oif,
		.onlink = s->flags & LJ_STEP_F_ONLINK,
	};
	/*
	 * The plan found no default route of the family: added with NLM_F_EXCL, the kernel
	 * says whether one of the same key came meanwhile (-EEXIST: looked at, as below). Any
	 * of another key (metric) that came meanwhile stays beside ours, as one made after the
	 * attach would. One dump less per attach.
	 */
	if (s->via.family != AF_UNSPEC && s->text && strcmp(s->text, "[]") == 0) {
		r = lj_route_add(nl, &rt);
		if (r == 0)
			return 0;
		if (r != -EEXIST) {
			if (r == -ENETUNREACH)
				lj_ctx_detail(ctx, "the gateway is not reachable on '%s'", s->link);
			return lj_ctx_nl_error(ctx, nl, r);
		}
	}
	/* What is there now (the plan's view may be old): this is what undo puts back. */
	r = record_defaults(nl, s->cidr.ip.family, &text, &list);
	if (r == -EOPNOTSUPP) {
		lj_ctx_detail(ctx,
			      "the target's %s default route cannot be recorded exactly "
			      "(multipath, nexthop object or unknown attributes)",
			      s->cidr.ip.family == AF_INET ? "IPv4" : "IPv6");
		return r;
	}
	if (r < 0)
		return lj_ctx_nl_error(ctx, nl, r);
	free(s->text);
	s->text = text;
	if (s->via.family == AF_UNSPEC) {
		/* DHCP: the client's hook replaces it with the lease's router. */
		json_decref(list);
		return 0;
	}
	r = lj_route_replace(nl, &rt);
	if (r < 0) {
		json_decref(list);
		if (r == -ENETUNREACH)
			lj_ctx_detail(ctx, "the gateway is not reachable on '%s'", s->link);
		return lj_ctx_nl_error(ctx, nl, r);
	}
	/* The ones of another key (metric) would stay beside ours: remove them too (only
	 * those it found: none found, none to look for). */
	if (json_array_size(list) > 0) {
		struct lj_route_info *cur = NULL;
		size_t n = 0;

		r = lj_defroute_dump(nl, s->cidr.ip.family, &cur, &n);
		if (r < 0) {
			json_decref(list);
			return lj_ctx_nl_error(ctx, nl, r);
		}
		for (size_t k = 0; k < n && r == 0; k++) {
			if (cur[k].oif == oif)
				continue;
			json_array_foreach(list, i, e)
			{
				struct lj_route_info rec;
				const char *dev;
				int idx;
				if (lj_defroute_entry_parse(e, &rec, &dev, &idx) == 0 &&
				    idx == cur[k].oif && lj_defroute_same_key(&rec, &cur[k]) &&
				    lj_ip_equal(&rec.gateway, &cur[k].gateway)) {
					r = lj_route_del_info(nl, &cur[k], cur[k].oif);
					if (r == -ESRCH)
						r = 0;
					break;
				}
			}
		}
		free(cur);
	}
	json_decref(list);
	return lj_ctx_nl_error(ctx, nl, r);
}

static int defroute_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_nl *nl = ctx->target;
	struct lj_route_info *cur = NULL;
	json_t *list = lj_defroute_recorded(s), *e;
	int oif, r = 0, first = 0;
	size_t n = 0, i;

	if (!nl)
		return 0;
	if (!list)
		return s->text ? -EBADMSG : 0;
	oif = lj_ctx_ifindex(ctx, LJ_TARGET, s->link);
	if (oif < 0 && oif != -ENODEV) {
		json_decref(list);
		return lj_ctx_nl_error(ctx, nl, oif);
	}
	r = lj_defroute_dump(nl, s->cidr.ip.family, &cur, &n);
	if (r < 0) {
		json_decref(list);
		return lj_ctx_nl_error(ctx, nl, r);
	}
	json_array_foreach(list, i, e)
	{
		struct lj_route_info rec;
		const char *dev;
		int idx;
		size_t k;

		r = lj_defroute_entry_parse(e, &rec, &dev, &idx);
		if (r < 0) {
			first = first ? first : r;
			continue;
		}
		/* Its link is gone (or is another one now): nothing to put it back on. */
		if (!lj_defroute_same_link(nl, dev, idx))
			continue;
		for (k = 0; k < n && !lj_defroute_same_key(&rec, &cur[k]); k++)
			;
		if (k < n && cur[k].oif != oif)
			continue; /* back already, or someone else's since: left alone */
		/* Ours in its place: swap back in one request; else add it again. */
		r = k < n ? lj_route_replace_info(nl, &rec, idx) : lj_route_add_info(nl, &rec, idx);
		if (r == -EEXIST)
			r = 0;
		if (r < 0 && !first) {
			first = lj_ctx_nl_error(ctx, nl, r);
			lj_ctx_detail(ctx, "cannot put back the default route via '%s'", dev);
		}
	}
	json_decref(list);
	free(cur);
	/* Whatever default route is left on our link is ours (static or the DHCP hook's). */
	if (oif > 0) {
		cur = NULL;
		n = 0;
		r = lj_defroute_dump(nl, s->cidr.ip.family, &cur, &n);
		for (size_t k = 0; r == 0 && k < n; k++)
			if (cur[k].oif == oif) {
				int d = lj_route_del_info(nl, &cur[k], oif);
				if (d < 0 && d != -ESRCH && d != -ENODEV && !first)
					first = lj_ctx_nl_error(ctx, nl, d);
			}
		free(cur);
		if (r < 0 && !first)
			first = lj_ctx_nl_error(ctx, nl, r);
	}
	return first;
}

static void defroute_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	const char *ip = lj_ctx_ip(ctx, LJ_TARGET),
		   *fam = s->cidr.ip.family == AF_INET6 ? "-6 " : "";
	struct lj_route_info ours = {.family = s->cidr.ip.family,
				     .table = RT_TABLE_MAIN,
				     .has_priority = s->cidr.ip.family == AF_INET6,
				     .priority = s->cidr.ip.family == AF_INET6 ? 1024 : 0};
	json_t *list = lj_defroute_recorded(s), *e;
	char v[LJ_IP_STRLEN];
	bool replaced = false;
	size_t i;

	json_array_foreach(list, i, e)
	{
		struct lj_route_info rec;
		const char *dev;
		int idx;

		if (lj_defroute_entry_parse(e, &rec, &dev, &idx) < 0)
			continue;
		if (s->via.family == AF_UNSPEC) {
			fprintf(f, "# the DHCP client's hook replaces: ");
			lj_defroute_print(&rec, dev, f);
			fprintf(f, " (detach puts it back)\n");
			continue;
		}
		if (lj_defroute_same_key(&rec, &ours)) {
			fprintf(f, "# replaces: ");
			lj_defroute_print(&rec, dev, f);
			fprintf(f, " (detach puts it back)\n");
			replaced = true;
			continue;
		}
		fprintf(f, "%s %sroute del ", ip, fam);
		lj_defroute_print(&rec, dev, f);
		fprintf(f, "   # detach puts it back\n");
	}
	json_decref(list);
	if (s->via.family == AF_UNSPEC)
		return;
	fprintf(f, "%s %sroute %s default via %s dev %s%s proto static\n", ip, fam,
		replaced ? "replace" : "add", lj_ip_to_string(&s->via, v, sizeof(v)),
		LJ_SHQ(s->link), (s->flags & LJ_STEP_F_ONLINK) ? " onlink" : "");
}

static void defroute_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	const char *ip = lj_ctx_ip(ctx, LJ_TARGET),
		   *fam = s->cidr.ip.family == AF_INET6 ? "-6 " : "";
	json_t *list = lj_defroute_recorded(s);
	char replace[sizeof(ctx->target_ip) + 32];

	snprintf(replace, sizeof(replace), "%s %sroute replace ", ip, fam);
	lj_defroute_print_each(list, replace, "\n", f);
	json_decref(list);
	fprintf(f, "%s %sroute del default dev %s 2>/dev/null || true   # if still there\n", ip,
		fam, LJ_SHQ(s->link));
}

/* The target's default route of the family still leaves by link, via the gateway given. */
static int defroute_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			   size_t size)
{
	struct lj_cidr any = {.ip.family = s->cidr.ip.family};
	const struct lj_link *l;
	char buf[LJ_IP_STRLEN];
	json_t *list, *e;
	size_t i;

	if (!v->target)
		return 0;
	l = lj_status_need_link(v, LJ_TARGET, s->link, false, why, size);
	if (!l)
		return LJ_VERIFY_DRIFTED;
	/* A route it would put back whose link is gone (or another one now, e.g. the engine
	 * reconnected the container): detach cannot put it back. */
	list = lj_defroute_recorded(s);
	json_array_foreach(list, i, e)
	{
		const struct lj_link *d;
		struct lj_route_info rt;
		const char *dev;
		int idx;

		if (lj_defroute_entry_parse(e, &rt, &dev, &idx) < 0)
			continue;
		d = lj_status_link(lj_status_where(v, LJ_TARGET), dev);
		if (!d || d->ifindex != idx) {
			snprintf(
				why, size,
				"the default route it replaced (via '%s') cannot be put back: that "
				"link is %s",
				dev, d ? "another one now" : "gone");
			json_decref(list);
			return LJ_VERIFY_DRIFTED;
		}
	}
	json_decref(list);
	if (s->via.family == AF_UNSPEC) /* DHCP: the lease's router, which the client sets */
		return 0;
	if (!lj_status_has_route(v->target, &any, &s->via, l->ifindex, 0)) {
		snprintf(why, size, "the target's default route via %s on %s is missing",
			 lj_ip_to_string(&s->via, buf, sizeof(buf)), s->link);
		return LJ_VERIFY_DRIFTED;
	}
	return 0;
}

const struct lj_step_type lj_step_default_route = {
	.id = "default-route",
	.verify = defroute_verify,
	.save_after = true, /* the routes it replaced, as found when applied */
	.apply = defroute_apply,
	.undo = defroute_undo,
	.describe = defroute_describe,
	.describe_undo = defroute_describe_undo,
};

/* --- source-route: link = the engine's interface in the target, i64 = its ifindex;
 *     cidr.ip.family = family; u32 = table; text = {"priority": P, "from": [ADDR...],
 *     "routes": [entries as default-route's]} ----------------------------------------------- */

static int srcroute_parse(const struct lj_step *s, json_t **ret, uint32_t *prio)
{
	json_t *o = s->text ? json_loads(s->text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	const json_t *p = json_object_get(o, "priority");

	if (!json_is_object(o) || !json_is_integer(p) || json_integer_value(p) <= 0 ||
	    json_integer_value(p) >= 32766 || !json_is_array(json_object_get(o, "from")) ||
	    !json_is_array(json_object_get(o, "routes"))) {
		json_decref(o);
		return -EBADMSG;
	}
	*prio = (uint32_t)json_integer_value(p);
	*ret = o;
	return 0;
}

static int srcroute_rule(const json_t *a, const struct lj_step *s, uint32_t prio,
			 struct lj_rule *ret)
{
	if (!json_is_string(a) || lj_parse_ip(json_string_value(a), &ret->src) < 0 ||
	    ret->src.family != s->cidr.ip.family)
		return -EBADMSG;
	ret->table = s->u32;
	ret->priority = prio;
	return 0;
}

/* Is table t free in the target: no route of either family in it, no rule looking it up? */
static int table_free(struct lj_nl *nl, uint32_t t)
{
	static const int fams[] = {AF_INET, AF_INET6};

	for (size_t f = 0; f < 2; f++) {
		struct lj_route_info *v = NULL;
		size_t n = 0;
		int r = lj_route_dump(nl, fams[f], 0, &v, &n);

		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			if (v[i].table == t) {
				free(v);
				return 0;
			}
		free(v);
		r = lj_rule_uses_table(nl, fams[f], t);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	return 1;
}

static int srcroute_undo(struct lj_ctx *ctx, const struct lj_step *s);

static int srcroute_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_nl *nl = ctx->target;
	json_t *o, *e;
	uint32_t prio;
	size_t i;
	int r;

	r = srcroute_parse(s, &o, &prio);
	if (r < 0)
		return r;
	if (!lj_defroute_same_link(nl, s->link, (int)s->i64)) {
		json_decref(o);
		lj_ctx_detail(ctx, "the target's '%s' changed since the plan was made", s->link);
		return -ENODEV;
	}
	r = table_free(nl, s->u32);
	if (r <= 0) {
		json_decref(o);
		if (r == 0)
			lj_ctx_detail(ctx, "routing table %u in the target is in use already",
				      s->u32);
		return r < 0 ? lj_ctx_nl_error(ctx, nl, r) : -EEXIST;
	}
	json_array_foreach(json_object_get(o, "routes"), i, e)
	{
		struct lj_route_info rt;
		const char *dev;
		int idx;

		r = lj_defroute_entry_parse(e, &rt, &dev, &idx);
		if (r < 0)
			break;
		rt.table = s->u32;
		r = lj_route_add_info(nl, &rt, (int)s->i64);
		if (r < 0) {
			lj_ctx_nl_error(ctx, nl, r);
			break;
		}
	}
	json_array_foreach(json_object_get(o, "from"), i, e)
	{
		struct lj_rule rule;

		if (r < 0)
			break;
		r = srcroute_rule(e, s, prio, &rule);
		if (r == 0)
			r = lj_rule_add(nl, &rule);
		if (r < 0)
			lj_ctx_nl_error(ctx, nl, r);
	}
	json_decref(o);
	if (r < 0)
		srcroute_undo(ctx, s); /* what this step did so far */
	return r;
}

static int srcroute_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_nl *nl = ctx->target;
	json_t *o, *e;
	uint32_t prio;
	size_t i;
	int r, first = 0;

	if (!nl)
		return 0;
	r = srcroute_parse(s, &o, &prio);
	if (r < 0)
		return r;
	json_array_foreach(json_object_get(o, "from"), i, e)
	{
		struct lj_rule rule;

		r = srcroute_rule(e, s, prio, &rule);
		if (r == 0)
			r = lj_rule_del(nl, &rule);
		if (r < 0 && r != -ENOENT && r != -ESRCH && !first)
			first = lj_ctx_nl_error(ctx, nl, r);
	}
	/* The routes went with the link if it is gone. */
	if (lj_defroute_same_link(nl, s->link, (int)s->i64))
		json_array_foreach(json_object_get(o, "routes"), i, e)
		{
			struct lj_route_info rt;
			const char *dev;
			int idx;

			r = lj_defroute_entry_parse(e, &rt, &dev, &idx);
			if (r == 0) {
				rt.table = s->u32;
				r = lj_route_del_info(nl, &rt, (int)s->i64);
			}
			if (r < 0 && r != -ESRCH && r != -ENODEV && !first)
				first = lj_ctx_nl_error(ctx, nl, r);
		}
	json_decref(o);
	return first;
}

static void srcroute_print(const struct lj_ctx *ctx, const struct lj_step *s, bool undo, FILE *f)
{
	const char *ip = lj_ctx_ip(ctx, LJ_TARGET),
		   *fam = s->cidr.ip.family == AF_INET6 ? "-6 " : "";
	json_t *o, *e;
	uint32_t prio;
	size_t i;

	if (srcroute_parse(s, &o, &prio) < 0)
		return;
	if (undo)
		json_array_foreach(json_object_get(o, "from"), i, e)
			fprintf(f, "%s %srule del from %s lookup %u priority %u\n", ip, fam,
				json_string_value(e), s->u32, prio);
	json_array_foreach(json_object_get(o, "routes"), i, e)
	{
		struct lj_route_info rt;
		const char *dev;
		int idx;

		if (lj_defroute_entry_parse(e, &rt, &dev, &idx) < 0)
			continue;
		rt.table = s->u32;
		fprintf(f, "%s %sroute %s ", ip, fam, undo ? "del" : "add");
		lj_defroute_print(&rt, dev, f);
		fputc('\n', f);
	}
	if (!undo)
		json_array_foreach(json_object_get(o, "from"), i, e)
			fprintf(f, "%s %srule add from %s lookup %u priority %u\n", ip, fam,
				json_string_value(e), s->u32, prio);
	json_decref(o);
}

static void srcroute_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	srcroute_print(ctx, s, false, f);
}

static void srcroute_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	srcroute_print(ctx, s, true, f);
}

/* Whether a rule of a family looks up a table, in the namespace status entered. */
struct rule_question {
	int family;
	uint32_t table;
};

static int rule_fill(void *arg, void **ret, char *why, size_t size)
{
	const struct rule_question *q = arg;
	struct lj_nl *nl = NULL;
	int *found = malloc(sizeof(*found)), r;

	if (!found)
		return -ENOMEM;
	r = lj_nl_open(-1, &nl);
	if (r == 0)
		r = lj_rule_uses_table(nl, q->family, q->table);
	lj_nl_close(nl);
	if (r < 0) {
		snprintf(why, size, "cannot list the target's routing rules: %s", strerror(-r));
		free(found);
		return r;
	}
	*found = r > 0;
	*ret = found;
	return 0;
}

/* The link is still there, a rule looks the table up, and the table holds routes of the step's
 * family (one rule dump per table and family in a status run): replies from link's own
 * addresses still leave by it. The first of these that fails is named. */
static int srcroute_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			   size_t size)
{
	struct rule_question q = {.family = s->cidr.ip.family, .table = s->u32};
	const struct lj_link *l;
	bool routes = false;
	char key[64];
	void *found;
	int r;

	if (!v->target)
		return 0;
	l = lj_status_link(lj_status_where(v, LJ_TARGET), s->link);
	if (!l || l->ifindex != (int)s->i64) {
		snprintf(why, size,
			 "link %s, whose replies routing table %u is for, is gone from the target",
			 s->link, s->u32);
		return LJ_VERIFY_DRIFTED;
	}
	snprintf(key, sizeof(key), "rules of table %u, family %d", s->u32, q.family);
	r = lj_status_cached(v->target, key, rule_fill, &q, free, &found, why, size);
	if (r < 0)
		return r;
	if (!*(int *)found) {
		snprintf(why, size,
			 "no routing rule sends replies from the addresses of '%s' to table %u",
			 s->link, s->u32);
		return LJ_VERIFY_DRIFTED;
	}
	for (size_t i = 0; i < v->target->n_routes; i++)
		routes |= v->target->routes[i].table == s->u32 &&
			  v->target->routes[i].dst.ip.family == q.family;
	if (!routes) {
		snprintf(why, size,
			 "routing table %u, for replies from the addresses of '%s', is empty",
			 s->u32, s->link);
		return LJ_VERIFY_DRIFTED;
	}
	return 0;
}

const struct lj_step_type lj_step_source_route = {
	.id = "source-route",
	.verify = srcroute_verify,
	.apply = srcroute_apply,
	.undo = srcroute_undo,
	.describe = srcroute_describe,
	.describe_undo = srcroute_describe_undo,
};

/* --- plan builders ------------------------------------------------------------------------- */

int lj_attach_add_default_route(struct lj_ctx *ctx, struct lj_plan *plan, struct lj_record *rec,
				const char *ifname, int family, const struct lj_ip *via,
				bool onlink, struct lj_result *res)
{
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";
	char buf[LJ_IP_STRLEN], *text = NULL;
	json_t *list = NULL, *e, *said;
	struct lj_step *s;
	size_t i;
	int r;

	if (via)
		lj_ip_to_string(via, buf, sizeof(buf));
	s = lj_plan_add(plan, &lj_step_default_route, LJ_TARGET,
			via ? "set the %s default route via %s"
			    : "record the %s default route the DHCP lease replaces%s",
			fam, via ? buf : "");
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", ifname);
	s->cidr.ip.family = family;
	if (via)
		s->via = *via;
	if (onlink)
		s->flags |= LJ_STEP_F_ONLINK;
	if (!ctx->target)
		return 0;
	r = record_defaults_in(ctx->target, family, ctx, &text, &list);
	if (r == -EOPNOTSUPP)
		return lj_bad_input(
			res,
			"The target's %s default route cannot be replaced and put "
			"back exactly (multipath, nexthop object or unknown attributes); "
			"use --no-default-route",
			fam);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the target's routes: %s", strerror(-r));
	s->text = text;
	/* What the front end says: "replaced the default route via X dev eth0". */
	said = json_object_get(rec->info, "replaced_default_routes");
	if (!json_is_array(said)) {
		said = json_array();
		json_object_set_new(rec->info, "replaced_default_routes", said);
	}
	json_array_foreach(list, i, e)
	{
		struct lj_route_info rt;
		const char *dev;
		char line[256], *p = NULL;
		size_t size = 0;
		FILE *f;
		int idx;

		if (lj_defroute_entry_parse(e, &rt, &dev, &idx) < 0 ||
		    !(f = open_memstream(&p, &size)))
			continue;
		/* Short, for people: "via 198.18.0.1 dev eth0". */
		if (rt.gateway.family != AF_UNSPEC)
			fprintf(f, "via %s ", lj_ip_to_string(&rt.gateway, line, sizeof(line)));
		fprintf(f, "dev %s", LJ_SHQ(dev));
		if (prio_of(&rt))
			fprintf(f, " metric %u", prio_of(&rt));
		fclose(f);
		snprintf(line, sizeof(line), "%s", p ? p : "");
		free(p);
		json_array_append_new(said, json_string(line));
	}
	json_decref(list);
	return 0;
}

#define LJ_SRC_RULE_PRIORITY 32700u /* before the main table's rule (32766) */

/* One source-route step for the routes through link oif (family) of the main table. */
static int add_source_route(struct lj_ctx *ctx, struct lj_plan *plan, struct lj_record *rec,
			    int family, int oif, uint32_t *next_table, struct lj_result *res)
{
	struct lj_nl *nl = ctx->target;
	struct lj_route_info *v = NULL;
	struct lj_addr_info *a = NULL;
	size_t n = 0, na = 0;
	json_t *o, *from, *routes;
	struct lj_link l;
	struct lj_step *s;
	uint32_t t;
	int r;

	r = lj_link_get_by_index(nl, oif, &l);
	if (r < 0)
		return r == -ENODEV ? 0
				    : lj_fail(res, r, "Failed to look up the target's links: %s",
					      strerror(-r));
	r = lj_addr_dump(nl, family, oif, &a, &na);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the target's addresses: %s", strerror(-r));
	o = json_object();
	from = json_array();
	routes = json_array();
	json_object_set_new(o, "priority", json_integer(LJ_SRC_RULE_PRIORITY));
	json_object_set_new(o, "from", from);
	json_object_set_new(o, "routes", routes);
	for (size_t i = 0; i < na; i++) {
		char b[LJ_IP_STRLEN];
		if (a[i].scope != RT_SCOPE_UNIVERSE)
			continue;
		json_array_append_new(from,
				      json_string(lj_ip_to_string(&a[i].cidr.ip, b, sizeof(b))));
	}
	free(a);
	if (json_array_size(from) == 0) {
		json_decref(o);
		return 0; /* no engine-side address: nothing can come in through it */
	}
	r = lj_route_dump(nl, family, oif, &v, &n);
	if (r < 0) {
		json_decref(o);
		return lj_fail(res, r, "Failed to list the target's routes: %s", strerror(-r));
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].table != RT_TABLE_MAIN || v[i].oif != oif || v[i].unsupported ||
		    v[i].type != RTN_UNICAST)
			continue;
		json_array_append_new(routes, route_entry(&v[i], l.name, oif));
	}
	free(v);
	/* The first free table from *next_table. */
	for (t = *next_table; t < LJ_SRC_TABLE_END; t++) {
		r = table_free(nl, t);
		if (r != 0)
			break;
	}
	if (r <= 0) {
		json_decref(o);
		return lj_fail(res, r < 0 ? r : -ENOSPC,
			       "Failed to find a free routing table in "
			       "the target: %s",
			       strerror(r < 0 ? -r : ENOSPC));
	}
	*next_table = t + 1;
	s = lj_plan_add(plan, &lj_step_source_route, LJ_TARGET,
			"route %s replies from the addresses of '%s' back through it (table %u)",
			family == AF_INET ? "IPv4" : "IPv6", l.name, t);
	if (!s) {
		json_decref(o);
		return -ENOMEM;
	}
	snprintf(s->link, sizeof(s->link), "%s", l.name);
	s->i64 = oif;
	s->u32 = t;
	s->cidr.ip.family = family;
	s->text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s->text)
		return -ENOMEM;
	{
		json_t *said = json_object_get(rec->info, "source_routed");
		if (!json_is_array(said)) {
			said = json_array();
			json_object_set_new(rec->info, "source_routed", said);
		}
		json_array_append_new(said, json_string(l.name));
	}
	return 0;
}

int lj_attach_add_source_routes(struct lj_ctx *ctx, struct lj_plan *plan, struct lj_record *rec,
				struct lj_result *res)
{
	static const int fams[] = {AF_INET, AF_INET6};
	uint32_t next = LJ_SRC_TABLE_BASE;
	struct lj_route_info *v = NULL;
	size_t n = 0;
	int r;

	if (!ctx->target)
		return 0;
	/* Both families' default routes in one request; kept for the default route's plan. */
	r = lj_defroute_dump(ctx->target, AF_UNSPEC, &v, &n);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the target's routes: %s", strerror(-r));
	free(ctx->defroutes);
	ctx->defroutes = malloc((n ? n : 1) * sizeof(*v));
	ctx->n_defroutes = n;
	ctx->has_defroutes = ctx->defroutes != NULL;
	if (ctx->defroutes && n) /* v is NULL when there are none */
		memcpy(ctx->defroutes, v, n * sizeof(*v));
	for (size_t f = 0; f < 2 && r == 0; f++)
		for (size_t i = 0; i < n && r == 0; i++) {
			bool dup = false;
			if (v[i].family != fams[f] || v[i].oif <= 0 || v[i].unsupported)
				continue;
			for (size_t k = 0; k < i; k++)
				dup |= v[k].family == fams[f] && v[k].oif == v[i].oif;
			if (!dup)
				r = add_source_route(ctx, plan, rec, fams[f], v[i].oif, &next, res);
		}
	free(v);
	return r;
}
