/* SPDX-License-Identifier: MIT */
/* What an uplink adoption learns before it plans: see uplink-facts.h. */
#include "lib/ways/uplink-facts.h"

#include <dirent.h>
#include <net/if.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/kernel/link.h"
#include "lib/kernel/neigh.h"
#include "lib/kernel/netns.h"
#include "lib/foreign/ovs.h"
#include "lib/steps/uplink-addr.h"
#include "lib/steps/uplink.h"
#include "lib/core/attach.h"
#include "lib/core/state.h"
#include "shared/macro.h"

void lj_uplink_warn(json_t *warnings, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(warnings, json_string(buf));
}

/* Read a per-link sysctl ("ipv6.accept_dad") of link into buf. */
int lj_uplink_sysctl_read(const char *key, const char *link, char *buf, size_t size)
{
	char path[128];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/sys/net/%.4s/conf/%s/%s", key, link, key + 5);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lj_negerrno();
	n = read(fd, buf, size - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* "key=value\n" lines of DEV's per-link sysctls that differ from a new link's. */
char *lj_uplink_sysctl_text(const char *dev)
{
	size_t n, len = 0;
	const char *const *keys = lj_uplink_sysctls(&n);
	char *text = calloc(1, n * 48 + 1);

	if (!text)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char v[32], def[32];
		if (lj_uplink_sysctl_read(keys[i], dev, v, sizeof(v)) < 0 || !*v || strlen(v) > 10)
			continue;
		/* A new link starts with the "default" values: only differences need writing. */
		if (lj_uplink_sysctl_read(keys[i], "default", def, sizeof(def)) == 0 &&
		    strcmp(v, def) == 0)
			continue;
		len += (size_t)snprintf(text + len, 48, "%s=%s\n", keys[i], v);
	}
	return text;
}

/* Note DHCP clients (and network managers) that look after dev in our namespace. */
static void find_dhcp_clients(const char *dev, json_t *warnings, bool *ret_found)
{
	static const char *const clients[] = {"dhclient", "dhcpcd", "udhcpc", "dhcpcd5"};
	static const char *const managers[] = {"NetworkManager", "systemd-network", "connmand"};
	char self[64] = "", path[300], link[64], comm[32], cmd[4096];
	struct dirent *de;
	DIR *d;
	ssize_t n;

	n = readlink("/proc/thread-self/ns/net", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_close_ int fd = -1;
		bool client = false, manager = false, names_dev = false;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, self) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, comm, sizeof(comm) - 1);
		if (n <= 0)
			continue;
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(clients); i++)
			client |= strcmp(comm, clients[i]) == 0;
		for (size_t i = 0; i < ARRAY_SIZE(managers); i++)
			manager |= strcmp(comm, managers[i]) == 0;
		if (!client && !manager)
			continue;
		close(fd);
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, cmd, sizeof(cmd) - 1) : -1;
		if (n > 0) {
			cmd[n] = '\0';
			for (char *p = cmd; p < cmd + n; p += strlen(p) + 1) {
				/* "eth0", "-ieth0", "--interface=eth0" */
				size_t l = strlen(p), dl = strlen(dev);
				if (l >= dl && strcmp(p + l - dl, dev) == 0 &&
				    (l == dl || p[l - dl - 1] == '=' ||
				     (l == dl + 2 && p[0] == '-' && p[1] == 'i')))
					names_dev = true;
			}
		}
		if (client && (names_dev || strcmp(comm, "dhcpcd") == 0)) {
			*ret_found = true;
			lj_uplink_warn(
				warnings,
				"%s (pid %s) runs for '%s': stop it and run the DHCP client on the "
				"bridge instead, or its next renewal puts the address back on '%s'",
				comm, de->d_name, dev, dev);
		} else if (manager) {
			lj_uplink_warn(warnings,
				       "%s (pid %s) manages links here: it may undo this adoption; "
				       "configure the bridge in it instead",
				       comm, de->d_name);
		}
	}
	closedir(d);
}

/* The IPv4 label of an address moved from dev to br: "dev" -> "", "dev:x" -> "br:x". */
int lj_uplink_move_label(const char *label, const char *dev, const char *br, char ret[IFNAMSIZ])
{
	size_t dl = strlen(dev);

	ret[0] = '\0';
	if (!label[0] || strcmp(label, dev) == 0)
		return 0;
	if (strncmp(label, dev, dl) == 0 && label[dl] == ':') {
		size_t bl = strlen(br), sl = strlen(label + dl);
		if (bl + sl >= IFNAMSIZ)
			return -ENAMETOOLONG;
		memcpy(ret, br, bl);
		memcpy(ret + bl, label + dl, sl + 1);
		return 0;
	}
	snprintf(ret, IFNAMSIZ, "%s", label);
	return 0;
}

