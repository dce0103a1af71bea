/* SPDX-License-Identifier: MIT */
/*
 * The nat way: the container keeps a private address; lanjoin claims a LAN address on the
 * uplink and translates between the two with nftables (DNAT in, SNAT out), ahead of any
 * iptables-nft/Docker NAT rule. The private side is a veth pair whose addresses come from
 * 198.18.0.0/15 (one /31 per attachment, the first free one) unless --private says otherwise;
 * or, with --to ADDR, an address the target already has (e.g. on a Docker bridge).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kernel/addr.h"
#include "lib/core/attach.h"
#include "lib/foreign/engine.h"
#include "lib/kernel/link.h"
#include "lib/kernel/nft.h"
#include "lib/kernel/route.h"
#include "lib/steps/nat.h"
#include "lib/steps/rtnl.h"
#include "lib/ways/lan-prefix.h"
#include "lib/ways/macvlan-common.h"
#include "lib/ways/ways.h"
#include "shared/macro.h"
#include "shared/name.h"

/* The default pool of private links and the size of each. */
#define NAT_POOL "198.18.0.0"
#define NAT_POOL_PREFIX 15
#define NAT_LINK_PREFIX 31

static uint32_t v4(const struct lj_ip *ip)
{
	return ntohl(ip->v4.s_addr);
}

static struct lj_ip ip4(uint32_t host_order)
{
	struct lj_ip ip = {.family = AF_INET};

	ip.v4.s_addr = htonl(host_order);
	return ip;
}

static uint32_t mask4(unsigned prefixlen)
{
	return prefixlen ? ~0u << (32 - prefixlen) : 0;
}

/* The network of c (host bits cleared). */
static struct lj_cidr net4(const struct lj_cidr *c)
{
	struct lj_cidr n = {.ip = ip4(v4(&c->ip) & mask4(c->prefixlen)), .prefixlen = c->prefixlen};

	return n;
}

static bool overlap4(const struct lj_cidr *a, const struct lj_cidr *b)
{
	unsigned len = a->prefixlen < b->prefixlen ? a->prefixlen : b->prefixlen;

	return ((v4(&a->ip) ^ v4(&b->ip)) & mask4(len)) == 0;
}

/* NULL if c is a usable IPv4 host address on its prefix, else why not. */
static const char *host_address_problem(const struct lj_cidr *c)
{
	uint32_t a = v4(&c->ip), m = mask4(c->prefixlen);

	if ((a >> 24) == 0 || (a >> 24) == 127)
		return "it is not a unicast host address";
	if ((a >> 28) >= 14)
		return "it is a multicast or reserved address";
	if ((a >> 16) == 0xa9fe)
		return "it is a link-local address";
	if (c->prefixlen < 31 && (a & ~m) == 0)
		return "it is the network address of its prefix";
	if (c->prefixlen < 31 && (a & ~m) == ~m)
		return "it is the broadcast address of its prefix";
	return NULL;
}

/* Networks an attachment's private side must not overlap, with where they come from: a route's
 * (whose: "the host's", "the target's"; described only when hit, as there are many) or what. */
struct used_net {
	struct lj_cidr net;
	const char *whose;
	char what[96];
};

struct used {
	struct used_net *v;
	size_t n, cap;
};

static int used_add(struct used *u, const struct lj_cidr *net, const char *whose, const char *what)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 32;
		struct used_net *v = realloc(u->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		u->v = v;
		u->cap = cap;
	}
	u->v[u->n].net = *net;
	u->v[u->n].whose = whose;
	if (what)
		snprintf(u->v[u->n].what, sizeof(u->v[u->n].what), "%s", what);
	u->n++;
	return 0;
}

static const struct used_net *used_find(const struct used *u, const struct lj_cidr *net)
{
	for (size_t i = 0; i < u->n; i++)
		if (overlap4(&u->v[i].net, net))
			return &u->v[i];
	return NULL;
}

/* Where u comes from, for messages: "the host's route to X", "the attachment of T". */
static const char *used_what(const struct used_net *u, char *buf, size_t size)
{
	char net[LJ_CIDR_STRLEN];

	if (!u->whose)
		return u->what;
	snprintf(buf, size, "%s route to %s", u->whose,
		 lj_cidr_to_string(&u->net, net, sizeof(net)));
	return buf;
}

/* Every IPv4 route of nl's namespace (any table) but default routes. */
static int add_routes(struct lj_nl *nl, const char *whose, struct used *u)
{
	struct lj_route_entry *routes = NULL;
	size_t n = 0;
	int r;

	r = lj_route_list(nl, AF_INET, &routes, &n);
	for (size_t i = 0; i < n && r == 0; i++)
		if (routes[i].dst.prefixlen != 0)
			r = used_add(u, &routes[i].dst, whose, NULL);
	free(routes);
	return r;
}

