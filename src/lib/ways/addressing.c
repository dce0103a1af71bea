/* SPDX-License-Identifier: MIT */
/*
 * The container-side addressing shared by the bridge, ovs and macvlan ways: static IPv4 and
 * IPv6 addresses with conflict detection and announcements, default routes per family,
 * extra routes, SLAAC and DHCP. Steps, in order, with the RFC 5227 ARP probe (the default
 * when there is a static IPv4 address):
 *
 *   [sysctls]  link up  ARP probe per static IPv4  addresses  announcements
 *   default routes  routes  [SLAAC wait]  [DHCP client]
 *
 * and without it (--no-conflict-check, or no static IPv4 address):
 *
 *   [sysctls]  [arp_notify]  addresses  link up  [arp_notify]  announcements
 *   default routes  routes  [SLAAC wait]  [DHCP client]
 *
 * The probe must see the link up but the address not yet added; the announcements after it
 * are sent from a packet socket. Without it, arp_notify makes the kernel announce each IPv4
 * address as the link comes up (lj_step_arp_notify); through a veth, arp_notify is set after
 * the link came up and the last IPv4 announcement step has the kernel announce them all once
 * the bridge port forwards (once, not twice). Routes need the link up. Everything here lives on
 * the container's link, which the way's undo deletes as a whole, so most steps need no undo.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kernel/addr.h"
#include "lib/kernel/arp.h"
#include "lib/core/attach.h"
#include "lib/foreign/dhcp.h"
#include "lib/kernel/link.h"
#include "lib/core/state.h"
#include "lib/kernel/sysctl.h"
#include "lib/steps/default-route.h"

static struct lj_step *add_sysctl(struct lj_plan *plan, const char *ifname, const char *leaf,
				  uint32_t value)
{
	struct lj_step *s;

	s = lj_plan_add(plan, &lj_step_sysctl, LJ_TARGET, "set %s of '%s' to %u", leaf, ifname,
			value);
	if (!s)
		return NULL;
	if (asprintf(&s->text, "net/ipv6/conf/%s/%s", ifname, leaf) < 0) {
		s->text = NULL;
		return NULL;
	}
	s->u32 = value;
	return s;
}

int lj_attach_add_ipv6_on(struct lj_ctx *ctx, struct lj_plan *plan, const char *ifname)
{
	struct lj_step *s;
	char val[8];

	/* Containers often start with IPv6 off (Docker's default network): new links too. */
	if (ctx->target_fd < 0 ||
	    lj_sysctl_read_in(ctx->target_fd, "net/ipv6/conf/default/disable_ipv6", val,
			      sizeof(val)) < 0 ||
	    strcmp(val, "0") == 0)
		return 0;
	if (!(s = add_sysctl(plan, ifname, "disable_ipv6", 0)))
		return -ENOMEM;
	s->skip_undo = true; /* the link, and its setting, go away on undo */
	return 0;
}

static int add_dhcp(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
		    struct lj_plan *plan, struct lj_record *rec, struct lj_result *res)
{
	char path[PATH_MAX], watch[PATH_MAX], host[64] = "";
	enum lj_dhcp_kind kind;
	struct lj_step *s;
	int r;

	r = lj_dhcp_find_client(o->dhcp_client, &kind, path, sizeof(path));
	if (r < 0) {
		if (o->dhcp_client)
			return lj_bad_input(res, "DHCP client '%s' is not installed",
					    o->dhcp_client);
		return lj_bad_input(res, "No DHCP client is installed (need busybox udhcpc, "
					 "dhclient or dhcpcd)");
	}
	/* The host-name option: the container's (or named namespace's) name where known. */
	if (ctx->tgt &&
	    (ctx->tgt->kind == LJ_TARGET_CONTAINER || ctx->tgt->kind == LJ_TARGET_NETNS))
		lj_dhcp_hostname(ctx->tgt->name, host);
	if (ctx->tgt)
		lj_dhcp_watch_spec(ctx->tgt, watch, sizeof(watch));
	else
		watch[0] = '\0';

