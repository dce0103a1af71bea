/* SPDX-License-Identifier: MIT */
/*
 * The network driver: libnetwork's remote driver calls (moby libnetwork/docs/remote.md).
 * A network is a file DIR/networks/ID.json with its way and options (and what it made: the
 * shim, an adopted uplink, written before it is made); an endpoint is DIR/endpoints/ID.json
 * with its addresses and MAC. A joined endpoint is a lanjoin attachment record (made by
 * lj_handoff_attach, undone when Docker deletes the endpoint). A restarted plugin reads them
 * again.
 */
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"
#include "lib/ways/handoff.h"
#include "lib/ways/macvlan.h"
#include "lib/ways/macvlan-common.h"
#include "lib/ways/shim.h"
#include "lib/ways/uplink.h"
#include "plugin/plugin.h"
#include "shared/name.h"
#include "shared/parse.h"

int lj_plugin_recover(void)
{
	struct lj_result res = {0};
	size_t n = 0;
	int r = lj_handoff_recover("docker", NULL, &res, &n);

	if (r < 0)
		fprintf(stderr, "lanjoin: cannot undo the Joins a killed plugin left: %s\n",
			res.message);
	else if (n)
		fprintf(stderr,
			"lanjoin: undid %zu Join%s a killed plugin left unfinished or whose "
			"endpoint Docker dropped meanwhile\n",
			n, n == 1 ? "" : "s");
	lj_result_done(&res);
	return r;
}

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The keys of an endpoint's addresses (CIDRs): IPv4, IPv6. */
static const char *const addr_keys[] = {"address", "address6"};

static int index_one(const char *id, json_t *ep, void *data)
{
	const char *nid = str(ep, "network");

	(void)data;
	for (size_t i = 0; lj_store_id_valid(id) && lj_store_id_valid(nid) && i < 2; i++) {
		const char *a = str(ep, addr_keys[i]);

		if (a && lj_store_addr_newer(nid, a, id))
			lj_store_addr_add(nid, a, id);
	}
	return 0;
}

int lj_plugin_index(void)
{
	int r = lj_store_addr_clear(NULL);

	return r < 0 ? r : lj_store_each("endpoints", index_one, NULL);
}

/* --- request fields ------------------------------------------------------------------ */

/* req[key] as a valid ID, or NULL with *err set to the response. */
static const char *req_id(const json_t *req, const char *key, json_t **err)
{
	const char *id = str(req, key);

	if (!lj_store_id_valid(id)) {
		*err = lj_plugin_error("%s is missing or not an ID (1 to %d hex digits)", key,
				       LJ_STORE_ID_MAX);
		return NULL;
	}
	return id;
}

static json_t *ok(void)
{
	return json_object();
}

/* --- networks ------------------------------------------------------------------------ */

/* The gateway of one IPAMData entry ("198.51.100.1/24"), into net[key] as an address. */
static json_t *take_gateway(const json_t *data, json_t *net, const char *key, int family)
{
	const json_t *first;
	const char *gw, *pool;
	struct lj_cidr c;
	char buf[LJ_IP_STRLEN];

	if (!data || json_is_null(data))
		return NULL;
	if (!json_is_array(data))
		return lj_plugin_error("IPv%dData is not an array", family == AF_INET ? 4 : 6);
	if (json_array_size(data) == 0)
		return NULL;
	if (json_array_size(data) > 1)
		return lj_plugin_error("lanjoin networks take one IPv%d subnet",
				       family == AF_INET ? 4 : 6);
	first = json_array_get(data, 0);
	pool = str(first, "Pool");
	if (!pool || lj_parse_cidr(pool, true, &c) < 0 || c.ip.family != family)
		return lj_plugin_error("invalid IPAM pool '%s'", pool ? pool : "");
	json_object_set_new(net, family == AF_INET ? "subnet4" : "subnet6", json_string(pool));
	gw = str(first, "Gateway");
	if (!gw || !gw[0])
		return NULL;
	if (lj_parse_cidr(gw, false, &c) < 0 || c.ip.family != family)
		return lj_plugin_error("invalid gateway '%s'", gw);
	json_object_set_new(net, key, json_string(lj_ip_to_string(&c.ip, buf, sizeof(buf))));
	return NULL;
}

/*
 * The network's subnets (net's "subnet4", "subnet6") must be those of an address of link
 * (named for the message), when it has addresses of that family: a LAN way puts the
 * containers on that link's LAN. NULL, or the error response.
 */
