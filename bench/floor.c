/* SPDX-License-Identifier: MIT */
/*
 * lj-bench-floor: the benchmark's floor. The fewest rtnetlink requests that do the work of
 * one attach or detach, from a fresh process, with no state, no checks and no rollback; a
 * lanjoin call cannot be cheaper than this. Bench-only (not installed), and on purpose
 * independent of lanjoin's library: it talks to libmnl directly.
 *
 *   lj-bench-floor veth NETNS_PATH HOSTIF IFNAME BRIDGE CIDR GATEWAY
 *       veth pair HOSTIF/IFNAME, IFNAME created in the namespace; HOSTIF a port of BRIDGE,
 *       up, IPv6 address generation off; in the namespace: IFNAME up, CIDR, default via GATEWAY
 *   lj-bench-floor macvlan NETNS_PATH PARENT IFNAME CIDR GATEWAY
 *       macvlan (mode bridge) of PARENT created in the namespace as IFNAME; up, CIDR, default
 *   lj-bench-floor del LINK                       delete LINK (in our namespace)
 *   lj-bench-floor del-in NETNS_PATH LINK         delete LINK inside the namespace
 *   lj-bench-floor del-group LINK...              delete many links behind one request:
 *       move them into a fresh link group, then one RTM_DELLINK for the group
 *
 * The ovs, nat and routed ways (bench/floor-ways.c):
 *   lj-bench-floor ovs DB NETNS_PATH HOSTIF IFNAME BRIDGE CIDR GATEWAY
 *   lj-bench-floor ovs-del DB HOSTIF
 *   lj-bench-floor nat NETNS_PATH UPLINK LAN_CIDR HOSTIF IFNAME PRIVATE_HOST PRIVATE_PEER TABLE
 *   lj-bench-floor nat-del UPLINK LAN_CIDR HOSTIF PRIVATE_PEER TABLE
 *   lj-bench-floor routed NETNS_PATH PARENT HOSTIF IFNAME ADDRESS
 *   lj-bench-floor routed-del PARENT HOSTIF ADDRESS
 *
 * IPv4 only (the bench's addresses). Exit 0 on success, 1 with a message on failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#ifndef MACVLAN_MODE_BRIDGE
#define MACVLAN_MODE_BRIDGE 4
#endif

static char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
static struct mnl_socket *nl;
static unsigned portid, seq;

void die(const char *what, int err)
{
	fprintf(stderr, "lj-bench-floor: %s: %s\n", what, strerror(err));
	exit(1);
}

void nl_open(void)
{
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink socket", errno);
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned)time(NULL);
}

struct nlmsghdr *msg(uint16_t type, uint16_t flags, size_t extra)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++seq;
	memset(mnl_nlmsg_put_extra_header(nlh, extra), 0, extra);
	return nlh;
}

/* Send and wait for the acknowledgement. */
void transact(struct nlmsghdr *nlh, const char *what)
{
	unsigned s = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die(what, errno);
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			die(what, errno);
		r = mnl_cb_run(buf, (size_t)n, s, portid, NULL, NULL);
	} while (r > 0);
	if (r < 0)
		die(what, errno);
}

int open_ns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die(path, errno);
	return fd;
}

/* Enter the namespace and reopen the netlink socket there. */
void enter(int nsfd)
{
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns", errno);
	mnl_socket_close(nl);
	nl_open();
}

unsigned ifindex(const char *name)
{
	unsigned i = if_nametoindex(name);

	if (!i)
		die(name, errno);
	return i;
}

