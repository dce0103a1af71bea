/* SPDX-License-Identifier: MIT */
/*
 * The macvlan way: a macvlan child of the parent, created directly in the target, and on
 * request the host shim (see macvlan-common.h) with a host route to each container address.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <string.h>

#include "lib/kernel/addr.h"
#include "lib/ways/lan-prefix.h"
#include "lib/ways/macvlan.h"
#include "lib/ways/ways.h"
#include "lib/core/state.h"
#include "lib/steps/rtnl.h"

/* Refuse container addresses that the host holds on the parent or on the shim. */
static int check_container_ips(const struct lj_attach_opts *o, const char *parent,
			       const struct lj_cidr *paddrs, size_t np, const char *shim,
			       const struct lj_cidr *saddrs, size_t ns, struct lj_result *res)
{
	char buf[LJ_IP_STRLEN];

	for (size_t i = 0; i < o->n_ips; i++) {
		const struct lj_ip *ip = &o->ips[i].ip;

		for (size_t k = 0; k < np; k++)
			if (lj_ip_equal(ip, &paddrs[k].ip))
				return lj_bad_input(res,
						    "%s is the host's own address on '%s': give "
						    "the container an address of its own",
						    lj_ip_to_string(ip, buf, sizeof(buf)), parent);
		for (size_t k = 0; k < ns; k++)
			if (lj_ip_equal(ip, &saddrs[k].ip))
				return lj_bad_input(
					res,
					"%s is the address of the host shim '%s' on "
					"'%s': give the container an address of its own",
					lj_ip_to_string(ip, buf, sizeof(buf)), shim, parent);
		if (o->host_shim.ip.family != AF_UNSPEC && lj_ip_equal(ip, &o->host_shim.ip))
			return lj_bad_input(res,
					    "%s is given both as the container's address and "
					    "as the host shim's",
					    lj_ip_to_string(ip, buf, sizeof(buf)));
	}
	return 0;
}

/* Add the shim step and the host routes to the container's addresses through it. */
static int add_shim_steps(const struct lj_attach_opts *o, const char *shim, bool create,
			  struct lj_plan *plan, struct lj_record *rec)
{
	char buf[LJ_CIDR_STRLEN];
	struct lj_step *s;
	json_t *routes;

	if (create && o->host_shim.ip.family == AF_INET && !o->no_conflict_check) {
		/* The shim's address must be free on the LAN (RFC 5227 probe from the parent). */
		s = lj_plan_add(plan, &lj_step_arp_probe, LJ_HOST, "probe the LAN for %s on '%s'",
				lj_ip_to_string(&o->host_shim.ip, buf, sizeof(buf)), o->parent);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->parent);
		s->cidr = o->host_shim;
	}
	s = lj_plan_add(plan, &lj_step_shim, LJ_HOST, "%s host shim '%s' on '%s'",
			create ? "create" : "use", shim, o->parent);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", shim);
	snprintf(s->master, sizeof(s->master), "%s", o->parent);
	s->cidr = o->host_shim;
	/* A host address, not a prefix: the host's route to the LAN stays on the parent. */
	s->cidr.prefixlen = o->host_shim.ip.family == AF_INET ? 32 : 128;
	if (create)
		s->flags |= LJ_STEP_F_WILL_CREATE;
	json_object_set_new(rec->info, "host_shim", json_string(shim));
	if (create) /* else reused: another attachment's, or one `shim add` made */
		json_object_set_new(rec->info, "host_shim_created", json_true());
	snprintf(rec->host_ifname, sizeof(rec->host_ifname), "%s", shim); /* shared; for list */
	json_object_set_new(rec->info, "host_shim_address",
			    json_string(lj_ip_to_string(&o->host_shim.ip, buf, sizeof(buf))));

	routes = json_array();
	if (!routes)
		return -ENOMEM;
	json_object_set_new(rec->info, "host_routes", routes);
	for (size_t i = 0; i < o->n_ips; i++) {
		struct lj_cidr dst = o->ips[i];

		if (dst.ip.family != o->host_shim.ip.family)
			continue; /* the shim has no source address for it */
		dst.prefixlen = dst.ip.family == AF_INET ? 32 : 128;
		lj_cidr_to_string(&dst, buf, sizeof(buf));
		s = lj_plan_add(plan, &lj_step_shim_route, LJ_HOST,
				"add host route %s via shim '%s'", buf, shim);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", shim);
		s->cidr = dst;
		json_array_append_new(routes, json_string(buf));
	}
	return 0;
}

struct mac_user {
	const uint8_t *mac;
	char name[IFNAMSIZ];
};