static json_t *check_subnets(struct lj_nl *nl, const json_t *net, const char *link)
{
	const char *keys[] = {"subnet4", "subnet6"};
	struct lj_cidr addrs[LJ_MACVLAN_MAX_ADDRS];
	struct lj_result res = {0};
	struct lj_link l;
	size_t n = 0;
	json_t *err = NULL;

	if (lj_link_get(nl, link, &l) < 0)
		return NULL; /* said elsewhere */
	if (lj_macvlan_link_addrs(nl, l.ifindex, link, addrs, &n, &res) < 0) {
		err = lj_plugin_error("%s", res.message);
		lj_result_done(&res);
		return err;
	}
	for (size_t k = 0; k < 2; k++) {
		char have[256] = "", b[LJ_CIDR_STRLEN];
		bool some = false, match = false;
		struct lj_cidr c;
		size_t len = 0;

		if (!str(net, keys[k]) || lj_parse_cidr(str(net, keys[k]), true, &c) < 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			struct lj_cidr a = addrs[i];

			if (a.ip.family != c.ip.family ||
			    (a.ip.family == AF_INET6 && a.ip.bytes[0] == 0xfe))
				continue;
			some = true;
			match |= a.prefixlen == c.prefixlen && lj_cidr_contains(&c, &a.ip);
			if (len + 2 < sizeof(have)) {
				snprintf(have + len, sizeof(have) - len, "%s%s", len ? ", " : "",
					 lj_cidr_to_string(&a, b, sizeof(b)));
				len = strlen(have);
			}
		}
		if (some && !match)
			return lj_plugin_error("subnet %s does not match the addresses of '%s' "
					       "(%s): the containers would not be on its LAN",
					       str(net, keys[k]), link, have);
	}
	return NULL;
}

/*
 * A macvlan parent that is a bridge (or a bridge's port): the kernel refuses it, and the
 * network to ask for is a bridge or ovs one (lanjoin's CLI is not what the user runs). NULL,
 * or the error response.
 */
static json_t *macvlan_on_switch(struct lj_nl *nl, const char *parent)
{
	struct lj_link l, m;
	const char *sk;

	if (!parent || lj_link_get(nl, parent, &l) < 0)
		return NULL; /* said by lj_macvlan_check_parent */
	if (strcmp(l.kind, "bridge") == 0 || strcmp(l.kind, "openvswitch") == 0)
		return lj_plugin_error("'%s' is %s bridge, not an uplink: containers join a bridge "
				       "as ports; create the network with -o mode=%s -o bridge=%s",
				       parent, l.kind[0] == 'b' ? "a Linux" : "an Open vSwitch",
				       l.kind[0] == 'b' ? "bridge" : "ovs", parent);
	sk = l.slave_kind[0] ? l.slave_kind : "bridge";
	if (!l.master || (strcmp(sk, "bridge") != 0 && strcmp(sk, "openvswitch") != 0) ||
	    lj_link_get_by_index(nl, l.master, &m) < 0)
		return NULL;
	if (strcmp(sk, "openvswitch") == 0)
		return lj_plugin_error(
			"'%s' is a port of Open vSwitch: the kernel refuses a macvlan "
			"on a switch port; create the network with -o mode=ovs "
			"-o bridge=BRIDGE (its OVS bridge)",
			parent);
	return lj_plugin_error("'%s' is a port of bridge '%s': the kernel refuses a macvlan on a "
			       "bridge port; create the network with -o mode=bridge -o bridge=%s",
			       parent, m.name, m.name);
}

/*
 * Check the network's links against the live system; adopt the uplink, make the host shim.
 * What it is about to make it first records in net (saved as network id), so that a plugin
 * killed midway still undoes it at DeleteNetwork (net_teardown).
 */
/* Write network id's file; NULL or the error to answer. */
static json_t *save_net(const char *id, const json_t *net)
{
	int r = lj_store_save("networks", id, net);

	return r < 0 ? lj_plugin_error("cannot record network %.12s: %s", id, strerror(-r)) : NULL;
}

