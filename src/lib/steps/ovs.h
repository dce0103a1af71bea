/* SPDX-License-Identifier: MIT */
/*
 * Step types that change Open vSwitch (steps/ovs.c): the ovs way's bridge and port, TX
 * checksum offload off on its veth for the userspace datapath, and uplink adoption's OVS
 * bridge and uplink port. They reach OVS only through the client API of lib/foreign/ovs.h.
 */
#pragma once

#include "lib/core/plan.h"

/* lj_step.u32 of an ovs-bridge step: the datapath_type of a bridge it creates. */
enum {
	LJ_OVS_DP_DEFAULT = 0, /* "system" (the kernel module) */
	LJ_OVS_DP_NETDEV = 1,  /* "netdev" (userspace) */
};

/* lj_step.flags of an ovs-port step: a stale row of lanjoin's with that name is replaced. */
#define LJ_STEP_F_OVS_REPLACE (1u << 16)
/* lj_step.flags of an ovs-uplink-bridge step: the userspace (netdev) datapath. */
#define LJ_STEP_F_OVS_NETDEV (1u << 10)

/* The ovs way (ways/ovs.c). text = the database, "unix:/PATH" ("" or NULL = the default). */
extern const struct lj_step_type
	lj_step_ovs_bridge; /* link=BR, u32=LJ_OVS_DP_*: ensure; undo: del if ours and empty */
extern const struct lj_step_type lj_step_ovs_port;    /* link=port, master=BR, u32=VLAN, text=db */
extern const struct lj_step_type lj_step_tx_csum_off; /* link=host end, peer=target end */

/* Uplink adoption into an OVS bridge (ways/uplink.c). */
extern const struct lj_step_type
	lj_step_ovs_uplink_bridge; /* link=BR, text=db, mac, mtu, peer=DEV, u32=gen mode + 1 */
extern const struct lj_step_type lj_step_ovs_enslave; /* link=DEV a port of master=BR, text=db */
