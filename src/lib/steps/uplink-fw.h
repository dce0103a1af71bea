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
 * Does bridged traffic need an accept rule, in IPv4 (need[0]) and in IPv6 (need[1])? True
 * when br_netfilter hands bridged frames of that family to iptables and the filter FORWARD
 * policy is drop; then chain[i] is "DOCKER-USER" if that chain exists, else "FORWARD". False
 * otherwise, and when nf_tables does not answer. Both families are asked on one socket.
 */
void lj_uplink_fw_needs(bool need[2], char chain[2][16]);

/* 1 if chain (of family fam's filter table) holds the accept rule of an adoption of br. */
int lj_uplink_fw_has_rule(uint32_t fam, const char *chain, const char *br);
