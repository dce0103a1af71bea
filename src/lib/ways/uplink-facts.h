/* SPDX-License-Identifier: MIT */
/*
 * What an uplink adoption learns before it plans (uplink-facts.c): DEV, BR, the addresses and
 * routes to move, the probe, DHCP clients and other holders of DEV. Every refusal happens
 * there, before any change. For uplink.c only.
 */
#pragma once

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/foreign/ovs.h"
#include "lib/kernel/addr.h"
#include "lib/kernel/link.h"
#include "lib/kernel/route.h"
#include "lib/core/plan.h"
#include "lib/core/result.h"
#include "lib/ways/uplink-opts.h"

struct lj_uplink_facts {
	struct lj_link dev, br;
	bool br_exists;
	struct lj_addr_full *addrs;
	size_t n_addrs;
	struct lj_route_info *routes;
	size_t n_routes;
	struct lj_ip probe;
	bool probe_onlink;
	json_t *warnings;
	bool dhcp;
	bool ovs_netdev;	   /* --ovs: the userspace datapath */
	char ovsdb[LJ_OVS_DB_MAX]; /* --ovs: the database, resolved */
};

/* Free what f holds, f->warnings included. */
void lj_uplink_facts_free(struct lj_uplink_facts *f);

/*
 * Look at o->dev, o->bridge, their addresses and routes (dump: a strict netlink socket for
 * the dumps) into f (f->warnings: a JSON array the caller made). Returns 0, or -errno with
 * res saying why (res->bad_input when the adoption cannot work). held: as for
 * lj_uplink_check_users.
 */
int lj_uplink_gather(struct lj_ctx *ctx, struct lj_nl *dump, const struct lj_state *held,
		     const struct lj_uplink_opts *o, struct lj_uplink_facts *f,
		     struct lj_result *res);

struct lj_state;

/*
 * Refuse (bad input, res naming each) while lanjoin's nat attachments (--uplink link) or
 * routed ones (--parent link) use link, or link (ifindex; 0: not looked at) has proxy
 * neighbour entries beyond the routed records': adopting dev into bridge (link == dev) or
 * releasing bridge (link == bridge) moves the addresses and leaves the proxy entries behind.
 * held: a state directory whose lock this process holds (its attachments are read under it),
 * or NULL (read under a shared lock taken here). Returns 0 or -errno.
 */
int lj_uplink_check_users(struct lj_ctx *ctx, const struct lj_state *held, const char *link,
			  int ifindex, const char *bridge, const char *dev, struct lj_result *res);

/* Add a warning (printf-style) to the JSON array warnings. */
void lj_uplink_warn(json_t *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Read a per-link sysctl ("ipv6.accept_dad") of link into buf (size bytes). 0 or -errno. */
int lj_uplink_sysctl_read(const char *key, const char *link, char *buf, size_t size);

/* DEV's per-link sysctls as the sysctl-copy step's text (owned), or NULL on out of memory. */
char *lj_uplink_sysctl_text(const char *dev);

/* The IPv4 label of an address moved from dev to br: "dev" -> "", "dev:x" -> "br:x". 0 or
 * -ENAMETOOLONG. */
int lj_uplink_move_label(const char *label, const char *dev, const char *br, char ret[IFNAMSIZ]);

/*
 * Release (uplink-current.c): make plan, the undo plan of a whole adoption of dev into bridge,
 * give back what bridge holds now, not only what it held at the adoption. Addresses and routes
 * added on bridge since get the steps adopt would have given them (addr-copy and addr-move,
 * route-move); recorded ones gone from bridge lose theirs (not IPv6 link-local addresses);
 * recorded routes move as they are now. moved and dropped (size bytes each) get what was
 * added, and what is left out, comma-separated ("" if nothing). Returns 0, or -errno with res
 * saying why (res->bad_input: a route through bridge cannot be moved back); plan is then as it
 * was.
 */
int lj_uplink_release_current(struct lj_ctx *ctx, const char *bridge, const char *dev,
			      struct lj_plan *plan, char *moved, char *dropped, size_t size,
			      struct lj_result *res);