static int find_mac_cb(const struct lj_link *l, void *data)
{
	struct mac_user *u = data;

	if (!l->has_mac || memcmp(l->mac, u->mac, LJ_MAC_LEN) != 0)
		return 0;
	snprintf(u->name, sizeof(u->name), "%s", l->name);
	return 1;
}

/*
 * The host shim's link (ifindex 0: none) and, with --mac, the parent's child that has that
 * MAC (u->name, "" if none): one dump of lanjoin's namespace gives both, a lookup by name
 * the shim alone. 0 or -errno (res set).
 */
static int host_links(struct lj_ctx *ctx, const struct lj_attach_opts *o, const struct lj_link *p,
		      const char *shim, struct lj_link *l, struct mac_user *u,
		      struct lj_result *res)
{
	int r;

	if (!o->has_mac) {
		r = lj_link_get(ctx->host, shim, l);
		if (r == -ENODEV)
			l->ifindex = 0;
		else if (r < 0)
			return lj_fail(res, r, "Failed to look up '%s': %s", shim, strerror(-r));
		return 0;
	}
	r = lj_link_foreach_child_named(ctx->host, p->ifindex, find_mac_cb, u, shim, l);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the links of lanjoin's namespace: %s",
			       strerror(-r));
	return 0;
}

/*
 * Refuse a --mac the kernel would refuse ("Address already in use") without saying whose it
 * is: the parent's own, a macvlan of the parent in the host (a shim: u, from host_links), or
 * another attachment's macvlan in its container (from the records; skipped with
 * --no-conflict-check, like the other record checks: the kernel's refusal then says it,
 * rolled back).
 */
static int check_mac(struct lj_ctx *ctx, const struct lj_attach_opts *o, const struct lj_link *p,
		     const struct mac_user *u, struct lj_result *res)
{
	char mac[LJ_MAC_STRLEN], what[IFNAMSIZ + 16];

	lj_mac_to_string(o->mac, mac, sizeof(mac));
	if (p->has_mac && memcmp(p->mac, o->mac, LJ_MAC_LEN) == 0)
		return lj_bad_input(res, "MAC %s is the address of parent '%s' itself", mac,
				    o->parent);
	if (u->name[0])
		return lj_bad_input(res, "MAC %s is the address of '%s', a macvlan of '%s'", mac,
				    u->name, o->parent);
	if (o->no_conflict_check)
		return 0;
	snprintf(what, sizeof(what), "parent '%s'", o->parent);
	return lj_attach_check_mac_users(ctx->state, "macvlan", "parent", o->parent, o->mac, what,
					 res);
}

