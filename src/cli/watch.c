/* SPDX-License-Identifier: MIT */
/*
 * lanjoin watch: the supervisor. One epoll loop reacts to the container engines' event
 * streams, rtnetlink link changes and nf_tables changes, and reconciles what an event touches.
 * Idle, it sleeps in epoll_wait without a timeout: the only timers are armed by an event (the
 * settle window that coalesces a burst, a reconnect's backoff, libcurl's connect timeout, the
 * retry of a failed attach).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/reconcile.h"
#include "cli/spec.h"
#include "lib/core/session.h"
#include "lib/core/detach.h"
#include "lib/core/state.h"
#include "lib/core/watch.h"
#include "lib/foreign/engine-events.h"
#include "lib/kernel/arp.h"
#include "lib/kernel/link.h"
#include "lib/kernel/monitor.h"
#include "lib/kernel/netlink.h"
#include "shared/macro.h"

static const char usage[] =
	"Usage: lanjoin watch [--engine-socket PATH]... [--no-engines]\n"
	"Keep the attachments true: reconcile them all at start, then reconcile what an event\n"
	"touches (a container started, died, was removed, or connected to or disconnected from\n"
	"a network: a nat forward to its old address is moved; a parent, uplink or bridge went\n"
	"down, came back or was re-created; lanjoin's nft table or the accept rules were flushed;\n"
	"a netns:NAME or path target's namespace was deleted or made again under its name)\n"
	"and announce the addresses again when a link's carrier comes back. A non-persistent\n"
	"attachment ends with its container's run: dropped when the container stops or\n"
	"restarts (a persistent one comes back). Open vSwitch's database is not followed: an\n"
	"OVS port deleted by hand waits for 'lanjoin reconcile' or SIGHUP (reconcile all).\n"
	"Runs until SIGTERM or SIGINT (exit 0); logs one line per action on stderr. One\n"
	"instance at a time.\n"
	"  --engine-socket PATH  follow the events of the engine at PATH (repeatable, up to 4);\n"
	"                        default: the socket other commands use (LANJOIN_ENGINE_SOCKET,\n"
	"                        DOCKER_HOST or /var/run/docker.sock) and CONTAINER_HOST or\n"
	"                        /run/podman/podman.sock, those that exist\n"
	"  --no-engines          follow no engine (links and nftables only)\n";

/* Events for one target within this many ms of each other make one reconcile. */
#define SETTLE_MS 10
/* Reconnecting: 100 ms, doubled up to this, then only when the socket is created again. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_LAST_MS 6400
#define MAX_PENDING 256
/*
 * An attach that failed for a reason that may pass (cli_reconcile's 2: e.g. the MAC still
 * taken by the old macvlan of a restarted container's old namespace, which no process, mount
 * or fd holds any more but the kernel frees later, 30 to 60 s under load; lanjoin cannot reach
 * it) is tried again after 1 s, doubled up to 30 s, at most RETRY_MAX times (about two
 * minutes in all); then only at the next event.
 */
#define RETRY_FIRST_MS 1000
#define RETRY_LAST_MS 30000
#define RETRY_MAX 8
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h, which clashes with net/if.h */
#endif
#define LOCK_NAME "watch.lock"

enum src {
	SRC_SIGNAL = 1,
	SRC_LINKS,
	SRC_NFT,
	SRC_SETTLE,
	SRC_CURL_TIMER,
	SRC_CURL_SOCK,
	SRC_BACKOFF,
	SRC_INOTIFY,
	SRC_RETRY,
	SRC_MOUNTS,
};

/* epoll data: the source in the high 32 bits, an fd or stream index in the low 32. */
#define TAG(src, n) (((uint64_t)(src) << 32) | (uint32_t)(n))

struct engine {
	char sock[LJ_ENGINE_SOCKET_MAX];
	int backoff_fd; /* timerfd */
	unsigned backoff_ms;
	int inotify_wd; /* on the socket's directory, -1 if none */
	bool was_connected;
};

/* The namespace a netns:NAME or path target's file named when last looked at. */
struct seen_ns {
	char *spec;
	struct lj_netns_id id; /* {0, 0}: none */
};

/* A host link as last seen. */
struct seen_link {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags;
	int master;
	bool had_carrier; /* its carrier was up once while watched: a carrier that comes up
			     again is back; a new link's first is not */
};

struct watch {
	int ep, sig_fd, settle_fd, curl_timer_fd, inotify_fd, retry_fd;
	int mounts_fd; /* /proc/self/mountinfo: EPOLLPRI when a mount comes or goes */
	struct lj_monitor *links, *nft;
	struct lj_engine_events *events;
	struct engine engines[LJ_ENGINE_EVENTS_MAX_STREAMS];
	size_t n_engines;

	struct seen_link *seen;
	size_t n_seen, cap_seen;

	/* the namespaces of netns:NAME and path targets (records' and specs'), as last seen */
	struct seen_ns *seen_ns;
	size_t n_seen_ns;
	bool ns_check; /* the mounts changed: look again (in the settle window) */

	/* work gathered in the settle window */
	bool all;
	char *pending[MAX_PENDING]; /* TARGETs (record target_spec) to reconcile */
	size_t n_pending;
	char *announce[MAX_PENDING]; /* links whose carrier came back */
	size_t n_announce;
	bool settle_armed;

