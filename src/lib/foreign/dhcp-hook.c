/* SPDX-License-Identifier: MIT */
/*
 * The DHCP client's hook (lanjoin run by the client with LANJOIN_DHCP_HOOK set): it applies a
 * lease event to the one interface in the namespace it runs in and notifies the waiting
 * attach. Its process main is the front end's (src/cli/dhcp.c).
 */
#include "lib/foreign/dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/state.h"
#include "lib/foreign/dhcp-internal.h"
#include "lib/kernel/addr.h"
#include "lib/kernel/arp.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"
#include "lib/kernel/proc.h"
#include "lib/kernel/route.h"
#include "shared/macro.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static const char *process_env(const char *name, void *data)
{
	return getenv(name);
}

/* First word of a space-separated list into buf. */
static const char *first_word(const char *list, char *buf, size_t size, const char **rest)
{
	size_t n = 0;

	while (list && *list == ' ')
		list++;
	if (!list || !*list)
		return NULL;
	while (list[n] && list[n] != ' ')
		n++;
	if (n >= size)
		return NULL;
	memcpy(buf, list, n);
	buf[n] = '\0';
	if (rest)
		*rest = list + n;
	return buf;
}

static int mask_to_prefix(const char *s)
{
	struct lj_ip m;
	uint32_t v;
	int p = 0;

	if (lj_parse_ip(s, &m) < 0 || m.family != AF_INET)
		return -EINVAL;
	v = ntohl(m.v4.s_addr);
	while (v & 0x80000000u) {
		p++;
		v <<= 1;
	}
	return v ? -EINVAL : p;
}

/* The lease in the environment of hook (udhcpc names or dhclient/dhcpcd "new_" names). */
static const char *nonempty(const char *v)
{
	return v && *v ? v : NULL;
}

int lj_dhcp_lease_from_env(enum lj_dhcp_kind k, lj_dhcp_env_fn get, void *data,
			   struct lj_dhcp_lease *ret, char *why, size_t size)
{
	const char *ip = nonempty(get(k == LJ_DHCP_UDHCPC ? "ip" : "new_ip_address", data));
	const char *routers = nonempty(get(k == LJ_DHCP_UDHCPC ? "router" : "new_routers", data));
	const char *dns =
		nonempty(get(k == LJ_DHCP_UDHCPC ? "dns" : "new_domain_name_servers", data));
	const char *lease =
		nonempty(get(k == LJ_DHCP_UDHCPC ? "lease" : "new_dhcp_lease_time", data));
	const char *cidr = nonempty(get(k == LJ_DHCP_UDHCPC ? "mask" : "new_subnet_cidr", data));
	const char *mask = nonempty(get(k == LJ_DHCP_UDHCPC ? "subnet" : "new_subnet_mask", data));
	struct lj_dhcp_lease l = {0};
	uint64_t n;
	char w[64];
	int prefix = -EINVAL;

	if (!ip || lj_parse_ip(ip, &l.addr.ip) < 0 || l.addr.ip.family != AF_INET) {
		snprintf(why, size, "the client gave no valid IPv4 address");
		return -EINVAL;
	}
	if (cidr && lj_parse_uint(cidr, 1, 32, &n) == 0)
		prefix = (int)n;
	else if (mask)
		prefix = mask_to_prefix(mask);
	if (prefix <= 0 || prefix > 32) {
		snprintf(why, size, "the client gave no valid subnet mask");
		return -EINVAL;
	}
	l.addr.prefixlen = (uint8_t)prefix;
	{
		/* What --ip refuses, a lease may not give either. */
		const char *problem = lj_ip_unicast_problem(&l.addr.ip, l.addr.prefixlen);
		if (problem) {
			snprintf(why, size, "the server offered %s/%d, which is %s", ip, prefix,
				 problem);
			return -EINVAL;
		}
	}
	if (first_word(routers, w, sizeof(w), NULL) &&
	    (lj_parse_ip(w, &l.router) < 0 || l.router.family != AF_INET))
		l.router.family = AF_UNSPEC;
	for (const char *rest = dns;
	     l.n_dns < ARRAY_SIZE(l.dns) && first_word(rest, w, sizeof(w), &rest);)
		if (lj_parse_ip(w, &l.dns[l.n_dns]) == 0)
			l.n_dns++;
	if (lease && lj_parse_uint(lease, 0, UINT32_MAX, &n) == 0)
		l.lease_s = (uint32_t)n;
	*ret = l;
	return 0;
}