static json_t *net_setup(const char *id, json_t *net)
{
	const char *mode = str(net, "mode"), *shim = str(net, "host_shim");
	const char *bridge = str(net, "bridge"), *uplink = str(net, "uplink");
	struct lj_result res = {0};
	struct lj_nl *nl = NULL;
	struct lj_link l;
	struct lj_cidr c;
	json_t *err = NULL;
	int r = lj_nl_open(-1, &nl);

	if (r < 0)
		return lj_plugin_error("cannot open rtnetlink: %s", strerror(-r));
	if (strcmp(mode, "ovs") == 0) {
		/* The OVS bridge: there, and in a database that answers (Join checks again). */
		struct lj_handoff_opts o = {.way = LJ_WAY_OVS, .ovsdb = str(net, "ovsdb")};

		snprintf(o.name, sizeof(o.name), "ljdcheck");
		snprintf(o.host, sizeof(o.host), "ljhcheck");
		snprintf(o.bridge, sizeof(o.bridge), "%s", bridge);
		if (lj_handoff_check(&o, &res) < 0)
			err = lj_plugin_error("%s", res.message);
	} else if (strcmp(mode, "bridge") == 0) {
		r = lj_link_get(nl, bridge, &l);
		if (r == 0 && strcmp(l.kind, "bridge") != 0) {
			err = lj_plugin_error("'%s' is not a Linux bridge (a link of kind '%s')",
					      bridge, l.kind[0] ? l.kind : "none");
		} else if (r == 0) {
			err = check_subnets(nl, net, bridge);
		} else if (!uplink) {
			err = lj_plugin_error("bridge '%s' does not exist: create it, or give "
					      "-o uplink=DEV to adopt DEV into it",
					      bridge);
		} else if (!(err = check_subnets(nl, net, uplink))) {
			bool adopted = false;

			json_object_set_new(net, "adopted", json_true());
			err = save_net(id, net);
			/* As 'lanjoin uplink adopt': probed, rolled back if the LAN is lost. */
			if (!err && lj_uplink_adopt_if_missing(bridge, uplink, &res, &adopted) < 0)
				err = lj_plugin_error("%s", res.message);
			if (!adopted) {
				json_object_del(net, "adopted");
				lj_store_save("networks", id, net);
			}
		}
	} else if ((err = macvlan_on_switch(nl, str(net, "parent")))) {
		/* said in the network's terms */
	} else if (lj_macvlan_check_parent(nl, str(net, "parent"), &l, &res) < 0) {
		err = lj_plugin_error("%s", res.message);
	} else if (strcmp(str(net, "macvlan_mode"), "passthru") == 0 &&
		   lj_macvlan_check_passthru(
			   nl, str(net, "parent"), &l,
			   str(net, "force") && strcmp(str(net, "force"), "true") == 0, &res) < 0) {
		err = lj_plugin_error("%s", res.message);
	} else if (!(err = check_subnets(nl, net, str(net, "parent"))) && shim) {
		char name[IFNAMSIZ];
		bool existed;

		lj_result_done(&res);
		lj_shim_name(str(net, "parent"), name);
		existed = lj_link_get(nl, name, &l) == 0;
		lj_parse_cidr(shim, true, &c);
		/* Routes to the containers go through it; it goes with the network (or, while
		 * routes of CLI attachments still use it, goes back to going with the last of
		 * them) if the network made it or took it over from CLI attachments ("removed
		 * when unused"): lj_shim_add marks it the network's, which `lanjoin shim del`
		 * refuses. One pinned by `lanjoin shim add` or by another network stays theirs. */
		if (!existed || strcmp(l.alias, LJ_OWNED_ALIAS) == 0) {
			json_object_set_new(net, "shim_made", json_true());
			err = save_net(id, net);
		}
		if (!err && lj_shim_add(str(net, "parent"), &c, true, &res) < 0) {
			err = lj_plugin_error("%s", res.message);
		} else if (!err) {
			json_object_set_new(net, "shim", json_string(name));
			err = save_net(id, net);
		}
	}
	lj_result_done(&res);
	lj_nl_close(nl);
	return err;
}

/* Undo net_setup: the shim the network made, the uplink it adopted. NULL, or the error. */
static json_t *net_teardown(const json_t *net)
{
	struct lj_result res = {0};
	json_t *err = NULL;

	if (json_is_true(json_object_get(net, "shim_made")) &&
	    lj_shim_del(str(net, "parent"), true, &res) < 0)
		err = lj_plugin_error("%s", res.message);
	lj_result_done(&res);
	if (!err && json_is_true(json_object_get(net, "adopted")) &&
	    lj_uplink_release(str(net, "bridge"), false, false, &res) < 0) {
		if (res.bad_input) /* still in use (a CLI attachment's port): it stays adopted */
			fprintf(stderr,
				"lanjoin: a network removed; bridge '%s' stays adopted: %s. "
				"'lanjoin uplink release %s' gives the uplink back once nothing "
				"uses it\n",
				str(net, "bridge"), res.message, str(net, "bridge"));
		else
			err = lj_plugin_error("%s", res.message);
	}
	lj_result_done(&res);
	return err;
}

