/* SPDX-License-Identifier: MIT */
/*
 * Plan steps of the routed way that are not plain rtnetlink links, addresses and routes: the
 * proxy neighbour entries on the uplink, the IPv6 conflict probe, the announcements with the
 * uplink's MAC and the host sysctls the way shares between its attachments.
 */
#include "lib/steps/routed.h"

#include <errno.h>
#include <net/if.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/state.h"
#include "lib/core/status.h"
#include "lib/kernel/arp.h"
#include "lib/kernel/neigh.h"
#include "lib/kernel/sysctl.h"
#include "lib/steps/rtnl.h"
#include "shared/macro.h"
#include "shared/shquote.h"

/* --- proxy-neigh: link = DEV, cidr = address ---------------------------------------------- */

static int proxy_neigh_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	int ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
	int r;

	if (ifindex < 0)
		return lj_ctx_nl_error(ctx, ctx->host, ifindex);
	r = lj_neigh_proxy_add(ctx->host, ifindex, &s->cidr.ip);
	if (r == -EEXIST)
		lj_ctx_detail(ctx, "'%s' already has a proxy entry for that address", s->link);
	return lj_ctx_nl_error(ctx, ctx->host, r);
}

static int proxy_neigh_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	int ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
	int r;

	if (ifindex == -ENODEV)
		return 0; /* the kernel drops a link's proxy entries with it */
	if (ifindex < 0)
		return lj_ctx_nl_error(ctx, ctx->host, ifindex);
	r = lj_neigh_proxy_del(ctx->host, ifindex, &s->cidr.ip);
	return r == -ENOENT ? 0 : lj_ctx_nl_error(ctx, ctx->host, r);
}

static void proxy_neigh_print(const struct lj_step *s, const char *verb, FILE *f)
{
	char a[LJ_IP_STRLEN];

	fprintf(f, "ip %sneigh %s proxy %s dev %s\n", s->cidr.ip.family == AF_INET6 ? "-6 " : "",
		verb, lj_ip_to_string(&s->cidr.ip, a, sizeof(a)), LJ_SHQ(s->link));
}

static void proxy_neigh_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	proxy_neigh_print(s, "add", f);
}

static void proxy_neigh_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	proxy_neigh_print(s, "del", f);
}

/* The entry is still there (asked of the kernel: the status dumps hold no neighbours). */
static int proxy_neigh_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			      size_t size)
{
	const struct lj_link *l = lj_status_need_link(v, LJ_HOST, s->link, true, why, size);
	char a[LJ_IP_STRLEN];
	struct lj_nl *nl = NULL;
	bool has = false;
	int r;

	/* The kernel drops a link's proxy entries when it goes down (pneigh_ifdown): a parent
	 * that is down says so (reconcile waits for it), not a missing entry. */
	if (!l) {
		size_t len = strlen(why);

		snprintf(why + len, size - len, " (the parent)");
		return LJ_VERIFY_DRIFTED;
	}
	r = lj_nl_open(-1, &nl);
	if (r < 0)
		return r;
	r = lj_neigh_proxy_count(nl, s->cidr.ip.family, l->ifindex, &s->cidr.ip, &has);
	lj_nl_close(nl);
	if (r < 0)
		return r;
	if (has)
		return 0;
	snprintf(why, size, "the proxy entry for %s on %s is missing",
		 lj_ip_to_string(&s->cidr.ip, a, sizeof(a)), s->link);
	return LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_proxy_neigh = {
	.id = "proxy-neigh",
	.apply = proxy_neigh_apply,
	.undo = proxy_neigh_undo,
	.verify = proxy_neigh_verify,
	.describe = proxy_neigh_describe,
	.describe_undo = proxy_neigh_describe_undo,
};

/* --- ndp-probe: link = DEV, cidr = IPv6 address; nothing to undo --------------------------- */

static int ndp_probe_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	int ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
	uint8_t mac[LJ_MAC_LEN];
	char ip[LJ_IP_STRLEN], m[LJ_MAC_STRLEN];
	static const uint8_t zero[LJ_MAC_LEN];
	int r;

	if (ifindex < 0)
		return lj_ctx_nl_error(ctx, ctx->host, ifindex);
	r = lj_ndisc_probe(-1, ifindex, &s->cidr.ip.v6, LJ_ARP_PROBE_NUM, LJ_ARP_PROBE_INTERVAL_MS,
			   LJ_ARP_PROBE_WAIT_MS, mac);
	lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip));
	if (r == -EADDRINUSE)
		lj_ctx_detail(ctx, "%s is already in use on the LAN%s%s", ip,
			      memcmp(mac, zero, sizeof(mac)) ? " by " : "",
			      memcmp(mac, zero, sizeof(mac)) ? lj_mac_to_string(mac, m, sizeof(m))
							     : "");
	else if (r < 0)
		lj_ctx_detail(ctx, "neighbour solicitation for %s from '%s': %s", ip, s->link,
			      strerror(-r));
	return r;
}

