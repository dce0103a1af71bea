/* SPDX-License-Identifier: MIT */
#include "lib/foreign/ovsdb.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"

struct lj_ovsdb {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int timeout_ms;
	int fd;
	int64_t next_id;
	/* a reply that came for a later request than the one waited for (lj_ovsdb_transact_send
	 * lets two be outstanding), kept for it */
	json_t *early;
	char error[LJ_OVSDB_ERROR_MAX];
	/* bytes read and not yet taken as messages */
	char *buf;
	size_t len, cap;
	/* the splitter's state over buf[0, scan) */
	size_t scan;
	int depth;
	bool in_string, escape;
	char open[LJ_OVSDB_DEPTH_MAX]; /* the brackets open at each depth */
};

int lj_ovsdb_new(const char *path, int timeout_ms, struct lj_ovsdb **ret)
{
	struct lj_ovsdb *c;

	if (!path || !*path || timeout_ms <= 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (strlen(path) >= sizeof(c->path)) {
		free(c);
		return -EINVAL;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->timeout_ms = timeout_ms;
	c->fd = -1;
	*ret = c;
	return 0;
}

static void disconnect(struct lj_ovsdb *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = c->scan = 0;
	c->depth = 0;
	c->in_string = c->escape = false;
	json_decref(c->early);
	c->early = NULL;
}

void lj_ovsdb_drop(struct lj_ovsdb *c)
{
	if (c)
		disconnect(c);
}

void lj_ovsdb_free(struct lj_ovsdb *c)
{
	if (!c)
		return;
	disconnect(c);
	free(c->buf);
	free(c);
}

const char *lj_ovsdb_error(const struct lj_ovsdb *c)
{
	return c->error;
}

static int fail(struct lj_ovsdb *c, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct lj_ovsdb *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	for (char *p = c->error; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return r;
}

/* A transport failure: the connection's state is unknown, so it goes. */
static int broken(struct lj_ovsdb *c, int r, const char *what)
{
	disconnect(c);
	if (r == -ETIMEDOUT)
		return fail(c, r, "unix:%s: no answer from the database server within the timeout",
			    c->path);
	if (r == -ECONNRESET)
		return fail(c, r, "unix:%s: the database server closed the connection", c->path);
	return fail(c, r, "unix:%s: %s: %s", c->path, what, strerror(-r));
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on c->fd until deadline. Returns revents, or -ETIMEDOUT / -errno. */
static int wait_fd(struct lj_ovsdb *c, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = events};
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)(left > INT32_MAX ? INT32_MAX : left));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lj_negerrno();
		if (n > 0)
			return p.revents;
	}
}

static int connect_to(struct lj_ovsdb *c, int64_t deadline)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	socklen_t len = sizeof(int);
	int r, err = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return broken(c, lj_negerrno(), "socket");
	memcpy(sa.sun_path, c->path, strlen(c->path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		if (e != EINPROGRESS && e != EAGAIN)
			return fail(c, e == ENOENT || e == ECONNREFUSED ? -ECONNREFUSED : -e,
				    "unix:%s: database connection failed (%s)", c->path,
				    strerror(e));
		/* A full listen backlog: wait until the server accepts. */
		c->fd = fd;
		r = wait_fd(c, POLLOUT, deadline);
		c->fd = -1;
		if (r < 0)
			return fail(c, r, "unix:%s: database connection failed (%s)", c->path,
				    strerror(-r));
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
			return fail(c, -ECONNREFUSED, "unix:%s: database connection failed (%s)",
				    c->path, strerror(err ? err : errno));
	}
	c->fd = TAKE_FD(fd);
	c->len = c->scan = 0;
	c->depth = 0;
	c->in_string = c->escape = false;
	return 0;
}

static int send_all(struct lj_ovsdb *c, const char *s, size_t size, int64_t deadline)
{
	while (size) {
		ssize_t n = send(c->fd, s, size, MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			r = wait_fd(c, POLLOUT, deadline);
			if (r < 0)
				return broken(c, r, "send");
			continue;
		}
		if (n < 0)
			return broken(c, errno == EPIPE ? -ECONNRESET : lj_negerrno(), "send");
		s += n;
		size -= (size_t)n;
	}
	return 0;
}

static int send_json(struct lj_ovsdb *c, json_t *msg, int64_t deadline)
{
	_cleanup_free_ char *s = json_dumps(msg, JSON_COMPACT);

	if (!s)
		return fail(c, -ENOMEM, "cannot encode a request");
	return send_all(c, s, strlen(s), deadline);
}

/*
 * Find the end of the first complete JSON object in buf, continuing where the last call
 * stopped. Returns its size (leading whitespace included), 0 if more bytes are needed, or
 * -EBADMSG. Only the structure is checked here (strings, escapes, matching brackets); jansson
 * parses the value found.
 */
