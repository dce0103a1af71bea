/* SPDX-License-Identifier: MIT */
/*
 * Waiting for the state lock, and telling the front end whom it waits for: an attach onto a
 * bridge port that STP holds back keeps the lock for the forward delay (up to a minute), and a
 * command that waits in silence looks hung.
 */
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/core/state-internal.h"
#include "lib/core/state.h"
#include "lib/kernel/proc.h"
#include "shared/macro.h"

static lj_state_lock_notice_fn notice_fn;

void lj_state_set_lock_notice(lj_state_lock_notice_fn fn)
{
	notice_fn = fn;
}

void lj_state_lock_holders(int fd, char *buf, size_t size)
{
	pid_t pids[8];
	int n = lj_proc_lock_holders(fd, pids, ARRAY_SIZE(pids)), named = 0;
	size_t at = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < n && i < (int)ARRAY_SIZE(pids) && named < 3; i++) {
		char one[128];

		if (lj_proc_describe_holder(fd, pids[i], one, sizeof(one)) < 0)
			continue;
		at += (size_t)snprintf(buf + at, at < size ? size - at : 0, "%s%s",
				       named ? ", " : "", one);
		named++;
	}
	if (named && n > named && at < size)
		snprintf(buf + at, size - at, " and %d more", n - named);
}

struct waiter {
	int lock_fd, done_fd;
	lj_state_lock_notice_fn fn;
};

/* The waiting's companion: after LJ_STATE_LOCK_NOTICE_MS without word from the waiter (its
 * done_fd), say whom it waits for, once. */
static void *notice_thread(void *data)
{
	struct waiter *w = data;
	struct pollfd p = {.fd = w->done_fd, .events = POLLIN};
	char lock[PATH_MAX], holders[512];
	int r;

	do
		r = poll(&p, 1, LJ_STATE_LOCK_NOTICE_MS);
	while (r < 0 && errno == EINTR);
	if (r != 0)
		return NULL; /* the lock was taken (or poll failed: stay silent) */
	snprintf(lock, sizeof(lock), "%s/lock", lj_state_dir());
	lj_state_lock_holders(w->lock_fd, holders, sizeof(holders));
	w->fn(lock, holders);
	return NULL;
}

int lj_state_lock_wait(int fd, int op)
{
	struct waiter w = {.lock_fd = fd, .done_fd = -1, .fn = notice_fn};
	sigset_t all, old;
	pthread_t t;
	bool started = false;
	int r = 0;

	if (flock(fd, op | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK && errno != EINTR)
		return lj_negerrno();
	/* Held by another: wait, and have a thread speak up if it lasts (none without a hook,
	 * and the wait goes on silently if the thread cannot be had). It takes no signal: they
	 * stay the waiter's. */
	if (w.fn && (w.done_fd = eventfd(0, EFD_CLOEXEC)) >= 0) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		started = pthread_create(&t, NULL, notice_thread, &w) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	while (flock(fd, op) < 0)
		if (errno != EINTR) {
			r = lj_negerrno();
			break;
		}
	if (started) {
		if (eventfd_write(w.done_fd, 1) < 0) {
			/* cannot happen (a counter far from its limit); the thread then speaks up
			 * late, once */
		}
		pthread_join(t, NULL);
	}
	if (w.done_fd >= 0)
		close(w.done_fd);
	return r;
}
