/* SPDX-License-Identifier: MIT */
/* Plan steps made of rtnetlink requests: bridge, veth pair, link up, address, route. */
#include <errno.h>
#include <linux/if_addr.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/link.h"
#include "lib/plan.h"
#include "lib/route.h"

/* --- bridge: link = BR, mtu; ensure it exists; undo deletes it if lanjoin made it and it is empty */

static int bridge_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_link l;
	int r;

	r = lj_link_get(ctx->host, s->link, &l);
	if (r == 0) {
		if (strcmp(l.kind, "bridge") != 0) {
			lj_ctx_detail(ctx, "'%s' exists and is not a Linux bridge (kind '%s')",
				      s->link, l.kind[0] ? l.kind : "none");
			return -EEXIST;
		}
		/* The veth step needs its ifindex next: spare it another lookup. */
		lj_ctx_remember(ctx, LJ_HOST, s->link, l.ifindex);
		return 0;
	}
	if (r != -ENODEV)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	{
		struct lj_bridge_opts o = {
			.name = s->link,
			.alias = LJ_OWNED_ALIAS,
			.mtu = s->mtu,
			.mac = s->has_mac ? s->mac : NULL, /* pinned: the ports do not move it */
			.up = true,
		};
		r = lj_link_add_bridge_opts(ctx->host, &o);
	}
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	s->created = true;
	return 0;
}

static int bridge_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_link l;
	int r;

	/* A rollback removes only what this run created. */
	if (ctx->rollback && !s->created)
		return 0;
	r = lj_link_get(ctx->host, s->link, &l);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (strcmp(l.kind, "bridge") != 0)
		return 0; /* not ours: never remove it */
	/*
	 * Without lanjoin's alias it is not ours, unless a run of this very record was killed
	 * between creating it and setting the alias (the kernel ignores an alias in the creating
	 * request): the bridge was missing when the plan was made and has no alias at all.
	 */
	if (strcmp(l.alias, LJ_OWNED_ALIAS) != 0 && (l.alias[0] || !(s->flags & LJ_STEP_F_WILL_CREATE)))
		return 0;
	r = lj_link_has_ports(ctx->host, l.ifindex);
	if (r != 0)
		return r < 0 ? lj_ctx_nl_error(ctx, ctx->host, r) : 0;
	r = lj_link_del(ctx->host, s->link);
	lj_ctx_forget(ctx, LJ_HOST, s->link);
	return r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, ctx->host, r);
}

static void bridge_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char mac[LJ_MAC_STRLEN];

	if (!(s->flags & LJ_STEP_F_WILL_CREATE))
		return;
	fprintf(f, "ip link add %s", s->link);
	if (s->has_mac)
		fprintf(f, " address %s", lj_mac_to_string(s->mac, mac, sizeof(mac)));
	if (s->mtu)
		fprintf(f, " mtu %u", s->mtu);
	fprintf(f, " type bridge\nip link set %s alias '%s' up\n", s->link, LJ_OWNED_ALIAS);
}

static void bridge_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "# if bridge %s was created by lanjoin and has no port left:\n", s->link);
	fprintf(f, "ip link del %s\n", s->link);
}

const struct lj_step_type lj_step_bridge = {
	.id = "bridge",
	.apply = bridge_apply,
	.undo = bridge_undo,
	.describe = bridge_describe,
	.describe_undo = bridge_describe_undo,
};

/* --- veth: link = host end (in the host), peer = container end (created in the target) */

static int veth_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_veth_opts o = {
		.name = s->link,
		.peer_name = s->peer,
		.peer_netns_fd = ctx->target_fd,
		.mtu = s->mtu,
		.peer_mtu = s->peer_mtu,
		.peer_mac = s->has_mac ? s->mac : NULL,
		.up = true,
		/* below 1280 bytes the kernel gives a link no IPv6 at all (nor its settings) */
		.no_ipv6 = !s->mtu || s->mtu >= 1280,
	};
	int r;

	if (s->master[0]) {
		r = lj_ctx_ifindex(ctx, LJ_HOST, s->master);
		if (r < 0) {
			lj_ctx_detail(ctx, "bridge '%s' is gone", s->master);
			return r;
		}
		o.master = r;
	}
	r = lj_link_add_veth(ctx->host, &o);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "a link named '%s' exists on the host or '%s' in the target",
			      s->link, s->peer);
	return lj_ctx_nl_error(ctx, ctx->host, r);
}