static json_t *create_network(const json_t *req)
{
	json_t *err = NULL, *net, *old, *undo_err;
	const char *id = req_id(req, "NetworkID", &err);
	int r;

	if (!id)
		return err;
	old = lj_store_load("networks", id, &r);
	if (old || r < 0) {
		json_decref(old);
		return lj_plugin_error("network %.12s exists already", id);
	}
	net = json_pack("{ss}", "id", id);
	if (!net)
		return lj_plugin_error("out of memory");
	err = lj_plugin_take_options(req, net);
	if (!err)
		err = take_gateway(json_object_get(req, "IPv4Data"), net, "gateway4", AF_INET);
	if (!err)
		err = take_gateway(json_object_get(req, "IPv6Data"), net, "gateway6", AF_INET6);
	if (err)
		goto out;
	/* Kept before any change: what setup makes, it says here first (net_setup). */
	err = save_net(id, net);
	if (err)
		goto out;
	err = net_setup(id, net);
	if (err) {
		undo_err = net_teardown(net);
		if (undo_err) /* kept for DeleteNetwork to try again */
			json_decref(undo_err);
		else
			lj_store_remove("networks", id);
	}
out:
	json_decref(net);
	return err ? err : ok();
}

/* Forget endpoint id (ep, its file's content, or an empty object) of network nid: its file
 * and its entries in the address index. 0 or -errno. */
static int ep_forget(const char *nid, const char *id, const json_t *ep)
{
	int r = 0, k;

	for (size_t i = 0; i < 2; i++)
		if (str(ep, addr_keys[i]) &&
		    (k = lj_store_addr_remove(nid, str(ep, addr_keys[i]), id)) < 0 && r == 0)
			r = k;
	k = lj_store_remove("endpoints", id);
	return r < 0 ? r : k;
}

static int forget_one(const char *id, json_t *ep, void *data)
{
	ep_forget(data, id, ep);
	return 0;
}

/* Remove the endpoint files of network nid: Docker deletes a network only once it has no
 * endpoint, so these are the ones it dropped while the plugin was down. */
static void forget_endpoints(const char *nid)
{
	lj_store_each_endpoint(nid, forget_one, (void *)nid);
	lj_store_addr_clear(nid); /* and what the index kept of files a power loss emptied */
}

static int any(const char *id, json_t *j, void *data)
{
	return 1;
}

static json_t *delete_network(const json_t *req)
{
	struct lj_result res = {0};
	json_t *err = NULL, *net;
	const char *id = req_id(req, "NetworkID", &err);
	int r;

	if (!id)
		return err;
	net = lj_store_load("networks", id, &r);
	if (!net)
		return r < 0 ? lj_plugin_error("cannot read network %.12s: %s", id, strerror(-r))
			     : ok();
	/* Endpoints Docker dropped while the plugin was down (it deletes a network with none
	 * left): their records go with it, as at start-up. */
	if (lj_handoff_recover("docker", id, &res, NULL) < 0)
		err = lj_plugin_error("%s", res.message);
	lj_result_done(&res);
	if (!err)
		forget_endpoints(id);
	if (!err)
		err = net_teardown(net);
	json_decref(net);
	if (err)
		return err;
	r = lj_store_remove("networks", id);
	if (r < 0)
		return lj_plugin_error("cannot forget network %.12s: %s", id, strerror(-r));
	if (lj_store_each("networks", any, NULL) == 0)
		lj_store_spares_clear(); /* the last network: nothing kept */
	return ok();
}

/* --- endpoints ----------------------------------------------------------------------- */

/* The network and endpoint a request names; NULL with *err set if either is unknown. */
static json_t *load_pair(const json_t *req, json_t **ret_net, const char **ret_ep, json_t **err)
{
	const char *nid = req_id(req, "NetworkID", err), *eid;
	json_t *net, *ep;
	int r;

	*ret_net = NULL;
	if (!nid)
		return NULL;
	eid = req_id(req, "EndpointID", err);
	if (!eid)
		return NULL;
	*ret_ep = eid;
	net = lj_store_load("networks", nid, &r);
	if (!net) {
		*err = lj_plugin_error("network %.12s is not a lanjoin network I know", nid);
		return NULL;
	}
	ep = lj_store_load("endpoints", eid, &r);
	if (!ep || strcmp(str(ep, "network") ? str(ep, "network") : "", nid) != 0) {
		*err = lj_plugin_error("endpoint %.12s is unknown on network %.12s", eid, nid);
		json_decref(ep);
		json_decref(net);
		return NULL;
	}
	*ret_net = net;
	return ep;
}

/* The addresses of ep ("address", "address6") as CIDRs, at most two. */
static size_t ep_addresses(const json_t *ep, struct lj_cidr out[2])
{
	size_t n = 0;

	for (size_t i = 0; i < 2; i++) {
		const char *a = str(ep, addr_keys[i]);

		if (a && lj_parse_cidr(a, true, &out[n]) == 0)
			n++;
	}
	return n;
}

/* The link Join makes for endpoint eid: "ljd" + 12 hex digits of a hash of the ID. */
static void ep_link_name(const char *eid, char name[IFNAMSIZ])
{
	lj_name_hashed("ljd", eid, name);
}

