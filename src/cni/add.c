/* SPDX-License-Identifier: MIT */
/* CNI ADD: validate, delegate IPAM, lj_attach, report the result in the request's version. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cni/cni.h"
#include "lib/kernel/addr.h"
#include "lib/kernel/inspect.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netns.h"
#include "lib/kernel/route.h"
#include "lib/core/target.h"

bool lj_cni_key_match(const struct lj_record *rec, void *data)
{
	const struct lj_cni_key *k = data;
	const json_t *cni = json_object_get(rec->info, "cni"), *v;
	const char *net = json_string_value(json_object_get(cni, "network"));
	const char *id = json_string_value(json_object_get(cni, "containerID"));
	const char *ifn = json_string_value(json_object_get(cni, "ifname"));
	size_t i;

	if (!net || !id || !ifn || strcmp(net, k->network) != 0)
		return false;
	if (k->container_id && strcmp(id, k->container_id) != 0)
		return false;
	if (k->ifname && strcmp(ifn, k->ifname) != 0)
		return false;
	json_array_foreach(k->keep, i, v)
	{
		const char *kid = json_string_value(json_object_get(v, "containerID"));
		const char *kif = json_string_value(json_object_get(v, "ifname"));
		if (kid && kif && strcmp(kid, id) == 0 && strcmp(kif, ifn) == 0)
			return false;
	}
	return true;
}

int lj_cni_open_netns(const struct lj_cni_env *env, struct lj_target *t, struct lj_cni_err *err)
{
	int r;

	if (lj_target_parse(env->netns, t) < 0 || t->kind != LJ_TARGET_PATH)
		return lj_cni_fail(err, LJ_CNI_E_ENV, "invalid CNI_NETNS", "'%.64s'", env->netns);
	r = lj_target_open(t);
	if (r == -ENOENT || r == -ESRCH)
		return lj_cni_fail(err, LJ_CNI_E_UNKNOWN, "container unknown or does not exist",
				   "network namespace %s does not exist", env->netns);
	if (r < 0)
		return lj_cni_fail(err, LJ_CNI_E_NETNS, "invalid network namespace", "%s: %s",
				   env->netns,
				   r == -EINVAL ? "not a network namespace" : strerror(-r));
	if (lj_netns_is_current(t->netns_fd)) {
		lj_target_close(t);
		return lj_cni_fail(err, LJ_CNI_E_NETNS, "invalid network namespace",
				   "%s is the plugin's own network namespace", env->netns);
	}
	return 0;
}

int lj_cni_find_record(struct lj_cni_key *k, struct lj_record *ret)
{
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	size_t n = 0;
	int r;

	r = lj_state_open(false, &st);
	if (r < 0)
		return r;
	if (k->container_id && k->ifname) {
		struct lj_state *idx = NULL;

		r = lj_cni_index_open(st, false, &idx);
		if (r == 0)
			r = lj_cni_index_find(st, idx, k, ret);
		lj_state_close(idx);
		if (r != -EAGAIN) {
			lj_state_close(st);
			return r;
		}
	}
	/* No index yet (an older lanjoin's records): the records of this container. */
	if (k->container_id)
		r = lj_state_list_info(st, "containerID", k->container_id, &recs, &n);
	else
		r = lj_state_list(st, &recs, &n, NULL);
	lj_state_close(st);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (lj_cni_key_match(&recs[i], k)) {
			*ret = recs[i];
			memset(&recs[i], 0, sizeof(recs[i]));
			r = 0;
			break;
		}
	lj_records_free(recs, n);
	return r;
}

/* The routed way takes the IPAM result's addresses alone: its routes go via the host end
 * (the result's gateways and routes are the LAN's). */
static int map_ipam_ips(const struct lj_cni_ipam *ip, struct lj_attach_opts *o)
{
	for (size_t i = 0; i < ip->n_ips; i++)
		o->ips[o->n_ips++] = ip->ips[i];
	return 0;
}