	/* failed attaches to try again (retry_fd) */
	bool retry_all;
	char *retry[MAX_PENDING];
	size_t n_retry;
	unsigned retries; /* tries so far */
	bool retry_armed;

	/* the nft transaction being read: what it deleted */
	unsigned nft_deleted; /* LJ_STEP_NFT_* bits */
	char nft_what[96];

	struct lj_record *recs; /* loaded on demand while events are handled, dropped after */
	size_t n_recs;
	bool recs_loaded;

	bool stop;
};

static void wlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void wlog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* --- one instance: a lock file in the state directory ---------------------------------- */

/* Take <state dir>/watch.lock (lj_instance_lock). -EBUSY when another watch holds it. */
static int take_lock(int *ret_fd, char *path, size_t size)
{
	struct lj_state *st = NULL;
	int r;

	/* creates the directory if needed, with its ownership checks */
	r = lj_state_open(false, &st);
	if (r < 0)
		return r;
	lj_state_close(st);
	snprintf(path, size, "%s/" LOCK_NAME, lj_state_dir());
	return lj_instance_lock(path, ret_fd);
}

/* --- the work list ------------------------------------------------------------------------- */

static int add_str(char **list, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(list[i], s) == 0)
			return 0;
	if (*n == MAX_PENDING)
		return -ENOSPC;
	list[*n] = strdup(s);
	if (!list[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void arm_ms(int fd, long ms)
{
	struct itimerspec its = {0};

	if (ms >= 0) {
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000L;
		if (ms == 0)
			its.it_value.tv_nsec = 1; /* 0 would disarm */
	}
	(void)timerfd_settime(fd, 0, &its, NULL);
}

static void settle(struct watch *w)
{
	if (!w->settle_armed) {
		arm_ms(w->settle_fd, SETTLE_MS);
		w->settle_armed = true;
	}
}

static void want_all(struct watch *w, const char *why)
{
	wlog("%s: reconcile all%s", why, w->all ? " (already queued)" : "");
	w->all = true;
	settle(w);
}

static void want_target(struct watch *w, const char *target, const char *why)
{
	if (w->all)
		return;
	for (size_t i = 0; i < w->n_pending; i++)
		if (strcmp(w->pending[i], target) == 0)
			return; /* already queued in this burst */
	wlog("%s: reconcile %s", why, target);
	if (add_str(w->pending, &w->n_pending, target) < 0)
		w->all = true;
	settle(w);
}

/* The records, loaded once per round of events. */
static int records(struct watch *w)
{
	int r;

	if (w->recs_loaded)
		return 0;
	r = lj_watch_records(&w->recs, &w->n_recs);
	if (r < 0) {
		wlog("cannot read the attachments in %s: %s", lj_state_dir(), strerror(-r));
		return r;
	}
	w->recs_loaded = true;
	return 0;
}

static void drop_records(struct watch *w)
{
	if (!w->recs_loaded)
		return;
	lj_records_free(w->recs, w->n_recs);
	w->recs = NULL;
	w->n_recs = 0;
	w->recs_loaded = false;
}

/* --- links ------------------------------------------------------------------------------- */

static struct seen_link *seen_find(struct watch *w, int ifindex)
{
	for (size_t i = 0; i < w->n_seen; i++)
		if (w->seen[i].ifindex == ifindex)
			return &w->seen[i];
	return NULL;
}

static int seen_set(struct watch *w, const struct lj_link *l)
{
	struct seen_link *s = seen_find(w, l->ifindex);

	if (!s) {
		if (w->n_seen == w->cap_seen) {
			size_t cap = w->cap_seen ? w->cap_seen * 2 : 64;
			void *p = realloc(w->seen, cap * sizeof(*w->seen));

			if (!p)
				return -ENOMEM;
			w->seen = p;
			w->cap_seen = cap;
		}
		s = &w->seen[w->n_seen++];
		s->had_carrier = false;
	}
	s->ifindex = l->ifindex;
	snprintf(s->name, sizeof(s->name), "%s", l->name);
	s->flags = l->flags;
	s->master = l->master;
	s->had_carrier |= (l->flags & (IFF_UP | IFF_LOWER_UP)) == (IFF_UP | IFF_LOWER_UP);
	return 0;
}

static void seen_del(struct watch *w, int ifindex)
{
	struct seen_link *s = seen_find(w, ifindex);

	if (s)
		*s = w->seen[--w->n_seen];
}

/* The links of this namespace as they are now. */
static int seen_load(struct watch *w)
{
	struct lj_link *links = NULL;
	struct lj_nl *nl = NULL;
	size_t n = 0;
	int r;

	r = lj_nl_open(-1, &nl);
	if (r == 0)
		r = lj_link_list(nl, &links, &n);
	lj_nl_close(nl);
	if (r < 0)
		return r;
	w->n_seen = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = seen_set(w, &links[i]);
	free(links);
	return r;
}

/* Queue the records that rely on link name (not only as their own host end, unless own). */
static void link_users(struct watch *w, const char *name, bool own_too, const char *why)
{
	char buf[160];

	if (records(w) < 0)
		return;
	for (size_t i = 0; i < w->n_recs; i++) {
		const struct lj_record *rec = &w->recs[i];

		if (!lj_record_uses_link(rec, name))
			continue;
		if (!own_too && strcmp(rec->host_ifname, name) == 0)
			continue;
		snprintf(buf, sizeof(buf), "link %s %s", name, why);
		want_target(w, rec->target_spec, buf);
	}
}

/*
 * A link went down. An attachment's own host link is set up again by a reconcile; a parent,
 * uplink or bridge is not lanjoin's to bring up (a person or a cable took it down), and a
 * repair would only tear the attachment down and make it again on a link that is down: the
 * attachments on it wait for it to come up (then they are reconciled and announced).
 */
static void link_down(struct watch *w, const char *name)
{
	size_t waiting = 0;

	if (records(w) < 0)
		return;
	for (size_t i = 0; i < w->n_recs; i++) {
		const struct lj_record *rec = &w->recs[i];

		if (!lj_record_uses_link(rec, name))
			continue;
		if (strcmp(rec->host_ifname, name) == 0) {
			char why[64];

			snprintf(why, sizeof(why), "link %s went down", name);
			want_target(w, rec->target_spec, why);
		} else {
			waiting++;
		}
	}
	if (waiting)
		wlog("link %s went down: %zu attachment%s on it wait%s for it to come up", name,
		     waiting, waiting == 1 ? "" : "s", waiting == 1 ? "s" : "");
}

/*
 * A link's carrier came back: announce the attachments on it, and on its bridge unless it is
 * an attachment's own host end (a container's link is no way out for its bridge's others).
 */
static void carrier_up(struct watch *w, const char *name, int master)
{
	const struct seen_link *m = master ? seen_find(w, master) : NULL;

	add_str(w->announce, &w->n_announce, name);
	for (size_t i = 0; m && records(w) == 0 && i < w->n_recs; i++)
		if (strcmp(w->recs[i].host_ifname, name) == 0)
			m = NULL;
	if (m)
		add_str(w->announce, &w->n_announce, m->name);
	settle(w);
}

static int on_link(const struct lj_link_event *e, void *data)
{
	struct watch *w = data;
	const struct lj_link *l = &e->link;
	struct seen_link *old = seen_find(w, l->ifindex);
	unsigned up = IFF_UP, carrier = IFF_UP | IFF_LOWER_UP;

	if (e->deleted) {
		link_users(w, old ? old->name : l->name, true, "was deleted");
		seen_del(w, l->ifindex);
		return 0;
	}
	if (!old) {
		/* a parent, uplink or bridge (re-)created; an attachment's own end being made
		 * by a reconcile is not news */
		link_users(w, l->name, false, "appeared");
	} else {
		if ((old->flags & up) && !(l->flags & up))
			link_down(w, l->name);
		else if (!(old->flags & up) && (l->flags & up))
			link_users(w, l->name, false, "came up");
		/* only a carrier that was up and comes back: a bridge's or a new link's news
		 * (a port added, a link's first carrier) is no carrier transition */
		if (old->had_carrier && (old->flags & carrier) != carrier &&
		    (l->flags & carrier) == carrier)
			carrier_up(w, l->name, l->master);
	}
	return seen_set(w, l);
}

static void read_links(struct watch *w)
{
	int r = lj_monitor_read_links(w->links, on_link, w);

	if (r == -ENOBUFS) {
		/* lost notifications: what is known about the links is stale */
		if (seen_load(w) < 0)
			wlog("cannot read the links: %s", strerror(-r));
		want_all(w, "link notifications were lost");
	} else if (r < 0) {
		wlog("reading link notifications: %s", strerror(-r));
	}
}

/* --- nftables ---------------------------------------------------------------------------- */

static int on_nft(const struct lj_nft_event *e, void *data)
{
	struct watch *w = data;
	unsigned bits;
	char why[200];

	if (!e->newgen) {
		if (!e->deletion)
			return 0;
		bits = e->ipv4 && strcmp(e->table, "lanjoin") == 0 ? LJ_STEP_NFT_OWN
								   : LJ_STEP_NFT_FOREIGN;
		if (!(w->nft_deleted & bits) && (bits == LJ_STEP_NFT_OWN || !w->nft_deleted))
			snprintf(w->nft_what, sizeof(w->nft_what), "table %s", e->table);
		w->nft_deleted |= bits;
		return 0;
	}
	/* the end of a transaction: whose was it? */
	bits = w->nft_deleted;
	w->nft_deleted = 0;
	if (!bits || e->gen_pid == getpid())
		return 0; /* nothing deleted, or our own reconcile's work */
	if (records(w) < 0)
		return 0;
	snprintf(why, sizeof(why), "nftables: %s lost something (%s%s%d)", w->nft_what,
		 e->gen_proc[0] ? e->gen_proc : "", e->gen_proc[0] ? ", pid " : "pid ",
		 (int)e->gen_pid);
	for (size_t i = 0; i < w->n_recs; i++)
		if (lj_record_nft(&w->recs[i]) & bits)
			want_target(w, w->recs[i].target_spec, why);
	return 0;
}

static void read_nft(struct watch *w)
{
	int r = lj_monitor_read_nft(w->nft, on_nft, w);

	if (r == -ENOBUFS) {
		w->nft_deleted = 0;
		want_all(w, "nftables notifications were lost");
	} else if (r < 0) {
		wlog("reading nftables notifications: %s", strerror(-r));
	}
}

/* --- engines ----------------------------------------------------------------------------- */

static int ev_watch_fd(int fd, bool in, bool out, void *data)
{
	struct watch *w = data;
	struct epoll_event ev = {.events = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0),
				 .data.u64 = TAG(SRC_CURL_SOCK, fd)};

	if (!in && !out) {
		(void)epoll_ctl(w->ep, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	return epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? lj_negerrno() : 0;
}

static int ev_timer(long ms, void *data)
{
	struct watch *w = data;

	arm_ms(w->curl_timer_fd, ms);
	return 0;
}

static void ev_connected(size_t i, void *data)
{
	struct watch *w = data;
	struct engine *e = &w->engines[i];
	char why[LJ_ENGINE_SOCKET_MAX + 64];

	e->backoff_ms = 0;
	arm_ms(e->backoff_fd, -1);
	lj_engine_forget_hung();
	snprintf(why, sizeof(why), "engine at %s %s", e->sock,
		 e->was_connected ? "is back" : "connected");
	/* whatever happened while the stream was not open is caught up on */
	want_all(w, why);
	e->was_connected = true;
}

/* Does a spec's TARGET name the container of e (its name, full ID or an ID prefix)? */
static bool spec_names(const char *t, const struct lj_engine_event *e)
{
	size_t n = strlen(t);

	if (!n || strchr(t, ':') || strchr(t, '/'))
		return false; /* pid:, netns: or a path: no container */
	if (e->name[0] && strcmp(t, e->name) == 0)
		return true;
	return n <= strlen(e->id) && strspn(t, "0123456789abcdef") == n &&
	       strncmp(e->id, t, n) == 0;
}

/*
 * Persistent specs of the container of e: after a reboot or a `docker rm` and `run` of the
 * same name, the container may have no record yet; its spec still asks for it.
 */
static void spec_users(struct watch *w, const struct lj_engine_event *e, const char *why)
{
	json_t *specs = NULL, *it;
	size_t i;
	int r;

	r = cli_spec_list(&specs);
	if (r < 0) {
		wlog("cannot read the specs in %s: %s", cli_spec_dir(), cli_spec_strerror(r));
		return;
	}
	json_array_foreach(specs, i, it)
	{
		const json_t *s = json_object_get(it, "spec");
		const char *t = json_string_value(json_object_get(s, "target"));
		const char *id = json_string_value(json_object_get(s, "container-id"));

		/* the container it follows by ID (renamed since), or one of its name */
		if (t && ((id && strcmp(id, e->id) == 0) || spec_names(t, e)))
			want_target(w, t, why);
	}
	json_decref(specs);
}

static void ev_event(size_t i, const struct lj_engine_event *e, void *data)
{
	struct watch *w = data;
	char why[LJ_ENGINE_NAME_MAX + 96];

	if (records(w) < 0)
		return;
	snprintf(why, sizeof(why), "%s %s %.12s%s%s%s", e->type, e->action, e->id,
		 e->name[0] ? " (" : "", e->name, e->name[0] ? ")" : "");
	for (size_t k = 0; k < w->n_recs; k++)
		if (lj_record_is_container(&w->recs[k], e->id, e->name))
			want_target(w, w->recs[k].target_spec, why);
	spec_users(w, e, why);
}

static void ev_ended(size_t i, int r, const char *why, void *data)
{
	struct watch *w = data;
	struct engine *e = &w->engines[i];
	struct stat st;

	if (stat(e->sock, &st) < 0 && e->inotify_wd >= 0) {
		wlog("%s; waiting for %s to appear", why, e->sock);
		return; /* the inotify watch starts it again */
	}
	if (e->backoff_ms >= BACKOFF_LAST_MS && e->inotify_wd >= 0) {
		wlog("%s; waiting for %s to be created again", why, e->sock);
		return;
	}
	e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : BACKOFF_FIRST_MS;
	wlog("%s; trying again in %u ms", why, e->backoff_ms);
	arm_ms(e->backoff_fd, e->backoff_ms);
}

static const struct lj_engine_events_ops ops = {
	.watch_fd = ev_watch_fd,
	.timer = ev_timer,
	.connected = ev_connected,
	.event = ev_event,
	.ended = ev_ended,
};

static void engine_start(struct watch *w, size_t i)
{
	struct lj_engine_err err = {""};
	int r = lj_engine_events_start(w->events, i, w->engines[i].sock, &err);

	if (r < 0)
		wlog("cannot follow the engine at %s: %s", w->engines[i].sock,
		     err.msg[0] ? err.msg : strerror(-r));
}

/* The inotify watch saw something in a socket's directory: a socket that came back. */
static void read_inotify(struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(w->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ie = (const struct inotify_event *)p;

			for (size_t i = 0; i < w->n_engines && ie->len; i++) {
				struct engine *e = &w->engines[i];
				const char *base = strrchr(e->sock, '/') + 1;

				if (e->inotify_wd != ie->wd || strcmp(ie->name, base) != 0 ||
				    lj_engine_events_connected(w->events, i))
					continue;
				e->backoff_ms = 0;
				arm_ms(e->backoff_fd, -1);
				engine_start(w, i);
			}
			p += sizeof(*ie) + ie->len;
		}
	}
}

/* The engines to follow: the options', else the sockets that exist by the usual rules. */
static int pick_engines(struct watch *w, char **socks, size_t n, bool none)
{
	char buf[LJ_ENGINE_SOCKET_MAX];
	const char *cands[2] = {NULL, NULL};
	struct lj_engine_err err = {""};
	const char *v;
	struct stat st;

	if (none)
		return 0;
	for (size_t i = 0; i < n; i++)
		snprintf(w->engines[w->n_engines++].sock, LJ_ENGINE_SOCKET_MAX, "%s", socks[i]);
	if (n) {
		/* reconciles resolve containers at the first one */
		return lj_engine_set_socket(socks[0]);
	}
	if (lj_engine_socket(buf, sizeof(buf), &err) == 0)
		cands[0] = buf;
	else if (err.msg[0] && !strstr(err.msg, "neither"))
		wlog("%s", err.msg);
	v = getenv("CONTAINER_HOST");
	if (v && *v) {
		static char ph[LJ_ENGINE_SOCKET_MAX];

		if (lj_engine_parse_docker_host(v, ph, sizeof(ph)) == 0)
			cands[1] = ph;
		else
			wlog("CONTAINER_HOST=%s is not a unix:///PATH socket; not followed", v);
	} else {
		cands[1] = LJ_ENGINE_PODMAN_SOCKET;
	}
	for (size_t i = 0; i < 2; i++) {
		if (!cands[i] || (i == 1 && cands[0] && strcmp(cands[0], cands[1]) == 0))
			continue;
		if (stat(cands[i], &st) < 0) {
			if (i == 1 && !getenv("CONTAINER_HOST"))
				continue; /* no Podman here */
			wlog("no engine socket at %s: not followed", cands[i]);
			continue;
		}
		snprintf(w->engines[w->n_engines++].sock, LJ_ENGINE_SOCKET_MAX, "%s", cands[i]);
	}
	return 0;
}

/*
 * At start: undo what no longer has a target (the records and OVS rows a reboot or a killed
 * run left), one log line each, before the reconcile brings back what the specs ask for.
 */
static void start_gc(void)
{
	struct lj_result res;
	const json_t *notes, *v;
	size_t removed = 0, i;
	int r;

	r = lj_gc(&res, &removed);
	if (r < 0) {
		wlog("gc: %s", res.message[0] ? res.message : strerror(-r));
	} else {
		notes = json_object_get(res.json, "notes");
		json_array_foreach(notes, i, v) wlog("gc: %s", json_string_value(v));
	}
	lj_result_done(&res);
}

/* --- the loop ----------------------------------------------------------------------------- */

static int ep_add(struct watch *w, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

	return epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? lj_negerrno() : 0;
}

static void drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) > 0)
		;
}