/* What Join makes for endpoint eid (ep) of network net. */
static void ep_opts(const json_t *net, const json_t *ep, const char *eid, struct lj_handoff_opts *o)
{
	const char *mode = str(net, "mode");

	*o = (struct lj_handoff_opts){.session = lj_plugin_session()};
	ep_link_name(eid, o->name);
	lj_name_hashed("ljh", eid, o->host);
	if (str(ep, "mac"))
		lj_parse_mac(str(ep, "mac"), o->mac);
	o->n_addresses = ep_addresses(ep, o->addresses);
	o->conflict_check =
		str(net, "conflict_check") && strcmp(str(net, "conflict_check"), "true") == 0;
	if (strcmp(mode, "bridge") == 0 || strcmp(mode, "ovs") == 0) {
		o->way = strcmp(mode, "ovs") == 0 ? LJ_WAY_OVS : LJ_WAY_BRIDGE;
		snprintf(o->bridge, sizeof(o->bridge), "%s", str(net, "bridge"));
		if (str(net, "vlan"))
			o->vlan = (uint32_t)strtoul(str(net, "vlan"), NULL, 10);
		o->ovsdb = str(net, "ovsdb");
		return;
	}
	o->way = LJ_WAY_MACVLAN;
	snprintf(o->parent, sizeof(o->parent), "%s", str(net, "parent"));
	lj_plugin_macvlan_mode(str(net, "macvlan_mode"), &o->macvlan_mode);
	if (str(net, "shim")) {
		snprintf(o->shim, sizeof(o->shim), "%s", str(net, "shim"));
		for (size_t i = 0; i < o->n_addresses; i++) {
			o->shim_routes[i] = o->addresses[i];
			o->shim_routes[i].prefixlen =
				o->addresses[i].ip.family == AF_INET ? 32 : 128;
		}
		o->n_shim_routes = o->n_addresses;
	}
}

/*
 * Undo what a Join of endpoint eid made: its attachment record (lanjoin's records judge what
 * is its own), or the plan an older plugin kept in the endpoint file. 0 or -errno (*err set).
 */
static int ep_unlink(json_t *ep, const char *eid, json_t **err)
{
	struct lj_result res = {0};
	const json_t *plan = json_object_get(ep, "plan");
	char name[IFNAMSIZ];
	int r;

	ep_link_name(eid, name);
	r = plan ? lj_handoff_undo(plan, &res) : 0;
	if (r == 0) {
		lj_result_done(&res);
		r = lj_handoff_detach(lj_plugin_session(), name, &res);
	}
	if (r < 0)
		*err = lj_plugin_error("%s", res.message);
	else
		json_object_del(ep, "plan");
	json_object_del(ep, "joining"); /* an older plugin's mark; the record says now */
	lj_result_done(&res);
	return r;
}

/* Does ep hold the IP of address (a CIDR) as its key's address? */
static bool holds_ip(const json_t *ep, const char *key, const char *address)
{
	struct lj_cidr a, b;

	return str(ep, key) && lj_parse_cidr(str(ep, key), true, &a) == 0 &&
	       lj_parse_cidr(address, true, &b) == 0 && lj_ip_equal(&a.ip, &b.ip);
}

/*
 * Forget the other endpoint of network nid that holds an address of the new endpoint eid (ep),
 * and undo its Join: the one the address index names. Docker's IPAM gives an address to one
 * endpoint of a network at a time, so such an endpoint is one Docker dropped without telling
 * the plugin: a dockerd killed -9 removes the stale sandboxes of its containers when it starts
 * again, but can fail to delete their endpoints ("key modified"). At CreateEndpoint, when
 * Docker hands the address on, so that Join reads nothing but its own endpoint; each one
 * forgotten is a line in the log, before the call's own (log_call). 0 or -errno (*err set).
 */
