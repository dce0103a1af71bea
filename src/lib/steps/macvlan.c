/* SPDX-License-Identifier: MIT */
/* Plan steps of the macvlan way: the container's macvlan child and the host shim. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <string.h>
#include <unistd.h>

#include "lib/kernel/addr.h"
#include "lib/kernel/link.h"
#include "lib/steps/macvlan.h"
#include "shared/name.h"
#include "lib/kernel/neigh.h"
#include "lib/core/plan.h"
#include "lib/core/status.h"
#include "lib/kernel/route.h"
#include "lib/steps/rtnl.h"
#include "shared/macro.h"
#include "shared/shquote.h"

/*
 * --- macvlan: link = the child's name in the target, master = the parent in the host,
 * u32 = MACVLAN_MODE_*, mtu, mac. Created in the target by a request on the host socket
 * (IFLA_NET_NS_FD), so it never exists in the host; undo deletes it in the target.
 */

static int macvlan_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_macvlan_opts o = {
		.name = s->link,
		.netns_fd = ctx->target_fd,
		.mode = s->u32,
		.mtu = s->mtu,
		.mac = s->has_mac ? s->mac : NULL,
	};
	char mac[LJ_MAC_STRLEN];
	int r;

	r = lj_ctx_ifindex(ctx, LJ_HOST, s->master);
	if (r < 0) {
		lj_ctx_detail(ctx, "parent '%s' is gone", s->master);
		return r;
	}
	o.parent = r;
	r = lj_link_add_macvlan(ctx->host, &o);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "the target already has a link named '%s'", s->link);
	else if (r == -EBUSY)
		lj_ctx_detail(ctx, "'%s' is a port of a bridge or bond", s->master);
	else if (r == -EADDRINUSE && s->has_mac)
		lj_ctx_detail(ctx,
			      "MAC %s is taken: another macvlan on '%s' has it (in some "
			      "namespace; 'lanjoin list' names lanjoin's)",
			      lj_mac_to_string(s->mac, mac, sizeof(mac)), s->master);
	else if (r == -EADDRINUSE)
		lj_ctx_detail(ctx, "another macvlan on '%s' has that MAC address", s->master);
	else if (r == -EINVAL && !lj_nl_extack(ctx->host)[0])
		lj_ctx_detail(ctx,
			      "mode %s clashes with the other macvlans on '%s' (passthru needs "
			      "the parent alone)",
			      lj_macvlan_mode_name(s->u32), s->master);
	return lj_ctx_nl_error(ctx, ctx->host, r);
}

static int macvlan_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	int r = lj_link_del(ctx->target, s->link);

	lj_ctx_forget(ctx, LJ_TARGET, s->link);
	return r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, ctx->target, r);
}

static void macvlan_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	const struct lj_target *t = ctx->tgt;
	char mac[LJ_MAC_STRLEN];

	fprintf(f, "ip link add link %s name %s", LJ_SHQ(s->master), LJ_SHQ(s->link));
	if (t && t->kind == LJ_TARGET_NETNS)
		fprintf(f, " netns %s", LJ_SHQ(t->name));
	else if (t && t->pid > 0)
		fprintf(f, " netns %d", (int)t->pid);
	else if (t)
		fprintf(f, " netns %s", LJ_SHQ(t->name));
	if (s->mtu)
		fprintf(f, " mtu %u", s->mtu);
	if (s->has_mac)
		fprintf(f, " address %s", lj_mac_to_string(s->mac, mac, sizeof(mac)));
	fprintf(f, " type macvlan mode %s\n", lj_macvlan_mode_name(s->u32));
}

static void macvlan_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "%s link del %s\n", lj_ctx_ip(ctx, LJ_TARGET), LJ_SHQ(s->link));
}

/* The parent is there and up; the macvlan link is in the target with its MAC. */
static int macvlan_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			  size_t size)
{
	const struct lj_link *l;

	if (!lj_status_need_link(v, LJ_HOST, s->master, true, why, size)) {
		size_t len = strlen(why);

		snprintf(why + len, size - len, " (the parent)");
		return LJ_VERIFY_DRIFTED;
	}
	if (!v->target)
		return 0;
	l = lj_status_need_link(v, LJ_TARGET, s->link, false, why, size);
	if (!l)
		return LJ_VERIFY_DRIFTED;
	return lj_status_mac_kept(l, s, LJ_TARGET, why, size);
}

const struct lj_step_type lj_step_macvlan = {
	.id = "macvlan",
	.verify = macvlan_verify,
	.apply = macvlan_apply,
	.undo = macvlan_undo,
	.describe = macvlan_describe,
	.describe_undo = macvlan_describe_undo,
};

