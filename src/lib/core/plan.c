/* SPDX-License-Identifier: MIT */
#include "lib/core/plan.h"
#include "lib/core/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/kernel/link.h"
#include "shared/macro.h"

/* Every step type a state record may name: the lists the ways layer provides. */
const struct lj_step_type *lj_step_type_find(const char *id)
{
	for (size_t i = 0; lj_step_type_lists[i]; i++)
		for (const struct lj_step_type *const *t = lj_step_type_lists[i]; *t; t++)
			if (strcmp((*t)->id, id) == 0)
				return *t;
	return NULL;
}

struct lj_step *lj_plan_add(struct lj_plan *p, const struct lj_step_type *t, enum lj_where where,
			    const char *what_fmt, ...)
{
	struct lj_step *s;
	va_list ap;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct lj_step *n = realloc(p->steps, cap * sizeof(*n));
		if (!n)
			return NULL;
		p->steps = n;
		p->cap = cap;
	}
	s = &p->steps[p->n++];
	memset(s, 0, sizeof(*s));
	s->type = t;
	s->where = where;
	va_start(ap, what_fmt);
	vsnprintf(s->what, sizeof(s->what), what_fmt, ap);
	va_end(ap);
	return s;
}

int lj_plan_append(struct lj_plan *dst, struct lj_plan *src)
{
	size_t n = dst->n + src->n;

	if (!src->n)
		return 0;
	if (n > dst->cap) {
		struct lj_step *a = realloc(dst->steps, n * sizeof(*a));

		if (!a)
			return -ENOMEM;
		dst->steps = a;
		dst->cap = n;
	}
	memcpy(dst->steps + dst->n, src->steps, src->n * sizeof(*src->steps));
	dst->n = n;
	free(src->steps);
	*src = (struct lj_plan){0};
	return 0;
}

void lj_plan_free(struct lj_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->steps[i].text);
	free(p->steps);
	memset(p, 0, sizeof(*p));
}

int lj_ctx_nl_error(struct lj_ctx *ctx, struct lj_nl *nl, int r)
{
	const char *ext = lj_nl_extack(nl);

	if (r < 0 && ext && *ext)
		lj_ctx_detail(ctx, "kernel says: %s", ext);
	return r;
}

void lj_ctx_detail(struct lj_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->detail[0])
		return;
	va_start(ap, fmt);
	vsnprintf(ctx->detail, sizeof(ctx->detail), fmt, ap);
	va_end(ap);
}

/* The cache slot of (where, name), else a free one (its ifindex <= 0), else -1. */
static int cache_slot(struct lj_ctx *ctx, enum lj_where where, const char *name)
{
	int free_slot = -1;

	for (size_t i = 0; i < ARRAY_SIZE(ctx->ifindex_cache); i++) {
		if (ctx->ifindex_cache[i].ifindex <= 0) {
			if (free_slot < 0)
				free_slot = (int)i;
			continue;
		}
		if (ctx->ifindex_cache[i].where == where &&
		    strcmp(ctx->ifindex_cache[i].name, name) == 0)
			return (int)i;
	}
	return free_slot;
}

void lj_ctx_remember(struct lj_ctx *ctx, enum lj_where where, const char *name, int ifindex)
{
	int i = cache_slot(ctx, where, name);

	if (i < 0 || ifindex <= 0)
		return;
	/* another link, or a free slot: what was known of it is not known of this one */
	if (ctx->ifindex_cache[i].ifindex != ifindex || ctx->ifindex_cache[i].where != where ||
	    strcmp(ctx->ifindex_cache[i].name, name) != 0)
		ctx->ifindex_cache[i].has_mac = ctx->ifindex_cache[i].bridge = false;
	ctx->ifindex_cache[i].where = where;
	snprintf(ctx->ifindex_cache[i].name, IFNAMSIZ, "%s", name);
	ctx->ifindex_cache[i].ifindex = ifindex;
}

