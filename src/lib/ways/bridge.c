/* SPDX-License-Identifier: MIT */
/* The bridge way: a veth pair, host end a port of a Linux bridge, peer end in the target. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/attach.h"
#include "lib/kernel/link.h"
#include "lib/kernel/neigh.h"
#include "lib/steps/uplink-fw.h"
#include "lib/steps/rtnl.h"
#include "lib/ways/lan-prefix.h"
#include "lib/ways/uplink.h"
#include "lib/ways/ways.h"
#include "shared/name.h"

/*
 * Whether link l (not a Linux bridge) looks like an Open vSwitch bridge: the kernel datapath
 * makes it a link of kind "openvswitch"; the userspace (netdev) datapath makes it a tap (kind
 * "tun") next to the datapath's own tap "ovs-netdev". The OVS database is not asked: it may
 * not be the default one (e.g. the lab's), and this only picks the wording of an error.
 */
static bool is_ovs_bridge(struct lj_ctx *ctx, const struct lj_link *l)
{
	struct lj_link dp;

	if (strcmp(l->kind, "openvswitch") == 0)
		return true;
	return strcmp(l->kind, "tun") == 0 && lj_link_get(ctx->host, "ovs-netdev", &dp) == 0;
}

/*
 * The bridge o->bridge is missing and the user did not ask for a new one: refuse, naming the
 * Linux bridges there are and the two ways to get this one.
 */
static int refuse_missing(struct lj_ctx *ctx, const struct lj_attach_opts *o, struct lj_result *res)
{
	struct lj_link *v = NULL;
	char names[512] = "";
	size_t n = 0, len = 0;

	if (lj_link_list_kind(ctx->host, "bridge", &v, &n) == 0)
		for (size_t i = 0; i < n && len < sizeof(names); i++)
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						i ? ", " : "", v[i].name);
	free(v);
	return lj_bad_input(res,
			    "Bridge '%s' does not exist (Linux bridges here: %s). To create "
			    "it: --uplink DEV adopts DEV into it (DEV's addresses and routes move "
			    "onto the bridge, as 'lanjoin uplink adopt %s DEV' does); "
			    "--create-bridge makes an empty bridge that reaches no LAN until it "
			    "has an uplink",
			    o->bridge, n ? names : "none", o->bridge);
}

/*
 * Refuse a --mac the bridge's segment already has: the bridge's own (with an adopted uplink,
 * the uplink's), a port's (the uplink, other attachments' host ends), or another attachment's
 * container end. Two interfaces with one MAC on a bridge steal each other's frames.
 */
static int check_mac(struct lj_ctx *ctx, const struct lj_attach_opts *o, const struct lj_link *br,
		     struct lj_result *res)
{
	char mac[LJ_MAC_STRLEN], what[IFNAMSIZ + 16];
	struct lj_link *ports = NULL;
	size_t n = 0;
	int r;

	lj_mac_to_string(o->mac, mac, sizeof(mac));
	if (br) {
		if (br->has_mac && memcmp(br->mac, o->mac, LJ_MAC_LEN) == 0)
			return lj_bad_input(res, "MAC %s is the address of bridge '%s' itself", mac,
					    o->bridge);
		/*
		 * The bridge keeps each port's own address as a local entry of its forwarding
		 * database: one lookup there answers, whatever the number of ports; the ports are
		 * listed only to name the one that has it (or where the kernel has no lookup).
		 */
		r = lj_neigh_fdb_local(ctx->host, br->ifindex, o->mac, NULL);
		if (r == 0)
			goto records;
		r = lj_link_list_ports(ctx->host, br->ifindex, &ports, &n);
		if (r < 0)
			return lj_fail(res, r, "Failed to list the ports of bridge '%s': %s",
				       o->bridge, strerror(-r));
		for (size_t i = 0; i < n; i++) {
			if (!ports[i].has_mac || memcmp(ports[i].mac, o->mac, LJ_MAC_LEN) != 0)
				continue;
			r = lj_bad_input(res,
					 "MAC %s is the address of '%s', a port of bridge '%s'",
					 mac, ports[i].name, o->bridge);
			free(ports);
			return r;
		}
		free(ports);
	} else if (o->uplink[0]) {
		/* a dry run of an attach that adopts the uplink first: the bridge takes its MAC */
		struct lj_link up;
		if (lj_link_get(ctx->host, o->uplink, &up) == 0 && up.has_mac &&
		    memcmp(up.mac, o->mac, LJ_MAC_LEN) == 0)
			return lj_bad_input(res, "MAC %s is the address of uplink '%s'", mac,
					    o->uplink);
	}
records:
	snprintf(what, sizeof(what), "bridge '%s'", o->bridge);
	return lj_attach_check_mac_users(ctx->state, "bridge", "bridge", o->bridge, o->mac, what,
					 res);
}