/*
 * What the private side must avoid: every IPv4 route of the host and of the target (any
 * table, except default routes: the target's own networks, e.g. its engine's) and the private
 * networks and --to addresses of the other nat records (of those that may overlap about, if
 * not NULL: used_find is then only meaningful for networks inside about).
 */
static int collect_used(struct lj_ctx *ctx, const struct lj_record *self, bool with_routes,
			const struct lj_cidr *about, struct used *u, struct lj_result *res)
{
	struct lj_record *recs = NULL;
	struct lj_state *own = NULL;
	size_t nrec = 0;
	char what[96];
	int r = 0;

	if (with_routes) {
		r = add_routes(ctx->host, "the host's", u);
		if (r < 0)
			return lj_fail(res, r, "Failed to list the host's routes: %s",
				       strerror(-r));
		if (ctx->target) {
			r = add_routes(ctx->target, "the target's", u);
			if (r < 0)
				return lj_fail(res, r, "Failed to list the target's routes: %s",
					       strerror(-r));
		}
	}

	/* Under the state lock every record counts, "applying" ones (concurrent or crashed) too.
	 * A dry run holds no lock: a shared one is enough to read. */
	if (!ctx->state && lj_state_open(false, &own) < 0)
		return 0;
	/* Only the records whose private network or --to address overlaps about (the index
	 * by private network): reading every record's file grew with every attachment. */
	r = lj_state_list_net(ctx->state ? ctx->state : own, about, &recs, &nrec);
	if (r < 0) {
		lj_state_close(own);
		return lj_fail(res, r, "Failed to read the state directory: %s", strerror(-r));
	}
	for (size_t i = 0; i < nrec && r == 0; i++) {
		const json_t *info = recs[i].info;
		const char *priv = json_string_value(json_object_get(info, "private"));
		const char *to = json_string_value(json_object_get(info, "to"));
		struct lj_cidr c;

		if (strcmp(recs[i].way, "nat") != 0 || strcmp(recs[i].id, self->id) == 0)
			continue;
		snprintf(what, sizeof(what), "the attachment of %.64s", recs[i].target_spec);
		if (priv && lj_parse_cidr(priv, true, &c) == 0 && c.ip.family == AF_INET)
			r = used_add(u, &c, NULL, what);
		if (r == 0 && to && lj_parse_cidr(to, false, &c) == 0 && c.ip.family == AF_INET)
			r = used_add(u, &c, NULL, what);
	}
	lj_records_free(recs, nrec);
	lj_state_close(own);
	return r;
}

/* Pick the private network: --private as given, or the first free /31 of the pool. */
static int pick_private(struct lj_ctx *ctx, const struct lj_attach_opts *o,
			const struct lj_record *rec, struct lj_cidr *ret, struct lj_result *res)
{
	struct used u = {0};
	const struct used_net *hit;
	char buf[LJ_CIDR_STRLEN], what[128];
	int r;

	if (o->private_net.ip.family != AF_UNSPEC) {
		struct lj_cidr n = net4(&o->private_net);

		r = collect_used(ctx, rec, true, o->private_net.ip.family == AF_INET ? &n : NULL,
				 &u, res);
		if (r < 0)
			goto out;

		if (o->private_net.ip.family != AF_INET || o->private_net.prefixlen > 31 ||
		    o->private_net.prefixlen < 8) {
			r = lj_bad_input(res, "--private must be an IPv4 network of /8 to /31");
			goto out;
		}
		hit = used_find(&u, &n);
		if (hit) {
			r = lj_bad_input(res, "--private %s overlaps %s",
					 lj_cidr_to_string(&n, buf, sizeof(buf)),
					 used_what(hit, what, sizeof(what)));
			goto out;
		}
		*ret = n;
		goto out;
	}
	r = collect_used(ctx, rec, true, NULL, &u, res);
	if (r < 0)
		goto out;
	{
		struct lj_ip pool;
		uint32_t base, count = 1u << (NAT_LINK_PREFIX - NAT_POOL_PREFIX);

		inet_pton(AF_INET, NAT_POOL, &pool.v4);
		pool.family = AF_INET;
		base = v4(&pool);
		for (uint32_t i = 0; i < count; i++) {
			struct lj_cidr n = {.ip = ip4(base + (i << (32 - NAT_LINK_PREFIX))),
					    .prefixlen = NAT_LINK_PREFIX};
			if (!used_find(&u, &n)) {
				*ret = n;
				goto out;
			}
		}
		r = lj_fail(res, -ENOSPC, "No free private link left in %s/%d; use --private",
			    NAT_POOL, NAT_POOL_PREFIX);
	}
out:
	free(u.v);
	return r;
}

