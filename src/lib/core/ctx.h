/* SPDX-License-Identifier: MIT */
/*
 * The one constructor of a step context (struct lj_ctx, core/plan.h): the netlink sockets
 * on the host and in the target that every plan, transaction and read-only check runs with.
 */
#pragma once

#include "lib/core/plan.h"
#include "lib/core/target.h"

/*
 * Fill ctx (zeroed first) for steps on the host and, if t is not NULL and open, in t's
 * namespace: host is a netlink socket in lanjoin's namespace that ctx borrows (NULL: one is
 * opened and owned). t's fd is borrowed (ctx->tgt points at a copy; a target opened without
 * its cookie, lj_target_open_ns, gets it there, read from the socket opened in it). Returns 0
 * or -errno; lj_ctx_close is safe after a failure too.
 */
int lj_ctx_open(struct lj_ctx *ctx, struct lj_nl *host, const struct lj_target *t);

/* Close what lj_ctx_open opened (not a borrowed host socket). Safe on a zeroed ctx. */
void lj_ctx_close(struct lj_ctx *ctx);

/* lj_ctx_open into a new allocation (*ret, free with lj_ctx_free). Returns 0 or -errno. */
int lj_ctx_new(struct lj_nl *host, const struct lj_target *t, struct lj_ctx **ret);

/* lj_ctx_close and free ctx (NULL: nothing). */
void lj_ctx_free(struct lj_ctx *ctx);
