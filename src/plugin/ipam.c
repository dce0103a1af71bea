/* SPDX-License-Identifier: MIT */
/*
 * The IPAM driver (moby libnetwork/docs/ipam.md): a container's IPv4 address comes from the
 * LAN's DHCP server, and lanjoin's supervised DHCP client holds the lease for the container's
 * life. Docker asks for the address (RequestAddress, with the endpoint's MAC: the capability
 * RequiresMACAddress) before the endpoint exists and before the container's namespace does,
 * so the lease is got in two stages, each one supervised client (lib/foreign/dhcp.h):
 *
 *   RequestAddress  a macvlan with the endpoint's MAC on the network's parent, in a scratch
 *                   network namespace of its own; a client there gets the lease and keeps it
 *   Join            that link is deleted first (so the client's stop sends no release) and
 *                   the client stopped; Join makes the endpoint's link with the same MAC
 *   (container up)  a second client, started at Join, waits for that link to be up in the
 *                   sandbox and holds the lease on it (same MAC and client ID: the server
 *                   renews the same lease); it never changes the link (Docker set the address)
 *   Leave           that client is stopped: it releases the lease through the link, still
 *                   in the sandbox
 *   ReleaseAddress  whichever client still runs is stopped (releasing); the record goes
 *
 * A lease is the record STATE/leases/ADDRESS.json: pool, MAC, router, and the supervisor
 * (PID, start time, files) of each stage's client. Pools are stateless: the PoolID names the
 * subnet ("dhcp4/198.51.100.0/24"), and a network of that subnet (its record) gives the
 * parent link.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_link.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/state.h"
#include "lib/foreign/dhcp.h"
#include "lib/ways/handoff.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"
#include "lib/kernel/netns.h"
#include "lib/kernel/proc.h"
#include "plugin/plugin.h"
#include "shared/parse.h"

#define POOL_PREFIX "dhcp4/"
#define ADDRESS_SPACE "lanjoin"
#define MAC_OPT "com.docker.network.endpoint.macaddress"
#define TYPE_OPT "RequestAddressType"
#define GATEWAY_TYPE "com.docker.network.gateway"
#define SCRATCH_LINK "lease0"
#define LEASE_TIMEOUT_S 10

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The record DIR/KIND/ID.json (ID: an IPv4 address, a Docker ID), or NULL (none, or
 * unreadable). New reference. */
static json_t *record_load(const char *kind, const char *id)
{
	int err;

	return lj_store_load(kind, id, &err);
}

static int lease_save(const char *id, const json_t *j)
{
	return lj_store_save("leases", id, j);
}

/* The subnet a PoolID names, or -EINVAL. */
static int pool_parse(const char *id, struct lj_cidr *ret)
{
	size_t n = strlen(POOL_PREFIX);

	if (!id || strncmp(id, POOL_PREFIX, n) != 0 || lj_parse_cidr(id + n, true, ret) < 0 ||
	    ret->ip.family != AF_INET)
		return -EINVAL;
	return 0;
}

/* req's PoolID as a subnet; NULL, or the error response. */
static json_t *req_pool(const json_t *req, struct lj_cidr *ret)
{
	const char *id = str(req, "PoolID");

	if (pool_parse(id, ret) < 0)
		return lj_plugin_error("PoolID '%.64s' is not one of lanjoin's (%sSUBNET)",
				       id ? id : "", POOL_PREFIX);
	return NULL;
}

/* req's Options: NULL/absent or an object of strings. NULL, or the error response. */
static json_t *check_options(const json_t *req)
{
	const json_t *opts = json_object_get(req, "Options"), *v;
	const char *key;

	if (!opts || json_is_null(opts))
		return NULL;
	if (!json_is_object(opts))
		return lj_plugin_error("Options is not an object");
	json_object_foreach((json_t *)opts, key, v) if (!json_is_string(v)) return lj_plugin_error(
		"option '%.64s' is not a string", key);
	return NULL;
}

static json_t *capabilities(const json_t *req)
{
	return json_pack("{sb}", "RequiresMACAddress", 1);
}

static json_t *address_spaces(const json_t *req)
{
	return json_pack("{ssss}", "LocalDefaultAddressSpace", ADDRESS_SPACE,
			 "GlobalDefaultAddressSpace", ADDRESS_SPACE);
}

