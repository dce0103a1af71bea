/* SPDX-License-Identifier: MIT */
/*
 * What a release gives back: what the bridge holds at release, not only what it held at the
 * adoption. A DHCP client run on BR (as adopt advises), an address or a route added there by
 * hand, a default route put back with another metric: each gets the steps adopt would have
 * given it, so the release's one undo (and its redo on failure) moves it with the rest.
 */
#include "lib/ways/uplink-facts.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/steps/ovs.h"
#include "lib/steps/uplink-addr.h"
#include "lib/steps/uplink.h"
#include "shared/macro.h"

/* What BR holds now: its addresses and the routes through it that are not the kernel's. */
struct held {
	struct lj_addr_full *addrs;
	size_t n_addrs;
	bool *addr_claimed; /* a recorded step moves it */
	struct lj_route_info *routes;
	size_t n_routes;
	bool *route_claimed;
};

static void held_free(struct held *h)
{
	free(h->addrs);
	free(h->addr_claimed);
	free(h->routes);
	free(h->route_claimed);
}

static int held_get(int ifindex, struct held *h)
{
	struct lj_route_info *v = NULL;
	struct lj_nl *dump = NULL;
	size_t n = 0, k = 0;
	int r;

	/* strict: the kernel filters by link, multipath routes through it included */
	r = lj_nl_open(-1, &dump);
	if (r < 0)
		return r;
	lj_nl_set_strict(dump);
	r = lj_addr_dump_full(dump, AF_UNSPEC, ifindex, &h->addrs, &h->n_addrs);
	if (r == 0)
		r = lj_route_dump(dump, AF_UNSPEC, ifindex, &v, &n);
	lj_nl_close(dump);
	if (r < 0)
		return r;
	/* The kernel's own routes (prefix, local, broadcast, multicast) follow the addresses. */
	for (size_t i = 0; i < n; i++)
		if (v[i].protocol != RTPROT_KERNEL &&
		    (v[i].oif == ifindex || (v[i].unsupported && !v[i].oif)))
			v[k++] = v[i];
	h->routes = v;
	h->n_routes = k;
	h->addr_claimed = calloc(h->n_addrs + 1, sizeof(bool));
	h->route_claimed = calloc(h->n_routes + 1, sizeof(bool));
	return h->addr_claimed && h->route_claimed ? 0 : -ENOMEM;
}

/* An address that goes back with the uplink: not an IPv6 link-local or temporary one (the
 * uplink makes its own). */
static bool addr_movable(const struct lj_addr_full *a)
{
	return a->local.ip.family != AF_INET6 ||
	       (!IN6_IS_ADDR_LINKLOCAL(&a->local.ip.v6) && !(a->flags & IFA_F_TEMPORARY));
}

static bool addr_same(const struct lj_addr_full *a, const struct lj_addr_full *b)
{
	return lj_ip_equal(&a->local.ip, &b->local.ip) && a->local.prefixlen == b->local.prefixlen;
}

