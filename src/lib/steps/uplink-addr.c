/* SPDX-License-Identifier: MIT */
/*
 * Addresses and routes of uplink adoption, copied and moved exactly: their JSON text form in
 * a step (what a state record stores, validated when read back), their `ip` syntax for
 * describe, and the step types addr-copy (onto the bridge), addr-flags (their final flags),
 * addr-move (off the uplink) and route-move (from the uplink to the bridge).
 */
#include "lib/steps/uplink-addr.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/status.h"
#include "shared/macro.h"
#include "shared/shquote.h"

/* --- JSON text of addresses and routes ---------------------------------------------------- */

static void put_ip(json_t *o, const char *k, const struct lj_ip *ip)
{
	char buf[LJ_IP_STRLEN];

	if (ip->family != AF_UNSPEC)
		json_object_set_new(o, k, json_string(lj_ip_to_string(ip, buf, sizeof(buf))));
}

static void put_u(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

static char *dump_text(json_t *o)
{
	char *s;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

char *lj_addr_full_to_text(const struct lj_addr_full *a)
{
	char buf[LJ_CIDR_STRLEN];
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "local",
			    json_string(lj_cidr_to_string(&a->local, buf, sizeof(buf))));
	put_ip(o, "peer", &a->peer);
	put_ip(o, "broadcast", &a->broadcast);
	if (a->label[0])
		json_object_set_new(o, "label", json_string(a->label));
	put_u(o, "scope", a->scope);
	put_u(o, "flags", a->flags);
	put_u(o, "valid", a->valid_lft);
	put_u(o, "preferred", a->preferred_lft);
	if (a->rt_priority)
		put_u(o, "metric", a->rt_priority);
	if (a->proto)
		put_u(o, "proto", a->proto);
	return dump_text(o);
}

static int get_u(const json_t *o, const char *k, uint64_t max, bool required, uint64_t *ret)
{
	const json_t *v = json_object_get(o, k);

	if (!v)
		return required ? -EBADMSG : 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return -EBADMSG;
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_ip(const json_t *o, const char *k, int family, struct lj_ip *ret)
{
	const json_t *v = json_object_get(o, k);

	if (!v)
		return 0;
	if (!json_is_string(v) || lj_parse_ip(json_string_value(v), ret) < 0 ||
	    ret->family != family)
		return -EBADMSG;
	return 0;
}

/* An IPv4 address label: like an interface name, and may hold ':' ("em1:two"). */
static bool label_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ)
		return false;
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '/')
			return false;
	return true;
}

int lj_addr_full_from_text(const char *text, struct lj_addr_full *ret)
{
	struct lj_addr_full a = {0};
	uint64_t n;
	json_t *o;
	const json_t *v;
	int r = -EBADMSG;

	o = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!json_is_object(o))
		goto out;
	v = json_object_get(o, "local");
	if (!json_is_string(v) || lj_parse_cidr(json_string_value(v), true, &a.local) < 0)
		goto out;
	if (get_ip(o, "peer", a.local.ip.family, &a.peer) < 0 ||
	    get_ip(o, "broadcast", AF_INET, &a.broadcast) < 0)
		goto out;
	v = json_object_get(o, "label");
	if (v) {
		if (!json_is_string(v) || !label_valid(json_string_value(v)))
			goto out;
		snprintf(a.label, sizeof(a.label), "%s", json_string_value(v));
	}
	n = 0;
	if (get_u(o, "scope", 255, true, &n) < 0)
		goto out;
	a.scope = (uint8_t)n;
	if (get_u(o, "flags", UINT32_MAX, true, &n) < 0)
		goto out;
	a.flags = (uint32_t)n;
	if (get_u(o, "valid", UINT32_MAX, true, &n) < 0)
		goto out;
	a.valid_lft = (uint32_t)n;
	if (get_u(o, "preferred", UINT32_MAX, true, &n) < 0)
		goto out;
	a.preferred_lft = (uint32_t)n;
	n = 0;
	if (get_u(o, "metric", UINT32_MAX, false, &n) < 0)
		goto out;
	a.rt_priority = (uint32_t)n;
	n = 0;
	if (get_u(o, "proto", 255, false, &n) < 0)
		goto out;
	a.proto = (uint8_t)n;
	*ret = a;
	r = 0;
out:
	json_decref(o);
	return r;
}

