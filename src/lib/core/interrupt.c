/* SPDX-License-Identifier: MIT */
#include "lib/core/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "shared/macro.h"

static volatile sig_atomic_t caught;
static int pipe_fds[2] = {-1, -1};

int lj_interrupt_setup(void)
{
	if (pipe_fds[0] >= 0)
		return 0;
	if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		pipe_fds[0] = pipe_fds[1] = -1;
		return lj_negerrno();
	}
	return 0;
}

void lj_interrupt_raise(int signo)
{
	int saved = errno;

	if (!caught)
		caught = signo > 0 ? signo : SIGINT;
	/* Never blocks (O_NONBLOCK): a full pipe already wakes every poll. */
	if (pipe_fds[1] >= 0 && write(pipe_fds[1], "!", 1) < 0) {
		/* nothing to do: the flag is set */
	}
	errno = saved;
}

int lj_interrupted(void)
{
	char buf[64];

	/* A byte without the flag came from a forked child's copy of the handler (between fork
	 * and exec): drain it, or a poll on the pipe would spin. */
	if (!caught && pipe_fds[0] >= 0)
		while (read(pipe_fds[0], buf, sizeof(buf)) > 0)
			;
	return caught;
}

int lj_interrupt_fd(void)
{
	return pipe_fds[0];
}

const char *lj_interrupt_name(int signo)
{
	switch (signo) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "a signal";
	}
}