/* No other nat attachment may translate for the same --to address: they would share SNAT. */
static int check_to_unused(struct lj_ctx *ctx, const struct lj_attach_opts *o,
			   const struct lj_record *rec, struct lj_result *res)
{
	struct lj_cidr one = {.ip = o->to, .prefixlen = 32};
	const struct used_net *hit;
	struct used u = {0};
	char buf[LJ_IP_STRLEN], what[128];
	int r;

	r = collect_used(ctx, rec, false, &one, &u, res);
	if (r == 0 && (hit = used_find(&u, &one)))
		r = lj_bad_input(res, "--to %s is already used by %s",
				 lj_ip_to_string(&o->to, buf, sizeof(buf)),
				 used_what(hit, what, sizeof(what)));
	free(u.v);
	return r;
}

/* True if rule (an `nft -j` rule object) jumps to or goes to chain. */
static bool rule_jumps_to(const json_t *rule, const char *chain)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(rule, "expr"), i, e)
	{
		const json_t *v = json_object_get(e, "jump");
		if (!v)
			v = json_object_get(e, "goto");
		const char *target = json_string_value(json_object_get(v, "target"));
		if (target && strcmp(target, chain) == 0)
			return true;
	}
	return false;
}

int lj_way_detect_firewall(int family, char ret[IFNAMSIZ], struct lj_result *res)
{
	const char *table = family == AF_INET6 ? "ip6" : "ip";
	char list[32];
	json_t *arr = NULL, *o;
	char err[256];
	bool user = false, user_used = false, drop = false;
	uint8_t nfproto = family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	struct lj_nft_query q[] = {
		{.kind = LJ_NFT_TABLE, .name = "filter"},
		{.kind = LJ_NFT_CHAIN, .name = "DOCKER-USER"},
		{.kind = LJ_NFT_CHAIN, .name = "FORWARD"},
	};
	size_t i;
	int r;

	ret[0] = '\0';
	/* Without libnftables (a listing costs milliseconds and megabytes): the table, its two
	 * chains with one nf_tables request each, and one dump of its rules for the jumps to
	 * DOCKER-USER. When the kernel does not answer, the listing decides (and says why). */
	if (lj_nft_lookup(nfproto, "filter", q, ARRAY_SIZE(q)) == 0) {
		if (!q[0].found)
			return 0;
		user = q[1].found;
		drop = q[2].found && q[2].base && q[2].hooknum == NF_INET_FORWARD &&
		       q[2].has_policy && q[2].policy == NF_DROP;
		r = user ? lj_nft_jumps_to(nfproto, "filter", "DOCKER-USER") : 0;
		if (r >= 0) {
			if (user && r > 0)
				snprintf(ret, IFNAMSIZ, "DOCKER-USER");
			else if (drop)
				snprintf(ret, IFNAMSIZ, "FORWARD");
			return 0;
		}
		user = drop = false;
	}
	snprintf(list, sizeof(list), "list table %s filter", table);
	r = lj_nft_list(list, &arr, err, sizeof(err));
	if (r == -ENOENT)
		return 0;
	if (r == -EPERM)
		return lj_bad_input(res,
				    "Cannot read the nftables ruleset: lanjoin needs "
				    "CAP_NET_ADMIN (%s)",
				    err);
	if (r < 0)
		return lj_fail(res, r, "Failed to read table %s filter: %s", table, err);
	json_array_foreach(arr, i, o)
	{
		json_t *ch = json_object_get(o, "chain");
		const char *name = json_string_value(json_object_get(ch, "name"));
		const char *hook = json_string_value(json_object_get(ch, "hook"));
		const char *policy = json_string_value(json_object_get(ch, "policy"));

		if (json_object_get(o, "rule") &&
		    rule_jumps_to(json_object_get(o, "rule"), "DOCKER-USER"))
			user_used = true;
		if (!name)
			continue;
		if (strcmp(name, "DOCKER-USER") == 0)
			user = true;
		if (strcmp(name, "FORWARD") == 0 && hook && strcmp(hook, "forward") == 0 &&
		    policy && strcmp(policy, "drop") == 0)
			drop = true;
	}
	json_decref(arr);
	if (user && user_used)
		snprintf(ret, IFNAMSIZ, "DOCKER-USER");
	else if (drop)
		snprintf(ret, IFNAMSIZ, "FORWARD");
	return 0;
}

/* Let the kernel validate the nft changes (`nft -c`) so that bad rights or a kernel without
 * NAT are reported as such before anything changes. */
