/* SPDX-License-Identifier: MIT */
/*
 * The routed way: the container gets its own LAN addresses, but the LAN only ever sees the
 * host's MAC. A veth pair links the container to the host; the container holds its addresses
 * as host addresses (/32, /128) and a default route to a link-local next hop on the host end;
 * the host routes each address to the host end and answers ARP and neighbour solicitations
 * for exactly those addresses on the uplink DEV (proxy neighbour entries). It works where the
 * LAN accepts one MAC per port: Wi-Fi, port security, cloud and hosting NICs.
 *
 * The next hops are 169.254.0.1 and fe80::1 on every host end. Link-local addresses are never
 * routed, so they cannot collide with a LAN address, they need no address plan, and one
 * next hop serves every container (each host end is its own link); the IPv4 route is
 * "onlink" because the container has no prefix that holds 169.254.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/attach.h"
#include "lib/kernel/addr.h"
#include "lib/kernel/link.h"
#include "lib/kernel/neigh.h"
#include "lib/kernel/route.h"
#include "lib/steps/nat.h"
#include "lib/steps/routed.h"
#include "lib/steps/rtnl.h"
#include "lib/ways/lan-prefix.h"
#include "lib/ways/macvlan-common.h"
#include "lib/ways/ways.h"
#include "shared/macro.h"

#define NEXT_HOP4 "169.254.0.1"
#define NEXT_HOP6 "fe80::1"

/* NULL if ip is a unicast address a container can hold on the LAN, else why not. */
static const char *address_problem(const struct lj_ip *ip)
{
	if (ip->family == AF_INET) {
		uint32_t a = ntohl(ip->v4.s_addr);

		if ((a >> 24) == 0 || (a >> 24) == 127)
			return "it is not a unicast host address";
		if ((a >> 28) >= 14)
			return "it is a multicast or reserved address";
		if ((a >> 16) == 0xa9fe)
			return "it is a link-local address (the routed way's next hop is "
			       "169.254.0.1)";
		return NULL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&ip->v6) || IN6_IS_ADDR_LOOPBACK(&ip->v6) ||
	    IN6_IS_ADDR_V4MAPPED(&ip->v6) || IN6_IS_ADDR_V4COMPAT(&ip->v6))
		return "it is not a unicast host address";
	if (IN6_IS_ADDR_MULTICAST(&ip->v6))
		return "it is a multicast address";
	if (IN6_IS_ADDR_LINKLOCAL(&ip->v6) || IN6_IS_ADDR_SITELOCAL(&ip->v6))
		return "it is a link-local address (the routed way's next hop is fe80::1)";
	return NULL;
}

static const char *link_name(struct lj_ctx *ctx, int ifindex, char buf[IFNAMSIZ])
{
	struct lj_link l;

	snprintf(buf, IFNAMSIZ, "?");
	if (lj_link_get_by_index(ctx->host, ifindex, &l) == 0)
		snprintf(buf, IFNAMSIZ, "%s", l.name);
	return buf;
}

/*
 * Each address must be new to the host: not its own, not routed to a link as a host route
 * (another routed attachment's, or anyone's), not answered for by proxy on DEV already, not
 * another attachment's on DEV (any way's, from the records; rec_id, a --replace's own, aside).
 */
