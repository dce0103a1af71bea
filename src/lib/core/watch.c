/* SPDX-License-Identifier: MIT */
#include "lib/core/watch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/core/ctx.h"
#include "lib/core/undo.h"
#include "shared/parse.h"

size_t lj_record_links(const struct lj_record *rec, const char **names, size_t max)
{
	size_t n = 0;

#define ADD(x)                                                                                     \
	do {                                                                                       \
		const char *x_ = (x);                                                              \
		bool seen_ = !x_[0];                                                               \
		for (size_t k_ = 0; k_ < n && !seen_; k_++)                                        \
			seen_ = strcmp(names[k_], x_) == 0;                                        \
		if (!seen_ && n < max)                                                             \
			names[n++] = x_;                                                           \
	} while (0)

	ADD(rec->host_ifname);
	for (size_t i = 0; i < rec->plan.n; i++) {
		const struct lj_step *s = &rec->plan.steps[i];

		/* master: a bridge or a parent, in lanjoin's namespace even for a step that
		 * acts in the target (a macvlan made there from its parent) */
		ADD(s->master);
		if (s->where == LJ_HOST)
			ADD(s->link);
	}
#undef ADD
	return n;
}

bool lj_record_uses_link(const struct lj_record *rec, const char *name)
{
	const char *names[64];
	size_t n = lj_record_links(rec, names, 64);

	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

unsigned lj_record_nft(const struct lj_record *rec)
{
	unsigned bits = 0;

	for (size_t i = 0; i < rec->plan.n; i++)
		bits |= rec->plan.steps[i].type->nft;
	return bits;
}

bool lj_record_is_container(const struct lj_record *rec, const char *id, const char *name)
{
	if (rec->target_kind != LJ_TARGET_CONTAINER)
		return false;
	if (id[0] && strcmp(rec->container_id, id) == 0)
		return true;
	return name[0] &&
	       (strcmp(rec->target_name, name) == 0 || strcmp(rec->target_spec, name) == 0);
}

int lj_record_announce(const struct lj_record *rec, char *why, size_t size)
{
	struct lj_target t = {.netns_fd = -1};
	struct lj_ctx ctx;
	int r, sent = 0, first = 0;

	why[0] = '\0';
	if (!lj_undo_open_alive(rec, &t))
		return -ESRCH;
	r = lj_ctx_open(&ctx, NULL, &t);
	for (size_t i = 0; r == 0 && i < rec->plan.n; i++) {
		const struct lj_step *s = &rec->plan.steps[i];
		char ip[LJ_IP_STRLEN];
		int q;

		if (!s->type->announce || (s->where == LJ_TARGET && !ctx.target))
			continue;
		q = s->type->announce(&ctx, s);
		if (q < 0 && !first) {
			first = q;
			snprintf(why, size, "announcing %s on %s: %s",
				 lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip)), s->link,
				 strerror(-q));
		} else if (q == 0) {
			sent++;
		}
	}
	if (r < 0)
		snprintf(why, size, "cannot enter the target's namespace: %s", strerror(-r));
	lj_ctx_close(&ctx);
	lj_target_close(&t);
	lj_undo_netns_index_drop();
	if (r < 0)
		return r;
	return first && !sent ? first : sent;
}

int lj_watch_records(struct lj_record **ret, size_t *ret_n)
{
	struct lj_state *st = NULL;
	int r;

	r = lj_state_open(false, &st);
	if (r < 0)
		return r;
	r = lj_state_list(st, ret, ret_n, NULL);
	lj_state_close(st);
	return r;
}

int lj_watch_target_ns(const char *spec, struct lj_netns_id *ret)
{
	struct lj_target t;
	int r;

	r = lj_target_parse(spec, &t);
	if (r < 0)
		return r;
	/* /proc/N/ns/net follows a process, not a mount */
	if (t.kind != LJ_TARGET_NETNS &&
	    (t.kind != LJ_TARGET_PATH || strncmp(t.name, "/proc/", 6) == 0))
		return -EINVAL;
	/* no cookie: the file's identity is what changes, and it costs no setns() */
	if (lj_target_open_ns(&t) < 0) {
		*ret = (struct lj_netns_id){0, 0};
		return 0;
	}
	*ret = t.id;
	lj_target_close(&t);
	return 0;
}
