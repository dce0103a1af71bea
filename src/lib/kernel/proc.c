/* SPDX-License-Identifier: MIT */
#include "lib/kernel/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

int lj_proc_lock_holders(int fd, pid_t *pids, size_t n)
{
	struct stat st;
	FILE *f;
	char line[256];
	int found = 0;

	if (fstat(fd, &st) < 0)
		return lj_negerrno();
	f = fopen("/proc/locks", "re");
	if (!f)
		return lj_negerrno();
	/* "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF"; a waiter's has "->" after "1:" */
	while (fgets(line, sizeof(line), f)) {
		char type[16], mode[16], access[16], arrow[4];
		unsigned int maj, min;
		unsigned long ino;
		int pid;

		if (sscanf(line, "%*d: %3s", arrow) == 1 && strcmp(arrow, "->") == 0)
			continue;
		if (sscanf(line, "%*d: %15s %15s %15s %d %x:%x:%lu", type, mode, access, &pid, &maj,
			   &min, &ino) != 7)
			continue;
		if (pid <= 0 || maj != major(st.st_dev) || min != minor(st.st_dev) ||
		    ino != (unsigned long)st.st_ino)
			continue;
		if ((size_t)found < n)
			pids[found] = pid;
		found++;
	}
	fclose(f);
	return found;
}

bool lj_proc_holds_lock(int fd, pid_t pid)
{
	pid_t pids[64];
	int k = lj_proc_lock_holders(fd, pids, ARRAY_SIZE(pids));

	for (int i = 0; i < k && i < (int)ARRAY_SIZE(pids); i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Read /proc/PID/name into buf (size bytes, NUL-terminated, and NUL after the last byte
 * read). The number of bytes read, or -errno. */
static ssize_t read_proc_file(pid_t pid, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	char path[64];
	ssize_t k;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lj_negerrno();
	k = read(fd, buf, size - 1);
	if (k < 0)
		return lj_negerrno();
	buf[k] = '\0';
	return k;
}

/* Append word's letters, digits and ".-_" (at most 32) to buf (size bytes), after a space
 * unless buf is empty. */
static void put_word(char *buf, size_t size, const char *word)
{
	size_t at = strlen(buf), n = 0;

	if (at && at + 1 < size)
		buf[at++] = ' ';
	for (; *word && n < 32 && at + 1 < size; word++)
		if ((*word >= 'a' && *word <= 'z') || (*word >= 'A' && *word <= 'Z') ||
		    (*word >= '0' && *word <= '9') || strchr(".-_", *word)) {
			buf[at++] = *word;
			n++;
		}
	buf[at] = '\0';
}

/* A command word of lanjoin's argv: lowercase letters and '-', not an option. */
static bool command_word(const char *s)
{
	if (!*s || *s == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '-'))
			return false;
	return true;
}

/* Is process pid a lanjoin: the same program file as this process, or argv[0] or comm
 * "lanjoin"? */
static bool is_lanjoin(pid_t pid, const char *argv0, const char *comm)
{
	char path[64];
	struct stat a, b;
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	if (strcmp(base, "lanjoin") == 0 || strcmp(comm, "lanjoin") == 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* The CNI command (ADD, DEL, ...) in process pid's environment, into buf (size bytes), or
 * false. */
static bool cni_command(pid_t pid, char *buf, size_t size)
{
	char env[8192];
	ssize_t k = read_proc_file(pid, "environ", env, sizeof(env));

	for (ssize_t at = 0; k > 0 && at < k; at += (ssize_t)strlen(env + at) + 1)
		if (strncmp(env + at, "CNI_COMMAND=", 12) == 0 && env[at + 12]) {
			buf[0] = '\0';
			put_word(buf, size, env + at + 12);
			return buf[0] != '\0';
		}
	return false;
}

int lj_proc_describe_holder(int fd, pid_t pid, char *buf, size_t size)
{
	_cleanup_close_ int pidfd = -1;
	char args[4096], comm[32], name[96] = "", cni[16];
	const char *argv[3] = {"", "", ""};
	ssize_t k;
	int r;

	if (size == 0)
		return -EINVAL;
	buf[0] = '\0';
	/* The pidfd pins pid: the process found holding the lock below is the one described. */
	r = lj_proc_pidfd_open(pid);
	if (r < 0 && !lj_proc_pidfd_unavailable(r))
		return r;
	pidfd = r;
	if (!lj_proc_holds_lock(fd, pid))
		return -ESRCH;
	k = read_proc_file(pid, "cmdline", args, sizeof(args));
	if (k < 0)
		return (int)k;
	for (ssize_t at = 0, i = 0; at < k && i < 3; at += (ssize_t)strlen(args + at) + 1, i++)
		argv[i] = args + at;
	if (read_proc_file(pid, "comm", comm, sizeof(comm)) < 0)
		comm[0] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	if (is_lanjoin(pid, argv[0], comm)) {
		put_word(name, sizeof(name), "lanjoin");
		if (command_word(argv[1])) {
			put_word(name, sizeof(name), argv[1]);
			if ((strcmp(argv[1], "attach") == 0 || strcmp(argv[1], "uplink") == 0 ||
			     strcmp(argv[1], "shim") == 0) &&
			    command_word(argv[2]))
				put_word(name, sizeof(name), argv[2]);
		} else if (!argv[1][0] && cni_command(pid, cni, sizeof(cni))) {
			snprintf(name + strlen(name), sizeof(name) - strlen(name), " (CNI %s)",
				 cni);
		}
	} else {
		put_word(name, sizeof(name), comm);
	}
	/* Without a pidfd, the PID may have been reused while it was read: look again. */
	if (pidfd < 0 && !lj_proc_holds_lock(fd, pid))
		return -ESRCH;
	snprintf(buf, size, "%s (PID %d)", name[0] ? name : "a process", (int)pid);
	return 0;
}