	s = lj_plan_add(plan, &lj_step_dhcp, LJ_HOST, "run DHCP client %s on '%s'",
			lj_dhcp_kind_name(kind), ifname);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", ifname);
	s->u32 = o->dhcp_timeout ? o->dhcp_timeout : 10;
	if (o->no_default_route)
		s->flags |= LJ_STEP_F_NO_DEFAULT;
	if (asprintf(&s->text, "%s/dhcp/%s\t%s\t%s\t%s\t%s\t", lj_state_dir(), rec->id,
		     lj_dhcp_kind_name(kind), path, host, watch) < 0) {
		s->text = NULL;
		return -ENOMEM;
	}
	json_object_set_new(rec->info, "dhcp_client", json_string(lj_dhcp_kind_name(kind)));
	return 0;
}

/* The DHCPv6 client step (dhcpcd -6), its files at STATEDIR/dhcp/ID-6. */
static int add_dhcp6(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
		     struct lj_plan *plan, struct lj_record *rec, struct lj_result *res)
{
	char path[PATH_MAX], watch[PATH_MAX];
	enum lj_dhcp_kind kind;
	struct lj_step *s;
	int r;

	r = lj_dhcp6_find_client(NULL, &kind, path, sizeof(path));
	if (r < 0)
		return lj_bad_input(res, "--dhcp6 needs dhcpcd, which is not installed");
	if (ctx->tgt)
		lj_dhcp_watch_spec(ctx->tgt, watch, sizeof(watch));
	else
		watch[0] = '\0';
	s = lj_plan_add(plan, &lj_step_dhcp6, LJ_HOST, "run DHCPv6 client %s -6 on '%s'",
			lj_dhcp_kind_name(kind), ifname);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", ifname);
	s->u32 = o->dhcp_timeout ? o->dhcp_timeout : 10;
	if (asprintf(&s->text, "%s/dhcp/%s-6\t%s\t%s\t\t%s\t", lj_state_dir(), rec->id,
		     lj_dhcp_kind_name(kind), path, watch) < 0) {
		s->text = NULL;
		return -ENOMEM;
	}
	json_object_set_new(rec->info, "dhcp6_client", json_string(lj_dhcp_kind_name(kind)));
	return 0;
}

/* The route at o->routes[i] against the gateways, the earlier routes and the own addresses:
 * each of these would only fail while being applied (EEXIST, a via that is ourselves). */
static int check_route(const struct lj_attach_opts *o, size_t i, struct lj_result *res)
{
	const struct lj_route_spec *rs = &o->routes[i];
	char dst[LJ_CIDR_STRLEN], via[LJ_CIDR_STRLEN];
	const char *why;

	lj_cidr_to_string(&rs->dst, dst, sizeof(dst));
	if (rs->dst.prefixlen == 0)
		for (size_t g = 0; g < o->n_gateways; g++)
			if (o->gateways[g].family == rs->dst.ip.family)
				return lj_bad_input(res,
						    "The %s default route is given twice "
						    "(--gateway and --route %s)",
						    rs->dst.ip.family == AF_INET ? "IPv4" : "IPv6",
						    dst);
	for (size_t j = 0; j < i; j++)
		if (o->routes[j].dst.prefixlen == rs->dst.prefixlen &&
		    lj_ip_equal(&o->routes[j].dst.ip, &rs->dst.ip))
			return lj_bad_input(res, "Route %s is given twice (--route)", dst);
	if (rs->via.family == AF_UNSPEC)
		return 0;
	lj_ip_to_string(&rs->via, via, sizeof(via));
	if ((why = lj_ip_unicast_problem(&rs->via, 0)))
		return lj_bad_input(res, "Route %s: via %s is %s", dst, via, why);
	for (size_t k = 0; k < o->n_ips; k++)
		if (lj_ip_equal(&o->ips[k].ip, &rs->via))
			return lj_bad_input(res, "Route %s: via %s is the container's own address",
					    dst, via);
	return 0;
}

/* Does plan set a default route of family in the target (a step before the --route ones)? */
static const struct lj_step *plan_default(const struct lj_plan *plan, int family)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct lj_step *s = &plan->steps[i];

		if (s->where == LJ_TARGET && s->cidr.ip.family == family &&
		    (s->type == &lj_step_default_route ||
		     (s->type == &lj_step_route && s->cidr.prefixlen == 0)))
			return s;
	}
	return NULL;
}

/* The target's main-table default route of family with the metric a route step's gets (IPv4
 * 0, IPv6 1024: the kernel's for a route without one), as "via ADDR dev NAME" in buf: 1; 0
 * when there is none; -errno. */