/*
 * --- shim: link = the shim, master = its parent, cidr = its address (a /32 or /128: no
 * prefix route), u32 = 1 for a pinned shim (`shim add`), 2 for a Docker network's. Ensures
 * the shim exists with that address. Undo deletes it only if lanjoin made it unpinned and no route
 * leaves through it any more (the routes of the containers using it are host steps undone before
 * this one, in the same or in other records), or if this very run made it and is rolling back.
 */

static int shim_has_addr(struct lj_nl *nl, int ifindex, const struct lj_cidr *c)
{
	struct lj_cidr addrs[LJ_MACVLAN_MAX_ADDRS];
	size_t n;
	int r;

	r = lj_addr_list_link(nl, ifindex, c->ip.family, addrs, LJ_MACVLAN_MAX_ADDRS, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && i < LJ_MACVLAN_MAX_ADDRS; i++)
		if (lj_ip_equal(&addrs[i].ip, &c->ip))
			return 1;
	return 0;
}

/*
 * Write /proc/sys/net/ipv6/conf/LINK/KEY of a link this step just created (lanjoin runs in
 * the host's namespace, so /proc/sys/net is the host's). Returns 0 or -errno.
 */
static int shim_sysctl(struct lj_ctx *ctx, const char *link, const char *key, const char *val)
{
	char path[128];
	ssize_t n;
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", link, key);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = lj_negerrno();
		lj_ctx_detail(ctx, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	n = write(fd, val, strlen(val));
	if (n != (ssize_t)strlen(val)) {
		r = n < 0 ? lj_negerrno() : -EIO;
		lj_ctx_detail(ctx, "cannot write %s: %s", path, strerror(-r));
	}
	close(fd);
	return r;
}

static int shim_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_macvlan_opts o = {
		.name = s->link,
		.netns_fd = -1,
		.mode = MACVLAN_MODE_BRIDGE,
	};
	char buf[LJ_CIDR_STRLEN];
	struct lj_link l;
	int parent, r;

	parent = lj_ctx_ifindex(ctx, LJ_HOST, s->master);
	if (parent < 0) {
		lj_ctx_detail(ctx, "parent '%s' is gone", s->master);
		return parent;
	}
	r = lj_link_get(ctx->host, s->link, &l);
	if (r == 0 && lj_shim_is_leftover(ctx->host, &l, parent) == 1) {
		/* an interrupted run's, never marked: start afresh */
		r = lj_link_del(ctx->host, s->link);
		lj_ctx_forget(ctx, LJ_HOST, s->link);
		if (r < 0 && r != -ENODEV)
			return lj_ctx_nl_error(ctx, ctx->host, r);
		r = -ENODEV;
	}
	if (r == 0) {
		if (strcmp(l.kind, "macvlan") != 0 || !lj_shim_is_ours(&l) || l.parent != parent) {
			lj_ctx_detail(ctx, "'%s' exists and is not lanjoin's shim on '%s'", s->link,
				      s->master);
			return -EEXIST;
		}
		r = shim_has_addr(ctx->host, l.ifindex, &s->cidr);
		if (r < 0)
			return lj_ctx_nl_error(ctx, ctx->host, r);
		if (r == 0) {
			lj_ctx_detail(ctx, "shim '%s' does not hold %s", s->link,
				      lj_ip_to_string(&s->cidr.ip, buf, sizeof(buf)));
			return -EADDRNOTAVAIL;
		}
		return 0;
	}
	if (r != -ENODEV)
		return lj_ctx_nl_error(ctx, ctx->host, r);

	o.parent = parent;
	r = lj_link_add_macvlan(ctx->host, &o);
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	/*
	 * Alias, IPv6 set up, up, then the address: if any of it fails the link goes again.
	 * The shim must not take router advertisements (new links accept them by default): a
	 * SLAAC address and a second default route through the shim would change the host's
	 * routes. An IPv4 shim gets no IPv6 at all; an IPv6 shim keeps its link-local address
	 * (NDP needs one) but neither accepts RAs nor autoconfigures. Both before it goes up.
	 */
	r = lj_link_set_alias(ctx->host, s->link, lj_shim_alias(s->u32));
	if (r >= 0 && s->cidr.ip.family == AF_INET)
		r = shim_sysctl(ctx, s->link, "disable_ipv6", "1");
	if (r >= 0 && s->cidr.ip.family == AF_INET6)
		r = shim_sysctl(ctx, s->link, "accept_ra", "0");
	if (r >= 0 && s->cidr.ip.family == AF_INET6)
		r = shim_sysctl(ctx, s->link, "autoconf", "0");
	if (r >= 0)
		r = lj_link_set_up(ctx->host, s->link, true);
	if (r >= 0) {
		int ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
		/* NOPREFIXROUTE: IPv6 would add a route to the /128 itself. */
		r = ifindex < 0 ? ifindex
				: lj_addr_add(ctx->host, ifindex, &s->cidr,
					      IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
	}
	if (r < 0) {
		lj_ctx_nl_error(ctx, ctx->host, r);
		lj_link_del(ctx->host, s->link);
		lj_ctx_forget(ctx, LJ_HOST, s->link);
		return r;
	}
	s->created = true;
	return 0;
}

/* Keep a shim that is not lanjoin's, is pinned by `shim add`, or still carries a route. */
static int shim_keep(struct lj_ctx *ctx, const struct lj_step *s, const struct lj_link *l)
{
	int r;

	if (!lj_shim_is_ours(l)) {
		/* Without an alias it is ours only if a run killed in shim_apply, between
		 * creating it and setting the alias, left it (gc undoes such a run's record). */
		r = lj_shim_is_leftover(ctx->host, l, lj_ctx_ifindex(ctx, LJ_HOST, s->master));
		return r < 0 ? r : !r;
	}
	if (ctx->rollback && s->created)
		return 0;
	if (strcmp(l->alias, LJ_OWNED_ALIAS) != 0)
		return 1; /* pinned by `shim add`: kept until `shim del` */
	/* Under the state lock no attach adds a route meanwhile. */
	r = lj_route_count_dev(ctx->host, l->ifindex);
	return r < 0 ? r : r > 0;
}

static int shim_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	return lj_rtnl_undo_shared_link(ctx, s, "macvlan", shim_keep);
}

