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

struct lj_route_entry;
struct lj_addr_entry;

/*
 * The host's route to ip (lj_route_match on ctx->host into *ret), asked once per ctx: the
 * plan's checks that look at it (the off-LAN warning, the host-route check of every way) share
 * one RTM_GETROUTE. For checks before the change only: what apply changes is not seen. Returns
 * 0 or lj_route_match's -errno (the same for a second ask).
 */
int lj_ctx_route_match(struct lj_ctx *ctx, const struct lj_ip *ip, struct lj_route_entry *ret);

/*
 * The host's addresses of family (AF_INET, AF_INET6, AF_UNSPEC for both; lj_addr_list on
 * ctx->host), dumped once per ctx and family for the plan's checks, as lj_ctx_route_match.
 * *ret is ctx's (valid until lj_ctx_close; NULL when *ret_n is 0). Returns 0 or -errno.
 */
int lj_ctx_host_addrs(struct lj_ctx *ctx, int family, const struct lj_addr_entry **ret,
		      size_t *ret_n);
