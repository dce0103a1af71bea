/* SPDX-License-Identifier: MIT */
/*
 * What the macvlan way (macvlan.c) and the host shim commands (shim.c) both check and name:
 * modes, the parent, the shim's name and identity, its address, the parent's other users.
 */
#include "lib/ways/macvlan-common.h"

#include <errno.h>
#include <linux/if_link.h>
#include <string.h>

#include "lib/core/handed.h"
#include "lib/core/state.h"
#include "lib/kernel/addr.h"
#include "shared/name.h"

struct host_children {
	size_t n;
	char first[IFNAMSIZ];
};

static int count_macvlan_cb(const struct lj_link *l, void *data)
{
	struct host_children *c = data;

	if (strcmp(l->kind, "macvlan") == 0 || strcmp(l->kind, "macvtap") == 0) {
		if (!c->n++)
			snprintf(c->first, sizeof(c->first), "%s", l->name);
	}
	return 0;
}

int lj_macvlan_check_users(struct lj_ctx *ctx, struct lj_state *st, const char *parent,
			   const struct lj_link *p, uint32_t mode, const struct lj_cidr *ips,
			   size_t n_ips, struct lj_result *res)
{
	struct host_children hc = {0};
	struct lj_record *recs = NULL;
	char buf[LJ_IP_STRLEN], who[LJ_TARGET_SPEC_MAX + 96];
	size_t n = 0;
	int r;

	r = lj_link_foreach_child(ctx->host, p->ifindex, count_macvlan_cb, &hc);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the links of lanjoin's namespace: %s",
			       strerror(-r));
	if (mode == MACVLAN_MODE_PASSTHRU && hc.n)
		return lj_bad_input(res,
				    "'%s' already has a macvlan ('%s'): passthru mode needs "
				    "the parent alone",
				    parent, hc.first);

	r = lj_attach_live_records(st, "macvlan", "parent", parent, &recs, &n, res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct lj_record *rec = &recs[i];
		const char *rm = json_string_value(json_object_get(rec->info, "mode"));

		if (mode == MACVLAN_MODE_PASSTHRU) {
			r = lj_bad_input(res,
					 "'%s' already carries the macvlan of %s ('%s'): "
					 "passthru mode needs the parent alone",
					 parent, rec->target_spec, rec->ifname);
			goto out;
		}
		if (rm && strcmp(rm, "passthru") == 0) {
			r = lj_bad_input(res,
					 "%s holds '%s' in passthru mode: no other macvlan can "
					 "join it",
					 rec->target_spec, parent);
			goto out;
		}
		for (size_t k = 0; k < n_ips; k++) {
			if (!lj_attach_record_has_ip(rec, &ips[k].ip))
				continue;
			r = lj_bad_input(res, "%s is the address of %s on '%s'",
					 lj_ip_to_string(&ips[k].ip, buf, sizeof(buf)),
					 lj_record_who(rec, who, sizeof(who)), parent);
			goto out;
		}
	}
	r = 0;
out:
	lj_records_free(recs, n);
	return r;
}

int lj_macvlan_check_parent(struct lj_nl *nl, const char *parent, struct lj_link *ret,
			    struct lj_result *res)
{
	struct lj_link l, m;
	int r;

	if (!lj_ifname_valid(parent))
		return lj_bad_input(res, "Invalid parent name '%s'", parent);
	r = lj_link_get(nl, parent, &l);
	if (r == -ENODEV)
		return lj_bad_input(
			res, "Parent '%s' does not exist (in lanjoin's network namespace)", parent);
	if (r < 0)
		return lj_fail(res, r, "Failed to look up parent '%s': %s", parent, strerror(-r));
	if (strcmp(l.kind, "bridge") == 0)
		return lj_bad_input(
			res,
			"'%s' is a Linux bridge, not an uplink: containers join a "
			"bridge as ports; use 'lanjoin attach bridge TARGET --bridge %s'",
			parent, parent);
	if (strcmp(l.kind, "openvswitch") == 0)
		return lj_bad_input(res,
				    "'%s' is an Open vSwitch bridge, not an uplink: use "
				    "'lanjoin attach ovs TARGET --bridge %s'",
				    parent, parent);
	if (l.master || l.slave_kind[0]) {
		const char *sk = l.slave_kind[0] ? l.slave_kind : "bridge";
		const char *mname = "?";

		if (l.master && lj_link_get_by_index(nl, l.master, &m) == 0)
			mname = m.name;
		if (strcmp(sk, "openvswitch") == 0)
			return lj_bad_input(res,
					    "'%s' is a port of Open vSwitch: the kernel refuses "
					    "a macvlan on a switch port (its frames belong to the "
					    "switch); use 'lanjoin attach ovs' with its bridge",
					    parent);
		if (strcmp(sk, "bridge") == 0)
			return lj_bad_input(
				res,
				"'%s' is a port of bridge '%s': the kernel refuses a "
				"macvlan on a bridge port (its frames belong to the "
				"bridge); use 'lanjoin attach bridge TARGET --bridge %s'",
				parent, mname, mname);
		return lj_bad_input(res,
				    "'%s' is a port of %s '%s': the kernel refuses a macvlan "
				    "on it; use --parent %s",
				    parent, sk, mname, mname);
	}
	if (strcmp(l.kind, "macvlan") == 0 || strcmp(l.kind, "macvtap") == 0) {
		const char *pname = "its parent";
		if (l.parent && lj_link_get_by_index(nl, l.parent, &m) == 0)
			pname = m.name;
		return lj_bad_input(res, "'%s' is itself a macvlan: use --parent %s", parent,
				    pname);
	}
	if ((l.flags & IFF_LOOPBACK) || !l.has_mac)
		return lj_bad_input(res, "'%s' is not an Ethernet link: a macvlan needs one",
				    parent);
	if (lj_link_is_wireless(parent, l.ifindex))
		return lj_bad_input(
			res,
			"'%s' is a wireless link: a macvlan cannot work on it (" LJ_WIRELESS_WHY
			"); the ways that work on it: " LJ_WIRELESS_WAYS,
			parent);
	*ret = l;
	return 0;
}

