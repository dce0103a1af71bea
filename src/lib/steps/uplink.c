/* SPDX-License-Identifier: MIT */
/*
 * Step types of uplink adoption that make the bridge and put the uplink in it: uplink-bridge
 * (a Linux bridge with the uplink's MAC address and MTU), sysctl-copy and sysctl-set (per-link
 * sysctls), enslave, probe (the gateway must answer through the bridge, else all is undone)
 * and test-crash (tests only). The steps that copy and move addresses and routes are in
 * steps/uplink-addr.c, the firewall's in steps/uplink-fw.c, the OVS bridge's in steps/ovs.c.
 */
#include "lib/steps/uplink.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/status.h"
#include "lib/kernel/link.h"
#include "lib/kernel/probe.h"
#include "lib/steps/rtnl.h"
#include "shared/macro.h"
#include "shared/shquote.h"

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

	fprintf(f, "ip link add %s", LJ_SHQ(s->link));
	if (s->has_mac)
		fprintf(f, " address %s", lj_mac_to_string(s->mac, mac, sizeof(mac)));
	if (s->mtu)
		fprintf(f, " mtu %u", s->mtu);
	fprintf(f, " type bridge\nip link set %s alias '%s'\n", LJ_SHQ(s->link), LJ_OWNED_ALIAS);
	if (s->u32)
		fprintf(f, "ip link set %s addrgenmode %s\n", LJ_SHQ(s->link),
			s->u32 - 1 == 0	  ? "eui64"
			: s->u32 - 1 == 1 ? "none"
					  : "stable_secret");
}

static void ubridge_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "ip link del %s\n", LJ_SHQ(s->link));
}

const struct lj_step_type lj_step_uplink_bridge = {
	.id = "uplink-bridge",
	.verify = lj_status_verify_bridge,
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

/* "sysctl -qw net.FAM.conf.LINK.LEAF=VAL" (lj_sysctl_describe_write): fam is 4 bytes. */
static void print_set(FILE *f, const char *fam, const char *link, const char *leaf, int leaf_len,
		      const char *val, int val_len)
{
	char key[256], v[64];

	snprintf(key, sizeof(key), "net/%.4s/conf/%s/%.*s", fam, link ? link : "", leaf_len, leaf);
	snprintf(v, sizeof(v), "%.*s", val_len, val);
	lj_sysctl_describe_write(f, key, v);
	fputc('\n', f);
}

static void sysctl_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	const char *p = s->text;

	while (p && *p) {
		const char *eq = strchr(p, '='), *nl = strchr(p, '\n');
		if (!eq || !nl)
			break;
		print_set(f, p, s->link, p + 5, (int)(eq - p - 5), eq + 1, (int)(nl - eq - 1));
		p = nl + 1;
	}
}

const struct lj_step_type lj_step_sysctl_copy = {
	.id = "sysctl-copy",
	.apply = sysctl_apply,
	.undo = NULL, /* the link's own settings: they go with it */
	.describe = sysctl_describe,
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
	fprintf(f, "ip link set %s master %s\n", LJ_SHQ(s->link), LJ_SHQ(s->master));
}

static void enslave_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "ip link set %s nomaster\n", LJ_SHQ(s->link));
}

/* DEV is still up and a port of BR. */
static int enslave_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			  size_t size)
{
	const struct lj_link *l = lj_status_need_link(v, LJ_HOST, s->link, true, why, size);
	const struct lj_link *br = lj_status_link(v->host, s->master);

	if (!l)
		return LJ_VERIFY_DRIFTED;
	if (!br || l->master != br->ifindex) {
		snprintf(why, size, "%s is no longer a port of %s", s->link, s->master);
		return LJ_VERIFY_DRIFTED;
	}
	return 0;
}

const struct lj_step_type lj_step_enslave = {
	.id = "enslave",
	.verify = enslave_verify,
	.apply = enslave_apply,
	.undo = enslave_undo,
	.describe = enslave_describe,
	.describe_undo = enslave_describe_undo,
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
		b, s->via.family == AF_INET ? "ARP" : "ND", LJ_SHQ(s->link), s->u32);
	/* busybox (Debian's busybox-static): iputils' arping and ping are not on a stock system */
	if (s->via.family == AF_INET)
		fprintf(f, "busybox arping -q -f -c %u -w %u -I %s %s\n", secs, secs,
			LJ_SHQ(s->link), b);
	else
		fprintf(f, "busybox ping -q -c 1 -W %u -I %s %s\n", secs, LJ_SHQ(s->link), b);
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
		print_set(f, l.key, s->link, l.key + 5, (int)(l.key_len - 5), l.val[which],
			  (int)l.val_len[which]);
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
