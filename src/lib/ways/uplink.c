/* SPDX-License-Identifier: MIT */
/*
 * Uplink adoption and release. The order of an adoption keeps the window without connectivity
 * as short as the kernel allows, and its reverse (the release) keeps it at zero:
 *
 *   1. bridge BR, down, with DEV's MAC (kept: given explicitly) and MTU; DEV's per-link sysctls
 *   2. every address of DEV copied onto BR (IPv6 without duplicate detection: it is ours)
 *   3. DEV enslaved, BR up                    <- incoming traffic now lands on BR, which has the
 *                                                addresses: the only gap is between these two
 *   4. every route through DEV switched to BR with NLM_F_REPLACE (atomic per route)
 *   5. addresses removed from DEV (the kernel keeps sockets: the addresses live on, on BR)
 *   6. IPv6 flags as they were on DEV; then the probe, whose failure undoes 1-6.
 *
 * Release replays the undo in reverse: addresses back on DEV, routes back, DEV out of BR (from
 * here DEV answers itself), addresses off BR, BR deleted.
 */
#include "lib/ways/uplink.h"

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
#include "lib/kernel/netns.h"
#include "lib/foreign/ovs.h"
#include "lib/steps/ovs.h"
#include "lib/steps/uplink-addr.h"
#include "lib/steps/uplink-fw.h"
#include "lib/steps/uplink.h"
#include "lib/core/state.h"
#include "shared/macro.h"

#define UPLINK_SUBDIR "uplinks"
#define UPLINK_KEY "uplink"