static int veth_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	int r;

	/* Bulk detach: deleted with the others in one request (lj_link_del_batch). */
	if (ctx->batch && lj_link_batch_add(ctx->batch, s->link) == 0) {
		lj_ctx_forget(ctx, LJ_HOST, s->link);
		lj_ctx_forget(ctx, LJ_TARGET, s->peer);
		return LJ_UNDO_DEFERRED;
	}
	/* Deleting one end deletes both, with the peer's addresses and routes. */
	r = lj_link_del(ctx->host, s->link);

	lj_ctx_forget(ctx, LJ_HOST, s->link);
	lj_ctx_forget(ctx, LJ_TARGET, s->peer);
	return r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, ctx->host, r);
}

static void veth_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char mac[LJ_MAC_STRLEN];
	const struct lj_target *t = ctx->tgt;

	fprintf(f, "ip link add %s", s->link);
	if (s->mtu)
		fprintf(f, " mtu %u", s->mtu);
	fprintf(f, " addrgenmode none type veth peer name %s", s->peer);
	if (t && t->kind == LJ_TARGET_NETNS)
		fprintf(f, " netns %s", t->name);
	else if (t && t->pid > 0)
		fprintf(f, " netns %d", (int)t->pid);
	else if (t)
		fprintf(f, " netns %s", t->name);
	if (s->peer_mtu)
		fprintf(f, " mtu %u", s->peer_mtu);
	if (s->has_mac)
		fprintf(f, " address %s", lj_mac_to_string(s->mac, mac, sizeof(mac)));
	fputc('\n', f);
	fprintf(f, "ip link set %s%s%s up\n", s->link, s->master[0] ? " master " : "", s->master);
}

static void veth_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "ip link del %s\n", s->link);
}

const struct lj_step_type lj_step_veth = {
	.id = "veth",
	.apply = veth_apply,
	.undo = veth_undo,
	.describe = veth_describe,
	.describe_undo = veth_describe_undo,
};

/* --- link-up: link in where; undo sets it down again */

static int link_up_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_nl *nl = lj_ctx_nl(ctx, s->where);

	return lj_ctx_nl_error(ctx, nl, lj_link_set_up(nl, s->link, true));
}

static int link_up_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_nl *nl = lj_ctx_nl(ctx, s->where);
	int r = lj_link_set_up(nl, s->link, false);

	return r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, nl, r);
}

static void link_up_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "%s link set %s up\n", lj_ctx_ip(ctx, s->where), s->link);
}

static void link_up_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "%s link set %s down\n", lj_ctx_ip(ctx, s->where), s->link);
}

const struct lj_step_type lj_step_link_up = {
	.id = "link-up",
	.apply = link_up_apply,
	.undo = link_up_undo,
	.describe = link_up_describe,
	.describe_undo = link_up_describe_undo,
};

/* --- addr: cidr on link in where; u32 = IFA_F_* flags */

static int addr_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_nl *nl = lj_ctx_nl(ctx, s->where);
	int ifindex = lj_ctx_ifindex(ctx, s->where, s->link);
	int r;

	if (ifindex < 0)
		return lj_ctx_nl_error(ctx, nl, ifindex);
	r = lj_addr_add(nl, ifindex, &s->cidr, s->u32);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "'%s' already has that address", s->link);
	return lj_ctx_nl_error(ctx, nl, r);
}