char *lj_route_info_to_text(const struct lj_route_info *rt)
{
	char buf[LJ_CIDR_STRLEN];
	json_t *o = json_object(), *m;
	struct lj_cidr c;

	if (!o)
		return NULL;
	put_u(o, "family", rt->family == AF_INET ? 4 : 6);
	c.ip = rt->dst;
	c.ip.family = rt->family;
	c.prefixlen = rt->dst_len;
	json_object_set_new(o, "dst", json_string(lj_cidr_to_string(&c, buf, sizeof(buf))));
	if (rt->src_len) {
		c.ip = rt->src;
		c.prefixlen = rt->src_len;
		json_object_set_new(o, "src", json_string(lj_cidr_to_string(&c, buf, sizeof(buf))));
	}
	put_u(o, "tos", rt->tos);
	put_u(o, "protocol", rt->protocol);
	put_u(o, "scope", rt->scope);
	put_u(o, "type", rt->type);
	put_u(o, "flags", rt->flags & RTNH_F_ONLINK);
	put_u(o, "table", rt->table);
	put_ip(o, "gateway", &rt->gateway);
	put_ip(o, "prefsrc", &rt->prefsrc);
	if (rt->has_priority)
		put_u(o, "metric", rt->priority);
	if (rt->flow)
		put_u(o, "flow", rt->flow);
	if (rt->has_pref)
		put_u(o, "pref", rt->pref);
	if (rt->expires)
		put_u(o, "expires", rt->expires);
	if (rt->metrics_mask) {
		m = json_object();
		for (unsigned i = 1; i < LJ_ROUTE_METRICS; i++)
			if (rt->metrics_mask & (1u << i)) {
				char k[8];
				snprintf(k, sizeof(k), "%u", i);
				put_u(m, k, rt->metrics[i]);
			}
		json_object_set_new(o, "metrics", m);
	}
	return dump_text(o);
}

int lj_route_info_from_text(const char *text, struct lj_route_info *ret)
{
	struct lj_route_info rt = {0};
	struct lj_cidr c;
	const json_t *v, *m;
	const char *k;
	uint64_t n = 0;
	json_t *o;
	int r = -EBADMSG;

	o = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!json_is_object(o))
		goto out;
	if (get_u(o, "family", 6, true, &n) < 0 || (n != 4 && n != 6))
		goto out;
	rt.family = n == 4 ? AF_INET : AF_INET6;
	v = json_object_get(o, "dst");
	if (!json_is_string(v) || lj_parse_cidr(json_string_value(v), true, &c) < 0 ||
	    c.ip.family != rt.family)
		goto out;
	rt.dst = c.ip;
	rt.dst_len = c.prefixlen;
	v = json_object_get(o, "src");
	if (v) {
		if (!json_is_string(v) || lj_parse_cidr(json_string_value(v), true, &c) < 0 ||
		    c.ip.family != rt.family)
			goto out;
		rt.src = c.ip;
		rt.src_len = c.prefixlen;
	}
	if (get_u(o, "tos", 255, true, &n) < 0)
		goto out;
	rt.tos = (uint8_t)n;
	if (get_u(o, "protocol", 255, true, &n) < 0)
		goto out;
	rt.protocol = (uint8_t)n;
	if (get_u(o, "scope", 255, true, &n) < 0)
		goto out;
	rt.scope = (uint8_t)n;
	if (get_u(o, "type", 255, true, &n) < 0)
		goto out;
	rt.type = (uint8_t)n;
	if (get_u(o, "flags", RTNH_F_ONLINK, true, &n) < 0)
		goto out;
	rt.flags = (uint32_t)n;
	if (get_u(o, "table", UINT32_MAX, true, &n) < 0)
		goto out;
	rt.table = (uint32_t)n;
	if (get_ip(o, "gateway", rt.family, &rt.gateway) < 0 ||
	    get_ip(o, "prefsrc", rt.family, &rt.prefsrc) < 0)
		goto out;
	if (json_object_get(o, "metric")) {
		if (get_u(o, "metric", UINT32_MAX, true, &n) < 0)
			goto out;
		rt.has_priority = true;
		rt.priority = (uint32_t)n;
	}
	n = 0;
	if (get_u(o, "flow", UINT32_MAX, false, &n) < 0)
		goto out;
	rt.flow = (uint32_t)n;
	if (json_object_get(o, "pref")) {
		if (get_u(o, "pref", 255, true, &n) < 0)
			goto out;
		rt.has_pref = true;
		rt.pref = (uint8_t)n;
	}
	n = 0;
	if (get_u(o, "expires", UINT32_MAX, false, &n) < 0)
		goto out;
	rt.expires = (uint32_t)n;
	m = json_object_get(o, "metrics");
	if (m) {
		if (!json_is_object(m))
			goto out;
		json_object_foreach((json_t *)m, k, v)
		{
			uint64_t i;
			if (lj_parse_uint(k, 1, LJ_ROUTE_METRICS - 1, &i) < 0 ||
			    !json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > UINT32_MAX)
				goto out;
			rt.metrics_mask |= 1u << i;
			rt.metrics[i] = (uint32_t)json_integer_value(v);
		}
	}
	*ret = rt;
	r = 0;
