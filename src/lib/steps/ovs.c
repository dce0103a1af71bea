/* SPDX-License-Identifier: MIT */
/*
 * Step types that change Open vSwitch, through the client of lib/foreign/ovs.h only (one
 * OVSDB transaction a change, the database in lj_step.text):
 * - the ovs way: ovs-bridge (ensure the bridge), ovs-port (the veth's host end as its port),
 *   tx-csum-off (for the userspace datapath: veths hand packets over with partial checksums,
 *   which OVS's userspace datapath forwards as they are, so TCP fails while ping works);
 * - uplink adoption into an OVS bridge: ovs-uplink-bridge (with the uplink's MAC address as
 *   other-config:hwaddr and its MTU) and ovs-enslave (the uplink as its port). The address
 *   and route steps are the Linux bridge's (steps/uplink-addr.c): they act on the bridge's
 *   internal interface.
 */
#include "lib/steps/ovs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/core/status.h"
#include "lib/foreign/ovs.h"
#include "lib/kernel/ethtool.h"
#include "lib/kernel/link.h"
#include "shared/shquote.h"

/* Open the database a step names (s->text; "" = the default), with the reason in ctx->detail. */
static int step_ovs_open(struct lj_ctx *ctx, const struct lj_step *s, struct lj_ovs **ret)
{
	int r = lj_ovs_open(s->text, ret);

	if (r == -ENOENT)
		lj_ctx_detail(ctx, "Open vSwitch is not installed: no ovs-vsctl");
	else if (r < 0)
		lj_ctx_detail(ctx, "invalid OVS database '%s'", s->text ? s->text : "");
	return r;
}

/* Close o and pass r through; on an error, the OVS message (if any) goes to ctx->detail. */
static int ovs_done(struct lj_ctx *ctx, struct lj_ovs *o, int r)
{
	if (r < 0 && lj_ovs_error(o)[0])
		lj_ctx_detail(ctx, "%s", lj_ovs_error(o));
	lj_ovs_close(o);
	return r;
}

/* The database a step names, resolved, for describe ("?" if it is invalid). */
static const char *step_db(const struct lj_step *s, char *buf, size_t size)
{
	const char *db = lj_ovs_resolve_db(s->text, buf, size);
	return db ? db : "?";
}

/* --- ovs-bridge: link = BR, text = db, u32 = datapath; create it if it is missing -------- */

static int ovs_bridge_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_ovs *o;
	int r;

	/* It existed when the plan was made; if it vanished since, the port step says so. */
	if (!(s->flags & LJ_STEP_F_WILL_CREATE))
		return 0;
	r = step_ovs_open(ctx, s, &o);
	if (r < 0)
		return r;
	r = lj_ovs_bridge_add(o, s->link, s->u32 == LJ_OVS_DP_NETDEV ? "netdev" : NULL);
	if (r == 0)
		s->created = true;
	return ovs_done(ctx, o, r);
}

static int ovs_bridge_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_ovs_bridge b;
	struct lj_ovs *o;
	int r;

	/* A rollback removes only what this run created. */
	if (ctx->rollback && !s->created)
		return 0;
	r = step_ovs_open(ctx, s, &o);
	if (r < 0)
		return r;
	r = lj_ovs_bridge_get(o, s->link, &b);
	if (r == -ENODEV)
		return ovs_done(ctx, o, 0);
	if (r < 0)
		return ovs_done(ctx, o, r);
	/* Only a bridge lanjoin created, and only when its own internal port is left. */
	if (!b.ours || b.n_ports > 1)
		return ovs_done(ctx, o, 0);
	return ovs_done(ctx, o, lj_ovs_bridge_del(o, s->link));
}

static void ovs_bridge_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char db[LJ_OVS_DB_MAX];

	if (s->flags & LJ_STEP_F_WILL_CREATE)
		lj_ovs_describe_bridge_add(f, step_db(s, db, sizeof(db)), s->link,
					   s->u32 == LJ_OVS_DP_NETDEV ? "netdev" : NULL);
}

static void ovs_bridge_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char db[LJ_OVS_DB_MAX];

	char *text = NULL;
	size_t len = 0;
	FILE *m;

	/* Commented out, as for a Linux bridge (see bridge_describe_undo in rtnl.c). */
	fprintf(f,
		"# lanjoin deletes OVS bridge %s here if it made it and no port is left; by\n"
		"# hand, once that is so:\n",
		LJ_SHQ(s->link));
	m = open_memstream(&text, &len);
	if (!m)
		return;
	lj_ovs_describe_bridge_del(m, step_db(s, db, sizeof(db)), s->link);
	if (fclose(m) == 0 && text)
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
			fprintf(f, "# %s\n", line);
	free(text);
}

const struct lj_step_type lj_step_ovs_bridge = {
	.id = "ovs-bridge",
	.apply = ovs_bridge_apply,
	.undo = ovs_bridge_undo,
	.describe = ovs_bridge_describe,
	.describe_undo = ovs_bridge_describe_undo,
};