static void shim_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char c[LJ_CIDR_STRLEN];

	if (!(s->flags & LJ_STEP_F_WILL_CREATE))
		return;
	fprintf(f, "ip link add link %s name %s type macvlan mode bridge\n", LJ_SHQ(s->master),
		LJ_SHQ(s->link));
	fprintf(f, "ip link set %s alias '%s'\n", LJ_SHQ(s->link), lj_shim_alias(s->u32));
	if (s->cidr.ip.family == AF_INET)
		fprintf(f, "sysctl -qw net.ipv6.conf.%s.disable_ipv6=1\n", LJ_SHQ(s->link));
	else
		fprintf(f, "sysctl -qw net.ipv6.conf.%s.accept_ra=0 net.ipv6.conf.%s.autoconf=0\n",
			LJ_SHQ(s->link), LJ_SHQ(s->link));
	fprintf(f, "ip link set %s up\n", LJ_SHQ(s->link));
	fprintf(f, "ip addr add %s dev %s%s noprefixroute\n",
		lj_cidr_to_string(&s->cidr, c, sizeof(c)), LJ_SHQ(s->link),
		s->cidr.ip.family == AF_INET6 ? " nodad" : "");
}

static void shim_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "# if lanjoin created host shim %s and no route uses it any more:\n",
		LJ_SHQ(s->link));
	fprintf(f, "ip link del %s\n", LJ_SHQ(s->link));
}

/* The host shim is there, up, on its parent, and holds its address. */
static int shim_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
		       size_t size)
{
	const struct lj_link *l = lj_status_need_link(v, LJ_HOST, s->link, true, why, size);
	const struct lj_link *parent = lj_status_link(v->host, s->master);
	char buf[LJ_CIDR_STRLEN];

	if (!l)
		return LJ_VERIFY_DRIFTED;
	if (!parent || l->parent != parent->ifindex) {
		snprintf(why, size, "shim %s is no longer on %s", s->link, s->master);
		return LJ_VERIFY_DRIFTED;
	}
	if (s->cidr.ip.family != AF_UNSPEC && !lj_status_has_addr(v->host, l->ifindex, &s->cidr)) {
		snprintf(why, size, "address %s is missing on shim %s",
			 lj_cidr_to_string(&s->cidr, buf, sizeof(buf)), s->link);
		return LJ_VERIFY_DRIFTED;
	}
	return 0;
}

const struct lj_step_type lj_step_shim = {
	.id = "shim",
	.verify = shim_verify,
	.apply = shim_apply,
	.undo = shim_undo,
	.describe = shim_describe,
	.describe_undo = shim_describe_undo,
};

/*
 * --- shim-route: a host route to cidr (a container's /32 or /128) through the shim link.
 * The shim outlives containers, and its neighbour entry for the address may still name the
 * MAC of a container that had the address before (Linux keeps a REACHABLE entry for up to
 * 45 s and sends no probe meanwhile): the entry goes when the route comes and goes.
 */

static int shim_route_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	int r, oif = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
	struct lj_route rt = {.dst = s->cidr};

	if (oif < 0) {
		lj_ctx_detail(ctx, "shim '%s' is gone", s->link);
		return oif;
	}
	rt.oif = oif;
	lj_neigh_del(ctx->host, oif, &s->cidr.ip); /* none is fine */
	r = lj_route_add(ctx->host, &rt);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "the host already has a route to that address");
	return lj_ctx_nl_error(ctx, ctx->host, r);
}