void lj_ctx_remember_mac(struct lj_ctx *ctx, enum lj_where where, const char *name, int ifindex,
			 const uint8_t *mac)
{
	int i;

	lj_ctx_remember(ctx, where, name, ifindex);
	i = cache_slot(ctx, where, name);
	if (i < 0 || ifindex <= 0 || ctx->ifindex_cache[i].ifindex != ifindex)
		return;
	memcpy(ctx->ifindex_cache[i].mac, mac, LJ_MAC_LEN);
	ctx->ifindex_cache[i].has_mac = true;
}

void lj_ctx_remember_bridge(struct lj_ctx *ctx, const char *name, int ifindex)
{
	int i;

	lj_ctx_remember(ctx, LJ_HOST, name, ifindex);
	i = cache_slot(ctx, LJ_HOST, name);
	if (i >= 0 && ctx->ifindex_cache[i].ifindex == ifindex)
		ctx->ifindex_cache[i].bridge = true;
}

bool lj_ctx_known_bridge(struct lj_ctx *ctx, const char *name)
{
	int i = cache_slot(ctx, LJ_HOST, name);

	return i >= 0 && ctx->ifindex_cache[i].ifindex > 0 && ctx->ifindex_cache[i].bridge;
}

/*
 * The cache slot of name in where; if it is not cached, it is looked up into *l and cached
 * with its MAC. -ENOSPC when the cache is full (then *l holds the lookup), or -errno.
 */
static int cached_link(struct lj_ctx *ctx, enum lj_where where, const char *name, struct lj_link *l)
{
	struct lj_nl *nl = lj_ctx_nl(ctx, where);
	int i, r;

	if (!nl)
		return -ENOENT;
	i = cache_slot(ctx, where, name);
	if (i >= 0 && ctx->ifindex_cache[i].ifindex > 0)
		return i;
	r = lj_link_get(nl, name, l);
	if (r < 0)
		return r;
	lj_ctx_remember(ctx, where, name, l->ifindex);
	i = cache_slot(ctx, where, name);
	if (i < 0 || ctx->ifindex_cache[i].ifindex != l->ifindex)
		return -ENOSPC;
	ctx->ifindex_cache[i].has_mac = l->has_mac;
	memcpy(ctx->ifindex_cache[i].mac, l->mac, LJ_MAC_LEN);
	return i;
}

int lj_ctx_ifindex(struct lj_ctx *ctx, enum lj_where where, const char *name)
{
	struct lj_link l;
	int i = cached_link(ctx, where, name, &l);

	if (i == -ENOSPC)
		return l.ifindex;
	return i < 0 ? i : ctx->ifindex_cache[i].ifindex;
}

int lj_ctx_mac(struct lj_ctx *ctx, enum lj_where where, const char *name, uint8_t ret[LJ_MAC_LEN])
{
	struct lj_link l;
	int i = cached_link(ctx, where, name, &l), r;

	if (i >= 0 && !ctx->ifindex_cache[i].has_mac) {
		/* remembered from another lookup, without its MAC: ask */
		r = lj_link_get(lj_ctx_nl(ctx, where), name, &l);
		if (r < 0)
			return r;
		i = -ENOSPC;
	}
	if (i >= 0) {
		memcpy(ret, ctx->ifindex_cache[i].mac, LJ_MAC_LEN);
		return 0;
	}
	if (i != -ENOSPC)
		return i;
	if (!l.has_mac)
		return -ENODATA;
	memcpy(ret, l.mac, LJ_MAC_LEN);
	return 0;
}

void lj_ctx_forget(struct lj_ctx *ctx, enum lj_where where, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ctx->ifindex_cache); i++)
		if (ctx->ifindex_cache[i].where == where &&
		    strcmp(ctx->ifindex_cache[i].name, name) == 0)
			ctx->ifindex_cache[i].ifindex = 0;
}

