/* SPDX-License-Identifier: MIT */
/* Plan steps made of rtnetlink requests: bridge, veth pair, link up, address, route. */
#include <errno.h>
#include <linux/if_addr.h>
#include <string.h>

#include "lib/steps/rtnl.h"

#include "lib/kernel/addr.h"
#include "lib/kernel/link.h"
#include "lib/core/plan.h"
#include "lib/core/status.h"
#include "lib/kernel/route.h"
#include "shared/name.h"
#include "shared/shquote.h"

/* --- bridge: link = BR, mtu; ensure it exists; undo deletes it if lanjoin made it and it is empty
 */

static int bridge_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_link l;
	int r;

	/* The plan's builder found it a moment ago (lj_ctx_remember_bridge): if it was deleted
	 * since, the veth step's request naming its ifindex fails. */
	if (!(s->flags & LJ_STEP_F_WILL_CREATE) && lj_ctx_known_bridge(ctx, s->link))
		return 0;
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

int lj_rtnl_undo_shared_link(struct lj_ctx *ctx, const struct lj_step *s, const char *kind,
			     int (*keep)(struct lj_ctx *ctx, const struct lj_step *s,
					 const struct lj_link *l))
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
	if (strcmp(l.kind, kind) != 0)
		return 0; /* not ours: never remove it */
	r = keep(ctx, s, &l);
	if (r != 0)
		return r < 0 ? lj_ctx_nl_error(ctx, ctx->host, r) : 0;
	r = lj_link_del(ctx->host, s->link);
	lj_ctx_forget(ctx, LJ_HOST, s->link);
	return r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, ctx->host, r);
}

/* Keep a bridge that is not lanjoin's or still has ports. */
static int bridge_keep(struct lj_ctx *ctx, const struct lj_step *s, const struct lj_link *l)
{
	int r;

	/*
	 * Without lanjoin's alias it is not ours, unless a run of this very record was killed
	 * between creating it and setting the alias (the kernel ignores an alias in the creating
	 * request): the bridge was missing when the plan was made and has no alias at all.
	 */
	if (strcmp(l->alias, LJ_OWNED_ALIAS) != 0 &&
	    (l->alias[0] || !(s->flags & LJ_STEP_F_WILL_CREATE)))
		return 1;
	r = lj_link_has_ports(ctx->host, l->ifindex);
	return r < 0 ? r : r > 0;
}

static int bridge_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	return lj_rtnl_undo_shared_link(ctx, s, "bridge", bridge_keep);
}

int lj_rtnl_check_ifname_free(struct lj_ctx *ctx, const char *ifname, struct lj_result *res)
{
	struct lj_link l;
	int r;

	r = lj_link_get(ctx->target, ifname, &l);
	if (r == 0)
		return lj_bad_input(res, "'%s' already exists in %s; choose another --ifname",
				    ifname, ctx->tgt->spec);
	if (r != -ENODEV)
		return lj_fail(res, r, "Failed to look up '%s' in the target: %s", ifname,
			       strerror(-r));
	return 0;
}

static void bridge_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char mac[LJ_MAC_STRLEN];

	if (!(s->flags & LJ_STEP_F_WILL_CREATE))
		return;
	fprintf(f, "ip link add %s", LJ_SHQ(s->link));
	if (s->has_mac)
		fprintf(f, " address %s", lj_mac_to_string(s->mac, mac, sizeof(mac)));
	if (s->mtu)
		fprintf(f, " mtu %u", s->mtu);
	fprintf(f, " type bridge\nip link set %s alias '%s' up\n", LJ_SHQ(s->link), LJ_OWNED_ALIAS);
}

/* Commented out: pasted, it would delete a bridge that still holds ports (an adopted uplink,
 * other containers) or that lanjoin did not make; detach checks both first. */
static void bridge_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	/* Made by someone else (an adopted uplink's, the user's): not a word of deleting it. */
	if (!(s->flags & LJ_STEP_F_WILL_CREATE))
		return;
	fprintf(f,
		"# lanjoin deletes bridge %s here if it made it and no port is left; by hand,\n"
		"# once that is so:\n# ip link del %s\n",
		LJ_SHQ(s->link), LJ_SHQ(s->link));
}

