/* SPDX-License-Identifier: MIT */
/*
 * Process identity: a process is named by its PID and its start time (clock ticks since boot,
 * field 22 of /proc/PID/stat), never by a PID alone, since PIDs are reused. A pidfd pins a
 * process: a check made after opening one (its start time, its /proc files) is conclusive.
 * Where pidfds cannot be had (Linux < 5.3, a seccomp filter that refuses pidfd_open, valgrind
 * < 3.20), callers fall back to checking the start time right before acting.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Open process pid as a pidfd (close-on-exec). Returns the fd (the caller's) or -errno:
 * -ESRCH if there is no such process; see lj_proc_pidfd_unavailable for the others.
 */
int lj_proc_pidfd_open(pid_t pid);

/*
 * Did lj_proc_pidfd_open fail with r (-errno) because pidfds cannot be had here (-ENOSYS,
 * -EPERM from a seccomp filter), not because of the process?
 */
bool lj_proc_pidfd_unavailable(int r);

/* Send signal sig (0: only look) to pidfd's process. 0 or -errno (-ESRCH: it has exited). */
int lj_proc_pidfd_signal(int pidfd, int sig);

/*
 * Is pidfd's process still there (signal 0)? A zombie not yet reaped still is: this tells that
 * the process the pidfd was opened on has not been reaped (so its PID was not reused), not
 * that it runs.
 */
bool lj_proc_pidfd_alive(int pidfd);

/*
 * Wait up to timeout_ms (0: only look) for pidfd's process to exit. Returns 0 once it has,
 * -ETIMEDOUT, or -errno. Does not reap it.
 */
int lj_proc_pidfd_wait(int pidfd, int timeout_ms);

/* Start time of process pid (clock ticks since boot), or -errno (-ESRCH if none). */
int lj_proc_start_time(pid_t pid, uint64_t *ret);

/*
 * Open the process recorded as (pid, start) as a pidfd, checking its start time after the
 * open, so the fd is that process and no PID reuser. Returns the fd (the caller's), -ESRCH if
 * it is gone or pid is another process now, or -errno (lj_proc_pidfd_unavailable: no pidfds
 * here; use lj_proc_alive right before acting instead).
 */
int lj_proc_open(pid_t pid, uint64_t start);

/*
 * Is process pid alive (not a zombie) and the one that started at start (clock ticks since
 * boot, as lj_proc_start_time; 0: any)? Reaps it if it is a child of ours that exited.
 */
bool lj_proc_alive(pid_t pid, uint64_t start);

/*
 * The processes that hold a lock (flock, POSIX; not OFD locks, which name no process) on the
 * file fd is open on, as /proc/locks lists them (holders, not waiters): up to n PIDs into
 * pids, as this PID namespace sees them (a holder it does not see is left out). Returns how
 * many holders there are (more than n: only n stored) or -errno. A file on a stacking file
 * system (overlayfs) may show another inode there: then none is found.
 */
int lj_proc_lock_holders(int fd, pid_t *pids, size_t n);

/*
 * Does process pid hold a lock on the file fd is open on (lj_proc_lock_holders)?
 */
bool lj_proc_holds_lock(int fd, pid_t pid);

/*
 * Name the process that holds a lock on fd's file as PID pid says, for a message: "lanjoin
 * attach (PID 1234)" — its program's name (argv[0]'s last component) and, for a lanjoin (the
 * same program file as this one, or one named lanjoin), its command's words ("uplink adopt";
 * "(CNI ADD)" for a CNI call) — or its command name ("flock (PID 99)"). Only letters, digits
 * and ".-_" of what it was started with are used. Checked: pid is pinned (pidfd) before the
 * lock is looked up and the process described, so a PID reused meanwhile is not named.
 * Writes a NUL-terminated text into buf (size bytes). -ESRCH when pid holds no such lock (any
 * more), or -errno.
 */
int lj_proc_describe_holder(int fd, pid_t pid, char *buf, size_t size);
