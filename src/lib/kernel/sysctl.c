/* SPDX-License-Identifier: MIT */
#include "lib/kernel/sysctl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "lib/kernel/netns.h"
#include "shared/macro.h"

/*
 * /proc/sys/KEY into path. KEY's parts between '/' are names: not empty, not "." or "..", of
 * printable characters. A part may be an interface name, which the kernel lets hold any of
 * them ("e$(id)", "a=b", "em1.5"): not only letters and digits.
 */
static int key_path(const char *key, char *path, size_t size)
{
	if (!key || !*key || strlen(key) > 200)
		return -EINVAL;
	for (const char *p = key; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			if (!isgraph((unsigned char)p[i]))
				return -EINVAL;
		p += n;
		if (*p == '/' && !*++p)
			return -EINVAL; /* a trailing '/' */
	}
	snprintf(path, size, "/proc/sys/%s", key);
	return 0;
}

/*
 * A procfs of this process's own, made on first use and attached nowhere (fsopen, fsmount),
 * or -1 when none can be made (no CAP_SYS_ADMIN over the mount namespace, a seccomp filter,
 * Linux before 5.2): /proc then. Why: Linux keeps one dentry per network namespace under the
 * one /proc/sys/net of a procfs (a namespace's own "ipv6", "conf" ...), all of the same name
 * in one hash chain, and compares each under a global lock; so the first lookup of
 * net/ipv6/... in a namespace walks the entry of every namespace that was ever looked at
 * through that procfs, twice (2-7 ms on a host with 5000 namespaces: the cost of an attach
 * grew with the namespaces on the host). Through a procfs of its own, a lookup meets only this
 * process's own entries. Its cost: making it (~30 us) and, when the process exits, its
 * unmount (~0.1 ms). Reopened in a forked child (another PID), which may have closed it.
 * A long-running process (lanjoin watch, the Docker plugin) would meet in it every namespace it
 * ever attached (its first lookup in the thousandth namespace walked a thousand entries): it is
 * made anew after OWN_PROC_USES opens, so that a lookup meets at most that many entries.
 */
#define OWN_PROC_USES 16

static int own_proc = -2;
static pid_t own_proc_pid;
static unsigned own_proc_uses;

static int proc_fd(void)
{
	_cleanup_close_ int fs = -1;

	if (own_proc != -2 && own_proc_pid == getpid()) {
		if (own_proc < 0 || ++own_proc_uses <= OWN_PROC_USES)
			return own_proc;
		close(own_proc); /* the entries of the namespaces it saw go with it */
	}
	own_proc = -1;
	own_proc_pid = getpid();
	own_proc_uses = 1;
	fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs >= 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		own_proc = fsmount(fs, FSMOUNT_CLOEXEC,
				   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (own_proc < 0)
		own_proc = -1;
	return own_proc;
}

/* Open /proc/sys/KEY (path, from key_path) with flags: through this process's own procfs. */
static int open_key(const char *path, int flags)
{
	int proc = proc_fd();

	if (proc >= 0)
		return openat(proc, path + strlen("/proc/"), flags | O_CLOEXEC);
	return open(path, flags | O_CLOEXEC);
}

int lj_sysctl_read(const char *key, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	char path[256];
	ssize_t n;
	int r;

	if (size < 2)
		return -EINVAL;
	r = key_path(key, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open_key(path, O_RDONLY);
	if (fd < 0)
		return lj_negerrno();
	n = read(fd, buf, size - 1);
	if (n < 0)
		return lj_negerrno();
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int lj_sysctl_write(const char *key, const char *value)
{
	_cleanup_close_ int fd = -1;
	char path[256];
	size_t len = strlen(value);
	int r;

	r = key_path(key, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open_key(path, O_WRONLY);
	if (fd < 0)
		return lj_negerrno();
	if (write(fd, value, len) != (ssize_t)len)
		return lj_negerrno();
	return 0;
}

int lj_sysctl_read_in(int netns_fd, const char *key, char *buf, size_t size)
{
	int orig = -1, r;

	if (netns_fd < 0)
		return lj_sysctl_read(key, buf, size);
	r = lj_netns_enter(netns_fd, &orig);
	if (r < 0)
		return r;
	r = lj_sysctl_read(key, buf, size);
	lj_netns_leave(orig);
	return r;
}

int lj_sysctl_write_in(int netns_fd, const char *key, const char *value)
{
	int orig = -1, r;

	if (netns_fd < 0)
		return lj_sysctl_write(key, value);
	r = lj_netns_enter(netns_fd, &orig);
	if (r < 0)
		return r;
	r = lj_sysctl_write(key, value);
	lj_netns_leave(orig);
	return r;
}

/* Write val and a newline to fd and sync it. 0 or -errno. */
static int owner_text(int fd, const char *val)
{
	size_t len = strlen(val);

	errno = 0; /* a short write sets none */
	if (write(fd, val, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		return errno ? lj_negerrno() : -EIO;
	return 0;
}

int lj_sysctl_owner_write(const char *path, const char *val)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32], proc[64];
	const char *slash = strrchr(path, '/');
	_cleanup_close_ int fd = -1;
	int r;

	if (!slash || slash == path || (size_t)(slash - path) >= sizeof(dir))
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	/* The file appears whole or not at all (a process killed while writing it must not
	 * leave an empty one, which would read as malformed for good): written unnamed, then
	 * linked in, which fails (EEXIST) where the file exists. */
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0) {
		r = owner_text(fd, val);
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (r == 0 && linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0)
			r = lj_negerrno();
		return r;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return lj_negerrno();
	/* no O_TMPFILE on this file system: a named temporary file, linked in the same way */
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return lj_negerrno();
	r = owner_text(fd, val);
	if (r == 0 && link(tmp, path) < 0)
		r = lj_negerrno();
	unlink(tmp);
	return r;
}

int lj_sysctl_owner_read(const char *path, char *val, size_t size, bool drop_empty)
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (size == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return lj_negerrno();
	n = read(fd, val, size - 1);
	if (n < 0)
		return lj_negerrno();
	if (n == 0) {
		/* written whole since (lj_sysctl_owner_write): only an older lanjoin's is empty */
		if (drop_empty && unlink(path) < 0 && errno != ENOENT)
			return lj_negerrno();
		return -ENOENT;
	}
	val[n] = '\0';
	while (n > 0 && val[n - 1] == '\n')
		val[--n] = '\0';
	return 0;
}