out:
	json_decref(o);
	return r;
}

static const char *const rtax_names[LJ_ROUTE_METRICS] = {
	[RTAX_LOCK] = "lock",
	[RTAX_MTU] = "mtu",
	[RTAX_WINDOW] = "window",
	[RTAX_RTT] = "rtt",
	[RTAX_RTTVAR] = "rttvar",
	[RTAX_SSTHRESH] = "ssthresh",
	[RTAX_CWND] = "cwnd",
	[RTAX_ADVMSS] = "advmss",
	[RTAX_REORDERING] = "reordering",
	[RTAX_HOPLIMIT] = "hoplimit",
	[RTAX_INITCWND] = "initcwnd",
	[RTAX_FEATURES] = "features",
	[RTAX_RTO_MIN] = "rto_min",
	[RTAX_INITRWND] = "initrwnd",
	[RTAX_QUICKACK] = "quickack",
};

void lj_route_info_print(const struct lj_route_info *rt, const char *dev, FILE *f)
{
	char b[LJ_CIDR_STRLEN];
	struct lj_cidr c = {.ip = rt->dst, .prefixlen = rt->dst_len};
	static const char *const types[] = {
		[RTN_UNICAST] = "",
		[RTN_LOCAL] = "local ",
		[RTN_BROADCAST] = "broadcast ",
		[RTN_ANYCAST] = "anycast ",
		[RTN_MULTICAST] = "multicast ",
		[RTN_BLACKHOLE] = "blackhole ",
		[RTN_UNREACHABLE] = "unreachable ",
		[RTN_PROHIBIT] = "prohibit ",
		[RTN_THROW] = "throw ",
	};

	c.ip.family = rt->family;
	fprintf(f, "%s%s", rt->type < ARRAY_SIZE(types) && types[rt->type] ? types[rt->type] : "",
		rt->dst_len ? lj_cidr_to_string(&c, b, sizeof(b)) : "default");
	if (rt->src_len) {
		c.ip = rt->src;
		c.prefixlen = rt->src_len;
		fprintf(f, " from %s", lj_cidr_to_string(&c, b, sizeof(b)));
	}
	if (rt->gateway.family != AF_UNSPEC)
		fprintf(f, " via %s", lj_ip_to_string(&rt->gateway, b, sizeof(b)));
	fprintf(f, " dev %s", LJ_SHQ(dev));
	if (rt->table != RT_TABLE_MAIN)
		fprintf(f, " table %u", rt->table);
	fprintf(f, " proto %u scope %u", rt->protocol, rt->scope);
	if (rt->tos)
		fprintf(f, " tos 0x%x", rt->tos);
	if (rt->has_priority)
		fprintf(f, " metric %u", rt->priority);
	if (rt->prefsrc.family != AF_UNSPEC)
		fprintf(f, " src %s", lj_ip_to_string(&rt->prefsrc, b, sizeof(b)));
	if (rt->flags & RTNH_F_ONLINK)
		fprintf(f, " onlink");
	if (rt->flow)
		fprintf(f, " realms 0x%x", rt->flow);
	if (rt->has_pref && rt->family == AF_INET6)
		fprintf(f, " pref %s",
			rt->pref == 0x3	  ? "low"
			: rt->pref == 0x1 ? "high"
					  : "medium");
	if (rt->expires)
		fprintf(f, " expires %u", rt->expires);
	for (unsigned i = 1; i < LJ_ROUTE_METRICS; i++)
		if ((rt->metrics_mask & (1u << i)) && rtax_names[i])
			fprintf(f, " %s %u", rtax_names[i], rt->metrics[i]);
}

