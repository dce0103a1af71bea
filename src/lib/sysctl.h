/* SPDX-License-Identifier: MIT */
/*
 * Sysctls of a network namespace. /proc/sys/net belongs to the namespace of the process that
 * opens the file, so the file is opened from inside the namespace and read/written after.
 */
#pragma once

#include <stddef.h>

/*
 * Read the sysctl key ("net/ipv6/conf/eth1/accept_ra", relative to /proc/sys) of namespace
 * netns_fd (borrowed; -1 = the caller's) into buf (size bytes, NUL-terminated, trailing
 * newline removed). -EINVAL for a key with "..", an empty component or odd characters;
 * -ENOENT if there is no such sysctl; other -errno.
 */
int lj_sysctl_read(int netns_fd, const char *key, char *buf, size_t size);

/* Write value to sysctl key of netns_fd. Errors as lj_sysctl_read. */
int lj_sysctl_write(int netns_fd, const char *key, const char *value);

/* True if key is an acceptable sysctl path (see lj_sysctl_read). */
int lj_sysctl_key_valid(const char *key);
