/* SPDX-License-Identifier: MIT */
/*
 * Firewall coexistence for bridged traffic (steps/uplink-fw.c): the bridged-accept step type
 * and the queries its builders (uplink adoption, attach bridge) decide with.
 */
#pragma once

#include <stdint.h>

#include "lib/core/plan.h"

extern const struct lj_step_type
	lj_step_bridged_accept; /* link = BR, u32 = NFPROTO_*, text = chain,
				 * peer = the port it is for ("" = BR's) */

/*
 * Does bridged traffic need an accept rule in family fam (NFPROTO_IPV4/IPV6)? 1 when
 * br_netfilter hands bridged frames to iptables and the filter FORWARD policy is drop; then
 * chain is "DOCKER-USER" if that chain exists, else "FORWARD". 0 otherwise.
 */
int lj_uplink_fw_needed(uint32_t fam, char chain[16]);

/* 1 if chain (of family fam's filter table) holds the accept rule of an adoption of br. */
int lj_uplink_fw_has_rule(uint32_t fam, const char *chain, const char *br);