static int check_addresses(struct lj_ctx *ctx, const struct lj_attach_opts *o, int dev,
			   const char *rec_id, struct lj_result *res)
{
	struct lj_addr_entry *addrs = NULL;
	char a[LJ_CIDR_STRLEN], name[IFNAMSIZ];
	int family = AF_UNSPEC, r;
	size_t n = 0;

	for (size_t i = 0; i < o->n_ips; i++) {
		const char *why = address_problem(&o->ips[i].ip);

		lj_ip_to_string(&o->ips[i].ip, a, sizeof(a));
		if (why)
			return lj_bad_input(res, "--ip %s: %s", a, why);
		for (size_t k = 0; k < i; k++)
			if (lj_ip_equal(&o->ips[k].ip, &o->ips[i].ip))
				return lj_bad_input(res, "--ip %s is given twice", a);
		/* On DEV's LAN: else the host route to it would take the host's own traffic
		 * to that address's real owner. */
		r = lj_way_check_on_lan(ctx, dev, "parent", o->parent, "--ip", &o->ips[i].ip, NULL,
					res);
		if (r == 0 && !o->no_conflict_check) /* any way's attachment on it */
			r = lj_attach_check_ip_users(ctx->state, rec_id, o->parent, &o->ips[i].ip,
						     "--ip", res);
		if (r < 0)
			return r;
	}
	/* The host's addresses of the one family asked for (routed hosts hold many of the
	 * other: each attachment's link-local gateway) */
	for (size_t k = 0; k < o->n_ips; k++)
		family = k == 0 || family == o->ips[k].ip.family ? o->ips[k].ip.family : AF_UNSPEC;
	r = lj_addr_list(ctx->host, family, &addrs, &n);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the host's addresses: %s", strerror(-r));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < o->n_ips; k++)
			if (lj_ip_equal(&addrs[i].cidr.ip, &o->ips[k].ip)) {
				lj_ip_to_string(&o->ips[k].ip, a, sizeof(a));
				link_name(ctx, addrs[i].ifindex, name);
				free(addrs);
				/* a nat attachment's, on its uplink: named */
				r = lj_attach_check_ip_users(ctx->state, rec_id, NULL,
							     &o->ips[k].ip, "--ip", res);
				if (r < 0)
					return r;
				return lj_bad_input(res,
						    "--ip %s is an address of the host (link "
						    "'%s')",
						    a, name);
			}
	free(addrs);

	for (size_t k = 0; k < o->n_ips; k++) {
		const struct lj_ip *ip = &o->ips[k].ip;
		unsigned host_len = ip->family == AF_INET ? 32 : 128;
		struct lj_route_entry *routes = NULL, m;
		size_t nr = 0;

		lj_ip_to_string(ip, a, sizeof(a));
		/* One lookup settles it when it ends in the main table (the usual rules): a host
		 * route there is what it finds. Else (other rules, or no route at all) the dump
		 * of every route decides, as it does not depend on the rules. */
		r = lj_route_match(ctx->host, ip, &m);
		if (r == 0 && m.table == RT_TABLE_MAIN) {
			if (m.dst.prefixlen == host_len && lj_ip_equal(&m.dst.ip, ip)) {
				routes = malloc(sizeof(*routes));
				if (!routes)
					return -ENOMEM;
				routes[0] = m;
				nr = 1;
			}
		} else {
			r = lj_route_list(ctx->host, ip->family, &routes, &nr);
			if (r < 0)
				return lj_fail(res, r, "Failed to list the host's routes: %s",
					       strerror(-r));
		}
		for (size_t i = 0; i < nr; i++)
			if (routes[i].table == RT_TABLE_MAIN &&
			    routes[i].dst.prefixlen == host_len &&
			    lj_ip_equal(&routes[i].dst.ip, ip)) {
				link_name(ctx, routes[i].oif, name);
				free(routes);
				return lj_bad_input(res,
						    "--ip %s: the host already routes it to "
						    "'%s' ('lanjoin list' names lanjoin's)",
						    a, name);
			}
		free(routes);
		r = lj_neigh_proxy_has(ctx->host, dev, ip);
		if (r < 0)
			return lj_fail(res, r, "Failed to list the proxy entries of '%s': %s",
				       o->parent, strerror(-r));
		if (r > 0)
			return lj_bad_input(res, "--ip %s: '%s' already answers for it by proxy", a,
					    o->parent);
	}
	return 0;
}

/* The uplink: there, not a port of a bridge or bond (the LAN reaches the master). */
static int check_parent(struct lj_ctx *ctx, const struct lj_attach_opts *o, struct lj_link *ret,
			struct lj_result *res)
{
	struct lj_link m;
	int r;

