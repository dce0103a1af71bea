/* SPDX-License-Identifier: MIT */
/*
 * The ovs way: a veth pair whose host end becomes a port of an Open vSwitch bridge (an access
 * port with --vlan), the peer end in the target. On a bridge with the userspace (netdev)
 * datapath, TX checksum offload is turned off on both veth ends: veths hand packets over
 * with partial checksums, which OVS's userspace datapath forwards as they are, so TCP fails
 * while ping works. Its plan builder and gc; the step types are in steps/ovs.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/attach.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netns.h"
#include "lib/foreign/ovs.h"
#include "lib/steps/ovs.h"
#include "lib/steps/rtnl.h"
#include "lib/ways/ways.h"
#include "shared/macro.h"
#include "shared/name.h"

/* --- the plan ----------------------------------------------------------------------------- */

/* The datapath a new bridge gets: that of the bridges already there, else netdev unless the
 * kernel has the openvswitch module (then the default, "system"). */
static int pick_datapath(const struct lj_ovs_survey *sv)
{
	struct stat st;

	if (sv->n_bridges)
		return strcmp(sv->bridges[0].datapath_type, "netdev") == 0 ? LJ_OVS_DP_NETDEV
									   : LJ_OVS_DP_DEFAULT;
	return stat("/sys/module/openvswitch", &st) == 0 ? LJ_OVS_DP_DEFAULT : LJ_OVS_DP_NETDEV;
}

static int not_running(struct lj_result *res, const char *why)
{
	return lj_bad_input(res,
			    "%s. Start Open vSwitch (e.g. 'systemctl start "
			    "openvswitch-switch' or '/usr/share/openvswitch/scripts/ovs-ctl "
			    "start'), or point --ovsdb unix:PATH or $OVS_RUNDIR at the "
			    "ovsdb-server to use",
			    why);
}

