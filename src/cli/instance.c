/* SPDX-License-Identifier: MIT */
/*
 * One instance of a long-running front end: a lock file (flock) holding the holder's PID.
 * `lanjoin watch` takes <state dir>/watch.lock; `lanjoin docker-plugin` takes one beside its
 * socket and one in its state directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/kernel/proc.h"
#include "shared/macro.h"

int lj_instance_lock(const char *path, int *ret_fd)
{
	for (int tries = 0; tries < 8; tries++) {
		_cleanup_close_ int fd = -1;
		struct stat a, b;
		char pid[32];

		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return lj_negerrno();
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			return errno == EWOULDBLOCK ? -EBUSY : lj_negerrno();
		/* the holder before us may have removed the file on its way out */
		if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev)
			continue;
		snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
			return lj_negerrno();
		*ret_fd = TAKE_FD(fd);
		return 0;
	}
	return -EBUSY;
}

void lj_instance_holder(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t k = -1;
	pid_t pid;

	if (size == 0)
		return;
	if (fd >= 0)
		k = read(fd, buf, size - 1);
	buf[k > 0 ? k : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	/* A PID, and one that holds the lock now (not a stale file's, nor a reused number):
	 * else whoever /proc/locks says holds it, or nothing. */
	if (buf[strspn(buf, "0123456789")] != '\0')
		buf[0] = '\0';
	if (fd < 0)
		return;
	if (buf[0] && lj_proc_holds_lock(fd, (pid_t)atoi(buf)))
		return;
	buf[0] = '\0';
	if (lj_proc_lock_holders(fd, &pid, 1) > 0)
		snprintf(buf, size, "%d", (int)pid);
}

void lj_instance_unlock(const char *path, int fd)
{
	if (fd < 0)
		return;
	unlink(path); /* still holding the lock: see lj_instance_lock */
	close(fd);
}
