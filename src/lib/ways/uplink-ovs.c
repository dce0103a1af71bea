/* SPDX-License-Identifier: MIT */
/*
 * Uplink adoption into an Open vSwitch bridge: the bridge (with the uplink's MAC address as
 * other-config:hwaddr and its MTU), the uplink as its port, and, for the userspace (netdev)
 * datapath, the uplink kept out of the host's IP stack. The address and route steps are the
 * Linux bridge's (steps-uplink.c): they act on the bridge's internal interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/kernel/link.h"
#include "lib/foreign/ovs.h"
#include "lib/ways/uplink.h"
#include "shared/macro.h"

static int step_ovs(struct lj_ctx *ctx, const struct lj_step *s, struct lj_ovs **ret)
{
	int r = lj_ovs_open(s->text && *s->text ? s->text : NULL, ret);

	if (r == -ENOENT)
		lj_ctx_detail(ctx, "Open vSwitch is not installed: no ovs-vsctl");
	else if (r < 0)
		lj_ctx_detail(ctx, "invalid OVS database '%s'", s->text ? s->text : "");
	return r;
}

static int ovs_done(struct lj_ctx *ctx, struct lj_ovs *o, int r)
{
	if (r < 0 && lj_ovs_error(o)[0])
		lj_ctx_detail(ctx, "%s", lj_ovs_error(o));
	lj_ovs_close(o);
	return r;
}

static const char *step_db(const struct lj_step *s, char *buf, size_t size)
{
	const char *db = lj_ovs_resolve_db(s->text && *s->text ? s->text : NULL, buf, size);
	return db ? db : "?";
}

/* --- ovs-uplink-bridge: link = BR, text = db, mac, mtu, peer = DEV, u32 = gen mode + 1 ---- */

static int obridge_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	struct lj_ovs *o;
	struct lj_link l;
	int r;

	r = step_ovs(ctx, s, &o);
	if (r < 0)
		return r;
	r = lj_ovs_bridge_add_hw(o, s->link, (s->flags & LJ_STEP_F_OVS_NETDEV) ? "netdev" : NULL,
				 s->has_mac ? s->mac : NULL, s->mtu, s->peer);
	if (r < 0)
		return ovs_done(ctx, o, r);
	s->created = true;
	lj_ovs_close(o);
	/* ovs-vsctl returns once ovs-vswitchd has the bridge; its internal link may lag. */
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

	r = step_ovs(ctx, s, &o);
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
		fprintf(f, "ip link set %s addrgenmode %s\n", s->link,
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

/* --- ovs-enslave: link = DEV becomes a port of master = BR; text = db -------------------- */

static int oenslave_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_ovs_port_opts p = {
		.bridge = s->master,
		.name = s->link,
		.target = "uplink",
	};
	struct lj_ovs *o;
	int r;

	r = step_ovs(ctx, s, &o);
	if (r < 0)
		return r;
	return ovs_done(ctx, o, lj_ovs_port_add(o, &p));
}

static int oenslave_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_ovs *o;
	int r;

	r = step_ovs(ctx, s, &o);
	if (r < 0)
		return r;
	return ovs_done(ctx, o, lj_ovs_port_del(o, s->link));
}

static void oenslave_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char db[LJ_OVS_DB_MAX];
	struct lj_ovs_port_opts p = {.bridge = s->master, .name = s->link, .target = "uplink"};

	lj_ovs_describe_port_add(f, step_db(s, db, sizeof(db)), &p);
}

static void oenslave_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char db[LJ_OVS_DB_MAX];

	lj_ovs_describe_port_del(f, step_db(s, db, sizeof(db)), s->link);
}

const struct lj_step_type lj_step_ovs_enslave = {
	.id = "ovs-enslave",
	.apply = oenslave_apply,
	.undo = oenslave_undo,
	.describe = oenslave_describe,
	.describe_undo = oenslave_describe_undo,
};