static int drop_stale(const char *nid, const char *eid, const json_t *ep, json_t **err)
{
	char id[LJ_STORE_ID_MAX + 1];
	json_t *old;
	int r, e;

	for (size_t i = 0; i < 2; i++) {
		const char *a = str(ep, addr_keys[i]);

		if (!a || lj_store_addr_find(nid, a, id) < 0 || strcmp(id, eid) == 0)
			continue; /* none, or an unreadable entry: lj_store_addr_add replaces it */
		old = lj_store_load("endpoints", id, &e);
		if (!old && e < 0)
			old = json_object(); /* a power loss left it empty: its records still go */
		else if (!old)
			continue; /* forgotten already; the entry is replaced */
		else if (strcmp(str(old, "network") ? str(old, "network") : "", nid) != 0 ||
			 !holds_ip(old, addr_keys[i], a)) {
			json_decref(old);
			continue; /* the entry was wrong: replaced, nothing dropped */
		}
		r = old ? ep_unlink(old, id, err) : -ENOMEM;
		if (r == 0)
			r = ep_forget(nid, id, old);
		json_decref(old);
		if (r == 0)
			fprintf(stderr,
				"lanjoin: CreateEndpoint network %.12s endpoint %.12s: endpoint "
				"%.12s, which held %s, is undone and forgotten (Docker dropped it "
				"without DeleteEndpoint)\n",
				nid, eid, id, a);
		if (r < 0) {
			if (!*err)
				*err = lj_plugin_error("cannot forget stale endpoint %.12s of "
						       "network %.12s: %s",
						       id, nid, strerror(-r));
			return r;
		}
	}
	return 0;
}

/*
 * Whether endpoint eid (ep) of network net may have its addresses: not the host's own, not
 * another attachment's on the network's LAN link (lj_attach_check_ips_free; the endpoints of
 * net that Docker dropped without telling, drop_stale, forgotten first). Docker's IPAM knows
 * neither. NULL, or the error for Docker.
 */
static json_t *ep_check_addresses(const json_t *net, const json_t *ep, const char *eid)
{
	struct lj_handoff_opts o;
	struct lj_result res = {0};
	json_t *err = NULL;

	ep_opts(net, ep, eid, &o);
	if (!o.n_addresses || drop_stale(str(net, "id"), eid, ep, &err) < 0)
		return err;
	if (lj_handoff_check_addresses(o.way == LJ_WAY_MACVLAN ? o.parent : o.bridge, o.addresses,
				       o.n_addresses, &res) < 0)
		err = lj_plugin_error("%s", res.message);
	lj_result_done(&res);
	return err;
}

static json_t *create_endpoint(const json_t *req)
{
	json_t *err = NULL, *net, *ep, *resp, *iface = json_object_get(req, "Interface"), *old;
	const char *nid = req_id(req, "NetworkID", &err), *eid, *a4, *a6, *mac;
	char macs[LJ_MAC_STRLEN];
	uint8_t m[LJ_MAC_LEN];
	struct lj_cidr c;
	int r;

	if (!nid)
		return err;
	eid = req_id(req, "EndpointID", &err);
	if (!eid)
		return err;
	if (iface && !json_is_object(iface) && !json_is_null(iface))
		return lj_plugin_error("Interface is not an object");
	a4 = str(iface, "Address");
	a6 = str(iface, "AddressIPv6");
	mac = str(iface, "MacAddress");
	if (a4 && a4[0] && (lj_parse_cidr(a4, true, &c) < 0 || c.ip.family != AF_INET))
		return lj_plugin_error("invalid IPv4 address '%s'", a4);
	if (a6 && a6[0] && (lj_parse_cidr(a6, true, &c) < 0 || c.ip.family != AF_INET6))
		return lj_plugin_error("invalid IPv6 address '%s'", a6);
	if (mac && mac[0] && lj_parse_mac(mac, m) < 0)
		return lj_plugin_error("invalid MAC address '%s'", mac);
	net = lj_store_load("networks", nid, &r);
	if (!net)
		return lj_plugin_error("network %.12s is not a lanjoin network I know", nid);
	old = lj_store_load("endpoints", eid, &r);
	if (old || r < 0) {
		json_decref(old);
		json_decref(net);
		return lj_plugin_error("endpoint %.12s exists already", eid);
	}
	resp = ok();
	if (!mac || !mac[0]) {
		lj_plugin_default_mac(net, nid, eid, a4, a6, m);
		lj_mac_to_string(m, macs, sizeof(macs));
		json_object_set_new(resp, "Interface", json_pack("{ss}", "MacAddress", macs));
	} else {
		lj_mac_to_string(m, macs, sizeof(macs));
	}
	ep = json_pack("{ss ss ss}", "id", eid, "network", nid, "mac", macs);
	if (ep && a4 && a4[0])
		json_object_set_new(ep, "address", json_string(a4));
	if (ep && a6 && a6[0])
		json_object_set_new(ep, "address6", json_string(a6));
	/* refused here, where 'docker run' shows it (Join checks again, under the lock) */
	err = ep ? ep_check_addresses(net, ep, eid) : NULL;
	r = !ep ? -ENOMEM : err ? -EADDRINUSE : 0;
	json_decref(net);
	if (r == 0)
		r = lj_store_save("endpoints", eid, ep);
	for (size_t i = 0; r == 0 && i < 2; i++)
		if (str(ep, addr_keys[i]))
			r = lj_store_addr_add(nid, str(ep, addr_keys[i]), eid);
	if (r < 0 && !err) /* not known, so that Docker may ask again */
		ep_forget(nid, eid, ep);
	json_decref(ep);
	if (r < 0) {
		json_decref(resp);
		return err ? err
			   : lj_plugin_error("cannot record endpoint %.12s: %s", eid, strerror(-r));
	}
	return resp;
}

