/* SPDX-License-Identifier: MIT */
#include "lib/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/macro.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int lj_netns_open_path(const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lj_negerrno();
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return -EINVAL;
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
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return lj_negerrno();
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	r = lj_netns_open_path(path, &fd);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	/* The pidfd still refers to the process we opened: if it is alive, no PID reuse. */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
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