static void ndp_probe_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char ip[LJ_IP_STRLEN];

	fprintf(f,
		"# probe the LAN for %s on '%s': neighbour solicitations; fail if anyone "
		"answers\n",
		lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip)), LJ_SHQ(s->link));
}

const struct lj_step_type lj_step_ndp_probe = {
	.id = "ndp-probe",
	.apply = ndp_probe_apply,
	.describe = ndp_probe_describe,
};

/* --- proxy-announce: link = DEV, cidr = address; apply only ------------------------------ */

static int proxy_announce_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	char ip[LJ_IP_STRLEN];
	int ifindex, r;

	lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip));
	if (s->cidr.ip.family == AF_INET) {
		r = lj_arp_announce(-1, s->link, &s->cidr.ip, NULL);
		if (r < 0)
			lj_ctx_detail(ctx, "gratuitous ARP for %s on '%s': %s", ip, s->link,
				      strerror(-r));
		return r;
	}
	ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
	if (ifindex < 0)
		return lj_ctx_nl_error(ctx, ctx->host, ifindex);
	r = lj_ndisc_announce_proxy(-1, ifindex, &s->cidr.ip.v6);
	/* A link without IPv6 (or down) cannot advertise; the proxy entry still answers. */
	if (r == -EADDRNOTAVAIL || r == -ENETDOWN || r == -ENETUNREACH)
		return 0;
	if (r < 0)
		lj_ctx_detail(ctx, "unsolicited neighbour advertisement for %s on '%s': %s", ip,
			      s->link, strerror(-r));
	return r;
}

static void proxy_announce_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char ip[LJ_IP_STRLEN];

	lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip));
	/* Not `arping -U`: it binds to the address, which is not the host's. */
	if (s->cidr.ip.family == AF_INET)
		fprintf(f, "# send a gratuitous ARP for %s with the MAC of '%s'\n", ip, s->link);
	else
		fprintf(f,
			"# send an unsolicited neighbour advertisement for %s with the MAC of "
			"'%s'\n",
			ip, LJ_SHQ(s->link));
}

const struct lj_step_type lj_step_proxy_announce = {
	.id = "proxy-announce",
	.apply = proxy_announce_apply,
	.describe = proxy_announce_describe,
};

/* --- routed-sysctl ------------------------------------------------------------------------ */

/* A key as a file name: '/' becomes '.'; false for a key that is not one. */
static bool owner_file(const char *key, char *buf, size_t size)
{
	char k[128];

	if (!key || !key[0] || strlen(key) >= sizeof(k) || strstr(key, "..") ||
	    strncmp(key, "net/", 4) != 0)
		return false;
	snprintf(k, sizeof(k), "%s", key);
	for (char *p = k; *p; p++)
		if (*p == '/')
			*p = '.';
	return (size_t)snprintf(buf, size, "%s/routed-sysctl-%s", lj_state_dir(), k) < size;
}

