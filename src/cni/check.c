/* SPDX-License-Identifier: MIT */
/* CNI CHECK (live state against prevResult) and STATUS (can ADD be served now). */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cni/cni.h"
#include "lib/kernel/inspect.h"
#include "lib/kernel/link.h"
#include "lib/foreign/ovs.h"
#include "lib/steps/nat.h"
#include "lib/core/target.h"

static int differs(struct lj_cni_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int differs(struct lj_cni_err *err, const char *fmt, ...)
{
	va_list ap;

	err->code = LJ_CNI_E_CHECK;
	snprintf(err->msg, sizeof(err->msg), "the attachment differs from prevResult");
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return LJ_CNI_E_CHECK;
}

/* Check the interfaces prevResult lists, and the addresses on them. */
static int check_ifaces(const struct lj_cni_env *env, const json_t *prev, struct lj_inspect *ins,
			struct lj_cni_err *err)
{
	const json_t *ifs = json_object_get(prev, "interfaces"),
		     *ips = json_object_get(prev, "ips");
	const json_t *v;
	bool seen_ours = false;
	size_t i;

	if (!json_is_array(ifs))
		return lj_cni_fail(err, LJ_CNI_E_CONFIG, "invalid network configuration",
				   "prevResult has no \"interfaces\"");
	json_array_foreach(ifs, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *mac = json_string_value(json_object_get(v, "mac"));
		const char *sb = json_string_value(json_object_get(v, "sandbox"));
		bool in_cont = sb && *sb;
		char live[LJ_MAC_STRLEN];
		struct lj_link l;

		if (!name || !lj_ifname_valid(name))
			return lj_cni_fail(err, LJ_CNI_E_CONFIG, "invalid network configuration",
					   "prevResult.interfaces[%zu] has no valid name", i);
		if (in_cont && strcmp(name, env->ifname) != 0)
			continue; /* another plugin's */
		if (in_cont && strcmp(sb, env->netns) != 0)
			return differs(err, "interface %s: sandbox %s, but CNI_NETNS is %s", name,
				       sb, env->netns);
		seen_ours |= in_cont;
		if (lj_inspect_link(ins, in_cont, name, &l) < 0)
			return differs(err, "interface %s is missing%s", name,
				       in_cont ? " from the container" : " on the host");
		if (mac && *mac && l.has_mac &&
		    strcasecmp(mac, lj_mac_to_string(l.mac, live, sizeof(live))) != 0)
			return differs(err, "interface %s has MAC %s, prevResult says %s", name,
				       live, mac);
		if (in_cont && !(l.flags & IFF_UP))
			return differs(err, "interface %s is down", name);
	}
	if (!seen_ours)
		return differs(err, "prevResult lists no interface %s in %s", env->ifname,
			       env->netns);

	json_array_foreach(ips, i, v)
	{
		const json_t *idx = json_object_get(v, "interface"), *iface;
		const char *a = json_string_value(json_object_get(v, "address"));
		const char *name, *sb;
		struct lj_cidr c;
		int r;

		if (!json_is_integer(idx))
			continue;
		iface = json_array_get(ifs, (size_t)json_integer_value(idx));
		name = json_string_value(json_object_get(iface, "name"));
		sb = json_string_value(json_object_get(iface, "sandbox"));
		if (!iface || !name || !a || lj_parse_cidr(a, true, &c) < 0)
			return lj_cni_fail(err, LJ_CNI_E_CONFIG, "invalid network configuration",
					   "prevResult.ips[%zu] is malformed", i);
		if (sb && *sb && strcmp(name, env->ifname) != 0)
			continue;
		r = lj_inspect_link_has_addr(ins, sb && *sb, name, &c);
		if (r < 0)
			return differs(err, "cannot read the addresses of %s: %s", name,
				       strerror(-r));
		if (r == 0)
			return differs(err, "address %s is missing from %s", a, name);
	}
	return 0;
}

static int check_routes(const json_t *prev, struct lj_inspect *ins, struct lj_cni_err *err)
{
	const json_t *routes = json_object_get(prev, "routes"), *v;
	size_t i;

	json_array_foreach(routes, i, v)
	{
		const char *dst = json_string_value(json_object_get(v, "dst"));
		const char *gw = json_string_value(json_object_get(v, "gw"));
		struct lj_cidr c;
		struct lj_ip via = {.family = AF_UNSPEC};
		int r;

		if (!dst || lj_parse_cidr(dst, true, &c) < 0 || (gw && lj_parse_ip(gw, &via) < 0))
			return lj_cni_fail(err, LJ_CNI_E_CONFIG, "invalid network configuration",
					   "prevResult.routes[%zu] is malformed", i);
		r = lj_inspect_target_has_route(ins, &c, &via, 0);
		if (r < 0)
			return differs(err, "cannot read the container's routes: %s", strerror(-r));
		if (r == 0)
			return differs(err, "route to %s%s%s is missing from the container", dst,
				       gw ? " via " : "", gw ? gw : "");
	}
	return 0;
}

/* The nat mode's rules in table ip lanjoin, as the record says they were made. */
static int check_nft(const struct lj_record *rec, struct lj_cni_err *err)
{
	char why[512] = "";

	for (size_t i = 0; i < rec->plan.n; i++) {
		const struct lj_step *s = &rec->plan.steps[i];
		int r;

		if (s->type != &lj_step_nat_rules)
			continue;
		r = lj_nat_rules_verify(s, why, sizeof(why));
		if (r < 0)
			return lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure",
					   "cannot read the NAT rules: %s",
					   why[0] ? why : strerror(-r));
		if (r == 0)
			return differs(err, "%s", why);
	}
	return 0;
}