/* Map an IPAM result onto the L2 ways' addressing options. */
static int map_ipam(const struct lj_cni_ipam *ip, struct lj_attach_opts *o, struct lj_cni_err *err)
{
	for (size_t i = 0; i < ip->n_ips; i++)
		o->ips[o->n_ips++] = ip->ips[i];
	for (size_t i = 0; i < ip->n_routes; i++) {
		const struct lj_route_spec *rt = &ip->routes[i];
		struct lj_ip gw = rt->via;
		bool taken = false;

		/* A route without "gw" goes via the gateway of an address of its family. */
		for (size_t k = 0; gw.family == AF_UNSPEC && k < ip->n_ips; k++)
			if (ip->ip_gw[k].family == rt->dst.ip.family)
				gw = ip->ip_gw[k];
		if (rt->dst.prefixlen == 0 && gw.family != AF_UNSPEC) {
			for (size_t g = 0; g < o->n_gateways; g++)
				taken |= o->gateways[g].family == gw.family;
			if (!taken) {
				o->gateways[o->n_gateways++] = gw;
				continue;
			}
		}
		if (o->n_routes == LJ_MAX_ROUTES)
			return lj_cni_fail(err, LJ_CNI_E_IPAM, "invalid IPAM result",
					   "too many routes");
		o->routes[o->n_routes].dst = rt->dst;
		o->routes[o->n_routes].via = gw;
		o->n_routes++;
	}
	return 0;
}

/* The first IPv4 address of a list (the nat way's LAN address). */
static int pick_nat_address(const struct lj_cidr *ips, size_t n, struct lj_attach_opts *o,
			    const char *from, struct lj_cni_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (ips[i].ip.family == AF_INET) {
			o->address = ips[i];
			return 0;
		}
	return lj_cni_fail(err, LJ_CNI_E_CONFIG, "invalid network configuration",
			   "mode nat needs an IPv4 address from %s", from);
}

/*
 * runtimeConfig.portMappings' hostIP: the nat mode publishes its ports at its LAN address
 * only, which may come from IPAM (known only now); any other hostIP is refused, not ignored.
 */
static int check_host_ips(const struct lj_cni_conf *conf, struct lj_cni_err *err)
{
	char a[LJ_IP_STRLEN], h[LJ_IP_STRLEN];

	for (size_t i = 0; i < conf->n_pm_host_ips; i++)
		if (!lj_ip_equal(&conf->pm_host_ips[i], &conf->opts.address.ip))
			return lj_cni_fail(err, LJ_CNI_E_UNSUPPORTED,
					   "unsupported field in the network configuration",
					   "\"runtimeConfig.portMappings\": hostIP %s is not the "
					   "address the container got on the LAN, %s (ports are "
					   "published there only)",
					   lj_ip_to_string(&conf->pm_host_ips[i], h, sizeof(h)),
					   lj_ip_to_string(&conf->opts.address.ip, a, sizeof(a)));
	return 0;
}

static void set_iface(struct lj_cni_result *r, struct lj_inspect *live, const char *name,
		      const char *sandbox)
{
	struct lj_link l;
	size_t i = r->n_ifaces;

	if (!name || !*name || i == LJ_CNI_MAX_IFACES)
		return;
	snprintf(r->ifaces[i].name, sizeof(r->ifaces[i].name), "%s", name);
	r->ifaces[i].sandbox = sandbox;
	if (lj_inspect_link(live, sandbox != NULL, name, &l) == 0) {
		if (l.has_mac)
			lj_mac_to_string(l.mac, r->ifaces[i].mac, sizeof(r->ifaces[i].mac));
		r->ifaces[i].mtu = l.mtu;
	}
	r->n_ifaces++;
}

static void add_ip(struct lj_cni_result *r, const struct lj_cidr *c, const struct lj_ip *gw,
		   int iface)
{
	if (r->n_ips == sizeof(r->ips) / sizeof(r->ips[0]))
		return;
	r->ips[r->n_ips].addr = *c;
	r->ips[r->n_ips].gw.family = AF_UNSPEC;
	if (gw)
		r->ips[r->n_ips].gw = *gw;
	r->ips[r->n_ips].iface = iface;
	r->n_ips++;
}