int lj_dhcp6_lease_from_env(lj_dhcp_env_fn get, void *data, struct lj_dhcp_lease *ret, char *why,
			    size_t size)
{
	const char *ip = nonempty(get("new_dhcp6_ia_na1_ia_addr1", data));
	const char *vltime = nonempty(get("new_dhcp6_ia_na1_ia_addr1_vltime", data));
	const char *dns = nonempty(get("new_dhcp6_name_servers", data));
	struct lj_dhcp_lease l = {0};
	const char *problem;
	uint64_t n;
	char w[64];

	if (!ip || lj_parse_ip(ip, &l.addr.ip) < 0 || l.addr.ip.family != AF_INET6) {
		snprintf(why, size, "the client gave no valid IPv6 address");
		return -EINVAL;
	}
	l.addr.prefixlen = 128;
	problem = lj_ip_unicast_problem(&l.addr.ip, 128);
	if (!problem && IN6_IS_ADDR_LINKLOCAL(&l.addr.ip.v6))
		problem = "a link-local address";
	if (problem) {
		snprintf(why, size, "the server offered %s, which is %s", ip, problem);
		return -EINVAL;
	}
	for (const char *rest = dns;
	     l.n_dns < ARRAY_SIZE(l.dns) && first_word(rest, w, sizeof(w), &rest);)
		if (lj_parse_ip(w, &l.dns[l.n_dns]) == 0 && l.dns[l.n_dns].family == AF_INET6)
			l.n_dns++;
	if (vltime && lj_parse_uint(vltime, 0, UINT32_MAX, &n) == 0)
		l.lease_s = (uint32_t)n;
	*ret = l;
	return 0;
}

/* Remove the IPv4 addresses (except keep, if given) and IPv4 default routes of ifindex. */
static int deconfigure(struct lj_nl *nl, int ifindex, const struct lj_cidr *keep)
{
	struct lj_addr_info *v = NULL;
	size_t n = 0;
	int r;

	r = lj_addr_dump(nl, AF_INET, ifindex, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (keep && lj_ip_equal(&v[i].cidr.ip, &keep->ip) &&
		    v[i].cidr.prefixlen == keep->prefixlen)
			continue;
		lj_addr_del(nl, ifindex, &v[i].cidr);
	}
	free(v);
	if (!keep) {
		struct lj_route rt = {.dst.ip.family = AF_INET, .oif = ifindex};
		for (int i = 0; i < 8 && lj_route_del(nl, &rt) == 0; i++)
			;
	}
	return 0;
}