void link_up(const char *name, int no_ipv6)
{
	struct nlmsghdr *nlh = msg(RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
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
	transact(nlh, "set link up");
}

void addressing(const char *name, const char *cidr, const char *gw, int onlink)
{
	char a[INET_ADDRSTRLEN];
	struct in_addr ip, via;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct rtmsg *rtm;
	unsigned idx, plen;
	const char *slash = strchr(cidr, '/');

	if (!slash || (size_t)(slash - cidr) >= sizeof(a))
		die("CIDR", EINVAL);
	memcpy(a, cidr, (size_t)(slash - cidr));
	a[slash - cidr] = '\0';
	plen = (unsigned)atoi(slash + 1);
	if (inet_pton(AF_INET, a, &ip) != 1 || inet_pton(AF_INET, gw, &via) != 1 || plen > 32)
		die("address", EINVAL);

	link_up(name, 0);
	idx = ifindex(name);

	nlh = msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_index = idx;
	mnl_attr_put(nlh, IFA_LOCAL, 4, &ip);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, &ip);
	transact(nlh, "add address");

	nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rtm));
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
	transact(nlh, "add default route");
}

void veth(int nsfd, const char *host, const char *peer_name, const char *master)
{
	struct nlattr *li, *data, *peer;
	struct ifinfomsg *pifi;
	struct nlmsghdr *nlh;

	nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	if (master)
		mnl_attr_put_u32(nlh, IFLA_MASTER, ifindex(master));
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	memset(pifi, 0, sizeof(*pifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	transact(nlh, "create veth pair");
	link_up(host, 1);
}

static void cmd_veth(char **a)
{
	int nsfd = open_ns(a[0]);

	nl_open();
	veth(nsfd, a[1], a[2], a[3]);
	enter(nsfd);
	addressing(a[2], a[4], a[5], 0);
}

static void cmd_macvlan(char **a)
{
	int nsfd = open_ns(a[0]);
	struct nlattr *li, *data;
	struct nlmsghdr *nlh;

	nl_open();
	nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, a[2]);
	mnl_attr_put_u32(nlh, IFLA_LINK, ifindex(a[1]));
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	transact(nlh, "create macvlan");

	enter(nsfd);
	addressing(a[2], a[3], a[4], 0);
}

void del(const char *name)
{
	struct nlmsghdr *nlh = msg(RTM_DELLINK, 0, sizeof(struct ifinfomsg));

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	transact(nlh, "delete link");
}

static void cmd_del_group(int n, char **names)
{
	/* A group number nobody else uses: lanjoin's library uses its own range. */
	uint32_t group = 0x6c6a6200u | ((uint32_t)getpid() & 0xff);
	struct nlmsghdr *nlh;

	for (int i = 0; i < n; i++) {
		nlh = msg(RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
		mnl_attr_put_strz(nlh, IFLA_IFNAME, names[i]);
		mnl_attr_put_u32(nlh, IFLA_GROUP, group);
		transact(nlh, "set link group");
	}
	nlh = msg(RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	transact(nlh, "delete link group");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "veth") == 0 && argc == 8) {
		cmd_veth(argv + 2);
	} else if (strcmp(cmd, "macvlan") == 0 && argc == 7) {
		cmd_macvlan(argv + 2);
	} else if (strcmp(cmd, "del") == 0 && argc == 3) {
		nl_open();
		del(argv[2]);
	} else if (strcmp(cmd, "del-in") == 0 && argc == 4) {
		int nsfd = open_ns(argv[2]);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			die("setns", errno);
		nl_open();
		del(argv[3]);
	} else if (strcmp(cmd, "del-group") == 0 && argc >= 3) {
		nl_open();
		cmd_del_group(argc - 2, argv + 2);
	} else if (floor_way(argc - 1, argv + 1) == 0) {
		/* the ovs, nat and routed ways (floor-ways.c) */
	} else {
		fprintf(stderr,
			"usage: lj-bench-floor veth NETNS HOSTIF IFNAME BRIDGE CIDR GW\n"
			"       lj-bench-floor macvlan NETNS PARENT IFNAME CIDR GW\n"
			"       lj-bench-floor del LINK | del-in NETNS LINK | del-group LINK...\n"
			"       lj-bench-floor ovs|ovs-del|nat|nat-del|routed|routed-del ARGS "
			"(see floor.c)\n");
		return 2;
	}
	return 0;
}