/* The result: interfaces read back now (MACs after every change), addresses, routes, DNS. */
static json_t *build_result(const struct lj_cni_env *env, const struct lj_cni_conf *conf,
			    struct lj_inspect *live, const json_t *rec,
			    const struct lj_cni_ipam *ipam)
{
	const struct lj_attach_opts *o = &conf->opts;
	const json_t *info = json_object_get(rec, "info");
	const char *host_if = json_string_value(json_object_get(rec, "host_ifname"));
	struct lj_cni_result r = {0};
	int cidx;
	json_t *j;

	switch (conf->way) {
	case LJ_WAY_BRIDGE:
	case LJ_WAY_OVS:
		set_iface(&r, live, o->bridge, NULL);
		set_iface(&r, live, host_if, NULL);
		break;
	case LJ_WAY_NAT:
		set_iface(&r, live, o->uplink, NULL);
		set_iface(&r, live, host_if, NULL);
		break;
	case LJ_WAY_MACVLAN:
		break;
	case LJ_WAY_ROUTED:
		set_iface(&r, live, o->parent, NULL);
		set_iface(&r, live, host_if, NULL);
		break;
	}
	cidx = (int)r.n_ifaces;
	set_iface(&r, live, env->ifname, env->netns);

	if (conf->way == LJ_WAY_ROUTED) {
		/* host addresses, and the default routes via the host end's next hops */
		bool fam[2] = {false, false};

		for (size_t i = 0; i < o->n_ips; i++) {
			bool v6 = o->ips[i].ip.family == AF_INET6;
			struct lj_cidr c = {.ip = o->ips[i].ip, .prefixlen = v6 ? 128 : 32};
			struct lj_ip nh;

			lj_parse_ip(v6 ? "fe80::1" : "169.254.0.1", &nh);
			add_ip(&r, &c, &nh, cidx);
			if (!fam[v6] && !o->no_default_route) {
				r.routes[r.n_routes].dst = (struct lj_cidr){.ip.family = nh.family};
				r.routes[r.n_routes].via = nh;
				r.n_routes++;
			}
			fam[v6] = true;
		}
	} else if (conf->way == LJ_WAY_NAT) {
		struct lj_cidr priv = {0}, c;
		struct lj_ip h;
		const char *cs = json_string_value(json_object_get(info, "container_address"));
		const char *hs = json_string_value(json_object_get(info, "host_address"));
		const char *ps = json_string_value(json_object_get(info, "private"));

		add_ip(&r, &o->address, NULL, 0);
		if (cs && hs && ps && lj_parse_ip(cs, &c.ip) == 0 && lj_parse_ip(hs, &h) == 0 &&
		    lj_parse_cidr(ps, true, &priv) == 0) {
			c.prefixlen = priv.prefixlen;
			add_ip(&r, &c, &h, cidx);
			r.routes[r.n_routes].dst = (struct lj_cidr){.ip.family = AF_INET};
			r.routes[r.n_routes].via = h;
			r.n_routes++;
		}
	} else if (ipam) {
		for (size_t i = 0; i < ipam->n_ips; i++)
			add_ip(&r, &ipam->ips[i], &ipam->ip_gw[i], cidx);
		for (size_t i = 0; i < ipam->n_routes; i++)
			r.routes[r.n_routes++] = ipam->routes[i];
	} else {
		for (size_t i = 0; i < conf->n_rt_ips; i++)
			add_ip(&r, &conf->rt_ips[i], NULL, cidx);
	}
	r.dns = conf->dns ? conf->dns : ipam ? ipam->dns : NULL;
	j = lj_cni_result_json(&r, conf->version);
	return j;
}

/*
 * A chained ADD (lanjoin after other plugins): the result is prevResult's plus ours, with our
 * "interface" indexes shifted past prevResult's interfaces and prevResult's "ips" in the
 * request's version. Returns res (merged in place) or NULL when prevResult is malformed.
 */