static int ctx_new(struct lj_ctx **ret)
{
	struct lj_ctx *ctx = calloc(1, sizeof(*ctx));
	int r;

	if (!ctx)
		return -ENOMEM;
	ctx->target_fd = -1;
	r = lj_nl_open(-1, &ctx->host);
	if (r < 0) {
		free(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

static void ctx_free(struct lj_ctx *ctx)
{
	if (!ctx)
		return;
	lj_nl_close(ctx->host);
	lj_nl_close(ctx->target);
	free(ctx);
}

static void warn(json_t *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(json_t *warnings, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(warnings, json_string(buf));
}

/* Identity of lanjoin's own network namespace. */
static int own_netns(struct lj_netns_id *ret)
{
	_cleanup_close_ int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return lj_negerrno();
	return lj_netns_get_id(fd, ret);
}

/*
 * Was rec (an adoption) made in lanjoin's own network namespace? By inode, and by cookie when
 * both are known: a namespace made after the recorded one died may have its inode number.
 */
static bool own_record(const struct lj_record *rec)
{
	struct lj_netns_id me;
	uint64_t cookie;

	if (own_netns(&me) < 0)
		return true; /* cannot tell: as before namespaces were recorded */
	if (me.dev != rec->netns.dev || me.ino != rec->netns.ino)
		return false;
	return !rec->netns_cookie || lj_netns_self_cookie(&cookie) < 0 ||
	       cookie == rec->netns_cookie;
}

static void record_init(struct lj_record *rec, const char *bridge, const char *dev, bool ovs)
{
	memset(rec, 0, sizeof(*rec));
	lj_record_id(UPLINK_KEY, bridge, rec->id);
	snprintf(rec->way, sizeof(rec->way), "%s", ovs ? "uplink-ovs" : "uplink");
	snprintf(rec->status, sizeof(rec->status), "adopting");
	snprintf(rec->ifname, sizeof(rec->ifname), "%s", bridge);
	snprintf(rec->host_ifname, sizeof(rec->host_ifname), "%s", dev);
	rec->target_kind = LJ_TARGET_PATH;
	snprintf(rec->target_spec, sizeof(rec->target_spec), "/proc/self/ns/net");
	snprintf(rec->target_name, sizeof(rec->target_name), "host");
	own_netns(&rec->netns);
	if (lj_netns_self_cookie(&rec->netns_cookie) < 0)
		rec->netns_cookie = 0;
	rec->created = (int64_t)time(NULL);
	rec->info = json_object();
}

/* Read a per-link sysctl ("ipv6.accept_dad") of link into buf. */
static int sysctl_read(const char *key, const char *link, char *buf, size_t size)
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
static char *sysctl_text(const char *dev)
{
	size_t n, len = 0;
	const char *const *keys = lj_uplink_sysctls(&n);
	char *text = calloc(1, n * 48 + 1);

	if (!text)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char v[32], def[32];
		if (sysctl_read(keys[i], dev, v, sizeof(v)) < 0 || !*v || strlen(v) > 10)
			continue;
		/* A new link starts with the "default" values: only differences need writing. */
		if (sysctl_read(keys[i], "default", def, sizeof(def)) == 0 && strcmp(v, def) == 0)
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
			warn(warnings,
			     "%s (pid %s) runs for '%s': stop it and run the DHCP client on the "
			     "bridge instead, or its next renewal puts the address back on '%s'",
			     comm, de->d_name, dev, dev);
		} else if (manager) {
			warn(warnings,
			     "%s (pid %s) manages links here: it may undo this adoption; "
			     "configure the bridge in it instead",
			     comm, de->d_name);
		}
	}
	closedir(d);
}

/* The IPv4 label of an address moved from dev to br: "dev" -> "", "dev:x" -> "br:x". */
static int move_label(const char *label, const char *dev, const char *br, char ret[IFNAMSIZ])
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

struct adopt_facts {
	struct lj_link dev, br;
	bool br_exists;
	struct lj_addr_full *addrs;
	size_t n_addrs;
	struct lj_route_info *routes;
	size_t n_routes;
	struct lj_ip probe;
	bool probe_onlink;
	json_t *warnings;
	bool dhcp;
	bool ovs_netdev;	   /* --ovs: the userspace datapath */
	char ovsdb[LJ_OVS_DB_MAX]; /* --ovs: the database, resolved */
};

static void facts_free(struct adopt_facts *f)
{
	free(f->addrs);
	free(f->routes);
	json_decref(f->warnings);
}

/* Same key for the kernel's replace: table, destination, (IPv6) source, TOS, metric. */
static bool route_same_key(const struct lj_route_info *a, const struct lj_route_info *b)
{
	return a->family == b->family && a->table == b->table && a->dst_len == b->dst_len &&
	       (a->dst_len == 0 || lj_ip_equal(&a->dst, &b->dst)) && a->tos == b->tos &&
	       a->src_len == b->src_len && (a->src_len == 0 || lj_ip_equal(&a->src, &b->src)) &&
	       a->has_priority == b->has_priority && a->priority == b->priority;
}

/*
 * A route to move whose key another route (through another link, or a blackhole) shares
 * cannot be switched with one replace: it could hit the other one. Refuse those.
 */
static int check_route_twins(struct lj_nl *dump, const struct adopt_facts *f,
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
				    !route_same_key(&f->routes[i], &all[j]))
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
static int gather_ovs(const struct lj_uplink_opts *o, struct adopt_facts *f, struct lj_result *res)
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

/* Look at DEV, BR, addresses and routes; every refusal happens here, before any change. */
static int gather(struct lj_ctx *ctx, struct lj_nl *dump, const struct lj_uplink_opts *o,
		  struct adopt_facts *f, struct lj_result *res)
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
			warn(f->warnings,
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
			warn(f->warnings,
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

static struct lj_step *add_text_step(struct lj_plan *plan, const struct lj_step_type *t, char *text,
				     const char *what)
{
	struct lj_step *s;

	if (!text)
		return NULL;
	s = lj_plan_add(plan, t, LJ_HOST, "%s", what);
	if (!s) {
		free(text);
		return NULL;
	}
	s->text = text;
	return s;
}

static int build(const struct lj_uplink_opts *o, struct lj_ctx *ctx, struct adopt_facts *f,
		 struct lj_plan *plan, struct lj_result *res)
{
	char b[LJ_CIDR_STRLEN], what[128];
	const char *crash = getenv("LANJOIN_FAULT_CRASH");
	uint64_t crash_at = 0;
	uint8_t mode;
	struct lj_step *s;

	if (crash)
		lj_parse_uint(crash, 1, 1000, &crash_at);

	s = lj_plan_add(plan, o->ovs ? &lj_step_ovs_uplink_bridge : &lj_step_uplink_bridge, LJ_HOST,
			"create %sbridge '%s' with the MAC address of '%s'", o->ovs ? "OVS " : "",
			o->bridge, o->dev);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", o->bridge);
	if (o->ovs) {
		snprintf(s->peer, sizeof(s->peer), "%s", o->dev);
		if (!(s->text = strdup(f->ovsdb)))
			return -ENOMEM;
		if (f->ovs_netdev)
			s->flags |= LJ_STEP_F_OVS_NETDEV;
	}
	memcpy(s->mac, f->dev.mac, LJ_MAC_LEN);
	s->has_mac = true;
	s->mtu = f->dev.mtu;
	/* Same IPv6 link-local address as DEV: EUI-64 makes it from the MAC; other modes (which
	 * hash the link name) would make another one, so they get none and the moved one stays. */
	if (lj_link_get_addr_gen_mode(ctx->host, f->dev.ifindex, &mode) == 0)
		s->u32 = 1u + (mode == IN6_ADDR_GEN_MODE_EUI64 ? IN6_ADDR_GEN_MODE_EUI64
							       : IN6_ADDR_GEN_MODE_NONE);

	{
		char *text = sysctl_text(o->dev);
		if (!text)
			return -ENOMEM;
		if (*text) {
			s = add_text_step(plan, &lj_step_sysctl_copy, text,
					  "copy the IPv4/IPv6 "
					  "settings of the uplink to the bridge");
			if (!s)
				return -ENOMEM;
			snprintf(s->link, sizeof(s->link), "%s", o->bridge);
		} else {
			free(text);
		}
	}

	for (size_t i = 0; i < f->n_addrs; i++) {
		struct lj_addr_full a = f->addrs[i];
		char label[IFNAMSIZ];

		if (move_label(a.label, o->dev, o->bridge, label) < 0)
			return lj_bad_input(res, "Address label '%s' would be too long on '%s'",
					    a.label, o->bridge);
		memcpy(a.label, label, sizeof(a.label));
		snprintf(what, sizeof(what), "add %s to '%s'",
			 lj_cidr_to_string(&a.local, b, sizeof(b)), o->bridge);
		s = add_text_step(plan, &lj_step_addr_copy, lj_addr_full_to_text(&a), what);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->bridge);
		if (a.local.ip.family == AF_INET6 && !(a.flags & IFA_F_NODAD))
			s->flags |= LJ_STEP_F_NODAD_FIRST;
	}

	s = lj_plan_add(plan, o->ovs ? &lj_step_ovs_enslave : &lj_step_enslave, LJ_HOST,
			"make '%s' a port of '%s'", o->dev, o->bridge);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", o->dev);
	snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	if (o->ovs && !(s->text = strdup(f->ovsdb)))
		return -ENOMEM;

	s = lj_plan_add(plan, &lj_step_link_up, LJ_HOST, "bring '%s' up", o->bridge);
	if (!s)
		return -ENOMEM;
	snprintf(s->link, sizeof(s->link), "%s", o->bridge);
	s->skip_undo = true; /* the bridge goes away as a whole */

	for (size_t i = 0; i < f->n_routes; i++) {
		FILE *m = fmemopen(what, sizeof(what), "w");
		if (m) {
			fprintf(m, "move route ");
			lj_route_info_print(&f->routes[i], o->bridge, m);
			fclose(m);
		}
		s = add_text_step(plan, &lj_step_route_move, lj_route_info_to_text(&f->routes[i]),
				  what);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->dev);
		snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	}

	/* Removed in reverse: secondaries before their primary (which would take them along). */
	for (size_t i = f->n_addrs; i-- > 0;) {
		snprintf(what, sizeof(what), "remove %s from '%s'",
			 lj_cidr_to_string(&f->addrs[i].local, b, sizeof(b)), o->dev);
		s = add_text_step(plan, &lj_step_addr_move, lj_addr_full_to_text(&f->addrs[i]),
				  what);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->dev);
		snprintf(s->master, sizeof(s->master), "%s", o->bridge);
	}

	if (o->ovs && f->ovs_netdev) {
		/*
		 * The userspace datapath reads DEV with a packet socket, so the host's stack
		 * still gets every frame DEV receives as well: keep DEV out of it (no IPv6, IPv4
		 * dropped by the reverse-path check, no ARP answers), or the host answers twice.
		 */
		static const struct {
			const char *key, *value;
		} quiet[] = {
			{"ipv6.disable_ipv6", "1"},
			{"ipv4.rp_filter", "1"},
			{"ipv4.arp_ignore", "8"},
		};
		char text[160] = "", old[32];
		size_t len = 0;

		for (size_t i = 0; i < ARRAY_SIZE(quiet); i++)
			if (sysctl_read(quiet[i].key, o->dev, old, sizeof(old)) == 0 && old[0] &&
			    strlen(old) < 12)
				len += (size_t)snprintf(text + len, sizeof(text) - len,
							"%s=%s/%s\n", quiet[i].key, quiet[i].value,
							old);
		if (len) {
			s = lj_plan_add(plan, &lj_step_sysctl_set, LJ_HOST,
					"keep '%s' out of the "
					"host's IP stack (userspace datapath)",
					o->dev);
			if (!s || !(s->text = strdup(text)))
				return -ENOMEM;
			snprintf(s->link, sizeof(s->link), "%s", o->dev);
		}
	}

	for (uint32_t fam = 2; fam <= 10 && !o->ovs; fam += 8) {
		char chain[16];
		if (lj_uplink_fw_needed(fam, chain) <= 0)
			continue;
		s = lj_plan_add(plan, &lj_step_bridged_accept, LJ_HOST,
				"accept traffic bridged on '%s' "
				"in %s filter %s (br_netfilter, policy drop)",
				o->bridge, fam == 2 ? "ip" : "ip6", chain);
		if (!s || !(s->text = strdup(chain)))
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->bridge);
		s->u32 = fam;
	}

	for (size_t i = 0; i < f->n_addrs; i++) {
		struct lj_addr_full a = f->addrs[i];
		char label[IFNAMSIZ];

		if (a.local.ip.family != AF_INET6 || (a.flags & IFA_F_NODAD))
			continue;
		move_label(a.label, o->dev, o->bridge, label);
		memcpy(a.label, label, sizeof(a.label));
		snprintf(what, sizeof(what), "restore the flags of %s on '%s'",
			 lj_cidr_to_string(&a.local, b, sizeof(b)), o->bridge);
		s = add_text_step(plan, &lj_step_addr_flags, lj_addr_full_to_text(&a), what);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->bridge);
	}

	if (f->probe.family != AF_UNSPEC) {
		s = lj_plan_add(plan, &lj_step_probe, LJ_HOST, "probe %s through '%s'",
				lj_ip_to_string(&f->probe, b, sizeof(b)), o->bridge);
		if (!s)
			return -ENOMEM;
		snprintf(s->link, sizeof(s->link), "%s", o->bridge);
		s->via = f->probe;
		s->u32 = o->timeout_ms ? o->timeout_ms : LJ_UPLINK_TIMEOUT_DEFAULT_MS;
		if (f->probe_onlink)
			s->flags |= LJ_STEP_F_PROBE_ONLINK;
	}

	if (crash_at && crash_at <= plan->n) {
		/* Tests: die before step crash_at, as if killed (the record says "adopting"). */
		s = lj_plan_add(plan, &lj_step_test_crash, LJ_HOST, "test crash");
		if (!s)
			return -ENOMEM;
		struct lj_step tmp = *s;
		memmove(&plan->steps[crash_at], &plan->steps[crash_at - 1],
			(plan->n - crash_at) * sizeof(*s));
		plan->steps[crash_at - 1] = tmp;
	}
	return 0;
}