static void retry_clear(struct watch *w)
{
	for (size_t i = 0; i < w->n_retry; i++)
		free(w->retry[i]);
	w->n_retry = 0;
	w->retry_all = false;
}

/*
 * cli_reconcile of target (NULL: all); an attach that failed for a reason that may pass puts
 * target into the retry set, and one that did not fail takes it out.
 */
static void reconcile(struct watch *w, const char *target)
{
	int r = cli_reconcile(target, false, stderr);

	if (r < 0)
		wlog("reconcile %s: %s", target ? target : "all", strerror(-r));
	if (r == 2) {
		if (!target)
			w->retry_all = true;
		for (size_t i = 0; target && i < w->n_retry; i++)
			if (strcmp(w->retry[i], target) == 0)
				return;
		if (target && add_str(w->retry, &w->n_retry, target) < 0)
			w->retry_all = true;
		return;
	}
	if (!target) {
		retry_clear(w);
		return;
	}
	for (size_t i = 0; i < w->n_retry; i++)
		if (strcmp(w->retry[i], target) == 0) {
			free(w->retry[i]);
			w->retry[i] = w->retry[--w->n_retry];
			break;
		}
}

/* After a round: arm the retry timer for the retry set (backoff), unless armed already. */
static void retry_arm(struct watch *w)
{
	long ms;

	if (!w->retry_all && !w->n_retry) {
		w->retries = 0;
		return;
	}
	if (w->retry_armed)
		return;
	if (w->retries >= RETRY_MAX) {
		wlog("retry: gave up after %u tries; the next event tries again", w->retries);
		retry_clear(w);
		w->retries = 0;
		return;
	}
	ms = w->retries < 5 ? (long)RETRY_FIRST_MS << w->retries : RETRY_LAST_MS;
	w->retries++;
	wlog("retry %s in %ld ms (try %u of %d)",
	     w->retry_all      ? "all"
	     : w->n_retry == 1 ? w->retry[0]
			       : "several",
	     ms, w->retries, RETRY_MAX);
	arm_ms(w->retry_fd, ms);
	w->retry_armed = true;
}