static bool route_is_default_gw(const struct lj_route_info *rt)
{
	return rt->table == RT_TABLE_MAIN && rt->dst_len == 0 && rt->src_len == 0 &&
	       rt->type == RTN_UNICAST && rt->gateway.family != AF_UNSPEC;
}

/* Routes without a gateway first: gateways of the others may be reached through them. */
static int route_cmp(const void *a, const void *b)
{
	const struct lj_route_info *x = a, *y = b;
	int gx = x->gateway.family != AF_UNSPEC, gy = y->gateway.family != AF_UNSPEC;

	return gx - gy;
}

void lj_uplink_facts_free(struct lj_uplink_facts *f)
{
	free(f->addrs);
	free(f->routes);
	json_decref(f->warnings);
}

/*
 * A route to move whose key another route (through another link, or a blackhole) shares
 * cannot be switched with one replace: it could hit the other one. Refuse those.
 */
static int check_route_twins(struct lj_nl *dump, const struct lj_uplink_facts *f,
			     const struct lj_uplink_opts *o, struct lj_result *res)
{
	for (int fam = 0; fam < 2; fam++) {
		struct lj_route_info *all = NULL;
		size_t n = 0;
		int r = lj_route_dump(dump, fam ? AF_INET6 : AF_INET, 0, &all, &n);

		if (r < 0)
			return lj_fail(res, r, "Failed to list the routes: %s", strerror(-r));
		for (size_t i = 0; i < f->n_routes; i++)
			for (size_t j = 0; j < n; j++) {
				char b[256] = "", other[IFNAMSIZ] = "none";
				FILE *m;

				if (all[j].oif == f->dev.ifindex ||
				    !lj_route_info_same_key(&f->routes[i], &all[j]))
					continue;
				if (all[j].oif &&
				    if_indextoname((unsigned)all[j].oif, other) == NULL)
					snprintf(other, sizeof(other), "#%d", all[j].oif);
				m = fmemopen(b, sizeof(b), "w");
				if (m) {
					lj_route_info_print(&f->routes[i], o->dev, m);
					fclose(m);
				}
				free(all);
				return lj_bad_input(
					res,
					"Cannot move route '%s' exactly: a route with the "
					"same destination and metric goes through '%s' (give "
					"one of them another metric first)",
					b, other);
			}
		free(all);
	}
	return 0;
}

/* --ovs: Open vSwitch installed and running here, BR and DEV not in it yet; the datapath. */
static int gather_ovs(const struct lj_uplink_opts *o, struct lj_uplink_facts *f,
		      struct lj_result *res)
{
	struct lj_ovs_survey sv = {0};
	struct lj_ovs *ovs = NULL;
	_cleanup_close_ int ns = -1;
	char path[64];
	struct stat st;
	pid_t pid = 0;
	int r;