static json_t *adoption_json(const struct lj_uplink_opts *o, const struct adopt_facts *f)
{
	char b[256], mac[LJ_MAC_STRLEN];
	json_t *info = json_object(), *addrs = json_array(), *routes = json_array();

	json_object_set_new(info, "bridge", json_string(o->bridge));
	json_object_set_new(info, "uplink", json_string(o->dev));
	json_object_set_new(info, "kind", json_string(o->ovs ? "openvswitch" : "bridge"));
	json_object_set_new(info, "mac",
			    json_string(lj_mac_to_string(f->dev.mac, mac, sizeof(mac))));
	json_object_set_new(info, "mtu", json_integer(f->dev.mtu));
	for (size_t i = 0; i < f->n_addrs; i++)
		json_array_append_new(
			addrs, json_string(lj_cidr_to_string(&f->addrs[i].local, b, sizeof(b))));
	for (size_t i = 0; i < f->n_routes; i++) {
		FILE *m = fmemopen(b, sizeof(b), "w");
		if (!m)
			continue;
		lj_route_info_print(&f->routes[i], o->bridge, m);
		fclose(m);
		json_array_append_new(routes, json_string(b));
	}
	json_object_set_new(info, "addresses", addrs);
	json_object_set_new(info, "routes", routes);
	if (f->probe.family != AF_UNSPEC)
		json_object_set_new(info, "probe",
				    json_string(lj_ip_to_string(&f->probe, b, sizeof(b))));
	if (f->dhcp)
		json_object_set_new(info, "dhcp", json_true());
	return info;
}