static json_t *merge_prev(json_t *res, const json_t *prev, const char *version)
{
	const json_t *pifs = json_object_get(prev, "interfaces"),
		     *pips = json_object_get(prev, "ips");
	const json_t *prts = json_object_get(prev, "routes"), *pdns = json_object_get(prev, "dns");
	json_t *ifs = json_array(), *ips = json_array(), *rts = json_array(), *v;
	bool v1 = lj_cni_version_num(version) >= lj_cni_version_num("1.0.0");
	size_t shift = json_array_size(pifs), i;

	if ((pifs && !json_is_array(pifs)) || (pips && !json_is_array(pips)) ||
	    (prts && !json_is_array(prts)) || (pdns && !json_is_object(pdns)) || !ifs || !ips ||
	    !rts)
		goto bad;
	json_array_foreach(pifs, i, v)
	{
		if (!json_is_object(v))
			goto bad;
		json_array_append(ifs, v);
	}
	json_array_foreach(pips, i, v)
	{
		const char *a = json_string_value(json_object_get(v, "address"));
		struct lj_cidr c;
		json_t *copy;

		if (!json_is_object(v) || !a || lj_parse_cidr(a, true, &c) < 0)
			goto bad;
		copy = json_deep_copy(v);
		if (v1)
			json_object_del(copy, "version");
		else
			json_object_set_new(copy, "version",
					    json_string(c.ip.family == AF_INET ? "4" : "6"));
		json_array_append_new(ips, copy);
	}
	json_array_foreach(prts, i, v)
	{
		if (!json_is_object(v))
			goto bad;
		json_array_append(rts, v);
	}
	json_array_foreach(json_object_get(res, "interfaces"), i, v) json_array_append(ifs, v);
	json_array_foreach(json_object_get(res, "ips"), i, v)
	{
		json_t *idx = json_object_get(v, "interface");
		if (json_is_integer(idx))
			json_object_set_new(
				v, "interface",
				json_integer(json_integer_value(idx) + (json_int_t)shift));
		json_array_append(ips, v);
	}
	json_array_foreach(json_object_get(res, "routes"), i, v) json_array_append(rts, v);
	json_object_set_new(res, "interfaces", ifs);
	json_object_set_new(res, "ips", ips);
	json_object_set_new(res, "routes", rts);
	if (pdns && json_object_size(json_object_get(res, "dns")) == 0)
		json_object_set(res, "dns", (json_t *)pdns);
	return res;
bad:
	json_decref(ifs);
	json_decref(ips);
	json_decref(rts);
	json_decref(res);
	return NULL;
}

/*
 * dhcp: the interface exists now; put the lease's addresses and routes on it, as steps of the
 * attachment (journaled, undone on failure and by DEL).
 */
static int apply_late(const struct lj_target *t, const char *ifname, const struct lj_attach_opts *o,
		      struct lj_cni_err *err)
{
	struct lj_plan steps = {0};
	struct lj_result res = {0};
	int r;

	r = lj_attach_late_addressing(o, ifname, &steps);
	if (r == 0)
		r = lj_attach_extend(t, ifname, &steps, &res);
	lj_plan_free(&steps);
	if (r < 0)
		r = lj_cni_fail(err, LJ_CNI_E_FAILED, "failed to configure the interface", "%s",
				res.message[0] ? res.message : strerror(-r));
	lj_result_done(&res);
	return r;
}

/* Undo a finished attach (a later step failed). Best effort: err already says why. */
static void undo_attach(struct lj_cni_key *k, const char *netns)
{
	struct lj_result res;
	size_t removed;

	lj_cni_index_detach(k, netns, &res, &removed);
	if (res.message[0])
		fprintf(stderr, "lanjoin: cleanup after a failed ADD: %s\n", res.message);
	lj_result_done(&res);
}