	r = lj_ovs_open(o->ovsdb, &ovs);
	if (r == -ENOENT)
		return lj_bad_input(
			res, "Open vSwitch is not installed (no ovs-vsctl): install it, "
			     "e.g. 'apt-get install openvswitch-switch', or adopt into a Linux "
			     "bridge (without --ovs)");
	if (r == -EINVAL)
		return lj_bad_input(res, "Invalid OVS database '%s': expected unix:/PATH",
				    o->ovsdb ? o->ovsdb : "");
	if (r < 0)
		return lj_fail(res, r, "Failed to prepare Open vSwitch access: %s", strerror(-r));
	r = lj_ovs_check_running(ovs, &pid);
	if (r < 0) {
		r = lj_bad_input(res,
				 "Open vSwitch is not running: %s. Start it (e.g. 'systemctl "
				 "start openvswitch-switch'), point --ovsdb unix:PATH or "
				 "$OVS_RUNDIR at its database, or adopt into a Linux bridge "
				 "(without --ovs)",
				 lj_ovs_error(ovs));
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (lj_netns_open_path(path, &ns) == 0 && !lj_netns_is_current(ns)) {
		r = lj_bad_input(res,
				 "ovs-vswitchd (pid %d) runs in another network namespace than "
				 "lanjoin: run lanjoin in its namespace",
				 (int)pid);
		goto out;
	}
	r = lj_ovs_survey(ovs, o->dev, o->bridge, &sv);
	if (r < 0) {
		r = lj_fail(res, r, "Failed to read the OVS database %s: %s", lj_ovs_db(ovs),
			    lj_ovs_error(ovs));
		goto out;
	}
	for (size_t i = 0; i < sv.n_bridges; i++)
		if (strcmp(sv.bridges[i].name, o->bridge) == 0) {
			r = lj_bad_input(res,
					 "OVS bridge '%s' exists; adopt creates the bridge "
					 "itself",
					 o->bridge);
			goto out;
		}
	if (sv.has_port || sv.name_is_iface) {
		r = lj_bad_input(res,
				 sv.has_port ? "'%s' is already a port of an OVS bridge"
					     : "An OVS interface named '%s' exists",
				 sv.has_port ? o->dev : o->bridge);
		goto out;
	}
	/* The datapath of the bridges there, else the kernel's if it has the module. */
	if (sv.n_bridges)
		f->ovs_netdev = strcmp(sv.bridges[0].datapath_type, "netdev") == 0;
	else
		f->ovs_netdev = stat("/sys/module/openvswitch", &st) != 0;
	snprintf(f->ovsdb, sizeof(f->ovsdb), "%s", lj_ovs_db(ovs));
	r = 0;
out:
	lj_ovs_survey_free(&sv);
	lj_ovs_close(ovs);
	return r;
}

/*
 * Kinds of link that take their lower device's receive handler: while one exists, the kernel
 * refuses to make that device a bridge or OVS port (EBUSY, kernel 6.1 netdev_rx_handler_register).
 */
static bool holds_rx_handler(const char *kind)
{
	return strcmp(kind, "macvlan") == 0 || strcmp(kind, "macvtap") == 0 ||
	       strcmp(kind, "ipvlan") == 0 || strcmp(kind, "ipvtap") == 0;
}

struct holders {
	char names[512];
	size_t len, n;
	const char *where; /* the namespace being looked at, NULL: lanjoin's */
};

static int holder_cb(const struct lj_link *l, void *data)
{
	struct holders *h = data;

	if (!holds_rx_handler(l->kind))
		return 0;
	if (h->len < sizeof(h->names))
		h->len += (size_t)snprintf(h->names + h->len, sizeof(h->names) - h->len,
					   "%s%s %s%s%s%s", h->n ? ", " : "", l->kind, l->name,
					   h->where ? " (in " : "", h->where ? h->where : "",
					   h->where ? ")" : "");
	h->n++;
	return 0;
}

struct remote_holders {
	struct holders *h;
	int home_fd, parent;
};

static int remote_holders_cb(int fd, const char *path, void *data)
{
	struct remote_holders *rh = data;
	struct lj_nl *nl = NULL;

	if (lj_nl_open(fd, &nl) < 0)
		return 0;
	rh->h->where = path;
	lj_link_foreach_remote_child(nl, rh->home_fd, rh->parent, holder_cb, rh->h);
	rh->h->where = NULL;
	lj_nl_close(nl);
	return 0;
}

/*
 * Refuse DEV while macvlan/ipvlan children hold it, here or moved into other namespaces
 * (Docker's macvlan networks, lanjoin's macvlan way): the kernel would refuse it as a port
 * only at the step that enslaves it.
 */
static int check_holders(struct lj_ctx *ctx, const char *dev, int ifindex, struct lj_result *res)
{
	struct lj_netns_index *idx = NULL;
	struct holders h = {0};
	int r, home;

	r = lj_link_foreach_child(ctx->host, ifindex, holder_cb, &h);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the links on '%s': %s", dev, strerror(-r));
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home >= 0 && lj_netns_index_new(&idx) == 0) {
		struct remote_holders rh = {.h = &h, .home_fd = home, .parent = ifindex};
		lj_netns_index_foreach(idx, remote_holders_cb, &rh);
	}
	lj_netns_index_free(idx);
	if (home >= 0)
		close(home);
	if (h.n)
		return lj_bad_input(res,
				    "'%s' cannot become a bridge port while links on it hold it "
				    "(the kernel refuses: %s): %s%s. Remove them first (a Docker "
				    "macvlan network: its containers; lanjoin's: 'lanjoin detach')",
				    dev, strerror(EBUSY), h.names,
				    h.len >= sizeof(h.names) ? "..." : "");
	return 0;
}

