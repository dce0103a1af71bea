/* SPDX-License-Identifier: MIT */
/*
 * Step types of the nat way beyond rtnetlink (see plan.h for the step fields):
 *
 *   garp          link = uplink, cidr = IPv4 address: one gratuitous ARP (no undo)
 *   ip-forward    turn net.ipv4.ip_forward on if it is off; the undo of the last NAT
 *                 attachment restores the value lanjoin found (kept in the state directory)
 *   nft-nat       link = chain base "lj<record id>", cidr = LAN address, via = DNAT target,
 *                 text = published ports ("tcp/80:8080 udp/53") or NULL for every port:
 *                 three base chains <base>_pre/_out/_post in table ip lanjoin (DNAT at
 *                 priority -110, before dstnat; SNAT at 90, before srcnat). Undo deletes
 *                 those chains, and the table with the last of them.
 *   nft-fw-accept master = chain of iptables-nft's table ip filter (DOCKER-USER or FORWARD),
 *                 link = host-side link ("" = any), via = the container's address,
 *                 text = "lanjoin:<record id>" (the rule comment): two accept rules at the
 *                 top of the chain; undo deletes the rules carrying that comment.
 */
#pragma once

#include "lib/plan.h"

extern const struct lj_step_type lj_step_garp;
extern const struct lj_step_type lj_step_ip_forward;
extern const struct lj_step_type lj_step_nat_rules;
extern const struct lj_step_type lj_step_fw_accept;

/* The nft commands an nft-nat step applies (malloc'd into *ret). -EBADMSG for a bad step. */
int lj_nat_rules_text(const struct lj_step *s, char **ret);

/* The nft commands an nft-fw-accept step applies (malloc'd into *ret). -EBADMSG for a bad step. */
int lj_fw_accept_text(const struct lj_step *s, char **ret);