size_t lj_test_hook(const char *name)
{
	const char *v = getenv(name);
	uint64_t n;

	if (!v || lj_parse_uint(v, 1, 1000000, &n) < 0)
		return 0;
	return (size_t)n;
}

/* Test hook (LANJOIN_STEP_DELAY_MS): widen the window before a step or an undo so that
 * crash-consistency tests can kill the process there. */
static void step_delay(size_t delay_ms)
{
	struct timespec ts = {.tv_sec = (time_t)(delay_ms / 1000),
			      .tv_nsec = (long)(delay_ms % 1000) * 1000000L};

	if (delay_ms)
		nanosleep(&ts, NULL);
}

void lj_plan_test_delay(void)
{
	step_delay(lj_test_hook("LANJOIN_STEP_DELAY_MS"));
}

static void test_pause_fifo(void);

void lj_plan_test_pause(size_t n)
{
	if (n && lj_test_hook("LANJOIN_PAUSE_AT") == n)
		test_pause_fifo();
}

void lj_plan_test_pause_settle(void)
{
	if (lj_test_hook("LANJOIN_PAUSE_SETTLE") == 1)
		test_pause_fifo();
}

static void test_pause_fifo(void)
{
	const char *fifo = getenv("LANJOIN_PAUSE_FIFO");
	char buf[64];
	int fd;

	if (!fifo || !*fifo)
		return;
	/* Blocks until the test opens the FIFO for writing; then wait for it to close it. */
	fd = open(fifo, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (read(fd, buf, sizeof(buf)) > 0 || errno == EINTR)
		errno = 0;
	close(fd);
}

int lj_plan_check(struct lj_ctx *ctx, const struct lj_plan *p, size_t *ret_step)
{
	ctx->detail[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		const struct lj_step *s = &p->steps[i];
		int r;

		if (!s->type->check || (s->where == LJ_TARGET && !ctx->target))
			continue;
		r = s->type->check(ctx, s);
		if (r < 0) {
			*ret_step = i;
			return r;
		}
	}
	return 0;
}

static int undo_step(struct lj_ctx *ctx, const struct lj_step *s, size_t index, size_t fault_undo,
		     size_t delay_ms)
{
	if (!s->type->undo || s->skip_undo)
		return 0;
	if (s->where == LJ_TARGET && !ctx->target)
		return 0; /* the namespace is gone, and with it what the step made there */
	step_delay(delay_ms);
	if (index + 1 == fault_undo)
		return -EIO;
	return s->type->undo(ctx, s);
}

/* Step s as a record stores it (lj_plan_to_json of it alone); NULL on out of memory. */
static json_t *step_json(const struct lj_step *s)
{
	struct lj_plan one = {.steps = (struct lj_step *)s, .n = 1, .cap = 1};

	return lj_plan_to_json(&one);
}

/*
 * Whether step s, just applied, is still what before (its step_json before apply) says: then
 * apply learnt nothing its undo needs that the record does not hold already (e.g. the
 * default routes it found are the ones the plan found), and a progress save would write the
 * same record again.
 */
static bool step_unchanged(const json_t *before, const struct lj_step *s)
{
	json_t *after = before ? step_json(s) : NULL;
	bool same = after && json_equal((json_t *)before, after);

	json_decref(after);
	return same;
}

int lj_plan_apply(struct lj_ctx *ctx, struct lj_plan *p, struct lj_plan_error *err)
{
	size_t fault = lj_test_hook("LANJOIN_FAULT_STEP");
	size_t fault_undo = lj_test_hook("LANJOIN_FAULT_UNDO");
	size_t delay_ms = lj_test_hook("LANJOIN_STEP_DELAY_MS");
	size_t i, done;
	int r = 0;

	memset(err, 0, sizeof(*err));
	ctx->detail[0] = '\0';
	for (i = 0; i < p->n; i++) {
		struct lj_step *s = &p->steps[i];
		json_t *before = NULL;
		bool saving = false;

		step_delay(delay_ms);
		lj_plan_test_pause(i + 1);
		if (lj_interrupted()) {
			/* The front end caught SIGINT/SIGTERM: stop here and roll back. */
			r = -EINTR;
			lj_ctx_detail(ctx, "interrupted by %s",
				      lj_interrupt_name(lj_interrupted()));
		} else if (i + 1 == fault) {
			r = -EIO;
			lj_ctx_detail(ctx, "fault injected by LANJOIN_FAULT_STEP=%zu", fault);
		} else if (s->where == LJ_TARGET && !ctx->target) {
			r = -ENOENT;
		} else {
			saving = s->type->save_after && !s->skip_undo && ctx->save;
			/* What the record holds of the step now: saved again only if apply
			 * changed it (NULL: out of memory, then it is saved). */
			before = saving ? step_json(s) : NULL;
			r = s->type->apply(ctx, s);
		}
		if (r < 0) {
			json_decref(before);
			done = i;
			break;
		}
		if (saving && !step_unchanged(before, s))
			r = ctx->save(ctx, p);
		json_decref(before);
		if (r < 0) {
			lj_ctx_detail(ctx, "cannot update the state record: %s", strerror(-r));
			done = i + 1; /* applied: undo it too */
			break;
		}
	}
	if (r >= 0)
		return 0;

	err->step = i;
	err->error = r;
	ctx->rollback = true;
	/* Roll back the steps that were done, newest first, whatever fails along the way. */
	for (i = done; i-- > 0;) {
		const struct lj_step *s = &p->steps[i];
		int u = undo_step(ctx, s, i, fault_undo, delay_ms);
		if (u < 0) {
			size_t len = strlen(err->undo_detail);
			if (err->undo_failed++ == 0 || len + 8 < sizeof(err->undo_detail))
				snprintf(err->undo_detail + len, sizeof(err->undo_detail) - len,
					 "%s%s (%s)", len ? "; " : "", s->what, strerror(-u));
		}
	}
	ctx->rollback = false;
	return r;
}

int lj_plan_settle(struct lj_ctx *ctx, struct lj_plan *p, json_t *info, size_t *ret_step)
{
	ctx->detail[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		struct lj_step *s = &p->steps[i];
		int r;

		if (!s->type->settle)
			continue;
		if (lj_interrupted())
			r = -EINTR;
		else if (s->where == LJ_TARGET && !ctx->target)
			r = -ENOENT;
		else
			r = s->type->settle(ctx, s, info);
		if (r < 0) {
			*ret_step = i;
			return r;
		}
	}
	return 0;
}

int lj_plan_undo_from(struct lj_ctx *ctx, const struct lj_plan *p, size_t *pos, size_t *failed)
{
	size_t fault_undo = lj_test_hook("LANJOIN_FAULT_UNDO");
	size_t delay_ms = lj_test_hook("LANJOIN_STEP_DELAY_MS");
	int first = 0;

	for (size_t i = *pos; i-- > 0;) {
		int u = undo_step(ctx, &p->steps[i], i, fault_undo, delay_ms);
		if (u == LJ_UNDO_DEFERRED) {
			*pos = i;
			return first;
		}
		if (u < 0) {
			(*failed)++;
			if (!first)
				first = u;
			lj_ctx_detail(ctx, "%s: %s", p->steps[i].what, strerror(-u));
		}
	}
	*pos = 0;
	return first;
}

static bool undoable(const struct lj_step *s)
{
	return s->type->undo && !s->skip_undo;
}

int lj_plan_undo_atomic(struct lj_ctx *ctx, struct lj_plan *p, size_t *ret_failed_step,
			bool *ret_redo_failed, char *redo_detail, size_t redo_size)
{
	size_t fault = lj_test_hook("LANJOIN_FAULT_UNDO");
	size_t i;
	int r = 0;

	*ret_redo_failed = false;
	for (i = p->n; i-- > 0;) {
		struct lj_step *s = &p->steps[i];
		if (!undoable(s))
			continue;
		lj_plan_test_delay();
		if (!ctx->finish && lj_interrupted()) {
			/* The front end caught SIGINT/SIGTERM/SIGHUP: stop, and redo what was
			 * undone. */
			r = -EINTR;
			lj_ctx_detail(ctx, "interrupted by %s",
				      lj_interrupt_name(lj_interrupted()));
		} else if (i + 1 == fault) {
			r = -EIO;
			lj_ctx_detail(ctx, "fault injected by LANJOIN_FAULT_UNDO=%zu", fault);
		} else {
			r = s->type->undo(ctx, s);
		}
		if (r < 0)
			break;
	}
	if (r >= 0)
		return 0;
	*ret_failed_step = i;
	memset(ctx->ifindex_cache, 0, sizeof(ctx->ifindex_cache));
	for (size_t j = i + 1; j < p->n; j++) {
		struct lj_step *s = &p->steps[j];
		char saved[sizeof(ctx->detail)];
		int u;

		if (!undoable(s))
			continue;
		memcpy(saved, ctx->detail, sizeof(saved));
		u = s->type->apply(ctx, s);
		if (u < 0) {
			size_t len = strlen(redo_detail);
			*ret_redo_failed = true;
			snprintf(redo_detail + len, redo_size - len, "%s%s (%s)", len ? "; " : "",
				 s->what, strerror(-u));
		}
		memcpy(ctx->detail, saved, sizeof(saved));
	}
	return r;
}

int lj_plan_undo_all(struct lj_ctx *ctx, const struct lj_plan *p, size_t *ret_failed)
{
	struct lj_link_batch *batch = ctx->batch;
	size_t failed = 0, pos = p->n;
	int first;

	ctx->batch = NULL; /* nothing is deferred: the whole plan is undone here */
	first = lj_plan_undo_from(ctx, p, &pos, &failed);
	ctx->batch = batch;
	if (ret_failed)
		*ret_failed = failed;
	return first;
}

void lj_plan_describe(const struct lj_ctx *ctx, const struct lj_plan *p, bool undo, FILE *f)
{
	if (!undo) {
		for (size_t i = 0; i < p->n; i++)
			p->steps[i].type->describe(ctx, &p->steps[i], f);
		return;
	}
	for (size_t i = p->n; i-- > 0;) {
		const struct lj_step *s = &p->steps[i];
		if (s->type->describe_undo && !s->skip_undo && s->type->undo)
			s->type->describe_undo(ctx, s, f);
	}
}

/* Append the commands of text (lines, here-documents kept whole) to the arrays a and b. */
static int split_commands(char *text, json_t *a, json_t *b)
{
	char delim[32] = "";
	char *cmd = NULL;

	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!cmd)
			cmd = line;
		else
			line[-1] = '\n'; /* joins the here-document's lines back */
		if (delim[0] && strcmp(line, delim) != 0)
			continue;
		if (!delim[0]) {
			const char *h = strstr(line, "<<'"), *e = h ? strchr(h + 3, '\'') : NULL;
			if (e && (size_t)(e - h - 3) < sizeof(delim)) {
				snprintf(delim, sizeof(delim), "%.*s", (int)(e - h - 3), h + 3);
				continue;
			}
		}
		delim[0] = '\0';
		if (json_array_append_new(a, json_string(cmd)) < 0 ||
		    json_array_append_new(b, json_string(cmd)) < 0)
			return -ENOMEM;
		cmd = NULL;
	}
	if (cmd && (json_array_append_new(a, json_string(cmd)) < 0 ||
		    json_array_append_new(b, json_string(cmd)) < 0))
		return -ENOMEM;
	return 0;
}