static json_t *request_pool(const json_t *req)
{
	const char *pool = str(req, "Pool"), *sub = str(req, "SubPool");
	char id[LJ_CIDR_STRLEN + 8], a[LJ_CIDR_STRLEN];
	json_t *err = check_options(req);
	struct lj_cidr c;

	if (err)
		return err;
	if (json_is_true(json_object_get(req, "V6")) || (pool && strchr(pool, ':')))
		return lj_plugin_error("lanjoin's IPAM driver leases IPv4 addresses by DHCP only "
				       "(IPv6: --ipv6 with Docker's default IPAM, or SLAAC)");
	if (!pool || !pool[0])
		return lj_plugin_error("lanjoin's IPAM driver needs the LAN's subnet: --subnet");
	if (sub && sub[0])
		return lj_plugin_error("lanjoin's IPAM driver takes no --ip-range: the DHCP "
				       "server's range applies");
	if (lj_parse_cidr(pool, true, &c) < 0 || c.ip.family != AF_INET)
		return lj_plugin_error("invalid IPv4 subnet '%.64s'", pool);
	lj_cidr_to_string(&c, a, sizeof(a));
	snprintf(id, sizeof(id), POOL_PREFIX "%s", a);
	return json_pack("{ssss s{}}", "PoolID", id, "Pool", a, "Data");
}

static json_t *release_pool(const json_t *req)
{
	struct lj_cidr c;
	json_t *err = req_pool(req, &c);

	return err ? err : json_object();
}

struct pool_match {
	const struct lj_cidr *pool;
	json_t *net;
};

static int match_pool(const char *id, json_t *n, void *data)
{
	struct pool_match *m = data;
	struct lj_cidr c;

	(void)id;
	if (str(n, "subnet4") && lj_parse_cidr(str(n, "subnet4"), true, &c) == 0 &&
	    c.prefixlen == m->pool->prefixlen && lj_ip_equal(&c.ip, &m->pool->ip) &&
	    (!m->net || strcmp(str(n, "mode") ? str(n, "mode") : "", "macvlan") == 0)) {
		json_decref(m->net);
		m->net = json_incref(n);
	}
	return 0;
}

/* The record of the lanjoin network whose IPv4 subnet is pool (new reference), or NULL: a
 * macvlan one if there is one (a network of Docker's IPAM may share the subnet). */
static json_t *network_of_pool(const struct lj_cidr *pool)
{
	struct pool_match m = {.pool = pool};

	lj_store_each("networks", match_pool, &m);
	return m.net;
}

/* The files of the client for MAC mac: STATEDIR/dhcp/HEX (12 hex digits, as a record's). */
static void client_base(const uint8_t mac[LJ_MAC_LEN], char *buf, size_t size)
{
	snprintf(buf, size, "%s/dhcp/%02x%02x%02x%02x%02x%02x", lj_state_dir(), mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

/* Stop the client a lease record's stage (key "scratch" or "hold") names, releasing the
 * lease if it still can, and forget it. 0 or -errno. */
static int stage_stop(json_t *lease, const char *key)
{
	const json_t *st = json_object_get(lease, key);
	json_int_t pid = json_integer_value(json_object_get(st, "pid"));
	json_int_t start = json_integer_value(json_object_get(st, "start"));
	const char *base = str(st, "base");
	int r;

	if (!st)
		return 0;
	if (pid <= 0 || pid > INT_MAX || start < 0)
		r = 0; /* never started */
	else
		r = lj_dhcp_stop((pid_t)pid, (uint64_t)start, 3000);
	if (r < 0)
		return r;
	if (base)
		lj_dhcp_remove_files(base);
	json_object_del(lease, key);
	return 0;
}

/* Start a client; record it in lease[key] = {pid, start, base}. Returns 0 or -errno;
 * *ret_notify (if not NULL) gets the notification fd, else it is closed. */
static int stage_start(json_t *lease, const char *key, const struct lj_dhcp_start_opts *o,
		       int *ret_notify, pid_t *ret_pid)
{
	uint64_t start;
	pid_t pid;
	int notify, r;

	r = lj_dhcp_start(o, &pid, &start, &notify);
	if (r < 0)
		return r;
	json_object_set_new(lease, key,
			    json_pack("{sIsIss}", "pid", (json_int_t)pid, "start",
				      (json_int_t)start, "base", o->base));
	if (ret_notify)
		*ret_notify = notify;
	else
		close(notify);
	*ret_pid = pid;
	return 0;
}

/* A new network namespace of nothing but lo, the scratch where the first client runs. */
static int scratch_netns(int *ret_fd)
{
	int orig, fd, r = 0;

	orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0)
		return -errno;
	/* This thread only (MHD's): back at once, before anything else runs on it. */
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		close(orig);
		return r;
	}
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		r = -errno;
	if (setns(orig, CLONE_NEWNET) < 0) {
		fprintf(stderr, "lanjoin: cannot go back to the plugin's network namespace: %s\n",
			strerror(errno));
		abort(); /* every later request would act in the scratch namespace */
	}
	close(orig);
	if (r < 0)
		return r;
	*ret_fd = fd;
	return 0;
}