static int check_namespace(const struct lj_record *rec, struct lj_result *res)
{
	if (!own_record(rec))
		return lj_bad_input(res,
				    "'%s' was adopted in another network namespace; run lanjoin "
				    "there",
				    rec->ifname);
	return 0;
}

/* Is the adoption of rec whole right now: BR exists and DEV is its port? */
static bool adoption_live(struct lj_ctx *ctx, const struct lj_record *rec)
{
	struct lj_link br, dev;

	return lj_link_get(ctx->host, rec->ifname, &br) == 0 &&
	       lj_link_get(ctx->host, rec->host_ifname, &dev) == 0 && dev.master == br.ifindex;
}

int lj_uplink_adopt(const struct lj_uplink_opts *o, struct lj_result *res)
{
	struct adopt_facts f = {0};
	struct lj_state *st = NULL;
	struct lj_plan plan = {0};
	struct lj_record rec = {0}, old;
	struct lj_plan_error perr;
	struct lj_ctx *ctx = NULL;
	struct lj_nl *dump = NULL;
	bool recovered = false;
	int r;

	memset(res, 0, sizeof(*res));
	if (!lj_ifname_valid(o->bridge))
		return lj_bad_input(res, "Invalid bridge name '%s'", o->bridge);
	if (!lj_ifname_valid(o->dev))
		return lj_bad_input(res, "Invalid interface name '%s'", o->dev);
	if (strcmp(o->bridge, o->dev) == 0)
		return lj_bad_input(res, "The bridge and the uplink must differ");
	if (o->timeout_ms > LJ_UPLINK_TIMEOUT_MAX_S * 1000u)
		return lj_bad_input(res, "Timeout above %u s", LJ_UPLINK_TIMEOUT_MAX_S);

	f.warnings = json_array();
	r = ctx_new(&ctx);
	if (r == 0)
		r = lj_nl_open(-1, &dump);
	if (r < 0) {
		lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
		goto out;
	}
	lj_nl_set_strict(dump); /* best effort: the callbacks filter too */

	if (!o->dry_run) {
		r = lj_state_open_sub(UPLINK_SUBDIR, true, &st);
		if (r < 0) {
			lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
				lj_state_strerror(r));
			goto out;
		}
		record_init(&rec, o->bridge, o->dev, o->ovs);
		r = lj_state_load(st, rec.id, &old);
		if (r == 0) {
			size_t failed = 0;
			r = check_namespace(&old, res);
			if (r == 0 && strcmp(old.status, "adopted") == 0 &&
			    adoption_live(ctx, &old)) {
				if (strcmp(old.host_ifname, o->dev) != 0)
					r = lj_bad_input(res, "'%s' already holds uplink '%s'",
							 o->bridge, old.host_ifname);
				else
					snprintf(res->message, sizeof(res->message),
						 "'%s' already holds '%s' (adopted by lanjoin); "
						 "nothing "
						 "to do",
						 o->bridge, o->dev);
				lj_record_free(&old);
				goto out;
			}
			if (r < 0) {
				lj_record_free(&old);
				goto out;
			}
			/* Interrupted (or overtaken by events): put everything back first. */
			ctx->rollback = true;
			r = lj_plan_undo_all(ctx, &old.plan, &failed);
			ctx->rollback = false;
			lj_record_free(&old);
			if (failed) {
				lj_fail(res, r,
					"Failed to roll back the interrupted adoption of '%s': "
					"%s; run 'lanjoin uplink release %s'",
					o->bridge, ctx->detail, o->bridge);
				goto out;
			}
			lj_state_remove(st, rec.id);
			recovered = true;
			memset(ctx->ifindex_cache, 0, sizeof(ctx->ifindex_cache));
			ctx->detail[0] = '\0';
		} else if (r != -ENOENT) {
			lj_fail(res, r, "Failed to read the state record %s/%s/%s.json: %s",
				lj_state_dir(), UPLINK_SUBDIR, rec.id,
				r == -EBADMSG ? "it is malformed or not lanjoin's" : strerror(-r));
			goto out;
		}
	}

	r = gather(ctx, dump, o, &f, res);
	if (r < 0)
		goto out;
	r = build(o, ctx, &f, &plan, res);
	if (r < 0)
		goto out;
	if (recovered)
		warn(f.warnings, "An interrupted adoption of '%s' was rolled back first",
		     o->bridge);

	if (o->dry_run) {
		res->dry_plan = plan;
		memset(&plan, 0, sizeof(plan));
		res->dry_ctx = ctx;
		ctx = NULL;
		res->json = adoption_json(o, &f);
		json_object_set(res->json, "warnings", f.warnings);
		r = 0;
		goto out;
	}

	json_decref(rec.info);
	rec.info = adoption_json(o, &f);
	rec.plan = plan;
	r = lj_state_save(st, &rec);
	rec.plan = (struct lj_plan){0};
	if (r < 0) {
		lj_fail(res, r, "Failed to write the state record: %s", strerror(-r));
		goto out;
	}

	r = lj_plan_apply(ctx, &plan, &perr);
	if (r < 0) {
		const struct lj_step *s = &plan.steps[perr.step];
		res->rolled_back = true;
		res->undo_failed = perr.undo_failed;
		if (perr.undo_failed == 0)
			lj_state_remove(st, rec.id);
		lj_fail(res, r,
			"Failed to adopt '%s' into '%s', step %zu of %zu, %s: %s%s%s%s%s%s%s",
			o->dev, o->bridge, perr.step + 1, plan.n, s->what,
			r == -ETIMEDOUT ? "no answer" : strerror(-r), ctx->detail[0] ? " (" : "",
			ctx->detail, ctx->detail[0] ? ")" : "",
			perr.undo_failed ? ". Could not undo: " : "", perr.undo_detail,
			perr.undo_failed ? "; the record is kept: run 'lanjoin uplink release' "
					   "on the bridge"
					 : "");
		goto out;
	}

	snprintf(rec.status, sizeof(rec.status), "adopted");
	rec.plan = plan;
	r = lj_state_save(st, &rec);
	rec.plan = (struct lj_plan){0};
	if (r < 0) {
		size_t failed = 0;
		ctx->rollback = true;
		lj_plan_undo_all(ctx, &plan, &failed);
		if (!failed)
			lj_state_remove(st, rec.id);
		res->rolled_back = true;
		lj_fail(res, r, "Failed to write the state record: %s", strerror(-r));
		goto out;
	}
	res->json = json_incref(rec.info);
	json_object_set(res->json, "warnings", f.warnings);
	r = 0;