json_t *lj_plan_describe_json(const struct lj_ctx *ctx, const struct lj_plan *p)
{
	json_t *o = json_object(), *steps = json_array(), *all = json_array();

	if (!o || !steps || !all || json_object_set(o, "steps", steps) < 0 ||
	    json_object_set(o, "commands", all) < 0)
		goto fail;
	for (size_t i = 0; i < p->n; i++) {
		const struct lj_step *s = &p->steps[i];
		json_t *js = json_object(), *cmds = json_array();
		char *text = NULL;
		size_t size = 0;
		FILE *f;
		int r;

		if (!js || !cmds || json_array_append_new(steps, js) < 0) {
			json_decref(js);
			json_decref(cmds);
			goto fail;
		}
		if (json_object_set_new(js, "what", json_string(s->what)) < 0 ||
		    json_object_set_new(js, "where",
					json_string(s->where == LJ_TARGET ? "target" : "host")) <
			    0 ||
		    json_object_set_new(js, "commands", cmds) < 0)
			goto fail;
		f = open_memstream(&text, &size);
		if (!f)
			goto fail;
		s->type->describe(ctx, s, f);
		if (fclose(f) != 0) {
			free(text);
			goto fail;
		}
		r = split_commands(text, cmds, all);
		free(text);
		if (r < 0)
			goto fail;
	}
	json_decref(steps);
	json_decref(all);
	return o;
fail:
	json_decref(o);
	json_decref(steps);
	json_decref(all);
	return NULL;
}

