/* SPDX-License-Identifier: MIT */
/* Links made in lanjoin's namespace for a container engine to move (see handoff.h). */
#include "lib/ways/handoff.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/ctx.h"
#include "lib/core/session.h"
#include "lib/core/status.h"
#include "lib/core/txn.h"
#include "lib/foreign/ovs.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"
#include "lib/steps/handoff.h"
#include "lib/steps/ovs.h"
#include "lib/ways/macvlan-common.h"

#define SELF_NETNS "/proc/self/ns/net"

/* lanjoin's own namespace as the target of a handoff record, named sandbox for people. */
static int open_self(const char *sandbox, struct lj_target *t, struct lj_result *res)
{
	int r;

	if (lj_target_parse(SELF_NETNS, t) < 0)
		return lj_fail(res, -EINVAL, "cannot name lanjoin's network namespace");
	/* Its cookie is the process's own (remembered), not read through a setns as a
	 * container's is: a long-running plugin asks twice per Join. */
	r = lj_target_open_ns(t);
	if (r < 0)
		return lj_fail(res, r, "cannot open lanjoin's network namespace: %s", strerror(-r));
	if (lj_netns_self_cookie(&t->cookie) < 0)
		t->cookie = 0; /* an old kernel: identity by inode alone */
	if (sandbox && sandbox[0]) {
		snprintf(t->spec, sizeof(t->spec), "%s", sandbox);
		snprintf(t->name, sizeof(t->name), "%s", sandbox);
	}
	return 0;
}

/* The record id of link name: lanjoin's namespace and the name. */
static int record_id(const char *name, char id[LJ_RECORD_ID_LEN])
{
	struct lj_target t;
	struct lj_result res = {0};
	int r = open_self(NULL, &t, &res);

	if (r < 0)
		return r;
	lj_record_id(t.key, name, id);
	lj_target_close(&t);
	return 0;
}

static void record_init(struct lj_record *rec, const struct lj_target *t,
			const struct lj_handoff_opts *o)
{
	memset(rec, 0, sizeof(*rec));
	lj_record_id(t->key, o->name, rec->id);
	snprintf(rec->way, sizeof(rec->way), "%s", lj_way_name(o->way));
	snprintf(rec->status, sizeof(rec->status), "applying");
	snprintf(rec->ifname, sizeof(rec->ifname), "%s", o->name);
	if (o->way != LJ_WAY_MACVLAN)
		snprintf(rec->host_ifname, sizeof(rec->host_ifname), "%s", o->host);
	rec->target_kind = t->kind;
	snprintf(rec->target_spec, sizeof(rec->target_spec), "%s", t->spec);
	snprintf(rec->target_name, sizeof(rec->target_name), "%s", t->name);
	rec->netns = t->id;
	rec->netns_cookie = t->cookie;
	rec->created = (int64_t)time(NULL);
	lj_netns_self_id(&rec->host_netns);
	if (lj_netns_self_cookie(&rec->host_netns_cookie) < 0)
		rec->host_netns_cookie = 0;
	rec->info = json_object();
}