	if (!lj_ifname_valid(o->parent))
		return lj_bad_input(res, "Invalid parent name '%s'", o->parent);
	r = lj_link_get(ctx->host, o->parent, ret);
	if (r == -ENODEV)
		return lj_bad_input(res, "Parent '%s' does not exist", o->parent);
	if (r < 0)
		return lj_fail(res, r, "Failed to look up parent '%s': %s", o->parent,
			       strerror(-r));
	if (ret->flags & IFF_LOOPBACK)
		return lj_bad_input(res, "Parent '%s' is a loopback link", o->parent);
	/* The host answers ARP and neighbour solicitations for the container on the parent: a
	 * link without them (a tunnel, PPP) has no LAN neighbours to answer. */
	if (!ret->has_mac || (ret->flags & IFF_NOARP))
		return lj_bad_input(res,
				    "'%s' has no ARP (kind '%s'): the routed way answers ARP and "
				    "neighbour solicitations on it for the container; use the nat "
				    "way",
				    o->parent, ret->kind[0] ? ret->kind : "none");
	if (!ret->master)
		return 0;
	r = lj_link_get_by_index(ctx->host, ret->master, &m);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return lj_fail(res, r, "Failed to look up the master of parent '%s': %s", o->parent,
			       strerror(-r));
	if (strcmp(m.kind, "bridge") == 0 || strcmp(m.kind, "bond") == 0 ||
	    strcmp(m.kind, "team") == 0 || strcmp(m.kind, "openvswitch") == 0)
		return lj_bad_input(res, "'%s' is a port of %s '%s'; use --parent %s", o->parent,
				    m.kind, m.name, m.name);
	return 0;
}

/* A routed-sysctl step: key (host), value; dev for DEV's own keys; only_from >= 0: changed
 * only from that value. */
static int add_sysctl(struct lj_plan *plan, const struct lj_attach_opts *o, int family,
		      const char *key, uint32_t value, bool dev, int64_t only_from)
{
	struct lj_step *s =
		lj_plan_add(plan, &lj_step_routed_sysctl, LJ_HOST, "set %s to %u", key, value);

	if (!s || !(s->text = strdup(key)))
		return -ENOMEM;
	s->u32 = value;
	s->i64 = only_from;
	s->cidr.ip.family = family;
	snprintf(s->master, sizeof(s->master), "%s", o->parent);
	if (dev)
		snprintf(s->link, sizeof(s->link), "%s", o->parent);
	return 0;
}

/*
 * The host's sysctls: IPv4 forwarding (shared with the nat way); for IPv6, forwarding, DEV's
 * proxy_ndp, and accept_ra 2 on DEV when it was 1 (forwarding would make the kernel drop the
 * routers it learnt on DEV and ignore new advertisements). For each family, DEV's neighbour
 * proxy_delay 0: the kernel otherwise holds each proxied answer to a broadcast or multicast
 * solicitation for a random time up to 0.8 s (meant for several proxies answering for one
 * address; here DEV alone answers).
 */
static int add_sysctls(struct lj_plan *plan, const struct lj_attach_opts *o, bool v4, bool v6)
{
	char key[96];
	struct lj_step *s;
	int r;

	if (v4) {
		s = lj_plan_add(plan, &lj_step_ip_forward, LJ_HOST, "turn on IPv4 forwarding");
		if (!s)
			return -ENOMEM;
		s->u32 = 1;
		snprintf(key, sizeof(key), "net/ipv4/neigh/%s/proxy_delay", o->parent);
		r = add_sysctl(plan, o, AF_INET, key, 0, true, -1);
		if (r < 0)
			return r;
	}
	if (!v6)
		return 0;
	snprintf(key, sizeof(key), "net/ipv6/neigh/%s/proxy_delay", o->parent);
	r = add_sysctl(plan, o, AF_INET6, key, 0, true, -1);
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra", o->parent);
	if (r == 0)
		r = add_sysctl(plan, o, AF_INET6, key, 2, true, 1);
	if (r == 0)
		r = add_sysctl(plan, o, AF_INET6, "net/ipv6/conf/all/forwarding", 1, false, -1);
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/proxy_ndp", o->parent);
	if (r == 0)
		r = add_sysctl(plan, o, AF_INET6, key, 1, true, -1);
	return r;
}