int lj_attach_macvlan_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			    struct lj_plan *plan, struct lj_record *rec, struct lj_result *res)
{
	struct lj_cidr paddrs[LJ_MACVLAN_MAX_ADDRS], saddrs[LJ_MACVLAN_MAX_ADDRS];
	uint32_t mode = o->macvlan_mode ? o->macvlan_mode : MACVLAN_MODE_BRIDGE;
	bool want_shim = o->host_shim.ip.family != AF_UNSPEC, shim_exists = false;
	char shim[IFNAMSIZ], buf[LJ_CIDR_STRLEN];
	struct mac_user mac_user = {.mac = o->mac};
	size_t np = 0, ns = 0;
	struct lj_link p, l;
	struct lj_step *s;
	int r;

	r = lj_macvlan_check_parent(ctx->host, o->parent, &p, res);
	if (r < 0)
		return r;
	lj_ctx_remember(ctx, LJ_HOST, o->parent, p.ifindex); /* the macvlan step's parent */
	if (o->mtu > p.mtu)
		return lj_bad_input(res,
				    "MTU %u is above the MTU of parent '%s', %u: a macvlan cannot "
				    "exceed its parent",
				    o->mtu, o->parent, p.mtu);
	if (mode == MACVLAN_MODE_PASSTHRU && o->has_mac)
		return lj_bad_input(res, "--mac does not go with passthru mode: the macvlan takes "
					 "the parent's MAC address");
	if (mode == MACVLAN_MODE_PASSTHRU && want_shim)
		return lj_bad_input(res,
				    "--host-shim does not go with passthru mode: the shim is a "
				    "second macvlan, and passthru needs the parent alone");
	if (o->force && mode != MACVLAN_MODE_PASSTHRU)
		return lj_bad_input(res, "--force is for passthru mode only");
	if (mode == MACVLAN_MODE_PASSTHRU) {
		r = lj_macvlan_check_passthru(ctx->host, o->parent, &p, o->force, res);
		if (r < 0)
			return r;
	}

	r = lj_rtnl_check_ifname_free(ctx, ifname, res);
	if (r < 0)
		return r;

	/*
	 * The parent's own addresses: for the host shim's (its subnet, not one of them) and for
	 * a link-local container address (per link). A container address the parent holds
	 * otherwise is refused by the host-address check of every way (lj_attach_add_addressing:
	 * the same message, from the host's addresses of that family, which it dumps anyway):
	 * no dump of the parent's for it.
	 */
	bool need_paddrs = want_shim;

	for (size_t i = 0; i < o->n_ips; i++)
		need_paddrs |= lj_ip_link_local(&o->ips[i].ip);
	if (need_paddrs) {
		r = lj_macvlan_link_addrs(ctx->host, p.ifindex, o->parent, paddrs, &np, res);
		if (r < 0)
			return r;
	}

	lj_shim_name(o->parent, shim);
	r = host_links(ctx, o, &p, shim, &l, &mac_user, res);
	if (r < 0)
		return r;
	if (l.ifindex > 0) {
		if (strcmp(l.kind, "macvlan") != 0 || !lj_shim_is_ours(&l) || l.parent != p.ifindex)
			return lj_bad_input(
				res,
				"'%s' (the name of the host shim for '%s') exists "
				"and is not lanjoin's shim (if an interrupted lanjoin left "
				"it, 'lanjoin gc' removes it)",
				shim, o->parent);
		shim_exists = true;
		r = lj_macvlan_link_addrs(ctx->host, l.ifindex, shim, saddrs, &ns, res);
		if (r < 0)
			return r;
	}

	r = check_container_ips(o, o->parent, paddrs, np, shim, saddrs, ns, res);
	if (r < 0)
		return r;
	if (want_shim) {
		bool has = false, routable = false;

		r = lj_macvlan_check_shim_ip(o->parent, &o->host_shim, paddrs, np, res);
		if (r < 0)
			return r;
		for (size_t k = 0; k < ns; k++)
			has |= lj_ip_equal(&saddrs[k].ip, &o->host_shim.ip);
		if (shim_exists && !has)
			return lj_bad_input(res,
					    "'%s' already has a host shim, '%s' with %s: use "
					    "--host-shim with that address",
					    o->parent, shim,
					    ns ? lj_cidr_to_string(&saddrs[0], buf, sizeof(buf))
					       : "no address");
		for (size_t i = 0; i < o->n_ips; i++)
			routable |= o->ips[i].ip.family == o->host_shim.ip.family;
		if (!routable)
			return lj_bad_input(res,
					    "--host-shim needs a static --ip of its family "
					    "(the host routes to that address through the shim)");
	}
	if (o->has_mac) {
		r = check_mac(ctx, o, &p, &mac_user, res);
		if (r < 0)
			return r;
	}
	/*
	 * Looking at the parent's other attachments costs a record read and a namespace open
	 * each. With --no-conflict-check (bulk attaches) it is skipped unless this is passthru:
	 * a second macvlan on a passthru parent is then refused by the kernel (exit 1, rolled
	 * back) instead of up front. A duplicate address is looked for either way, in every
	 * way's records (lj_attach_add_addressing: lj_attach_check_ips_free).
	 */
	if (!o->no_conflict_check || mode == MACVLAN_MODE_PASSTHRU) {
		r = lj_macvlan_check_users(ctx, ctx->state, o->parent, &p, mode, o->ips, o->n_ips,
					   res);
		if (r < 0)
			return r;
	}

	s = lj_plan_add(plan, &lj_step_macvlan, LJ_TARGET,
			"create macvlan '%s' (mode %s) on '%s' in the target", ifname,
			lj_macvlan_mode_name(mode), o->parent);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", ifname);
	snprintf(s->master, sizeof(s->master), "%s", o->parent);
	s->u32 = mode;
	s->mtu = o->mtu ? o->mtu : p.mtu;
	if (o->has_mac) {
		memcpy(s->mac, o->mac, LJ_MAC_LEN);
		s->has_mac = true;
	}
	json_object_set_new(rec->info, "parent", json_string(o->parent));
	json_object_set_new(rec->info, "mode", json_string(lj_macvlan_mode_name(mode)));

	r = lj_way_warn_off_lan(ctx, p.ifindex, "parent", o->parent, o, res);
	if (r < 0)
		return r;
	r = lj_attach_add_addressing(ctx, o, ifname, plan, rec, res);
	if (r < 0)
		return r;
	if (want_shim)
		return add_shim_steps(o, shim, !shim_exists, plan, rec);
	return 0;
}