int lj_cni_cmd_check(const struct lj_cni_env *env, struct lj_cni_conf *conf, struct lj_cni_err *err)
{
	struct lj_cni_key key = {conf->name, env->container_id, env->ifname, NULL};
	struct lj_inspect *ins = NULL;
	struct lj_record rec;
	struct lj_target t;
	int r;

	if (!conf->prev_result)
		return lj_cni_fail(err, LJ_CNI_E_CONFIG, "invalid network configuration",
				   "CHECK needs prevResult");
	r = lj_cni_find_record(&key, &rec);
	if (r < 0)
		return differs(err, "lanjoin has no attachment of container %s as %s on network %s",
			       env->container_id, env->ifname, conf->name);
	r = lj_cni_open_netns(env, &t, err);
	if (r) {
		lj_record_free(&rec);
		return r;
	}
	if (t.id.dev != rec.netns.dev || t.id.ino != rec.netns.ino) {
		r = differs(err, "%s is not the namespace the attachment was made in", env->netns);
		goto out;
	}
	if (strcmp(rec.status, "attached") != 0) {
		r = differs(err, "the attachment is not complete (status %s)", rec.status);
		goto out;
	}
	if (lj_inspect_open(t.netns_fd, &ins) < 0) {
		r = lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure", "cannot open netlink sockets");
		goto out;
	}
	r = check_ifaces(env, conf->prev_result, ins, err);
	if (r == 0)
		r = check_routes(conf->prev_result, ins, err);
	if (r == 0)
		r = check_nft(&rec, err);
	if (r == 0 && conf->ipam_type[0])
		r = lj_cni_delegate(env, conf, conf->ipam_type, "CHECK", NULL, NULL, NULL, err);
out:
	lj_inspect_close(ins);
	lj_record_free(&rec);
	lj_target_close(&t);
	return r;
}

