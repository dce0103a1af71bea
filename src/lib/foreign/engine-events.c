/* SPDX-License-Identifier: MIT */
#include "lib/foreign/engine-events.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/foreign/curl-internal.h"
#include "shared/macro.h"

/* Bytes of one event line: Docker's are under 2 KiB (labels can make them longer). */
#define EVENTS_LINE_MAX 65536
#define EVENTS_CONNECT_TIMEOUT_MS 3000L

/*
 * filters={"type":["container","network"],"event":["start","die","died","destroy","connect",
 * "disconnect","rename"]}, URL-encoded. Podman 4 matches the filter against its own status
 * names ("died"), then reports Docker's ("die"). A rename's event names the container by its
 * new name.
 */
#define EVENTS_PATH                                                                                \
	"/events?filters=%7B%22type%22%3A%5B%22container%22%2C%22network%22%5D%2C%22event%22%3A"   \
	"%5B%22start%22%2C%22die%22%2C%22died%22%2C%22destroy%22%2C%22connect%22%2C%22disconnect%" \
	"22%2C%22rename%22%5D%7D"

struct stream {
	struct lj_engine_events *ev;
	size_t index;
	CURL *h;
	char sock[LJ_ENGINE_SOCKET_MAX];
	char url[256];
	bool connected; /* answered 200 */
	long status;	/* HTTP status once the headers are in, else 0 */
	char *line;	/* EVENTS_LINE_MAX bytes */
	size_t len;	/* bytes in line */
	bool skipping;	/* the current line was too long: drop it up to its end */
};

struct lj_engine_events {
	const struct lj_curl_fns *cu;
	const struct lj_engine_events_ops *ops;
	void *data;
	CURLM *multi;
	struct stream streams[LJ_ENGINE_EVENTS_MAX_STREAMS];
};

/* --- parsing ------------------------------------------------------------------------------ */

static bool hex_id(const char *s)
{
	if (strlen(s) != LJ_ENGINE_ID_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* A string member of o that fits size bytes and has no control characters, else NULL. */
static const char *str_member(json_t *o, const char *key, size_t size)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	if (!s || strlen(s) != json_string_length(v) || strlen(s) >= size)
		return NULL;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	return s;
}

int lj_engine_event_parse(const char *line, size_t size, struct lj_engine_event *ret)
{
	json_t *root = json_loadb(line, size, JSON_REJECT_DUPLICATES, NULL);
	json_t *actor, *attrs;
	const char *type, *action, *id, *name;
	int r = -EPROTO;

	if (!json_is_object(root))
		goto out;
	memset(ret, 0, sizeof(*ret));
	type = str_member(root, "Type", sizeof(ret->type));
	action = str_member(root, "Action", 256);
	actor = json_object_get(root, "Actor");
	attrs = json_object_get(actor, "Attributes");
	if (!type || !action || !json_is_object(actor) || (attrs && !json_is_object(attrs)))
		goto out;
	r = 0;
	if (strcmp(type, "container") != 0 && strcmp(type, "network") != 0)
		goto out; /* well-formed, of no interest */
	/* "exec_start: sh -c ..." and the like: the word before the colon */
	snprintf(ret->type, sizeof(ret->type), "%s", type);
	snprintf(ret->action, sizeof(ret->action), "%.*s", (int)strcspn(action, ": "), action);
	r = -EPROTO;
	if (strcmp(type, "container") == 0) {
		id = str_member(actor, "ID", sizeof(ret->id));
		name = attrs ? str_member(attrs, "name", sizeof(ret->name)) : NULL;
		if (!id || !hex_id(id))
			goto out;
		if (name && lj_engine_name_valid(name))
			snprintf(ret->name, sizeof(ret->name), "%s", name);
	} else {
		id = attrs ? str_member(attrs, "container", sizeof(ret->id)) : NULL;
		name = attrs ? str_member(attrs, "name", sizeof(ret->network)) : NULL;
		if (!id || !hex_id(id))
			goto out;
		if (name)
			snprintf(ret->network, sizeof(ret->network), "%s", name);
	}
	snprintf(ret->id, sizeof(ret->id), "%s", id);
	r = 1;
out:
	json_decref(root);
	return r;
}

/* --- the streams ---------------------------------------------------------------------------- */

static void stream_line(struct stream *s, const char *line, size_t len)
{
	struct lj_engine_event e;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return;
	if (lj_engine_event_parse(line, len, &e) == 1)
		s->ev->ops->event(s->index, &e, s->ev->data);
}

static size_t stream_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct stream *s = userdata;
	size_t n = size * nmemb;

	if (s->status != 200) {
		/* an error answer: keep its start for the message */
		size_t k = n < EVENTS_LINE_MAX - 1 - s->len ? n : EVENTS_LINE_MAX - 1 - s->len;

		memcpy(s->line + s->len, ptr, k);
		s->len += k;
		s->line[s->len] = '\0';
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		char c = ptr[i];

		if (c == '\n') {
			if (!s->skipping)
				stream_line(s, s->line, s->len);
			s->len = 0;
			s->skipping = false;
		} else if (s->skipping) {
			continue;
		} else if (s->len + 1 >= EVENTS_LINE_MAX) {
			s->skipping = true; /* an event this long is not one lanjoin can use */
			s->len = 0;
		} else {
			s->line[s->len++] = c;
		}
	}
	return n;
}