static ssize_t frame_end(struct lj_ovsdb *c)
{
	for (; c->scan < c->len; c->scan++) {
		char ch = c->buf[c->scan];

		if (c->in_string) {
			if (c->escape)
				c->escape = false;
			else if (ch == '\\')
				c->escape = true;
			else if (ch == '"')
				c->in_string = false;
			continue;
		}
		if (c->depth == 0 && ch != '{') {
			if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
				continue;
			return -EBADMSG; /* JSON-RPC messages are objects */
		}
		switch (ch) {
		case '"':
			c->in_string = true;
			break;
		case '{':
		case '[':
			if (c->depth >= LJ_OVSDB_DEPTH_MAX)
				return -EBADMSG;
			c->open[c->depth++] = ch;
			break;
		case '}':
		case ']':
			if (c->open[--c->depth] != (ch == '}' ? '{' : '['))
				return -EBADMSG;
			if (c->depth == 0)
				return (ssize_t)++c->scan;
			break;
		}
	}
	return 0;
}

/* Read the next message from the server into *ret (an object, the caller's). */
static int recv_json(struct lj_ovsdb *c, int64_t deadline, json_t **ret)
{
	for (;;) {
		json_error_t jerr;
		ssize_t end = frame_end(c);
		json_t *v;
		ssize_t n;
		int r;

		if (end < 0)
			return broken(c, -EBADMSG, "invalid message");
		if (end > 0) {
			v = json_loadb(c->buf, (size_t)end, JSON_REJECT_DUPLICATES, &jerr);
			memmove(c->buf, c->buf + end, c->len - (size_t)end);
			c->len -= (size_t)end;
			c->scan = 0;
			if (!v || !json_is_object(v)) {
				json_decref(v);
				disconnect(c);
				return fail(c, -EBADMSG,
					    "unix:%s: invalid message from the server: %s", c->path,
					    v ? "not an object" : jerr.text);
			}
			*ret = v;
			return 0;
		}
		if (c->len >= LJ_OVSDB_MSG_MAX) {
			disconnect(c);
			return fail(c, -EMSGSIZE,
				    "unix:%s: a message from the server is over %u bytes", c->path,
				    LJ_OVSDB_MSG_MAX);
		}
		if (c->cap - c->len < 4096) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *b;

			if (cap > LJ_OVSDB_MSG_MAX + 65536)
				cap = LJ_OVSDB_MSG_MAX + 65536;
			b = realloc(c->buf, cap);
			if (!b)
				return broken(c, -ENOMEM, "read");
			c->buf = b;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return broken(c, -ECONNRESET, "read");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return broken(c, lj_negerrno(), "read");
		r = wait_fd(c, POLLIN, deadline);
		if (r < 0)
			return broken(c, r, "read");
	}
}

/* Answer the server's "echo" request (its keepalive) with its own params. */
static int answer_echo(struct lj_ovsdb *c, json_t *msg, int64_t deadline)
{
	json_t *params = json_object_get(msg, "params");
	json_t *reply = json_pack("{s:O?,s:n,s:O}", "result", params, "error", "id",
				  json_object_get(msg, "id"));
	int r;

	if (!reply)
		return fail(c, -ENOMEM, "cannot encode a reply");
	r = send_json(c, reply, deadline);
	json_decref(reply);
	return r;
}

/* Send request method with params (stolen) as request *ret_id, connecting first if needed. */
static int send_request(struct lj_ovsdb *c, const char *method, json_t *params, int64_t deadline,
			json_int_t *ret_id)
{
	json_t *req;
	int r;

	c->error[0] = '\0';
	if (!json_is_array(params)) {
		json_decref(params);
		return fail(c, -EINVAL, "invalid request");
	}
	if (c->fd < 0) {
		r = connect_to(c, deadline);
		if (r < 0) {
			json_decref(params);
			return r;
		}
	}
	*ret_id = ++c->next_id;
	req = json_pack("{s:s,s:o,s:I}", "method", method, "params", params, "id", *ret_id);
	if (!req)
		return fail(c, -ENOMEM, "cannot encode a request");
	r = send_json(c, req, deadline);
	json_decref(req);
	return r;
}