/* The facts list shows: addresses, MAC, bridge or parent, the front end's key. */
static int record_info(struct lj_record *rec, const struct lj_handoff_opts *o)
{
	json_t *addrs = json_array();
	char buf[LJ_CIDR_STRLEN];

	if (!rec->info || !addrs) {
		json_decref(addrs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->n_addresses && i < 2; i++)
		json_array_append_new(
			addrs, json_string(lj_cidr_to_string(&o->addresses[i], buf, sizeof(buf))));
	json_object_set_new(rec->info, "addresses", addrs);
	json_object_set_new(rec->info, "mac",
			    json_string(lj_mac_to_string(o->mac, buf, sizeof(buf))));
	json_object_set_new(rec->info, "handoff", json_true());
	if (o->way == LJ_WAY_MACVLAN) {
		json_object_set_new(rec->info, "parent", json_string(o->parent));
		if (o->shim[0])
			json_object_set_new(rec->info, "host_shim", json_string(o->shim));
	} else {
		json_object_set_new(rec->info, "bridge", json_string(o->bridge));
	}
	if (o->info && json_object_update(rec->info, o->info) < 0)
		return -ENOMEM;
	return 0;
}

static int build_macvlan(struct lj_ctx *ctx, const struct lj_handoff_opts *o, struct lj_plan *plan,
			 struct lj_result *res)
{
	struct lj_link l;
	struct lj_step *s;
	int r;

	r = lj_macvlan_check_parent(ctx->host, o->parent, &l, res);
	if (r < 0)
		return r;
	lj_ctx_remember(ctx, LJ_HOST, o->parent, l.ifindex); /* the step's parent */
	s = lj_plan_add(plan, &lj_step_handoff_macvlan, LJ_HOST, "create macvlan %s on %s", o->name,
			o->parent);
	if (!s)
		return lj_fail(res, -ENOMEM, "out of memory");
	snprintf(s->link, sizeof(s->link), "%s", o->name);
	snprintf(s->master, sizeof(s->master), "%s", o->parent);
	s->u32 = o->macvlan_mode;
	s->mtu = o->mtu;
	memcpy(s->mac, o->mac, LJ_MAC_LEN);
	s->has_mac = true;
	for (size_t i = 0; i < o->n_shim_routes && i < 2; i++) {
		char c[LJ_CIDR_STRLEN];

		lj_cidr_to_string(&o->shim_routes[i], c, sizeof(c));
		s = lj_plan_add(plan, &lj_step_shim_route, LJ_HOST, "route %s through host shim %s",
				c, o->shim);
		if (!s)
			return lj_fail(res, -ENOMEM, "out of memory");
		snprintf(s->link, sizeof(s->link), "%s", o->shim);
		s->cidr = o->shim_routes[i];
	}
	return 0;
}

static struct lj_step *add_veth(const struct lj_handoff_opts *o, const char *master, uint32_t mtu,
				struct lj_plan *plan)
{
	struct lj_step *s =
		lj_plan_add(plan, &lj_step_handoff_veth, LJ_HOST, "create veth pair %s/%s%s%s",
			    o->host, o->name, master ? " on " : "", master ? master : "");

	if (!s)
		return NULL;
	snprintf(s->link, sizeof(s->link), "%s", o->host);
	snprintf(s->peer, sizeof(s->peer), "%s", o->name);
	if (master)
		snprintf(s->master, sizeof(s->master), "%s", master);
	s->mtu = mtu;
	s->peer_mtu = o->mtu ? o->mtu : mtu;
	memcpy(s->mac, o->mac, LJ_MAC_LEN);
	s->has_mac = true;
	return s;
}

/* ovs: the host end a port of an existing OVS bridge (an access port with vlan). */
static int build_ovs(struct lj_ctx *ctx, const struct lj_handoff_opts *o, struct lj_plan *plan,
		     struct lj_result *res)
{
	struct lj_ovs_bridge br;
	struct lj_ovs *ovs = NULL;
	struct lj_link l;
	struct lj_step *s;
	uint32_t mtu = 1500;
	pid_t pid;
	int r;

	if (o->vlan > 4094)
		return lj_bad_input(res, "invalid VLAN tag %u: expected 1-4094", o->vlan);
	r = lj_ovs_open(o->ovsdb, &ovs);
	if (r == -ENOENT)
		return lj_bad_input(res, "Open vSwitch is not installed (no ovs-vsctl)");
	if (r < 0)
		return lj_bad_input(res, "invalid OVS database '%s'", o->ovsdb ? o->ovsdb : "");
	r = lj_ovs_check_running(ovs, &pid);
	if (r < 0) {
		r = lj_bad_input(res, "Open vSwitch does not run: %s", lj_ovs_error(ovs));
		goto out;
	}
	r = lj_ovs_bridge_get(ovs, o->bridge, &br);
	if (r == -ENODEV) {
		r = lj_bad_input(res, "OVS bridge '%s' does not exist (in %s)", o->bridge,
				 lj_ovs_db(ovs));
		goto out;
	}
	if (r < 0) {
		r = lj_fail(res, r, "Failed to read the OVS database %s: %s", lj_ovs_db(ovs),
			    lj_ovs_error(ovs));
		goto out;
	}
	if (lj_link_get(ctx->host, o->bridge, &l) == 0)
		mtu = l.mtu;
	r = -ENOMEM;
	if (!add_veth(o, NULL, mtu, plan))
		goto out;
	if (strcmp(br.datapath_type, "netdev") == 0) {
		s = lj_plan_add(plan, &lj_step_tx_csum_off, LJ_HOST,
				"turn off TX checksum offload on '%s' and '%s' (netdev datapath)",
				o->host, o->name);
		if (!s)
			goto out;
		snprintf(s->link, sizeof(s->link), "%s", o->host);
		snprintf(s->peer, sizeof(s->peer), "%s", o->name);
	}
	s = lj_plan_add(plan, &lj_step_ovs_port, LJ_HOST, "add port '%s' to OVS bridge '%s'%s",
			o->host, o->bridge, o->vlan ? " (access VLAN)" : "");
	if (!s || !(s->text = strdup(lj_ovs_db(ovs))))
		goto out;
	snprintf(s->link, sizeof(s->link), "%s", o->host);
	snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	snprintf(s->peer, sizeof(s->peer), "%s", o->name);
	s->u32 = o->vlan;
	r = 0;
out:
	if (r == -ENOMEM)
		lj_fail(res, r, "out of memory");
	lj_ovs_close(ovs);
	return r;
}

/* An RFC 5227 probe of each IPv4 address of o from the LAN link (bridge or parent), in the
 * host: its answer is heard there whoever on the LAN holds the address. 0 or -ENOMEM. */
static int add_probes(const struct lj_handoff_opts *o, struct lj_plan *plan)
{
	const char *lan = o->way == LJ_WAY_MACVLAN ? o->parent : o->bridge;
	char ip[LJ_IP_STRLEN];
	struct lj_step *s;

	for (size_t i = 0; i < o->n_addresses && i < 2; i++) {
		if (o->addresses[i].ip.family != AF_INET)
			continue;
		s = lj_plan_add(plan, &lj_step_arp_probe, LJ_HOST,
				"check that %s is free on the LAN (ARP probe on '%s')",
				lj_ip_to_string(&o->addresses[i].ip, ip, sizeof(ip)), lan);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", lan);
		s->cidr = o->addresses[i];
	}
	return 0;
}

/* The plan for o. */
/* self_id: the record of the link being made (a Join retried replaces it); NULL = none. */
static int build(struct lj_ctx *ctx, const struct lj_handoff_opts *o, const char *self_id,
		 struct lj_plan *plan, struct lj_result *res)
{
	struct lj_link l;
	int r;

	if (!lj_ifname_valid(o->name))
		return lj_bad_input(res, "invalid link name '%s'", o->name);
	if (lj_link_get(ctx->host, o->name, &l) == 0)
		return lj_bad_input(res, "a link named '%s' exists already", o->name);
	/* The engine's IPAM knows neither the host's addresses nor other attachments': as for
	 * the CLI, neither may be handed out again. The engine sets the addresses after the link
	 * is made, so the ARP probe (asked for) is from the LAN link, before. */
	r = lj_attach_check_ips_free(ctx, self_id, o->way == LJ_WAY_MACVLAN ? o->parent : o->bridge,
				     o->addresses, o->n_addresses < 2 ? o->n_addresses : 2, true,
				     res);
	if (r < 0)
		return r;
	if (o->conflict_check && add_probes(o, plan) < 0)
		return lj_fail(res, -ENOMEM, "out of memory");
	if (o->way == LJ_WAY_MACVLAN)
		return build_macvlan(ctx, o, plan, res);
	if (o->way != LJ_WAY_BRIDGE && o->way != LJ_WAY_OVS)
		return lj_bad_input(res, "the %s way cannot hand a link over", lj_way_name(o->way));
	if (!lj_ifname_valid(o->host))
		return lj_bad_input(res, "invalid link name '%s'", o->host);
	if (o->way == LJ_WAY_OVS)
		return build_ovs(ctx, o, plan, res);
	r = lj_link_get(ctx->host, o->bridge, &l);
	if (r == -ENODEV || (r == 0 && strcmp(l.kind, "bridge") != 0))
		return lj_bad_input(res, "bridge '%s' does not exist (or is not a Linux bridge)",
				    o->bridge);
	if (r < 0)
		return lj_fail(res, r, "cannot look up bridge '%s': %s", o->bridge, strerror(-r));
	return add_veth(o, o->bridge, o->mtu, plan) ? 0 : lj_fail(res, -ENOMEM, "out of memory");
}

/* A record of the same link (a Join retried, or one a killed run left): undone first. */
static int existing_policy(struct lj_txn *txn, const struct lj_record *old, int load_error,
			   void *data, struct lj_result *res)
{
	size_t failed = 0;
	int r;

	if (load_error == -EXDEV)
		return lj_bad_input(res,
				    "link '%s' is recorded by lanjoin in another network "
				    "namespace",
				    txn->rec->ifname);
	r = lj_plan_undo_all(txn->ctx, &old->plan, &failed);
	if (r < 0)
		return lj_fail(res, r, "Failed to clean up the earlier attachment of '%s': %s",
			       txn->rec->ifname, txn->ctx->detail);
	return LJ_TXN_REPLACE;
}

int lj_handoff_attach(const struct lj_handoff_opts *o, struct lj_result *res)
{
	struct lj_plan plan = {0};
	struct lj_record rec = {0};
	struct lj_txn txn = {.plan = &plan, .rec = &rec};
	struct lj_target t = {.netns_fd = -1};
	struct lj_ctx ctx = {0};
	int r;

	memset(res, 0, sizeof(*res));
	r = open_self(o->sandbox, &t, res);
	if (r < 0)
		return r;
	r = lj_ctx_open(&ctx, lj_session_host(o->session), &t);
	if (r < 0) {
		lj_fail(res, r, "cannot open rtnetlink: %s", strerror(-r));
		goto out;
	}
	txn.ctx = &ctx;
	r = lj_session_state_open(o->session, true, &txn.st);
	if (r < 0) {
		lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			lj_state_strerror(r));
		goto out;
	}
	record_init(&rec, &t, o);
	r = record_info(&rec, o);
	if (r < 0) {
		lj_fail(res, r, "out of memory");
		goto out;
	}
	r = lj_txn_existing(&txn, "attachments", existing_policy, NULL, res);
	if (r < 0)
		goto out;
	ctx.state = txn.st;
	r = build(&ctx, o, rec.id, &plan, res);
	if (r < 0)
		goto out;
	r = lj_txn_apply(&txn, res);
	if (r < 0) {
		if (txn.step != SIZE_MAX)
			lj_fail(res, r,
				"Failed to make '%s' (%s way), step %zu of %zu, %s: %s%s%s%s%s",
				o->name, lj_way_name(o->way), txn.step + 1, plan.n,
				plan.steps[txn.step].what, strerror(-r), txn.detail[0] ? " (" : "",
				txn.detail, txn.detail[0] ? ")" : "",
				txn.undo_failed ? "; some steps could not be undone" : "");
		goto out;
	}
	r = lj_txn_commit(&txn, "attached", true, res);
	if (r < 0) {
		lj_fail(res, r, "Failed to make '%s' (%s way): %s", o->name, lj_way_name(o->way),
			txn.detail);
		goto out;
	}
	rec.plan = plan;
	res->json = lj_record_to_json(&rec);
	lj_result_add_record(res, &rec);
	rec.plan = (struct lj_plan){0};
out:
	lj_record_free(&rec);
	lj_plan_free(&plan);
	lj_state_close(txn.st);
	lj_ctx_close(&ctx);
	lj_target_close(&t);
	return r;
}