/* Remove every address ip on link ifindex (whatever its prefix). */
static void remove_address(struct lj_nl *nl, int ifindex, const struct lj_ip *ip)
{
	struct lj_addr_info *v = NULL;
	size_t n = 0;

	if (lj_addr_dump(nl, ip->family, ifindex, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (lj_ip_equal(&v[i].cidr.ip, ip))
			lj_addr_del(nl, ifindex, &v[i].cidr);
	free(v);
}

/*
 * Does link ifindex hold ip already (a renewal, or dhcpcd, which adds the address itself)?
 * 1, 0 or -errno.
 */
static int link_has(struct lj_nl *nl, int ifindex, const struct lj_ip *ip)
{
	struct lj_addr_info *v = NULL;
	bool have = false;
	size_t n = 0;
	int r;

	r = lj_addr_dump(nl, ip->family, ifindex, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		have |= lj_ip_equal(&v[i].cidr.ip, ip);
	free(v);
	return have;
}

static int apply_lease(struct lj_nl *nl, int ifindex, const char *ifname,
		       const struct lj_dhcp_lease *l, bool no_default)
{
	int r;

	r = deconfigure(nl, ifindex, &l->addr);
	if (r < 0)
		return r;
	r = link_has(nl, ifindex, &l->addr.ip);
	if (r < 0)
		return r;
	if (r == 0) {
		r = lj_addr_add(nl, ifindex, &l->addr, 0);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	/* Neighbours may still have a previous holder's MAC cached (dhcpcd adds the address
	 * itself, so announce whether or not this hook added it). */
	lj_arp_announce(-1, ifname, &l->addr.ip, NULL);
	if (l->router.family == AF_INET && !no_default) {
		struct lj_route rt = {
			.dst.ip.family = AF_INET,
			.via = l->router,
			.oif = ifindex,
			.onlink = !lj_cidr_contains(&l->addr, &l->router),
		};
		/* Replace only the IPv4 default route: IPv6's is another table. */
		r = lj_route_replace(nl, &rt);
		if (r < 0)
			return r;
	}
	return 0;
}

static void notify(const char *msg)
{
	const char *path = env("LANJOIN_DHCP_NOTIFY");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (!path || strlen(path) >= sizeof(sun.sun_path))
		return;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	/* Nobody listens after attach returned (renewals): that is fine. */
	sendto(fd, msg, strlen(msg), MSG_DONTWAIT, (struct sockaddr *)&sun, sizeof(sun));
}

/*
 * BASE of the attachment the hook runs for, from its notification path BASE.sock. The hook's
 * environment has no LANJOIN_STATE_DIR (base_ok cannot be used): BASE must be an absolute
 * path ending in /dhcp/<record id>, as lj_dhcp_start makes it.
 */
static bool hook_base(char *buf, size_t size)
{
	const char *n = env("LANJOIN_DHCP_NOTIFY"), *id;
	size_t len = n ? strlen(n) : 0;

	if (len < 5 || len - 5 >= size || n[0] != '/' || strcmp(n + len - 5, ".sock") != 0 ||
	    strstr(n, "/../"))
		return false;
	memcpy(buf, n, len - 5);
	buf[len - 5] = '\0';
	id = strrchr(buf, '/');
	if (!id || id - buf < 5 || strncmp(id - 5, "/dhcp", 5) != 0)
		return false;
	/* <record id>, or <record id>-6 for DHCPv6 */
	if (strlen(id + 1) != LJ_RECORD_ID_LEN - 1 &&
	    !(strlen(id + 1) == LJ_RECORD_ID_LEN + 1 && strcmp(id + LJ_RECORD_ID_LEN, "-6") == 0))
		return false;
	for (const char *p = id + 1; *p && p < id + LJ_RECORD_ID_LEN; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static int64_t boottime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Hold the client in its hook until LJ_DHCP_MIN_EVENT_INTERVAL_MS have passed since the
 * previous lease event of this attachment (BASE.hook holds its CLOCK_BOOTTIME in ms). The
 * client waits for its hook, so this bounds how often any client can renew, whatever the
 * lease time (dhclient renews at once when a lease is a second long). Best effort: without
 * the file it does not wait.
 */
static void throttle(const char *base)
{
	char path[PATH_MAX + 8], buf[32];
	_cleanup_close_ int fd = -1;
	int64_t now = boottime_ms(), last = 0, wait;
	ssize_t n;

	snprintf(path, sizeof(path), "%s.hook", base);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		last = strtoll(buf, NULL, 10);
	}
	wait = last + LJ_DHCP_MIN_EVENT_INTERVAL_MS - now;
	if (last > 0 && wait > 0) {
		if (wait > LJ_DHCP_MIN_EVENT_INTERVAL_MS)
			wait = LJ_DHCP_MIN_EVENT_INTERVAL_MS;
		/* SIGTERM (the supervisor stopping the client's process group) ends it. */
		nanosleep(&(struct timespec){.tv_sec = wait / 1000,
					     .tv_nsec = (wait % 1000) * 1000000L},
			  NULL);
		now = boottime_ms();
	}
	n = snprintf(buf, sizeof(buf), "%" PRId64 "\n", now);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) != n)
		return;
}

/*
 * Is ip an address of the host, i.e. of the network namespace lanjoin's supervisor runs in
 * (BASE.supervisor, checked against the process's start time)? False when that cannot be
 * told (the ARP probe still covers the host's addresses on a bridge).
 */
static bool host_address(const char *base, const struct lj_ip *ip)
{
	struct lj_addr_info *v = NULL;
	struct lj_nl *nl = NULL;
	_cleanup_close_ int fd = -1;
	char path[64];
	uint64_t start, now;
	bool found = false;
	size_t n = 0;
	pid_t pid;

	if (lj_dhcp_read_supervisor_file(base, &pid, &start) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Checked after the open: the namespace is the supervisor's, not a PID reuser's. */
	if (fd < 0 || lj_proc_start_time(pid, &now) < 0 || now != start)
		return false;
	if (lj_nl_open(fd, &nl) < 0)
		return false;
	if (lj_addr_dump(nl, ip->family, 0, &v, &n) == 0)
		for (size_t i = 0; i < n && !found; i++)
			found = lj_ip_equal(&v[i].cidr.ip, ip);
	free(v);
	lj_nl_close(nl);
	return found;
}

enum hook_action { HOOK_IGNORE, HOOK_BOUND, HOOK_DECONFIG, HOOK_FAIL };

static enum hook_action hook_action(enum lj_dhcp_kind k, const char *ev)
{
	static const char *const bound[] = {"bound",  "renew",	"BOUND",  "RENEW", "REBIND",
					    "REBOOT", "INFORM", "STATIC", NULL};
	static const char *const deconfig[] = {"deconfig", "EXPIRE",  "RELEASE",  "STOP",
					       "NAK",	   "STOPPED", "DEPARTED", "NOCARRIER",
					       "EXPIRE6",  NULL};
	static const char *const fail[] = {"leasefail", "nak", "FAIL", "TIMEOUT", NULL};

	if (!ev)
		return HOOK_IGNORE;
	for (size_t i = 0; bound[i]; i++)
		if (strcmp(ev, bound[i]) == 0)
			return HOOK_BOUND;
	for (size_t i = 0; deconfig[i]; i++)
		if (strcmp(ev, deconfig[i]) == 0)
			return HOOK_DECONFIG;
	for (size_t i = 0; fail[i]; i++)
		if (strcmp(ev, fail[i]) == 0)
			return HOOK_FAIL;
	return HOOK_IGNORE;
}

/* How long the hook waits for the kernel's DAD of a leased IPv6 address. */
#define DAD_WAIT_MS 5000

/*
 * Wait until ip on ifindex is past DAD: 0, -EADDRINUSE (DAD failed), -EADDRNOTAVAIL (it went),
 * -ETIMEDOUT. Polls every 50 ms (the hook is a short-lived process of its own).
 */
static int wait_dad(struct lj_nl *nl, int ifindex, const struct lj_ip *ip)
{
	for (int waited = 0;; waited += 50) {
		struct lj_addr_info *v = NULL;
		size_t n = 0;
		int r = -EADDRNOTAVAIL;

		if (lj_addr_dump(nl, AF_INET6, ifindex, &v, &n) < 0)
			return -EIO;
		for (size_t i = 0; i < n; i++) {
			if (!lj_ip_equal(&v[i].cidr.ip, ip))
				continue;
			if (v[i].flags & IFA_F_DADFAILED)
				r = -EADDRINUSE;
			else if (v[i].flags & IFA_F_TENTATIVE)
				r = -EINPROGRESS;
			else
				r = 0;
		}
		free(v);
		if (r != -EINPROGRESS)
			return r;
		if (waited >= DAD_WAIT_MS)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000L}, NULL);
	}
}

/*
 * The DHCPv6 hook (LANJOIN_DHCP_FAMILY=6, dhcpcd -6): BOUND6, RENEW6, REBIND6, REBOOT6 apply the
 * lease's address as a /128 once past DAD; EXPIRE6, RELEASE6, STOP6 remove the old one. Only
 * IPv6 is touched; routes come from router advertisements.
 */
static int hook6(struct lj_nl *nl, const struct lj_link *link, const char *ev, char *why,
		 size_t why_size)
{
	static const char *const bound[] = {"BOUND6", "RENEW6", "REBIND6", "REBOOT6", NULL};
	static const char *const gone[] = {"EXPIRE6", "RELEASE6", "STOP6", NULL};
	char msg[1024], buf[LJ_CIDR_STRLEN], base[PATH_MAX];
	struct lj_dhcp_lease l;
	bool is_bound = false, is_gone = false;
	int r;

	for (size_t i = 0; ev && bound[i]; i++)
		is_bound |= strcmp(ev, bound[i]) == 0;
	for (size_t i = 0; ev && gone[i]; i++)
		is_gone |= strcmp(ev, gone[i]) == 0;
	if (is_gone) {
		struct lj_ip old;
		const char *o = env("old_dhcp6_ia_na1_ia_addr1");

		if (o && lj_parse_ip(o, &old) == 0 && old.family == AF_INET6)
			remove_address(nl, link->ifindex, &old);
		return 0;
	}
	if (!is_bound)
		return 0;
	if (hook_base(base, sizeof(base)))
		throttle(base);
	else
		base[0] = '\0';
	r = lj_dhcp6_lease_from_env(process_env, NULL, &l, why, why_size);
	if (r == 0 && base[0] && host_address(base, &l.addr.ip)) {
		snprintf(why, why_size, "the server offered %s, which is the host's own address",
			 lj_ip_to_string(&l.addr.ip, buf, sizeof(buf)));
		r = -EADDRINUSE;
	}
	if (r == 0) {
		r = link_has(nl, link->ifindex, &l.addr.ip);
		if (r == 0) {
			/* Without IFA_F_NODAD: the kernel's DAD asks the link first. */
			r = lj_addr_add(nl, link->ifindex, &l.addr, 0);
			if (r == -EEXIST)
				r = 0;
		} else if (r > 0)
			r = 0;
		if (r < 0)
			snprintf(why, why_size, "configure %s on '%s': %s",
				 lj_cidr_to_string(&l.addr, buf, sizeof(buf)), link->name,
				 strerror(-r));
	}
	if (r == 0) {
		r = wait_dad(nl, link->ifindex, &l.addr.ip);
		if (r == -EADDRINUSE)
			snprintf(why, why_size,
				 "the server offered %s, which is already in use on the LAN "
				 "(duplicate address detection failed)",
				 lj_ip_to_string(&l.addr.ip, buf, sizeof(buf)));
		else if (r < 0)
			snprintf(why, why_size, "%s did not pass duplicate address detection: %s",
				 lj_ip_to_string(&l.addr.ip, buf, sizeof(buf)), strerror(-r));
	}
	if (r < 0) {
		struct lj_ip bad;
		const char *ip = env("new_dhcp6_ia_na1_ia_addr1");

		/* Never left configured (dhcpcd added it before running the hook). */
		if (ip && lj_parse_ip(ip, &bad) == 0 && bad.family == AF_INET6)
			remove_address(nl, link->ifindex, &bad);
		snprintf(msg, sizeof(msg), "fail\n%s: refused", why);
		notify(msg);
		return r;
	}
	lj_ndisc_announce(-1, link->ifindex, &l.addr.ip.v6);
	snprintf(msg, sizeof(msg), "bound\n");
	lj_dhcp_lease_msg_format(&l, msg + 6, sizeof(msg) - 6);
	notify(msg);
	return 0;
}

/*
 * A client that only holds a lease (lj_dhcp_start_opts.hold): the link's address is its
 * engine's, so nothing here changes the link. A lease is reported bound if the link holds its
 * address, else as a failure (the server moved the address); deconfig events are ignored.
 */
static int hold(struct lj_nl *nl, const struct lj_link *link, enum lj_dhcp_kind k, const char *ev,
		char *why, size_t why_size)
{
	char msg[1024], buf[LJ_CIDR_STRLEN];
	struct lj_dhcp_lease l;
	int r;

	if (hook_action(k, ev) != HOOK_BOUND)
		return 0;
	r = lj_dhcp_lease_from_env(k, process_env, NULL, &l, why, why_size);
	if (r == 0 && link_has(nl, link->ifindex, &l.addr.ip) <= 0) {
		snprintf(why, why_size, "the server leased %s, which '%s' does not hold",
			 lj_ip_to_string(&l.addr.ip, buf, sizeof(buf)), link->name);
		r = -EADDRNOTAVAIL;
	}
	if (r < 0) {
		snprintf(msg, sizeof(msg), "fail\n%s", why);
		notify(msg);
		return r;
	}
	snprintf(msg, sizeof(msg), "bound\n");
	lj_dhcp_lease_msg_format(&l, msg + 6, sizeof(msg) - 6);
	notify(msg);
	return 0;
}

int lj_dhcp_hook(const char *arg, char *why, size_t why_size)
{
	const char *ifname = env("LANJOIN_DHCP_IFNAME"), *ev, *iface;
	enum lj_dhcp_kind k;
	struct lj_dhcp_lease l;
	struct lj_nl *nl = NULL;
	struct lj_link link;
	char msg[1024], buf[LJ_CIDR_STRLEN], base[PATH_MAX];
	int r;

	why[0] = '\0';
	if (lj_dhcp_kind_parse(env("LANJOIN_DHCP_HOOK"), &k) < 0 || !ifname ||
	    !lj_ifname_valid(ifname)) {
		snprintf(why, why_size, "bad hook environment");
		return -EINVAL;
	}
	ev = k == LJ_DHCP_UDHCPC ? arg : env("reason");
	iface = env("interface");
	/* Only ever the interface lanjoin started the client for. */
	if (iface && strcmp(iface, ifname) != 0) {
		snprintf(why, why_size, "event for '%s', not '%s': ignored", iface, ifname);
		return 0;
	}
	if (env("LANJOIN_DHCP_FAMILY") && strcmp(env("LANJOIN_DHCP_FAMILY"), "6") == 0) {
		if (!ev || strlen(ev) < 2 || strcmp(ev + strlen(ev) - 1, "6") != 0)
			return 0; /* not a DHCPv6 event */
		r = lj_nl_open(-1, &nl);
		if (r < 0) {
			snprintf(why, why_size, "netlink: %s", strerror(-r));
			return r;
		}
		r = lj_link_get(nl, ifname, &link);
		if (r < 0)
			snprintf(why, why_size, "interface '%s': %s", ifname, strerror(-r));
		else
			r = hook6(nl, &link, ev, why, why_size);
		lj_nl_close(nl);
		return r;
	}
	switch (hook_action(k, ev)) {
	case HOOK_IGNORE:
		return 0;
	case HOOK_FAIL:
		snprintf(msg, sizeof(msg), "fail\nthe DHCP client reported '%s'", ev);
		notify(msg);
		return 0;
	default:
		break;
	}
	r = lj_nl_open(-1, &nl);
	if (r < 0) {
		snprintf(why, why_size, "netlink: %s", strerror(-r));
		return r;
	}
	r = lj_link_get(nl, ifname, &link);
	if (r < 0) {
		snprintf(why, why_size, "interface '%s': %s", ifname, strerror(-r));
		goto out;
	}
	if (env("LANJOIN_DHCP_HOLD")) {
		r = hold(nl, &link, k, ev, why, why_size);
		goto out;
	}
	if (hook_action(k, ev) == HOOK_DECONFIG) {
		r = deconfigure(nl, link.ifindex, NULL);
		if (r < 0)
			snprintf(why, why_size, "deconfigure '%s': %s", ifname, strerror(-r));
		goto out;
	}
	/* A lease the hook refuses or finds in use is never configured, and the hook exits 1:
	 * dhclient then sends DHCPDECLINE and starts over. udhcpc (-a) and dhcpcd have probed
	 * and declined conflicts themselves; they ignore the hook's status, and what the hook
	 * refuses (dhcpcd has added it already: removed here) leaves them bound to nothing. */
	if (hook_base(base, sizeof(base)))
		throttle(base);
	else
		base[0] = '\0';
	r = lj_dhcp_lease_from_env(k, process_env, NULL, &l, why, why_size);
	if (r == 0 && base[0] && host_address(base, &l.addr.ip)) {
		snprintf(why, why_size, "the server offered %s, which is the host's own address",
			 lj_ip_to_string(&l.addr.ip, buf, sizeof(buf)));
		r = -EADDRINUSE;
	}
	if (r == 0 && link_has(nl, link.ifindex, &l.addr.ip) <= 0) {
		uint8_t mac[LJ_MAC_LEN];
		char m[LJ_MAC_STRLEN];

		/* RFC 5227, as for a static address: probe before taking it. */
		r = lj_arp_probe(-1, link.ifindex, &l.addr.ip.v4, LJ_ARP_PROBE_NUM,
				 LJ_ARP_PROBE_INTERVAL_MS, LJ_ARP_PROBE_WAIT_MS, mac);
		if (r == -EADDRINUSE)
			snprintf(why, why_size,
				 "the server offered %s, which is already in use on "
				 "the LAN by %s",
				 lj_ip_to_string(&l.addr.ip, buf, sizeof(buf)),
				 lj_mac_to_string(mac, m, sizeof(m)));
		else if (r < 0) {
			/* Not a conflict: the lease is taken as before there was a probe; the
			 * reason goes to the client's log. */
			snprintf(why, why_size,
				 "ARP probe of %s from '%s' failed (%s): taken "
				 "unchecked",
				 lj_ip_to_string(&l.addr.ip, buf, sizeof(buf)), ifname,
				 strerror(-r));
			r = 0;
		}
	}
	if (r < 0) {
		struct lj_ip bad;
		const char *ip = env(k == LJ_DHCP_UDHCPC ? "ip" : "new_ip_address");

		/* dhcpcd added it before running the hook: take it away again. */
		if (ip && lj_parse_ip(ip, &bad) == 0 && bad.family == AF_INET)
			remove_address(nl, link.ifindex, &bad);
		snprintf(msg, sizeof(msg), "fail\n%s: refused%s", why,
			 k == LJ_DHCP_DHCLIENT ? " (declined)" : "");
		notify(msg);
		goto out;
	}
	r = apply_lease(nl, link.ifindex, ifname, &l, env("LANJOIN_DHCP_NO_DEFAULT") != NULL);
	if (r < 0) {
		snprintf(why, why_size, "configure %s on '%s': %s%s%s",
			 lj_cidr_to_string(&l.addr, buf, sizeof(buf)), ifname, strerror(-r),
			 *lj_nl_extack(nl) ? ": " : "", lj_nl_extack(nl));
		snprintf(msg, sizeof(msg), "fail\n%s", why);
		notify(msg);
		goto out;
	}
	snprintf(msg, sizeof(msg), "bound\n");
	lj_dhcp_lease_msg_format(&l, msg + 6, sizeof(msg) - 6);
	notify(msg);
out:
	lj_nl_close(nl);
	return r;
}
