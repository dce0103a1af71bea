/* SPDX-License-Identifier: MIT */
/* The bridge way: a veth pair, host end a port of a Linux bridge, peer end in the target. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/attach.h"
#include "lib/link.h"
#include "lib/uplink.h"
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

int lj_attach_bridge_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			   struct lj_plan *plan, struct lj_record *rec, struct lj_result *res)
{
	char host_name[IFNAMSIZ], key[128];
	uint32_t mtu = 1500;
	struct lj_link br, l;
	struct lj_step *s;
	bool create;
	int r;

	if (!lj_ifname_valid(o->bridge))
		return lj_bad_input(res, "Invalid bridge name '%s'", o->bridge);

	r = lj_link_get(ctx->host, o->bridge, &br);
	if (r < 0 && r != -ENODEV)
		return lj_fail(res, r, "Failed to look up bridge '%s': %s", o->bridge, strerror(-r));
	create = r == -ENODEV;
	if (!create) {
		if (is_ovs_bridge(ctx, &br))
			return lj_bad_input(res, "'%s' is an Open vSwitch bridge: use 'lanjoin attach "
					    "ovs'", o->bridge);
		if (strcmp(br.kind, "bridge") != 0)
			return lj_bad_input(res, "'%s' exists and is not a Linux bridge (kind '%s')",
					    o->bridge, br.kind[0] ? br.kind : "none");
		mtu = br.mtu;
	} else if (o->uplink[0]) {
		/* lj_attach adopts the uplink first; a dry run shows that adoption's steps. */
		if (!o->dry_run)
			return lj_fail(res, -ENODEV, "Bridge '%s' disappeared", o->bridge);
		r = lj_uplink_plan(ctx, o->bridge, o->uplink, plan, &mtu, res);
		if (r < 0)
			return r;
		create = false;
	}
	if (o->mtu > mtu)
		return lj_bad_input(res, "MTU %u is above the MTU of bridge '%s', %u", o->mtu, o->bridge,
				    mtu);

	r = lj_link_get(ctx->target, ifname, &l);
	if (r == 0)
		return lj_bad_input(res, "'%s' already exists in %s; choose another --ifname",
				    ifname, ctx->tgt->spec);
	if (r != -ENODEV)
		return lj_fail(res, r, "Failed to look up '%s' in the target: %s", ifname,
			       strerror(-r));

	snprintf(key, sizeof(key), "%s/%s", ctx->tgt->key, ifname);
	lj_name_hashed("ljv", key, host_name);
	snprintf(rec->host_ifname, sizeof(rec->host_ifname), "%s", host_name);

	s = lj_plan_add(plan, &lj_step_bridge, LJ_HOST, "%s bridge '%s'",
			create ? "create" : "use", o->bridge);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", o->bridge);
	if (create) {
		s->flags |= LJ_STEP_F_WILL_CREATE;
		/*
		 * A MAC set at creation stays: without one, the bridge takes the lowest MAC of its
		 * ports and changes it whenever a lower one joins (breaking CNI CHECK of the others).
		 */
		r = lj_mac_random(s->mac);
		if (r < 0)
			return lj_fail(res, r, "Failed to choose a MAC address for bridge '%s': %s",
				       o->bridge, strerror(-r));
		s->has_mac = true;
	}

	s = lj_plan_add(plan, &lj_step_veth, LJ_HOST, "create veth pair '%s' (host) / '%s' (target)",
			host_name, ifname);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", host_name);
	snprintf(s->peer, sizeof(s->peer), "%s", ifname);
	snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	s->mtu = mtu;
	s->peer_mtu = o->mtu ? o->mtu : mtu;
	if (o->has_mac) {
		memcpy(s->mac, o->mac, LJ_MAC_LEN);
		s->has_mac = true;
	}

	/*
	 * br_netfilter with a FORWARD policy of drop (Docker's) silently drops what is bridged
	 * to and from this port: accept it, unless an adoption of the bridge already does.
	 */
	for (uint32_t fam = 2; fam <= 10; fam += 8) {
		char chain[16];
		if (lj_uplink_fw_needed(fam, chain) <= 0 ||
		    lj_uplink_fw_has_rule(fam, chain, o->bridge) > 0)
			continue;
		s = lj_plan_add(plan, &lj_step_bridged_accept, LJ_HOST, "accept traffic bridged on '%s' "
				"(%s filter %s has policy drop)", o->bridge, fam == 2 ? "ip" : "ip6",
				chain);
		if (!s || !(s->text = strdup(chain)))
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->bridge);
		snprintf(s->peer, sizeof(s->peer), "%s", host_name);
		s->u32 = fam;
	}

	json_object_set_new(rec->info, "bridge", json_string(o->bridge));
	if (create)
		json_object_set_new(rec->info, "bridge_created", json_true());
	return lj_attach_add_addressing(ctx, o, ifname, plan, rec, res);
}