static int shim_route_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	int r, oif = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
	struct lj_route rt = {.dst = s->cidr};

	if (oif == -ENODEV)
		return 0;
	if (oif < 0)
		return lj_ctx_nl_error(ctx, ctx->host, oif);
	rt.oif = oif;
	r = lj_route_del(ctx->host, &rt);
	if (r < 0 && r != -ESRCH && r != -ENODEV)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	lj_neigh_del(ctx->host, oif, &s->cidr.ip);
	return 0;
}

static void shim_route_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char c[LJ_CIDR_STRLEN], a[LJ_IP_STRLEN];

	lj_cidr_to_string(&s->cidr, c, sizeof(c));
	fprintf(f, "ip neigh del %s dev %s 2>/dev/null || true\n",
		lj_ip_to_string(&s->cidr.ip, a, sizeof(a)), LJ_SHQ(s->link));
	fprintf(f, "ip %sroute add %s dev %s proto static\n",
		s->cidr.ip.family == AF_INET6 ? "-6 " : "", c, LJ_SHQ(s->link));
}

static void shim_route_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char c[LJ_CIDR_STRLEN], a[LJ_IP_STRLEN];

	lj_cidr_to_string(&s->cidr, c, sizeof(c));
	fprintf(f, "ip %sroute del %s dev %s\n", s->cidr.ip.family == AF_INET6 ? "-6 " : "", c,
		LJ_SHQ(s->link));
	fprintf(f, "ip neigh del %s dev %s 2>/dev/null || true\n",
		lj_ip_to_string(&s->cidr.ip, a, sizeof(a)), LJ_SHQ(s->link));
}

/* The host route to the container's address through the shim is there. */
static int shim_route_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			     size_t size)
{
	const struct lj_link *l = lj_status_need_link(v, LJ_HOST, s->link, false, why, size);
	char buf[LJ_CIDR_STRLEN];

	if (!l)
		return LJ_VERIFY_DRIFTED;
	if (!lj_status_has_route(v->host, &s->cidr, NULL, l->ifindex, 0)) {
		snprintf(why, size, "host route to %s through shim %s is missing",
			 lj_cidr_to_string(&s->cidr, buf, sizeof(buf)), s->link);
		return LJ_VERIFY_DRIFTED;
	}
	return 0;
}

const struct lj_step_type lj_step_shim_route = {
	.id = "shim-route",
	.verify = shim_route_verify,
	.apply = shim_route_apply,
	.undo = shim_route_undo,
	.describe = shim_route_describe,
	.describe_undo = shim_route_describe_undo,
};

/* --- the facts the way and the shim commands share ------------------------------------ */

const struct lj_way_choice lj_macvlan_modes[LJ_MACVLAN_N_MODES] = {
	{"bridge", MACVLAN_MODE_BRIDGE},
	{"vepa", MACVLAN_MODE_VEPA},
	{"private", MACVLAN_MODE_PRIVATE},
	{"passthru", MACVLAN_MODE_PASSTHRU},
};

const char *lj_macvlan_mode_name(uint32_t mode)
{
	for (size_t i = 0; i < LJ_MACVLAN_N_MODES; i++)
		if (lj_macvlan_modes[i].value == mode)
			return lj_macvlan_modes[i].name;
	return lj_macvlan_modes[0].name;
}

void lj_shim_name(const char *parent, char ret[IFNAMSIZ])
{
	lj_name_hashed("ljs", parent, ret);
}

bool lj_shim_is_ours(const struct lj_link *l)
{
	return strcmp(l->alias, LJ_OWNED_ALIAS) == 0 ||
	       strcmp(l->alias, LJ_SHIM_PINNED_ALIAS) == 0 ||
	       strcmp(l->alias, LJ_SHIM_NETWORK_ALIAS) == 0;
}

const char *lj_shim_alias(uint32_t u32)
{
	return u32 == 2 ? LJ_SHIM_NETWORK_ALIAS : u32 ? LJ_SHIM_PINNED_ALIAS : LJ_OWNED_ALIAS;
}

int lj_shim_is_leftover(struct lj_nl *nl, const struct lj_link *l, int parent)
{
	struct lj_cidr a;
	size_t n = 0;
	int r;

	if (strcmp(l->kind, "macvlan") != 0 || l->alias[0] || parent <= 0 || l->parent != parent)
		return 0;
	r = lj_addr_list_link(nl, l->ifindex, AF_UNSPEC, &a, 1, &n);
	if (r < 0)
		return r;
	return n == 0;
}
