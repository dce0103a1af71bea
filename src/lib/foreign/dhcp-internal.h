/* SPDX-License-Identifier: MIT */
/*
 * What the DHCP control (dhcp.c), the supervisor (dhcp-supervisor.c) and the hook
 * (dhcp-hook.c) share; not for other files.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* The clients' only environment PATH (they are started with a fixed environment). */
#define LJ_DHCP_CLIENT_ENV_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

/* The fd the supervisor gets the target's network namespace in. */
#define LJ_DHCP_SUPERVISOR_NETNS_FD 3

/*
 * The supervisor's "PID START" from BASE.supervisor (written by the supervisor itself before
 * its exec). 0, -ENOENT if there is none, -EBADMSG, or -errno. base is not checked.
 */
int lj_dhcp_read_supervisor_file(const char *base, pid_t *ret_pid, uint64_t *ret_start);