/* Append ", " (unless buf is empty) and the printf-style text to buf (size bytes). */
__attribute__((format(printf, 3, 4))) static void list_add(char *buf, size_t size, const char *fmt,
							   ...)
{
	size_t len = strnlen(buf, size);
	va_list ap;

	if (len + 3 >= size)
		return;
	if (len)
		len += (size_t)snprintf(buf + len, size - len, ", ");
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* "route DST[ via GW][ table T][ metric M]" of rt, appended to buf. */
static void list_route(char *buf, size_t size, const struct lj_route_info *rt)
{
	struct lj_cidr c = {.ip = rt->dst, .prefixlen = rt->dst_len};
	char d[LJ_CIDR_STRLEN] = "default", g[LJ_CIDR_STRLEN] = "", t[24] = "", m[24] = "";

	c.ip.family = rt->family;
	if (rt->dst_len)
		lj_cidr_to_string(&c, d, sizeof(d));
	if (rt->gateway.family != AF_UNSPEC)
		lj_ip_to_string(&rt->gateway, g, sizeof(g));
	if (rt->table != RT_TABLE_MAIN)
		snprintf(t, sizeof(t), " table %u", rt->table);
	if (rt->has_priority && rt->priority)
		snprintf(m, sizeof(m), " metric %u", rt->priority);
	list_add(buf, size, "route %s%s%s%s%s", d, g[0] ? " via " : "", g, t, m);
}

/* Append a copy of step s to plan p (its text duplicated). */
static int copy_step(struct lj_plan *p, const struct lj_step *s)
{
	struct lj_step *d = lj_plan_add(p, s->type, s->where, "%s", s->what);

	if (!d)
		return -ENOMEM;
	*d = *s;
	d->text = NULL;
	if (s->text && !(d->text = strdup(s->text)))
		return -ENOMEM;
	return 0;
}

/* Append a step of type t on link (master) with text (owned: freed on failure). */
static int add_step(struct lj_plan *p, const struct lj_step_type *t, const char *link,
		    const char *master, char *text, const char *what)
{
	struct lj_step *s;

	if (!text)
		return -ENOMEM;
	s = lj_plan_add(p, t, LJ_HOST, "%s", what);
	if (!s) {
		free(text);
		return -ENOMEM;
	}
	s->text = text;
	snprintf(s->link, sizeof(s->link), "%s", link);
	snprintf(s->master, sizeof(s->master), "%s", master);
	return 0;
}

/* The added addresses' addr-copy steps (kernel order: a primary before its secondaries). */
static int add_addr_copies(struct lj_plan *p, const struct held *h, const char *bridge)
{
	char b[LJ_CIDR_STRLEN], what[128];

	for (size_t i = 0; i < h->n_addrs; i++) {
		if (h->addr_claimed[i] || !addr_movable(&h->addrs[i]))
			continue;
		snprintf(what, sizeof(what), "add %s to '%s'",
			 lj_cidr_to_string(&h->addrs[i].local, b, sizeof(b)), bridge);
		if (add_step(p, &lj_step_addr_copy, bridge, "", lj_addr_full_to_text(&h->addrs[i]),
			     what) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The added routes' route-move steps: those without a gateway first (as adopt orders them). */
static int add_route_moves(struct lj_plan *p, const struct held *h, const char *bridge,
			   const char *dev, char *moved, size_t size)
{
	char what[128];

	for (int gw = 0; gw < 2; gw++)
		for (size_t i = 0; i < h->n_routes; i++) {
			const struct lj_route_info *rt = &h->routes[i];
			FILE *m;

			if (h->route_claimed[i] || (rt->gateway.family != AF_UNSPEC) != gw)
				continue;
			m = fmemopen(what, sizeof(what), "w");
			if (m) {
				fprintf(m, "move route ");
				lj_route_info_print(rt, bridge, m);
				fclose(m);
			}
			if (add_step(p, &lj_step_route_move, dev, bridge, lj_route_info_to_text(rt),
				     what) < 0)
				return -ENOMEM;
			list_route(moved, size, rt);
		}
	return 0;
}

/* The added addresses' addr-move steps (secondaries before their primary: undone in reverse,
 * the primary comes back first), with DEV's labels. */
static int add_addr_moves(struct lj_plan *p, const struct held *h, const char *bridge,
			  const char *dev, char *moved, size_t size)
{
	char b[LJ_CIDR_STRLEN], what[128];

	for (size_t i = h->n_addrs; i-- > 0;) {
		struct lj_addr_full a = h->addrs[i];
		char label[IFNAMSIZ];

		if (h->addr_claimed[i] || !addr_movable(&a))
			continue;
		if (lj_uplink_move_label(a.label, bridge, dev, label) < 0)
			label[0] = '\0'; /* too long for DEV: back without it */
		memcpy(a.label, label, sizeof(a.label));
		lj_cidr_to_string(&a.local, b, sizeof(b));
		snprintf(what, sizeof(what), "remove %s from '%s'", b, dev);
		if (add_step(p, &lj_step_addr_move, dev, bridge, lj_addr_full_to_text(&a), what) <
		    0)
			return -ENOMEM;
		list_add(moved, size, "%s", b);
	}
	return 0;
}

/*
 * Which recorded step still applies to what BR holds (claiming it in h): an address step whose
 * address is gone from BR does not (an IPv6 link-local one always does: the uplink needs it); a
 * route-move whose route (by the replace's key) is gone does not, else it takes the route as
 * it is now. Notes what is left out in dropped. Returns 1 keep, 0 drop, -ENOMEM.
 */
static int still_held(struct lj_step *s, struct held *h, char *dropped, size_t size)
{
	char b[LJ_CIDR_STRLEN];

	if (s->type == &lj_step_addr_copy || s->type == &lj_step_addr_flags ||
	    s->type == &lj_step_addr_move) {
		struct lj_addr_full a;

		if (lj_addr_full_from_text(s->text, &a) < 0 || !addr_movable(&a))
			return 1;
		for (size_t i = 0; i < h->n_addrs; i++)
			if (addr_same(&a, &h->addrs[i])) {
				h->addr_claimed[i] = true;
				return 1;
			}
		if (s->type == &lj_step_addr_move)
			list_add(dropped, size, "%s", lj_cidr_to_string(&a.local, b, sizeof(b)));
		return 0;
	}
	if (s->type == &lj_step_route_move) {
		struct lj_route_info rt;
		char *text;

		if (lj_route_info_from_text(s->text, &rt) < 0)
			return 1;
		for (size_t i = 0; i < h->n_routes; i++) {
			if (h->route_claimed[i] || !lj_route_info_same_key(&rt, &h->routes[i]))
				continue;
			h->route_claimed[i] = true;
			text = lj_route_info_to_text(&h->routes[i]);
			if (!text)
				return -ENOMEM;
			free(s->text);
			s->text = text;
			return 1;
		}
		list_route(dropped, size, &rt);
		return 0;
	}
	return 1;
}

int lj_uplink_release_current(struct lj_ctx *ctx, const char *bridge, const char *dev,
			      struct lj_plan *plan, char *moved, char *dropped, size_t size,
			      struct lj_result *res)
{
	struct lj_plan np = {0};
	struct held h = {0};
	bool *keep = NULL, enslaved = false, routes = false, placed = false;
	int ifindex, r;

	moved[0] = dropped[0] = '\0';
	ifindex = lj_ctx_ifindex(ctx, LJ_HOST, bridge);
	if (ifindex < 0)
		return 0; /* gone: the recorded undo says what is wrong */
	r = held_get(ifindex, &h);
	if (r < 0) {
		lj_fail(res, r, "Failed to list the addresses and routes of '%s': %s", bridge,
			strerror(-r));
		goto out;
	}
	keep = calloc(plan->n + 1, sizeof(bool));
	if (!keep) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < plan->n; i++) {
		r = still_held(&plan->steps[i], &h, dropped, size);
		if (r < 0)
			goto out;
		keep[i] = r;
	}
	for (size_t i = 0; i < h.n_routes; i++) {
		char b[256] = "";
		FILE *m;

		if (h.route_claimed[i] || !h.routes[i].unsupported)
			continue;
		m = fmemopen(b, sizeof(b), "w");
		if (m) {
			lj_route_info_print(&h.routes[i], bridge, m);
			fclose(m);
		}
		r = lj_bad_input(res,
				 "Cannot move route '%s' back to '%s' (%s): remove it from '%s' "
				 "first, or release would lose it",
				 b, dev, h.routes[i].unsupported, bridge);
		goto out;
	}

	/*
	 * The adoption's plan: BR, its settings, addr-copy..., enslave, link-up, route-move...,
	 * addr-move..., the rest. Added addresses are copied just before the enslave, added routes
	 * moved first after link-up and added addresses removed first after the routes: undone
	 * in reverse, each comes back on DEV after the recorded ones (a recorded address stays
	 * the primary of its subnet) and before what depends on it.
	 */
	for (size_t i = 0; i < plan->n && r >= 0; i++) {
		const struct lj_step *s = &plan->steps[i];

		if (!enslaved && (s->type == &lj_step_enslave || s->type == &lj_step_ovs_enslave)) {
			enslaved = true;
			r = add_addr_copies(&np, &h, bridge);
		}
		if (r >= 0 && routes && !placed && s->type != &lj_step_route_move) {
			placed = true;
			r = add_addr_moves(&np, &h, bridge, dev, moved, size);
		}
		if (r >= 0 && keep[i])
			r = copy_step(&np, s);
		if (r >= 0 && enslaved && !routes && s->type == &lj_step_link_up) {
			routes = true;
			r = add_route_moves(&np, &h, bridge, dev, moved, size);
		}
	}
	if (r >= 0 && routes && !placed)
		r = add_addr_moves(&np, &h, bridge, dev, moved, size);
	if (r < 0)
		goto out;
	if (!routes) {
		moved[0] = '\0'; /* not an adoption's plan as adopt makes it: left as it is */
		r = 0;
		goto out;
	}
	lj_plan_free(plan);
	*plan = np;
	np = (struct lj_plan){0};
	r = 0;
out:
	if (r < 0)
		moved[0] = dropped[0] = '\0';
	lj_plan_free(&np);
	free(keep);
	held_free(&h);
	return r;
}