void lj_addr_full_print(const struct lj_addr_full *a, const char *dev, FILE *f)
{
	char b[LJ_CIDR_STRLEN];

	fprintf(f, "%s", lj_cidr_to_string(&a->local, b, sizeof(b)));
	if (a->peer.family != AF_UNSPEC)
		fprintf(f, " peer %s", lj_ip_to_string(&a->peer, b, sizeof(b)));
	if (a->broadcast.family != AF_UNSPEC)
		fprintf(f, " broadcast %s", lj_ip_to_string(&a->broadcast, b, sizeof(b)));
	fprintf(f, " dev %s", LJ_SHQ(dev));
	if (a->local.ip.family == AF_INET && a->label[0] && strcmp(a->label, dev) != 0)
		fprintf(f, " label %s", LJ_SHQ(a->label));
	if (a->local.ip.family == AF_INET)
		fprintf(f, " scope %u", a->scope);
	if (a->valid_lft != UINT32_MAX)
		fprintf(f, " valid_lft %u", a->valid_lft);
	if (a->preferred_lft != UINT32_MAX)
		fprintf(f, " preferred_lft %u", a->preferred_lft);
	if (a->rt_priority)
		fprintf(f, " metric %u", a->rt_priority);
	if (a->flags & IFA_F_NODAD)
		fprintf(f, " nodad");
	if (a->flags & IFA_F_NOPREFIXROUTE)
		fprintf(f, " noprefixroute");
	if (a->flags & IFA_F_MANAGETEMPADDR)
		fprintf(f, " mngtmpaddr");
	if (a->flags & IFA_F_HOMEADDRESS)
		fprintf(f, " home");
	if (a->flags & IFA_F_MCAUTOJOIN)
		fprintf(f, " autojoin");
}

/* --- addr-copy: text = address, added to link (BR); undo removes it --------------------------- */

/* The address in s->text, and the ifindex of s->link (returned) or -errno. */
static int step_addr(struct lj_ctx *ctx, const struct lj_step *s, struct lj_addr_full *a)
{
	if (lj_addr_full_from_text(s->text, a) < 0) {
		lj_ctx_detail(ctx, "malformed address in the plan");
		return -EBADMSG;
	}
	return lj_ctx_ifindex(ctx, LJ_HOST, s->link);
}

/* Describe "ip addr VERB" of the address in s->text on s->link, with all its attributes
 * (nodad: with IFA_F_NODAD if it is IPv6). Nothing if it is malformed. */
static void describe_addr(const struct lj_step *s, const char *verb, bool nodad, FILE *f)
{
	struct lj_addr_full a;

	if (lj_addr_full_from_text(s->text, &a) < 0)
		return;
	if (nodad && a.local.ip.family == AF_INET6)
		a.flags |= IFA_F_NODAD;
	fprintf(f, "ip addr %s ", verb);
	lj_addr_full_print(&a, s->link, f);
	fputc('\n', f);
}

/* Describe "ip addr del" of the address in s->text from s->link. */
static void describe_addr_del(const struct lj_step *s, FILE *f)
{
	struct lj_addr_full a;
	char b[LJ_CIDR_STRLEN];

	if (lj_addr_full_from_text(s->text, &a) == 0)
		fprintf(f, "ip addr del %s dev %s\n", lj_cidr_to_string(&a.local, b, sizeof(b)),
			LJ_SHQ(s->link));
}

static int addr_copy_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_addr_full a;
	uint32_t extra = 0;
	int ifindex, r;

	ifindex = step_addr(ctx, s, &a);
	if (ifindex < 0)
		return ifindex;
	/* An address that is only moving needs no duplicate detection: it is ours already. */
	if ((s->flags & LJ_STEP_F_NODAD_FIRST) && a.local.ip.family == AF_INET6)
		extra = IFA_F_NODAD;
	r = lj_addr_add_full(ctx->host, ifindex, &a, NULL, extra, false);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "'%s' already has that address", s->link);
	return lj_ctx_nl_error(ctx, ctx->host, r);
}

static int addr_copy_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_addr_full a;
	int ifindex, r;

	ifindex = step_addr(ctx, s, &a);
	if (ifindex == -ENODEV)
		return 0;
	if (ifindex < 0)
		return ifindex;
	r = lj_addr_del_full(ctx->host, ifindex, &a);
	return r == -EADDRNOTAVAIL || r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, ctx->host, r);
}

static void addr_copy_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	describe_addr(s, "add", s->flags & LJ_STEP_F_NODAD_FIRST, f);
}

static void addr_copy_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	describe_addr_del(s, f);
}

