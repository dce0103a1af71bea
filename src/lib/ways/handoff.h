/* SPDX-License-Identifier: MIT */
/*
 * Handing a link to a container engine: a link made in lanjoin's own namespace for an engine
 * to move into its sandbox itself (Docker's network drivers: Join names the link, Docker moves
 * it, renames it and sets the addresses its IPAM gave). Each is an attachment as every other:
 * a plan with undo run through the transaction (core/txn.h) and kept as a state record, so
 * that list, status and gc see it and a front end killed midway loses nothing. Its record:
 * way, ifname = the link's name as made, target = the sandbox as the engine names it, whose
 * namespace is recorded as lanjoin's own (where the plan acts: every step is on the host),
 * info = the front end's key (lj_handoff_opts.info) and the addresses, MAC, bridge or parent.
 */
#pragma once

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/core/attach.h"

/* What link to hand over. Strings are copied into the plan. */
struct lj_handoff_opts {
	enum lj_way way;	 /* LJ_WAY_BRIDGE, LJ_WAY_OVS or LJ_WAY_MACVLAN */
	char name[IFNAMSIZ];	 /* the link the engine takes (bridge, ovs: the veth's other end) */
	char host[IFNAMSIZ];	 /* bridge, ovs: the veth's host end, a port of bridge */
	char bridge[IFNAMSIZ];	 /* bridge: an existing Linux bridge; ovs: an OVS bridge */
	uint32_t vlan;		 /* ovs: access VLAN tag, 0 = none */
	const char *ovsdb;	 /* ovs: "unix:PATH", NULL = the default */
	char parent[IFNAMSIZ];	 /* macvlan: the parent link */
	uint32_t macvlan_mode;	 /* MACVLAN_MODE_*, 0 = bridge */
	uint8_t mac[LJ_MAC_LEN]; /* the handed link's MAC (required: it marks the link until
				    its ifindex is recorded) */
	uint32_t mtu;		 /* 0 = the bridge's/parent's */
	/* macvlan: host routes to these addresses (/32, /128) through the host shim shim
	 * (lj_shim_add made it), so that the host reaches the container */
	char shim[IFNAMSIZ];
	struct lj_cidr shim_routes[2];
	size_t n_shim_routes;
	/* the record */
	const char *sandbox;	     /* the engine's name for the sandbox, a path ("/var/run/
					docker/netns/ID"); NULL or "" = none known */
	struct lj_cidr addresses[2]; /* the addresses the engine gives the link (for list) */
	size_t n_addresses;
	/* probe the LAN (RFC 5227, from the bridge or parent) for each IPv4 address of
	 * addresses before the link is made: one in use fails the attach */
	bool conflict_check;
	json_t *info; /* merged into the record's info (borrowed), e.g. Docker's
			 {"docker": {network, endpoint}}; NULL = none */
	/* the front end's session (core/session.h; borrowed), NULL = none */
	struct lj_session *session;
};

/*
 * Make o's link as an attachment (see above): recorded before the first change, applied, and
 * on failure rolled back so that nothing is left (the record goes too). A record of a link
 * of that name already there (a Join retried) is undone first. Returns 0 (res->json: the
 * record as list --json shows it), or -errno with res->message (res->bad_input: o is invalid
 * or names a missing bridge/parent; res->rolled_back, res->undo_failed).
 */
int lj_handoff_attach(const struct lj_handoff_opts *o, struct lj_result *res);

/*
 * Check, without changing anything, that o's link could be made now: the bridge, OVS bridge
 * or parent it needs is there and fit (for a front end that wants to refuse early, e.g. when
 * a network is created). o->name and o->host may be any free names. Returns 0 or -errno with
 * res->message (res->bad_input), in the words lj_handoff_attach would use.
 */
int lj_handoff_check(const struct lj_handoff_opts *o, struct lj_result *res);

/*
 * Check, without changing anything, that the n addresses ips may be given to a link on the
 * LAN link segment (a bridge, OVS bridge or macvlan parent): none is the host's own, none is
 * held by another attachment on segment (lj_attach_check_ips_free), for a front end whose
 * engine's IPAM knows neither. Returns 0 or -errno with res->message (res->bad_input).
 */
int lj_handoff_check_addresses(const char *segment, const struct lj_cidr *ips, size_t n,
			       struct lj_result *res);

/*
 * Undo and forget the attachment of the link named name (lj_handoff_opts.name), whatever its
 * status (one a killed run left "applying" too): its host end or the link itself, once the
 * engine moved it back, are judged lanjoin's by the record (ifindex, MAC), never by the name.
 * Nothing recorded is success. session: the front end's (core/session.h; borrowed), or NULL.
 * Returns 0 or -errno with res->message (the record is kept).
 */
int lj_handoff_detach(struct lj_session *session, const char *name, struct lj_result *res);

/*
 * Undo and forget the attachments of handed links whose record's info has key (a front end's
 * own, e.g. "docker") and that a killed run left unfinished (any status but "attached") or
 * whose engine let the link go (its container end back in lanjoin's namespace, or its sandbox
 * gone: lj_status_gone): for a front end starting again. With network (not NULL), only those
 * whose info.KEY.network is network (the front end deletes that network). *ret_removed (may
 * be NULL) counts them. Returns 0 or the first -errno with res->message (those records are
 * kept).
 */
int lj_handoff_recover(const char *key, const char *network, struct lj_result *res,
		       size_t *ret_removed);

/*
 * Load the record of the attachment of link name into *ret (free with lj_record_free), under
 * a shared lock. Returns 0, -ENOENT if there is none, or -errno.
 */
int lj_handoff_find(const char *name, struct lj_record *ret);

/*
 * Undo a plan kept as JSON by the docker plugin before its endpoints were records (its
 * endpoint files' "plan"): delete the link if it is back in lanjoin's namespace. Gone is
 * success. Returns 0 or -errno with res->message.
 */
int lj_handoff_undo(const json_t *plan, struct lj_result *res);

/*
 * The links a front end reads once to name handed links as their engine renamed them in
 * their sandboxes (lj_handoff_ifname): lanjoin's own namespace's and those of the namespaces
 * it knows by a number.
 */
struct lj_handoff_names {
	struct lj_link *host, *others;
	size_t n_host, n_others;
};

/* Read *ret (free with lj_handoff_names_free; zeroed on failure). 0 or -errno. */
int lj_handoff_names_read(struct lj_handoff_names *ret);

/*
 * The name rec's handed link has in its sandbox now (Docker's "eth0", "eth1"...), into ret.
 * True if found; false for another attachment or a link in no sandbox (ret untouched).
 */
bool lj_handoff_ifname(const struct lj_handoff_names *names, const struct lj_record *rec,
		       char ret[IFNAMSIZ]);

/* Free what lj_handoff_names_read read (not names itself). */
void lj_handoff_names_free(struct lj_handoff_names *names);