/* The retry timer: reconcile the retry set (through the settle window). */
static void retry_fire(struct watch *w)
{
	w->retry_armed = false;
	if (w->retry_all)
		want_all(w, "retry");
	for (size_t i = 0; i < w->n_retry; i++)
		want_target(w, w->retry[i], "retry");
	retry_clear(w);
}

static int cmp_seen_ns(const void *a, const void *b)
{
	return strcmp(((const struct seen_ns *)a)->spec, ((const struct seen_ns *)b)->spec);
}

/* The entry of spec in v[0..n), sorted by spec, or NULL. */
static const struct seen_ns *find_ns(const struct seen_ns *v, size_t n, const char *spec)
{
	const struct seen_ns key = {.spec = (char *)spec};

	return n ? bsearch(&key, v, n, sizeof(*v), cmp_seen_ns) : NULL;
}

/*
 * One target (recorded: the namespace its record names; NULL for a spec): if it is a
 * netns:NAME or path target, note the namespace its file names now in next (*n entries, the
 * first n_sorted of them sorted: the records' targets, whose answer stands for their specs),
 * and unless seeding, reconcile it when that is not the one seen before (a namespace deleted,
 * or made again under the same name: `ip netns del` and `add`).
 */
static void check_ns(struct watch *w, const char *spec, const struct lj_netns_id *recorded,
		     struct seen_ns *next, size_t *n, size_t n_sorted, bool seed)
{
	struct lj_netns_id now, before = {0, 0};
	const struct seen_ns *was;
	char why[LJ_TARGET_SPEC_MAX + 64];