/*
 * status: the host's address is still on BR. A bridge set down and up again loses its IPv6
 * addresses (and with them the routes through them), which nothing of lanjoin's puts back:
 * say which, and the command that does. Not checked: an IPv6 link-local or temporary address
 * (the kernel makes its own), one with a finite lifetime (a DHCP client's to renew or change).
 */
static int addr_copy_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			    size_t size)
{
	const struct lj_link *l;
	struct lj_addr_full a;
	char b[LJ_CIDR_STRLEN];
	bool v6;

	if (lj_addr_full_from_text(s->text, &a) < 0)
		return 0; /* the record's reader refuses a malformed one */
	v6 = a.local.ip.family == AF_INET6;
	if (a.valid_lft != UINT32_MAX ||
	    (v6 && (IN6_IS_ADDR_LINKLOCAL(&a.local.ip.v6) || (a.flags & IFA_F_TEMPORARY))))
		return 0;
	l = lj_status_need_link(v, LJ_HOST, s->link, false, why, size);
	if (!l)
		return LJ_VERIFY_DRIFTED;
	if (lj_status_has_addr(v->host, l->ifindex, &a.local))
		return 0;
	lj_cidr_to_string(&a.local, b, sizeof(b));
	snprintf(why, size, "address %s is missing on %s (put back by: ip addr add %s dev %s%s)", b,
		 s->link, b, s->link, v6 ? " nodad" : "");
	return LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_addr_copy = {
	.id = "addr-copy",
	.verify = addr_copy_verify,
	.apply = addr_copy_apply,
	.undo = addr_copy_undo,
	.describe = addr_copy_describe,
	.describe_undo = addr_copy_describe_undo,
};

/* --- addr-flags: text = address on link (BR) with its final flags and lifetimes -------------- */

static int addr_flags_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_addr_full a;
	int ifindex;

	ifindex = step_addr(ctx, s, &a);
	if (ifindex < 0)
		return ifindex;
	/* NLM_F_REPLACE modifies flags and lifetimes without a new duplicate detection. */
	return lj_ctx_nl_error(ctx, ctx->host,
			       lj_addr_add_full(ctx->host, ifindex, &a, NULL, 0, true));
}

static int addr_flags_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	return 0; /* nothing: it only finishes addr-copy; listed so a redo runs it again */
}

static void addr_flags_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	describe_addr(s, "change", false, f);
}

const struct lj_step_type lj_step_addr_flags = {
	.id = "addr-flags",
	.apply = addr_flags_apply,
	.undo = addr_flags_undo,
	.describe = addr_flags_describe,
};

/* --- addr-move: text = address of link (DEV); apply removes it, undo puts it back ------------- */

static int addr_move_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_addr_full a;
	int ifindex, r;

	ifindex = step_addr(ctx, s, &a);
	if (ifindex < 0)
		return ifindex;
	r = lj_addr_del_full(ctx->host, ifindex, &a);
	return r == -EADDRNOTAVAIL ? 0 : lj_ctx_nl_error(ctx, ctx->host, r);
}

/* The address as it is now on master (its lifetimes went on ticking there), else as recorded. */
static void current_lifetimes(struct lj_ctx *ctx, const char *master, struct lj_addr_full *a)
{
	struct lj_addr_full *v = NULL;
	size_t n = 0;
	int ifindex;

	if (!master[0] || (a->valid_lft == UINT32_MAX && a->preferred_lft == UINT32_MAX))
		return;
	ifindex = lj_ctx_ifindex(ctx, LJ_HOST, master);
	if (ifindex < 0 || lj_addr_dump_full(ctx->host, a->local.ip.family, ifindex, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (lj_ip_equal(&v[i].local.ip, &a->local.ip) &&
		    v[i].local.prefixlen == a->local.prefixlen) {
			a->valid_lft = v[i].valid_lft;
			a->preferred_lft = v[i].preferred_lft;
		}
	free(v);
}

static int addr_move_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_addr_full a;
	int ifindex, r;

	ifindex = step_addr(ctx, s, &a);
	if (ifindex == -ENODEV) {
		lj_ctx_detail(ctx, "'%s' is gone: cannot give it back %s", s->link, s->what);
		return -ENODEV;
	}
	if (ifindex < 0)
		return ifindex;
	current_lifetimes(ctx, s->master, &a);
	/*
	 * Back without duplicate detection (it is our address, still answering on the bridge),
	 * then with its own flags: a modify does not start detection again.
	 */
	r = lj_addr_add_full(ctx->host, ifindex, &a, NULL,
			     a.local.ip.family == AF_INET6 ? IFA_F_NODAD : 0, false);
	if (r == -EEXIST)
		return 0;
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (a.local.ip.family == AF_INET6 && !(a.flags & IFA_F_NODAD))
		r = lj_addr_add_full(ctx->host, ifindex, &a, NULL, 0, true);
	return lj_ctx_nl_error(ctx, ctx->host, r);
}

static void addr_move_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	describe_addr_del(s, f);
}