/* --- serialisation ------------------------------------------------------------------ */

static void put_str(json_t *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_set_new(o, k, json_string(v));
}

json_t *lj_plan_to_json(const struct lj_plan *p)
{
	json_t *a = json_array();
	char buf[LJ_CIDR_STRLEN];

	if (!a)
		return NULL;
	for (size_t i = 0; i < p->n; i++) {
		const struct lj_step *s = &p->steps[i];
		json_t *o = json_object();

		if (!o) {
			json_decref(a);
			return NULL;
		}
		json_object_set_new(o, "type", json_string(s->type->id));
		json_object_set_new(o, "where",
				    json_string(s->where == LJ_TARGET ? "target" : "host"));
		put_str(o, "what", s->what);
		if (s->skip_undo)
			json_object_set_new(o, "skip_undo", json_true());
		if (s->created)
			json_object_set_new(o, "created", json_true());
		put_str(o, "link", s->link);
		put_str(o, "peer", s->peer);
		put_str(o, "master", s->master);
		if (s->cidr.ip.family != AF_UNSPEC)
			put_str(o, "cidr", lj_cidr_to_string(&s->cidr, buf, sizeof(buf)));
		if (s->via.family != AF_UNSPEC)
			put_str(o, "via", lj_ip_to_string(&s->via, buf, sizeof(buf)));
		if (s->mtu)
			json_object_set_new(o, "mtu", json_integer(s->mtu));
		if (s->peer_mtu)
			json_object_set_new(o, "peer_mtu", json_integer(s->peer_mtu));
		if (s->has_mac)
			put_str(o, "mac", lj_mac_to_string(s->mac, buf, sizeof(buf)));
		if (s->has_link_mac)
			put_str(o, "link_mac", lj_mac_to_string(s->link_mac, buf, sizeof(buf)));
		if (s->u32)
			json_object_set_new(o, "u32", json_integer(s->u32));
		if (s->flags)
			json_object_set_new(o, "flags", json_integer(s->flags));
		if (s->i64)
			json_object_set_new(o, "i64", json_integer(s->i64));
		put_str(o, "text", s->text);
		json_array_append_new(a, o);
	}
	return a;
}