	if (find_ns(next, n_sorted, spec))
		return; /* a spec of a recorded target */
	if (lj_watch_target_ns(spec, &now) < 0)
		return; /* a container or a process: the engines' events say */
	was = find_ns(w->seen_ns, w->n_seen_ns, spec);
	if (was)
		before = was->id;
	else if (recorded)
		before = *recorded;
	next[*n].spec = strdup(spec);
	if (next[*n].spec) {
		next[*n].id = now;
		(*n)++;
	}
	if (seed || (now.dev == before.dev && now.ino == before.ino))
		return;
	snprintf(why, sizeof(why), "%s: %s", spec,
		 !now.ino     ? "its namespace is gone"
		 : before.ino ? "a new namespace under that name"
			      : "its namespace is there");
	want_target(w, spec, why);
}

/*
 * The mounts changed (a namespace bound to, or unmounted from, its file): reconcile each
 * netns:NAME or path target, of a record (not a runtime's) or a persistent spec, whose file
 * names another namespace than before. seed: only note them (at start, after the first reconcile).
 * O(n log n) in the targets: a mount anywhere on the host brings it here.
 */
static void check_namespaces(struct watch *w, bool seed)
{
	struct seen_ns *next;
	json_t *specs = NULL, *it;
	size_t n = 0, n_sorted, i;
	int r;

	w->ns_check = false;
	if (records(w) < 0)
		return;
	r = cli_spec_list(&specs);
	if (r < 0)
		wlog("cannot read the specs in %s: %s", cli_spec_dir(), cli_spec_strerror(r));
	next = calloc(w->n_recs + json_array_size(specs) + 1, sizeof(*next));
	if (!next) {
		json_decref(specs);
		return;
	}
	for (i = 0; i < w->n_recs; i++) {
		const struct lj_record *rec = &w->recs[i];

		/* CNI's and the Docker driver's: their runtimes make and delete the namespaces */
		if (json_object_get(rec->info, "cni") || json_object_get(rec->info, "docker"))
			continue;
		check_ns(w, rec->target_spec, &rec->netns, next, &n, 0, seed);
	}
	qsort(next, n, sizeof(*next), cmp_seen_ns);
	n_sorted = n;
	json_array_foreach(specs, i, it)
	{
		const char *t =
			json_string_value(json_object_get(json_object_get(it, "spec"), "target"));

		if (t)
			check_ns(w, t, NULL, next, &n, n_sorted, seed);
	}
	json_decref(specs);
	qsort(next, n, sizeof(*next), cmp_seen_ns);
	/* what is no longer a target is forgotten */
	for (i = 0; i < w->n_seen_ns; i++)
		free(w->seen_ns[i].spec);
	free(w->seen_ns);
	w->seen_ns = next;
	w->n_seen_ns = n;
	drop_records(w); /* the reconcile changes them */
}

