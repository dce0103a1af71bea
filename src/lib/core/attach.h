/* SPDX-License-Identifier: MIT */
/*
 * Attach: the library entry point the CLI and CNI front ends call. An attach resolves the
 * target once, builds the way's plan and runs it through the transaction (txn.h): recorded,
 * applied, and on failure rolled back so that nothing is left behind. Detach and gc:
 * detach.h; the result type: result.h.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/core/detach.h"
#include "lib/core/plan.h"
#include "lib/core/result.h"
#include "lib/core/state.h"
#include "shared/parse.h"

enum lj_way {
	LJ_WAY_BRIDGE,
	LJ_WAY_OVS,
	LJ_WAY_MACVLAN,
	LJ_WAY_NAT,
};

#define LJ_MAX_IPS 16
#define LJ_MAX_ROUTES 32
#define LJ_MAX_PUBLISH 64

struct lj_target;

/* Everything an attach can be asked to do. Strings are borrowed for the call. */
struct lj_attach_opts {
	enum lj_way way;
	const char *target;    /* TARGET as given */
	char ifname[IFNAMSIZ]; /* inside the target; "" = "eth1" */
	/* The target already opened by the caller (borrowed: attach opens a duplicate of its
	 * fd), or NULL: attach resolves target itself. */
	const struct lj_target *resolved;

	/* addressing */
	struct lj_cidr ips[LJ_MAX_IPS];
	size_t n_ips;
	struct lj_ip gateways[2]; /* at most one per family */
	size_t n_gateways;
	struct lj_route_spec routes[LJ_MAX_ROUTES];
	size_t n_routes;
	bool dhcp;
	const char *dhcp_client; /* NULL = pick automatically */
	unsigned dhcp_timeout;	 /* seconds, 0 = default */
	bool slaac;
	bool no_default_route; /* keep the target's default routes (no gateway installed) */
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

	/* macvlan */
	char parent[IFNAMSIZ];
	uint32_t macvlan_mode;	  /* MACVLAN_MODE_*, 0 = bridge */
	struct lj_cidr host_shim; /* family AF_UNSPEC = none */

	/* nat */
	struct lj_cidr address; /* the LAN address claimed on the uplink */
	struct lj_publish publish[LJ_MAX_PUBLISH];
	size_t n_publish;
	struct lj_cidr private_net; /* AF_UNSPEC = default pool */
	struct lj_ip to;	    /* AF_UNSPEC = create a private link */
	bool to_engine;		    /* --to docker: ask the engine */

	/* record */
	json_t *extra_info; /* merged into the record's info (borrowed), e.g. the CNI
			       front end's {"cni": {network, containerID, ifname}} so it
			       can find the attachment again by its own key; NULL = none */
};

/* The ifname used when none is given. */
#define LJ_DEFAULT_IFNAME "eth1"

/*
 * Attach o->target. Returns 0 on success (res->json describes the attachment), or -errno with
 * res->message set; res->bad_input says whether the input was at fault (nothing attempted)
 * and res->rolled_back whether steps had to be undone. While it waits for a DHCP lease or
 * DAD the record has status "settling" and names this process (see lj_record_settling_live).
 * A signal the front end passed to lj_interrupt_raise stops it before the next step or in
 * that wait: it rolls back and returns -EINTR with res->interrupted set.
 */
int lj_attach(const struct lj_attach_opts *o, struct lj_result *res);

/*
 * Extend the live attachment of t (open; borrowed) as ifname with steps, through the
 * transaction (txn.h) under the state lock: they are appended to its record's plan, recorded
 * before the first change and applied. On failure the new steps are undone and the record is
 * as it was (res->rolled_back); detach undoes them with the rest. For a front end that adds
 * to an attachment after it is made, e.g. CNI's addresses from a DHCP IPAM plugin, which
 * needs the interface first. The steps are moved out of steps (left empty on success; the
 * caller frees it in any case); steps that wait (settle) are refused. Returns 0 or -errno
 * with res->message (-ENOENT: no attachment of t as ifname).
 */
int lj_attach_extend(const struct lj_target *t, const char *ifname, struct lj_plan *steps,
		     struct lj_result *res);

/*
 * Append to plan the steps that put addresses and routes on ifname in the target after the
 * attach (for lj_attach_extend): o->ips, a default route through each of o->gateways and
 * o->routes, routes added beside equal ones (the CNI reference plugins' way). Each is undone
 * on its own. Returns 0 or -ENOMEM.
 */
int lj_attach_late_addressing(const struct lj_attach_opts *o, const char *ifname,
			      struct lj_plan *plan);

/* --- for the attach-*.c files ------------------------------------------------------- */

/*
 * A way's plan builder: validate o against the live system (through ctx), append the steps
 * to plan and fill rec->info/host_ifname. Returns 0, or -errno with res->message set
 * (and res->bad_input for invalid input).
 */
typedef int (*lj_build_fn)(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			   struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);

int lj_attach_bridge_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			   struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);
int lj_attach_macvlan_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			    struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);
int lj_attach_nat_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
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

/*
 * Add the step that sets the default route of family in the target via via on ifname (via
 * NULL: a DHCP client's hook sets it; the step only records). It records the default routes of
 * that family it finds (listed in rec->info "replaced_default_routes" for the front end) and
 * its undo puts them back. Returns 0 or -errno (res filled).
 */
int lj_attach_add_default_route(struct lj_ctx *ctx, struct lj_plan *plan, struct lj_record *rec,
				const char *ifname, int family, const struct lj_ip *via,
				bool onlink, struct lj_result *res);

/*
 * Add, for each link the target's default routes use now (an engine's interface), a step that
 * sends replies from that link's addresses back through it (a rule `from ADDR lookup TABLE`
 * with a copy of the link's main-table routes in TABLE), so that connections that came in
 * through it (published ports) keep working once another link exists. Returns 0 or -errno.
 */
int lj_attach_add_source_routes(struct lj_ctx *ctx, struct lj_plan *plan, struct lj_record *rec,
				struct lj_result *res);

/*
 * Add the container-side addressing steps shared by the bridge, ovs and macvlan ways:
 * link up, static addresses, default routes via the gateways, extra routes. The link is
 * assumed to be removed as a whole on undo (the steps are marked skip_undo).
 */
int lj_attach_add_addressing(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			     struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);

/*
 * The records of live attachments of the given way whose info[key] is value (e.g. "parent",
 * "eth0"): into *ret (n in *ret_n; free with lj_records_free). st: the locked state directory,
 * or NULL (dry run: opened shared here). Returns 0 or -errno (res says why).
 */
int lj_attach_live_records(struct lj_state *st, const char *way, const char *key, const char *value,
			   struct lj_record **ret, size_t *ret_n, struct lj_result *res);

/*
 * Refuse (lj_bad_input, -EINVAL) a MAC address that a live attachment of the given way
 * already has, among the records whose info[key] is value (e.g. "bridge", "br-em1"): its
 * recorded MAC (info.mac), or for records made before that was kept, the --mac its plan
 * asked for. what names the shared link in the message ("bridge 'br-em1'"). st: the locked
 * state directory, or NULL (dry run: opened shared here). Returns 0 or -errno.
 */
int lj_attach_check_mac_users(struct lj_state *st, const char *way, const char *key,
			      const char *value, const uint8_t mac[LJ_MAC_LEN], const char *what,
			      struct lj_result *res);

/* Name of a way ("bridge", ...). */
const char *lj_way_name(enum lj_way w);
