/* SPDX-License-Identifier: MIT */
/* Container engines (Docker Engine API, Podman's compatible API): name → PID and netns. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/*
 * Resolve a container name, ID or unique ID prefix through the engine's API and open its
 * network namespace race-free. On success writes the full ID (id_size bytes), the PID and
 * an owned fd. Errors: -EPROTONOSUPPORT (no engine support built in / no engine socket),
 * -ENOENT (no such container), -ESRCH (not running), other -errno.
 */
int lj_engine_open_container(const char *name, char *ret_id, size_t id_size, pid_t *ret_pid,
			     int *ret_fd);