static size_t stream_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct stream *s = userdata;
	size_t n = size * nmemb;
	long status = 0;

	/* the empty line that ends the headers */
	if (n <= 2 && (n == 0 || ptr[0] == '\r' || ptr[0] == '\n')) {
		s->ev->cu->easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200) {
			s->status = status;
			s->len = 0;
			if (status == 200 && !s->connected) {
				s->connected = true;
				s->ev->ops->connected(s->index, s->ev->data);
			}
		}
	}
	return n;
}

static int socket_cb(CURL *h, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct lj_engine_events *ev = userp;

	switch (what) {
	case CURL_POLL_IN:
		return ev->ops->watch_fd(fd, true, false, ev->data) < 0 ? -1 : 0;
	case CURL_POLL_OUT:
		return ev->ops->watch_fd(fd, false, true, ev->data) < 0 ? -1 : 0;
	case CURL_POLL_INOUT:
		return ev->ops->watch_fd(fd, true, true, ev->data) < 0 ? -1 : 0;
	case CURL_POLL_REMOVE:
		ev->ops->watch_fd(fd, false, false, ev->data);
		return 0;
	default:
		return 0;
	}
}

static int timer_cb(CURLM *multi, long ms, void *userp)
{
	struct lj_engine_events *ev = userp;

	return ev->ops->timer(ms, ev->data) < 0 ? -1 : 0;
}

int lj_engine_events_new(const struct lj_engine_events_ops *ops, void *data,
			 struct lj_engine_events **ret, struct lj_engine_err *err)
{
	const struct lj_curl_fns *cu = lj_curl(err);
	struct lj_engine_events *ev;

	if (!cu)
		return -EPROTONOSUPPORT;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->cu = cu;
	ev->ops = ops;
	ev->data = data;
	ev->multi = cu->multi_init();
	if (!ev->multi) {
		free(ev);
		return -ENOMEM;
	}
	if (cu->multi_setopt(ev->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
	    cu->multi_setopt(ev->multi, CURLMOPT_SOCKETDATA, ev) != CURLM_OK ||
	    cu->multi_setopt(ev->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
	    cu->multi_setopt(ev->multi, CURLMOPT_TIMERDATA, ev) != CURLM_OK) {
		cu->multi_cleanup(ev->multi);
		free(ev);
		return -ENOMEM;
	}
	for (size_t i = 0; i < LJ_ENGINE_EVENTS_MAX_STREAMS; i++) {
		ev->streams[i].ev = ev;
		ev->streams[i].index = i;
	}
	*ret = ev;
	return 0;
}

static void stream_stop(struct stream *s)
{
	if (s->h) {
		s->ev->cu->multi_remove_handle(s->ev->multi, s->h);
		s->ev->cu->easy_cleanup(s->h);
		s->h = NULL;
	}
	free(s->line);
	s->line = NULL;
	s->len = 0;
	s->status = 0;
	s->connected = false;
	s->skipping = false;
}

int lj_engine_events_start(struct lj_engine_events *ev, size_t stream, const char *sock,
			   struct lj_engine_err *err)
{
	const struct lj_curl_fns *cu = ev->cu;
	struct stream *s;

	if (stream >= LJ_ENGINE_EVENTS_MAX_STREAMS || !sock || sock[0] != '/' ||
	    strlen(sock) >= LJ_ENGINE_SOCKET_MAX)
		return -EINVAL;
	s = &ev->streams[stream];
	stream_stop(s);
	snprintf(s->sock, sizeof(s->sock), "%s", sock);
	/* a host name per stream: libcurl's connection cache keys on it */
	snprintf(s->url, sizeof(s->url), "http://engine%zu.localhost%s", stream, EVENTS_PATH);
	s->line = malloc(EVENTS_LINE_MAX);
	s->h = cu->easy_init();
	if (!s->line || !s->h) {
		stream_stop(s);
		return -ENOMEM;
	}
	if (cu->easy_setopt(s->h, CURLOPT_UNIX_SOCKET_PATH, s->sock) != CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_URL, s->url) != CURLE_OK ||
	    /* a connection of its own: never matched with another stream's (another socket) */
	    cu->easy_setopt(s->h, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_PROXY, "") != CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, EVENTS_CONNECT_TIMEOUT_MS) !=
		    CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_WRITEFUNCTION, stream_write) != CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_WRITEDATA, s) != CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_HEADERFUNCTION, stream_header) != CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_HEADERDATA, s) != CURLE_OK ||
	    cu->easy_setopt(s->h, CURLOPT_PRIVATE, s) != CURLE_OK ||
	    cu->multi_add_handle(ev->multi, s->h) != CURLM_OK) {
		stream_stop(s);
		snprintf(err->msg, sizeof(err->msg), "Cannot set up a libcurl request to %s", sock);
		return -ENOMEM;
	}
	return 0;
}