int lj_attach_ovs_build(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			struct lj_plan *plan, struct lj_record *rec, struct lj_result *res)
{
	char host_name[IFNAMSIZ];
	const struct lj_ovs_bridge *br = NULL;
	struct lj_ovs_survey sv = {0};
	struct lj_link brl, l;
	struct lj_ovs *ovs = NULL;
	_cleanup_close_ int ns = -1;
	char path[64];
	pid_t pid = 0;
	bool create, replace = false, have_link;
	uint32_t mtu = 1500;
	struct lj_step *s;
	int dp, r;

	if (!lj_ifname_valid(o->bridge) || o->bridge[0] == '-')
		return lj_bad_input(res, "Invalid bridge name '%s'", o->bridge);
	if (o->vlan > 4094)
		return lj_bad_input(res, "Invalid VLAN tag %u: expected 1-4094", o->vlan);

	r = lj_ovs_open(o->ovsdb, &ovs);
	if (r == -ENOENT)
		return lj_bad_input(res, "Open vSwitch is not installed (no ovs-vsctl in /usr/bin "
					 "or /usr/sbin): install it, e.g. 'apt-get install "
					 "openvswitch-switch'");
	if (r == -EINVAL)
		return lj_bad_input(res,
				    "Invalid OVS database '%s': expected unix:/PATH (at most "
				    "%d bytes)",
				    o->ovsdb ? o->ovsdb : "", LJ_OVS_DB_MAX - 1);
	if (r < 0)
		return lj_fail(res, r, "Failed to prepare Open vSwitch access: %s", strerror(-r));

	r = lj_ovs_check_running(ovs, &pid);
	if (r < 0) {
		r = not_running(res, lj_ovs_error(ovs));
		goto out;
	}
	/* ovs-vswitchd opens ports by name in its own namespace: the veth must be made there. */
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (lj_netns_open_path(path, &ns) == 0 && !lj_netns_is_current(ns)) {
		r = lj_bad_input(res,
				 "ovs-vswitchd (pid %d) runs in another network namespace than "
				 "lanjoin: run lanjoin in its namespace (e.g. 'nsenter --net=%s "
				 "lanjoin ...')",
				 (int)pid, path);
		goto out;
	}

	r = lj_link_get(ctx->host, o->bridge, &brl);
	if (r < 0 && r != -ENODEV) {
		r = lj_fail(res, r, "Failed to look up bridge '%s': %s", o->bridge, strerror(-r));
		goto out;
	}
	have_link = r == 0;
	if (have_link && strcmp(brl.kind, "bridge") == 0) {
		r = lj_bad_input(res,
				 "'%s' is a Linux bridge, not an Open vSwitch bridge: use "
				 "'lanjoin attach bridge'",
				 o->bridge);
		goto out;
	}

	lj_target_host_ifname(ctx->tgt, "ljo", ifname, host_name);

	r = lj_ovs_survey(ovs, host_name, o->bridge, &sv);
	if (r == -ECONNREFUSED || r == -ETIMEDOUT) {
		char why[LJ_OVS_ERROR_MAX + 64];
		snprintf(why, sizeof(why), "ovsdb-server does not answer at %s (%s)",
			 lj_ovs_db(ovs), lj_ovs_error(ovs));
		r = not_running(res, why);
		goto out;
	}
	if (r < 0) {
		r = lj_fail(res, r, "Failed to read the OVS database %s: %s", lj_ovs_db(ovs),
			    lj_ovs_error(ovs)[0] ? lj_ovs_error(ovs) : strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < sv.n_bridges && !br; i++)
		if (strcmp(sv.bridges[i].name, o->bridge) == 0)
			br = &sv.bridges[i];
	create = !br;
	if (create && !have_link && !sv.name_is_iface && !o->create_bridge) {
		char names[512] = "";
		size_t len = 0;

		for (size_t i = 0; i < sv.n_bridges && len < sizeof(names); i++)
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						i ? ", " : "", sv.bridges[i].name);
		r = lj_bad_input(
			res,
			"OVS bridge '%s' does not exist (OVS bridges in %s: %s). To "
			"create it: 'lanjoin uplink adopt %s DEV --ovs' adopts DEV into it "
			"(DEV's addresses and routes move onto the bridge); --create-bridge "
			"makes an empty bridge that reaches no LAN until it has an uplink",
			o->bridge, lj_ovs_db(ovs), sv.n_bridges ? names : "none", o->bridge);
		goto out;
	}
	if (create && have_link) {
		r = lj_bad_input(res,
				 "'%s' is not an Open vSwitch bridge (it is a link of kind "
				 "'%s')",
				 o->bridge, brl.kind[0] ? brl.kind : "none");
		goto out;
	}
	if (create && sv.name_is_iface) {
		r = lj_bad_input(res, "'%s' is an interface in Open vSwitch, not a bridge",
				 o->bridge);
		goto out;
	}
	dp = create					? pick_datapath(&sv)
	     : strcmp(br->datapath_type, "netdev") == 0 ? LJ_OVS_DP_NETDEV
							: LJ_OVS_DP_DEFAULT;
	if (have_link)
		mtu = brl.mtu;
	/* A port with a smaller MTU would make OVS lower the bridge's own MTU: the host end keeps
	 * the bridge's, only the target's end may be smaller. */
	if (o->mtu > mtu) {
		r = lj_bad_input(res, "MTU %u is above the MTU of bridge '%s', %u", o->mtu,
				 o->bridge, mtu);
		goto out;
	}

	r = lj_link_get(ctx->host, host_name, &l);
	if (r == 0) {
		r = lj_bad_input(res,
				 "A link named '%s' (lanjoin's name for %s as '%s') already "
				 "exists on the host",
				 host_name, ctx->tgt->spec, ifname);
		goto out;
	}
	if (r != -ENODEV) {
		r = lj_fail(res, r, "Failed to look up '%s': %s", host_name, strerror(-r));
		goto out;
	}
	if (sv.has_port) {
		if (!sv.port.ours) {
			r = lj_bad_input(res,
					 "A port named '%s' exists in Open vSwitch and is "
					 "not lanjoin's; remove it or choose another --ifname",
					 host_name);
			goto out;
		}
		/* Ours, and its interface is gone (checked above): a stale row, e.g. from
		 * before a reboot. The port step replaces it in the same transaction. */
		replace = true;
	}

	r = lj_rtnl_check_ifname_free(ctx, ifname, res);
	if (r < 0)
		goto out;
	snprintf(rec->host_ifname, sizeof(rec->host_ifname), "%s", host_name);

	r = -ENOMEM;
	s = lj_plan_add(plan, &lj_step_ovs_bridge, LJ_HOST, "%s OVS bridge '%s'",
			create ? "create" : "use", o->bridge);
	if (!s || !(s->text = strdup(lj_ovs_db(ovs))))
		goto out;
	snprintf(s->link, sizeof(s->link), "%s", o->bridge);
	s->u32 = (uint32_t)dp;
	if (create)
		s->flags |= LJ_STEP_F_WILL_CREATE;

	s = lj_plan_add(plan, &lj_step_veth, LJ_HOST,
			"create veth pair '%s' (host) / '%s' (target)", host_name, ifname);
	if (!s)
		goto out;
	snprintf(s->link, sizeof(s->link), "%s", host_name);
	snprintf(s->peer, sizeof(s->peer), "%s", ifname);
	s->mtu = mtu;
	s->peer_mtu = o->mtu ? o->mtu : mtu;
	r = lj_rtnl_veth_macs(s, o);
	if (r < 0) {
		r = lj_fail(res, r, "Failed to choose MAC addresses for '%s': %s", host_name,
			    strerror(-r));
		goto out;
	}
	r = -ENOMEM;

	if (dp == LJ_OVS_DP_NETDEV) {
		s = lj_plan_add(plan, &lj_step_tx_csum_off, LJ_HOST,
				"turn off TX checksum offload on '%s' and '%s' (netdev datapath)",
				host_name, ifname);
		if (!s)
			goto out;
		snprintf(s->link, sizeof(s->link), "%s", host_name);
		snprintf(s->peer, sizeof(s->peer), "%s", ifname);
	}

	if (o->vlan)
		s = lj_plan_add(plan, &lj_step_ovs_port, LJ_HOST,
				"add port '%s' to OVS bridge '%s' (VLAN %u)", host_name, o->bridge,
				o->vlan);
	else
		s = lj_plan_add(plan, &lj_step_ovs_port, LJ_HOST,
				"add port '%s' to OVS bridge '%s'", host_name, o->bridge);
	if (!s || !(s->text = strdup(lj_ovs_db(ovs))))
		goto out;
	snprintf(s->link, sizeof(s->link), "%s", host_name);
	snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	snprintf(s->peer, sizeof(s->peer), "%s", ifname);
	s->u32 = o->vlan;
	if (replace)
		s->flags |= LJ_STEP_F_OVS_REPLACE;

	json_object_set_new(rec->info, "bridge", json_string(o->bridge));
	json_object_set_new(rec->info, "ovsdb", json_string(lj_ovs_db(ovs)));
	json_object_set_new(rec->info, "datapath_type",
			    json_string(dp == LJ_OVS_DP_NETDEV ? "netdev" : "system"));
	if (o->vlan)
		json_object_set_new(rec->info, "vlan", json_integer(o->vlan));
	if (create)
		json_object_set_new(rec->info, "bridge_created", json_true());
	r = lj_attach_add_addressing(ctx, o, ifname, plan, rec, res);
out:
	lj_ovs_survey_free(&sv);
	lj_ovs_close(ovs);
	return r;
}