static int get_name(const json_t *o, const char *k, char ret[IFNAMSIZ])
{
	const json_t *v = json_object_get(o, k);

	if (!v)
		return 0;
	if (!json_is_string(v) || !lj_ifname_valid(json_string_value(v)))
		return -EBADMSG;
	snprintf(ret, IFNAMSIZ, "%s", json_string_value(v));
	return 0;
}

static int get_uint(const json_t *o, const char *k, int64_t min, int64_t max, int64_t *ret)
{
	const json_t *v = json_object_get(o, k);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return -EBADMSG;
	*ret = json_integer_value(v);
	return 0;
}

static int step_from_json(const json_t *o, struct lj_step *s)
{
	const json_t *v;
	int64_t n;

	if (!json_is_object(o))
		return -EBADMSG;
	v = json_object_get(o, "type");
	if (!json_is_string(v) || !(s->type = lj_step_type_find(json_string_value(v))))
		return -EBADMSG;
	v = json_object_get(o, "where");
	if (!json_is_string(v))
		return -EBADMSG;
	if (strcmp(json_string_value(v), "target") == 0)
		s->where = LJ_TARGET;
	else if (strcmp(json_string_value(v), "host") == 0)
		s->where = LJ_HOST;
	else
		return -EBADMSG;
	v = json_object_get(o, "what");
	if (v) {
		if (!json_is_string(v))
			return -EBADMSG;
		snprintf(s->what, sizeof(s->what), "%s", json_string_value(v));
	}
	s->skip_undo = json_is_true(json_object_get(o, "skip_undo"));
	s->created = json_is_true(json_object_get(o, "created"));
	if (get_name(o, "link", s->link) < 0 || get_name(o, "peer", s->peer) < 0 ||
	    get_name(o, "master", s->master) < 0)
		return -EBADMSG;
	v = json_object_get(o, "cidr");
	if (v && (!json_is_string(v) || lj_parse_cidr(json_string_value(v), true, &s->cidr) < 0))
		return -EBADMSG;
	v = json_object_get(o, "via");
	if (v && (!json_is_string(v) || lj_parse_ip(json_string_value(v), &s->via) < 0))
		return -EBADMSG;
	v = json_object_get(o, "mac");
	if (v) {
		if (!json_is_string(v) || lj_parse_mac(json_string_value(v), s->mac) < 0)
			return -EBADMSG;
		s->has_mac = true;
	}
	v = json_object_get(o, "link_mac");
	if (v) {
		if (!json_is_string(v) || lj_parse_mac(json_string_value(v), s->link_mac) < 0)
			return -EBADMSG;
		s->has_link_mac = true;
	}
	n = 0;
	if (get_uint(o, "mtu", 0, 65535, &n) < 0)
		return -EBADMSG;
	s->mtu = (uint32_t)n;
	n = 0;
	if (get_uint(o, "peer_mtu", 0, 65535, &n) < 0)
		return -EBADMSG;
	s->peer_mtu = (uint32_t)n;
	n = 0;
	if (get_uint(o, "u32", 0, UINT32_MAX, &n) < 0)
		return -EBADMSG;
	s->u32 = (uint32_t)n;
	n = 0;
	if (get_uint(o, "flags", 0, UINT32_MAX, &n) < 0)
		return -EBADMSG;
	s->flags = (uint32_t)n;
	if (get_uint(o, "i64", INT64_MIN, INT64_MAX, &s->i64) < 0)
		return -EBADMSG;
	v = json_object_get(o, "text");
	if (v) {
		if (!json_is_string(v) || json_string_length(v) > 65536)
			return -EBADMSG;
		s->text = strdup(json_string_value(v));
		if (!s->text)
			return -ENOMEM;
	}
	return 0;
}

int lj_plan_from_json(const json_t *j, struct lj_plan *ret)
{
	struct lj_plan p = {0};
	size_t i;
	const json_t *o;

	if (!json_is_array(j) || json_array_size(j) > 1024)
		return -EBADMSG;
	json_array_foreach(j, i, o)
	{
		struct lj_step *s = lj_plan_add(&p, &lj_step_link_up, LJ_HOST, "%s", "");
		int r;

		if (!s) {
			lj_plan_free(&p);
			return -ENOMEM;
		}
		r = step_from_json(o, s);
		if (r < 0) {
			lj_plan_free(&p);
			return r;
		}
	}
	*ret = p;
	return 0;
}
