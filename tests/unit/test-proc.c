/* SPDX-License-Identifier: MIT */
/* Process identity (lib/kernel/proc.h) on this process and on children it starts itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/kernel/proc.h"

/* A child that waits to be killed; its PID. */
static pid_t start_child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void test_self(void **state)
{
	uint64_t start = 0, again = 0;
	int fd;

	assert_int_equal(lj_proc_start_time(getpid(), &start), 0);
	assert_true(start > 0);
	assert_int_equal(lj_proc_start_time(getpid(), &again), 0);
	assert_true(start == again);
	assert_true(lj_proc_alive(getpid(), start));
	assert_true(lj_proc_alive(getpid(), 0));
	/* Same PID, another start time: another process, not ours. */
	assert_false(lj_proc_alive(getpid(), start + 1));
	assert_false(lj_proc_alive(0, 0));

	fd = lj_proc_open(getpid(), start);
	if (lj_proc_pidfd_unavailable(fd))
		skip();
	assert_true(fd >= 0);
	assert_true(lj_proc_pidfd_alive(fd));
	assert_int_equal(lj_proc_pidfd_wait(fd, 0), -ETIMEDOUT);
	close(fd);
	assert_int_equal(lj_proc_open(getpid(), start + 1), -ESRCH);
	assert_int_equal(lj_proc_pidfd_open(0), -EINVAL);
}

static void test_child_exits(void **state)
{
	pid_t pid = start_child();
	uint64_t start;
	int fd;

	assert_int_equal(lj_proc_start_time(pid, &start), 0);
	fd = lj_proc_open(pid, start);
	if (lj_proc_pidfd_unavailable(fd)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		skip();
	}
	assert_true(fd >= 0);
	assert_true(lj_proc_alive(pid, start));
	assert_int_equal(lj_proc_pidfd_signal(fd, SIGKILL), 0);
	assert_int_equal(lj_proc_pidfd_wait(fd, 5000), 0);
	/* A zombie is gone for lj_proc_alive, which reaps it (it is our child). */
	assert_false(lj_proc_alive(pid, start));
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_false(lj_proc_pidfd_alive(fd));
	assert_int_equal(lj_proc_pidfd_signal(fd, 0), -ESRCH);
	assert_int_equal(lj_proc_start_time(pid, &start), -ESRCH);
	close(fd);
}

/* The holders of a lock, from /proc/locks: this process, not a waiter, not another file's. */
static void test_lock_holders(void **state)
{
	char path[] = "/tmp/lj-test-lock-XXXXXX", other[] = "/tmp/lj-test-lock-XXXXXX", buf[128],
	     want[32];
	int fd = mkstemp(path), fd2 = mkstemp(other);
	pid_t pids[4];
	int n;

	assert_true(fd >= 0 && fd2 >= 0);
	unlink(path);
	unlink(other);
	assert_int_equal(lj_proc_lock_holders(fd, pids, 4), 0);
	assert_false(lj_proc_holds_lock(fd, getpid()));
	assert_int_equal(lj_proc_describe_holder(fd, getpid(), buf, sizeof(buf)), -ESRCH);
	assert_int_equal(flock(fd2, LOCK_EX), 0);
	assert_int_equal(lj_proc_lock_holders(fd, pids, 4), 0);
	assert_int_equal(flock(fd, LOCK_SH), 0);
	n = lj_proc_lock_holders(fd, pids, 4);
	/* /proc/locks names no process in a PID namespace that cannot see it: nothing to test */
	if (n == 0)
		skip();
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], getpid());
	assert_true(lj_proc_holds_lock(fd, getpid()));
	assert_false(lj_proc_holds_lock(fd, getpid() + 1));
	/* the same program file as this process: a "lanjoin" to it (with no command words) */
	assert_int_equal(lj_proc_describe_holder(fd, getpid(), buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), " (PID %d)", (int)getpid());
	assert_non_null(strstr(buf, want));
	assert_int_equal(strncmp(buf, "lanjoin (PID ", 13), 0);
	assert_int_equal(lj_proc_describe_holder(fd, getpid(), buf, 4), 0);
	assert_int_equal(strlen(buf), 3);
	close(fd);
	close(fd2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_child_exits),
		cmocka_unit_test(test_lock_holders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