/* --- gc: lanjoin's OVS rows that no record explains ---------------------------------------- */

#define GC_MAX_DBS 8

static bool claimed(const struct lj_record *recs, size_t n, const char *port)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(recs[i].host_ifname, port) == 0)
			return true;
	return false;
}

static void add_db(char dbs[][LJ_OVS_DB_MAX], size_t *n, const char *db)
{
	char buf[LJ_OVS_DB_MAX];

	if (*n >= GC_MAX_DBS || !lj_ovs_resolve_db(db, buf, sizeof(buf)))
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(dbs[i], buf) == 0)
			return;
	snprintf(dbs[(*n)++], LJ_OVS_DB_MAX, "%s", buf);
}

/* Remove the orphans of one database; returns how many rows were removed, or -errno. */
static int gc_db(const char *db, const struct lj_record *recs, size_t n, struct lj_result *res)
{
	struct lj_ovs_bridge *brs = NULL;
	struct lj_ovs_port *ports = NULL;
	_cleanup_close_ int ns = -1;
	struct lj_nl *nl = NULL;
	struct lj_ovs *o = NULL;
	size_t n_ports = 0, n_brs = 0;
	char path[64];
	int removed = 0, r;
	pid_t pid;

	/* Nothing to do without OVS; nothing can be decided without ovs-vswitchd. */
	if (lj_ovs_open(db, &o) < 0)
		return 0;
	if (lj_ovs_check_running(o, &pid) < 0) {
		lj_ovs_close(o);
		return 0;
	}
	r = lj_ovs_list_ours(o, &ports, &n_ports, &brs, &n_brs);
	if (r < 0) {
		lj_fail(res, r, "Failed to read the OVS database %s: %s", lj_ovs_db(o),
			lj_ovs_error(o));
		goto out;
	}
	if (n_ports == 0 && n_brs == 0)
		goto out;
	/* A port is dead when its link is gone from the namespace ovs-vswitchd runs in. */
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	r = lj_netns_open_path(path, &ns);
	if (r == 0)
		r = lj_nl_open(ns, &nl);
	if (r < 0) {
		lj_fail(res, r, "Failed to open the network namespace of ovs-vswitchd (%s): %s",
			path, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n_ports; i++) {
		struct lj_link l;

		if (claimed(recs, n, ports[i].name))
			continue;
		r = lj_link_get(nl, ports[i].name, &l);
		if (r != -ENODEV)
			continue; /* alive (or unknown): leave it */
		r = lj_ovs_port_del(o, ports[i].name);
		if (r < 0) {
			lj_fail(res, r, "Failed to remove stale OVS port '%s': %s", ports[i].name,
				lj_ovs_error(o));
			goto out;
		}
		lj_result_note(res,
			       "Removed OVS port row %s of %s (%s, ovs way) from %s: its link "
			       "is gone and no record claims it",
			       ports[i].name, ports[i].target[0] ? ports[i].target : "?",
			       ports[i].ifname[0] ? ports[i].ifname : "?", lj_ovs_db(o));
		removed++;
	}
	/* A bridge lanjoin created that has no port left but its own. */
	for (size_t i = 0; i < n_brs; i++) {
		struct lj_ovs_bridge b;

		if (lj_ovs_bridge_get(o, brs[i].name, &b) < 0 || !b.ours || b.n_ports > 1)
			continue;
		r = lj_ovs_bridge_del(o, b.name);
		if (r < 0) {
			lj_fail(res, r, "Failed to remove unused OVS bridge '%s': %s", b.name,
				lj_ovs_error(o));
			goto out;
		}
		lj_result_note(res,
			       "Removed OVS bridge %s from %s: lanjoin created it and no port "
			       "is left",
			       b.name, lj_ovs_db(o));
	}
	r = 0;
out:
	lj_nl_close(nl);
	free(ports);
	free(brs);
	lj_ovs_close(o);
	return r < 0 ? r : removed;
}

int lj_attach_ovs_gc(const struct lj_record *recs, size_t n, struct lj_result *res,
		     size_t *ret_removed)
{
	char dbs[GC_MAX_DBS][LJ_OVS_DB_MAX];
	size_t n_dbs = 0, removed = 0;
	int first = 0;

	add_db(dbs, &n_dbs, NULL);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(recs[i].way, "ovs") != 0)
			continue;
		for (size_t j = 0; j < recs[i].plan.n; j++)
			if (recs[i].plan.steps[j].type == &lj_step_ovs_port)
				add_db(dbs, &n_dbs, recs[i].plan.steps[j].text);
	}
	for (size_t i = 0; i < n_dbs; i++) {
		int r = gc_db(dbs[i], recs, n, res);
		if (r > 0)
			removed += (size_t)r;
		else if (r < 0 && !first)
			first = r;
	}
	*ret_removed = removed;
	return first;
}
