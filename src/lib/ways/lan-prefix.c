/* SPDX-License-Identifier: MIT */
/* The on-link prefixes of a link, and the check that a claimed address lies in one. */
#include "lib/ways/lan-prefix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/ctx.h"
#include "lib/kernel/addr.h"
#include "lib/kernel/route.h"

#define MAX_PREFIXES 32

/* c with its host bits cleared. */
static struct lj_cidr network(const struct lj_cidr *c)
{
	struct lj_cidr n = *c;
	uint8_t *b = c->ip.family == AF_INET ? (uint8_t *)&n.ip.v4 : (uint8_t *)&n.ip.v6;
	unsigned bits = c->ip.family == AF_INET ? 32 : 128;

	for (unsigned i = 0; i < bits / 8; i++) {
		unsigned keep = c->prefixlen > i * 8 ? c->prefixlen - i * 8 : 0;
		b[i] &= keep >= 8 ? 0xff : (uint8_t)(0xff00 >> keep);
	}
	return n;
}

static bool skip_prefix(const struct lj_cidr *c)
{
	return c->prefixlen == 0 ||
	       (c->ip.family == AF_INET6 &&
		(IN6_IS_ADDR_LINKLOCAL(&c->ip.v6) || IN6_IS_ADDR_MULTICAST(&c->ip.v6)));
}

static void add_prefix(struct lj_cidr *v, size_t *n, const struct lj_cidr *c)
{
	struct lj_cidr net = network(c);

	if (skip_prefix(c))
		return;
	for (size_t i = 0; i < *n; i++)
		if (v[i].prefixlen == net.prefixlen && lj_ip_equal(&v[i].ip, &net.ip))
			return;
	if (*n < MAX_PREFIXES)
		v[(*n)++] = net;
}

/*
 * The on-link prefixes of family of link ifindex (named dev, its role for messages) into
 * prefixes (*ret_np of them), its addresses into addrs (*ret_naddr). 0 or -errno (res set).
 */
static int link_prefixes(struct lj_ctx *ctx, int ifindex, int family, const char *role,
			 const char *dev, struct lj_cidr addrs[MAX_PREFIXES], size_t *ret_naddr,
			 struct lj_cidr prefixes[MAX_PREFIXES], size_t *ret_np,
			 struct lj_result *res)
{
	struct lj_route_entry *routes = NULL;
	const struct lj_addr_entry *all = NULL;
	size_t naddr = 0, nall = 0, nroute = 0, np = 0;
	int r;

	/* The host's addresses of the family, as the host-address check asks them (one dump
	 * for both): the link's are picked here. */
	r = lj_ctx_host_addrs(ctx, family, &all, &nall);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the addresses of %s '%s': %s", role, dev,
			       strerror(-r));
	for (size_t i = 0; i < nall && naddr < MAX_PREFIXES; i++)
		if (all[i].ifindex == ifindex && all[i].cidr.ip.family == family)
			addrs[naddr++] = all[i].cidr;
	for (size_t i = 0; i < naddr; i++)
		add_prefix(prefixes, &np, &addrs[i]);
	r = lj_route_list_filtered(ctx->host, family, RT_TABLE_MAIN, ifindex, &routes, &nroute);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the host's routes: %s", strerror(-r));
	for (size_t i = 0; i < nroute; i++)
		if (routes[i].table == RT_TABLE_MAIN && routes[i].type == RTN_UNICAST &&
		    routes[i].oif == ifindex && routes[i].via.family == AF_UNSPEC)
			add_prefix(prefixes, &np, &routes[i].dst);
	free(routes);
	*ret_naddr = naddr;
	*ret_np = np;
	return 0;
}

/*
 * Whether the kernel's lookup of ip ends in a connected route (no gateway) of a prefix out of
 * link ifindex: the common case, one lookup instead of the two dumps of link_prefixes.
 */
static bool on_link_route(struct lj_ctx *ctx, int ifindex, const struct lj_ip *ip)
{
	struct lj_route_entry e;

	return lj_ctx_route_match(ctx, ip, &e) == 0 && e.type == RTN_UNICAST && e.oif == ifindex &&
	       e.via.family == AF_UNSPEC && e.dst.prefixlen > 0;
}

