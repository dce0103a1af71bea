/* SPDX-License-Identifier: MIT */
#include "lib/kernel/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/kernel/proc.h"
#include "shared/array.h"
#include "shared/macro.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int lj_netns_open_path(const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -1;

	struct statfs sfs;

	/*
	 * O_NONBLOCK: a FIFO put where a namespace file was (CNI_NETNS, a recorded /run/netns
	 * path) would otherwise block the open until a writer comes, forever and maybe with the
	 * state lock held. Only an nsfs file is a namespace; anything else is refused before
	 * any ioctl is sent to it (a device node would get it).
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return lj_negerrno();
	if (fstatfs(fd, &sfs) < 0)
		return lj_negerrno();
	if (sfs.f_type != NSFS_MAGIC)
		return -EINVAL;
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return -EINVAL;
	/* The flag does nothing on nsfs; clear it so that the fd is a plain one for its users. */
	if (fcntl(fd, F_SETFL, 0) < 0)
		return lj_negerrno();
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int lj_netns_open_name(const char *name, int *ret_fd)
{
	char path[sizeof(LJ_NETNS_RUN_DIR) + 256];

	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || strlen(name) > 255)
		return -EINVAL;
	snprintf(path, sizeof(path), LJ_NETNS_RUN_DIR "/%s", name);
	return lj_netns_open_path(path, ret_fd);
}

int lj_netns_open_pid(pid_t pid, int *ret_fd)
{
	_cleanup_close_ int pidfd = -1, fd = -1;
	char path[64];
	int r;

	if (pid <= 0)
		return -EINVAL;
	pidfd = lj_proc_pidfd_open(pid);
	if (pidfd < 0)
		return pidfd;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	r = lj_netns_open_path(path, &fd);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	/* The pidfd still refers to the process we opened: if it is alive, no PID reuse. */
	if (!lj_proc_pidfd_alive(pidfd))
		return -ESRCH;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int lj_netns_get_id(int fd, struct lj_netns_id *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return lj_negerrno();
	ret->dev = (uint64_t)st.st_dev;
	ret->ino = (uint64_t)st.st_ino;
	return 0;
}

/*
 * The namespace this process started in, opened once: lanjoin enters other namespaces only
 * for a moment (lj_netns_enter/leave), so it is where every leave returns to. Reopened in a
 * forked child (another PID), which may have moved for good.
 */
static int home_fd = -1;
static pid_t home_pid;

static int home_netns(void)
{
	pid_t pid = getpid();

	if (home_fd >= 0 && home_pid == pid)
		return home_fd;
	if (home_fd >= 0)
		close(home_fd);
	home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home_fd < 0)
		return lj_negerrno();
	home_pid = pid;
	return home_fd;
}

int lj_netns_enter(int fd, int *ret_orig)
{
	int home = home_netns();

	if (home < 0)
		return home;
	if (setns(fd, CLONE_NEWNET) < 0)
		return lj_negerrno();
	*ret_orig = home;
	return 0;
}

void lj_netns_leave(int orig)
{
	if (setns(orig, CLONE_NEWNET) < 0) {
		perror("lanjoin: cannot return to the original network namespace");
		abort();
	}
	if (orig != home_fd)
		close(orig);
}

