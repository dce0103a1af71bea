/* SPDX-License-Identifier: MIT */
/*
 * Plan steps of uplink adoption: the bridge that takes the uplink's MAC, per-link sysctls,
 * exact copies of addresses and routes, enslaving, and the probe.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/kernel/addr.h"
#include "lib/kernel/link.h"
#include "lib/kernel/probe.h"
#include "lib/kernel/route.h"
#include "lib/ways/uplink.h"
#include "shared/macro.h"

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
	fprintf(f, " dev %s", dev);
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
	fprintf(f, " dev %s", dev);
	if (a->local.ip.family == AF_INET && a->label[0] && strcmp(a->label, dev) != 0)
		fprintf(f, " label %s", a->label);
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

/* --- uplink-bridge: link = BR (created down), mac, mtu, u32 = IPv6 gen mode + 1 (0 = kernel's) */

static int ubridge_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_bridge_opts o = {
		.name = s->link,
		.alias = LJ_OWNED_ALIAS,
		.mtu = s->mtu,
		.mac = s->has_mac ? s->mac : NULL,
	};
	int r;

	r = lj_link_add_bridge_opts(ctx->host, &o);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "a link named '%s' exists", s->link);
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	s->created = true;
	if (s->u32) {
		r = lj_link_set_addr_gen_mode(ctx->host, s->link, (uint8_t)(s->u32 - 1));
		if (r < 0) {
			lj_ctx_nl_error(ctx, ctx->host, r);
			lj_link_del(ctx->host, s->link);
			return r;
		}
	}
	return 0;
}

static int ubridge_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_link l;
	int r;

	r = lj_link_get(ctx->host, s->link, &l);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (strcmp(l.alias, LJ_OWNED_ALIAS) != 0 || strcmp(l.kind, "bridge") != 0) {
		lj_ctx_detail(ctx, "'%s' is not a bridge lanjoin made; left alone", s->link);
		return 0;
	}
	/* Deleting a bridge releases its ports. */
	r = lj_link_del(ctx->host, s->link);
	lj_ctx_forget(ctx, LJ_HOST, s->link);
	return r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, ctx->host, r);
}

static void ubridge_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char mac[LJ_MAC_STRLEN];

	fprintf(f, "ip link add %s", s->link);
	if (s->has_mac)
		fprintf(f, " address %s", lj_mac_to_string(s->mac, mac, sizeof(mac)));
	if (s->mtu)
		fprintf(f, " mtu %u", s->mtu);
	fprintf(f, " type bridge\nip link set %s alias '%s'\n", s->link, LJ_OWNED_ALIAS);
	if (s->u32)
		fprintf(f, "ip link set %s addrgenmode %s\n", s->link,
			s->u32 - 1 == 0	  ? "eui64"
			: s->u32 - 1 == 1 ? "none"
					  : "stable_secret");
}

static void ubridge_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "ip link del %s\n", s->link);
}

const struct lj_step_type lj_step_uplink_bridge = {
	.id = "uplink-bridge",
	.apply = ubridge_apply,
	.undo = ubridge_undo,
	.describe = ubridge_describe,
	.describe_undo = ubridge_describe_undo,
};

/* --- sysctl-copy: link = BR; text = "ipv4.NAME=VALUE\n" / "ipv6.NAME=VALUE\n" lines ---------- */

static const char *const sysctl_allowed[] = {
	"ipv4.forwarding",	 "ipv4.rp_filter",	 "ipv4.proxy_arp",	"ipv4.arp_ignore",
	"ipv4.arp_announce",	 "ipv4.arp_filter",	 "ipv4.route_localnet", "ipv4.accept_local",
	"ipv6.disable_ipv6",	 "ipv6.forwarding",	 "ipv6.accept_ra",	"ipv6.autoconf",
	"ipv6.accept_dad",	 "ipv6.dad_transmits",	 "ipv6.use_tempaddr",	"ipv6.proxy_ndp",
	"ipv6.accept_ra_defrtr", "ipv6.accept_ra_pinfo",
};

const char *const *lj_uplink_sysctls(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(sysctl_allowed);
	return sysctl_allowed;
}

static bool sysctl_key_ok(const char *key, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(sysctl_allowed); i++)
		if (strlen(sysctl_allowed[i]) == len && memcmp(sysctl_allowed[i], key, len) == 0)
			return true;
	return false;
}