static int target_default(struct lj_ctx *ctx, int family, char *buf, size_t size)
{
	struct lj_route_info *v = NULL;
	size_t n = 0;
	int r, found = 0;

	if (ctx->has_defroutes) {
		v = ctx->defroutes;
		n = ctx->n_defroutes;
	} else if ((r = lj_defroute_dump(ctx->target, family, &v, &n)) < 0) {
		return r;
	}
	for (size_t i = 0; i < n && !found; i++) {
		uint32_t metric = v[i].has_priority ? v[i].priority : family == AF_INET6 ? 1024 : 0;
		char via[LJ_IP_STRLEN] = "";
		struct lj_link l;

		if (v[i].family != family || metric != (family == AF_INET6 ? 1024u : 0u))
			continue;
		if (v[i].gateway.family != AF_UNSPEC)
			lj_ip_to_string(&v[i].gateway, via, sizeof(via));
		snprintf(buf, size, "%s%s%sdev %s", via[0] ? "via " : "", via, via[0] ? " " : "",
			 lj_link_get_by_index(ctx->target, v[i].oif, &l) == 0 ? l.name : "?");
		found = 1;
	}
	if (v != ctx->defroutes)
		free(v);
	return found;
}

int lj_attach_check_default_routes(struct lj_ctx *ctx, const struct lj_attach_opts *o,
				   const struct lj_plan *plan, const char *hint,
				   struct lj_result *res)
{
	char dst[LJ_CIDR_STRLEN], have[LJ_IP_STRLEN + IFNAMSIZ + 16];
	const struct lj_step *own;
	int r;

	if (o->routes_append || !ctx->target)
		return 0;
	for (size_t i = 0; i < o->n_routes; i++) {
		const struct lj_route_spec *rs = &o->routes[i];
		const char *fam = rs->dst.ip.family == AF_INET6 ? "IPv6" : "IPv4";

		if (rs->dst.prefixlen != 0)
			continue;
		lj_cidr_to_string(&rs->dst, dst, sizeof(dst));
		own = plan_default(plan, rs->dst.ip.family);
		if (own)
			return lj_bad_input(res,
					    "--route %s: this attach sets the target's %s default "
					    "route already (%s); the kernel refuses a second one",
					    dst, fam, own->what);
		r = target_default(ctx, rs->dst.ip.family, have, sizeof(have));
		if (r < 0)
			return lj_fail(res, r, "Failed to list the target's routes: %s",
				       strerror(-r));
		if (r == 0)
			continue;
		if (o->no_default_route)
			return lj_bad_input(res,
					    "--route %s and --no-default-route exclude each other "
					    "here: the target's %s default route (%s) stays with "
					    "--no-default-route, and the kernel refuses a second "
					    "one%s%s",
					    dst, fam, have, hint[0] ? "; " : "", hint);
		return lj_bad_input(res,
				    "--route %s: the target has an %s default route already (%s), "
				    "and the kernel refuses a second one%s%s",
				    dst, fam, have, hint[0] ? "; " : "", hint);
	}
	return 0;
}

static struct lj_step *add_link_up(struct lj_plan *plan, const char *ifname)
{
	struct lj_step *s;

	s = lj_plan_add(plan, &lj_step_link_up, LJ_TARGET, "bring up '%s' in the target", ifname);
	if (!s)
		return NULL;
	snprintf(s->link, sizeof(s->link), "%s", ifname);
	s->skip_undo = true;
	return s;
}

/* Have the kernel announce ifname's IPv4 addresses (arp_notify) from when it comes up or its
 * MAC is set. */
static struct lj_step *add_arp_notify(struct lj_plan *plan, const char *ifname)
{
	struct lj_step *s;

	s = lj_plan_add(plan, &lj_step_arp_notify, LJ_TARGET,
			"have the kernel announce the IPv4 addresses of '%s' (arp_notify)", ifname);
	if (!s)
		return NULL;
	snprintf(s->link, sizeof(s->link), "%s", ifname);
	s->skip_undo = true;
	return s;
}

/* Whether the container's link ifname is the peer of a veth the plan creates (the bridge and
 * ovs ways; not macvlan): its host end's name into ret (IFNAMSIZ). */
static bool veth_host_end(const struct lj_plan *plan, const char *ifname, char *ret)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct lj_step *s = &plan->steps[i];

		if (s->type == &lj_step_veth && strcmp(s->peer, ifname) == 0) {
			snprintf(ret, IFNAMSIZ, "%s", s->link);
			return true;
		}
	}
	return false;
}