/* The macvlan with mac on parent, made directly in the scratch namespace scratch. */
static int scratch_link(const char *parent, const uint8_t *mac, int scratch)
{
	struct lj_nl *nl = NULL;
	struct lj_link pl;
	int r;

	r = lj_nl_open(-1, &nl);
	if (r < 0)
		return r;
	r = lj_link_get(nl, parent, &pl);
	if (r == 0) {
		struct lj_macvlan_opts mo = {
			.name = SCRATCH_LINK,
			.parent = pl.ifindex,
			.netns_fd = scratch,
			.mode = MACVLAN_MODE_BRIDGE,
			.mac = mac,
			.up = true,
		};
		r = lj_link_add_macvlan(nl, &mo);
	}
	lj_nl_close(nl);
	return r;
}

/* The DHCP client to run: the one lanjoin attach --dhcp would pick. */
static json_t *find_client(struct lj_dhcp_start_opts *o, char *path, size_t size)
{
	if (lj_dhcp_find_client(NULL, &o->kind, path, size) < 0)
		return lj_plugin_error("No DHCP client is installed (need busybox udhcpc, "
				       "dhclient or dhcpcd)");
	o->client_path = path;
	return NULL;
}

/* RequestAddress of an endpoint: the first stage (see above). */
static json_t *lease_address(const struct lj_cidr *pool, const char *macs)
{
	struct lj_dhcp_start_opts o = {0};
	char path[PATH_MAX], base[PATH_MAX], why[256] = "", a[LJ_CIDR_STRLEN], id[LJ_IP_STRLEN];
	uint8_t mac[LJ_MAC_LEN];
	struct lj_dhcp_lease l;
	struct lj_result res = {0};
	json_t *net, *err = NULL, *lease = NULL, *old;
	int scratch = -1, notify = -1, r;
	pid_t pid;

	if (!macs || lj_parse_mac(macs, mac) < 0)
		return lj_plugin_error("RequestAddress needs the endpoint's MAC address (option "
				       "%s)",
				       MAC_OPT);
	net = network_of_pool(pool);
	if (!net)
		return lj_plugin_error("no lanjoin network has the subnet %s: create the network "
				       "with -d lanjoin",
				       lj_cidr_to_string(pool, a, sizeof(a)));
	if (strcmp(str(net, "mode") ? str(net, "mode") : "", "macvlan") != 0) {
		err = lj_plugin_error("lanjoin's IPAM driver serves mode=macvlan networks (this "
				      "one is mode=%s)",
				      str(net, "mode") ? str(net, "mode") : "?");
		goto out;
	}
	err = find_client(&o, path, sizeof(path));
	if (err)
		goto out;
	lease = json_pack("{ssssss}", "pool", lj_cidr_to_string(pool, a, sizeof(a)), "mac", macs,
			  "network", str(net, "id") ? str(net, "id") : "");
	if (!lease) {
		err = lj_plugin_error("out of memory");
		goto out;
	}
	client_base(mac, base, sizeof(base));
	r = scratch_netns(&scratch);
	if (r == 0)
		r = scratch_link(str(net, "parent"), mac, scratch);
	if (r < 0) {
		err = lj_plugin_error("cannot make a link with MAC %s on '%s' for the DHCP "
				      "client: %s",
				      macs, str(net, "parent"), strerror(-r));
		goto out;
	}
	o.ifname = SCRATCH_LINK;
	o.netns_fd = scratch;
	o.watch = "";
	o.base = base;
	o.no_default_route = true;
	r = stage_start(lease, "scratch", &o, &notify, &pid);
	if (r < 0) {
		err = lj_plugin_error("cannot start %s: %s", lj_dhcp_kind_name(o.kind),
				      strerror(-r));
		goto out;
	}
	r = lj_dhcp_wait(notify, pid, LEASE_TIMEOUT_S * 1000, &l, why, sizeof(why));
	if (r < 0) {
		if (r != -ETIMEDOUT)
			lj_dhcp_log_tail(base, why, sizeof(why));
		err = lj_plugin_error("no DHCP lease for MAC %s on '%s' within %d s%s%s", macs,
				      str(net, "parent"), LEASE_TIMEOUT_S, why[0] ? ": " : "", why);
		goto out;
	}
	if (!lj_cidr_contains(pool, &l.addr.ip)) {
		err = lj_plugin_error("the DHCP server leased %s, outside the network's subnet %s",
				      lj_ip_to_string(&l.addr.ip, id, sizeof(id)),
				      str(lease, "pool"));
		goto out;
	}
	lj_ip_to_string(&l.addr.ip, id, sizeof(id));
	old = record_load("leases", id);
	json_decref(old);
	if (old) {
		err = lj_plugin_error("the DHCP server leased %s, which another endpoint holds",
				      id);
		goto out;
	}
	/* Not the host's own, not another attachment's on the parent (a server that does not
	 * know them, or a static lease): the endpoint would share it. */
	r = lj_handoff_check_addresses(str(net, "parent") ? str(net, "parent") : "", &l.addr, 1,
				       &res);
	if (r < 0) {
		err = lj_plugin_error("the DHCP server leased %s: %s", id, res.message);
		lj_result_done(&res);
		goto out;
	}
	lj_result_done(&res);
	l.addr.prefixlen = pool->prefixlen; /* Docker's view: the network's subnet */
	json_object_set_new(lease, "address",
			    json_string(lj_cidr_to_string(&l.addr, a, sizeof(a))));
	if (l.router.family == AF_INET)
		json_object_set_new(lease, "router",
				    json_string(lj_ip_to_string(&l.router, a, sizeof(a))));
	json_object_set_new(lease, "lease_seconds", json_integer(l.lease_s));
	r = lease_save(id, lease);
	if (r < 0)
		err = lj_plugin_error("cannot record the lease of %s: %s", id, strerror(-r));
out:
	if (notify >= 0)
		close(notify);
	if (scratch >= 0)
		close(scratch); /* the client's supervisor holds the namespace */
	if (err && lease)
		stage_stop(lease, "scratch"); /* releases what it got */
	if (!err)
		err = json_pack("{sss{}}", "Address", str(lease, "address"), "Data");
	json_decref(lease);
	json_decref(net);
	return err;
}