static int check_nft(const struct lj_step *s, bool fw, struct lj_result *res)
{
	char err[256];
	int r;

	if (!fw) {
		bool exists = false, skeleton = false;

		r = lj_nat_table_read(&exists, &skeleton, err, sizeof(err));
		if (r == -EPERM)
			return lj_bad_input(res,
					    "Cannot read the nftables ruleset: lanjoin needs "
					    "CAP_NET_ADMIN (%s)",
					    err);
		if (r < 0)
			return lj_fail(res, r, "Failed to read table ip lanjoin: %s", err);
		if (exists && !skeleton)
			return lj_bad_input(
				res, "Table ip lanjoin lacks its maps or base chains (was "
				     "it changed by hand?); delete it with 'nft delete table "
				     "ip lanjoin' once no nat attachment is left");
		/* An earlier attachment's table proves NAT works; a kernel check would cost an
		 * RCU grace period for nothing. */
		if (exists)
			return 0;
		r = lj_nat_rules_commit(s, !exists, true, err, sizeof(err));
	} else {
		r = lj_fw_accept_commit(s, true, err, sizeof(err));
	}
	if (r == -EBADMSG)
		return lj_fail(res, r, "Failed to build the nft rules");
	if (r == 0)
		return 0;
	if (r == -EPERM)
		return lj_bad_input(res,
				    "Cannot change the nftables ruleset: lanjoin needs "
				    "CAP_NET_ADMIN in this network namespace (%s)",
				    err);
	if (r == -EEXIST)
		return lj_bad_input(res,
				    "Table ip lanjoin already has chains %s_dnat/_snat or an "
				    "element for these addresses, but no attachment records them: "
				    "%s",
				    s->link, err);
	if (!fw &&
	    (r == -ENOENT || r == -EOPNOTSUPP || r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT))
		return lj_bad_input(res,
				    "The kernel refused the NAT rules (%s): it needs nf_tables "
				    "with NAT (nft_chain_nat, nft_nat)",
				    err);
	return lj_bad_input(res, "The kernel refused the %s rules: %s",
			    fw ? "firewall accept" : "NAT", err);
}

static int check_target_link(struct lj_ctx *ctx, const char *ifname, struct lj_result *res)
{
	struct lj_route_entry *routes = NULL;
	size_t n = 0;
	int r;

	r = lj_rtnl_check_ifname_free(ctx, ifname, res);
	if (r < 0)
		return r;
	r = lj_route_list(ctx->target, AF_INET, &routes, &n);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the target's routes: %s", strerror(-r));
	for (size_t i = 0; i < n; i++)
		if (routes[i].dst.prefixlen == 0 && routes[i].table == RT_TABLE_MAIN) {
			free(routes);
			return lj_bad_input(res,
					    "%s already has an IPv4 default route; its traffic "
					    "would not pass the NAT: use --to ADDR with its "
					    "existing address instead",
					    ctx->tgt->spec);
		}
	free(routes);
	return 0;
}