/* Reconcile what the settle window gathered, then announce. */
static void run_work(struct watch *w)
{
	char why[256];
	bool all;
	int r;

	if (w->ns_check)
		check_namespaces(w, false); /* before settle_armed is cleared: no second round */
	w->settle_armed = false;
	/* An engine that let a request time out is skipped for the rest of a round (one
	 * timeout per round, not one per record), not for the watch's life: a busy engine
	 * (many containers restarting) answers again later. */
	lj_engine_forget_hung();
	lj_arp_reap(); /* the last round's announcements closed their sockets in children */
	all = w->all;
	if (all) {
		reconcile(w, NULL);
	} else {
		for (size_t i = 0; i < w->n_pending; i++)
			reconcile(w, w->pending[i]);
	}
	for (size_t i = 0; i < w->n_pending; i++)
		free(w->pending[i]);
	w->n_pending = 0;
	w->all = false;
	retry_arm(w);

	if (w->n_announce && records(w) == 0) {
		for (size_t i = 0; i < w->n_recs; i++) {
			const struct lj_record *rec = &w->recs[i];
			const char *on = NULL;

			/* applying, settling (its addresses may still be tentative) or detaching:
			 * not an attachment to announce */
			if (strcmp(rec->status, "attached") != 0)
				continue;
			for (size_t k = 0; k < w->n_announce && !on; k++)
				if (lj_record_uses_link(rec, w->announce[k]))
					on = w->announce[k];
			if (!on)
				continue;
			r = lj_record_announce(rec, why, sizeof(why));
			if (r > 0)
				wlog("carrier on %s is back: announced %s %s again (%d address%s)",
				     on, rec->target_spec, rec->ifname, r, r == 1 ? "" : "es");
			else if (r < 0 && r != -ESRCH)
				wlog("carrier on %s is back: announcing %s %s: %s", on,
				     rec->target_spec, rec->ifname, why[0] ? why : strerror(-r));
		}
	}
	for (size_t i = 0; i < w->n_announce; i++)
		free(w->announce[i]);
	w->n_announce = 0;
	drop_records(w);
	if (all)
		wlog("reconcile all: done");
}