/* The value an owner file keeps; -ENOENT: none (an empty one an older lanjoin left counts as
 * none, and is removed when drop_empty: lj_sysctl_owner_read). */
static int owner_read(const char *path, bool drop_empty, int64_t *ret)
{
	char val[32];
	uint64_t n;
	int r;

	r = lj_sysctl_owner_read(path, val, sizeof(val), drop_empty);
	if (r < 0)
		return r;
	if (lj_parse_uint(val, 0, INT32_MAX, &n) < 0)
		return -EBADMSG;
	*ret = (int64_t)n;
	return 0;
}

bool lj_routed_sysctl_owned(const char *key)
{
	char path[512], val[32];

	/* a malformed one still marks the setting as lanjoin's, as it did */
	return owner_file(key, path, sizeof(path)) &&
	       lj_sysctl_owner_read(path, val, sizeof(val), false) != -ENOENT;
}

static int routed_sysctl_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	char path[512], cur[32], val[16];
	uint64_t n;
	int r;

	if (!owner_file(s->text, path, sizeof(path)))
		return -EBADMSG;
	r = lj_sysctl_read(s->text, cur, sizeof(cur));
	if (r < 0) {
		lj_ctx_detail(ctx, "cannot read /proc/sys/%s: %s", s->text, strerror(-r));
		return r;
	}
	if (lj_parse_uint(cur, 0, INT32_MAX, &n) < 0) {
		lj_ctx_detail(ctx, "/proc/sys/%s holds '%s', not a number", s->text, cur);
		return -EBADMSG;
	}
	if (n == s->u32 || (s->i64 >= 0 && (int64_t)n != s->i64))
		return 0;
	/* First to change it: remember what it was (a later one finds the value set). */
	r = lj_sysctl_owner_write(path, cur);
	if (r == -EEXIST && lj_sysctl_owner_read(path, val, sizeof(val), true) == -ENOENT)
		r = lj_sysctl_owner_write(path, cur); /* an empty one an older lanjoin left */
	if (r < 0 && r != -EEXIST) {
		lj_ctx_detail(ctx, "cannot write %s: %s", path, strerror(-r));
		return r;
	}
	s->created = r == 0;
	snprintf(val, sizeof(val), "%" PRIu32, s->u32);
	r = lj_sysctl_write(s->text, val);
	if (r < 0) {
		lj_ctx_detail(ctx, "cannot write %s to /proc/sys/%s: %s", val, s->text,
			      strerror(-r));
		if (s->created)
			unlink(path);
		s->created = false;
	}
	return r;
}

static int routed_sysctl_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	char path[512], val[24];
	int64_t saved;
	int ifindex = 0, r;

	if (!owner_file(s->text, path, sizeof(path)))
		return -EBADMSG;
	r = owner_read(path, true, &saved);
	if (r == -ENOENT)
		return 0; /* lanjoin does not own the setting */
	if (r < 0) {
		lj_ctx_detail(ctx, "%s is unreadable or malformed", path);
		return r;
	}
	/* This attachment's own proxy entries are gone already (they come later in the plan). */
	if (s->link[0]) {
		ifindex = lj_ctx_ifindex(ctx, LJ_HOST, s->link);
		if (ifindex == -ENODEV) {
			/* DEV is gone, and its settings with it */
			unlink(path);
			return 0;
		}
		if (ifindex < 0)
			return lj_ctx_nl_error(ctx, ctx->host, ifindex);
	}
	r = lj_neigh_proxy_count(ctx->host, s->cidr.ip.family, ifindex, NULL, NULL);
	if (r < 0)
		return lj_ctx_nl_error(ctx, ctx->host, r);
	if (r > 0)
		return 0; /* still needed */
	snprintf(val, sizeof(val), "%" PRId64, saved);
	r = lj_sysctl_write(s->text, val);
	if (r < 0 && r != -ENOENT) {
		lj_ctx_detail(ctx, "cannot write %s to /proc/sys/%s: %s", val, s->text,
			      strerror(-r));
		return r;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return lj_negerrno();
	return 0;
}