out:
	facts_free(&f);
	lj_record_free(&rec);
	lj_plan_free(&plan);
	lj_state_close(st);
	lj_nl_close(dump);
	ctx_free(ctx);
	return r;
}

/* --- release ---------------------------------------------------------------------------- */

static size_t env_index(const char *name)
{
	const char *v = getenv(name);
	uint64_t n;

	if (!v || lj_parse_uint(v, 1, 1000000, &n) < 0)
		return 0;
	return (size_t)n;
}

static bool undoable(const struct lj_step *s)
{
	return s->type->undo && !s->skip_undo;
}

/*
 * Undo every step in reverse; on the first failure, apply again the steps already undone
 * (oldest first) so the adoption is whole again. LANJOIN_FAULT_UNDO=N fails step N's undo.
 */
static int undo_atomic(struct lj_ctx *ctx, struct lj_plan *p, size_t *ret_failed_step,
		       bool *ret_redo_failed, char *redo_detail, size_t redo_size)
{
	size_t fault = env_index("LANJOIN_FAULT_UNDO");
	size_t i;
	int r = 0;

	*ret_redo_failed = false;
	for (i = p->n; i-- > 0;) {
		struct lj_step *s = &p->steps[i];
		if (!undoable(s))
			continue;
		lj_plan_test_delay();
		if (i + 1 == fault) {
			r = -EIO;
			lj_ctx_detail(ctx, "fault injected by LANJOIN_FAULT_UNDO=%zu", fault);
		} else {
			r = s->type->undo(ctx, s);
		}
		if (r < 0)
			break;
	}
	if (r >= 0)
		return 0;
	*ret_failed_step = i;
	memset(ctx->ifindex_cache, 0, sizeof(ctx->ifindex_cache));
	for (size_t j = i + 1; j < p->n; j++) {
		struct lj_step *s = &p->steps[j];
		char saved[sizeof(ctx->detail)];
		int u;

		if (!undoable(s))
			continue;
		memcpy(saved, ctx->detail, sizeof(saved));
		u = s->type->apply(ctx, s);
		if (u < 0) {
			size_t len = strlen(redo_detail);
			*ret_redo_failed = true;
			snprintf(redo_detail + len, redo_size - len, "%s%s (%s)", len ? "; " : "",
				 s->what, strerror(-u));
		}
		memcpy(ctx->detail, saved, sizeof(saved));
	}
	return r;
}