/* /proc/sys/net/ipv4/conf/LINK/NAME for key "ipv4.NAME". */
static void sysctl_path(const char *key, size_t len, const char *link, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/sys/net/%.4s/conf/%s/%.*s", key, link, (int)(len - 5), key + 5);
}

/* Validate text: lines "key=value" with allowed keys and a decimal (maybe negative) value. */
static bool sysctl_text_ok(const char *text)
{
	const char *p = text;

	while (p && *p) {
		const char *eq = strchr(p, '='), *nl = strchr(p, '\n');
		if (!eq || !nl || eq > nl || !sysctl_key_ok(p, (size_t)(eq - p)) || nl == eq + 1 ||
		    nl - eq > 12)
			return false;
		for (const char *c = eq + 1; c < nl; c++)
			if (!((*c >= '0' && *c <= '9') || (*c == '-' && c == eq + 1)))
				return false;
		p = nl + 1;
	}
	return true;
}

static int sysctl_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	const char *p = s->text;

	if (!p || !sysctl_text_ok(p)) {
		lj_ctx_detail(ctx, "malformed sysctl list");
		return -EINVAL;
	}
	while (*p) {
		const char *eq = strchr(p, '='), *nl = strchr(p, '\n');
		char path[128];
		_cleanup_close_ int fd = -1;
		size_t vlen = (size_t)(nl - eq - 1);

		sysctl_path(p, (size_t)(eq - p), s->link, path, sizeof(path));
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, eq + 1, vlen) != (ssize_t)vlen) {
			int r = lj_negerrno();
			lj_ctx_detail(ctx, "cannot write %s", path);
			return r;
		}
		p = nl + 1;
	}
	return 0;
}

static void sysctl_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	const char *p = s->text;

	while (p && *p) {
		const char *eq = strchr(p, '='), *nl = strchr(p, '\n');
		if (!eq || !nl)
			break;
		fprintf(f, "sysctl -qw net.%.4s.conf.%s.%.*s=%.*s\n", p, s->link, (int)(eq - p - 5),
			p + 5, (int)(nl - eq - 1), eq + 1);
		p = nl + 1;
	}
}

const struct lj_step_type lj_step_sysctl_copy = {
	.id = "sysctl-copy",
	.apply = sysctl_apply,
	.undo = NULL, /* the link's own settings: they go with it */
	.describe = sysctl_describe,
};

/* --- addr-copy: text = address, added to link (BR); undo removes it --------------------------- */

static int step_addr(struct lj_ctx *ctx, const struct lj_step *s, struct lj_addr_full *a)
{
	int r = lj_addr_full_from_text(s->text, a);

	if (r < 0)
		lj_ctx_detail(ctx, "malformed address in the plan");
	return r;
}

static int addr_copy_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_addr_full a;
	uint32_t extra = 0;
	int ifindex, r;

	r = step_addr(ctx, s, &a);
	if (r < 0)
		return r;
	ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
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

	r = step_addr(ctx, s, &a);
	if (r < 0)
		return r;
	ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
	if (ifindex == -ENODEV)
		return 0;
	if (ifindex < 0)
		return ifindex;
	r = lj_addr_del_full(ctx->host, ifindex, &a);
	return r == -EADDRNOTAVAIL || r == -ENODEV ? 0 : lj_ctx_nl_error(ctx, ctx->host, r);
}

static void addr_copy_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	struct lj_addr_full a;

	if (lj_addr_full_from_text(s->text, &a) < 0)
		return;
	if ((s->flags & LJ_STEP_F_NODAD_FIRST) && a.local.ip.family == AF_INET6)
		a.flags |= IFA_F_NODAD;
	fprintf(f, "ip addr add ");
	lj_addr_full_print(&a, s->link, f);
	fputc('\n', f);
}

static void addr_copy_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	struct lj_addr_full a;
	char b[LJ_CIDR_STRLEN];

	if (lj_addr_full_from_text(s->text, &a) == 0)
		fprintf(f, "ip addr del %s dev %s\n", lj_cidr_to_string(&a.local, b, sizeof(b)),
			s->link);
}

const struct lj_step_type lj_step_addr_copy = {
	.id = "addr-copy",
	.apply = addr_copy_apply,
	.undo = addr_copy_undo,
	.describe = addr_copy_describe,
	.describe_undo = addr_copy_describe_undo,
};