/* A route step in where on link: dst via (AF_UNSPEC: none); onlink; skip_undo (the veth). */
static int add_route(struct lj_plan *plan, enum lj_where where, const char *link,
		     const struct lj_cidr *dst, const struct lj_ip *via, bool onlink,
		     const char *what)
{
	struct lj_step *s = lj_plan_add(plan, &lj_step_route, where, "%s", what);

	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", link);
	s->cidr = *dst;
	if (via)
		s->via = *via;
	if (onlink)
		s->flags |= LJ_STEP_F_ONLINK;
	s->skip_undo = true;
	return 0;
}

static int add_addr(struct lj_plan *plan, enum lj_where where, const char *link,
		    const struct lj_cidr *c)
{
	char a[LJ_CIDR_STRLEN];
	struct lj_step *s = lj_plan_add(plan, &lj_step_addr, where, "add address %s to '%s'",
					lj_cidr_to_string(c, a, sizeof(a)), link);

	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", link);
	s->cidr = *c;
	/* No DAD on the veth: the LAN was probed, and nobody else is on this link. */
	if (c->ip.family == AF_INET6)
		s->u32 = IFA_F_NODAD;
	s->skip_undo = true;
	return 0;
}

/* The target's side: link up, its addresses, the default routes and --route routes. */
static int add_target_side(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			   const struct lj_ip nh[2], bool v4, bool v6, struct lj_plan *plan,
			   struct lj_record *rec, struct lj_result *res)
{
	char c[LJ_CIDR_STRLEN], what[160];
	struct lj_step *s;
	int r;

	/* Replies from the engine-side addresses (published ports) keep leaving through the
	 * engine's link, as with the other ways; not in CNI mode (the runtime owns the rules). */
	if (!o->routes_append && !o->no_default_route) {
		r = lj_attach_add_source_routes(ctx, plan, rec, res);
		if (r < 0)
			return r;
	}
	if (v6 && lj_attach_add_ipv6_on(ctx, plan, ifname) < 0)
		return -ENOMEM;
	s = lj_plan_add(plan, &lj_step_link_up, LJ_TARGET, "bring up '%s' in the target", ifname);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", ifname);
	s->skip_undo = true;
	for (size_t i = 0; i < o->n_ips; i++) {
		struct lj_cidr h = {.ip = o->ips[i].ip,
				    .prefixlen = o->ips[i].ip.family == AF_INET ? 32 : 128};
		r = add_addr(plan, LJ_TARGET, ifname, &h);
		if (r < 0)
			return r;
	}
	for (int k = 0; k < 2 && !o->no_default_route; k++) {
		if (!(k ? v6 : v4))
			continue;
		if (o->routes_append) {
			struct lj_cidr def = {.ip.family = nh[k].family};
			r = add_route(plan, LJ_TARGET, ifname, &def, &nh[k], k == 0,
				      "add default route via the host");
			if (r < 0)
				return r;
			plan->steps[plan->n - 1].flags |= LJ_STEP_F_APPEND;
			continue;
		}
		r = lj_attach_add_default_route(ctx, plan, rec, ifname, nh[k].family, &nh[k],
						k == 0, res);
		if (r < 0)
			return r;
	}
	r = lj_attach_check_default_routes(ctx, o, plan,
					   "without --no-default-route and that --route, the "
					   "routed way replaces it with one via the host, and "
					   "detach puts it back",
					   res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < o->n_routes; i++) {
		const struct lj_route_spec *rs = &o->routes[i];
		int k = rs->dst.ip.family == AF_INET6;

		if (!(k ? v6 : v4))
			return lj_bad_input(res,
					    "--route %s: the container has no %s address on "
					    "this link",
					    lj_cidr_to_string(&rs->dst, c, sizeof(c)),
					    k ? "IPv6" : "IPv4");
		snprintf(what, sizeof(what), "add route %s",
			 lj_cidr_to_string(&rs->dst, c, sizeof(c)));
		r = add_route(plan, LJ_TARGET, ifname, &rs->dst,
			      rs->via.family != AF_UNSPEC ? &rs->via : &nh[k], k == 0, what);
		if (r < 0)
			return r;
		if (o->routes_append)
			plan->steps[plan->n - 1].flags |= LJ_STEP_F_APPEND;
	}
	return 0;
}