/* --- ovs-port: link = port (host end), master = BR, peer = ifname in the target,
 *     u32 = VLAN tag (0 = none), text = db; undo deletes the row (--if-exists) ----------- */

/* The row an ovs-port step adds. */
static struct lj_ovs_port_opts port_opts(const struct lj_ctx *ctx, const struct lj_step *s)
{
	return (struct lj_ovs_port_opts){
		.bridge = s->master,
		.name = s->link,
		.tag = s->u32,
		.target = ctx->tgt ? ctx->tgt->spec : NULL,
		.ifname = s->peer,
		.replace = s->flags & LJ_STEP_F_OVS_REPLACE,
	};
}

static int ovs_port_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_ovs_port_opts p = port_opts(ctx, s);
	struct lj_ovs *o;
	int r;

	r = step_ovs_open(ctx, s, &o);
	if (r < 0)
		return r;
	return ovs_done(ctx, o, lj_ovs_port_add(o, &p));
}

static int ovs_port_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_ovs *o;
	int r;

	/* Works whether or not the interface still exists (gc after the target died). */
	r = step_ovs_open(ctx, s, &o);
	if (r < 0)
		return r;
	return ovs_done(ctx, o, lj_ovs_port_del(o, s->link));
}

static void ovs_port_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char db[LJ_OVS_DB_MAX];
	struct lj_ovs_port_opts p = port_opts(ctx, s);

	lj_ovs_describe_port_add(f, step_db(s, db, sizeof(db)), &p);
}

static void ovs_port_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char db[LJ_OVS_DB_MAX];

	lj_ovs_describe_port_del(f, step_db(s, db, sizeof(db)), s->link);
}

/* lanjoin's Port rows of one database, as one select read them for a status run. */
struct ours {
	struct lj_ovs_port *ports;
	size_t n;
};

static void ours_drop(void *data)
{
	struct ours *w = data;

	free(w->ports);
	free(w);
}

static int ours_fill(void *arg, void **ret, char *why, size_t size)
{
	struct ours *w = calloc(1, sizeof(*w));
	struct lj_ovs *o = NULL;
	int r;

	if (!w)
		return -ENOMEM;
	r = lj_ovs_open(arg, &o);
	if (r == 0)
		r = lj_ovs_list_ours(o, &w->ports, &w->n, NULL, NULL);
	if (r < 0) {
		snprintf(why, size, "cannot read the OVS database: %s",
			 o && lj_ovs_error(o)[0] ? lj_ovs_error(o) : strerror(-r));
		free(w);
	} else {
		*ret = w;
	}
	lj_ovs_close(o);
	return r;
}

/* The Port row is still in the database, lanjoin's, with its VLAN tag: one select per db. */
static int ovs_port_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			   size_t size)
{
	char db[LJ_OVS_DB_MAX], key[LJ_OVS_DB_MAX + 8];
	struct ours *w;
	void *data;
	int r;

	if (!lj_ovs_resolve_db(s->text, db, sizeof(db)))
		return -EBADMSG;
	snprintf(key, sizeof(key), "ovsdb %s", db);
	r = lj_status_cached(v->host, key, ours_fill, db, ours_drop, &data, why, size);
	if (r < 0)
		return r;
	w = data;
	for (size_t i = 0; i < w->n; i++) {
		if (strcmp(w->ports[i].name, s->link) != 0)
			continue;
		if (w->ports[i].tag == s->u32)
			return 0;
		snprintf(why, size, "OVS port %s has VLAN tag %u, not %u", s->link, w->ports[i].tag,
			 s->u32);
		return LJ_VERIFY_DRIFTED;
	}
	snprintf(why, size, "OVS port %s of bridge %s is missing from the database", s->link,
		 s->master);
	return LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_ovs_port = {
	.id = "ovs-port",
	.verify = ovs_port_verify,
	.apply = ovs_port_apply,
	.undo = ovs_port_undo,
	.describe = ovs_port_describe,
	.describe_undo = ovs_port_describe_undo,
};

/* --- tx-csum-off: link = host end, peer = target end; nothing to undo (the links go) ------ */

static int tx_csum_off_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	int r;

	r = lj_ethtool_set_tx_csum(-1, s->link, false);
	if (r < 0) {
		lj_ctx_detail(ctx, "on '%s' (host)", s->link);
		return r;
	}
	if (!s->peer[0])
		return 0;
	r = lj_ethtool_set_tx_csum(ctx->target_fd, s->peer, false);
	if (r < 0)
		lj_ctx_detail(ctx, "on '%s' (target)", s->peer);
	return r;
}

