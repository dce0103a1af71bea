/* SPDX-License-Identifier: MIT */
/* The floor's requests (see floor-ops.h). */
#include "floor-ops.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef MACVLAN_MODE_BRIDGE
#define MACVLAN_MODE_BRIDGE 4
#endif

int floor_open(struct floor_nl *f)
{
	f->what = "netlink socket";
	f->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!f->nl)
		return -errno;
	if (mnl_socket_bind(f->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;
		mnl_socket_close(f->nl);
		f->nl = NULL;
		return r;
	}
	f->portid = mnl_socket_get_portid(f->nl);
	f->seq = (unsigned)time(NULL);
	return 0;
}

void floor_close(struct floor_nl *f)
{
	if (f->nl)
		mnl_socket_close(f->nl);
	f->nl = NULL;
}

struct nlmsghdr *floor_msg(struct floor_nl *f, uint16_t type, uint16_t flags, size_t extra)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(f->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++f->seq;
	memset(mnl_nlmsg_put_extra_header(nlh, extra), 0, extra);
	return nlh;
}

/* Send and wait for the acknowledgement. */
int floor_transact(struct floor_nl *f, struct nlmsghdr *nlh, const char *what)
{
	unsigned s = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	f->what = what;
	if (mnl_socket_sendto(f->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(f->nl, f->buf, sizeof(f->buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(f->buf, (size_t)n, s, f->portid, NULL, NULL);
	} while (r > 0);
	return r < 0 ? -errno : 0;
}

static int ifindex(const char *name, unsigned *ret)
{
	unsigned i = if_nametoindex(name);

	if (!i)
		return -errno;
	*ret = i;
	return 0;
}

int floor_link_up(struct floor_nl *f, const char *name, int no_ipv6)
{
	struct nlmsghdr *nlh = floor_msg(f, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (no_ipv6) {
		/* Refused in the creating request (Linux 6.18); applied before the link's
		 * NETDEV_UP. */
		struct nlattr *af = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
		struct nlattr *in6 = mnl_attr_nest_start(nlh, AF_INET6);
		mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
		mnl_attr_nest_end(nlh, in6);
		mnl_attr_nest_end(nlh, af);
	}
	return floor_transact(f, nlh, "set link up");
}

/* Address cidr on link idx. */
static int address_only(struct floor_nl *f, unsigned idx, const char *cidr)
{
	char a[INET_ADDRSTRLEN];
	struct in_addr ip;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	unsigned plen;
	const char *slash = strchr(cidr, '/');

	f->what = "address";
	if (!slash || (size_t)(slash - cidr) >= sizeof(a))
		return -EINVAL;
	memcpy(a, cidr, (size_t)(slash - cidr));
	a[slash - cidr] = '\0';
	plen = (unsigned)atoi(slash + 1);
	if (inet_pton(AF_INET, a, &ip) != 1 || plen > 32)
		return -EINVAL;

	nlh = floor_msg(f, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_index = idx;
	mnl_attr_put(nlh, IFA_LOCAL, 4, &ip);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, &ip);
	return floor_transact(f, nlh, "add address");
}

/* A default route via gw (onlink: without a route to gw) on link idx. */
static int default_route(struct floor_nl *f, unsigned idx, const char *gw, int onlink)
{
	struct in_addr via;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	f->what = "default route";
	if (inet_pton(AF_INET, gw, &via) != 1)
		return -EINVAL;
	nlh = floor_msg(f, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rtm));
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	if (onlink)
		rtm->rtm_flags = RTNH_F_ONLINK;
	mnl_attr_put(nlh, RTA_GATEWAY, 4, &via);
	mnl_attr_put_u32(nlh, RTA_OIF, idx);
	return floor_transact(f, nlh, "add default route");
}

/* Address cidr and a default route via gw (onlink: without a route to gw) on link idx. */
static int address_route(struct floor_nl *f, unsigned idx, const char *cidr, const char *gw,
			 int onlink)
{
	int r = address_only(f, idx, cidr);

	return r < 0 ? r : default_route(f, idx, gw, onlink);
}

int floor_addressing(struct floor_nl *f, const char *name, const char *cidr, const char *gw,
		     int onlink)
{
	unsigned idx = 0;
	int r;

	r = floor_link_up(f, name, 0);
	if (r < 0)
		return r;
	f->what = "find the link";
	r = ifindex(name, &idx);
	return r < 0 ? r : address_route(f, idx, cidr, gw, onlink);
}

/* Go back to home (>= 0; -1: stay), keeping r (the first error). */
static int leave(struct floor_nl *f, int home, int r)
{
	if (home >= 0 && setns(home, CLONE_NEWNET) < 0) {
		if (r == 0)
			f->what = "setns back";
		return r ? r : -errno;
	}
	return r;
}

/* What a request made inside a namespace needs (see in_ns). */
struct in_req {
	const char *ifname, *cidr, *gw;
	unsigned idx; /* a link's index, kept when it changes namespace */
	int home;
	struct floor_nl *host; /* floor_*_announce: the host's socket, */
	const char *hostif;    /* the veth's host end (NULL: a macvlan) */
	const uint8_t *mac;    /* and the container end's MAC */
};

/*
 * Run fn(t, q) with t a socket opened in nsfd's namespace, entered (with q->home >= 0, left
 * again at the end, as a running process must; -1: stay). host (may be NULL)->what says what
 * failed.
 */
static int in_ns(struct floor_nl *host, int nsfd,
		 int (*fn)(struct floor_nl *t, const struct in_req *q), const struct in_req *q)
{
	struct floor_nl *t = malloc(sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->nl = NULL;
	t->what = "setns";
	r = setns(nsfd, CLONE_NEWNET) < 0 ? -errno : 0;
	if (r == 0) {
		r = floor_open(t);
		if (r == 0)
			r = fn(t, q);
		r = leave(t, q->home, r);
	}
	if (host)
		host->what = t->what;
	floor_close(t);
	free(t);
	return r;
}

static int do_addressing(struct floor_nl *t, const struct in_req *q)
{
	return floor_addressing(t, q->ifname, q->cidr, q->gw, 0);
}

/* In nsfd's namespace: ifname up, cidr, default via gw. */
static int addressing_in(struct floor_nl *host, int nsfd, int home, const char *ifname,
			 const char *cidr, const char *gw)
{
	struct in_req q = {.ifname = ifname, .cidr = cidr, .gw = gw, .home = home};

	return in_ns(host, nsfd, do_addressing, &q);
}

/* RTM_NEWLINK on name setting its IPv4 arp_notify, as net.ipv4.conf.NAME.arp_notify=1. */
static int arp_notify_on(struct floor_nl *f, const char *name)
{
	struct nlmsghdr *nlh = floor_msg(f, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	struct nlattr *af, *in, *conf;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	af = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	in = mnl_attr_nest_start(nlh, AF_INET);
	conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
	mnl_attr_put_u32(nlh, IPV4_DEVCONF_ARP_NOTIFY, 1);
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, in);
	mnl_attr_nest_end(nlh, af);
	return floor_transact(f, nlh, "set arp_notify");
}

/*
 * The work of do_addressing and one gratuitous ARP that reaches the LAN, made by the kernel
 * with the fewest requests. A macvlan: arp_notify and the address before the link comes up
 * (the kernel announces as it does). Through a veth: the floor's addressing, then arp_notify,
 * an RTM_GETLINK of the host end (which syncs the pending carrier change: the bridge port
 * forwards) and the container end's MAC set again (the kernel announces): an announcement as
 * the link comes up may reach the bridge before its port forwards.
 */
static int do_announced_addressing(struct floor_nl *t, const struct in_req *q)
{
	struct nlmsghdr *nlh;
	unsigned idx = 0;
	int r;

	if (q->hostif) {
		r = floor_addressing(t, q->ifname, q->cidr, q->gw, 0);
		if (r == 0)
			r = arp_notify_on(t, q->ifname);
		if (r < 0)
			return r;
		nlh = floor_msg(q->host, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
		mnl_attr_put_strz(nlh, IFLA_IFNAME, q->hostif);
		r = floor_transact(q->host, nlh, "get the host end");
		if (r < 0) {
			t->what = q->host->what;
			return r;
		}
		nlh = floor_msg(t, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
		mnl_attr_put_strz(nlh, IFLA_IFNAME, q->ifname);
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, q->mac);
		return floor_transact(t, nlh, "set the MAC again (announce)");
	}
	r = arp_notify_on(t, q->ifname);
	if (r == 0) {
		t->what = "find the link";
		r = ifindex(q->ifname, &idx);
	}
	if (r == 0)
		r = address_only(t, idx, q->cidr);
	if (r == 0)
		r = floor_link_up(t, q->ifname, 0);
	return r < 0 ? r : default_route(t, idx, q->gw, 0);
}

/* An RTM_NEWLINK request that creates ifname, and the index of link ref (the bridge or the
 * parent) in *ret_ref; NULL with *ret_err if there is no ref. */
static struct nlmsghdr *create_msg(struct floor_nl *f, const char *ref, const char *ifname,
				   unsigned *ret_ref, int *ret_err)
{
	struct nlmsghdr *nlh;

	f->what = ref;
	*ret_err = ifindex(ref, ret_ref);
	if (*ret_err < 0)
		return NULL;
	nlh = floor_msg(f, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nlh;
}

/* floor_veth_pair; mac (may be NULL): the MAC of ifname (LJ_MAC_LEN bytes). */
static int veth_pair(struct floor_nl *host, int nsfd, const char *hostif, const char *ifname,
		     const char *bridge, const uint8_t *mac)
{
	struct nlattr *li, *data, *peer;
	struct ifinfomsg *pifi;
	struct nlmsghdr *nlh;
	unsigned br = 0;
	int r = 0;

	if (bridge) {
		nlh = create_msg(host, bridge, hostif, &br, &r);
		if (!nlh)
			return r;
		mnl_attr_put_u32(nlh, IFLA_MASTER, br);
	} else {
		nlh = floor_msg(host, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
				sizeof(struct ifinfomsg));
		mnl_attr_put_strz(nlh, IFLA_IFNAME, hostif);
	}
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	memset(pifi, 0, sizeof(*pifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	if (nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	r = floor_transact(host, nlh, "create veth pair");
	return r < 0 ? r : floor_link_up(host, hostif, 1);
}

int floor_veth_pair(struct floor_nl *host, int nsfd, const char *hostif, const char *ifname,
		    const char *bridge)
{
	return veth_pair(host, nsfd, hostif, ifname, bridge, NULL);
}

int floor_veth(struct floor_nl *host, int nsfd, int home, const char *hostif, const char *ifname,
	       const char *bridge, const char *cidr, const char *gw)
{
	int r = floor_veth_pair(host, nsfd, hostif, ifname, bridge);

	return r < 0 ? r : addressing_in(host, nsfd, home, ifname, cidr, gw);
}

/* The macvlan (mode bridge) ifname of parent, in nsfd's namespace (-1: here). */
static int macvlan(struct floor_nl *host, int nsfd, const char *parent, const char *ifname)
{
	struct nlattr *li, *data;
	struct nlmsghdr *nlh;
	unsigned link = 0;
	int r;

	nlh = create_msg(host, parent, ifname, &link, &r);
	if (!nlh)
		return r;
	mnl_attr_put_u32(nlh, IFLA_LINK, link);
	if (nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return floor_transact(host, nlh, "create macvlan");
}

int floor_macvlan(struct floor_nl *host, int nsfd, int home, const char *parent, const char *ifname,
		  const char *cidr, const char *gw)
{
	int r = macvlan(host, nsfd, parent, ifname);

	return r < 0 ? r : addressing_in(host, nsfd, home, ifname, cidr, gw);
}

int floor_veth_announce(struct floor_nl *host, int nsfd, int home, const char *hostif,
			const char *ifname, const char *bridge, const char *cidr, const char *gw)
{
	/* a locally administered MAC of the host end's name (FNV-1a), given at creation: the
	 * floor knows it without asking */
	uint8_t mac[6] = {0x02, 0xfa};
	uint32_t h = 2166136261u;
	struct in_req q = {.ifname = ifname,
			   .cidr = cidr,
			   .gw = gw,
			   .home = home,
			   .host = host,
			   .hostif = hostif,
			   .mac = mac};
	int r;

	for (const char *c = hostif; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	memcpy(mac + 2, &h, 4);
	r = veth_pair(host, nsfd, hostif, ifname, bridge, mac);
	return r < 0 ? r : in_ns(host, nsfd, do_announced_addressing, &q);
}

int floor_macvlan_announce(struct floor_nl *host, int nsfd, int home, const char *parent,
			   const char *ifname, const char *cidr, const char *gw)
{
	struct in_req q = {.ifname = ifname, .cidr = cidr, .gw = gw, .home = home, .host = host};
	int r = macvlan(host, nsfd, parent, ifname);

	return r < 0 ? r : in_ns(host, nsfd, do_announced_addressing, &q);
}

int floor_handoff(struct floor_nl *host, const char *bridge, const char *hostif, const char *parent,
		  const char *name)
{
	return bridge ? floor_veth_pair(host, -1, hostif, name, bridge)
		      : macvlan(host, -1, parent, name);
}

int floor_del(struct floor_nl *f, const char *name)
{
	struct nlmsghdr *nlh = floor_msg(f, RTM_DELLINK, 0, sizeof(struct ifinfomsg));

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return floor_transact(f, nlh, "delete link");
}

static int do_del(struct floor_nl *t, const struct in_req *q)
{
	return floor_del(t, q->ifname);
}

int floor_del_in(int nsfd, int home, const char *name)
{
	struct in_req q = {.ifname = name, .home = home};

	return in_ns(NULL, nsfd, do_del, &q);
}

int floor_del_group(struct floor_nl *f, int n, char **names)
{
	/* A group number nobody else uses: lanjoin's library uses its own range. */
	uint32_t group = 0x6c6a6200u | ((uint32_t)getpid() & 0xff);
	struct nlmsghdr *nlh;
	int r;

	for (int i = 0; i < n; i++) {
		nlh = floor_msg(f, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
		mnl_attr_put_strz(nlh, IFLA_IFNAME, names[i]);
		mnl_attr_put_u32(nlh, IFLA_GROUP, group);
		r = floor_transact(f, nlh, "set link group");
		if (r < 0)
			return r;
	}
	nlh = floor_msg(f, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	return floor_transact(f, nlh, "delete link group");
}

/* RTM_NEWLINK for link idx: flags (IFF_UP or 0), a new name (or NULL), into namespace nsfd
 * (or -1). */
static int set_link(struct floor_nl *f, unsigned idx, unsigned flags, const char *name, int nsfd,
		    const char *what)
{
	struct nlmsghdr *nlh = floor_msg(f, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_index = (int)idx;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = flags;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	return floor_transact(f, nlh, what);
}

static int do_take_in(struct floor_nl *t, const struct in_req *q)
{
	int r = set_link(t, q->idx, IFF_UP, q->ifname, -1, "rename the link, up");

	return r < 0 ? r : address_route(t, q->idx, q->cidr, q->gw, 0);
}

int floor_take_in(struct floor_nl *host, int nsfd, int home, const char *name, const char *ifname,
		  const char *cidr, const char *gw, unsigned *ret_ifindex)
{
	struct in_req q = {.ifname = ifname, .cidr = cidr, .gw = gw, .home = home};
	int r;

	host->what = name;
	r = ifindex(name, &q.idx);
	if (r == 0)
		r = set_link(host, q.idx, 0, NULL, nsfd, "move the link into the namespace");
	/* A link keeps its index when it moves (unless the namespace has one of that index). */
	if (r == 0)
		r = in_ns(host, nsfd, do_take_in, &q);
	if (r == 0)
		*ret_ifindex = q.idx;
	return r;
}

static int do_take_back(struct floor_nl *t, const struct in_req *q)
{
	int r = set_link(t, q->idx, 0, NULL, -1, "link down");

	/* Renamed while down (else -EBUSY), moved as a request of its own: as Docker
	 * (libnetwork's osl) does. */
	if (r == 0)
		r = set_link(t, q->idx, 0, q->ifname, -1, "link's name back");
	return r < 0 ? r : set_link(t, q->idx, 0, NULL, q->home, "move the link back");
}

int floor_take_back(int nsfd, int home, unsigned ifindex, const char *name)
{
	struct in_req q = {.ifname = name, .idx = ifindex, .home = home};

	return in_ns(NULL, nsfd, do_take_back, &q);
}