struct users {
	char names[768];
	size_t len, n;
};

static void users_add(struct users *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void users_add(struct users *u, const char *fmt, ...)
{
	va_list ap;

	if (u->len < sizeof(u->names)) {
		if (u->n)
			u->len += (size_t)snprintf(u->names + u->len, sizeof(u->names) - u->len,
						   ", ");
		va_start(ap, fmt);
		if (u->len < sizeof(u->names))
			u->len += (size_t)vsnprintf(u->names + u->len, sizeof(u->names) - u->len,
						    fmt, ap);
		va_end(ap);
	}
	u->n++;
}

/* One attachment of rec (way nat or routed) in u: way, target, address(es), its detach. */
static void users_add_record(struct users *u, const struct lj_record *rec)
{
	const json_t *info = rec->info, *v;
	char addrs[160] = "";
	size_t len = 0, i;

	if (strcmp(rec->way, "nat") == 0) {
		snprintf(addrs, sizeof(addrs), "%s",
			 json_string_value(json_object_get(info, "address"))
				 ?: "(no address recorded)");
	} else {
		json_array_foreach(json_object_get(info, "addresses"), i,
				   v) if (json_is_string(v) && len < sizeof(addrs)) len +=
			(size_t)snprintf(addrs + len, sizeof(addrs) - len, "%s%s", len ? " " : "",
					 json_string_value(v));
	}
	/* --ifname unless it is what an attach of the target names by default */
	bool named = strcmp(rec->ifname, lj_default_ifname(rec->target_spec, NULL)) != 0;

	users_add(u, "%s %s %s ('lanjoin detach %s%s%s')", rec->way, rec->target_spec, addrs,
		  rec->target_spec, named ? " --ifname " : "", named ? rec->ifname : "");
}

int lj_uplink_check_users(struct lj_ctx *ctx, const struct lj_state *held, const char *link,
			  int ifindex, const char *bridge, const char *dev, struct lj_result *res)
{
	static const char *const key[2] = {"uplink", "parent"}, *const way[2] = {"nat", "routed"};
	bool release = strcmp(link, bridge) == 0;
	struct lj_state *st = NULL;
	struct users u = {0};
	int r, proxies = 0, recorded = 0, n_way[2] = {0, 0};
	const char *to;
	char why[160], how[256];
	size_t n_rec;
	bool foreign;

	/* Under the lock the caller holds (the same file: a second flock would wait for it). */
	r = held ? lj_state_open_sibling(held, "attachments", &st)
		 : lj_state_open_read("attachments", &st);
	if (r < 0 && r != -ENOENT)
		return lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			       lj_state_strerror(r));
	for (int k = 0; st && k < 2; k++) {
		struct lj_record *recs = NULL;
		size_t n = 0;

		r = lj_state_list_info(st, key[k], link, &recs, &n);
		if (r < 0) {
			lj_state_close(st);
			return lj_fail(res, r, "Failed to read the state directory: %s",
				       strerror(-r));
		}
		for (size_t i = 0; i < n; i++) {
			const char *v = json_string_value(json_object_get(recs[i].info, key[k]));

			if (strcmp(recs[i].way, way[k]) != 0 || !v || strcmp(v, link) != 0)
				continue;
			users_add_record(&u, &recs[i]);
			n_way[k]++;
			if (k == 1)
				recorded += (int)json_array_size(
					json_object_get(recs[i].info, "addresses"));
		}
		lj_records_free(recs, n);
	}
	lj_state_close(st);

	/* The kernel's: proxy entries (the routed way's, or anyone's) stay on the link. */
	for (int k = 0; ifindex > 0 && k < 2; k++) {
		r = lj_neigh_proxy_count(ctx->host, k ? AF_INET6 : AF_INET, ifindex, NULL, NULL);
		if (r > 0)
			proxies += r;
	}
	if (proxies > recorded)
		users_add(&u,
			  "%d proxy neighbour entr%s of no lanjoin attachment ('ip neigh show "
			  "proxy dev %s')",
			  proxies - recorded, proxies - recorded == 1 ? "y" : "ies", link);
	if (!u.n)
		return 0;
	/* Name only what is in the way: the nat attachments' addresses move with the link's, the
	 * routed ones' proxy entries (and anyone's) stay behind on it. */
	to = release ? dev : bridge;
	n_rec = (size_t)(n_way[0] + n_way[1]);
	foreign = proxies > recorded;
	if (n_way[0])
		snprintf(why, sizeof(why), "its addresses would move to '%s'%s", to,
			 n_way[1] || foreign ? " and its proxy entries stay behind" : "");
	else
		snprintf(why, sizeof(why), "its proxy entries would stay behind");
	if (!n_rec)
		snprintf(how, sizeof(how), "Remove the proxy entries first, then %s",
			 release ? "release" : "adopt");
	else
		snprintf(how, sizeof(how),
			 "Detach %s%s first, %s, then attach %s again on '%s' (%s%s%s%s%s)",
			 n_rec > 1 ? "them" : "it", foreign ? " and remove the proxy entries" : "",
			 release ? "release" : "adopt", n_rec > 1 ? "them" : "it", to,
			 n_way[0] ? "nat: --uplink " : "", n_way[0] ? to : "",
			 n_way[0] && n_way[1] ? "; " : "", n_way[1] ? "routed: --parent " : "",
			 n_way[1] ? to : "");
	return lj_bad_input(
		res, "'%s' cannot be %s while %s it (%s: they would stop working): %s%s. %s", link,
		release ? "released" : "adopted", u.n > 1 ? "these use" : "this uses", why, u.names,
		u.len >= sizeof(u.names) ? "..." : "", how);
}

