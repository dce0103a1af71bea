/* SPDX-License-Identifier: MIT */
/*
 * What the macvlan way and the host shim commands share: modes, parent checks, the shim's
 * name, identity and address checks, the parent's other users. The kernel never passes
 * frames between a macvlan parent and its children, so the host cannot reach its own macvlan
 * containers through the parent. A host shim is a host-side macvlan (mode bridge) on the
 * same parent holding an address of its own (as a /32 or /128, so the host's routes stay as
 * they are) plus a host route to each container address through it. There is one shim per
 * parent, named from the parent, shared by every container on it.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>

#include "lib/core/attach.h"
#include "lib/kernel/link.h"
#include "lib/steps/macvlan.h"

/*
 * Look up parent in nl's namespace and check that a macvlan can sit on it: it exists, is
 * not a bridge (Linux or OVS) and not a port of one, a bond or a team (the kernel refuses
 * macvlan on a port; a bridge wants the bridge way), and is an Ethernet-like link. Fills *ret.
 * Returns 0, or -errno with res->message set (res->bad_input for all of the above).
 */
int lj_macvlan_check_parent(struct lj_nl *nl, const char *parent, struct lj_link *ret,
			    struct lj_result *res);

/*
 * Check a shim address against the parent's addresses (parent_addrs[0..n)): it must lie in
 * the subnet of one of them and be none of them. Returns 0 or -EINVAL with res->message set
 * and res->bad_input.
 */
int lj_macvlan_check_shim_ip(const char *parent, const struct lj_cidr *shim,
			     const struct lj_cidr *parent_addrs, size_t n, struct lj_result *res);

struct lj_state;

/*
 * Check that a macvlan in mode (MACVLAN_MODE_*) can join parent p, given the macvlans
 * already on it: host-side ones (a link dump through ctx->host) and lanjoin's containers
 * (the records in st, which may be NULL: then the state is read under a shared lock).
 * passthru needs the parent alone, and nothing joins a passthru one. None of ips[0..n_ips)
 * may be an address of one of lanjoin's containers on that parent. Returns 0, or -errno
 * with res->message set (res->bad_input when the request clashes).
 */
int lj_macvlan_check_users(struct lj_ctx *ctx, struct lj_state *st, const char *parent,
			   const struct lj_link *p, uint32_t mode, const struct lj_cidr *ips,
			   size_t n_ips, struct lj_result *res);

/*
 * Passthru mode on parent p (named parent) takes the parent's traffic from the host: refused
 * (res->bad_input, -EINVAL) when p carries an address of the host other than a link-local
 * one (it is the host's uplink), unless force. Returns 0 or -errno with res->message set.
 */
int lj_macvlan_check_passthru(struct lj_nl *nl, const char *parent, const struct lj_link *p,
			      bool force, struct lj_result *res);

/*
 * The addresses of link ifindex (named name, for the message) in nl's namespace, at most
 * LJ_MACVLAN_MAX_ADDRS of them, into addrs; their number in *ret_n. Returns 0, or -errno with
 * res->message set.
 */
int lj_macvlan_link_addrs(struct lj_nl *nl, int ifindex, const char *name, struct lj_cidr *addrs,
			  size_t *ret_n, struct lj_result *res);