static int not_ready(struct lj_cni_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int not_ready(struct lj_cni_err *err, const char *fmt, ...)
{
	va_list ap;

	err->code = LJ_CNI_E_NOT_READY;
	snprintf(err->msg, sizeof(err->msg), "plugin not available");
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return LJ_CNI_E_NOT_READY;
}

/* The ovs mode: ovsdb-server and ovs-vswitchd answer and the database has the bridge. */
static int ovs_ready(const struct lj_attach_opts *o, struct lj_cni_err *err)
{
	struct lj_ovs_bridge br;
	struct lj_ovs *ovs = NULL;
	int r;

	r = lj_ovs_open(o->ovsdb, &ovs);
	if (r < 0)
		return not_ready(err, "Open vSwitch: %s",
				 r == -ENOENT ? "ovs-vsctl is not installed" : strerror(-r));
	r = lj_ovs_check_running(ovs, NULL);
	if (r == 0)
		r = lj_ovs_bridge_get(ovs, o->bridge, &br);
	if (r == -ENODEV)
		r = not_ready(err, "OVS bridge '%s' is not in the database %s", o->bridge,
			      lj_ovs_db(ovs));
	else if (r < 0)
		r = not_ready(err, "Open vSwitch at %s: %s", lj_ovs_db(ovs),
			      lj_ovs_error(ovs)[0] ? lj_ovs_error(ovs) : strerror(-r));
	lj_ovs_close(ovs);
	return r;
}

/* Cheap: the links ADD would need exist, the state directory opens, IPAM can be run. */
int lj_cni_cmd_status(const struct lj_cni_env *env, struct lj_cni_conf *conf,
		      struct lj_cni_err *err)
{
	const struct lj_attach_opts *o = &conf->opts;
	const char *need = NULL, *what = NULL;
	struct lj_state *st = NULL;
	struct lj_inspect *ins = NULL;
	struct lj_link l;
	int r;

	r = lj_state_open(false, &st);
	lj_state_close(st);
	if (r < 0)
		return not_ready(err, "state directory %s: %s", lj_state_dir(),
				 lj_state_strerror(r));
	switch (conf->way) {
	case LJ_WAY_BRIDGE:
		if (o->uplink[0])
			need = o->uplink, what = "uplink";
		break;
	case LJ_WAY_OVS:
		need = o->bridge, what = "OVS bridge";
		break;
	case LJ_WAY_MACVLAN:
	case LJ_WAY_ROUTED:
		need = o->parent, what = "master";
		break;
	case LJ_WAY_NAT:
		need = o->uplink, what = "uplink";
		break;
	}
	if (need) {
		r = lj_inspect_open(-1, &ins);
		if (r == 0)
			r = lj_inspect_link(ins, false, need, &l);
		lj_inspect_close(ins);
		if (r < 0)
			return not_ready(err, "%s '%s': %s", what, need,
					 r == -ENODEV ? "no such link" : strerror(-r));
	}
	if (conf->way == LJ_WAY_OVS && (r = ovs_ready(o, err)))
		return r;
	if (conf->ipam_type[0]) {
		if (!lj_cni_plugin_exists(env, conf->ipam_type))
			return not_ready(err, "IPAM plugin \"%s\" not found in CNI_PATH",
					 conf->ipam_type);
		/* Spec 1.1.0 delegates STATUS; plugins older than that do not know it. */
		if (lj_cni_delegate_speaks(env, conf, "1.1.0")) {
			struct lj_cni_err e = {0};
			if (lj_cni_delegate(env, conf, conf->ipam_type, "STATUS", NULL, NULL, NULL,
					    &e))
				return not_ready(err, "IPAM plugin \"%s\": %s%s%s", conf->ipam_type,
						 e.msg, e.details[0] ? ": " : "", e.details);
		}
		if (conf->ipam_dhcp) {
			const json_t *ipam = json_object_get(conf->root, "ipam");
			const char *sock =
				json_string_value(json_object_get(ipam, "daemonSocketPath"));
			struct stat s;
			if (!sock)
				sock = "/run/cni/dhcp.sock";
			if (stat(sock, &s) < 0 || !S_ISSOCK(s.st_mode))
				return not_ready(err, "the dhcp daemon's socket %s is missing",
						 sock);
		}
	}
	return 0;
}
