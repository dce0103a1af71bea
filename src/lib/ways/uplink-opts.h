/* SPDX-License-Identifier: MIT */
/* What `lanjoin uplink adopt` is asked to do (shared by uplink.c and uplink-facts.c). */
#pragma once

#include <net/if.h>
#include <stdbool.h>

#include "lib/kernel/addr.h"

#define LJ_UPLINK_TIMEOUT_DEFAULT_MS 5000u
#define LJ_UPLINK_TIMEOUT_MAX_S 600u

struct lj_uplink_opts {
	char bridge[IFNAMSIZ]; /* BR, created */
	char dev[IFNAMSIZ];    /* DEV, the uplink */
	bool ovs;	       /* an Open vSwitch bridge instead of a Linux bridge */
	const char *ovsdb;     /* "unix:PATH" or NULL (ovs only) */
	struct lj_ip probe;    /* AF_UNSPEC = the default gateway */
	bool no_probe;	       /* skip the probe (no gateway to ask) */
	unsigned timeout_ms;   /* probe deadline, 0 = default */
	bool dry_run;
	bool for_attach; /* attach --uplink (or a plugin), not `lanjoin uplink adopt` */
};
