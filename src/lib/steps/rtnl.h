/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the rtnetlink step types (rtnl.c) that other step types and the plan builders
 * share. The step types themselves are declared in lib/core/plan.h.
 */
#pragma once

#include "lib/core/attach.h"
#include "lib/core/plan.h"
#include "lib/kernel/link.h"

/*
 * Refuse (lj_bad_input, -EINVAL) an ifname a link in the target (ctx->target) already has: a
 * plan builder's check before a step creates it there. Other lookup errors: lj_fail, -errno.
 */
int lj_rtnl_check_ifname_free(struct lj_ctx *ctx, const char *ifname, struct lj_result *res);

/*
 * The MACs of veth step s (lj_step_veth), chosen by the plan's builder so that the first save
 * of the record holds them and the creating request sets them: mac (the container end) is
 * o's --mac or a random locally administered one (then LJ_STEP_F_MAC_CHOSEN), link_mac (the
 * host end) a random one. Until the commit records the host end's ifindex, undo knows the
 * pair by its name and link_mac. Returns 0 or -errno (no randomness).
 */
int lj_rtnl_veth_macs(struct lj_step *s, const struct lj_attach_opts *o);

/*
 * Undo of a step that ensured a host link others may share (a bridge, a host shim): delete
 * s->link only if this run created it (on rollback), it is still of kind kind, and keep(ctx,
 * s, l) answers 0 (lanjoin's and unused); keep answers 1 to leave it, or -errno (reported with
 * the host socket's extack). A link already gone is fine. Returns 0 or -errno.
 */
int lj_rtnl_undo_shared_link(struct lj_ctx *ctx, const struct lj_step *s, const char *kind,
			     int (*keep)(struct lj_ctx *ctx, const struct lj_step *s,
					 const struct lj_link *l));

/*
 * Write to f (no newline) the command that sets the sysctl key ('/'-separated, relative to
 * /proc/sys, as lj_sysctl_write takes it) to val, for a dry run: "sysctl -qw a.b.c=V", with '/'
 * separators when a part holds a '.' (a link "em1.5"), one shell word; for a key sysctl(8)
 * cannot name (a part holding '=', which the kernel allows in a link's name), a "sh -c 'echo V
 * >/proc/sys/KEY'". Runs where the caller's prefix puts it.
 */
void lj_sysctl_describe_write(FILE *f, const char *key, const char *val);