static void tx_csum_off_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	const char *ip = ctx->target_ip;
	size_t len = strlen(ip);

	fprintf(f, "ethtool -K %s tx off\n", LJ_SHQ(s->link));
	if (!s->peer[0])
		return;
	/* "ip -n NAME" → "ip netns exec NAME"; "nsenter ... ip" → "nsenter ..." */
	if (strncmp(ip, "ip -n ", 6) == 0)
		fprintf(f, "ip netns exec %s ethtool -K %s tx off\n", ip + 6, LJ_SHQ(s->peer));
	else if (len > 3 && strcmp(ip + len - 3, " ip") == 0)
		fprintf(f, "%.*s ethtool -K %s tx off\n", (int)(len - 3), ip, LJ_SHQ(s->peer));
	else
		fprintf(f, "# in the target: ethtool -K %s tx off\n", LJ_SHQ(s->peer));
}

const struct lj_step_type lj_step_tx_csum_off = {
	.id = "tx-csum-off",
	.apply = tx_csum_off_apply,
	.describe = tx_csum_off_describe,
};

/* --- ovs-uplink-bridge: link = BR, text = db, mac, mtu, peer = DEV, u32 = gen mode + 1 ---- */

static int obridge_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	struct lj_ovs *o;
	struct lj_link l;
	int r;

	r = step_ovs_open(ctx, s, &o);
	if (r < 0)
		return r;
	r = lj_ovs_bridge_add_hw(o, s->link, (s->flags & LJ_STEP_F_OVS_NETDEV) ? "netdev" : NULL,
				 s->has_mac ? s->mac : NULL, s->mtu, s->peer);
	if (r < 0)
		return ovs_done(ctx, o, r);
	s->created = true;
	lj_ovs_close(o);
	/* The call returns once ovs-vswitchd has the bridge; its internal link may lag. */
	for (int i = 0; i < 300 && (r = lj_link_get(ctx->host, s->link, &l)) == -ENODEV; i++)
		nanosleep(&ts, NULL);
	if (r < 0) {
		lj_ctx_detail(ctx, "the bridge's internal interface '%s' did not appear", s->link);
		return r;
	}
	if (s->u32) {
		r = lj_link_set_addr_gen_mode(ctx->host, s->link, (uint8_t)(s->u32 - 1));
		if (r < 0)
			lj_ctx_detail(ctx, "cannot set the IPv6 address generation mode of '%s'",
				      s->link);
	}
	return r;
}

static int obridge_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_ovs_bridge b;
	struct lj_ovs *o;
	int r;

	r = step_ovs_open(ctx, s, &o);
	if (r < 0)
		return r;
	r = lj_ovs_bridge_get(o, s->link, &b);
	if (r == -ENODEV) {
		lj_ovs_close(o);
		return 0;
	}
	if (r < 0)
		return ovs_done(ctx, o, r);
	if (!b.ours) {
		lj_ctx_detail(ctx, "OVS bridge '%s' is not lanjoin's; left alone", s->link);
		lj_ovs_close(o);
		return 0;
	}
	r = lj_ovs_bridge_del(o, s->link);
	lj_ctx_forget(ctx, LJ_HOST, s->link);
	return ovs_done(ctx, o, r);
}

static void obridge_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char db[LJ_OVS_DB_MAX];

	lj_ovs_describe_bridge_add_hw(f, step_db(s, db, sizeof(db)), s->link,
				      (s->flags & LJ_STEP_F_OVS_NETDEV) ? "netdev" : NULL,
				      s->has_mac ? s->mac : NULL, s->mtu, s->peer);
	if (s->u32)
		fprintf(f, "ip link set %s addrgenmode %s\n", LJ_SHQ(s->link),
			s->u32 - 1 == 0 ? "eui64" : "none");
}

static void obridge_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char db[LJ_OVS_DB_MAX];

	lj_ovs_describe_bridge_del(f, step_db(s, db, sizeof(db)), s->link);
}

const struct lj_step_type lj_step_ovs_uplink_bridge = {
	.id = "ovs-uplink-bridge",
	.apply = obridge_apply,
	.undo = obridge_undo,
	.describe = obridge_describe,
	.describe_undo = obridge_describe_undo,
};

/* --- ovs-enslave: link = DEV becomes a port of master = BR; text = db; undo as ovs-port's - */

static int oenslave_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_ovs_port_opts p = {
		.bridge = s->master,
		.name = s->link,
		.target = "uplink",
	};
	struct lj_ovs *o;
	int r;

	r = step_ovs_open(ctx, s, &o);
	if (r < 0)
		return r;
	return ovs_done(ctx, o, lj_ovs_port_add(o, &p));
}

static void oenslave_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char db[LJ_OVS_DB_MAX];
	struct lj_ovs_port_opts p = {.bridge = s->master, .name = s->link, .target = "uplink"};

	lj_ovs_describe_port_add(f, step_db(s, db, sizeof(db)), &p);
}

const struct lj_step_type lj_step_ovs_enslave = {
	.id = "ovs-enslave",
	.apply = oenslave_apply,
	.undo = ovs_port_undo, /* the same row removal as ovs-port's */
	.describe = oenslave_describe,
	.describe_undo = ovs_port_describe_undo,
};