static int addr_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_nl *nl = lj_ctx_nl(ctx, s->where);
	int ifindex = lj_ctx_ifindex(ctx, s->where, s->link);
	int r;

	if (ifindex == -ENODEV)
		return 0;
	if (ifindex < 0)
		return lj_ctx_nl_error(ctx, nl, ifindex);
	r = lj_addr_del(nl, ifindex, &s->cidr);
	return r == -EADDRNOTAVAIL || r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, nl, r);
}

static void addr_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char c[LJ_CIDR_STRLEN];

	fprintf(f, "%s addr add %s dev %s%s\n", lj_ctx_ip(ctx, s->where),
		lj_cidr_to_string(&s->cidr, c, sizeof(c)), s->link,
		(s->u32 & IFA_F_NODAD) ? " nodad" : "");
}

static void addr_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char c[LJ_CIDR_STRLEN];

	fprintf(f, "%s addr del %s dev %s\n", lj_ctx_ip(ctx, s->where),
		lj_cidr_to_string(&s->cidr, c, sizeof(c)), s->link);
}

const struct lj_step_type lj_step_addr = {
	.id = "addr",
	.apply = addr_apply,
	.undo = addr_undo,
	.describe = addr_describe,
	.describe_undo = addr_describe_undo,
};

/* --- route: cidr (destination) via on link in where; u32 = table; flags ONLINK */

static void route_from_step(const struct lj_step *s, int oif, struct lj_route *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->dst = s->cidr;
	rt->via = s->via;
	rt->oif = oif;
	rt->table = s->u32;
	rt->onlink = s->flags & LJ_STEP_F_ONLINK;
}

static int route_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_nl *nl = lj_ctx_nl(ctx, s->where);
	int oif = lj_ctx_ifindex(ctx, s->where, s->link);
	struct lj_route rt;
	int r;

	if (oif < 0)
		return lj_ctx_nl_error(ctx, nl, oif);
	route_from_step(s, oif, &rt);
	r = s->flags & LJ_STEP_F_APPEND ? lj_route_append(nl, &rt) : lj_route_add(nl, &rt);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "an equal route already exists");
	else if (r == -ENETUNREACH)
		lj_ctx_detail(ctx, "the gateway is not reachable on '%s'", s->link);
	return lj_ctx_nl_error(ctx, nl, r);
}

static int route_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_nl *nl = lj_ctx_nl(ctx, s->where);
	int oif = lj_ctx_ifindex(ctx, s->where, s->link);
	struct lj_route rt;
	int r;

	if (oif == -ENODEV)
		return 0;
	if (oif < 0)
		return lj_ctx_nl_error(ctx, nl, oif);
	route_from_step(s, oif, &rt);
	r = lj_route_del(nl, &rt);
	return r == -ESRCH || r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, nl, r);
}

static void route_print(const struct lj_ctx *ctx, const struct lj_step *s, const char *verb,
			FILE *f)
{
	char c[LJ_CIDR_STRLEN], v[LJ_IP_STRLEN];

	fprintf(f, "%s %sroute %s %s", lj_ctx_ip(ctx, s->where),
		s->cidr.ip.family == AF_INET6 ? "-6 " : "", verb,
		s->cidr.prefixlen ? lj_cidr_to_string(&s->cidr, c, sizeof(c)) : "default");
	if (s->via.family != AF_UNSPEC)
		fprintf(f, " via %s", lj_ip_to_string(&s->via, v, sizeof(v)));
	fprintf(f, " dev %s", s->link);
	if (s->flags & LJ_STEP_F_ONLINK)
		fprintf(f, " onlink");
	if (s->u32)
		fprintf(f, " table %u", s->u32);
	fputc('\n', f);
}

static void route_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	route_print(ctx, s, s->flags & LJ_STEP_F_APPEND ? "append" : "add", f);
}

static void route_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	route_print(ctx, s, "del", f);
}

const struct lj_step_type lj_step_route = {
	.id = "route",
	.apply = route_apply,
	.undo = route_undo,
	.describe = route_describe,
	.describe_undo = route_describe_undo,
};
