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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "lib/core/interrupt.h"
#include "lib/core/state-internal.h"
#include "lib/core/state.h"
#include "lib/kernel/proc.h"
#include "shared/macro.h"

static lj_state_lock_notice_fn notice_fn;
static bool interruptible; /* lj_state_lock_interruptible_once: the next wait only */

void lj_state_lock_interruptible_once(void)
{
	interruptible = true;
}

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

/*
 * An interruptible wait's flock, in a thread of its own (with SA_RESTART handlers, a flock
 * is restarted after a signal: it cannot be interrupted where it blocks). Shared by the waiter
 * and the thread; the last to let go frees it. fd is the thread's own duplicate of the lock
 * file's descriptor (one open file: the lock it takes is the waiter's), closed by the last.
 */
struct locker {
	int fd, op;
	int done_fd; /* eventfd, written once flock returned */
	int err;     /* flock's: 0 or -errno */
	atomic_int refs;
};

static void locker_put(struct locker *l)
{
	if (atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	close(l->fd);
	close(l->done_fd);
	free(l);
}

static void *locker_thread(void *data)
{
	struct locker *l = data;

	while (flock(l->fd, l->op) < 0)
		if (errno != EINTR) {
			l->err = lj_negerrno();
			break;
		}
	/* the waiter gave up (interrupted): the lock goes with the last descriptor, below */
	if (eventfd_write(l->done_fd, 1) < 0) {
		/* cannot happen (a counter far from its limit) */
	}
	locker_put(l);
	return NULL;
}

/*
 * lj_state_lock_wait while the lock is busy, stopped by lj_interrupt_raise: -EINTR at once,
 * nothing taken (the thread's flock, if it gets the lock later, lets it go with its
 * descriptor). 1 if it cannot be had here (no thread): the caller waits the plain way.
 */
static int wait_interruptible(int fd, int op)
{
	struct locker *l = calloc(1, sizeof(*l));
	struct pollfd p[2] = {{.fd = -1, .events = POLLIN},
			      {.fd = lj_interrupt_fd(), .events = POLLIN}};
	int timeout = notice_fn ? LJ_STATE_LOCK_NOTICE_MS : -1, r;
	sigset_t all, old;
	pthread_t t;

	if (!l)
		return 1;
	l->op = op;
	l->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	l->done_fd = eventfd(0, EFD_CLOEXEC);
	atomic_init(&l->refs, 2);
	if (l->fd < 0 || l->done_fd < 0)
		goto no_thread;
	/* the thread takes no signal: they stay the waiter's, and interrupt its poll */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t, NULL, locker_thread, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		goto no_thread;
	p[0].fd = l->done_fd;
	for (;;) {
		if (lj_interrupted()) {
			pthread_detach(t);
			locker_put(l);
			return -EINTR;
		}
		r = poll(p, 2, timeout);
		if (r < 0 && errno != EINTR) {
			r = 0; /* cannot poll: wait for the flock itself */
			break;
		}
		if (r == 0 && notice_fn) {
			char lock[PATH_MAX], holders[512];

			snprintf(lock, sizeof(lock), "%s/lock", lj_state_dir());
			lj_state_lock_holders(fd, holders, sizeof(holders));
			notice_fn(lock, holders);
			timeout = -1;
		}
		if (r > 0 && (p[0].revents & POLLIN))
			break;
	}
	pthread_join(t, NULL);
	r = l->err;
	locker_put(l);
	return r;
no_thread:
	if (l->fd >= 0)
		close(l->fd);
	if (l->done_fd >= 0)
		close(l->done_fd);
	free(l);
	return 1;
}

int lj_state_lock_wait(int fd, int op)
{
	struct waiter w = {.lock_fd = fd, .done_fd = -1, .fn = notice_fn};
	bool stoppable = interruptible;
	sigset_t all, old;
	pthread_t t;
	bool started = false;
	int r = 0;

	interruptible = false;
	if (flock(fd, op | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK && errno != EINTR)
		return lj_negerrno();
	if (stoppable && lj_interrupt_fd() >= 0) {
		r = wait_interruptible(fd, op);
		if (r <= 0)
			return r;
		r = 0;
	}
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