int lj_way_warn_off_lan(struct lj_ctx *ctx, int ifindex, const char *role, const char *dev,
			const struct lj_attach_opts *o, struct lj_result *res)
{
	struct lj_cidr addrs[MAX_PREFIXES], prefixes[MAX_PREFIXES];
	char a[LJ_CIDR_STRLEN], list[512], one[LJ_CIDR_STRLEN];
	size_t naddr = 0, np = 0;
	int r, family = AF_UNSPEC;

	for (size_t i = 0; i < o->n_ips; i++) {
		const struct lj_cidr *c = &o->ips[i];
		bool inside = false;

		if (lj_ip_link_local(&c->ip) || on_link_route(ctx, ifindex, &c->ip))
			continue;
		if (c->ip.family != family) { /* one dump per family (usually one) */
			family = c->ip.family;
			r = link_prefixes(ctx, ifindex, family, role, dev, addrs, &naddr, prefixes,
					  &np, res);
			if (r < 0)
				return r;
		}
		list[0] = '\0';
		for (size_t k = 0; k < np; k++) {
			inside |= lj_cidr_contains(&prefixes[k], &c->ip);
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 k ? ", " : "", lj_cidr_to_string(&prefixes[k], one, sizeof(one)));
		}
		/* No subnet there: a LAN the host has no address on, nothing to compare with. */
		if (np == 0 || inside)
			continue;
		lj_result_note(res,
			       "warning: --ip %s is on none of the subnets of %s '%s' (%s): the "
			       "LAN's hosts reach it only through a router, if at all (a mistyped "
			       "address or prefix length?); attached as asked",
			       lj_cidr_to_string(c, a, sizeof(a)), role, dev, list);
	}
	return 0;
}

int lj_way_check_on_lan(struct lj_ctx *ctx, int ifindex, const char *role, const char *dev,
			const char *opt, const struct lj_ip *ip, const struct lj_cidr *addr_prefix,
			struct lj_result *res)
{
	struct lj_cidr addrs[MAX_PREFIXES], prefixes[MAX_PREFIXES];
	char a[LJ_CIDR_STRLEN], list[512] = "", one[LJ_CIDR_STRLEN];
	const char *fam = ip->family == AF_INET ? "IPv4" : "IPv6";
	size_t naddr = 0, np = 0;
	bool inside = false, secondary = false;
	int r;

	if (addr_prefix)
		lj_cidr_to_string(addr_prefix, a, sizeof(a));
	else
		lj_ip_to_string(ip, a, sizeof(a));
	r = link_prefixes(ctx, ifindex, ip->family, role, dev, addrs, &naddr, prefixes, &np, res);
	if (r < 0)
		return r;

	if (np == 0)
		return lj_bad_input(res,
				    "%s %s: %s '%s' has no %s address or on-link prefix; the "
				    "address must lie on the LAN's subnet (proxy %s answers "
				    "and a claimed address only make sense there)",
				    opt, a, role, dev, fam, ip->family == AF_INET ? "ARP" : "NDP");
	for (size_t i = 0; i < np; i++) {
		inside |= lj_cidr_contains(&prefixes[i], ip);
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 lj_cidr_to_string(&prefixes[i], one, sizeof(one)));
	}
	if (!inside)
		return lj_bad_input(res,
				    "%s %s is not on the LAN of %s '%s' (its %s prefixes: %s); "
				    "the host would route that address to the LAN or the "
				    "container instead of its real owner",
				    opt, a, role, dev, fam, list);
	for (size_t i = 0; i < np && ip->family == AF_INET; i++) {
		uint32_t host = prefixes[i].prefixlen >= 32 ? 0 : ~0u >> prefixes[i].prefixlen;
		uint32_t v = ntohl(ip->v4.s_addr);

		/* a /31 (RFC 3021) or /32 has neither */
		if (!lj_cidr_contains(&prefixes[i], ip) || prefixes[i].prefixlen >= 31 ||
		    ((v & host) != 0 && (v & host) != host))
			continue;
		return lj_bad_input(res, "%s %s is the %s address of the LAN %s on '%s'", opt, a,
				    (v & host) ? "broadcast" : "network",
				    lj_cidr_to_string(&prefixes[i], one, sizeof(one)), dev);
	}
	if (!addr_prefix || addr_prefix->prefixlen == (ip->family == AF_INET ? 32 : 128))
		return 0;
	for (size_t i = 0; i < naddr; i++) {
		struct lj_cidr n = network(&addrs[i]), m = network(addr_prefix);

		secondary |= n.prefixlen == m.prefixlen && lj_ip_equal(&n.ip, &m.ip);
	}
	if (!secondary)
		return lj_bad_input(res,
				    "%s %s would add a connected route to '%s' (its %s prefixes: "
				    "%s); give the prefix length of the LAN's subnet or /%u",
				    opt, a, dev, fam, list, ip->family == AF_INET ? 32 : 128);
	return 0;
}
