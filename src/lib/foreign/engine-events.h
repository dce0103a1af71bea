/* SPDX-License-Identifier: MIT */
/*
 * Container engine event streams: the Engine API's GET /events (Docker, and Podman's
 * compatible API), filtered to container start/die/destroy/rename and network
 * connect/disconnect,
 * read as they come over the engine's unix socket with libcurl's multi interface. The front
 * end owns the event loop: it watches the sockets and the one timer that libcurl asks for
 * (through the ops) and calls back here when they fire. Nothing polls: libcurl asks for no
 * timer while a stream is open and idle.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/foreign/engine.h"

#define LJ_ENGINE_EVENTS_MAX_STREAMS 4

/* One event, as far as lanjoin cares. */
struct lj_engine_event {
	char type[16];			      /* "container" or "network" */
	char action[32];		      /* "start", "die", "destroy", "connect", ... */
	char id[LJ_ENGINE_ID_LEN + 1];	      /* the container's full ID ("" if not said) */
	char name[LJ_ENGINE_NAME_MAX];	      /* container events: its name ("" if not said) */
	char network[LJ_ENGINE_NET_NAME_MAX]; /* network events: the network's name, or "" */
};

/*
 * Parse one line of the stream (size bytes, untrusted: every field used is checked). Returns
 * 1 and fills *ret for an event about a container, 0 for a well-formed event of no interest,
 * -EPROTO for anything else.
 */
int lj_engine_event_parse(const char *line, size_t size, struct lj_engine_event *ret);

/* What the front end's event loop does for the streams (data is lj_engine_events_new's). */
struct lj_engine_events_ops {
	/* Watch fd for reading (in) and/or writing (out); both false: stop watching it. 0 or
	 * -errno. */
	int (*watch_fd)(int fd, bool in, bool out, void *data);
	/* Arm the one timer to fire in ms milliseconds (0: at once), or disarm it (-1). */
	int (*timer)(long ms, void *data);
	/* Stream stream answered 200: events from now on arrive. */
	void (*connected)(size_t stream, void *data);
	/* An event of stream. */
	void (*event)(size_t stream, const struct lj_engine_event *e, void *data);
	/* Stream stream ended (the engine went away, refused, answered an error): r is -errno
	 * (-ECONNREFUSED, -ENOENT for a socket that is not there, -EPROTO, -ECONNRESET when an
	 * open stream was closed), why one sentence. It may be started again. */
	void (*ended)(size_t stream, int r, const char *why, void *data);
};

struct lj_engine_events;

/*
 * A set of up to LJ_ENGINE_EVENTS_MAX_STREAMS streams, none started. ops and data are
 * borrowed for its life. Errors: -EPROTONOSUPPORT (libcurl cannot be loaded; err says why),
 * -ENOMEM.
 */
int lj_engine_events_new(const struct lj_engine_events_ops *ops, void *data,
			 struct lj_engine_events **ret, struct lj_engine_err *err);

/* Start (or restart) stream number stream (< LJ_ENGINE_EVENTS_MAX_STREAMS) on socket sock. */
int lj_engine_events_start(struct lj_engine_events *ev, size_t stream, const char *sock,
			   struct lj_engine_err *err);

/* Is stream open and answered with 200? */
bool lj_engine_events_connected(const struct lj_engine_events *ev, size_t stream);

/* fd (one the ops were asked to watch) is readable (in) and/or writable (out). */
int lj_engine_events_socket_ready(struct lj_engine_events *ev, int fd, bool in, bool out);

/* The timer armed through the ops fired. */
int lj_engine_events_timeout(struct lj_engine_events *ev);

/* Stop every stream and free. NULL is fine. */
void lj_engine_events_free(struct lj_engine_events *ev);
