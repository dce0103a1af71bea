/* SPDX-License-Identifier: MIT */
/*
 * Step types of uplink adoption that make the bridge and put the uplink in it (steps/uplink.c).
 * Those that copy and move addresses and routes: steps/uplink-addr.h; the firewall's:
 * steps/uplink-fw.h; the OVS bridge's: steps/ovs.h.
 */
#pragma once

#include <stddef.h>

#include "lib/core/plan.h"

extern const struct lj_step_type
	lj_step_uplink_bridge; /* create BR down: mac, mtu, u32 = gen mode + 1 */
extern const struct lj_step_type lj_step_sysctl_copy; /* link = BR, text = "key=value\n"... */
extern const struct lj_step_type
	lj_step_sysctl_set;			  /* link; text = "key=new/old\n"...; undo: old */
extern const struct lj_step_type lj_step_enslave; /* link = DEV into master = BR */
extern const struct lj_step_type lj_step_probe;	  /* via on link, u32 = timeout ms */
extern const struct lj_step_type lj_step_test_crash; /* tests: kill the process (see uplink.c) */

/* Step flag of probe (lj_step.flags): the address is on the link. */
#define LJ_STEP_F_PROBE_ONLINK (1u << 9)

/* The per-link sysctls copied from the uplink to the bridge ("ipv4.NAME", "ipv6.NAME"). */
const char *const *lj_uplink_sysctls(size_t *ret_n);