/*
 * Gateway g lies in the subnet of an --ip of its family, or is IPv6 link-local (on every
 * link), or there is no --ip of its family (SLAAC, DHCPv6 give the subnet): else it is
 * refused (-EINVAL, res set), a mistyped address or prefix length that the kernel would take
 * only as onlink, reaching nothing on the LAN (--onlink asks for that).
 */
static int check_gateway_on_subnet(const struct lj_attach_opts *o, size_t g, struct lj_result *res)
{
	const struct lj_ip *gw = &o->gateways[g];
	char buf[LJ_IP_STRLEN], list[256] = "", one[LJ_CIDR_STRLEN];
	size_t len = 0;

	if (gw->family == AF_INET6 && lj_ip_link_local(gw))
		return 0;
	for (size_t i = 0; i < o->n_ips; i++) {
		if (o->ips[i].ip.family != gw->family)
			continue;
		if (lj_cidr_contains(&o->ips[i], gw))
			return 0;
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
					"%s%s", len ? ", " : "",
					lj_cidr_to_string(&o->ips[i], one, sizeof(one)));
	}
	if (!len)
		return 0;
	return lj_bad_input(res,
			    "Gateway %s is outside the subnet of --ip %s: give the --ip the LAN's "
			    "prefix length (e.g. %s), or --onlink if the gateway is on the link "
			    "without being in that subnet",
			    lj_ip_to_string(gw, buf, sizeof(buf)), list,
			    gw->family == AF_INET ? "/24" : "/64");
}

int lj_attach_check_addressing(const struct lj_attach_opts *o, struct lj_result *res)
{
	char buf[LJ_CIDR_STRLEN];
	int r;

	for (size_t g = 0; g < o->n_gateways; g++) {
		bool family_ok = false;
		for (size_t i = 0; i < o->n_ips; i++)
			family_ok |= o->ips[i].ip.family == o->gateways[g].family;
		if (o->gateways[g].family == AF_INET && o->dhcp)
			return lj_bad_input(res,
					    "--gateway %s and --dhcp exclude each other: the "
					    "lease gives the IPv4 gateway",
					    lj_ip_to_string(&o->gateways[g], buf, sizeof(buf)));
		if (!family_ok && !(o->gateways[g].family == AF_INET6 && (o->slaac || o->dhcp6)))
			return lj_bad_input(res,
					    "Gateway %s has no --ip of its family to be reached "
					    "through",
					    lj_ip_to_string(&o->gateways[g], buf, sizeof(buf)));
	}
	if (o->onlink && !o->n_gateways)
		return lj_bad_input(res, "--onlink goes with --gateway ADDR");
	if (o->no_default_route && o->n_gateways)
		return lj_bad_input(res,
				    "--gateway %s and --no-default-route exclude each other "
				    "(a route through it: --route CIDR@%s)",
				    lj_ip_to_string(&o->gateways[0], buf, sizeof(buf)), buf);
	for (size_t g = 0; g < o->n_gateways; g++) {
		const char *why = lj_ip_unicast_problem(&o->gateways[g], 0);
		lj_ip_to_string(&o->gateways[g], buf, sizeof(buf));
		if (why)
			return lj_bad_input(res, "Gateway %s is %s", buf, why);
		for (size_t i = 0; i < o->n_ips; i++)
			if (lj_ip_equal(&o->ips[i].ip, &o->gateways[g]))
				return lj_bad_input(
					res, "Gateway %s is the container's own address", buf);
		if (!o->onlink && !o->routes_append && (r = check_gateway_on_subnet(o, g, res)) < 0)
			return r;
		/* In an --ip's subnet: not its network or broadcast address (the kernel's refusal
		 * would come only while applying, exit 1). */
		for (size_t i = 0; i < o->n_ips; i++) {
			char ip[LJ_CIDR_STRLEN];

			if (o->ips[i].ip.family != o->gateways[g].family ||
			    !lj_cidr_contains(&o->ips[i], &o->gateways[g]) ||
			    !(why = lj_ip_unicast_problem(&o->gateways[g], o->ips[i].prefixlen)))
				continue;
			return lj_bad_input(res, "Gateway %s is %s (--ip %s)", buf, why,
					    lj_cidr_to_string(&o->ips[i], ip, sizeof(ip)));
		}
	}
	for (size_t i = 0; i < o->n_routes; i++) {
		r = check_route(o, i, res);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < o->n_ips; i++) {
		const struct lj_cidr *c = &o->ips[i];
		const char *why = lj_ip_unicast_problem(&c->ip, c->prefixlen);
		if (!why && lj_ip_link_local(&c->ip))
			why = LJ_LINK_LOCAL_WHY; /* CNI and the library's callers: as the CLI */
		if (why)
			return lj_bad_input(res, "--ip %s is %s",
					    lj_cidr_to_string(c, buf, sizeof(buf)), why);
		if (c->ip.family == AF_INET6 && o->mtu && o->mtu < 1280)
			return lj_bad_input(res,
					    "--ip %s needs an MTU of at least 1280 (the kernel "
					    "turns IPv6 off on smaller links)",
					    lj_cidr_to_string(c, buf, sizeof(buf)));
		for (size_t j = 0; j < i; j++)
			if (lj_ip_equal(&c->ip, &o->ips[j].ip))
				return lj_bad_input(res, "Address %s is given twice",
						    lj_cidr_to_string(c, buf, sizeof(buf)));
		if (c->ip.family == AF_INET && o->dhcp)
			return lj_bad_input(res, "--dhcp and an IPv4 --ip exclude each other");
	}
	return 0;
}