int lj_attach_bridge_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			   struct lj_plan *plan, struct lj_record *rec, struct lj_result *res)
{
	char host_name[IFNAMSIZ], chains[2][16];
	uint32_t mtu = 1500;
	bool need[2];
	struct lj_link br;
	struct lj_step *s;
	bool create;
	int r, br_index = 0;

	if (!lj_ifname_valid(o->bridge))
		return lj_bad_input(res, "Invalid bridge name '%s'", o->bridge);

	r = lj_link_get(ctx->host, o->bridge, &br);
	if (r < 0 && r != -ENODEV)
		return lj_fail(res, r, "Failed to look up bridge '%s': %s", o->bridge,
			       strerror(-r));
	create = r == -ENODEV;
	if (!create) {
		if (is_ovs_bridge(ctx, &br))
			return lj_bad_input(res,
					    "'%s' is an Open vSwitch bridge: use 'lanjoin attach "
					    "ovs'",
					    o->bridge);
		if (strcmp(br.kind, "bridge") != 0)
			return lj_bad_input(res,
					    "'%s' exists and is not a Linux bridge (kind '%s')",
					    o->bridge, br.kind[0] ? br.kind : "none");
		mtu = br.mtu;
		br_index = br.ifindex;
		lj_ctx_remember_bridge(ctx, o->bridge, br.ifindex); /* its step needs no lookup */
	} else if (o->uplink[0]) {
		/* lj_attach adopts the uplink first; a dry run shows that adoption's steps. */
		if (!o->dry_run)
			return lj_fail(res, -ENODEV, "Bridge '%s' disappeared", o->bridge);
		r = lj_uplink_plan(ctx, o->bridge, o->uplink, plan, &mtu, res);
		if (r < 0)
			return r;
		create = false;
	} else if (!o->create_bridge) {
		return refuse_missing(ctx, o, res);
	}
	if (o->mtu > mtu)
		return lj_bad_input(res, "MTU %u is above the MTU of bridge '%s', %u", o->mtu,
				    o->bridge, mtu);

	r = lj_rtnl_check_ifname_free(ctx, ifname, res);
	if (r < 0)
		return r;

	if (o->has_mac) {
		r = check_mac(ctx, o, create ? NULL : &br, res);
		if (r < 0)
			return r;
	}

	lj_target_host_ifname(ctx->tgt, "ljv", ifname, host_name);
	snprintf(rec->host_ifname, sizeof(rec->host_ifname), "%s", host_name);

	s = lj_plan_add(plan, &lj_step_bridge, LJ_HOST, "%s bridge '%s'", create ? "create" : "use",
			o->bridge);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", o->bridge);
	if (create) {
		s->flags |= LJ_STEP_F_WILL_CREATE;
		/*
		 * A MAC set at creation stays: without one, the bridge takes the lowest MAC of its
		 * ports and changes it whenever a lower one joins (breaking CNI CHECK of the
		 * others).
		 */
		r = lj_mac_random(s->mac);
		if (r < 0)
			return lj_fail(res, r, "Failed to choose a MAC address for bridge '%s': %s",
				       o->bridge, strerror(-r));
		s->has_mac = true;
	}

	s = lj_plan_add(plan, &lj_step_veth, LJ_HOST,
			"create veth pair '%s' (host) / '%s' (target)", host_name, ifname);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", host_name);
	snprintf(s->peer, sizeof(s->peer), "%s", ifname);
	snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	s->mtu = mtu;
	s->peer_mtu = o->mtu ? o->mtu : mtu;
	r = lj_rtnl_veth_macs(s, o);
	if (r < 0)
		return lj_fail(res, r, "Failed to choose MAC addresses for '%s': %s", host_name,
			       strerror(-r));

	/*
	 * br_netfilter with a FORWARD policy of drop (Docker's) silently drops what is bridged
	 * to and from this port: accept it, unless an adoption of the bridge already does.
	 */
	lj_uplink_fw_needs(need, chains);
	for (uint32_t i = 0, fam = 2; i < 2; i++, fam += 8) {
		const char *chain = chains[i];
		if (!need[i] || lj_uplink_fw_has_rule(fam, chain, o->bridge) > 0)
			continue;
		s = lj_plan_add(plan, &lj_step_bridged_accept, LJ_HOST,
				"accept traffic bridged on '%s' "
				"(%s filter %s has policy drop)",
				o->bridge, fam == 2 ? "ip" : "ip6", chain);
		if (!s || !(s->text = strdup(chain)))
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->bridge);
		snprintf(s->peer, sizeof(s->peer), "%s", host_name);
		s->u32 = fam;
	}

	json_object_set_new(rec->info, "bridge", json_string(o->bridge));
	if (create)
		json_object_set_new(rec->info, "bridge_created", json_true());
	if (br_index && (r = lj_way_warn_off_lan(ctx, br_index, "bridge", o->bridge, o, res)) < 0)
		return r;
	return lj_attach_add_addressing(ctx, o, ifname, plan, rec, res);
}