bool lj_engine_events_connected(const struct lj_engine_events *ev, size_t stream)
{
	return stream < LJ_ENGINE_EVENTS_MAX_STREAMS && ev->streams[stream].connected;
}

/* Why transfer s ended with code c, as -errno and a sentence into why. */
static int stream_error(struct stream *s, CURLcode c, char *why, size_t size)
{
	long oserr = 0;

	s->ev->cu->easy_getinfo(s->h, CURLINFO_OS_ERRNO, &oserr);
	if (s->status && s->status != 200) {
		size_t n = 0;

		for (char *p = s->line; p && n < s->len && n < 200; p++, n++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		snprintf(why, size, "the engine at %s answered HTTP %ld to GET /events: %.*s",
			 s->sock, s->status, (int)n, s->line ? s->line : "");
		return -EPROTO;
	}
	if (s->connected) {
		snprintf(why, size, "the engine at %s closed its event stream", s->sock);
		return -ECONNRESET;
	}
	if (c == CURLE_COULDNT_CONNECT) {
		int e = oserr == ENOENT			    ? ENOENT
			: oserr == EACCES || oserr == EPERM ? EACCES
							    : ECONNREFUSED;

		snprintf(why, size, "cannot reach the engine at %s: %s", s->sock,
			 oserr ? strerror((int)oserr) : s->ev->cu->easy_strerror(c));
		return -e;
	}
	snprintf(why, size, "event stream from %s: %s", s->sock, s->ev->cu->easy_strerror(c));
	return -EPROTO;
}

/* Report and stop the transfers that ended. */
static void check_done(struct lj_engine_events *ev)
{
	CURLMsg *m;
	int left;

	while ((m = ev->cu->multi_info_read(ev->multi, &left))) {
		struct stream *s = NULL;
		char why[400];
		int r;

		if (m->msg != CURLMSG_DONE)
			continue;
		ev->cu->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		if (!s || s->h != m->easy_handle)
			continue;
		r = stream_error(s, m->data.result, why, sizeof(why));
		stream_stop(s);
		ev->ops->ended(s->index, r, why, ev->data);
	}
}

int lj_engine_events_socket_ready(struct lj_engine_events *ev, int fd, bool in, bool out)
{
	int running = 0;

	if (ev->cu->multi_socket_action(ev->multi, fd,
					(in ? CURL_CSELECT_IN : 0) | (out ? CURL_CSELECT_OUT : 0),
					&running) != CURLM_OK)
		return -EIO;
	check_done(ev);
	return 0;
}

int lj_engine_events_timeout(struct lj_engine_events *ev)
{
	int running = 0;

	if (ev->cu->multi_socket_action(ev->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
		return -EIO;
	check_done(ev);
	return 0;
}

void lj_engine_events_free(struct lj_engine_events *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < LJ_ENGINE_EVENTS_MAX_STREAMS; i++)
		stream_stop(&ev->streams[i]);
	ev->cu->multi_cleanup(ev->multi);
	free(ev);
}
