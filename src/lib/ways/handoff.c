/* SPDX-License-Identifier: MIT */
/* Links made in lanjoin's namespace for a container engine to move (see handoff.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <string.h>
#include <unistd.h>

#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"
#include "lib/ways/handoff.h"
#include "lib/ways/macvlan.h"

/* The context: host and "target" are both lanjoin's own namespace. */
static int open_ctx(struct lj_ctx *ctx, struct lj_result *res)
{
	int r;

	memset(ctx, 0, sizeof(*ctx));
	ctx->target_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ctx->target_fd < 0)
		return lj_fail(res, -errno, "cannot open lanjoin's network namespace: %s",
			       strerror(errno));
	r = lj_nl_open(-1, &ctx->host);
	if (r < 0) {
		close(ctx->target_fd);
		return lj_fail(res, r, "cannot open rtnetlink: %s", strerror(-r));
	}
	ctx->target = ctx->host;
	snprintf(ctx->target_ip, sizeof(ctx->target_ip), "ip");
	return 0;
}

static void close_ctx(struct lj_ctx *ctx)
{
	lj_nl_close(ctx->host);
	close(ctx->target_fd);
}

/* The plan for o; fresh: refuse a link that exists already under o's name. */
static int build(struct lj_ctx *ctx, const struct lj_handoff_opts *o, bool fresh,
		 struct lj_plan *plan, struct lj_result *res)
{
	struct lj_link l;
	struct lj_step *s;
	int r;

	if (!lj_ifname_valid(o->name))
		return lj_bad_input(res, "invalid link name '%s'", o->name);
	if (fresh && lj_link_get(ctx->host, o->name, &l) == 0)
		return lj_bad_input(res, "a link named '%s' exists already", o->name);
	if (o->way == LJ_WAY_MACVLAN) {
		r = fresh ? lj_macvlan_check_parent(ctx->host, o->parent, &l, res) : 0;
		if (r < 0)
			return r;
		s = lj_plan_add(plan, &lj_step_macvlan, LJ_TARGET, "create macvlan %s on %s",
				o->name, o->parent);
		if (!s)
			return lj_fail(res, -ENOMEM, "out of memory");
		snprintf(s->link, sizeof(s->link), "%s", o->name);
		snprintf(s->master, sizeof(s->master), "%s", o->parent);
		s->u32 = o->macvlan_mode;
		s->mtu = o->mtu;
		if (o->has_mac) {
			memcpy(s->mac, o->mac, LJ_MAC_LEN);
			s->has_mac = true;
		}
		for (size_t i = 0; i < o->n_shim_routes && i < 2; i++) {
			char c[LJ_CIDR_STRLEN];

			lj_cidr_to_string(&o->shim_routes[i], c, sizeof(c));
			s = lj_plan_add(plan, &lj_step_shim_route, LJ_HOST,
					"route %s through host shim %s", c, o->shim);
			if (!s)
				return lj_fail(res, -ENOMEM, "out of memory");
			snprintf(s->link, sizeof(s->link), "%s", o->shim);
			s->cidr = o->shim_routes[i];
		}
		return 0;
	}
	if (o->way != LJ_WAY_BRIDGE)
		return lj_bad_input(res, "this way cannot hand a link over");
	if (!lj_ifname_valid(o->host))
		return lj_bad_input(res, "invalid link name '%s'", o->host);
	r = fresh ? lj_link_get(ctx->host, o->bridge, &l) : 0;
	if (fresh && (r == -ENODEV || (r == 0 && strcmp(l.kind, "bridge") != 0)))
		return lj_bad_input(res, "bridge '%s' does not exist (or is not a Linux bridge)",
				    o->bridge);
	if (r < 0)
		return lj_fail(res, r, "cannot look up bridge '%s': %s", o->bridge, strerror(-r));
	s = lj_plan_add(plan, &lj_step_veth, LJ_HOST, "create veth pair %s/%s on %s", o->host,
			o->name, o->bridge);
	if (!s)
		return lj_fail(res, -ENOMEM, "out of memory");
	snprintf(s->link, sizeof(s->link), "%s", o->host);
	snprintf(s->peer, sizeof(s->peer), "%s", o->name);
	snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	s->mtu = o->mtu;
	s->peer_mtu = o->mtu;
	if (o->has_mac) {
		memcpy(s->mac, o->mac, LJ_MAC_LEN);
		s->has_mac = true;
	}
	return 0;
}

int lj_handoff_make(const struct lj_handoff_opts *o, json_t **ret_plan, struct lj_result *res)
{
	struct lj_plan plan = {0};
	struct lj_plan_error err = {0};
	struct lj_ctx ctx;
	int r;

	*ret_plan = NULL;
	r = open_ctx(&ctx, res);
	if (r < 0)
		return r;
	r = build(&ctx, o, true, &plan, res);
	if (r == 0) {
		r = lj_plan_apply(&ctx, &plan, &err);
		if (r < 0) {
			res->rolled_back = true;
			res->undo_failed = err.undo_failed;
			lj_fail(res, r, "%s: %s%s%s", plan.steps[err.step].what, strerror(-r),
				ctx.detail[0] ? ": " : "", ctx.detail);
		}
	}
	if (r == 0) {
		*ret_plan = lj_plan_to_json(&plan);
		if (!*ret_plan) {
			lj_plan_undo_all(&ctx, &plan, NULL);
			r = lj_fail(res, -ENOMEM, "out of memory");
		}
	}
	lj_plan_free(&plan);
	close_ctx(&ctx);
	return r;
}

int lj_handoff_undo(const json_t *plan_json, struct lj_result *res)
{
	struct lj_plan plan = {0};
	struct lj_ctx ctx;
	size_t failed = 0;
	int r;

	r = lj_plan_from_json(plan_json, &plan);
	if (r < 0)
		return lj_fail(res, r, "the recorded plan is invalid");
	r = open_ctx(&ctx, res);
	if (r == 0) {
		r = lj_plan_undo_all(&ctx, &plan, &failed);
		if (r < 0)
			lj_fail(res, r, "undo failed: %s%s%s", strerror(-r),
				ctx.detail[0] ? ": " : "", ctx.detail);
		close_ctx(&ctx);
	}
	res->undo_failed = failed;
	lj_plan_free(&plan);
	return r;
}

int lj_handoff_unmake(const struct lj_handoff_opts *o, struct lj_result *res)
{
	struct lj_plan plan = {0};
	struct lj_ctx ctx;
	size_t failed = 0;
	int r;

	r = open_ctx(&ctx, res);
	if (r < 0)
		return r;
	r = build(&ctx, o, false, &plan, res);
	if (r == 0) {
		r = lj_plan_undo_all(&ctx, &plan, &failed);
		if (r < 0)
			lj_fail(res, r, "undo failed: %s%s%s", strerror(-r),
				ctx.detail[0] ? ": " : "", ctx.detail);
	}
	res->undo_failed = failed;
	lj_plan_free(&plan);
	close_ctx(&ctx);
	return r;
}