const struct lj_step_type lj_step_bridge = {
	.id = "bridge",
	.apply = bridge_apply,
	.verify = lj_status_verify_bridge,
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
		.mac = s->has_link_mac ? s->link_mac : NULL,
		.up = true,
		/* below 1280 bytes the kernel gives a link no IPv6 at all (nor its settings) */
		.no_ipv6 = !s->mtu || s->mtu >= 1280,
	};
	struct lj_link l, made;
	int r;

	if (s->master[0]) {
		r = lj_ctx_ifindex(ctx, LJ_HOST, s->master);
		if (r < 0) {
			lj_ctx_detail(ctx, "bridge '%s' is gone", s->master);
			return r;
		}
		o.master = r;
		s->u32 = (uint32_t)r; /* the bridge it joined: check_veth compares */
	}
	r = lj_link_add_veth_echo(ctx->host, &o, &made);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "a link named '%s' exists on the host or '%s' in the target",
			      s->link, s->peer);
	else if (r == -EINVAL && o.master && lj_link_get_by_index(ctx->host, o.master, &l) < 0)
		lj_ctx_detail(ctx, "bridge '%s' is gone", s->master); /* its ifindex is unknown */
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	/*
	 * The container end as made: its ifindex is the host end's IFLA_LINK in the echo, its MAC
	 * the one given. The steps after it (its address, its announcement, the record's MAC)
	 * need no lookup of it.
	 */
	if (made.ifindex > 0 && made.parent > 0 && s->has_mac && ctx->target)
		lj_ctx_remember_mac(ctx, LJ_TARGET, s->peer, made.parent, s->mac);
	/*
	 * What undo checks before deleting once the attachment is recorded: the name alone may be
	 * another link's by then. Not saved now: until the commit, undo knows the host end by its
	 * name and the MAC the record gave it before it was made (veth_ours).
	 */
	if (made.ifindex > 0) {
		s->i64 = made.ifindex;
		return 0;
	}
	r = lj_link_get(ctx->host, s->link, &l);
	if (r == 0)
		s->i64 = l.ifindex;
	return lj_ctx_nl_error(ctx, ctx->host, r);
}

/*
 * Is the host link named s->link the one s created? By the ifindex apply recorded (the kernel
 * numbers a namespace's links upwards and does not give a number out again until it wraps at
 * 2^31); before that is recorded (the record of a run killed before its commit, i64 0), by
 * the MAC the record gave the host end before the creating request set it (link_mac: random,
 * 46 bits); records of a lanjoin that recorded neither, by the name alone.
 */
static int veth_ours(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_link l;
	int r;

	if (!s->i64 && !s->has_link_mac)
		return 1;
	r = lj_link_get(ctx->host, s->link, &l);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (strcmp(l.kind, "veth") != 0)
		return 0;
	if (s->i64)
		return l.ifindex == s->i64;
	return l.has_mac && memcmp(l.mac, s->link_mac, LJ_MAC_LEN) == 0;
}

int lj_rtnl_veth_macs(struct lj_step *s, const struct lj_attach_opts *o)
{
	int r;

	if (o->has_mac) {
		memcpy(s->mac, o->mac, LJ_MAC_LEN);
	} else {
		r = lj_mac_random(s->mac);
		if (r < 0)
			return r;
		s->flags |= LJ_STEP_F_MAC_CHOSEN;
	}
	s->has_mac = true;
	do {
		r = lj_mac_random(s->link_mac);
		if (r < 0)
			return r;
	} while (memcmp(s->link_mac, s->mac, LJ_MAC_LEN) == 0);
	s->has_link_mac = true;
	return 0;
}

static int veth_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	int r;

	/* Gone, or the name is another link's now (e.g. made by a later attach): not ours. */
	r = veth_ours(ctx, s);
	if (r <= 0) {
		lj_ctx_forget(ctx, LJ_HOST, s->link);
		lj_ctx_forget(ctx, LJ_TARGET, s->peer);
		return r;
	}
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

	fprintf(f, "ip link add %s", LJ_SHQ(s->link));
	if (s->has_link_mac)
		fprintf(f, " address %s", lj_mac_to_string(s->link_mac, mac, sizeof(mac)));
	if (s->mtu)
		fprintf(f, " mtu %u", s->mtu);
	fprintf(f, " type veth peer name %s", LJ_SHQ(s->peer));
	if (t && t->kind == LJ_TARGET_NETNS)
		fprintf(f, " netns %s", LJ_SHQ(t->name));
	else if (t && t->pid > 0)
		fprintf(f, " netns %d", (int)t->pid);
	else if (t)
		fprintf(f, " netns %s", LJ_SHQ(t->name));
	if (s->peer_mtu)
		fprintf(f, " mtu %u", s->peer_mtu);
	if (s->has_mac)
		fprintf(f, " address %s", lj_mac_to_string(s->mac, mac, sizeof(mac)));
	fputc('\n', f);
	/* iproute2 6.1 sends addrgenmode in the creating request, which the kernel refuses
	 * (EAFNOSUPPORT): it goes with the "up", as veth_apply does (lj_link_setup). */
	fprintf(f, "ip link set %s%s%s%s up\n", LJ_SHQ(s->link), s->master[0] ? " master " : "",
		s->master[0] ? LJ_SHQ(s->master) : "",
		!s->mtu || s->mtu >= 1280 ? " addrgenmode none" : "");
}

