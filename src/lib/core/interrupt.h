/* SPDX-License-Identifier: MIT */
/*
 * Interrupting an attach: the front end catches SIGINT/SIGTERM/SIGHUP and calls
 * lj_interrupt_raise from its handler; the library's waits (DHCP lease, DAD, SLAAC) and the
 * plan runner notice it and fail with -EINTR, so that the attach rolls back like a failed
 * step instead of dying midway. The library installs no handler itself.
 */
#pragma once

#include <stdbool.h>

/*
 * Create the self-pipe the waits poll (idempotent). Call before installing the handlers.
 * Returns 0 or -errno.
 */
int lj_interrupt_setup(void);

/* Record signal signo (the first one wins) and wake the waits. Async-signal-safe. */
void lj_interrupt_raise(int signo);

/* The signal recorded by lj_interrupt_raise, or 0. Call it whenever the fd polls readable. */
int lj_interrupted(void);

/* The fd to add to a poll set (POLLIN once interrupted), or -1 before lj_interrupt_setup. */
int lj_interrupt_fd(void);

/* "SIGINT", "SIGTERM", "SIGHUP" or "a signal", for messages. */
const char *lj_interrupt_name(int signo);