static json_t *delete_endpoint(const json_t *req)
{
	json_t *err = NULL, *ep;
	const char *eid = req_id(req, "EndpointID", &err), *nid = NULL;
	int r;

	if (eid)
		nid = req_id(req, "NetworkID", &err);
	if (!nid)
		return err;
	ep = lj_store_load("endpoints", eid, &r);
	if (!ep && r < 0 && r != -EBADMSG)
		return lj_plugin_error("cannot read endpoint %.12s: %s", eid, strerror(-r));
	/* Joined records of an endpoint whose file is gone still go; so do those of one a power
	 * loss left empty (endpoint files are not synced: lj_store_save). */
	if (!ep)
		ep = json_object();
	r = ep_unlink(ep, eid, &err);
	if (r < 0) {
		json_decref(ep);
		return err;
	}
	r = ep_forget(nid, eid, ep);
	json_decref(ep);
	return r < 0 ? lj_plugin_error("cannot forget endpoint %.12s: %s", eid, strerror(-r))
		     : ok();
}

static json_t *endpoint_info(const json_t *req)
{
	json_t *err = NULL, *net, *ep, *v;
	struct lj_record rec;
	char name[IFNAMSIZ];
	const char *eid;

	ep = load_pair(req, &net, &eid, &err);
	if (!ep)
		return err;
	v = json_pack("{sO sO sO?}", "mode", json_object_get(net, "mode"), "mac",
		      json_object_get(ep, "mac"), "address", json_object_get(ep, "address"));
	ep_link_name(eid, name);
	if (v && lj_handoff_find(name, &rec) == 0) {
		json_object_set_new(v, "link", json_string(rec.ifname));
		json_object_set_new(v, "record", json_string(rec.id));
		json_object_set_new(v, "status", json_string(rec.status));
		lj_record_free(&rec);
	}
	json_decref(ep);
	json_decref(net);
	return json_pack("{so}", "Value", v ? v : json_object());
}

