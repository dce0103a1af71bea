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
 * Open path as a network namespace (O_RDONLY|O_CLOEXEC) and check that it is one: opened
 * without blocking (a FIFO in its place does not hang the caller), then it must be an nsfs
 * file (fstatfs, NSFS_MAGIC) of a network namespace. On success *ret_fd is the caller's.
 * Errors: -ENOENT (no such file), -EINVAL (not a network namespace, e.g. a FIFO or a regular
 * file), other -errno.
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

/*
 * The cookie of namespace fd (SO_NETNS_COOKIE of a socket made in it): a 64-bit number the
 * kernel never gives to another namespace until reboot, unlike the nsfs inode number, which a
 * new namespace gets again as soon as the old one is freed. Errors: -errno (-ENOPROTOOPT on
 * kernels before 5.14).
 */
int lj_netns_cookie(int fd, uint64_t *ret);

/* The cookie of the namespace this process started in (as lj_netns_cookie; remembered). */
int lj_netns_self_cookie(uint64_t *ret);

/*
 * The cookie of the namespace socket sock (borrowed) was made in (SO_NETNS_COOKIE): what
 * lj_netns_cookie reads, for a caller that has a socket there already. Errors: -errno
 * (-ENOPROTOOPT before Linux 5.14).
 */
int lj_netns_socket_cookie(int sock, uint64_t *ret);

/*
 * Remember the cookie of sock (borrowed), a socket made in this process's namespace, as
 * lj_netns_self_cookie's answer, so that it needs no socket of its own. Nothing if one is
 * remembered already or the kernel has no cookies.
 */
void lj_netns_self_cookie_from(int sock);

/*
 * Where network namespaces can be found by identity: the files of /run/netns, every nsfs
 * mount point (/proc/self/mountinfo: Docker's and others' bind mounts), and /proc/PID/ns/net
 * of every process; the places are read once (lj_netns_index_new) and looked up many times
 * (gc). A namespace held only by an open file descriptor or by a thread other than a process's
 * main thread is not found.
 */
struct lj_netns_index;

/* Read the places (see above). *ret is the caller's (lj_netns_index_free). -errno. */
int lj_netns_index_new(struct lj_netns_index **ret);

void lj_netns_index_free(struct lj_netns_index *idx);

/*
 * Open the namespace whose identity is id, looking in idx (NULL: read the places now), like
 * `ip netns identify` in reverse. Every candidate is opened and checked again (a place may
 * have changed since it was read), and when cookie is not 0, its cookie must be cookie too
 * (an inode number alone may be a newer namespace's). *ret_fd is the caller's; the place it
 * was found at is copied to ret_path (path_size bytes, may be NULL). -ENOENT when no such
 * namespace exists (any more), other -errno.
 */
int lj_netns_find(struct lj_netns_index *idx, const struct lj_netns_id *id, uint64_t cookie,
		  int *ret_fd, char *ret_path, size_t path_size);

/*
 * Visit every namespace of idx once (by identity), except the caller's own: cb gets an fd of
 * it (closed after cb returns) and the place it was found at; a cb result other than 0 stops
 * the walk and is returned. Places that cannot be opened any more are skipped.
 */
int lj_netns_index_foreach(struct lj_netns_index *idx,
			   int (*cb)(int fd, const char *path, void *data), void *data);

/*
 * Does the network namespace with identity id (and cookie, 0 if unknown) still exist
 * anywhere (lj_netns_find in idx, NULL: look now)? False only when it is surely gone.
 */
bool lj_netns_exists(struct lj_netns_index *idx, const struct lj_netns_id *id, uint64_t cookie);