int lj_macvlan_check_shim_ip(const char *parent, const struct lj_cidr *shim,
			     const struct lj_cidr *parent_addrs, size_t n, struct lj_result *res)
{
	char a[LJ_CIDR_STRLEN], b[LJ_CIDR_STRLEN];
	const char *why = lj_ip_unicast_problem(&shim->ip, shim->prefixlen);
	bool in_subnet = false;

	if (!why && lj_ip_link_local(&shim->ip))
		why = LJ_LINK_LOCAL_WHY; /* spec files, CNI, the driver: as the CLI */

	if (why)
		return lj_bad_input(res, "Host shim address %s is %s",
				    lj_cidr_to_string(shim, a, sizeof(a)), why);
	for (size_t i = 0; i < n; i++) {
		if (lj_ip_equal(&parent_addrs[i].ip, &shim->ip))
			return lj_bad_input(res,
					    "Host shim address %s is the host's own address on "
					    "'%s': the shim needs an address of its own",
					    lj_ip_to_string(&shim->ip, a, sizeof(a)), parent);
		in_subnet |= lj_cidr_contains(&parent_addrs[i], &shim->ip);
	}
	if (!in_subnet) {
		a[0] = '\0';
		for (size_t i = 0, len = 0; i < n && len + 2 < sizeof(a); i++) {
			if (parent_addrs[i].ip.family != shim->ip.family ||
			    (shim->ip.family == AF_INET6 && parent_addrs[i].ip.bytes[0] == 0xfe))
				continue;
			snprintf(a + len, sizeof(a) - len, "%s%s", len ? ", " : "",
				 lj_cidr_to_string(&parent_addrs[i], b, sizeof(b)));
			len = strlen(a);
		}
		return lj_bad_input(res,
				    "Host shim address %s is not in the subnet of an address "
				    "of '%s' (%s): the shim must sit on the parent's LAN",
				    lj_cidr_to_string(shim, b, sizeof(b)), parent,
				    a[0] ? a : "it has none of that family");
	}
	return 0;
}

int lj_macvlan_check_passthru(struct lj_nl *nl, const char *parent, const struct lj_link *p,
			      bool force, struct lj_result *res)
{
	struct lj_cidr addrs[LJ_MACVLAN_MAX_ADDRS];
	char buf[LJ_CIDR_STRLEN];
	size_t n = 0;
	int r;

	if (force)
		return 0;
	r = lj_macvlan_link_addrs(nl, p->ifindex, parent, addrs, &n, res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (!lj_ip_link_local(&addrs[i].ip))
			return lj_bad_input(
				res,
				"'%s' carries the host's address %s: passthru mode would take "
				"it from the host and cut the host off the LAN until detach; use "
				"a parent of its own, or --force (force=true) if that is meant",
				parent, lj_cidr_to_string(&addrs[i], buf, sizeof(buf)));
	return 0;
}

int lj_macvlan_link_addrs(struct lj_nl *nl, int ifindex, const char *name, struct lj_cidr *addrs,
			  size_t *ret_n, struct lj_result *res)
{
	size_t n = 0;
	int r = lj_addr_list_link(nl, ifindex, AF_UNSPEC, addrs, LJ_MACVLAN_MAX_ADDRS, &n);

	if (r < 0)
		return lj_fail(res, r, "Failed to list the addresses of '%s': %s", name,
			       strerror(-r));
	*ret_n = n > LJ_MACVLAN_MAX_ADDRS ? LJ_MACVLAN_MAX_ADDRS : n;
	return 0;
}
