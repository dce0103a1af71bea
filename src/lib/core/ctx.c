/* SPDX-License-Identifier: MIT */
#include "lib/core/ctx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int lj_ctx_open(struct lj_ctx *ctx, struct lj_nl *host, const struct lj_target *t)
{
	int r;

	memset(ctx, 0, sizeof(*ctx));
	ctx->target_fd = -1;
	ctx->host = host;
	ctx->host_borrowed = host != NULL;
	/* No target (its namespace is gone): what would run there is printed as a comment. */
	lj_target_ip_prefix(NULL, ctx->target_ip, sizeof(ctx->target_ip));
	r = host ? 0 : lj_nl_open(-1, &ctx->host);
	if (r < 0)
		return r;
	if (!host)
		lj_nl_note_self_cookie(ctx->host); /* lj_netns_self_cookie needs no socket now */
	if (t && t->netns_fd >= 0) {
		uint64_t self;

		/* lanjoin's own namespace (the Docker plugin's handoff): one socket serves both,
		 * without a second one opened there through setns. */
		if (t->cookie && lj_netns_self_cookie(&self) == 0 && self == t->cookie) {
			ctx->target = ctx->host;
			ctx->target_is_host = true;
		} else {
			r = lj_nl_open(t->netns_fd, &ctx->target);
			if (r < 0)
				return r;
		}
		ctx->target_fd = t->netns_fd;
		ctx->tgt_copy = *t;
		ctx->tgt = &ctx->tgt_copy;
		/* Opened by lj_target_open_ns: its cookie from the socket made there anyway. */
		if (!t->cookie && lj_nl_netns_cookie(ctx->target, &ctx->tgt_copy.cookie) < 0)
			ctx->tgt_copy.cookie = 0;
		lj_target_ip_prefix(t, ctx->target_ip, sizeof(ctx->target_ip));
	}
	return 0;
}

void lj_ctx_close(struct lj_ctx *ctx)
{
	if (!ctx->host_borrowed)
		lj_nl_close(ctx->host);
	if (!ctx->target_is_host)
		lj_nl_close(ctx->target);
	ctx->host = ctx->target = NULL;
	ctx->target_is_host = false;
	free(ctx->defroutes);
	ctx->defroutes = NULL;
	ctx->n_defroutes = 0;
	ctx->has_defroutes = false;
}

int lj_ctx_new(struct lj_nl *host, const struct lj_target *t, struct lj_ctx **ret)
{
	struct lj_ctx *ctx = calloc(1, sizeof(*ctx));
	int r;

	if (!ctx)
		return -ENOMEM;
	r = lj_ctx_open(ctx, host, t);
	if (r < 0) {
		lj_ctx_free(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

void lj_ctx_free(struct lj_ctx *ctx)
{
	if (!ctx)
		return;
	lj_ctx_close(ctx);
	free(ctx);
}