static void handle(struct watch *w, const struct epoll_event *ev)
{
	enum src src = (enum src)(ev->data.u64 >> 32);
	uint32_t n = (uint32_t)ev->data.u64;
	struct signalfd_siginfo si;

	switch (src) {
	case SRC_SIGNAL:
		while (read(w->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				want_all(w, "SIGHUP");
				continue;
			}
			wlog("%s: stopping", strsignal((int)si.ssi_signo));
			w->stop = true;
		}
		break;
	case SRC_LINKS:
		read_links(w);
		break;
	case SRC_NFT:
		read_nft(w);
		break;
	case SRC_SETTLE:
		drain(w->settle_fd);
		run_work(w);
		break;
	case SRC_CURL_TIMER:
		drain(w->curl_timer_fd);
		lj_engine_events_timeout(w->events);
		break;
	case SRC_CURL_SOCK:
		lj_engine_events_socket_ready(w->events, (int)n,
					      ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR),
					      ev->events & (EPOLLOUT | EPOLLERR));
		break;
	case SRC_BACKOFF:
		if (n < w->n_engines) {
			drain(w->engines[n].backoff_fd);
			engine_start(w, n);
		}
		break;
	case SRC_INOTIFY:
		read_inotify(w);
		break;
	case SRC_RETRY:
		drain(w->retry_fd);
		retry_fire(w);
		break;
	case SRC_MOUNTS:
		/* nothing to read: epoll's poll of mountinfo took the news (fs/proc_namespace.c) */
		w->ns_check = true;
		settle(w);
		break;
	}
}

static int setup(struct watch *w)
{
	struct epoll_event mounts_ev = {.events = EPOLLPRI, .data.u64 = TAG(SRC_MOUNTS, 0)};
	sigset_t mask;
	int r, ifd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return lj_negerrno();
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	w->settle_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	w->curl_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	w->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (w->ep < 0 || w->sig_fd < 0 || w->settle_fd < 0 || w->curl_timer_fd < 0 ||
	    w->retry_fd < 0)
		return lj_negerrno();
	if ((r = ep_add(w, w->sig_fd, TAG(SRC_SIGNAL, 0))) < 0 ||
	    (r = ep_add(w, w->settle_fd, TAG(SRC_SETTLE, 0))) < 0 ||
	    (r = ep_add(w, w->curl_timer_fd, TAG(SRC_CURL_TIMER, 0))) < 0 ||
	    (r = ep_add(w, w->retry_fd, TAG(SRC_RETRY, 0))) < 0)
		return r;
	r = lj_monitor_open(LJ_MONITOR_LINK, &w->links);
	if (r < 0) {
		wlog("cannot listen to link changes: %s", strerror(-r));
		return r;
	}
	r = lj_monitor_open(LJ_MONITOR_NFT, &w->nft);
	if (r < 0) {
		wlog("cannot listen to nftables changes: %s", strerror(-r));
		return r;
	}
	if ((r = ep_add(w, lj_monitor_fd(w->links), TAG(SRC_LINKS, 0))) < 0 ||
	    (r = ep_add(w, lj_monitor_fd(w->nft), TAG(SRC_NFT, 0))) < 0)
		return r;
	r = seen_load(w);
	if (r < 0) {
		wlog("cannot read the links: %s", strerror(-r));
		return r;
	}
	/* `ip netns add` binds a namespace to its file after creating it: no inotify event
	 * says so, the mount table's does (and `ip netns del`'s unmount) */
	w->mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (w->mounts_fd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->mounts_fd, &mounts_ev) < 0)
		wlog("cannot follow the mounts (%s): a namespace made again under a name "
		     "waits for another event",
		     strerror(errno));
	if (!w->n_engines)
		return 0;
	w->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->inotify_fd < 0 || (r = ep_add(w, w->inotify_fd, TAG(SRC_INOTIFY, 0))) < 0)
		return w->inotify_fd < 0 ? lj_negerrno() : r;
	for (size_t i = 0; i < w->n_engines; i++) {
		struct engine *e = &w->engines[i];
		char dir[LJ_ENGINE_SOCKET_MAX];

		e->backoff_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (e->backoff_fd < 0)
			return lj_negerrno();
		if ((r = ep_add(w, e->backoff_fd, TAG(SRC_BACKOFF, i))) < 0)
			return r;
		snprintf(dir, sizeof(dir), "%s", e->sock);
		*strrchr(dir, '/') = '\0';
		ifd = inotify_add_watch(w->inotify_fd, dir[0] ? dir : "/",
					IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR);
		e->inotify_wd = ifd;
		if (ifd < 0)
			wlog("cannot watch %s for %s (%s): reconnects use timers only", dir,
			     e->sock, strerror(errno));
	}
	return 0;
}

