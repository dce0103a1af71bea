/* SPDX-License-Identifier: MIT */
#include "lib/core/ctx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kernel/addr.h"
#include "lib/kernel/route.h"
#include "shared/macro.h"

/*
 * What lj_ctx_route_match and lj_ctx_host_addrs asked (plan.h, ctx->checks). Small (under
 * glibc's 1 KiB of the per-thread cache: a larger allocation sorts the free lists first): an
 * attach asks about one or two addresses; a fifth one is asked each time.
 */
struct lj_ctx_checks {
	struct {
		struct lj_ip ip;
		int r;
		struct lj_route_entry e;
	} match[4];
	size_t n_match;
	struct lj_addr_entry *addrs[3]; /* AF_UNSPEC (both), AF_INET, AF_INET6 */
	size_t n_addrs[3];
	bool has_addrs[3];
};

static struct lj_ctx_checks *checks(struct lj_ctx *ctx)
{
	if (!ctx->checks)
		ctx->checks = calloc(1, sizeof(*ctx->checks));
	return ctx->checks;
}

int lj_ctx_route_match(struct lj_ctx *ctx, const struct lj_ip *ip, struct lj_route_entry *ret)
{
	struct lj_ctx_checks *c = checks(ctx);
	size_t i;
	int r;

	for (i = 0; c && i < c->n_match; i++)
		if (lj_ip_equal(&c->match[i].ip, ip)) {
			*ret = c->match[i].e;
			return c->match[i].r;
		}
	r = lj_route_match(ctx->host, ip, ret);
	/* Kept: a route, or the kernel's "none" (other errors are asked again next time). */
	if ((r < 0 && r != -ENETUNREACH && r != -EHOSTUNREACH && r != -ENOENT) || !c ||
	    c->n_match == ARRAY_SIZE(c->match))
		return r;
	c->match[c->n_match].ip = *ip;
	c->match[c->n_match].r = r;
	c->match[c->n_match++].e = r == 0 ? *ret : (struct lj_route_entry){0};
	return r;
}

int lj_ctx_host_addrs(struct lj_ctx *ctx, int family, const struct lj_addr_entry **ret,
		      size_t *ret_n)
{
	struct lj_ctx_checks *c = checks(ctx);
	size_t k = family == AF_INET ? 1 : family == AF_INET6 ? 2 : 0;
	int r;

	if (!c)
		return -ENOMEM;
	if (!c->has_addrs[k]) {
		r = lj_addr_list(ctx->host, family, &c->addrs[k], &c->n_addrs[k]);
		if (r < 0)
			return r;
		c->has_addrs[k] = true;
	}
	*ret = c->addrs[k];
	*ret_n = c->n_addrs[k];
	return 0;
}

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
	if (ctx->checks) {
		for (size_t k = 0; k < ARRAY_SIZE(ctx->checks->addrs); k++)
			free(ctx->checks->addrs[k]);
		free(ctx->checks);
		ctx->checks = NULL;
	}
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
