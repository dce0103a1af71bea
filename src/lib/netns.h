/* SPDX-License-Identifier: MIT */
/* Network namespaces as file descriptors: open by path, name or PID; identity; entering. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define LJ_NETNS_RUN_DIR "/run/netns"

/* The identity of a namespace: device and inode of its nsfs file. */
struct lj_netns_id {
	uint64_t dev;
	uint64_t ino;
};

/*
 * Open path as a network namespace (O_RDONLY|O_CLOEXEC) and check that it is one.
 * On success *ret_fd is the caller's. Errors: -ENOENT (no such file), -EINVAL (not a network
 * namespace), other -errno.
 */
int lj_netns_open_path(const char *path, int *ret_fd);

/* Open the named namespace /run/netns/NAME. -EINVAL for a name with '/' or "."/".." */
int lj_netns_open_name(const char *name, int *ret_fd);

/*
 * Open the network namespace of process pid without a PID-reuse race: a pidfd pins the
 * process, the namespace is opened through /proc, and the pidfd is checked to be still alive
 * afterwards. -ESRCH if there is no such process (or it died meanwhile).
 */
int lj_netns_open_pid(pid_t pid, int *ret_fd);

/* Read the identity of an open namespace fd. */
int lj_netns_get_id(int fd, struct lj_netns_id *ret);

/* The identity of the calling thread's own network namespace. */
int lj_netns_self_id(struct lj_netns_id *ret);

/* True if fd is the caller's own network namespace. */
bool lj_netns_is_current(int fd);

/*
 * Move the calling thread into namespace fd for a moment; *ret_orig receives an fd of the
 * namespace to return to with lj_netns_leave: the one this process started in (opened once,
 * kept open; lanjoin is single-threaded and never stays in another namespace, except in a
 * forked child, which gets its own). Errors: -errno of setns/open.
 */
int lj_netns_enter(int fd, int *ret_orig);

/* Return to orig (from lj_netns_enter). Aborts if that is impossible. */
void lj_netns_leave(int orig);