static void veth_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "ip link del %s\n", LJ_SHQ(s->link));
}

/*
 * The port the plan relies on: the host end still in the bridge it joined (u32 = the bridge's
 * ifindex then), and that bridge still there under its name. A bridge deleted (and maybe made
 * again) by someone else while the attach ran leaves the veth without a master, or with
 * another one.
 */
static int veth_check(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_link br, l;
	int r;

	if (!s->master[0] || !s->u32)
		return 0;
	/*
	 * One request when all holds: the host end's master is still the bridge it joined (the
	 * kernel does not give that ifindex to another link, and a deleted bridge lets go of its
	 * ports). Otherwise the bridge is looked at too, to say what changed.
	 */
	r = lj_link_get(ctx->host, s->link, &l);
	if (r == 0 && l.master == (int)s->u32)
		return 0;
	r = lj_link_get(ctx->host, s->master, &br);
	if (r == -ENODEV) {
		lj_ctx_detail(ctx, "bridge '%s' was deleted while lanjoin attached to it",
			      s->master);
		return -ENODEV;
	}
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (br.ifindex != (int)s->u32 || strcmp(br.kind, "bridge") != 0) {
		lj_ctx_detail(ctx,
			      "bridge '%s' was deleted and replaced (ifindex %d, was %u) while "
			      "lanjoin attached to it",
			      s->master, br.ifindex, s->u32);
		return -ENODEV;
	}
	r = lj_link_get(ctx->host, s->link, &l);
	if (r == -ENODEV) {
		lj_ctx_detail(ctx, "'%s' was deleted while lanjoin attached it", s->link);
		return -ENODEV;
	}
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (l.master != br.ifindex) {
		lj_ctx_detail(ctx, "'%s' is no longer a port of bridge '%s'", s->link, s->master);
		return -ENOLINK;
	}
	return 0;
}

/* Both ends are there, the host end up and still a port of its bridge, the container end's MAC
 * kept. */
static int veth_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
		       size_t size)
{
	/* the host end must be up too: a port that is down passes no frame */
	const struct lj_link *h = lj_status_need_link(v, LJ_HOST, s->link, true, why, size), *p;
	const struct lj_link *br;

	if (!h)
		return LJ_VERIFY_DRIFTED;
	if (s->master[0]) {
		br = lj_status_link(v->host, s->master);
		if (!br || h->master != br->ifindex) {
			snprintf(why, size, "%s is no longer a port of %s", s->link, s->master);
			return LJ_VERIFY_DRIFTED;
		}
		if (!lj_status_need_link(v, LJ_HOST, s->master, true, why, size)) {
			size_t len = strlen(why);

			snprintf(why + len, size - len, " (the bridge)");
			return LJ_VERIFY_DRIFTED;
		}
	}
	if (!v->target)
		return 0;
	p = lj_status_need_link(v, LJ_TARGET, s->peer, false, why, size);
	if (!p)
		return LJ_VERIFY_DRIFTED;
	if (s->flags & LJ_STEP_F_MAC_CHOSEN)
		return 0; /* not the user's: the container may change it */
	return lj_status_mac_kept(p, s, LJ_TARGET, why, size);
}

const struct lj_step_type lj_step_veth = {
	.id = "veth",
	.apply = veth_apply,
	.check = veth_check,
	.verify = veth_verify,
	.undo = veth_undo,
	.describe = veth_describe,
	.describe_undo = veth_describe_undo,
	/* No save after it: its ifindex is recorded with the commit; until then the record
	 * already holds what undo knows the pair by (its name and link_mac, veth_ours). */
};

/* --- link-up: link in where; undo sets it down again */

static int link_up_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_nl *nl = lj_ctx_nl(ctx, s->where);
	int r = lj_link_set_up(nl, s->link, true);
	struct lj_link l;
	char mac[LJ_MAC_STRLEN];

	/* A macvlan is refused only here, when it opens, if its MAC is taken on the parent. */
	if (r == -EADDRINUSE && lj_link_get(nl, s->link, &l) == 0 && l.has_mac)
		lj_ctx_detail(ctx,
			      "MAC %s of '%s' is taken: another macvlan on the same parent "
			      "has it (in some namespace; 'lanjoin list' names lanjoin's)",
			      lj_mac_to_string(l.mac, mac, sizeof(mac)), s->link);
	return lj_ctx_nl_error(ctx, nl, r);
}

