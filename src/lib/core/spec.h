/* SPDX-License-Identifier: MIT */
/*
 * The attach spec: what an attach is asked to do, whatever the front end (the CLI's options,
 * a CNI network configuration). Which of its options a way takes is in the way table
 * (lib/core/way.h): the front ends refuse the others from there.
 */
#pragma once

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/parse.h"

enum lj_way {
	LJ_WAY_BRIDGE,
	LJ_WAY_OVS,
	LJ_WAY_MACVLAN,
	LJ_WAY_NAT,
	LJ_WAY_ROUTED, /* the last: see LJ_WAY_COUNT */
};

/* How many ways there are (rows in the way table, lib/core/way.h). */
#define LJ_WAY_COUNT (LJ_WAY_ROUTED + 1)

#define LJ_MAX_IPS 16
#define LJ_MAX_ROUTES 32
#define LJ_MAX_PUBLISH 64

struct lj_target;

/* Everything an attach can be asked to do. Strings are borrowed for the call. */
struct lj_session;

struct lj_attach_opts {
	enum lj_way way;
	const char *target;    /* TARGET as given */
	char ifname[IFNAMSIZ]; /* inside the target; "": lj_default_ifname */
	/* The target already opened by the caller (borrowed: attach opens a duplicate of its
	 * fd), or NULL: attach resolves target itself. */
	const struct lj_target *resolved;
	/* What a long-running front end keeps across its calls (core/session.h; borrowed), or
	 * NULL: everything opened for this call alone. */
	struct lj_session *session;

	/* addressing */
	struct lj_cidr ips[LJ_MAX_IPS];
	size_t n_ips;
	struct lj_ip gateways[2]; /* at most one per family */
	size_t n_gateways;
	struct lj_route_spec routes[LJ_MAX_ROUTES];
	size_t n_routes;
	bool dhcp;
	const char *dhcp_client; /* NULL = pick automatically */
	unsigned dhcp_timeout;	 /* seconds, 0 = default (also --dhcp6's) */
	bool dhcp6;		 /* stateful DHCPv6 (dhcpcd -6), independent of dhcp */
	bool slaac;
	bool no_default_route; /* keep the target's default routes (no gateway installed) */
	bool onlink;	       /* a --gateway outside every --ip subnet of its family is on the
				  link all the same (else refused: a mistyped address or prefix) */
	bool no_conflict_check;
	bool routes_append; /* add default and other routes beside equal ones through
			     * other links (the CNI reference plugins' way) instead of
			     * failing on them */

	/* common */
	uint8_t mac[LJ_MAC_LEN];
	bool has_mac;
	uint32_t mtu; /* 0 = the bridge's/parent's */
	bool dry_run;

	/* bridge, ovs */
	char bridge[IFNAMSIZ];
	char uplink[IFNAMSIZ]; /* bridge: adopt this uplink if the bridge is missing; nat: the
				  uplink */
	bool create_bridge;    /* bridge, ovs: create a missing bridge (without it, and
				  without bridge --uplink, a missing bridge is refused: a
				  misspelt name would make a bridge that reaches nothing) */
	uint32_t vlan;	       /* ovs: access VLAN tag, 0 = none */
	const char *ovsdb;     /* ovs: "unix:PATH" or NULL */

	/* macvlan, routed */
	char parent[IFNAMSIZ];
	uint32_t macvlan_mode;	  /* MACVLAN_MODE_*, 0 = bridge */
	bool force;		  /* macvlan: passthru even on a parent that carries the
				     host's addresses (it cuts the host off the LAN) */
	struct lj_cidr host_shim; /* family AF_UNSPEC = none */

	/* nat */
	struct lj_cidr address; /* the LAN address claimed on the uplink */
	struct lj_publish publish[LJ_MAX_PUBLISH];
	size_t n_publish;
	struct lj_cidr private_net; /* AF_UNSPEC = default pool */
	struct lj_ip to;	    /* AF_UNSPEC = create a private link */
	bool to_engine;		    /* --to docker: ask the engine */
	const char *to_network;	    /* --to docker:NETWORK: its address on that engine network
				       (borrowed); NULL: on its only one */

	/* record */
	json_t *extra_info; /* merged into the record's info (borrowed), e.g. the CNI
			       front end's {"cni": {network, containerID, ifname}} so it
			       can find the attachment again by its own key; NULL = none */
	json_t *spec;	    /* what the user asked, canonical (src/cli/spec.h; borrowed):
			       kept in the record; an attachment of the same target and
			       ifname recorded with an equal spec is "already attached as
			       asked" (res->unchanged), with another one refused naming the
			       fields that differ. NULL = none (no such comparison) */
};

/*
 * The options of the spec that only some ways take (a bit each in struct lj_way_ops.opts).
 * LJ_OPT_COMMON is the group every way takes (ifname, mac, mtu, routes, dry_run,
 * no_conflict_check); LJ_OPT_ADDRESSING the target's addressing on a LAN link (ips,
 * gateways, dhcp, slaac, no_default_route, the CNI's conflictCheck).
 */
enum lj_spec_opt {
	LJ_OPT_COMMON,
	LJ_OPT_ADDRESSING,
	LJ_OPT_BRIDGE,
	LJ_OPT_CREATE_BRIDGE,
	LJ_OPT_UPLINK,
	LJ_OPT_VLAN,
	LJ_OPT_OVSDB,
	LJ_OPT_PARENT,
	LJ_OPT_MODE,
	LJ_OPT_HOST_SHIM,
	LJ_OPT_ADDRESS,
	LJ_OPT_PUBLISH,
	LJ_OPT_PRIVATE,
	LJ_OPT_TO, /* the last: see LJ_OPT_COUNT */
};

#define LJ_OPT_COUNT (LJ_OPT_TO + 1)

#define LJ_OPT_BIT(x) (1u << LJ_OPT_##x)

/* Name of a way ("bridge", ...; "?" for none): from the way table (lib/core/way.h). */
const char *lj_way_name(enum lj_way w);