static json_t *request_address(const json_t *req)
{
	const json_t *opts = json_object_get(req, "Options");
	const char *addr = str(req, "Address");
	char a[LJ_CIDR_STRLEN];
	struct lj_cidr pool, c;
	json_t *err = req_pool(req, &pool);

	if (!err)
		err = check_options(req);
	if (err)
		return err;
	if (addr && addr[0] &&
	    (lj_parse_cidr(addr, false, &c) < 0 || !lj_cidr_contains(&pool, &c.ip)))
		return lj_plugin_error("address '%.64s' is not in the subnet %s", addr,
				       lj_cidr_to_string(&pool, a, sizeof(a)));
	if (str(opts, TYPE_OPT) && strcmp(str(opts, TYPE_OPT), GATEWAY_TYPE) == 0) {
		/* The network's gateway: Docker's bookkeeping only (each container's default
		 * route is its lease's router, given at Join). */
		if (!addr || !addr[0])
			return lj_plugin_error("a DHCP network needs --gateway (the LAN's router)");
		c.prefixlen = pool.prefixlen;
		return json_pack("{sss{}}", "Address", lj_cidr_to_string(&c, a, sizeof(a)), "Data");
	}
	if (addr && addr[0])
		return lj_plugin_error("a DHCP network's addresses come from the LAN's DHCP "
				       "server: --ip and --aux-address are not taken");
	return lease_address(&pool, str(opts, MAC_OPT));
}

/* The lease record of address a ("A" or "A/N"), or NULL; its id into id. */
static json_t *lease_load(const char *a, char id[LJ_IP_STRLEN])
{
	struct lj_cidr c;

	if (!a || lj_parse_cidr(a, false, &c) < 0 || c.ip.family != AF_INET)
		return NULL;
	lj_ip_to_string(&c.ip, id, LJ_IP_STRLEN);
	return record_load("leases", id);
}