/* A check's context in lanjoin's namespace, res cleared: 0 or -errno (res says why). */
static int check_ctx(struct lj_ctx *ctx, struct lj_result *res)
{
	int r;

	memset(res, 0, sizeof(*res));
	r = lj_ctx_open(ctx, NULL, NULL);
	return r < 0 ? lj_fail(res, r, "cannot open rtnetlink: %s", strerror(-r)) : 0;
}

int lj_handoff_check(const struct lj_handoff_opts *o, struct lj_result *res)
{
	struct lj_plan plan = {0};
	struct lj_ctx ctx = {0};
	int r = check_ctx(&ctx, res);

	if (r < 0)
		return r;
	r = build(&ctx, o, NULL, &plan, res);
	lj_plan_free(&plan);
	lj_ctx_close(&ctx);
	return r;
}

int lj_handoff_check_addresses(const char *segment, const struct lj_cidr *ips, size_t n,
			       struct lj_result *res)
{
	struct lj_ctx ctx = {0};
	int r = check_ctx(&ctx, res);

	if (r < 0)
		return r;
	r = lj_attach_check_ips_free(&ctx, NULL, segment, ips, n, true, res);
	lj_ctx_close(&ctx);
	return r;
}

/* Load record id into *ret (free with lj_record_free), under a shared lock: 0, -ENOENT or
 * -errno. */