/* An OVS bridge of an adoption: refuse (bad input) when it has ports beyond DEV and itself. */
static int ovs_other_ports(const struct lj_record *rec, struct lj_result *res)
{
	const char *db = NULL;
	struct lj_ovs_bridge b;
	struct lj_ovs *o;
	int r;

	for (size_t i = 0; i < rec->plan.n; i++)
		if (rec->plan.steps[i].type == &lj_step_ovs_uplink_bridge)
			db = rec->plan.steps[i].text;
	if (lj_ovs_open(db, &o) < 0)
		return 0; /* nothing to ask: the undo says what is wrong */
	r = lj_ovs_bridge_get(o, rec->ifname, &b);
	lj_ovs_close(o);
	if (r == 0 && b.n_ports > 2)
		return lj_bad_input(res,
				    "OVS bridge '%s' still has %zu other port%s: containers are "
				    "attached to it; detach them first, or use --force to release "
				    "anyway (they lose the LAN)",
				    rec->ifname, b.n_ports - 2, b.n_ports == 3 ? "" : "s");
	return 0;
}

int lj_uplink_release(const char *bridge, bool force, bool dry_run, struct lj_result *res)
{
	struct lj_state *st = NULL;
	struct lj_record rec = {0};
	struct lj_ctx *ctx = NULL;
	struct lj_link br;
	char redo[512] = "";
	bool redo_failed;
	size_t failed_step = 0;
	int r;

	memset(res, 0, sizeof(*res));
	if (!lj_ifname_valid(bridge))
		return lj_bad_input(res, "Invalid bridge name '%s'", bridge);
	r = ctx_new(&ctx);
	if (r < 0)
		return lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
	r = lj_state_open_sub(UPLINK_SUBDIR, !dry_run, &st);
	if (r < 0) {
		lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			lj_state_strerror(r));
		goto out;
	}
	{
		char id[LJ_RECORD_ID_LEN];
		lj_record_id(UPLINK_KEY, bridge, id);
		r = lj_state_load(st, id, &rec);
	}
	if (r == -ENOENT) {
		snprintf(res->message, sizeof(res->message),
			 "No uplink was adopted into '%s' by lanjoin; nothing to do", bridge);
		r = 0;
		goto out;
	}
	if (r < 0) {
		lj_fail(res, r, "Failed to read the state record of '%s': %s", bridge,
			r == -EBADMSG ? "it is malformed or not lanjoin's" : strerror(-r));
		goto out;
	}
	r = check_namespace(&rec, res);
	if (r < 0)
		goto out;

	if (!force && strcmp(rec.way, "uplink-ovs") == 0) {
		r = ovs_other_ports(&rec, res);
		if (r < 0)
			goto out;
	} else if (!force && lj_link_get(ctx->host, bridge, &br) == 0) {
		struct lj_link *ports = NULL;
		char names[256] = "";
		size_t n = 0, others = 0, len = 0;

		r = lj_link_list_ports(ctx->host, br.ifindex, &ports, &n);
		if (r < 0) {
			lj_fail(res, r, "Failed to list the ports of '%s': %s", bridge,
				strerror(-r));
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (strcmp(ports[i].name, rec.host_ifname) == 0)
				continue;
			others++;
			if (len < sizeof(names) - IFNAMSIZ - 8)
				len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
							len ? ", " : "", ports[i].name);
		}
		free(ports);
		if (others) {
			r = lj_bad_input(res,
					 "'%s' still has %zu other port%s (%s): containers are "
					 "attached to it; detach them first, or use --force to "
					 "release anyway (they lose the LAN)",
					 bridge, others, others == 1 ? "" : "s", names);
			goto out;
		}
	}

	if (dry_run) {
		printf("# release '%s' (uplink '%s')\n", bridge, rec.host_ifname);
		lj_plan_describe(ctx, &rec.plan, true, stdout);
		r = 0;
		goto out;
	}

	r = undo_atomic(ctx, &rec.plan, &failed_step, &redo_failed, redo, sizeof(redo));
	if (r < 0) {
		const struct lj_step *s = &rec.plan.steps[failed_step];
		res->rolled_back = !redo_failed;
		res->undo_failed = redo_failed;
		lj_fail(res, r, "Failed to release '%s', undoing step %zu (%s): %s%s%s%s. %s%s",
			bridge, failed_step + 1, s->what, strerror(-r), ctx->detail[0] ? " (" : "",
			ctx->detail, ctx->detail[0] ? ")" : "",
			redo_failed ? "Could not restore the adoption either: "
				    : "The adoption is "
				      "whole again (nothing was released)",
			redo);
		if (redo_failed) {
			snprintf(rec.status, sizeof(rec.status), "releasing");
			lj_state_save(st, &rec);
		}
		goto out;
	}
	r = lj_state_remove(st, rec.id);
	snprintf(res->message, sizeof(res->message),
		 "Released '%s': its addresses and routes are "
		 "back on '%s'",
		 bridge, rec.host_ifname);