static void teardown(struct watch *w)
{
	lj_engine_events_free(w->events);
	for (size_t i = 0; i < w->n_engines; i++)
		if (w->engines[i].backoff_fd >= 0)
			close(w->engines[i].backoff_fd);
	lj_monitor_close(w->links);
	lj_monitor_close(w->nft);
	for (int *fd = (int[]){w->ep, w->sig_fd, w->settle_fd, w->curl_timer_fd, w->inotify_fd,
			       w->retry_fd, w->mounts_fd, -2};
	     *fd != -2; fd++)
		if (*fd >= 0)
			close(*fd);
	for (size_t i = 0; i < w->n_pending; i++)
		free(w->pending[i]);
	for (size_t i = 0; i < w->n_announce; i++)
		free(w->announce[i]);
	retry_clear(w);
	drop_records(w);
	free(w->seen);
	for (size_t i = 0; i < w->n_seen_ns; i++)
		free(w->seen_ns[i].spec);
	free(w->seen_ns);
}

int lj_cmd_watch(int argc, char **argv)
{
	struct watch w = {.ep = -1,
			  .sig_fd = -1,
			  .settle_fd = -1,
			  .curl_timer_fd = -1,
			  .inotify_fd = -1,
			  .retry_fd = -1,
			  .mounts_fd = -1};
	char *socks[LJ_ENGINE_EVENTS_MAX_STREAMS];
	char lock_path[PATH_MAX];
	_cleanup_close_ int lock_fd = -1;
	size_t n_socks = 0;
	bool no_engines = false;
	struct lj_session *session = NULL;
	int r, code = LJ_EXIT_FAILED;

	for (size_t i = 0; i < LJ_ENGINE_EVENTS_MAX_STREAMS; i++) {
		w.engines[i].backoff_fd = -1;
		w.engines[i].inotify_wd = -1;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return LJ_EXIT_OK;
		} else if (strcmp(argv[i], "--no-engines") == 0) {
			no_engines = true;
		} else if (strcmp(argv[i], "--engine-socket") == 0) {
			if (i + 1 == argc)
				return lj_usage_error(usage,
						      "Option '--engine-socket' needs a value");
			i++;
			if (n_socks == LJ_ENGINE_EVENTS_MAX_STREAMS)
				return lj_usage_error(usage, "At most %d --engine-socket options",
						      LJ_ENGINE_EVENTS_MAX_STREAMS);
			if (argv[i][0] != '/' || strlen(argv[i]) >= LJ_ENGINE_SOCKET_MAX)
				return lj_usage_error(usage,
						      "Invalid --engine-socket '%s': expected an "
						      "absolute path shorter than %d bytes",
						      argv[i], LJ_ENGINE_SOCKET_MAX);
			socks[n_socks++] = argv[i];
		} else if (argv[i][0] == '-') {
			return lj_usage_error(usage, "Unknown option '%s'", argv[i]);
		} else {
			return lj_usage_error(usage, "Unexpected argument '%s'", argv[i]);
		}
	}
	if (no_engines && n_socks)
		return lj_usage_error(usage, "--no-engines and --engine-socket exclude each other");

	r = take_lock(&lock_fd, lock_path, sizeof(lock_path));
	if (r == -EBUSY) {
		char pid[32];

		lj_instance_holder(lock_path, pid, sizeof(pid));
		lj_err("Another lanjoin watch is running%s%s%s (lock %s); only one may run",
		       pid[0] ? " (PID " : "", pid, pid[0] ? ")" : "", lock_path);
		return LJ_EXIT_FAILED;
	}
	if (r < 0) {
		lj_err("Failed to lock %s: %s", lj_state_dir(), lj_state_strerror(r));
		return LJ_EXIT_FAILED;
	}
	r = pick_engines(&w, socks, n_socks, no_engines);
	if (r >= 0)
		r = setup(&w);
	if (r >= 0 && w.n_engines) {
		struct lj_engine_err err = {""};

		r = lj_engine_events_new(&ops, &w, &w.events, &err);
		if (r < 0)
			wlog("cannot follow the engines: %s", err.msg[0] ? err.msg : strerror(-r));
	}
	if (r < 0) {
		lj_err("Failed to start watching: %s", strerror(-r));
		goto out;
	}
	/* what each attach would open again (the host's rtnetlink socket, the state
	 * directory): kept for the reconciles' attaches; without it each opens its own */
	if (lj_session_new(&session) < 0)
		session = NULL;
	cli_reconcile_use_session(session);
	cli_reconcile_end_with_target(true);
	/* after a reboot, this brings back the persistent attachments whose containers run */
	start_gc();
	wlog("start: reconcile all");
	reconcile(&w, NULL);
	drop_records(&w);
	check_namespaces(&w, true);
	retry_arm(&w);
	wlog("ready: watching links, nftables and %zu engine%s", w.n_engines,
	     w.n_engines == 1 ? "" : "s");
	lj_sd_notify("READY=1\nSTATUS=watching");
	for (size_t i = 0; i < w.n_engines; i++)
		engine_start(&w, i);

	while (!w.stop) {
		struct epoll_event evs[32];
		int n = epoll_wait(w.ep, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			lj_err("Failed to wait for events: %s", strerror(errno));
			goto out;
		}
		for (int i = 0; i < n && !w.stop; i++)
			handle(&w, &evs[i]);
		drop_records(&w); /* read again for the next events: attach and detach go on */
	}
	lj_sd_notify("STOPPING=1");
	code = LJ_EXIT_OK;
out:
	teardown(&w);
	cli_reconcile_use_session(NULL);
	cli_reconcile_end_with_target(false);
	lj_session_free(session);
	if (lock_fd >= 0)
		unlink(lock_path); /* still holding the lock: see take_lock */
	return code;
}