static int find_id(struct lj_session *session, const char *id, struct lj_record *ret)
{
	struct lj_state *st = NULL;
	int r = lj_session_state_open(session, false, &st);

	if (r == 0)
		r = lj_state_load(st, id, ret);
	lj_state_close(st);
	return r;
}

int lj_handoff_detach(struct lj_session *session, const char *name, struct lj_result *res)
{
	char id[LJ_RECORD_ID_LEN];
	struct lj_record rec = {0};
	int r;

	memset(res, 0, sizeof(*res));
	if (!lj_ifname_valid(name))
		return lj_bad_input(res, "invalid link name '%s'", name);
	r = record_id(name, id);
	if (r < 0)
		return lj_fail(res, r, "cannot open lanjoin's network namespace: %s", strerror(-r));
	/* Nothing recorded (every first Join asks): one file looked up, not the text of every
	 * record (the Docker plugin's Join cost grew with the endpoints on the host). */
	r = find_id(session, id, &rec);
	if (r == -ENOENT)
		return 0;
	if (r == 0)
		lj_record_free(&rec);
	/* Its id is known: only that record is read. */
	return lj_detach_id(id, res, NULL);
}

struct recover_match {
	const char *key, *network;
	struct lj_status_ns host; /* lanjoin's namespace, dumped before the lock */
	bool dumped;
};

