/* SPDX-License-Identifier: MIT */
#include "lib/kernel/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/macro.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int lj_proc_pidfd_open(pid_t pid)
{
	int fd;

	if (pid <= 0)
		return -EINVAL;
	/* pidfds are close-on-exec whatever the flags. */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? lj_negerrno() : fd;
}

bool lj_proc_pidfd_unavailable(int r)
{
	return r == -ENOSYS || r == -EPERM;
}

int lj_proc_pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? lj_negerrno() : 0;
}

bool lj_proc_pidfd_alive(int pidfd)
{
	return lj_proc_pidfd_signal(pidfd, 0) == 0;
}

int lj_proc_pidfd_wait(int pidfd, int timeout_ms)
{
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	int r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : lj_negerrno();
}

/*
 * /proc/PID/stat of pid into buf (size bytes); *ret_fields points into it at the fields after
 * comm (the state first). 0, -ESRCH if there is no such process, -EBADMSG, or -errno.
 */
static int read_stat(pid_t pid, char *buf, size_t size, const char **ret_fields)
{
	char path[64], *p;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : lj_negerrno();
	n = read(fd, buf, size - 1);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* comm may contain anything, even ") ": the fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EBADMSG;
	*ret_fields = p + 2;
	return 0;
}

int lj_proc_start_time(pid_t pid, uint64_t *ret)
{
	char buf[1024];
	const char *p;
	unsigned long long v;
	int r;

	r = read_stat(pid, buf, sizeof(buf), &p);
	if (r < 0)
		return r;
	/* After ") ": state(3) ... starttime is field 22, i.e. the 20th after the state. */
	for (int i = 0; i < 19; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -EBADMSG;
		p++;
	}
	if (sscanf(p, "%llu", &v) != 1)
		return -EBADMSG;
	*ret = v;
	return 0;
}

int lj_proc_open(pid_t pid, uint64_t start)
{
	_cleanup_close_ int pidfd = -1;
	uint64_t now;
	int r;

	pidfd = lj_proc_pidfd_open(pid);
	if (pidfd < 0)
		return pidfd;
	/* The pidfd pins the process: checked after opening it, the start time is conclusive. */
	r = lj_proc_start_time(pid, &now);
	if (r < 0)
		return r;
	if (now != start)
		return -ESRCH;
	return TAKE_FD(pidfd);
}

bool lj_proc_alive(pid_t pid, uint64_t start)
{
	char buf[1024];
	const char *state;
	uint64_t now;

	if (pid <= 0)
		return false;
	if (waitpid(pid, NULL, WNOHANG) == pid)
		return false;
	if (lj_proc_start_time(pid, &now) < 0 || (start && now != start))
		return false;
	return read_stat(pid, buf, sizeof(buf), &state) == 0 && *state != 'Z' && *state != 'X';
}