static void addr_move_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	describe_addr(s, "add", false, f);
}

const struct lj_step_type lj_step_addr_move = {
	.id = "addr-move",
	.apply = addr_move_apply,
	.undo = addr_move_undo,
	.describe = addr_move_describe,
	.describe_undo = addr_move_describe_undo,
};

/* --- route-move: text = route; apply switches it from link (DEV) to master (BR), undo back --- */

static int route_switch(struct lj_ctx *ctx, const struct lj_step *s, const char *to)
{
	struct lj_route_info rt;
	int oif, r;

	if (lj_route_info_from_text(s->text, &rt) < 0) {
		lj_ctx_detail(ctx, "malformed route in the plan");
		return -EBADMSG;
	}
	oif = lj_ctx_ifindex(ctx, LJ_HOST, to);
	if (oif < 0) {
		lj_ctx_detail(ctx, "'%s' is gone", to);
		return oif;
	}
	r = lj_route_replace_info(ctx->host, &rt, oif);
	if (r == -ENETUNREACH)
		lj_ctx_detail(ctx, "the gateway is not reachable on '%s'", to);
	return lj_ctx_nl_error(ctx, ctx->host, r);
}

static int route_move_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	return route_switch(ctx, s, s->master);
}

static int route_move_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	return route_switch(ctx, s, s->link);
}

static void route_move_print(const struct lj_step *s, const char *dev, FILE *f)
{
	struct lj_route_info rt;

	if (lj_route_info_from_text(s->text, &rt) < 0)
		return;
	fprintf(f, "ip %sroute replace ", rt.family == AF_INET6 ? "-6 " : "");
	lj_route_info_print(&rt, dev, f);
	fputc('\n', f);
}

static void route_move_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	route_move_print(s, s->master, f);
}

static void route_move_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	route_move_print(s, s->link, f);
}

/*
 * status: the host's route is still through BR (s->master), by its destination, gateway and
 * table (a bridge set down and up again loses them all). Not checked: a route that expires or
 * came from a router advertisement or a DHCP client (they come back by themselves).
 */
static int route_move_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			     size_t size)
{
	struct lj_route_info rt;
	const struct lj_link *l;
	struct lj_cidr dst = {0};
	char d[LJ_CIDR_STRLEN] = "default", g[LJ_IP_STRLEN + 8] = "", t[24] = "", m[24] = "";

	if (lj_route_info_from_text(s->text, &rt) < 0 || rt.expires || rt.protocol == RTPROT_RA ||
	    rt.protocol == 16 /* RTPROT_DHCP */ || rt.type != RTN_UNICAST)
		return 0;
	l = lj_status_need_link(v, LJ_HOST, s->master, false, why, size);
	if (!l)
		return LJ_VERIFY_DRIFTED;
	dst.ip = rt.dst;
	dst.ip.family = rt.family;
	dst.prefixlen = rt.dst_len;
	if (lj_status_has_route(v->host, &dst, &rt.gateway, l->ifindex, rt.table))
		return 0;
	if (rt.dst_len)
		lj_cidr_to_string(&dst, d, sizeof(d));
	if (rt.gateway.family != AF_UNSPEC) {
		memcpy(g, " via ", 5);
		lj_ip_to_string(&rt.gateway, g + 5, sizeof(g) - 5);
	}
	if (rt.table != RT_TABLE_MAIN)
		snprintf(t, sizeof(t), " table %u", rt.table);
	if (rt.has_priority && rt.priority)
		snprintf(m, sizeof(m), " metric %u", rt.priority);
	snprintf(why, size,
		 "route %s%s%s is missing on %s (put back by: ip%s route add %s%s dev %s%s%s)", d,
		 g, t, s->master, rt.family == AF_INET6 ? " -6" : "", d, g, s->master, t, m);
	return LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_route_move = {
	.id = "route-move",
	.verify = route_move_verify,
	.apply = route_move_apply,
	.undo = route_move_undo,
	.describe = route_move_describe,
	.describe_undo = route_move_describe_undo,
};
