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
#include "lib/core/spec.h"
#include "lib/core/state.h"
#include "shared/parse.h"

/*
 * The ifname used when none is given: LJ_DEFAULT_IFNAME for a netns, pid: or path target (and
 * what a stored spec or record without one means: every target's default until December 2026);
 * LJ_DEFAULT_IFNAME_ENGINE for a Docker/Podman container, whose engine names the interfaces
 * of the networks it connects eth0, eth1, ... (an eth1 of lanjoin's made the next
 * 'docker network connect' fail, "file exists"); no engine picks "lan0" unless told to.
 */
#define LJ_DEFAULT_IFNAME "eth1"
#define LJ_DEFAULT_IFNAME_ENGINE "lan0"

struct lj_target;

/*
 * The ifname an attach of target (a TARGET as given) uses when none is asked (a static
 * string): LJ_DEFAULT_IFNAME_ENGINE for a container, LJ_DEFAULT_IFNAME otherwise — and for a
 * container that lanjoin holds a record of as LJ_DEFAULT_IFNAME (attached by an earlier
 * version without --ifname), LJ_DEFAULT_IFNAME still, so that the same attach or apply finds
 * that attachment as before. t: target opened (lj_target_open or _open_ns), or NULL (then
 * records are not looked at). Reads the state directory under a shared lock (the caller must
 * not hold the state lock: it would wait for itself); never creates it.
 */
const char *lj_default_ifname(const char *target, const struct lj_target *t);

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
/*
 * Append to plan, if the target's new links start with IPv6 off (its default disable_ipv6 is
 * not 0, as in Docker's default network), a step that turns IPv6 on for ifname, which lanjoin
 * creates (no undo: the link goes). 0 or -ENOMEM.
 */
int lj_attach_add_ipv6_on(struct lj_ctx *ctx, struct lj_plan *plan, const char *ifname);

/*
 * The static checks of o's ADDRESSING options (bridge, ovs, macvlan), without looking at the
 * system: each --ip, --gateway and --route a unicast address that fits the others (a gateway
 * not the broadcast or network address of an --ip's subnet). Run by the ways' static checks,
 * before any look at a live attachment of the target, and again by lj_attach_add_addressing.
 * Returns 0, or -EINVAL with lj_bad_input's message.
 */
int lj_attach_check_addressing(const struct lj_attach_opts *o, struct lj_result *res);

int lj_attach_add_addressing(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			     struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);

/*
 * Before a way adds o's --route steps to plan: a --route to a default (0.0.0.0/0, ::/0) that
 * the kernel would refuse at that step (EEXIST, so the attach rolls back at its end) is
 * refused now, exit 2: plan sets that family's default route already (the way's own, via
 * the host, or a DHCP lease's), or the target has one with the metric it would get (its
 * engine's, kept by --no-default-route or not replaced). hint: how to replace the target's
 * own instead, for the message. Not with routes_append (CNI: added beside) nor without the
 * target's netlink socket. Returns 0, -EINVAL (lj_bad_input) or -errno (res filled).
 */
int lj_attach_check_default_routes(struct lj_ctx *ctx, const struct lj_attach_opts *o,
				   const struct lj_plan *plan, const char *hint,
				   struct lj_result *res);

/*
 * The records of live attachments of the given way whose info[key] is value (e.g. "parent",
 * "eth0"): into *ret (n in *ret_n; free with lj_records_free). st: the locked state directory,
 * or NULL (dry run: opened shared here). Returns 0 or -errno (res says why).
 */
int lj_attach_live_records(struct lj_state *st, const char *way, const char *key, const char *value,
			   struct lj_record **ret, size_t *ret_n, struct lj_result *res);

/* Does the record's info.addresses (every way keeps its LAN addresses there) hold ip? */
bool lj_attach_record_has_ip(const struct lj_record *rec, const struct lj_ip *ip);

/*
 * Refuse (lj_bad_input, -EINVAL) an address that a live attachment of any way already holds
 * on the LAN link segment (the host link a way reaches the LAN through: the macvlan or routed
 * parent, the nat uplink, the bridge or OVS bridge; its records' info.parent, info.uplink or
 * info.bridge, links handed to an engine too; NULL: any, e.g. for an address the host holds,
 * which a nat attachment puts on its uplink): its info.addresses. The record self_id (the
 * attachment being replaced; NULL = none) does not count. opt prefixes the message ("--ip";
 * "" or NULL = none). st: the locked state directory, or NULL (opened shared here). Only the
 * records whose text holds ip are parsed. Returns 0 or -errno (res says why).
 */
int lj_attach_check_ip_users(struct lj_state *st, const char *self_id, const char *segment,
			     const struct lj_ip *ip, const char *opt, struct lj_result *res);

/*
 * Whether the host holds one of the n_ips addresses ips (of family, or AF_UNSPEC: any) on a
 * link of ctx->host's namespace, IPv6 link-local ones aside (per link): 1 with the first such
 * address's index in *ret_i and its link's name in ret_link ("?" if gone meanwhile), 0 if
 * none, or -errno.
 */
int lj_attach_host_holds(struct lj_ctx *ctx, int family, const struct lj_cidr *ips, size_t n_ips,
			 size_t *ret_i, char ret_link[IFNAMSIZ]);

/*
 * Whether ctx->host's main table routes ip as a host route of its own (/32, /128: a routed
 * attachment's, or a host shim's to a macvlan container): 1 with its link's name in ret_link
 * ("?" if gone) and what the route is, by its link's kind, in ret_what (what_size bytes), 0
 * if not (or no route). One route lookup (fib match).
 */
int lj_attach_host_routes(struct lj_ctx *ctx, const struct lj_ip *ip, char ret_link[IFNAMSIZ],
			  char *ret_what, size_t what_size);

/*
 * The checks of the addresses a container is given on the LAN, for every way and front end
 * (CLI, CNI, the Docker plugin), with or without the ARP probe. Always, each a kernel request
 * whatever the number of attachments: none is the host's own (on any link of ctx->host's
 * namespace; IPv6 link-local addresses are per link and not looked at), none is routed by
 * the host as a host route of its own (a routed attachment's). With records: none is held
 * by another attachment on segment (lj_attach_check_ip_users with ctx->state; segment NULL
 * or "": not looked at), which reads every record (the CLI and CNI pass it with their
 * conflict check, the Docker plugin always). Returns 0 or -errno (res says why).
 */
int lj_attach_check_ips_free(struct lj_ctx *ctx, const char *self_id, const char *segment,
			     const struct lj_cidr *ips, size_t n_ips, bool records,
			     struct lj_result *res);

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

/*
 * The links o names in lanjoin's namespace (a parent, a nat uplink, a Linux bridge that is
 * not to be created) are there: checked before a record of the same attachment is compared
 * with o (the attach's policy for an existing record, --dry-run too), so that a misspelt name is
 * "does not exist", never a spec that "differs". The ways' builders check them again (with more to
 * say) for a new attachment. 0, or -EINVAL (res says which) or another -errno.
 */
int lj_attach_check_links(struct lj_ctx *ctx, const struct lj_attach_opts *o,
			  struct lj_result *res);