/* Stop both stages of lease id and forget it. NULL, or the error response. */
static json_t *lease_end(json_t *lease, const char *id)
{
	int r = stage_stop(lease, "hold");

	if (r == 0)
		r = stage_stop(lease, "scratch");
	if (r < 0) {
		lease_save(id, lease);
		return lj_plugin_error("cannot stop the DHCP client of %s: %s", id, strerror(-r));
	}
	r = lj_store_remove("leases", id);
	return r < 0 ? lj_plugin_error("cannot forget the lease of %s: %s", id, strerror(-r))
		     : NULL;
}

static json_t *release_address(const json_t *req)
{
	char id[LJ_IP_STRLEN];
	struct lj_cidr pool;
	json_t *err = req_pool(req, &pool), *lease;
	const char *addr = str(req, "Address");

	if (err)
		return err;
	if (!addr || !addr[0])
		return lj_plugin_error("ReleaseAddress needs an Address");
	lease = lease_load(addr, id);
	if (lease)
		err = lease_end(lease, id);
	json_decref(lease);
	return err ? err : json_object();
}

/* The lease record of endpoint ep (its address and MAC), or NULL. */
static json_t *lease_of_ep(const json_t *ep, char id[LJ_IP_STRLEN])
{
	json_t *lease = lease_load(str(ep, "address"), id);
	uint8_t m1[LJ_MAC_LEN], m2[LJ_MAC_LEN];

	if (lease &&
	    (!str(lease, "mac") || !str(ep, "mac") || lj_parse_mac(str(lease, "mac"), m1) < 0 ||
	     lj_parse_mac(str(ep, "mac"), m2) < 0 || memcmp(m1, m2, LJ_MAC_LEN) != 0)) {
		json_decref(lease);
		return NULL;
	}
	return lease;
}

/* Stop the first stage's client of lease without a release: its scratch link goes first
 * (the supervisor holds the scratch namespace as its fd 3). 0 or -errno. */
static int scratch_handover(json_t *lease)
{
	const json_t *st = json_object_get(lease, "scratch");
	json_int_t pid = json_integer_value(json_object_get(st, "pid"));
	json_int_t start = json_integer_value(json_object_get(st, "start"));
	struct lj_nl *nl = NULL;
	char path[64];
	int fd = -1, r = 0;

	if (st && pid > 0 && pid <= INT_MAX && start >= 0) {
		snprintf(path, sizeof(path), "/proc/%d/fd/3", (int)pid);
		if (lj_netns_open_path(path, &fd) == 0 && lj_proc_alive((pid_t)pid, start) &&
		    lj_nl_open(fd, &nl) == 0) {
			r = lj_link_del(nl, SCRATCH_LINK);
			lj_nl_close(nl);
		}
		if (fd >= 0)
			close(fd);
		if (r < 0 && r != -ENODEV)
			return r;
	}
	return stage_stop(lease, "scratch");
}

json_t *lj_plugin_ipam_join(const json_t *ep, const char *sandbox, json_t **ret_gateway)
{
	struct lj_dhcp_start_opts o = {0};
	char id[LJ_IP_STRLEN], path[PATH_MAX], base[PATH_MAX], watch[PATH_MAX + 8];
	json_t *lease = lease_of_ep(ep, id), *err = NULL;
	int self = -1, r;
	pid_t pid;

	*ret_gateway = NULL;
	if (!lease)
		return NULL;
	if (!sandbox || !sandbox[0]) {
		err = lj_plugin_error("a DHCP endpoint needs Docker's SandboxKey at Join");
		goto out;
	}
	err = find_client(&o, path, sizeof(path));
	if (err)
		goto out;
	r = scratch_handover(lease);
	if (r == 0)
		r = stage_stop(lease, "hold"); /* a Join retried */
	if (r < 0) {
		err = lj_plugin_error("cannot stop the DHCP client of %s: %s", id, strerror(-r));
		goto out;
	}
	lj_parse_mac(str(lease, "mac"), o.wait_mac);
	client_base(o.wait_mac, base, sizeof(base));
	snprintf(watch, sizeof(watch), "path:%s", sandbox);
	/* The sandbox is no namespace yet (Docker mounts it when the container starts): the
	 * supervisor waits for it and for the link; until then it gets the plugin's. */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	o.ifname = SCRATCH_LINK; /* replaced by the link's name in the sandbox */
	o.netns_fd = self;
	o.watch = watch;
	o.base = base;
	o.hold = true;
	o.wait_link = true;
	r = self < 0 ? -errno : stage_start(lease, "hold", &o, NULL, &pid);
	if (r < 0) {
		err = lj_plugin_error("cannot start %s: %s", lj_dhcp_kind_name(o.kind),
				      strerror(-r));
		lease_save(id, lease); /* without the first stage */
		goto out;
	}
	r = lease_save(id, lease);
	if (r < 0) {
		stage_stop(lease, "hold");
		err = lj_plugin_error("cannot record the lease of %s: %s", id, strerror(-r));
		goto out;
	}
	if (str(lease, "router"))
		*ret_gateway = json_incref(json_object_get(lease, "router"));
out:
	if (self >= 0)
		close(self);
	json_decref(lease);
	return err;
}

