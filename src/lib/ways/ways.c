/* SPDX-License-Identifier: MIT */
/*
 * The way table (lib/core/way.h): one row per way, with the options it takes, its static
 * checks, its plan builder, the step types its records may name and its gc. The engine and
 * the front ends know the ways only through these rows.
 */
#include "lib/ways/ways.h"

#include <linux/if_link.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/core/attach.h"
#include "lib/steps/handoff.h"
#include "lib/steps/nat.h"
#include "lib/steps/ovs.h"
#include "lib/steps/routed.h"
#include "lib/steps/uplink-addr.h"
#include "lib/steps/uplink-fw.h"
#include "lib/steps/uplink.h"
#include "lib/steps/macvlan.h"
#include "lib/ways/uplink.h"
#include "shared/macro.h"

/* The target-side addressing of a LAN link (lj_attach_add_addressing) and its routes. */
#define ADDRESSING_STEPS                                                                           \
	&lj_step_link_up, &lj_step_addr, &lj_step_route, &lj_step_sysctl, &lj_step_arp_probe,      \
		&lj_step_arp_notify, &lj_step_announce, &lj_step_slaac, &lj_step_dhcp,             \
		&lj_step_dhcp6, &lj_step_default_route, &lj_step_source_route

#define TAKES_L2 (LJ_OPT_BIT(COMMON) | LJ_OPT_BIT(ADDRESSING))

/* bridge, ovs: the bridge to join. */
static int check_bridge(const struct lj_attach_opts *o, struct lj_result *res)
{
	if (!o->bridge[0])
		return lj_bad_input(res, "attach %s needs --bridge BR", lj_way_name(o->way));
	/* before any look at a live attachment: a bad --ip or --gateway is named as such */
	return lj_attach_check_addressing(o, res);
}

static const struct lj_step_type *const bridge_steps[] = {
	&lj_step_bridge, &lj_step_veth, &lj_step_bridged_accept, ADDRESSING_STEPS, NULL,
};

static const struct lj_way_ops bridge_way = {
	.way = LJ_WAY_BRIDGE,
	.name = "bridge",
	.opts = TAKES_L2 | LJ_OPT_BIT(BRIDGE) | LJ_OPT_BIT(CREATE_BRIDGE) | LJ_OPT_BIT(UPLINK),
	.check = check_bridge,
	.build = lj_attach_bridge_build,
	.steps = bridge_steps,
	.before = lj_attach_bridge_before,
	.after = lj_attach_bridge_after,
	.detached = lj_attach_bridge_detached,
};

static const struct lj_step_type *const ovs_steps[] = {
	&lj_step_ovs_bridge, &lj_step_ovs_port, &lj_step_tx_csum_off,
	&lj_step_veth,	     ADDRESSING_STEPS,	NULL,
};

static const struct lj_way_ops ovs_way = {
	.way = LJ_WAY_OVS,
	.name = "ovs",
	.opts = TAKES_L2 | LJ_OPT_BIT(BRIDGE) | LJ_OPT_BIT(CREATE_BRIDGE) | LJ_OPT_BIT(VLAN) |
		LJ_OPT_BIT(OVSDB),
	.check = check_bridge,
	.build = lj_attach_ovs_build,
	.steps = ovs_steps,
	.gc = lj_attach_ovs_gc,
	.gc_key = "ovs_rows",
};

static int check_macvlan(const struct lj_attach_opts *o, struct lj_result *res)
{
	if (!o->parent[0])
		return lj_bad_input(res, "attach macvlan needs --parent DEV");
	/* The loopback link (always 'lo' in a namespace): named as such before a look at a
	 * live attachment; any other link that is no Ethernet is the builder's to refuse. */
	if (strcmp(o->parent, "lo") == 0)
		return lj_bad_input(res, "'lo' is not an Ethernet link: a macvlan needs one");
	return lj_attach_check_addressing(o, res);
}

static const struct lj_step_type *const macvlan_steps[] = {
	&lj_step_macvlan, &lj_step_shim, &lj_step_shim_route, ADDRESSING_STEPS, NULL,
};

static const struct lj_way_ops macvlan_way = {
	.way = LJ_WAY_MACVLAN,
	.name = "macvlan",
	.opts = TAKES_L2 | LJ_OPT_BIT(PARENT) | LJ_OPT_BIT(MODE) | LJ_OPT_BIT(HOST_SHIM),
	.check = check_macvlan,
	.build = lj_attach_macvlan_build,
	.steps = macvlan_steps,
	.modes = lj_macvlan_modes, /* steps/macvlan.c */
	.n_modes = LJ_MACVLAN_N_MODES,
};

