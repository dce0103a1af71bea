/* SPDX-License-Identifier: MIT */
/*
 * TARGET → {kind, PID, netns fd, display name, identity}. A target is resolved once; every
 * later step uses the namespace fd, never the PID or name again.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/kernel/netns.h"

enum lj_target_kind {
	LJ_TARGET_PID,	     /* "pid:N" */
	LJ_TARGET_NETNS,     /* "netns:NAME" → /run/netns/NAME */
	LJ_TARGET_PATH,	     /* anything with a '/': a netns file */
	LJ_TARGET_CONTAINER, /* anything else: a Docker/Podman container name or ID */
};

#define LJ_TARGET_SPEC_MAX 256

struct lj_target {
	enum lj_target_kind kind;
	char spec[LJ_TARGET_SPEC_MAX]; /* as given on the command line */
	char name[LJ_TARGET_SPEC_MAX]; /* netns name, path, container name, or the PID */
	pid_t pid;		       /* 0 when not known */
	char container_id[65];	       /* "" unless a container */
	int netns_fd;		       /* owned; -1 until opened */
	struct lj_netns_id id;	       /* identity of the namespace once opened */
	uint64_t cookie;	       /* its cookie (lj_netns_cookie), 0 if unknown */
	char key[48];		       /* "ns:<dev>:<ino>": stable while the namespace lives */
	char error[512];	       /* why lj_target_open failed, when it can say more than
					  an errno (container engines); "" otherwise */
};

/* Parse spec (syntax only, nothing opened). -EINVAL for an empty/overlong/malformed spec. */
int lj_target_parse(const char *spec, struct lj_target *ret);

/*
 * Open the namespace of a parsed target and fill pid/id/cookie/key (and container fields: the
 * full ID, and the engine's name in t->name). Errors: -ENOENT/-ESRCH (it does not exist /
 * is not running; a container that exists but is stopped still gets container_id and its
 * engine's name in t->name),
 * -EINVAL (not a network namespace), for containers the errors of engine.h with t->error
 * set, other -errno. On failure t->netns_fd stays -1.
 */
int lj_target_open(struct lj_target *t);

/*
 * lj_target_open without the cookie (t->cookie 0): for a caller that opens a netlink socket
 * in the namespace anyway and reads it from there (lj_ctx_open does), which spares entering
 * the namespace for a socket of its own. Errors as lj_target_open.
 */
int lj_target_open_ns(struct lj_target *t);

/*
 * Reopen the target of a recorded attachment (gc): a container by its full container_id, not
 * by the name or prefix it was given as (which may now mean another container); when its
 * engine cannot be reached, by the recorded pid instead (kind becomes LJ_TARGET_PID; the
 * caller compares the namespace identity). Other targets by spec. Errors as lj_target_open.
 */
int lj_target_reopen(const char *spec, const char *container_id, pid_t pid, struct lj_target *ret);

/*
 * Copy the open target t into *ret with its own namespace fd (a duplicate, close-on-exec), so
 * that a front end which resolved a target once can hand it on (lj_attach_opts.resolved).
 * Errors: -EBADF when t is not open, -errno of fcntl (then ret->netns_fd is -1 and
 * ret->error "").
 */
int lj_target_dup(const struct lj_target *t, struct lj_target *ret);

/* Close the namespace fd (idempotent). */
void lj_target_close(struct lj_target *t);

/*
 * The host-side link name ("<prefix>" + 12 hex digits, prefix at most 3 characters) for the
 * attachment of the open target t as ifname. Derived from the namespace cookie, which the
 * kernel never gives to another namespace until reboot (the inode number of t->key it gives
 * out again at once: a dead namespace's name would be a live one's); from t->key only on a
 * kernel without cookies. Names already recorded stay what they are (records store them).
 */
void lj_target_host_ifname(const struct lj_target *t, const char *prefix, const char *ifname,
			   char ret[IFNAMSIZ]);

/*
 * True if the namespace the target spec names now is the one with identity id and, when
 * cookie is not 0 (and the kernel has cookies), that cookie (i.e. the attachment recorded for
 * it is still alive: the kernel gives a freed inode number out again at once). False when it
 * is gone or was replaced.
 */
bool lj_target_alive(const char *spec, const struct lj_netns_id *id, uint64_t cookie);

/*
 * The shell prefix that runs `ip` inside the target, for --dry-run output:
 * "ip -n NAME", "nsenter -t PID -n ip" or "nsenter --net=PATH ip", names shell-quoted
 * (shared/shquote.h); t NULL: as lj_target_exec_prefix. Returns buf.
 */
const char *lj_target_ip_prefix(const struct lj_target *t, char *buf, size_t size);

/*
 * The shell prefix that runs any command inside the target, for --dry-run output:
 * "ip netns exec NAME", "nsenter -t PID -n" or "nsenter --net=PATH", names shell-quoted;
 * t NULL (the target is gone): a comment's start, so that a pasted plan skips the commands
 * that would run there (a detach undoes nothing in a namespace that is gone). Returns buf.
 */
const char *lj_target_exec_prefix(const struct lj_target *t, char *buf, size_t size);

/* Human-readable description of a target kind ("netns", "pid", "path", "container"). */
const char *lj_target_kind_str(enum lj_target_kind k);