int lj_attach_add_addressing(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			     struct lj_plan *plan, struct lj_record *rec, struct lj_result *res)
{
	unsigned wait_s = o->dhcp_timeout ? o->dhcp_timeout : 10;
	char buf[LJ_CIDR_STRLEN];
	json_t *addrs = json_array();
	struct lj_step *s;
	bool v6 = o->slaac || o->dhcp6, probe = false;
	size_t last_v4 = 0; /* 1 + the index of the last IPv4 --ip, when the kernel announces */
	char host_end[IFNAMSIZ];
	bool via_veth;

	if (!addrs)
		return -ENOMEM;
	json_object_set_new(rec->info, "addresses", addrs);

	int bad = lj_attach_check_addressing(o, res);
	if (bad < 0)
		return bad;
	for (size_t i = 0; i < o->n_ips; i++)
		v6 |= o->ips[i].ip.family == AF_INET6;
	/* With or without the ARP probe (it is off in CNI by default, and cannot hear the host's
	 * own link or, through proxy ARP, a routed attachment): the host's own addresses and its
	 * host routes; with the conflict check, those of lanjoin's attachments on the same LAN
	 * link too (every record read: not for bulk attaches with --no-conflict-check). */
	bad = lj_attach_check_ips_free(ctx, rec->id,
				       o->way == LJ_WAY_MACVLAN ? o->parent : o->bridge, o->ips,
				       o->n_ips, !o->no_conflict_check, res);
	if (bad < 0)
		return bad;

	if (v6 && lj_attach_add_ipv6_on(ctx, plan, ifname) < 0)
		return -ENOMEM;
	if (o->slaac && o->mtu && o->mtu < 1280)
		return lj_bad_input(res,
				    "--slaac needs an MTU of at least 1280 (the kernel turns IPv6 "
				    "off on smaller links)");
	/* Below 1280 bytes the link has no IPv6 at all: nothing to turn off. */
	if (!o->slaac && !o->dhcp6 && ctx->target_fd >= 0 && !(o->mtu && o->mtu < 1280)) {
		/* The link is lanjoin's: it gets exactly the addresses asked for, no stray SLAAC
		 * address or RA default route unless --slaac. Written without reading the
		 * namespace's default first (a 0 written again changes nothing); a target without
		 * IPv6 has no such key, and then nothing to turn off (the step's apply). */
		if (!(s = add_sysctl(plan, ifname, "accept_ra", 0)))
			return -ENOMEM;
		s->skip_undo = true;
	}
	if (o->slaac || o->dhcp6) {
		/* accept_ra=2: take router advertisements even if the container forwards. With
		 * --dhcp6 alone they give the routes (DHCPv6 has none: the on-link prefix and the
		 * default router), not an address (autoconf=0). */
		if (!(s = add_sysctl(plan, ifname, "accept_ra", 2)))
			return -ENOMEM;
		s->skip_undo = true;
		if (!(s = add_sysctl(plan, ifname, "autoconf", o->slaac ? 1 : 0)))
			return -ENOMEM;
		s->skip_undo = true;
		/* --no-default-route: no default route from router advertisements either. */
		if (o->no_default_route) {
			if (!(s = add_sysctl(plan, ifname, "accept_ra_defrtr", 0)))
				return -ENOMEM;
			s->skip_undo = true;
		}
	}

	/* Replies from the engine-side addresses (published ports) keep leaving through the
	 * engine's link, from before the new link has an address on anyone's subnet. Not in CNI
	 * mode (routes_append): there the runtime owns the namespace's routes and rules. */
	if (!o->routes_append) {
		int r = lj_attach_add_source_routes(ctx, plan, rec, res);
		if (r < 0)
			return r;
	}

	/*
	 * RFC 5227: probe each static IPv4 address while the link is up and before it is ours;
	 * the announcement then follows from a packet socket. Without the probe, the addresses
	 * go on the link while it is down, with arp_notify set: the kernel announces each as the
	 * link comes up, and no socket is needed (its close would wait for an RCU grace period).
	 */
	for (size_t i = 0; i < o->n_ips; i++)
		probe |= o->ips[i].ip.family == AF_INET && !o->no_conflict_check;
	for (size_t i = 0; i < o->n_ips && !probe; i++)
		last_v4 = o->ips[i].ip.family == AF_INET ? i + 1 : last_v4;
	/* Through a veth (bridge, ovs), arp_notify is set only once the link is up: the
	 * announcement as it comes up would race the bridge enabling the host end's port (it
	 * passed in 6 of 8 attaches here), and the one the announce step has the kernel make once
	 * the port forwards is the one that counts. Each is copied to every port of the bridge,
	 * the cost of an attach that grows with the ports (issue 21): one, not two. */
	via_veth = veth_host_end(plan, ifname, host_end);
	if (last_v4 && !via_veth && !add_arp_notify(plan, ifname))
		return -ENOMEM;
	if (probe && !add_link_up(plan, ifname))
		return -ENOMEM;
	for (size_t i = 0; i < o->n_ips && probe; i++) {
		if (o->ips[i].ip.family != AF_INET)
			continue;
		lj_ip_to_string(&o->ips[i].ip, buf, sizeof(buf));
		s = lj_plan_add(plan, &lj_step_arp_probe, LJ_TARGET,
				"check that %s is free on the LAN (ARP probe)", buf);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", ifname);
		s->cidr = o->ips[i];
		/* through a bridge: the probe waits until the host end's port forwards */
		veth_host_end(plan, ifname, s->peer);
	}

	for (size_t i = 0; i < o->n_ips; i++) {
		lj_cidr_to_string(&o->ips[i], buf, sizeof(buf));
		s = lj_plan_add(plan, &lj_step_addr, LJ_TARGET, "add address %s to '%s'", buf,
				ifname);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", ifname);
		s->cidr = o->ips[i];
		s->skip_undo = true;
		json_array_append_new(addrs, json_string(buf));
	}
	if (!probe && !add_link_up(plan, ifname))
		return -ENOMEM;
	if (last_v4 && via_veth && !add_arp_notify(plan, ifname))
		return -ENOMEM;
	for (size_t i = 0; i < o->n_ips; i++) {
		bool v4 = o->ips[i].ip.family == AF_INET;
		lj_ip_to_string(&o->ips[i].ip, buf, sizeof(buf));
		s = lj_plan_add(plan, &lj_step_announce, LJ_TARGET,
				v4 ? "announce %s (gratuitous ARP)"
				   : "wait for DAD on %s, announce it (unsolicited NA)",
				buf);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", ifname);
		s->cidr = o->ips[i];
		s->u32 = wait_s;
		if (!v4 || !last_v4)
			continue;
		s->flags |= LJ_STEP_F_KERNEL_ANNOUNCE;
		/* Through a bridge, the last one has the kernel announce them all again. */
		if (i + 1 == last_v4 && veth_host_end(plan, ifname, s->peer)) {
			memcpy(s->mac, o->mac, LJ_MAC_LEN);
			s->has_mac = o->has_mac;
		}
	}

	for (size_t g = 0; g < o->n_gateways; g++) {
		const struct lj_ip *gw = &o->gateways[g];
		bool on_subnet = false;
		int r;

		for (size_t i = 0; i < o->n_ips; i++)
			on_subnet |= lj_cidr_contains(&o->ips[i], gw);
		lj_ip_to_string(gw, buf, sizeof(buf));
		/* A default route of one family: the other family's is never touched. */
		if (o->routes_append) {
			/* CNI: beside the default routes other interfaces have (NLM_F_APPEND), as
			 * the reference plugins do; the runtime owns the namespace's routes. */
			s = lj_plan_add(plan, &lj_step_route, LJ_TARGET,
					"add %s default route via %s",
					gw->family == AF_INET ? "IPv4" : "IPv6", buf);
			if (!s)
				return -ENOMEM;
			snprintf(s->link, sizeof(s->link), "%s", ifname);
			s->cidr.ip.family = gw->family;
			s->via = *gw;
			if (!on_subnet)
				s->flags |= LJ_STEP_F_ONLINK;
			s->flags |= LJ_STEP_F_APPEND;
			s->skip_undo = true;
		} else {
			r = lj_attach_add_default_route(ctx, plan, rec, ifname, gw->family, gw,
							!on_subnet, res);
			if (r < 0)
				return r;
		}
		json_object_set_new(rec->info, gw->family == AF_INET ? "gateway" : "gateway6",
				    json_string(buf));
	}

	char hint[160];
	snprintf(hint, sizeof(hint), "%s%s, and detach puts it back",
		 o->no_default_route ? "without --no-default-route, " : "",
		 o->dhcp ? "the DHCP lease's router replaces an IPv4 one"
			 : "--gateway ADDR (not --route) replaces it");
	bad = lj_attach_check_default_routes(ctx, o, plan, hint, res);
	if (bad < 0)
		return bad;
	for (size_t i = 0; i < o->n_routes; i++) {
		const struct lj_route_spec *rs = &o->routes[i];
		bool on_subnet = rs->via.family == AF_UNSPEC;

		/* Like a gateway: a via on none of our subnets is on the link (onlink). */
		for (size_t k = 0; k < o->n_ips; k++)
			on_subnet |= lj_cidr_contains(&o->ips[k], &rs->via);
		lj_cidr_to_string(&rs->dst, buf, sizeof(buf));
		s = lj_plan_add(plan, &lj_step_route, LJ_TARGET, "add route %s", buf);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", ifname);
		s->cidr = rs->dst;
		s->via = rs->via;
		if (!on_subnet)
			s->flags |= LJ_STEP_F_ONLINK;
		if (o->routes_append)
			s->flags |= LJ_STEP_F_APPEND;
		s->skip_undo = true;
	}

	if (o->slaac) {
		s = lj_plan_add(plan, &lj_step_slaac, LJ_TARGET,
				"wait for an IPv6 address from router advertisements on '%s'",
				ifname);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", ifname);
		s->u32 = wait_s;
	}
	if (o->dhcp6) {
		int r = add_dhcp6(ctx, o, ifname, plan, rec, res);
		if (r < 0)
			return r;
	}
	if (o->dhcp) {
		/* The lease's router replaces the IPv4 default route: record it for detach. */
		if (!o->no_default_route) {
			int r = lj_attach_add_default_route(ctx, plan, rec, ifname, AF_INET, NULL,
							    false, res);
			if (r < 0)
				return r;
		}
		return add_dhcp(ctx, o, ifname, plan, rec, res);
	}
	return 0;
}