out:
	lj_record_free(&rec);
	lj_state_close(st);
	ctx_free(ctx);
	return r;
}

int lj_uplink_adopt_if_missing(const char *bridge, const char *dev, struct lj_result *res,
			       bool *ret_adopted)
{
	struct lj_uplink_opts o = {0};
	struct lj_nl *nl = NULL;
	struct lj_link l;
	int r;

	*ret_adopted = false;
	memset(res, 0, sizeof(*res));
	if (!lj_ifname_valid(bridge) || !lj_ifname_valid(dev))
		return lj_bad_input(res, "Invalid bridge or uplink name");
	r = lj_nl_open(-1, &nl);
	if (r < 0)
		return lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
	r = lj_link_get(nl, bridge, &l);
	lj_nl_close(nl);
	if (r == 0)
		return 0; /* there already: the uplink option only matters for a new bridge */
	if (r != -ENODEV)
		return lj_fail(res, r, "Failed to look up '%s': %s", bridge, strerror(-r));
	snprintf(o.bridge, sizeof(o.bridge), "%s", bridge);
	snprintf(o.dev, sizeof(o.dev), "%s", dev);
	r = lj_uplink_adopt(&o, res);
	if (r == 0)
		*ret_adopted = true;
	return r;
}

int lj_uplink_plan(struct lj_ctx *ctx, const char *bridge, const char *dev, struct lj_plan *plan,
		   uint32_t *ret_mtu, struct lj_result *res)
{
	struct lj_uplink_opts o = {.dry_run = true};
	struct adopt_facts f = {0};
	struct lj_nl *dump = NULL;
	int r;

	snprintf(o.bridge, sizeof(o.bridge), "%s", bridge);
	snprintf(o.dev, sizeof(o.dev), "%s", dev);
	f.warnings = json_array();
	r = lj_nl_open(-1, &dump);
	if (r < 0) {
		facts_free(&f);
		return lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
	}
	lj_nl_set_strict(dump);
	r = gather(ctx, dump, &o, &f, res);
	if (r == 0)
		r = build(&o, ctx, &f, plan, res);
	if (r == 0)
		*ret_mtu = f.dev.mtu;
	lj_nl_close(dump);
	facts_free(&f);
	return r;
}