/* --- addr-flags: text = address on link (BR) with its final flags and lifetimes -------------- */

static int addr_flags_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_addr_full a;
	int ifindex, r;

	r = step_addr(ctx, s, &a);
	if (r < 0)
		return r;
	ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
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
	struct lj_addr_full a;

	if (lj_addr_full_from_text(s->text, &a) < 0)
		return;
	fprintf(f, "ip addr change ");
	lj_addr_full_print(&a, s->link, f);
	fputc('\n', f);
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

	r = step_addr(ctx, s, &a);
	if (r < 0)
		return r;
	ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
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

	r = step_addr(ctx, s, &a);
	if (r < 0)
		return r;
	ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
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
	struct lj_addr_full a;
	char b[LJ_CIDR_STRLEN];

	if (lj_addr_full_from_text(s->text, &a) == 0)
		fprintf(f, "ip addr del %s dev %s\n", lj_cidr_to_string(&a.local, b, sizeof(b)),
			s->link);
}

static void addr_move_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	struct lj_addr_full a;

	if (lj_addr_full_from_text(s->text, &a) < 0)
		return;
	fprintf(f, "ip addr add ");
	lj_addr_full_print(&a, s->link, f);
	fputc('\n', f);
}

const struct lj_step_type lj_step_addr_move = {
	.id = "addr-move",
	.apply = addr_move_apply,
	.undo = addr_move_undo,
	.describe = addr_move_describe,
	.describe_undo = addr_move_describe_undo,
};

/* --- enslave: link = DEV becomes a port of master = BR; undo takes it out ------------------- */

static int enslave_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	int br = lj_ctx_ifindex(ctx, LJ_HOST, s->master);

	if (br < 0) {
		lj_ctx_detail(ctx, "bridge '%s' is gone", s->master);
		return br;
	}
	return lj_ctx_nl_error(ctx, ctx->host, lj_link_set_master(ctx->host, s->link, br));
}

static int enslave_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_link l, br;
	int r;

	r = lj_link_get(ctx->host, s->link, &l);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (!l.master)
		return 0;
	r = lj_link_get_by_index(ctx->host, l.master, &br);
	if (r == -ENODEV || (r == 0 && strcmp(br.name, s->master) != 0))
		return 0; /* in some other master now: not ours to change */
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	return lj_ctx_nl_error(ctx, ctx->host, lj_link_set_master(ctx->host, s->link, 0));
}

static void enslave_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "ip link set %s master %s\n", s->link, s->master);
}

static void enslave_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "ip link set %s nomaster\n", s->link);
}

const struct lj_step_type lj_step_enslave = {
	.id = "enslave",
	.apply = enslave_apply,
	.undo = enslave_undo,
	.describe = enslave_describe,
	.describe_undo = enslave_describe_undo,
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

const struct lj_step_type lj_step_route_move = {
	.id = "route-move",
	.apply = route_move_apply,
	.undo = route_move_undo,
	.describe = route_move_describe,
	.describe_undo = route_move_describe_undo,
};

/* --- probe: via = the address to ask, link = BR, u32 = timeout (ms) ------------------------- */

static int probe_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	char b[LJ_IP_STRLEN];
	int ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link), r;

	if (ifindex < 0)
		return ifindex;
	r = lj_probe(ctx->host, ifindex, s->link, &s->via, s->flags & LJ_STEP_F_PROBE_ONLINK,
		     s->u32);
	if (r == -ETIMEDOUT)
		lj_ctx_detail(ctx, "%s did not answer through '%s' within %u.%03u s",
			      lj_ip_to_string(&s->via, b, sizeof(b)), s->link, s->u32 / 1000,
			      s->u32 % 1000);
	else if (r < 0)
		lj_ctx_detail(ctx, "cannot probe %s: %s", lj_ip_to_string(&s->via, b, sizeof(b)),
			      strerror(-r));
	return r;
}

static void probe_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char b[LJ_IP_STRLEN];

	unsigned secs = (s->u32 + 999) / 1000;

	lj_ip_to_string(&s->via, b, sizeof(b));
	fprintf(f,
		"# probe: %s must answer (echo or %s) through %s within %u ms, else all of "
		"the above is undone\n",
		b, s->via.family == AF_INET ? "ARP" : "ND", s->link, s->u32);
	/* busybox (Debian's busybox-static): iputils' arping and ping are not on a stock system */
	if (s->via.family == AF_INET)
		fprintf(f, "busybox arping -q -f -c %u -w %u -I %s %s\n", secs, secs, s->link, b);
	else
		fprintf(f, "busybox ping -q -c 1 -W %u -I %s %s\n", secs, s->link, b);
}