int lj_attach_late_addressing(const struct lj_attach_opts *o, const char *ifname,
			      struct lj_plan *plan)
{
	char buf[LJ_CIDR_STRLEN], via[LJ_IP_STRLEN];
	struct lj_step *s;

	for (size_t i = 0; i < o->n_ips; i++) {
		lj_cidr_to_string(&o->ips[i], buf, sizeof(buf));
		s = lj_plan_add(plan, &lj_step_addr, LJ_TARGET, "add address %s to '%s'", buf,
				ifname);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", ifname);
		s->cidr = o->ips[i];
	}
	for (size_t i = 0; i < o->n_gateways; i++) {
		lj_ip_to_string(&o->gateways[i], via, sizeof(via));
		s = lj_plan_add(plan, &lj_step_route, LJ_TARGET,
				"add a default route via %s on '%s'", via, ifname);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", ifname);
		s->cidr.ip.family = o->gateways[i].family;
		s->via = o->gateways[i];
		s->flags = LJ_STEP_F_APPEND;
	}
	for (size_t i = 0; i < o->n_routes; i++) {
		lj_cidr_to_string(&o->routes[i].dst, buf, sizeof(buf));
		s = lj_plan_add(plan, &lj_step_route, LJ_TARGET, "add route %s on '%s'", buf,
				ifname);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", ifname);
		s->cidr = o->routes[i].dst;
		s->via = o->routes[i].via;
		s->flags = LJ_STEP_F_APPEND;
	}
	return 0;
}