bool lj_netns_is_current(int fd)
{
	int home = home_netns();
	struct stat a, b;

	if (home < 0 || fstat(fd, &a) < 0 || fstat(home, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int lj_netns_self_id(struct lj_netns_id *ret)
{
	int home = home_netns();
	struct stat st;

	/* Outside lj_netns_enter/leave, the thread is in its home namespace. */
	if (home < 0)
		return home;
	if (fstat(home, &st) < 0)
		return lj_negerrno();
	ret->dev = (uint64_t)st.st_dev;
	ret->ino = (uint64_t)st.st_ino;
	return 0;
}

int lj_netns_socket_cookie(int sock, uint64_t *ret)
{
	uint64_t c = 0;
	socklen_t len = sizeof(c);

	if (getsockopt(sock, SOL_SOCKET, SO_NETNS_COOKIE, &c, &len) < 0)
		return lj_negerrno();
	if (len != sizeof(c) || c == 0)
		return -ENOPROTOOPT;
	*ret = c;
	return 0;
}

int lj_netns_cookie(int fd, uint64_t *ret)
{
	_cleanup_close_ int sock = -1;
	int orig, r;

	r = lj_netns_enter(fd, &orig);
	if (r < 0)
		return r;
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = sock < 0 ? lj_negerrno() : 0;
	lj_netns_leave(orig);
	if (r < 0)
		return r;
	return lj_netns_socket_cookie(sock, ret);
}

/* Of the home namespace (see home_netns()): asked for several times per command. */
static uint64_t self_cookie;
static pid_t self_cookie_pid;

int lj_netns_self_cookie(uint64_t *ret)
{
	_cleanup_close_ int sock = -1;
	int r;

	if (self_cookie && self_cookie_pid == getpid()) {
		*ret = self_cookie;
		return 0;
	}
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return lj_negerrno();
	r = lj_netns_socket_cookie(sock, &self_cookie);
	if (r < 0)
		return r;
	self_cookie_pid = getpid();
	*ret = self_cookie;
	return 0;
}

void lj_netns_self_cookie_from(int sock)
{
	uint64_t c;

	if ((!self_cookie || self_cookie_pid != getpid()) &&
	    lj_netns_socket_cookie(sock, &c) == 0) {
		self_cookie = c;
		self_cookie_pid = getpid();
	}
}

struct netns_place {
	uint64_t dev, ino;
	char *path;
};

struct lj_netns_index {
	struct netns_place *places;
	size_t n, cap;
};

static int index_add(struct lj_netns_index *idx, const char *path)
{
	struct netns_place p;
	struct stat st;

	if (stat(path, &st) < 0)
		return 0; /* gone meanwhile, or not ours to see: not a place */
	p.dev = (uint64_t)st.st_dev;
	p.ino = (uint64_t)st.st_ino;
	p.path = strdup(path);
	if (!p.path || lj_array_append(&idx->places, &idx->n, &idx->cap, sizeof(p), &p) < 0) {
		free(p.path);
		return -ENOMEM;
	}
	return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
}

/* Every nsfs mount point (a namespace bound to a file anywhere). */
static int index_mounts(struct lj_netns_index *idx)
{
	_cleanup_free_ char *line = NULL;
	size_t size = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int r = 0;

	if (!f)
		return 0;
	while (r == 0 && getline(&line, &size, f) > 0) {
		char *sep = strstr(line, " - "), *save = NULL, *mp = NULL, *tok;
		int i = 0;

		if (!sep || strncmp(sep, " - nsfs ", 8) != 0)
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			if (i++ == 4) {
				mp = tok;
				break;
			}
		if (!mp)
			continue;
		unescape(mp);
		r = index_add(idx, mp);
	}
	fclose(f);
	return r;
}

static int index_dir(struct lj_netns_index *idx, const char *dir, bool procs)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return 0;
	while (r == 0 && (de = readdir(d))) {
		char path[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		if (procs && (de->d_name[0] < '1' || de->d_name[0] > '9'))
			continue;
		snprintf(path, sizeof(path), procs ? "%s/%s/ns/net" : "%s/%s", dir, de->d_name);
		r = index_add(idx, path);
	}
	closedir(d);
	return r;
}

int lj_netns_index_new(struct lj_netns_index **ret)
{
	struct lj_netns_index *idx = calloc(1, sizeof(*idx));
	int r;

	if (!idx)
		return -ENOMEM;
	r = index_dir(idx, LJ_NETNS_RUN_DIR, false);
	if (r == 0)
		r = index_mounts(idx);
	if (r == 0)
		r = index_dir(idx, "/proc", true);
	if (r < 0) {
		lj_netns_index_free(idx);
		return r;
	}
	*ret = idx;
	return 0;
}

void lj_netns_index_free(struct lj_netns_index *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->n; i++)
		free(idx->places[i].path);
	free(idx->places);
	free(idx);
}

int lj_netns_find(struct lj_netns_index *idx, const struct lj_netns_id *id, uint64_t cookie,
		  int *ret_fd, char *ret_path, size_t path_size)
{
	struct lj_netns_index *own = NULL;
	int r;

	if (!id || !id->ino)
		return -EINVAL;
	if (!idx) {
		r = lj_netns_index_new(&own);
		if (r < 0)
			return r;
		idx = own;
	}
	r = -ENOENT;
	for (size_t i = 0; i < idx->n; i++) {
		const struct netns_place *p = &idx->places[i];
		struct lj_netns_id now;
		uint64_t c;
		int fd;

		if (p->dev != id->dev || p->ino != id->ino)
			continue;
		if (lj_netns_open_path(p->path, &fd) < 0)
			continue;
		if (lj_netns_get_id(fd, &now) < 0 || now.dev != id->dev || now.ino != id->ino) {
			close(fd);
			continue;
		}
		/* Live namespaces have distinct inode numbers: another cookie means ours is gone.
		 */
		if (cookie && (lj_netns_cookie(fd, &c) < 0 || c != cookie)) {
			close(fd);
			break;
		}
		*ret_fd = fd;
		if (ret_path && path_size)
			snprintf(ret_path, path_size, "%s", p->path);
		r = 0;
		break;
	}
	lj_netns_index_free(own);
	return r;
}

int lj_netns_index_foreach(struct lj_netns_index *idx,
			   int (*cb)(int fd, const char *path, void *data), void *data)
{
	for (size_t i = 0; i < idx->n; i++) {
		const struct netns_place *p = &idx->places[i];
		bool seen = false;
		int fd, r;

		for (size_t k = 0; k < i && !seen; k++)
			seen = idx->places[k].dev == p->dev && idx->places[k].ino == p->ino;
		if (seen || lj_netns_open_path(p->path, &fd) < 0)
			continue;
		r = lj_netns_is_current(fd) ? 0 : cb(fd, p->path, data);
		close(fd);
		if (r)
			return r;
	}
	return 0;
}

bool lj_netns_exists(struct lj_netns_index *idx, const struct lj_netns_id *id, uint64_t cookie)
{
	int fd, r;

	if (!id->ino)
		return true; /* not recorded: nothing can be said */
	r = lj_netns_find(idx, id, cookie, &fd, NULL, 0);
	if (r == 0)
		close(fd);
	return r != -ENOENT;
}