/* Look at DEV, BR, addresses and routes; every refusal happens here, before any change. */
int lj_uplink_gather(struct lj_ctx *ctx, struct lj_nl *dump, const struct lj_state *held,
		     const struct lj_uplink_opts *o, struct lj_uplink_facts *f,
		     struct lj_result *res)
{
	char b[LJ_CIDR_STRLEN];
	struct lj_link master;
	int r;

	r = lj_link_get(ctx->host, o->dev, &f->dev);
	if (r == -ENODEV)
		return lj_bad_input(res, "Uplink '%s' does not exist", o->dev);
	if (r < 0)
		return lj_fail(res, r, "Failed to look up '%s': %s", o->dev, strerror(-r));
	if (f->dev.flags & IFF_LOOPBACK)
		return lj_bad_input(res, "'%s' is a loopback link, not an uplink", o->dev);
	if (strcmp(f->dev.kind, "bridge") == 0 || strcmp(f->dev.kind, "openvswitch") == 0)
		return lj_bad_input(res,
				    "'%s' is itself a bridge: attach containers to it directly "
				    "(lanjoin attach %s ... --bridge %s)",
				    o->dev, f->dev.kind[0] == 'b' ? "bridge" : "ovs", o->dev);
	if (f->dev.master) {
		bool known = lj_link_get_by_index(ctx->host, f->dev.master, &master) == 0;

		/* A bond, team, bridge or OVS (ovs-system) port: the kernel allows one master. */
		if (known && strcmp(master.kind, "bridge") == 0)
			return lj_bad_input(
				res,
				"'%s' is already a port of bridge '%s': attach "
				"containers to '%s' directly (lanjoin attach bridge ... "
				"--bridge %s)",
				o->dev, master.name, master.name, master.name);
		return lj_bad_input(res,
				    "'%s' is already a port of '%s'%s%s%s: a link has one "
				    "master; take '%s' out of it first, or adopt '%s' instead",
				    o->dev, known ? master.name : "?",
				    known && master.kind[0] ? " (kind " : "",
				    known ? master.kind : "", known && master.kind[0] ? ")" : "",
				    o->dev, known ? master.name : "it");
	}
	r = check_holders(ctx, o->dev, f->dev.ifindex, res);
	if (r < 0)
		return r;
	r = lj_uplink_check_users(ctx, held, o->dev, f->dev.ifindex, o->bridge, o->dev, res);
	if (r < 0)
		return r;
	if (!f->dev.has_mac)
		return lj_bad_input(res,
				    "'%s' has no Ethernet address (kind '%s'): it cannot be "
				    "bridged; use the nat way",
				    o->dev, f->dev.kind[0] ? f->dev.kind : "none");
	if (lj_link_is_wireless(o->dev, f->dev.ifindex))
		return lj_bad_input(
			res,
			"'%s' is a wireless link: it cannot be bridged (" LJ_WIRELESS_WHY
			"); the ways that work on it: " LJ_WIRELESS_WAYS,
			o->dev);

	if (o->ovs) {
		r = gather_ovs(o, f, res);
		if (r < 0)
			return r;
	}