int lj_uplink_gc(const struct lj_state *st, struct lj_result *res, size_t *ret_removed)
{
	struct lj_record *recs = NULL;
	struct lj_ovs_port *ports = NULL;
	struct lj_state *ust = NULL;
	struct lj_ctx *ctx = NULL;
	struct lj_ovs *o = NULL;
	size_t n = 0, n_ports = 0;
	int r, first = 0;

	r = lj_state_open_sibling(st, UPLINK_SUBDIR, &ust);
	if (r == 0)
		r = lj_state_list(ust, &recs, &n, NULL);
	if (r == 0)
		r = ctx_new(&ctx);
	if (r < 0) {
		lj_fail(res, r, "Failed to read the uplink records: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t failed = 0;

		if (!own_record(&recs[i])) {
			/* Its namespace is gone, and with it the bridge and the uplink: drop it. */
			if (lj_netns_exists(NULL, &recs[i].netns, recs[i].netns_cookie) ||
			    lj_state_remove(ust, recs[i].id) < 0)
				continue;
			lj_result_note(res,
				       "Removed uplink adoption %s %s: dropped its record, the "
				       "network namespace it was adopted in no longer exists",
				       recs[i].ifname, recs[i].host_ifname);
			snprintf(recs[i].status, sizeof(recs[i].status), "gone");
			(*ret_removed)++;
			continue;
		}
		if (strcmp(recs[i].status, "adopted") == 0)
			continue;
		/* A crash in the middle of an adopt or release: put the uplink back. */
		ctx->detail[0] = '\0';
		memset(ctx->ifindex_cache, 0, sizeof(ctx->ifindex_cache));
		lj_plan_undo_all(ctx, &recs[i].plan, &failed);
		if (failed) {
			if (!first)
				first = lj_fail(res, -EIO,
						"Failed to roll back the interrupted adoption "
						"of '%s': %s",
						recs[i].ifname, ctx->detail);
			continue;
		}
		lj_state_remove(ust, recs[i].id);
		lj_result_note(res,
			       "Removed uplink adoption %s %s: rolled back the %s an interrupted "
			       "run left half-done",
			       recs[i].ifname, recs[i].host_ifname,
			       recs[i].status[0] == 'r' ? "release" : "adoption");
		snprintf(recs[i].status, sizeof(recs[i].status), "gone");
		(*ret_removed)++;
	}

	/* OVS uplink ports no adoption explains. */
	if (lj_ovs_open(NULL, &o) < 0 || lj_ovs_check_running(o, NULL) < 0 ||
	    lj_ovs_list_ours(o, &ports, &n_ports, NULL, NULL) < 0)
		goto out;
	for (size_t i = 0; i < n_ports; i++) {
		bool claimed = false;

		if (strcmp(ports[i].target, "uplink") != 0)
			continue;
		for (size_t j = 0; j < n; j++)
			claimed |= strcmp(recs[j].status, "gone") != 0 &&
				   strcmp(recs[j].host_ifname, ports[i].name) == 0;
		if (claimed)
			continue;
		r = lj_ovs_port_del(o, ports[i].name);
		if (r < 0 && !first)
			first = lj_fail(res, r, "Failed to take stale uplink '%s' out of OVS: %s",
					ports[i].name, lj_ovs_error(o));
		else if (r == 0) {
			lj_result_note(res,
				       "Removed OVS uplink port %s: no uplink adoption explains it",
				       ports[i].name);
			(*ret_removed)++;
		}
	}
out:
	free(ports);
	lj_ovs_close(o);
	ctx_free(ctx);
	lj_records_free(recs, n);
	lj_state_close(ust);
	return first ? first : r < 0 ? r : 0;
}

int lj_uplink_adopted_dev(const struct lj_state *st, const char *bridge, char ret_dev[IFNAMSIZ])
{
	struct lj_state *ust = NULL;
	struct lj_record rec;
	char id[LJ_RECORD_ID_LEN];
	int r;

	lj_record_id(UPLINK_KEY, bridge, id);
	r = lj_state_open_sibling(st, UPLINK_SUBDIR, &ust);
	if (r == 0)
		r = lj_state_load(ust, id, &rec);
	lj_state_close(ust);
	if (r < 0)
		return r == -EXDEV ? -ENOENT : r;
	if (own_record(&rec) && strcmp(rec.status, "adopted") == 0 &&
	    strcmp(rec.ifname, bridge) == 0)
		snprintf(ret_dev, IFNAMSIZ, "%s", rec.host_ifname);
	else
		r = -ENOENT;
	lj_record_free(&rec);
	return r;
}

int lj_uplink_list(json_t **ret)
{
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	size_t n = 0;
	json_t *a;
	int r;

	r = lj_state_open_sub(UPLINK_SUBDIR, false, &st);
	if (r < 0)
		return r;
	r = lj_state_list(st, &recs, &n, NULL);
	lj_state_close(st);
	if (r < 0)
		return r;
	a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_incref(recs[i].info);
		/* Adopted in a namespace that is gone: the record describes nothing (gc drops it).
		 */
		bool stale = !own_record(&recs[i]) &&
			     !lj_netns_exists(NULL, &recs[i].netns, recs[i].netns_cookie);

		json_object_set_new(o, "status", json_string(stale ? "stale" : recs[i].status));
		json_array_append_new(a, o);
	}
	lj_records_free(recs, n);
	*ret = a;
	return 0;
}