static json_t *join(const json_t *req)
{
	struct lj_handoff_opts o = {0};
	struct lj_result res = {0};
	json_t *err = NULL, *net, *ep, *resp, *info = NULL, *gw = NULL;
	const char *eid, *sk = str(req, "SandboxKey");
	bool older;
	int r;

	if (sk && (strlen(sk) >= LJ_TARGET_SPEC_MAX || sk[0] != '/'))
		return lj_plugin_error("SandboxKey is not an absolute path under %d bytes",
				       LJ_TARGET_SPEC_MAX);
	for (const char *p = sk; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return lj_plugin_error("SandboxKey holds a control character");
	ep = load_pair(req, &net, &eid, &err);
	if (!ep)
		return err;
	/* ep_unlink drops these: the file is written again only then (each write is a file
	 * created and renamed) */
	older = json_object_get(ep, "plan") || json_object_get(ep, "joining");
	/* Joined before (e.g. a Join retried after a failure): start again from nothing. */
	if (ep_unlink(ep, eid, &err) < 0)
		goto out;
	err = lj_plugin_ipam_join(ep, sk, &gw); /* a DHCP lease: its client for the link */
	if (err)
		goto out;
	if (older)
		lj_store_save("endpoints", eid, ep); /* without an older plugin's plan */
	ep_opts(net, ep, eid, &o);
	info = json_pack("{s{ssss}}", "docker", "network", str(net, "id"), "endpoint", eid);
	if (!info) {
		err = lj_plugin_error("out of memory");
		goto out;
	}
	o.sandbox = sk;
	o.info = info;
	r = lj_handoff_attach(&o, &res);
	if (r < 0) {
		err = lj_plugin_error("%s", res.message);
		json_decref(lj_plugin_ipam_leave(ep));
		goto out;
	}
	resp = json_pack("{s{ssss}}", "InterfaceName", "SrcName", o.name, "DstPrefix", "eth");
	if (resp && (gw || str(net, "gateway4")))
		json_object_set(resp, "Gateway", gw ? gw : json_object_get(net, "gateway4"));
	if (resp && str(net, "gateway6"))
		json_object_set(resp, "GatewayIPv6", json_object_get(net, "gateway6"));
	err = resp ? resp : lj_plugin_error("out of memory");
out:
	json_decref(gw);
	json_decref(info);
	lj_result_done(&res);
	json_decref(ep);
	json_decref(net);
	return err;
}

/* Docker calls Leave while the link is still in the sandbox; it moves the link back to the
 * host before DeleteEndpoint, which deletes it. */
static json_t *leave(const json_t *req)
{
	json_t *err = NULL, *net, *ep;
	const char *eid;

	ep = load_pair(req, &net, &eid, &err);
	if (!ep)
		return err;
	err = lj_plugin_ipam_leave(ep); /* releases a DHCP lease through the link */
	json_decref(ep);
	json_decref(net);
	return err ? err : ok();
}

static json_t *activate(const json_t *req)
{
	return json_pack("{s[ss]}", "Implements", "NetworkDriver", "IpamDriver");
}

static json_t *capabilities(const json_t *req)
{
	return json_pack("{ssss}", "Scope", "local", "ConnectivityScope", "local");
}

static json_t *discover(const json_t *req)
{
	return ok();
}

static json_t *global_only(const json_t *req)
{
	return lj_plugin_error("lanjoin is a local-scope driver: AllocateNetwork and FreeNetwork "
			       "are for swarm-scope drivers");
}

/* The ID under key of req, shortened to 12 digits as Docker shows IDs, into buf ("-" if none,
 * "?" if it is no ID: a hostile request's text never reaches the log). */
static const char *log_id(const json_t *req, const char *key, char buf[13])
{
	const char *id = json_string_value(json_object_get(req, key));

	snprintf(buf, 13, "%.12s", !id ? "-" : lj_store_id_valid(id) ? id : "?");
	return buf;
}

/*
 * One line on stderr (the plugin's log) for a call that changes something: the call, its
 * network and endpoint IDs (shortened), and its result, "ok" (a Join's: and the link made) or
 * "failed: " and the error answered (its control characters as '?'). Docker's own log says
 * only what it asked.
 */
static void log_call(const char *path, const json_t *req, const json_t *resp)
{
	const char *err = json_string_value(json_object_get(resp, "Err"));
	const char *link = json_string_value(
		json_object_get(json_object_get(resp, "InterfaceName"), "SrcName"));
	char nid[13], eid[13], msg[512];

	snprintf(msg, sizeof(msg), "%s", err ? err : "");
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	const char *call = path + strlen("/NetworkDriver.");

	fprintf(stderr, "lanjoin: %s network %s", call, log_id(req, "NetworkID", nid));
	if (!strstr(call, "Network"))
		fprintf(stderr, " endpoint %s", log_id(req, "EndpointID", eid));
	if (err)
		fprintf(stderr, ": failed: %s\n", msg);
	else if (link && lj_ifname_valid(link))
		fprintf(stderr, ": ok (link %s)\n", link);
	else
		fprintf(stderr, ": ok\n");
}

static const struct {
	const char *path;
	json_t *(*fn)(const json_t *req);
	bool needs_body;
	bool log; /* a line in the log for each (log_call) */
} calls[] = {
	{"/Plugin.Activate", activate, false, false},
	{"/NetworkDriver.GetCapabilities", capabilities, false, false},
	{"/NetworkDriver.CreateNetwork", create_network, true, true},
	{"/NetworkDriver.DeleteNetwork", delete_network, true, true},
	{"/NetworkDriver.CreateEndpoint", create_endpoint, true, true},
	{"/NetworkDriver.DeleteEndpoint", delete_endpoint, true, true},
	{"/NetworkDriver.EndpointOperInfo", endpoint_info, true, false},
	{"/NetworkDriver.Join", join, true, true},
	{"/NetworkDriver.Leave", leave, true, true},
	{"/NetworkDriver.DiscoverNew", discover, false, false},
	{"/NetworkDriver.DiscoverDelete", discover, false, false},
	{"/NetworkDriver.ProgramExternalConnectivity", discover, false, false},
	{"/NetworkDriver.RevokeExternalConnectivity", discover, false, false},
	{"/NetworkDriver.AllocateNetwork", global_only, false, false},
	{"/NetworkDriver.FreeNetwork", global_only, false, false},
};

json_t *lj_plugin_call(const char *path, const json_t *req, unsigned *ret_status)
{
	if (strncmp(path, "/IpamDriver.", 12) == 0)
		return lj_plugin_ipam_call(path, req, ret_status);
	*ret_status = 200;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		if (strcmp(path, calls[i].path) != 0)
			continue;
		if (calls[i].needs_body && !req) {
			*ret_status = 400;
			return lj_plugin_error("%s needs a JSON object as its body", path + 1);
		}
		json_t *resp = calls[i].fn(req);

		if (calls[i].log)
			log_call(path, req, resp);
		return resp;
	}
	*ret_status = 404;
	return lj_plugin_error("unknown call '%.64s'", path);
}
