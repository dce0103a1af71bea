/* SPDX-License-Identifier: MIT */
/*
 * Step types of the nat way beyond rtnetlink (see plan.h for the step fields):
 *
 *   garp          link = uplink, cidr = IPv4 address: one gratuitous ARP (no undo)
 *   ip-forward    turn net.ipv4.ip_forward on if it is off; the undo of the last NAT or routed
 *                 (IPv4 proxy entry) attachment restores the value lanjoin found (kept in the
 *                 state directory)
 *   nft-nat       link = chain base "lj<record id>", cidr = LAN address, via = DNAT target,
 *                 master = the host-side interface the attachment's traffic arrives on (SNAT
 *                 only for that; "" in old records: by source address alone),
 *                 text = published ports ("tcp/80:8080 udp/53") or NULL for every port:
 *                 chains <base>_dnat and <base>_snat in table ip lanjoin and an element in
 *                 each of its maps inbound/outbound pointing to them (the table, maps and base
 *                 chains — DNAT at priority -110, before dstnat; SNAT at 90, before srcnat —
 *                 are made with the first attachment). Undo deletes those chains and
 *                 elements, and the table with the last attachment.
 *   nft-fw-accept master = chain of iptables-nft's table ip filter (DOCKER-USER or FORWARD),
 *                 or of ip6 filter for an IPv6 via (ip6tables-nft; the routed way),
 *                 link = host-side link ("" = any), via = the container's address,
 *                 text = "lanjoin:<record id>" (the rule comment): two accept rules at the
 *                 top of the chain; undo deletes the rules carrying that comment.
 */
#pragma once

#include "lib/core/plan.h"

extern const struct lj_step_type lj_step_garp;
extern const struct lj_step_type lj_step_ip_forward;

/*
 * The number of attachments with rules in lanjoin's nat table (one "lj…_snat" chain each):
 * from an nf_tables dump of the chains, or the table's listing when the kernel does not
 * answer it. Returns the count or -errno (err, errsize bytes, gets nft's message).
 */
int lj_nat_users(char *err, size_t errsize);

/*
 * The number of attachments with rules in lanjoin's nat table other than those of p's nft-nat
 * steps (p NULL: all), from an nf_tables dump of the chains. Returns it or -errno.
 */
int lj_nat_users_besides(const struct lj_plan *p);
extern const struct lj_step_type lj_step_nat_rules;
extern const struct lj_step_type lj_step_fw_accept;

/*
 * The nft commands an nft-nat step applies (malloc'd into *ret), with the table's maps and
 * base chains first when skeleton is true. -EBADMSG for a bad step.
 */
int lj_nat_rules_text(const struct lj_step *s, bool skeleton, char **ret);

/*
 * Send what lj_nat_rules_text says as one nf_tables transaction (libnftnl, no nft text); with
 * check, only let the kernel validate it (nft -c). err gets what failed. Returns 0, -EBADMSG
 * for a bad step, or lj_nft_tx_commit's -errno.
 */
int lj_nat_rules_commit(const struct lj_step *s, bool skeleton, bool check, char *err,
			size_t errsize);

/*
 * Whether table ip lanjoin exists, and whether it has its maps and base chains. Errors as
 * lj_nft_list; err (errsize bytes) gets nft's message.
 */
int lj_nat_table_read(bool *ret_exists, bool *ret_skeleton, char *err, size_t errsize);

/* Whether s can be put in an nft rule as an interface name (iifname "s"). */
bool lj_nat_iif_valid(const char *s);

/*
 * Whether what nft-nat step s made is in place: table ip lanjoin with its maps and base
 * chains (each with its rule), the attachment's two chains with their rules (counted), and
 * its element in each map. Returns 1 (in place), 0 (not: why, whysize bytes, says what is
 * missing), -EBADMSG for a bad step, or an error of lj_nft_list (why gets nft's message).
 */
int lj_nat_rules_verify(const struct lj_step *s, char *why, size_t whysize);

/*
 * An nft-fw-accept step of the nat way: in, accept only connections lanjoin's DNAT let in
 * (conntrack state DNAT) and replies to the container's own (RELATED,ESTABLISHED), not every
 * packet to its private address.
 */
#define LJ_STEP_F_FW_NAT (1u << 12)

/*
 * The commands an nft-fw-accept step applies, one a line (malloc'd into *ret): nft's input
 * lines, and for LJ_STEP_F_FW_NAT iptables(8) command lines (a conntrack match nft cannot
 * make as iptables-nft does). -EBADMSG for a bad step.
 */
int lj_fw_accept_text(const struct lj_step *s, char **ret);

/* The same as one nf_tables transaction, as lj_nat_rules_commit. */
int lj_fw_accept_commit(const struct lj_step *s, bool check, char *err, size_t errsize);