	r = lj_link_get(ctx->host, o->bridge, &f->br);
	if (r == 0) {
		int ports = lj_link_has_ports(ctx->host, f->br.ifindex);
		if (ports > 0)
			return lj_bad_input(res, "Bridge '%s' exists and is not empty", o->bridge);
		return lj_bad_input(res,
				    "'%s' exists (kind '%s'); adopt creates the bridge itself: "
				    "delete it or choose another name",
				    o->bridge, f->br.kind[0] ? f->br.kind : "none");
	}
	if (r != -ENODEV)
		return lj_fail(res, r, "Failed to look up '%s': %s", o->bridge, strerror(-r));

	r = lj_addr_dump_full(dump, AF_UNSPEC, f->dev.ifindex, &f->addrs, &f->n_addrs);
	if (r < 0)
		return lj_fail(res, r, "Failed to list the addresses of '%s': %s", o->dev,
			       strerror(-r));
	for (int fam = 0; fam < 2; fam++) {
		struct lj_route_info *v = NULL;
		size_t n = 0;

		r = lj_route_dump(dump, fam ? AF_INET6 : AF_INET, f->dev.ifindex, &v, &n);
		if (r < 0)
			return lj_fail(res, r, "Failed to list the routes through '%s': %s", o->dev,
				       strerror(-r));
		for (size_t i = 0; i < n; i++) {
			struct lj_route_info *rt = &v[i], *nv;
			/* The kernel's own routes follow the addresses by themselves. */
			if (rt->protocol == RTPROT_KERNEL)
				continue;
			if (rt->unsupported) {
				FILE *m = fmemopen(b, sizeof(b), "w");
				if (m) {
					lj_route_info_print(rt, o->dev, m);
					fclose(m);
				}
				free(v);
				return lj_bad_input(res, "Cannot move route '%s': %s", b,
						    rt->unsupported);
			}
			nv = realloc(f->routes, (f->n_routes + 1) * sizeof(*nv));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			f->routes = nv;
			f->routes[f->n_routes++] = *rt;
		}
		free(v);
	}
	if (f->n_routes)
		qsort(f->routes, f->n_routes, sizeof(*f->routes), route_cmp);
	r = check_route_twins(dump, f, o, res);
	if (r < 0)
		return r;

	/* What to probe: --probe (reached through DEV), else the default gateway (IPv4 first). */
	if (o->probe.family != AF_UNSPEC) {
		struct lj_route_entry rt;
		r = lj_route_get(ctx->host, &o->probe, &rt);
		if (r < 0 || rt.oif != f->dev.ifindex || rt.type != RTN_UNICAST)
			return lj_bad_input(res, "Probe address %s is not reached through '%s'",
					    lj_ip_to_string(&o->probe, b, sizeof(b)), o->dev);
		f->probe = o->probe;
		f->probe_onlink = rt.via.family == AF_UNSPEC;
	} else if (!o->no_probe) {
		const struct lj_route_info *best = NULL;
		for (size_t i = 0; i < f->n_routes; i++) {
			const struct lj_route_info *rt = &f->routes[i];
			if (!route_is_default_gw(rt))
				continue;
			if (!best || (rt->family == AF_INET && best->family == AF_INET6) ||
			    (rt->family == best->family && rt->priority < best->priority))
				best = rt;
		}
		if (best) {
			f->probe = best->gateway;
			f->probe_onlink = true;
		} else {
			lj_uplink_warn(f->warnings,
				       "No default gateway through '%s' and no --probe: the "
				       "adoption is not probed",
				       o->dev);
		}
	}

	/* DHCP: addresses with a lease, and clients still running for DEV. */
	for (size_t i = 0; i < f->n_addrs; i++) {
		const struct lj_addr_full *a = &f->addrs[i];
		if (a->local.ip.family == AF_INET && a->valid_lft != UINT32_MAX) {
			f->dhcp = true;
			lj_uplink_warn(
				f->warnings,
				"%s on '%s' is dynamic (a DHCP lease, %u s left): it moves to "
				"'%s' with that lifetime and disappears when it runs out unless a "
				"DHCP "
				"client renews it there: run your DHCP client on '%s' now (e.g. "
				"'dhclient %s') and configure '%s' for DHCP in your network "
				"configuration",
				lj_cidr_to_string(&a->local, b, sizeof(b)), o->dev, a->valid_lft,
				o->bridge, o->bridge, o->bridge, o->bridge);
		}
	}
	find_dhcp_clients(o->dev, f->warnings, &f->dhcp);
	return 0;
}