json_t *lj_plugin_ipam_leave(const json_t *ep)
{
	char id[LJ_IP_STRLEN];
	json_t *lease = lease_of_ep(ep, id), *err;

	if (!lease)
		return NULL;
	err = lease_end(lease, id);
	json_decref(lease);
	return err;
}

struct lease_user {
	const json_t *lease;
	bool found;
};

static int holds_lease(const char *id, json_t *ep, void *data)
{
	struct lease_user *u = data;
	char a[LJ_IP_STRLEN];
	json_t *l = lease_of_ep(ep, a); /* the lease of its address, for its MAC */

	(void)id;
	u->found = l &&
		   json_equal(json_object_get(l, "address"), json_object_get(u->lease, "address"));
	json_decref(l);
	return u->found ? 1 : 0;
}

/*
 * Is lease one a killed plugin left that nothing will end: its holding client is gone (the
 * sandbox went), or it was never joined and no endpoint record has its address and MAC
 * (Docker gave up on the endpoint while the plugin was down)?
 */
static bool stale(const json_t *lease)
{
	const json_t *st = json_object_get(lease, "hold");
	struct lease_user u = {.lease = lease};

	if (st)
		return !lj_proc_alive((pid_t)json_integer_value(json_object_get(st, "pid")),
				      (uint64_t)json_integer_value(json_object_get(st, "start")));
	lj_store_each("endpoints", holds_lease, &u);
	return !u.found;
}

/* A killed plugin's lease that no container holds any more: released (if a client still
 * runs) and forgotten. */
static int end_if_stale(const char *id, json_t *lease, void *data)
{
	json_t *err;

	(void)data;
	if (!stale(lease))
		return 0;
	err = lease_end(lease, id);
	if (err)
		json_decref(err);
	else
		fprintf(stderr,
			"lanjoin: released the lease of %s: its container or endpoint is gone\n",
			id);
	return 0;
}

int lj_plugin_ipam_init(void)
{
	return lj_store_each("leases", end_if_stale, NULL);
}

static const struct {
	const char *path;
	json_t *(*fn)(const json_t *req);
	bool needs_body;
} calls[] = {
	{"/IpamDriver.GetCapabilities", capabilities, false},
	{"/IpamDriver.GetDefaultAddressSpaces", address_spaces, false},
	{"/IpamDriver.RequestPool", request_pool, true},
	{"/IpamDriver.ReleasePool", release_pool, true},
	{"/IpamDriver.RequestAddress", request_address, true},
	{"/IpamDriver.ReleaseAddress", release_address, true},
};

/* An IPAM answer: libnetwork's remote IPAM reads an error as "Error" (its network driver
 * and the plugin framework, for a status other than 200, as "Err"): both are given. */
static json_t *ipam_answer(json_t *resp)
{
	const json_t *e = json_object_get(resp, "Err");

	if (e)
		json_object_set(resp, "Error", (json_t *)e);
	return resp;
}

json_t *lj_plugin_ipam_call(const char *path, const json_t *req, unsigned *ret_status)
{
	*ret_status = 200;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		if (strcmp(path, calls[i].path) != 0)
			continue;
		if (calls[i].needs_body && !req) {
			*ret_status = 400;
			return lj_plugin_error("%s needs a JSON object as its body", path + 1);
		}
		return ipam_answer(calls[i].fn(req));
	}
	if (strcmp(path, "/IpamDriver.DiscoverNew") == 0 ||
	    strcmp(path, "/IpamDriver.DiscoverDelete") == 0)
		return json_object();
	*ret_status = 404;
	return lj_plugin_error("unknown call '%.64s'", path);
}