/* --- before and after the transaction ----------------------------------------------------- */

int lj_attach_bridge_before(const struct lj_attach_opts *o, struct lj_result *res, bool *ret_done)
{
	if (!o->uplink[0])
		return 0;
	return lj_uplink_adopt_if_missing(o->bridge, o->uplink, res, ret_done);
}

void lj_attach_bridge_after(const struct lj_attach_opts *o, int r, struct lj_result *res)
{
	struct lj_result rr;

	if (r == 0) {
		if (res->json)
			json_object_set_new(res->json, "adopted_uplink", json_string(o->uplink));
		return;
	}
	/* Only if nobody relies on the adoption by now (decided under the state lock). */
	r = lj_uplink_give_back(o->bridge, &rr);
	if (r < 0) {
		size_t len = strlen(res->message);
		snprintf(res->message + len, sizeof(res->message) - len,
			 "; and the uplink adopted for it could not be given back: %s", rr.message);
		res->undo_failed++;
	} else if (r > 0) {
		size_t len = strlen(res->message);
		snprintf(res->message + len, sizeof(res->message) - len,
			 "; the uplink adopted for it was not given back: %s", rr.message);
	}
	lj_result_done(&rr);
}

/*
 * rec (on a bridge) was just detached: if it was the last attachment on a bridge that holds an
 * uplink lanjoin adopted, say so in res->message, and how to give the uplink its addresses
 * back: detach never does that by itself (the host's own network is on that bridge).
 */
void lj_attach_bridge_detached(struct lj_state *st, const struct lj_record *rec,
			       struct lj_result *res)
{
	const char *br = json_string_value(json_object_get(rec->info, "bridge"));
	struct lj_record *others = NULL;
	char dev[IFNAMSIZ], text[400];
	size_t n = 0, len, left = 0;

	if (!br || lj_uplink_adopted_dev(st, br, dev) < 0)
		return;
	if (lj_state_list_info(st, "bridge", br, &others, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *b = json_string_value(json_object_get(others[i].info, "bridge"));
		left += b && strcmp(b, br) == 0 && strcmp(others[i].id, rec->id) != 0;
	}
	lj_records_free(others, n);
	if (left)
		return;
	snprintf(text, sizeof(text),
		 "No attachment is left on %s, which still holds the uplink %s with the host's "
		 "addresses and routes; give them back to %s with 'lanjoin uplink release %s'",
		 br, dev, dev, br);
	if (strstr(res->message, text))
		return; /* detach --all: said for another attachment on br already */
	len = strlen(res->message);
	snprintf(res->message + len, sizeof(res->message) - len, "%s%s", len ? "\n" : "", text);
}