/* The sysctl's command (lj_sysctl_describe_write); an apply's only if the value is the old one. */
static void sysctl_print(const struct lj_step *s, bool undo, const char *val, const char *comment,
			 FILE *f)
{
	char path[512];

	if (s->i64 >= 0 && !undo) {
		snprintf(path, sizeof(path), "/proc/sys/%s", s->text ? s->text : "");
		fprintf(f, "test \"$(cat %s)\" != %" PRId64 " || ", LJ_SHQ(path), s->i64);
	}
	lj_sysctl_describe_write(f, s->text, val);
	fprintf(f, "%s\n", comment);
}

static void routed_sysctl_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char val[16];

	snprintf(val, sizeof(val), "%" PRIu32, s->u32);
	sysctl_print(s, false, val, "   # lanjoin keeps the old value", f);
}

int lj_routed_proxies_besides(const struct lj_ctx *ctx, int family, int ifindex)
{
	int n = lj_neigh_proxy_count(ctx->host, family, ifindex, NULL, NULL);

	for (size_t i = 0; n > 0 && ctx->describing && i < ctx->describing->n; i++) {
		const struct lj_step *s = &ctx->describing->steps[i];
		int at = s->type == &lj_step_proxy_neigh ? (int)if_nametoindex(s->link) : 0;
		bool has = false;

		if (at == 0 || s->cidr.ip.family != family || (ifindex && at != ifindex))
			continue;
		if (lj_neigh_proxy_count(ctx->host, family, at, &s->cidr.ip, &has) >= 0 && has)
			n--;
	}
	return n;
}

/* What routed_sysctl_undo does now: the value lanjoin keeps, when no other entry needs it. */
static void routed_sysctl_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char path[512], val[24];
	int64_t saved;
	int ifindex = 0, others;

	if (!owner_file(s->text, path, sizeof(path)))
		return;
	if (owner_read(path, false, &saved) < 0) {
		fprintf(f, "# %s stays: lanjoin did not change it\n", s->text);
		return;
	}
	if (s->link[0]) {
		ifindex = (int)if_nametoindex(s->link);
		if (ifindex == 0) {
			fprintf(f, "# %s went with its link\n", s->text);
			return;
		}
	}
	others = lj_routed_proxies_besides(ctx, s->cidr.ip.family, ifindex);
	if (others != 0) {
		fprintf(f, "# %s stays: %s\n", s->text,
			others > 0 ? "other proxy entries need it"
				   : "the kernel did not list them");
		return;
	}
	snprintf(val, sizeof(val), "%" PRId64, saved);
	sysctl_print(s, true, val, "   # the value lanjoin found", f);
}

/* The value is still set (when lanjoin keeps the old one, the attachment relies on it). */
static int routed_sysctl_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
				size_t size)
{
	char cur[32], val[16];

	(void)v;
	if (!s->text || lj_sysctl_read(s->text, cur, sizeof(cur)) < 0)
		return 0; /* DEV gone: its own verify says so */
	snprintf(val, sizeof(val), "%" PRIu32, s->u32);
	if (strcmp(cur, val) == 0 || (s->i64 >= 0 && !lj_routed_sysctl_owned(s->text)))
		return 0;
	snprintf(why, size, "sysctl %s is %s, not %s", s->text, cur, val);
	return LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_routed_sysctl = {
	.id = "routed-sysctl",
	.save_after = true, /* whether it owns the old value */
	.apply = routed_sysctl_apply,
	.undo = routed_sysctl_undo,
	.verify = routed_sysctl_verify,
	.describe = routed_sysctl_describe,
	.describe_undo = routed_sysctl_describe_undo,
};