static void ipam_release(const struct lj_cni_env *env, const struct lj_cni_conf *conf)
{
	struct lj_cni_err e2 = {0};

	if (lj_cni_delegate(env, conf, conf->ipam_type, "DEL", NULL, NULL, NULL, &e2))
		fprintf(stderr, "lanjoin: releasing the address after a failed ADD: %s: %s\n",
			e2.msg, e2.details);
}

static int run_ipam_add(const struct lj_cni_env *env, const struct lj_cni_conf *conf,
			struct lj_cni_ipam *ret, struct lj_cni_err *err)
{
	json_t *out = NULL;
	int r;

	r = lj_cni_delegate(env, conf, conf->ipam_type, "ADD", NULL, NULL, &out, err);
	if (r)
		return r;
	r = lj_cni_ipam_parse(out, ret, err);
	json_decref(out);
	if (r)
		ipam_release(env, conf);
	return r;
}

int lj_cni_cmd_add(const struct lj_cni_env *env, struct lj_cni_conf *conf, struct lj_cni_err *err)
{
	struct lj_attach_opts *o = &conf->opts;
	struct lj_cni_key key = {conf->name, env->container_id, env->ifname, NULL};
	struct lj_cni_ipam ipam = {0};
	bool have_ipam = false;
	struct lj_result res = {0};
	struct lj_record old;
	struct lj_target t;
	struct lj_inspect *live = NULL;
	char id[LJ_RECORD_ID_LEN];
	bool claimed = false;
	struct lj_link l;
	json_t *extra = NULL, *spec = NULL;
	int r;

	if (conf->prev_result) {
		json_t *probe = merge_prev(json_object(), conf->prev_result, conf->version);
		if (!probe)
			return lj_cni_fail(
				err, LJ_CNI_E_CONFIG, "invalid network configuration",
				"prevResult is malformed (interfaces, ips, routes, dns)");
		json_decref(probe);
	}
	r = lj_cni_open_netns(env, &t, err);
	if (r)
		return r;
	/* Refuse a second ADD before anything (IPAM included) is touched. */
	r = lj_inspect_open(t.netns_fd, &live);
	if (r == 0 && lj_inspect_link(live, true, env->ifname, &l) == 0)
		r = -EEXIST;
	if (r == -EEXIST) {
		r = lj_cni_fail(err, LJ_CNI_E_EXISTS, "interface already exists",
				"'%s' already exists in %s", env->ifname, env->netns);
		goto out;
	}
	if (r < 0) {
		r = lj_cni_fail(err, LJ_CNI_E_NETNS, "invalid network namespace",
				"cannot open netlink in %s: %s", env->netns, strerror(-r));
		goto out;
	}
	/* The record's id is the one lj_attach will give it (record_init). */
	lj_record_id(t.key, env->ifname, id);
	r = lj_cni_index_claim(&key, id, &old);
	if (r == -EEXIST) {
		r = lj_cni_fail(
			err, LJ_CNI_E_EXISTS, "attachment already exists",
			"container %s already has '%s' on network %s (namespace %s); DEL it "
			"first",
			env->container_id, env->ifname, conf->name, old.target_spec);
		lj_record_free(&old);
		goto out;
	}
	if (r < 0) {
		r = lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure", "state directory %s: %s",
				lj_state_dir(),
				r == -ENOTUNIQ ? "the index name of this attachment is another's"
					       : lj_state_strerror(r));
		goto out;
	}
	claimed = true;

	/* Addressing */
	if (conf->way == LJ_WAY_NAT) {
		if (conf->has_address) {
			/* as configured */
		} else if (conf->ipam_type[0]) {
			r = run_ipam_add(env, conf, &ipam, err);
			if (r)
				goto out;
			have_ipam = true;
			r = pick_nat_address(ipam.ips, ipam.n_ips, o, "the IPAM plugin", err);
		} else if (conf->n_rt_ips) {
			r = pick_nat_address(conf->rt_ips, conf->n_rt_ips, o, "runtimeConfig.ips",
					     err);
		} else {
			r = lj_cni_fail(err, LJ_CNI_E_CONFIG, "invalid network configuration",
					"mode nat needs \"address\", an \"ipam\" section or "
					"runtimeConfig.ips");
		}
		if (r == 0)
			r = check_host_ips(conf, err);
		if (r)
			goto fail_ipam;
	} else if (conf->ipam_type[0] && !conf->ipam_dhcp) {
		r = run_ipam_add(env, conf, &ipam, err);
		if (r)
			goto out;
		have_ipam = true;
		r = conf->way == LJ_WAY_ROUTED ? map_ipam_ips(&ipam, o) : map_ipam(&ipam, o, err);
		if (r)
			goto fail_ipam;
	} else if (!conf->ipam_type[0]) {
		for (size_t i = 0; i < conf->n_rt_ips; i++)
			o->ips[o->n_ips++] = conf->rt_ips[i];
	}

	/*
	 * The attach itself, keyed for DEL and GC by (network, container ID, ifname). Routes go
	 * beside equal ones of the container's other interfaces (a second interface on the same
	 * network has the same default route), as the reference plugins add them.
	 */
	o->routes_append = true;
	o->target = env->netns;
	o->resolved = &t; /* opened once above (lj_cni_open_netns) */
	snprintf(o->ifname, sizeof(o->ifname), "%s", env->ifname);
	extra = json_pack("{s{ssssss}}", "cni", "network", conf->name, "containerID",
			  env->container_id, "ifname", env->ifname);
	if (!extra) {
		r = lj_cni_fail(err, LJ_CNI_E_IO, "out of memory", NULL);
		goto fail_ipam;
	}
	o->extra_info = extra;
	/* The record's spec names its owner: the runtime, which alone attaches it again. */
	spec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "owner", "cni", "way",
			 lj_way_name(o->way), "target", env->netns, "ifname", env->ifname,
			 "network", conf->name, "container_id", env->container_id);
	o->spec = spec;
	r = lj_attach(o, &res);
	if (r < 0) {
		if (res.bad_input)
			r = lj_cni_fail(err, LJ_CNI_E_CONFIG, "invalid network configuration", "%s",
					res.message);
		else
			r = lj_cni_fail(
				err, r == -EAGAIN || r == -EBUSY ? LJ_CNI_E_AGAIN : LJ_CNI_E_FAILED,
				"failed to attach", "%s%s",
				res.message[0] ? res.message : strerror(-r),
				res.rolled_back && !res.undo_failed
					? "; rolled back: nothing was left behind"
					: "");
		goto fail_ipam;
	}

	if (conf->ipam_dhcp) {
		/* The dhcp plugin needs the interface to exist: lease now, then configure. */
		r = run_ipam_add(env, conf, &ipam, err);
		if (r) {
			undo_attach(&key, env->netns);
			goto out;
		}
		have_ipam = true;
		r = conf->way == LJ_WAY_ROUTED ? map_ipam_ips(&ipam, o) : map_ipam(&ipam, o, err);
		if (r == 0)
			r = apply_late(&t, env->ifname, o, err);
		if (r) {
			ipam_release(env, conf);
			undo_attach(&key, env->netns);
			goto out;
		}
	}

	{
		json_t *out = build_result(env, conf, live, res.json, have_ipam ? &ipam : NULL);
		if (out && conf->prev_result)
			out = merge_prev(out, conf->prev_result, conf->version);
		if (!out) {
			/* Checked before attaching, so this is out of memory. */
			r = lj_cni_fail(err, LJ_CNI_E_IO, "out of memory", NULL);
			if (have_ipam)
				ipam_release(env, conf);
			undo_attach(&key, env->netns);
			goto out;
		}
		lj_cni_print(out);
	}
	r = 0;
	goto out;

fail_ipam:
	if (have_ipam)
		ipam_release(env, conf);
out:
	if (r && claimed)
		lj_cni_index_release(&key);
	json_decref(extra);
	json_decref(spec);
	lj_result_done(&res);
	lj_cni_ipam_free(&ipam);
	lj_inspect_close(live);
	lj_target_close(&t);
	return r;
}
