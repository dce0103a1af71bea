/* SPDX-License-Identifier: MIT */
/*
 * The network driver: libnetwork's remote driver calls (moby libnetwork/docs/remote.md).
 * A network is a file DIR/networks/ID.json with its way and options; an endpoint is
 * DIR/endpoints/ID.json with its addresses, MAC and, once joined, the plan that made its link
 * (undone when Docker deletes the endpoint). A restarted plugin reads them again.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "lib/ways/shim.h"
#include "plugin/plugin.h"
#include "shared/name.h"
#include "shared/parse.h"

#define ID_MAX 64
#define GENERIC "com.docker.network.generic"

static char state_dir[PATH_MAX - 256]; /* room for /endpoints/ID.json.tmp */

json_t *lj_plugin_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{ss}", "Err", msg);
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int lj_plugin_state_init(const char *dir)
{
	char sub[PATH_MAX];
	int r;

	if (snprintf(state_dir, sizeof(state_dir), "%s", dir) >= (int)sizeof(state_dir))
		return -ENAMETOOLONG;
	r = mkdir_p(dir);
	if (r < 0)
		return r;
	snprintf(sub, sizeof(sub), "%s/networks", state_dir);
	if (mkdir(sub, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(sub, sizeof(sub), "%s/endpoints", state_dir);
	if (mkdir(sub, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* --- records ------------------------------------------------------------------------- */

static void record_path(const char *kind, const char *id, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/%s.json", state_dir, kind, id);
}

/* Write j as kind/id.json, atomically (a temporary file renamed over it). */
static int record_save(const char *kind, const char *id, const json_t *j)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd, r;

	record_path(kind, id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = json_dumpfd(j, fd, JSON_INDENT(1) | JSON_SORT_KEYS) < 0 ? -EIO : 0;
	if (r == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* kind/id.json, or NULL if there is none (or it cannot be read: *ret_err says). */
static json_t *record_load(const char *kind, const char *id, int *ret_err)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *j;

	record_path(kind, id, path, sizeof(path));
	*ret_err = 0;
	if (access(path, F_OK) < 0) {
		*ret_err = errno == ENOENT ? 0 : -errno;
		return NULL;
	}
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		*ret_err = -EBADMSG;
		return NULL;
	}
	return j;
}

static int record_remove(const char *kind, const char *id)
{
	char path[PATH_MAX];

	record_path(kind, id, path, sizeof(path));
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* --- request fields ------------------------------------------------------------------ */

/* A Docker object ID: 1 to 64 lower-case hex digits. */
static bool id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* req[key] as a valid ID, or NULL with *err set to the response. */
static const char *req_id(const json_t *req, const char *key, json_t **err)
{
	const char *id = str(req, key);

	if (!id_valid(id)) {
		*err = lj_plugin_error("%s is missing or not an ID (1 to %d hex digits)", key,
				       ID_MAX);
		return NULL;
	}
	return id;
}

static json_t *ok(void)
{
	return json_object();
}

/* --- networks ------------------------------------------------------------------------ */

static int parse_macvlan_mode(const char *s, uint32_t *ret)
{
	static const struct {
		const char *name;
		uint32_t mode;
	} modes[] = {
		{"bridge", MACVLAN_MODE_BRIDGE},
		{"private", MACVLAN_MODE_PRIVATE},
		{"vepa", MACVLAN_MODE_VEPA},
		{"passthru", MACVLAN_MODE_PASSTHRU},
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(s, modes[i].name) == 0) {
			*ret = modes[i].mode;
			return 0;
		}
	return -EINVAL;
}

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

/* Check the generic options and put them into net. NULL, or the error response. */
static json_t *take_options(const json_t *req, json_t *net)
{
	const json_t *opts = json_object_get(req, "Options"), *gen, *v;
	const char *key, *mode = NULL, *bridge = NULL, *parent = NULL, *mmode = NULL, *shim = NULL;
	struct lj_cidr c;
	uint32_t m;

	if (opts && !json_is_object(opts) && !json_is_null(opts))
		return lj_plugin_error("Options is not an object");
	gen = json_object_get(opts, GENERIC);
	if (gen && !json_is_object(gen) && !json_is_null(gen))
		return lj_plugin_error("%s is not an object", GENERIC);
	json_object_foreach((json_t *)gen, key, v)
	{
		const char *s = json_string_value(v);

		if (!s)
			return lj_plugin_error("option '%s' is not a string", key);
		if (strcmp(key, "mode") == 0)
			mode = s;
		else if (strcmp(key, "bridge") == 0)
			bridge = s;
		else if (strcmp(key, "parent") == 0)
			parent = s;
		else if (strcmp(key, "macvlan_mode") == 0)
			mmode = s;
		else if (strcmp(key, "host_shim") == 0)
			shim = s;
		else
			return lj_plugin_error("unknown option '%s' (known: mode, bridge, parent, "
					       "macvlan_mode, host_shim)",
					       key);
	}
	if (!mode)
		return lj_plugin_error("option mode is missing: -o mode=bridge|macvlan");
	if (strcmp(mode, "ovs") == 0 || strcmp(mode, "nat") == 0 || strcmp(mode, "routed") == 0)
		return lj_plugin_error("mode '%s' is not served by the Docker plugin yet "
				       "(bridge, macvlan)",
				       mode);
	if (strcmp(mode, "bridge") != 0 && strcmp(mode, "macvlan") != 0)
		return lj_plugin_error("unknown mode '%s' (bridge, macvlan)", mode);
	json_object_set_new(net, "mode", json_string(mode));
	if (strcmp(mode, "bridge") == 0) {
		if (parent || mmode || shim)
			return lj_plugin_error("parent, macvlan_mode and host_shim are for "
					       "mode=macvlan");
		if (!bridge)
			return lj_plugin_error("mode bridge needs -o bridge=NAME");
		if (!lj_ifname_valid(bridge))
			return lj_plugin_error("invalid bridge name '%s'", bridge);
		json_object_set_new(net, "bridge", json_string(bridge));
		return NULL;
	}
	if (bridge)
		return lj_plugin_error("bridge is for mode=bridge");
	if (!parent)
		return lj_plugin_error("mode macvlan needs -o parent=LINK");
	if (!lj_ifname_valid(parent))
		return lj_plugin_error("invalid parent name '%s'", parent);
	json_object_set_new(net, "parent", json_string(parent));
	if (mmode && parse_macvlan_mode(mmode, &m) < 0)
		return lj_plugin_error("invalid macvlan_mode '%s' (bridge, private, vepa, "
				       "passthru)",
				       mmode);
	json_object_set_new(net, "macvlan_mode", json_string(mmode ? mmode : "bridge"));
	if (shim) {
		if (lj_parse_cidr(shim, true, &c) < 0)
			return lj_plugin_error("invalid host_shim '%s': expected ADDRESS/PREFIX",
					       shim);
		json_object_set_new(net, "host_shim", json_string(shim));
	}
	return NULL;
}

/* Check the network's links against the live system; make the host shim. */
static json_t *net_setup(json_t *net)
{
	const char *mode = str(net, "mode"), *shim = str(net, "host_shim");
	struct lj_result res = {0};
	struct lj_nl *nl = NULL;
	struct lj_link l;
	struct lj_cidr c;
	json_t *err = NULL;
	int r;

	r = lj_nl_open(-1, &nl);
	if (r < 0)
		return lj_plugin_error("cannot open rtnetlink: %s", strerror(-r));
	if (strcmp(mode, "bridge") == 0) {
		r = lj_link_get(nl, str(net, "bridge"), &l);
		if (r < 0 || strcmp(l.kind, "bridge") != 0)
			err = lj_plugin_error("bridge '%s' does not exist (or is not a Linux "
					      "bridge)",
					      str(net, "bridge"));
	} else if (lj_macvlan_check_parent(nl, str(net, "parent"), &l, &res) < 0) {
		err = lj_plugin_error("%s", res.message);
	} else if (shim) {
		char name[IFNAMSIZ];
		bool existed;

		lj_shim_name(str(net, "parent"), name);
		existed = lj_link_get(nl, name, &l) == 0;
		lj_parse_cidr(shim, true, &c);
		if (lj_shim_add(str(net, "parent"), &c, &res) < 0) {
			err = lj_plugin_error("%s", res.message);
		} else {
			/* Routes to the containers go through it; it goes with the network
			 * only if the network made it. */
			json_object_set_new(net, "shim", json_string(name));
			if (!existed)
				json_object_set_new(net, "shim_made", json_true());
		}
	}
	lj_result_done(&res);
	lj_nl_close(nl);
	return err;
}

static void net_teardown(const json_t *net)
{
	struct lj_result res = {0};

	if (json_is_true(json_object_get(net, "shim_made")))
		lj_shim_del(str(net, "parent"), &res);
	lj_result_done(&res);
}

static json_t *create_network(const json_t *req)
{
	json_t *err = NULL, *net, *old;
	const char *id = req_id(req, "NetworkID", &err);
	int r;

	if (!id)
		return err;
	old = record_load("networks", id, &r);
	if (old || r < 0) {
		json_decref(old);
		return lj_plugin_error("network %.12s exists already", id);
	}
	net = json_pack("{ss}", "id", id);
	if (!net)
		return lj_plugin_error("out of memory");
	err = take_options(req, net);
	if (!err)
		err = take_gateway(json_object_get(req, "IPv4Data"), net, "gateway4", AF_INET);
	if (!err)
		err = take_gateway(json_object_get(req, "IPv6Data"), net, "gateway6", AF_INET6);
	if (!err)
		err = net_setup(net);
	if (!err) {
		r = record_save("networks", id, net);
		if (r < 0) {
			net_teardown(net);
			err = lj_plugin_error("cannot record network %.12s: %s", id, strerror(-r));
		}
	}
	json_decref(net);
	return err ? err : ok();
}

static json_t *delete_network(const json_t *req)
{
	json_t *err = NULL, *net;
	const char *id = req_id(req, "NetworkID", &err);
	int r;

	if (!id)
		return err;
	net = record_load("networks", id, &r);
	if (!net)
		return r < 0 ? lj_plugin_error("cannot read network %.12s: %s", id, strerror(-r))
			     : ok();
	net_teardown(net);
	json_decref(net);
	r = record_remove("networks", id);
	return r < 0 ? lj_plugin_error("cannot forget network %.12s: %s", id, strerror(-r)) : ok();
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
	net = record_load("networks", nid, &r);
	if (!net) {
		*err = lj_plugin_error("network %.12s is not a lanjoin network I know", nid);
		return NULL;
	}
	ep = record_load("endpoints", eid, &r);
	if (!ep || strcmp(str(ep, "network") ? str(ep, "network") : "", nid) != 0) {
		*err = lj_plugin_error("endpoint %.12s is unknown on network %.12s", eid, nid);
		json_decref(ep);
		json_decref(net);
		return NULL;
	}
	*ret_net = net;
	return ep;
}

static json_t *create_endpoint(const json_t *req)
{
	json_t *err = NULL, *net, *ep, *resp, *iface = json_object_get(req, "Interface"), *old;
	const char *nid = req_id(req, "NetworkID", &err), *eid, *a4, *a6, *mac;
	char macs[LJ_MAC_STRLEN], key[256];
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
	net = record_load("networks", nid, &r);
	if (!net)
		return lj_plugin_error("network %.12s is not a lanjoin network I know", nid);
	json_decref(net);
	old = record_load("endpoints", eid, &r);
	if (old || r < 0) {
		json_decref(old);
		return lj_plugin_error("endpoint %.12s exists already", eid);
	}
	resp = ok();
	if (!mac || !mac[0]) {
		/* Stable for the address (as Docker's macvlan driver): a restarted container
		 * with the same --ip has the same MAC, and the LAN's ARP caches stay right. */
		snprintf(key, sizeof(key), "docker:%.12s:%s", nid,
			 a4 && a4[0] ? a4 : (a6 && a6[0] ? a6 : eid));
		lj_mac_from_name(key, m);
		lj_mac_to_string(m, macs, sizeof(macs));
		json_object_set_new(resp, "Interface", json_pack("{ss}", "MacAddress", macs));
	} else {
		lj_mac_to_string(m, macs, sizeof(macs));
	}
	ep = json_pack("{ss ss ss}", "id", eid, "network", nid, "mac", macs);
	if (a4 && a4[0])
		json_object_set_new(ep, "address", json_string(a4));
	if (a6 && a6[0])
		json_object_set_new(ep, "address6", json_string(a6));
	r = ep ? record_save("endpoints", eid, ep) : -ENOMEM;
	json_decref(ep);
	if (r < 0) {
		json_decref(resp);
		return lj_plugin_error("cannot record endpoint %.12s: %s", eid, strerror(-r));
	}
	return resp;
}

static void shim_routes(const json_t *ep, struct lj_handoff_opts *o);

/* What Join makes for endpoint eid (ep) of network net. */
static void ep_opts(const json_t *net, const json_t *ep, const char *eid, struct lj_handoff_opts *o)
{
	memset(o, 0, sizeof(*o));
	lj_name_hashed("ljd", eid, o->name);
	lj_name_hashed("ljh", eid, o->host);
	if (str(ep, "mac") && lj_parse_mac(str(ep, "mac"), o->mac) == 0)
		o->has_mac = true;
	if (strcmp(str(net, "mode"), "bridge") == 0) {
		o->way = LJ_WAY_BRIDGE;
		snprintf(o->bridge, sizeof(o->bridge), "%s", str(net, "bridge"));
		return;
	}
	o->way = LJ_WAY_MACVLAN;
	snprintf(o->parent, sizeof(o->parent), "%s", str(net, "parent"));
	parse_macvlan_mode(str(net, "macvlan_mode"), &o->macvlan_mode);
	if (str(net, "shim")) {
		snprintf(o->shim, sizeof(o->shim), "%s", str(net, "shim"));
		shim_routes(ep, o);
	}
}

/*
 * Undo the link of a joined endpoint: by the plan kept in ep, or, when a Join was cut short
 * before it kept its plan ("joining"), by what that Join would have made. net may be NULL
 * (its network forgotten): then only a kept plan is undone. 0 or -errno (*err set).
 */
static int ep_unlink(const json_t *net, json_t *ep, const char *eid, json_t **err)
{
	struct lj_result res = {0};
	struct lj_handoff_opts o;
	const json_t *plan = json_object_get(ep, "plan");
	int r = 0;

	if (plan) {
		r = lj_handoff_undo(plan, &res);
	} else if (net && json_is_true(json_object_get(ep, "joining"))) {
		ep_opts(net, ep, eid, &o);
		r = lj_handoff_unmake(&o, &res);
	}
	if (r < 0) {
		*err = lj_plugin_error("%s", res.message);
	} else {
		json_object_del(ep, "plan");
		json_object_del(ep, "joining");
	}
	lj_result_done(&res);
	return r;
}

static json_t *delete_endpoint(const json_t *req)
{
	json_t *err = NULL, *ep, *net;
	const char *eid = req_id(req, "EndpointID", &err);
	int r;

	if (!eid || !req_id(req, "NetworkID", &err))
		return err;
	ep = record_load("endpoints", eid, &r);
	if (!ep)
		return r < 0 ? lj_plugin_error("cannot read endpoint %.12s: %s", eid, strerror(-r))
			     : ok();
	net = record_load("networks", str(ep, "network") ? str(ep, "network") : "", &r);
	r = ep_unlink(net, ep, eid, &err);
	json_decref(net);
	if (r < 0) {
		record_save("endpoints", eid, ep);
		json_decref(ep);
		return err;
	}
	json_decref(ep);
	r = record_remove("endpoints", eid);
	return r < 0 ? lj_plugin_error("cannot forget endpoint %.12s: %s", eid, strerror(-r))
		     : ok();
}

static json_t *endpoint_info(const json_t *req)
{
	json_t *err = NULL, *net, *ep, *v;
	const char *eid;

	ep = load_pair(req, &net, &eid, &err);
	if (!ep)
		return err;
	v = json_pack("{sO sO sO? sO?}", "mode", json_object_get(net, "mode"), "mac",
		      json_object_get(ep, "mac"), "address", json_object_get(ep, "address"), "link",
		      json_object_get(ep, "link"));
	json_decref(ep);
	json_decref(net);
	return json_pack("{so}", "Value", v ? v : json_object());
}

/* The host route through the shim to each of ep's addresses (as a /32 or /128). */
static void shim_routes(const json_t *ep, struct lj_handoff_opts *o)
{
	const char *keys[] = {"address", "address6"};

	for (size_t i = 0; i < 2; i++) {
		const char *a = str(ep, keys[i]);
		struct lj_cidr c;

		if (!a || lj_parse_cidr(a, true, &c) < 0)
			continue;
		c.prefixlen = c.ip.family == AF_INET ? 32 : 128;
		o->shim_routes[o->n_shim_routes++] = c;
	}
}

static json_t *join(const json_t *req)
{
	struct lj_handoff_opts o = {0};
	struct lj_result res = {0};
	json_t *err = NULL, *net, *ep, *plan = NULL, *resp;
	const char *eid, *sk = str(req, "SandboxKey");
	int r;

	if (sk && strlen(sk) > 4096)
		return lj_plugin_error("SandboxKey is too long");
	ep = load_pair(req, &net, &eid, &err);
	if (!ep)
		return err;
	/* Joined before (e.g. a Join retried after a failure): start again from nothing. */
	if (ep_unlink(net, ep, eid, &err) < 0)
		goto out;
	ep_opts(net, ep, eid, &o);
	/* Kept before any change: a plugin killed in the middle undoes it later. */
	json_object_set_new(ep, "joining", json_true());
	r = record_save("endpoints", eid, ep);
	if (r < 0) {
		err = lj_plugin_error("cannot record endpoint %.12s: %s", eid, strerror(-r));
		goto out;
	}
	r = lj_handoff_make(&o, &plan, &res);
	if (r < 0) {
		err = lj_plugin_error("%s", res.message);
		if (!res.undo_failed) { /* rolled back: nothing is left */
			json_object_del(ep, "joining");
			record_save("endpoints", eid, ep);
		}
		goto out;
	}
	json_object_set_new(ep, "plan", plan);
	json_object_del(ep, "joining");
	json_object_set_new(ep, "link", json_string(o.name));
	r = record_save("endpoints", eid, ep);
	if (r < 0) {
		json_t *undo_err = NULL;

		ep_unlink(net, ep, eid, &undo_err);
		json_decref(undo_err);
		err = lj_plugin_error("cannot record endpoint %.12s: %s", eid, strerror(-r));
		goto out;
	}
	resp = json_pack("{s{ssss}}", "InterfaceName", "SrcName", o.name, "DstPrefix", "eth");
	if (resp && str(net, "gateway4"))
		json_object_set(resp, "Gateway", json_object_get(net, "gateway4"));
	if (resp && str(net, "gateway6"))
		json_object_set(resp, "GatewayIPv6", json_object_get(net, "gateway6"));
	err = resp ? resp : lj_plugin_error("out of memory");
out:
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
	json_decref(ep);
	json_decref(net);
	return ok();
}

static json_t *activate(const json_t *req)
{
	return json_pack("{s[s]}", "Implements", "NetworkDriver");
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

static const struct {
	const char *path;
	json_t *(*fn)(const json_t *req);
	bool needs_body;
} calls[] = {
	{"/Plugin.Activate", activate, false},
	{"/NetworkDriver.GetCapabilities", capabilities, false},
	{"/NetworkDriver.CreateNetwork", create_network, true},
	{"/NetworkDriver.DeleteNetwork", delete_network, true},
	{"/NetworkDriver.CreateEndpoint", create_endpoint, true},
	{"/NetworkDriver.DeleteEndpoint", delete_endpoint, true},
	{"/NetworkDriver.EndpointOperInfo", endpoint_info, true},
	{"/NetworkDriver.Join", join, true},
	{"/NetworkDriver.Leave", leave, true},
	{"/NetworkDriver.DiscoverNew", discover, false},
	{"/NetworkDriver.DiscoverDelete", discover, false},
	{"/NetworkDriver.ProgramExternalConnectivity", discover, false},
	{"/NetworkDriver.RevokeExternalConnectivity", discover, false},
	{"/NetworkDriver.AllocateNetwork", global_only, false},
	{"/NetworkDriver.FreeNetwork", global_only, false},
};

json_t *lj_plugin_call(const char *path, const json_t *req, unsigned *ret_status)
{
	*ret_status = 200;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		if (strcmp(path, calls[i].path) != 0)
			continue;
		if (calls[i].needs_body && !req) {
			*ret_status = 400;
			return lj_plugin_error("%s needs a JSON object as its body", path + 1);
		}
		return calls[i].fn(req);
	}
	*ret_status = 404;
	return lj_plugin_error("unknown call '%.64s'", path);
}