const struct lj_step_type lj_step_probe = {
	.id = "probe",
	.apply = probe_apply,
	.undo = NULL,
	.describe = probe_describe,
};

/* --- test-crash: only in plans built with LANJOIN_FAULT_CRASH: dies like a killed process --- */

static int crash_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	raise(SIGKILL);
	return -EINTR;
}

static void crash_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "# (test: the process is killed here)\n");
}

const struct lj_step_type lj_step_test_crash = {
	.id = "test-crash",
	.apply = crash_apply,
	.undo = NULL,
	.describe = crash_describe,
};

/* --- sysctl-set: link; text = "key=NEW/OLD\n" lines; apply writes NEW, undo writes OLD ------ */

struct sysctl_line {
	const char *key;
	size_t key_len;
	const char *val[2]; /* new, old */
	size_t val_len[2];
};

static bool digits(const char *p, size_t n)
{
	if (n == 0 || n > 11)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] == '-' && i == 0 && n > 1)))
			return false;
	return true;
}

/* Parse the line at *p (advancing it); false at the end or on a malformed line (*bad). */
static bool sysctl_next(const char **p, struct sysctl_line *l, bool *bad)
{
	const char *eq, *slash, *nl;

	if (!*p || !**p)
		return false;
	eq = strchr(*p, '=');
	nl = strchr(*p, '\n');
	slash = eq ? memchr(eq, '/', nl ? (size_t)(nl - eq) : 0) : NULL;
	if (!eq || !nl || !slash || eq > nl || !sysctl_key_ok(*p, (size_t)(eq - *p))) {
		*bad = true;
		return false;
	}
	l->key = *p;
	l->key_len = (size_t)(eq - *p);
	l->val[0] = eq + 1;
	l->val_len[0] = (size_t)(slash - eq - 1);
	l->val[1] = slash + 1;
	l->val_len[1] = (size_t)(nl - slash - 1);
	if (!digits(l->val[0], l->val_len[0]) || !digits(l->val[1], l->val_len[1])) {
		*bad = true;
		return false;
	}
	*p = nl + 1;
	return true;
}

static int sysctl_set_write(struct lj_ctx *ctx, const struct lj_step *s, int which)
{
	struct sysctl_line l;
	const char *p = s->text;
	bool bad = false;

	/* Validate everything before writing anything. */
	while (sysctl_next(&p, &l, &bad))
		;
	if (bad) {
		lj_ctx_detail(ctx, "malformed sysctl list");
		return -EINVAL;
	}
	p = s->text;
	while (sysctl_next(&p, &l, &bad)) {
		char path[128];
		_cleanup_close_ int fd = -1;

		sysctl_path(l.key, l.key_len, s->link, path, sizeof(path));
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && which == 1)
			return 0; /* the link is gone, and its settings with it */
		if (fd < 0 ||
		    write(fd, l.val[which], l.val_len[which]) != (ssize_t)l.val_len[which]) {
			int r = lj_negerrno();
			lj_ctx_detail(ctx, "cannot write %s", path);
			return r;
		}
	}
	return 0;
}

static int sysctl_set_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	return sysctl_set_write(ctx, s, 0);
}

static int sysctl_set_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	return sysctl_set_write(ctx, s, 1);
}

static void sysctl_set_print(const struct lj_step *s, int which, FILE *f)
{
	struct sysctl_line l;
	const char *p = s->text;
	bool bad = false;

	while (sysctl_next(&p, &l, &bad))
		fprintf(f, "sysctl -qw net.%.4s.conf.%s.%.*s=%.*s\n", l.key, s->link,
			(int)(l.key_len - 5), l.key + 5, (int)l.val_len[which], l.val[which]);
}

static void sysctl_set_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	sysctl_set_print(s, 0, f);
}

static void sysctl_set_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	sysctl_set_print(s, 1, f);
}

const struct lj_step_type lj_step_sysctl_set = {
	.id = "sysctl-set",
	.apply = sysctl_set_apply,
	.undo = sysctl_set_undo,
	.describe = sysctl_set_describe,
	.describe_undo = sysctl_set_describe_undo,
};