static int check_nat(const struct lj_attach_opts *o, struct lj_result *res)
{
	if (!o->uplink[0] || o->address.ip.family == AF_UNSPEC)
		return lj_bad_input(res, "attach nat needs --uplink DEV and --address CIDR");
	if (o->private_net.ip.family != AF_UNSPEC && (o->to.family != AF_UNSPEC || o->to_engine))
		return lj_bad_input(res, "--private and --to exclude each other");
	/* before any look at a live attachment: a bad --address or --private is named as such */
	return lj_nat_check_input(o, res);
}

static const struct lj_step_type *const nat_steps[] = {
	&lj_step_arp_probe,  &lj_step_addr,	 &lj_step_garp,		 &lj_step_veth,
	&lj_step_link_up,    &lj_step_route,	 &lj_step_default_route, &lj_step_source_route,
	&lj_step_ip_forward, &lj_step_nat_rules, &lj_step_fw_accept,	 NULL,
};

static const struct lj_way_ops nat_way = {
	.way = LJ_WAY_NAT,
	.name = "nat",
	.opts = LJ_OPT_BIT(COMMON) | LJ_OPT_BIT(UPLINK) | LJ_OPT_BIT(ADDRESS) |
		LJ_OPT_BIT(PUBLISH) | LJ_OPT_BIT(PRIVATE) | LJ_OPT_BIT(TO),
	.check = check_nat,
	.build = lj_attach_nat_build,
	.steps = nat_steps,
};

static int check_routed(const struct lj_attach_opts *o, struct lj_result *res)
{
	if (!o->parent[0] || (!o->n_ips && !o->dhcp))
		return lj_bad_input(res, "attach routed needs --parent DEV and --ip ADDRESS");
	return 0;
}

static const struct lj_step_type *const routed_steps[] = {
	&lj_step_arp_probe,	&lj_step_ndp_probe,   &lj_step_ip_forward,
	&lj_step_routed_sysctl, &lj_step_veth,	      &lj_step_addr,
	&lj_step_link_up,	&lj_step_route,	      &lj_step_default_route,
	&lj_step_source_route,	&lj_step_proxy_neigh, &lj_step_proxy_announce,
	&lj_step_fw_accept,	&lj_step_sysctl,      NULL,
};

/* The routed way takes --ip but none of the rest of ADDRESSING (its builder refuses them). */
static const struct lj_way_ops routed_way = {
	.way = LJ_WAY_ROUTED,
	.name = "routed",
	.opts = LJ_OPT_BIT(COMMON) | LJ_OPT_BIT(ADDRESSING) | LJ_OPT_BIT(PARENT),
	.check = check_routed,
	.build = lj_attach_routed_build,
	.steps = routed_steps,
};

const struct lj_way_ops *const lj_way_table[LJ_WAY_COUNT] = {
	[LJ_WAY_BRIDGE] = &bridge_way,	 [LJ_WAY_OVS] = &ovs_way,
	[LJ_WAY_MACVLAN] = &macvlan_way, [LJ_WAY_NAT] = &nat_way,
	[LJ_WAY_ROUTED] = &routed_way,
};

const struct lj_record_gc lj_way_record_gc = {
	.key = "uplink_adoptions",
	.gc = lj_uplink_gc,
};

const struct lj_step_type *const lj_way_other_steps[] = {
	/* uplink adoption (uplink.h) */
	&lj_step_uplink_bridge,
	&lj_step_sysctl_copy,
	&lj_step_addr_copy,
	&lj_step_enslave,
	&lj_step_route_move,
	&lj_step_addr_move,
	&lj_step_addr_flags,
	&lj_step_probe,
	&lj_step_test_crash,
	&lj_step_bridged_accept,
	&lj_step_sysctl_set,
	&lj_step_ovs_uplink_bridge,
	&lj_step_ovs_enslave,
	&lj_step_link_up,
	/* the host shim command (shim.c) */
	&lj_step_shim,
	&lj_step_arp_probe,
	/* links handed to a container engine (handoff.c) */
	&lj_step_handoff_veth,
	&lj_step_handoff_macvlan,
	&lj_step_shim_route,
	&lj_step_ovs_port,
	&lj_step_tx_csum_off,
	NULL,
};

const struct lj_step_type *const *const lj_step_type_lists[] = {
	bridge_steps, ovs_steps, macvlan_steps, nat_steps, routed_steps, lj_way_other_steps, NULL,
};
