/* SPDX-License-Identifier: MIT */
/*
 * sysctls under /proc/sys. Those under net/ belong to the network namespace of the process
 * that opens the file: lanjoin's own namespace. They are opened through a procfs of the
 * process's own (see sysctl.c: the first lookup in a namespace through the shared /proc walks
 * every namespace's entries), else through /proc.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Read the sysctl key ("net/ipv4/ip_forward", '/'-separated, relative to /proc/sys) into buf
 * (size bytes), without the trailing newline. Errors: -EINVAL for a malformed key, -ENOENT,
 * -errno of open/read.
 */
int lj_sysctl_read(const char *key, char *buf, size_t size);

/* Write value (no newline needed) to the sysctl key. Errors as lj_sysctl_read; -EPERM. */
int lj_sysctl_write(const char *key, const char *value);

/*
 * The same inside the network namespace netns_fd (borrowed; -1 = the caller's): the file is
 * opened from inside it, since /proc/sys/net is the opening process's namespace's.
 */
int lj_sysctl_read_in(int netns_fd, const char *key, char *buf, size_t size);
int lj_sysctl_write_in(int netns_fd, const char *key, const char *value);

/*
 * Record the value a sysctl had before lanjoin changed it: create the file path (0600, not
 * there before: -EEXIST otherwise) holding val and a newline, synced. The file appears whole
 * (written unnamed, or under a temporary name, then linked in): a process killed meanwhile
 * leaves none, or a temporary one; on failure nothing is left. Returns 0 or -errno.
 */
int lj_sysctl_owner_write(const char *path, const char *val);

/*
 * Read the value an owner file (lj_sysctl_owner_write) keeps into val (size bytes, without
 * the trailing newline). An empty one, which an older lanjoin killed between creating it and
 * writing it left, owns nothing (it was written before the sysctl was changed): -ENOENT, as
 * for no file, and removed first when drop_empty (under the state lock; never in a dry run).
 * Returns 0, -ENOENT, or -errno of open/read/unlink.
 */
int lj_sysctl_owner_read(const char *path, char *val, size_t size, bool drop_empty);