static bool match_recover(const struct lj_record *rec, void *data)
{
	struct recover_match *m = data;
	const json_t *fe = json_object_get(rec->info, m->key);
	char why[256];

	if (!fe || !json_is_true(json_object_get(rec->info, "handoff")))
		return false;
	if (m->network && (!json_is_string(json_object_get(fe, "network")) ||
			   strcmp(json_string_value(json_object_get(fe, "network")), m->network)))
		return false;
	if (strcmp(rec->status, "attached") != 0)
		return true;
	return m->dumped && lj_status_gone(&m->host, rec, why, sizeof(why));
}

int lj_handoff_recover(const char *key, const char *network, struct lj_result *res,
		       size_t *ret_removed)
{
	struct recover_match m = {.key = key, .network = network};
	struct lj_nl *nl = NULL;
	int r;

	/* Without a dump only the unfinished ones go: an attached record is judged by it. */
	m.dumped = lj_nl_open(-1, &nl) == 0 && lj_status_ns_dump(nl, -1, &m.host) == 0;
	lj_nl_close(nl);
	r = lj_detach_matching(match_recover, &m, res, ret_removed);
	if (m.dumped)
		lj_status_ns_free(&m.host);
	return r;
}

int lj_handoff_find(const char *name, struct lj_record *ret)
{
	char id[LJ_RECORD_ID_LEN];
	int r;

	if (!lj_ifname_valid(name))
		return -EINVAL;
	r = record_id(name, id);
	return r < 0 ? r : find_id(NULL, id, ret);
}

int lj_handoff_undo(const json_t *plan_json, struct lj_result *res)
{
	struct lj_plan plan = {0};
	struct lj_target t = {.netns_fd = -1};
	struct lj_ctx ctx = {0};
	size_t failed = 0;
	int r;

	r = lj_plan_from_json(plan_json, &plan);
	if (r < 0)
		return lj_fail(res, r, "the recorded plan is invalid");
	r = open_self(NULL, &t, res);
	if (r == 0) {
		r = lj_ctx_open(&ctx, NULL, &t);
		if (r == 0)
			r = lj_plan_undo_all(&ctx, &plan, &failed);
		if (r < 0)
			lj_fail(res, r, "undo failed: %s%s%s", strerror(-r),
				ctx.detail[0] ? ": " : "", ctx.detail);
		lj_ctx_close(&ctx);
		lj_target_close(&t);
	}
	res->undo_failed = failed;
	lj_plan_free(&plan);
	return r;
}

int lj_handoff_names_read(struct lj_handoff_names *ret)
{
	struct lj_nl *nl = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = lj_nl_open(-1, &nl);
	if (r == 0)
		r = lj_link_list(nl, &ret->host, &ret->n_host);
	if (r == 0)
		r = lj_link_other_links(nl, &ret->others, &ret->n_others);
	lj_nl_close(nl);
	if (r < 0)
		lj_handoff_names_free(ret);
	return r;
}

bool lj_handoff_ifname(const struct lj_handoff_names *names, const struct lj_record *rec,
		       char ret[IFNAMSIZ])
{
	char buf[IFNAMSIZ];

	if (!json_is_true(json_object_get(rec->info, "handoff")) ||
	    !lj_handoff_ifname_in(rec, names->host, names->n_host, names->others, names->n_others,
				  buf))
		return false;
	memcpy(ret, buf, IFNAMSIZ);
	return true;
}

void lj_handoff_names_free(struct lj_handoff_names *names)
{
	free(names->host);
	free(names->others);
	memset(names, 0, sizeof(*names));
}
