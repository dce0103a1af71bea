/* SPDX-License-Identifier: MIT */
/*
 * The ways' entry points the way table (ways.c) names: their plan builders (lj_build_fn) and
 * gc hooks (lj_way_gc_fn). Nothing else calls them: the engine goes through the table.
 */
#pragma once

#include "lib/core/way.h"

int lj_attach_bridge_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			   struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);
int lj_attach_macvlan_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			    struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);
int lj_attach_nat_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);

/*
 * The nat way's checks of its input alone (no look at the system): --address is a usable
 * IPv4 host address, --private an IPv4 network of /8 to /31. 0 or -EINVAL (res set).
 */
int lj_nat_check_input(const struct lj_attach_opts *o, struct lj_result *res);

int lj_attach_routed_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			   struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);

int lj_attach_ovs_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);

/*
 * gc for the ovs way: remove the OVS ports marked as lanjoin's that no record in recs claims
 * and whose link is gone from ovs-vswitchd's namespace (e.g. left by a reboot: OVS keeps its
 * database, /run/lanjoin is gone), then the bridges lanjoin created that have no port left.
 * Looks at the default database and at every database recs name; skips one where OVS is not
 * installed or not running. *ret_removed gets the number of port rows removed. Returns 0 or
 * the first -errno (res->message says why).
 */
int lj_attach_ovs_gc(const struct lj_record *recs, size_t n, struct lj_result *res,
		     size_t *ret_removed);

/* The bridge way's hooks around the transaction (struct lj_way_ops before/after/detached):
 * adopt --uplink DEV into a missing bridge first, give it back if the attach fails, and say
 * after a detach that the bridge still holds the uplink. */
int lj_attach_bridge_before(const struct lj_attach_opts *o, struct lj_result *res, bool *ret_done);
void lj_attach_bridge_after(const struct lj_attach_opts *o, int r, struct lj_result *res);
void lj_attach_bridge_detached(struct lj_state *st, const struct lj_record *rec,
			       struct lj_result *res);

/*
 * The chain of iptables-nft's filter table of family (AF_INET: ip, AF_INET6: ip6) that needs
 * accept rules for routed traffic (the nat and routed ways), into ret: Docker's DOCKER-USER
 * when it exists and is jumped to, else FORWARD when its policy is drop, else "". Returns 0,
 * or -errno with res set (ways/nat.c).
 */
int lj_way_detect_firewall(int family, char ret[IFNAMSIZ], struct lj_result *res);