static int link_up_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_nl *nl = lj_ctx_nl(ctx, s->where);
	int r = lj_link_set_up(nl, s->link, false);

	return r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, nl, r);
}

static void link_up_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "%s link set %s up\n", lj_ctx_ip(ctx, s->where), LJ_SHQ(s->link));
}

static void link_up_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "%s link set %s down\n", lj_ctx_ip(ctx, s->where), LJ_SHQ(s->link));
}

static int link_up_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			  size_t size)
{
	if (!lj_status_where(v, s->where))
		return 0;
	return lj_status_need_link(v, s->where, s->link, true, why, size) ? 0 : LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_link_up = {
	.id = "link-up",
	.apply = link_up_apply,
	.verify = link_up_verify,
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

	/* lj_addr_add gives an IPv4 address below /31 its broadcast address ("brd +") */
	fprintf(f, "%s addr add %s%s dev %s%s%s\n", lj_ctx_ip(ctx, s->where),
		lj_cidr_to_string(&s->cidr, c, sizeof(c)),
		s->cidr.ip.family == AF_INET && s->cidr.prefixlen < 31 ? " brd +" : "",
		LJ_SHQ(s->link), (s->u32 & IFA_F_NODAD) ? " nodad" : "",
		(s->u32 & IFA_F_NOPREFIXROUTE) ? " noprefixroute" : "");
}

static void addr_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char c[LJ_CIDR_STRLEN];

	fprintf(f, "%s addr del %s dev %s\n", lj_ctx_ip(ctx, s->where),
		lj_cidr_to_string(&s->cidr, c, sizeof(c)), LJ_SHQ(s->link));
}

static int addr_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
		       size_t size)
{
	const struct lj_status_ns *ns = lj_status_where(v, s->where);
	const struct lj_link *l;
	char buf[LJ_CIDR_STRLEN];

	if (!ns)
		return 0;
	l = lj_status_need_link(v, s->where, s->link, false, why, size);
	if (!l)
		return LJ_VERIFY_DRIFTED;
	if (!lj_status_has_addr(ns, l->ifindex, &s->cidr)) {
		snprintf(why, size, "address %s is missing on %s%s",
			 lj_cidr_to_string(&s->cidr, buf, sizeof(buf)), s->link,
			 s->where == LJ_TARGET ? " in the target" : "");
		return LJ_VERIFY_DRIFTED;
	}
	return 0;
}

const struct lj_step_type lj_step_addr = {
	.id = "addr",
	.verify = addr_verify,
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
	fprintf(f, " dev %s proto static", LJ_SHQ(s->link)); /* as lj_route_add makes it */
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

static int route_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			size_t size)
{
	const struct lj_status_ns *ns = lj_status_where(v, s->where);
	const struct lj_link *l;
	char buf[LJ_CIDR_STRLEN];

	if (!ns)
		return 0;
	l = lj_status_need_link(v, s->where, s->link, false, why, size);
	if (!l)
		return LJ_VERIFY_DRIFTED;
	if (!lj_status_has_route(ns, &s->cidr, &s->via, l->ifindex, s->u32)) {
		snprintf(why, size, "route to %s on %s%s is missing",
			 lj_cidr_to_string(&s->cidr, buf, sizeof(buf)), s->link,
			 s->where == LJ_TARGET ? " in the target" : "");
		return LJ_VERIFY_DRIFTED;
	}
	return 0;
}

const struct lj_step_type lj_step_route = {
	.id = "route",
	.verify = route_verify,
	.apply = route_apply,
	.undo = route_undo,
	.describe = route_describe,
	.describe_undo = route_describe_undo,
};

void lj_sysctl_describe_write(FILE *f, const char *key, const char *val)
{
	char word[512], inner[LJ_SHQ_MAX + 64];

	if (!key)
		key = "";
	if (strchr(key, '=')) {
		snprintf(word, sizeof(word), "/proc/sys/%s", key);
		snprintf(inner, sizeof(inner), "echo %s >%s", val, LJ_SHQ(word));
		fprintf(f, "sh -c %s", LJ_SHQ(inner));
		return;
	}
	snprintf(word, sizeof(word), "%s=%s", key, val);
	if (!strchr(key, '.'))
		for (char *p = word; *p && *p != '='; p++)
			if (*p == '/')
				*p = '.';
	fprintf(f, "sysctl -qw %s", LJ_SHQ(word));
}