/* Is route rt of the target via one of the host's addresses (back through the host)? */
static bool via_host(struct lj_ctx *ctx, const struct lj_route_entry *rt)
{
	struct lj_addr_entry *addrs = NULL;
	size_t n = 0;
	bool found = false;

	if (rt->via.family == AF_UNSPEC || lj_addr_list(ctx->host, rt->via.family, &addrs, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = lj_ip_equal(&addrs[i].cidr.ip, &rt->via);
	free(addrs);
	return found;
}

static int check_to(struct lj_ctx *ctx, const struct lj_attach_opts *o, struct lj_result *res)
{
	struct lj_addr_entry *addrs = NULL;
	struct lj_route_entry rt;
	struct lj_link out;
	char buf[LJ_IP_STRLEN];
	size_t n = 0;
	bool found = false;
	int r, toif = 0;

	lj_ip_to_string(&o->to, buf, sizeof(buf));
	if (o->to.family != AF_INET)
		return lj_bad_input(res, "--to %s: the nat way supports IPv4 only", buf);
	r = lj_route_get(ctx->host, &o->to, &rt);
	if (r < 0 || rt.type != RTN_UNICAST)
		return lj_bad_input(res, "--to %s is not reachable from the host (%s)", buf,
				    r < 0		   ? strerror(-r)
				    : rt.type == RTN_LOCAL ? "it is one of the host's own addresses"
							   : "no unicast route");
	r = lj_addr_list(ctx->target, AF_INET, &addrs, &n);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the target's addresses: %s", strerror(-r));
	for (size_t i = 0; i < n && !found; i++)
		if (lj_ip_equal(&addrs[i].cidr.ip, &o->to)) {
			found = true;
			toif = addrs[i].ifindex;
		}
	free(addrs);
	if (!found)
		return lj_bad_input(res, "--to %s is not an address of %s", buf, ctx->tgt->spec);
	/* The target answers a LAN host through its route to the LAN: through another link and
	 * not via the host (a macvlan on the same LAN) the replies leave untranslated. It works
	 * once that link is gone; status warns as long as it is there. */
	if (lj_route_get(ctx->target, &o->address.ip, &rt) == 0 && rt.oif > 0 && rt.oif != toif &&
	    !via_host(ctx, &rt) && lj_link_get_by_index(ctx->target, rt.oif, &out) == 0)
		lj_result_note(res,
			       "warning: %s answers the LAN through '%s', not through the link of "
			       "%s: LAN hosts get its replies untranslated and drop them (a "
			       "macvlan on the same LAN?); reach it at its own LAN address there, "
			       "or take that link away ('lanjoin status' warns while it is there)",
			       ctx->tgt->spec, out.name, buf);
	return 0;
}

/*
 * --to: the host-side interface the target's traffic from o->to arrives on, the one the host
 * routes o->to through (Docker's bridge for --to docker). SNAT matches it as well as the
 * source: a container elsewhere sending with o->to as its source does not leave as the LAN
 * address. (Another container on the same bridge is not told apart by this.)
 */
static int to_iif(struct lj_ctx *ctx, const struct lj_attach_opts *o, char iif[IFNAMSIZ],
		  struct lj_result *res)
{
	struct lj_route_entry rt;
	struct lj_link l;
	char buf[LJ_IP_STRLEN];
	int r;

	lj_ip_to_string(&o->to, buf, sizeof(buf));
	r = lj_route_get(ctx->host, &o->to, &rt);
	if (r == 0 && rt.oif <= 0)
		r = -ENETUNREACH;
	if (r == 0)
		r = lj_link_get_by_index(ctx->host, rt.oif, &l);
	if (r < 0)
		return lj_fail(res, r, "Failed to find the host's interface towards --to %s: %s",
			       buf, strerror(-r));
	if (!lj_nat_iif_valid(l.name))
		return lj_bad_input(res,
				    "--to %s: the host reaches it through '%s', a name nft "
				    "rules here do not take",
				    buf, l.name);
	snprintf(iif, IFNAMSIZ, "%s", l.name);
	return 0;
}

int lj_nat_check_input(const struct lj_attach_opts *o, struct lj_result *res)
{
	char buf[LJ_CIDR_STRLEN];
	const char *why;

	lj_cidr_to_string(&o->address, buf, sizeof(buf));
	if (o->address.ip.family != AF_INET)
		return lj_bad_input(res, "--address %s: the nat way supports IPv4 only", buf);
	why = host_address_problem(&o->address);
	if (why)
		return lj_bad_input(res, "--address %s: %s", buf, why);
	if (o->private_net.ip.family != AF_UNSPEC &&
	    (o->private_net.ip.family != AF_INET || o->private_net.prefixlen > 31 ||
	     o->private_net.prefixlen < 8))
		return lj_bad_input(res, "--private must be an IPv4 network of /8 to /31");
	return 0;
}

/* rec_id: the attachment's own record (a --replace), not counted among the address's users. */
static int check_address(struct lj_ctx *ctx, const struct lj_attach_opts *o, int uplink,
			 const char *rec_id, struct lj_result *res)
{
	char buf[LJ_CIDR_STRLEN], name[IFNAMSIZ], what[256];
	size_t which;
	int r;

	r = lj_nat_check_input(o, res);
	if (r < 0)
		return r;
	lj_cidr_to_string(&o->address, buf, sizeof(buf));
	/* On the uplink's LAN, adding no connected route: else the host's own traffic to that
	 * prefix would go out of the uplink. */
	r = lj_way_check_on_lan(ctx, uplink, "uplink", o->uplink, "--address", &o->address.ip,
				&o->address, res);
	if (r == 0 && !o->no_conflict_check) /* any way's attachment on it */
		r = lj_attach_check_ip_users(ctx->state, rec_id, o->uplink, &o->address.ip,
					     "--address", res);
	if (r < 0)
		return r;
	r = lj_attach_host_holds(ctx, AF_INET, &o->address, 1, &which, name);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the host's addresses: %s", strerror(-r));
	if (r > 0) {
		/* another nat attachment's (on another uplink, or unchecked): named */
		r = lj_attach_check_ip_users(ctx->state, rec_id, NULL, &o->address.ip, "--address",
					     res);
		if (r < 0)
			return r;
		return lj_bad_input(res,
				    "--address %s is already on the host (link '%s'); lanjoin only "
				    "claims an address it can remove again",
				    buf, name);
	}
	if (lj_attach_host_routes(ctx, &o->address.ip, name, what, sizeof(what)) > 0)
		return lj_bad_input(res, "--address %s is routed by the host to '%s' (%s)", buf,
				    name, what);
	return 0;
}

static int publish_text(const struct lj_attach_opts *o, char **ret, json_t *list,
			struct lj_result *res)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	for (size_t i = 0; i < o->n_publish; i++)
		for (size_t j = 0; j < i; j++)
			if (o->publish[i].proto == o->publish[j].proto &&
			    o->publish[i].port == o->publish[j].port)
				return lj_bad_input(res, "Port %s/%u is published twice",
						    o->publish[i].proto == IPPROTO_UDP ? "udp"
										       : "tcp",
						    o->publish[i].port);
	if (!o->n_publish) {
		*ret = NULL;
		return 0;
	}
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_publish; i++) {
		const struct lj_publish *p = &o->publish[i];
		char one[32];
		snprintf(one, sizeof(one), "%s/%u:%u", p->proto == IPPROTO_UDP ? "udp" : "tcp",
			 p->port, p->cport);
		fprintf(f, "%s%s", i ? " " : "", one);
		json_array_append_new(list, json_string(one));
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

int lj_attach_nat_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			struct lj_plan *plan, struct lj_record *rec, struct lj_result *res)
{
	char host_name[IFNAMSIZ] = "", fw_chain[IFNAMSIZ], key[128], a[LJ_CIDR_STRLEN];
	char base[IFNAMSIZ], iif[IFNAMSIZ] = "", network[LJ_ENGINE_NET_NAME_MAX] = "";
	_cleanup_free_ char *publish = NULL;
	struct lj_cidr priv = {0}, host_addr = {0}, cont_addr = {0};
	struct lj_ip dest;
	struct lj_link up;
	struct lj_step *s;
	json_t *pub_list;
	struct lj_attach_opts resolved;
	bool to, arp;
	int r;

	bool container = ctx->tgt && ctx->tgt->container_id[0];
	if (o->to_engine ||
	    (container && o->to.family == AF_UNSPEC && o->private_net.ip.family == AF_UNSPEC)) {
		/*
		 * --to docker, and the default for a container with exactly one IPv4 address on
		 * its engine networks (e.g. Docker's bridge): DNAT/SNAT to that address. The
		 * network it is on is recorded: a repair asks for the address there again, not
		 * on whatever networks the container joined since.
		 */
		struct lj_engine_err err = {0};
		struct lj_cidr c;

		if (!container)
			return lj_bad_input(res,
					    "--to docker needs a Docker or Podman container as "
					    "the target");
		r = lj_engine_container_address(ctx->tgt->container_id, o->to_network, AF_INET, &c,
						network, &err);
		if (r == -ENONET)
			return lj_bad_input(res,
					    "%s: connect it ('docker network connect %s %s'), or "
					    "name another network with --to docker:NETWORK",
					    err.msg[0] ? err.msg : strerror(-r), o->to_network,
					    ctx->tgt->name);
		/* Several: which is the user's to say (a private link of its own would add an
		 * interface and a default route beside the engine's). */
		if (r == -ENOTUNIQ)
			return lj_bad_input(res,
					    "%s with --to docker:NETWORK or --to ADDRESS (or "
					    "--private NET for a link of its own)",
					    err.msg[0] ? err.msg : strerror(-r));
		if (r < 0 && o->to_engine)
			return lj_bad_input(res, "--to docker: %s",
					    err.msg[0] ? err.msg : strerror(-r));
		/* Without --to docker, no address at all means: give it a private link. */
		resolved = *o;
		if (r < 0) {
			c.ip = o->to;
			network[0] = '\0';
		}
		resolved.to = c.ip;
		resolved.to_engine = false;
		o = &resolved;
	}
	to = o->to.family != AF_UNSPEC;

	if (o->n_ips || o->n_gateways || o->dhcp || o->dhcp6 || o->slaac)
		return lj_bad_input(res, "The nat way takes no addressing options: the container's "
					 "address is private (--private) or given with --to");
	if (!lj_ifname_valid(o->uplink))
		return lj_bad_input(res, "Invalid uplink name '%s'", o->uplink);
	r = lj_link_get(ctx->host, o->uplink, &up);
	if (r == -ENODEV)
		return lj_bad_input(res, "Uplink '%s' does not exist", o->uplink);
	if (r < 0)
		return lj_fail(res, r, "Failed to look up uplink '%s': %s", o->uplink,
			       strerror(-r));
	/* The LAN address goes on the uplink: on a bridge (or bond) port the kernel would hold
	 * it, but the LAN's frames for it are handed up to the master, where nothing answers. */
	if (up.master) {
		struct lj_link m;

		r = lj_link_get_by_index(ctx->host, up.master, &m);
		if (r < 0 && r != -ENODEV)
			return lj_fail(res, r, "Failed to look up the master of uplink '%s': %s",
				       o->uplink, strerror(-r));
		if (r == 0 && strcmp(m.kind, "openvswitch") == 0)
			return lj_bad_input(res,
					    "'%s' is a port of an Open vSwitch bridge; use "
					    "that bridge as --uplink",
					    o->uplink);
		if (r == 0 && strcmp(m.kind, "bridge") == 0)
			return lj_bad_input(res, "'%s' is a port of bridge '%s'; use --uplink %s",
					    o->uplink, m.name, m.name);
		if (r == 0 && (strcmp(m.kind, "bond") == 0 || strcmp(m.kind, "team") == 0))
			return lj_bad_input(res, "'%s' is a port of %s '%s'; use --uplink %s",
					    o->uplink, m.kind, m.name, m.name);
		/* Other masters (a VRF) leave the address working on the uplink. */
	}
	r = check_address(ctx, o, up.ifindex, rec->id, res);
	if (r < 0)
		return r;
	if (to && o->private_net.ip.family != AF_UNSPEC)
		return lj_bad_input(res, "--private and --to exclude each other");
	if (o->mtu && o->mtu > up.mtu)
		return lj_bad_input(res, "MTU %u is above the MTU of uplink '%s', %u", o->mtu,
				    o->uplink, up.mtu);
	pub_list = json_array();
	if (!pub_list)
		return -ENOMEM;
	json_object_set_new(rec->info, "publish", pub_list);
	r = publish_text(o, &publish, pub_list, res);
	if (r < 0)
		return r;

	if (to) {
		r = check_to(ctx, o, res);
		if (r < 0)
			return r;
		if (lj_ip_equal(&o->to, &o->address.ip))
			return lj_bad_input(res, "--to and --address are the same address");
		dest = o->to;
		r = check_to_unused(ctx, o, rec, res);
		if (r < 0)
			return r;
		r = to_iif(ctx, o, iif, res);
		if (r < 0)
			return r;
	} else {
		r = check_target_link(ctx, ifname, res);
		if (r < 0)
			return r;
		r = pick_private(ctx, o, rec, &priv, res);
		if (r < 0)
			return r;
		if (priv.prefixlen == 31) {
			host_addr = (struct lj_cidr){.ip = priv.ip, .prefixlen = 31};
			cont_addr = (struct lj_cidr){.ip = ip4(v4(&priv.ip) + 1), .prefixlen = 31};
		} else {
			host_addr = (struct lj_cidr){.ip = ip4(v4(&priv.ip) + 1),
						     .prefixlen = priv.prefixlen};
			cont_addr = (struct lj_cidr){.ip = ip4(v4(&priv.ip) + 2),
						     .prefixlen = priv.prefixlen};
		}
		if (lj_cidr_contains(&priv, &o->address.ip))
			return lj_bad_input(res, "--address %s lies on the private side %s",
					    lj_cidr_to_string(&o->address, a, sizeof(a)),
					    lj_cidr_to_string(&priv, key, sizeof(key)));
		dest = cont_addr.ip;
	}

	r = lj_way_detect_firewall(AF_INET, fw_chain, res);
	if (r < 0)
		return r;

	/* 1. the LAN address on the uplink, if nobody on the LAN holds it (RFC 5227), announced;
	 * an uplink without ARP (a tunnel, PPP: no Ethernet address) has no one to ask or tell,
	 * and the kernel refuses an ARP socket on it */
	arp = up.has_mac && !(up.flags & IFF_NOARP);
	lj_cidr_to_string(&o->address, a, sizeof(a));
	if (arp && !o->no_conflict_check) {
		s = lj_plan_add(plan, &lj_step_arp_probe, LJ_HOST, "probe the LAN for %s on '%s'",
				a, o->uplink);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->uplink);
		s->cidr = o->address;
	}
	s = lj_plan_add(plan, &lj_step_addr, LJ_HOST, "add address %s to uplink '%s'", a,
			o->uplink);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", o->uplink);
	s->cidr = o->address;
	if (arp) {
		s = lj_plan_add(plan, &lj_step_garp, LJ_HOST,
				"announce %s on '%s' (gratuitous ARP)", a, o->uplink);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->uplink);
		s->cidr = o->address;
	}

	/* 2. the private link */
	if (!to) {
		uint32_t mtu = o->mtu ? o->mtu : up.mtu;
		char h[LJ_CIDR_STRLEN], c[LJ_CIDR_STRLEN];

		lj_target_host_ifname(ctx->tgt, "ljn", ifname, host_name);
		snprintf(rec->host_ifname, sizeof(rec->host_ifname), "%s", host_name);
		snprintf(iif, sizeof(iif), "%s", host_name);
		lj_cidr_to_string(&host_addr, h, sizeof(h));
		lj_cidr_to_string(&cont_addr, c, sizeof(c));

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
			return lj_fail(res, r, "Failed to choose MAC addresses for '%s': %s",
				       host_name, strerror(-r));
		s = lj_plan_add(plan, &lj_step_addr, LJ_HOST, "add address %s to '%s'", h,
				host_name);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", host_name);
		s->cidr = host_addr;
		s->skip_undo = true;
		s = lj_plan_add(plan, &lj_step_link_up, LJ_TARGET, "bring up '%s' in the target",
				ifname);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", ifname);
		s->skip_undo = true;
		s = lj_plan_add(plan, &lj_step_addr, LJ_TARGET, "add address %s to '%s'", c,
				ifname);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", ifname);
		s->cidr = cont_addr;
		s->skip_undo = true;
		lj_ip_to_string(&host_addr.ip, h, sizeof(h));
		if (o->routes_append) {
			/* CNI: beside other interfaces' default routes, as the reference plugins */
			s = lj_plan_add(plan, &lj_step_route, LJ_TARGET, "add default route via %s",
					h);
			if (!s)
				return -ENOMEM;
			snprintf(s->link, sizeof(s->link), "%s", ifname);
			s->cidr.ip.family = AF_INET;
			s->via = host_addr.ip;
			s->flags |= LJ_STEP_F_APPEND;
			s->skip_undo = true;
		} else {
			r = lj_attach_add_default_route(ctx, plan, rec, ifname, AF_INET,
							&host_addr.ip, false, res);
			if (r < 0)
				return r;
		}
		/* the way's own default route is set: a --route to a default is refused */
		r = lj_attach_check_default_routes(ctx, o, plan, "", res);
		if (r < 0)
			return r;
		for (size_t i = 0; i < o->n_routes; i++) {
			const struct lj_route_spec *rs = &o->routes[i];
			if (rs->dst.ip.family != AF_INET)
				return lj_bad_input(res,
						    "--route: the nat way's link is IPv4 only");
			lj_cidr_to_string(&rs->dst, c, sizeof(c));
			s = lj_plan_add(plan, &lj_step_route, LJ_TARGET, "add route %s", c);
			if (!s)
				return -ENOMEM;
			snprintf(s->link, sizeof(s->link), "%s", ifname);
			s->cidr = rs->dst;
			s->via = rs->via.family != AF_UNSPEC ? rs->via : host_addr.ip;
			if (o->routes_append)
				s->flags |= LJ_STEP_F_APPEND;
			s->skip_undo = true;
		}
	} else if (o->n_routes) {
		return lj_bad_input(res, "--route does not apply with --to: the target's routes "
					 "stay as they are");
	}

	/* 3. forwarding, NAT rules, firewall accepts */
	s = lj_plan_add(plan, &lj_step_ip_forward, LJ_HOST, "turn on IPv4 forwarding");
	if (!s)
		return -ENOMEM;
	s->u32 = 1;

	snprintf(base, sizeof(base), "lj%s", rec->id);
	lj_ip_to_string(&dest, key, sizeof(key));
	s = lj_plan_add(plan, &lj_step_nat_rules, LJ_HOST,
			"add NAT rules %s <-> %s (table ip "
			"lanjoin, chains %s_dnat/_snat)",
			a, key, base);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", base);
	snprintf(s->master, sizeof(s->master), "%s", iif);
	s->cidr = (struct lj_cidr){.ip = o->address.ip, .prefixlen = 32};
	s->via = dest;
	if (publish && !(s->text = strdup(publish)))
		return -ENOMEM;
	r = check_nft(s, false, res);
	if (r < 0)
		return r;

	if (fw_chain[0]) {
		s = lj_plan_add(plan, &lj_step_fw_accept, LJ_HOST,
				"accept %s's traffic in chain %s of table ip filter", key,
				fw_chain);
		if (!s)
			return -ENOMEM;
		snprintf(s->master, sizeof(s->master), "%s", fw_chain);
		/* The container's link, or the host's interface towards --to (Docker's bridge):
		 * its traffic on another network of Docker's stays Docker's to isolate. */
		snprintf(s->link, sizeof(s->link), "%s", host_name[0] ? host_name : iif);
		s->via = dest;
		s->flags |= LJ_STEP_F_FW_NAT;
		if (asprintf(&s->text, "lanjoin:%s", rec->id) < 0) {
			s->text = NULL;
			return -ENOMEM;
		}
		r = check_nft(s, true, res);
		if (r < 0)
			return r;
	}

	/* What list shows. */
	json_object_set_new(rec->info, "uplink", json_string(o->uplink));
	json_object_set_new(rec->info, "address", json_string(a));
	json_object_set_new(rec->info, "addresses", json_pack("[s]", a));
	if (to) {
		json_object_set_new(rec->info, "to", json_string(key));
		if (network[0]) /* the engine network the address was taken from */
			json_object_set_new(rec->info, "to_network", json_string(network));
	} else {
		json_object_set_new(rec->info, "private",
				    json_string(lj_cidr_to_string(&priv, a, sizeof(a))));
		json_object_set_new(rec->info, "host_address",
				    json_string(lj_ip_to_string(&host_addr.ip, a, sizeof(a))));
		json_object_set_new(rec->info, "container_address",
				    json_string(lj_ip_to_string(&cont_addr.ip, a, sizeof(a))));
	}
	if (fw_chain[0])
		json_object_set_new(rec->info, "firewall_chain", json_string(fw_chain));
	json_object_set_new(rec->info, "nft_chains", json_string(base));
	return 0;
}