/* Wait for the reply to request id (method, for messages); *ret_result as lj_ovsdb_call's. */
static int await_reply(struct lj_ovsdb *c, json_int_t id, const char *method, int64_t deadline,
		       json_t **ret_result)
{
	int r = 0;

	c->error[0] = '\0';
	if (c->fd < 0)
		return fail(c, -ECONNRESET, "unix:%s: the connection was closed before the reply",
			    c->path);
	for (;;) {
		json_t *msg, *rid, *err, *result;

		if (c->early && json_integer_value(json_object_get(c->early, "id")) == id) {
			msg = c->early;
			c->early = NULL;
		} else {
			r = recv_json(c, deadline, &msg);
			if (r < 0)
				return r;
		}
		rid = json_object_get(msg, "id");
		if (json_is_string(json_object_get(msg, "method"))) {
			/* A request or notification of the server's. */
			if (strcmp(json_string_value(json_object_get(msg, "method")), "echo") ==
				    0 &&
			    rid && !json_is_null(rid))
				r = answer_echo(c, msg, deadline);
			json_decref(msg);
			if (r < 0)
				return r;
			continue;
		}
		if (!json_is_integer(rid) || json_integer_value(rid) != id) {
			/* A later request's, still outstanding: kept for it; else not ours. */
			if (json_is_integer(rid) && json_integer_value(rid) > id &&
			    json_integer_value(rid) <= c->next_id && !c->early)
				c->early = msg;
			else
				json_decref(msg);
			continue;
		}
		err = json_object_get(msg, "error");
		result = json_object_get(msg, "result");
		if (err && !json_is_null(err)) {
			_cleanup_free_ char *s = json_dumps(err, JSON_COMPACT | JSON_ENCODE_ANY);
			fail(c, -EPROTO, "unix:%s: %s failed: %.200s", c->path, method,
			     s ? s : "error");
			json_decref(msg);
			return -EPROTO;
		}
		if (!result) {
			json_decref(msg);
			disconnect(c);
			return fail(c, -EBADMSG,
				    "unix:%s: invalid reply from the server: no result", c->path);
		}
		if (ret_result)
			*ret_result = json_incref(result);
		json_decref(msg);
		return 0;
	}
}

static int64_t deadline_of(const struct lj_ovsdb *c, int timeout_ms)
{
	return now_ms() + (timeout_ms > 0 ? timeout_ms : c->timeout_ms);
}

int lj_ovsdb_call(struct lj_ovsdb *c, const char *method, json_t *params, int timeout_ms,
		  json_t **ret_result)
{
	int64_t deadline = deadline_of(c, timeout_ms);
	json_int_t id;
	int r;

	r = send_request(c, method, params, deadline, &id);
	if (r < 0)
		return r;
	return await_reply(c, id, method, deadline, ret_result);
}

static int map_error(const char *error, const char *details)
{
	if (strcmp(error, "constraint violation") == 0)
		return details && strstr(details, "identical values") ? -EEXIST : -EINVAL;
	if (strcmp(error, "referential integrity violation") == 0)
		return -EINVAL;
	if (strcmp(error, "timed out") == 0)
		return -ETIMEDOUT;
	if (strcmp(error, "resources exhausted") == 0)
		return -ENOSPC;
	if (strcmp(error, "permission error") == 0)
		return -EPERM;
	return -EIO;
}

int lj_ovsdb_transact_send(struct lj_ovsdb *c, const char *db, json_t *ops, int timeout_ms,
			   struct lj_ovsdb_pending *ret)
{
	json_t *params;

	if (!json_is_array(ops)) {
		json_decref(ops);
		return fail(c, -EINVAL, "invalid transaction");
	}
	ret->n_ops = json_array_size(ops);
	params = json_pack("[s]", db);
	if (!params || json_array_extend(params, ops) < 0) {
		json_decref(params);
		json_decref(ops);
		return fail(c, -ENOMEM, "cannot encode a transaction");
	}
	json_decref(ops);
	return send_request(c, "transact", params, deadline_of(c, timeout_ms), &ret->id);
}

int lj_ovsdb_transact_reply(struct lj_ovsdb *c, const struct lj_ovsdb_pending *p, int timeout_ms,
			    json_t **ret_result, size_t *ret_failed)
{
	json_t *result = NULL, *v;
	size_t i;
	int r;

	r = await_reply(c, p->id, "transact", deadline_of(c, timeout_ms), &result);
	if (r < 0)
		return r;
	if (!json_is_array(result) || json_array_size(result) < p->n_ops) {
		json_decref(result);
		disconnect(c);
		return fail(c, -EBADMSG, "unix:%s: invalid transaction result", c->path);
	}
	json_array_foreach(result, i, v)
	{
		const char *error = json_string_value(json_object_get(v, "error"));
		const char *details = json_string_value(json_object_get(v, "details"));

		if (!error)
			continue;
		r = map_error(error, details);
		fail(c, r, "%s%s%.400s", error, details ? ": " : "", details ? details : "");
		if (ret_failed)
			*ret_failed = i;
		json_decref(result);
		return r;
	}
	if (ret_result)
		*ret_result = result;
	else
		json_decref(result);
	return 0;
}

int lj_ovsdb_transact(struct lj_ovsdb *c, const char *db, json_t *ops, int timeout_ms,
		      json_t **ret_result, size_t *ret_failed)
{
	struct lj_ovsdb_pending p;
	int r = lj_ovsdb_transact_send(c, db, ops, timeout_ms, &p);

	if (r < 0)
		return r;
	return lj_ovsdb_transact_reply(c, &p, timeout_ms, ret_result, ret_failed);
}