int lj_attach_routed_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			   struct lj_plan *plan, struct lj_record *rec, struct lj_result *res)
{
	char host_name[IFNAMSIZ], fw_chain[2][IFNAMSIZ] = {"", ""}, a[LJ_CIDR_STRLEN];
	struct lj_ip nh[2] = {0};
	struct lj_link dev;
	struct lj_step *s;
	bool v4 = false, v6 = false;
	json_t *list;
	uint32_t mtu;
	int r;

	if (o->dhcp || o->dhcp6 || o->slaac || o->n_gateways || o->onlink)
		return lj_bad_input(
			res, "The routed way takes --ip addresses only: the container's "
			     "routes go via the host (no --gateway, --dhcp, --dhcp6 or --slaac)");
	if (!o->n_ips)
		return lj_bad_input(res, "attach routed needs --ip ADDRESS (one or more)");
	r = check_parent(ctx, o, &dev, res);
	if (r < 0)
		return r;
	if (o->mtu && o->mtu > dev.mtu)
		return lj_bad_input(res, "MTU %u is above the MTU of parent '%s', %u", o->mtu,
				    o->parent, dev.mtu);
	mtu = o->mtu ? o->mtu : dev.mtu;
	r = check_addresses(ctx, o, dev.ifindex, rec->id, res);
	if (r < 0)
		return r;
	r = lj_rtnl_check_ifname_free(ctx, ifname, res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < o->n_ips; i++) {
		v4 |= o->ips[i].ip.family == AF_INET;
		v6 |= o->ips[i].ip.family == AF_INET6;
	}
	if (v6 && mtu < 1280)
		return lj_bad_input(res, "IPv6 needs an MTU of 1280 or more, not %u", mtu);
	lj_parse_ip(NEXT_HOP4, &nh[0]);
	lj_parse_ip(NEXT_HOP6, &nh[1]);
	for (int k = 0; k < 2; k++) {
		if (!(k ? v6 : v4))
			continue;
		r = lj_way_detect_firewall(k ? AF_INET6 : AF_INET, fw_chain[k], res);
		if (r < 0)
			return r;
	}

	lj_target_host_ifname(ctx->tgt, "ljr", ifname, host_name);
	snprintf(rec->host_ifname, sizeof(rec->host_ifname), "%s", host_name);

	/* 1. nobody on the LAN holds the addresses (RFC 5227; neighbour solicitations) */
	for (size_t i = 0; i < o->n_ips && !o->no_conflict_check; i++) {
		bool is4 = o->ips[i].ip.family == AF_INET;

		lj_ip_to_string(&o->ips[i].ip, a, sizeof(a));
		s = lj_plan_add(plan, is4 ? &lj_step_arp_probe : &lj_step_ndp_probe, LJ_HOST,
				"probe the LAN for %s on '%s'", a, o->parent);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->parent);
		s->cidr = (struct lj_cidr){.ip = o->ips[i].ip, .prefixlen = is4 ? 32 : 128};
	}

	/* 2. the host's sysctls, before the proxy entries (their undo counts those left) */
	r = add_sysctls(plan, o, v4, v6);
	if (r < 0)
		return r;

	/* 3. the veth pair and its next hops on the host end */
	s = lj_plan_add(plan, &lj_step_veth, LJ_HOST,
			"create veth pair '%s' (host) / '%s' (target)", host_name, ifname);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", host_name);
	snprintf(s->peer, sizeof(s->peer), "%s", ifname);
	s->mtu = mtu;
	s->peer_mtu = mtu;
	r = lj_rtnl_veth_macs(s, o);
	if (r < 0)
		return lj_fail(res, r, "Failed to choose MAC addresses for '%s': %s", host_name,
			       strerror(-r));
	for (int k = 0; k < 2; k++) {
		struct lj_cidr c = {.ip = nh[k], .prefixlen = k ? 64 : 32};
		if (!(k ? v6 : v4))
			continue;
		r = add_addr(plan, LJ_HOST, host_name, &c);
		if (r < 0)
			return r;
	}

	/* 4. the target's side */
	r = add_target_side(ctx, o, ifname, nh, v4, v6, plan, rec, res);
	if (r < 0)
		return r;

	/* 5. the host routes each address to the host end, and answers for it on DEV */
	list = json_array();
	if (!list)
		return -ENOMEM;
	json_object_set_new(rec->info, "addresses", list);
	for (size_t i = 0; i < o->n_ips; i++) {
		struct lj_cidr h = {.ip = o->ips[i].ip,
				    .prefixlen = o->ips[i].ip.family == AF_INET ? 32 : 128};
		char what[160];

		lj_cidr_to_string(&h, a, sizeof(a));
		json_array_append_new(list, json_string(a));
		snprintf(what, sizeof(what), "route %s to '%s'", a, host_name);
		r = add_route(plan, LJ_HOST, host_name, &h, NULL, false, what);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < o->n_ips; i++) {
		struct lj_cidr h = {.ip = o->ips[i].ip,
				    .prefixlen = o->ips[i].ip.family == AF_INET ? 32 : 128};

		lj_ip_to_string(&h.ip, a, sizeof(a));
		s = lj_plan_add(plan, &lj_step_proxy_neigh, LJ_HOST, "answer for %s on '%s'", a,
				o->parent);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->parent);
		s->cidr = h;
		s = lj_plan_add(plan, &lj_step_proxy_announce, LJ_HOST, "announce %s on '%s'", a,
				o->parent);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->parent);
		s->cidr = h;
	}

	/* 6. a FORWARD policy of drop (Docker's): accept exactly the container's traffic */
	for (size_t i = 0; i < o->n_ips; i++) {
		int k = o->ips[i].ip.family == AF_INET6;

		if (!fw_chain[k][0])
			continue;
		lj_ip_to_string(&o->ips[i].ip, a, sizeof(a));
		s = lj_plan_add(plan, &lj_step_fw_accept, LJ_HOST,
				"accept %s's traffic in chain %s of table %s filter", a,
				fw_chain[k], k ? "ip6" : "ip");
		if (!s)
			return -ENOMEM;
		snprintf(s->master, sizeof(s->master), "%s", fw_chain[k]);
		snprintf(s->link, sizeof(s->link), "%s", host_name);
		s->via = o->ips[i].ip;
		if (asprintf(&s->text, "lanjoin:%s", rec->id) < 0) {
			s->text = NULL;
			return -ENOMEM;
		}
	}

	/* What list shows. */
	json_object_set_new(rec->info, "parent", json_string(o->parent));
	list = json_array();
	if (!list)
		return -ENOMEM;
	if (v4)
		json_array_append_new(list, json_string(NEXT_HOP4));
	if (v6)
		json_array_append_new(list, json_string(NEXT_HOP6));
	json_object_set_new(rec->info, "next_hops", list);
	if (fw_chain[0][0] || fw_chain[1][0])
		json_object_set_new(rec->info, "firewall_chain",
				    json_string(fw_chain[0][0] ? fw_chain[0] : fw_chain[1]));
	return 0;
}
