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
 *   lj-bench-floor veth-announce ARGS, macvlan-announce ARGS
 *       the same, and one gratuitous ARP of CIDR that reaches the LAN, made by the kernel
 *       (arp_notify; through the veth once the bridge port forwards): the floor of the work
 *       and of the announcement lanjoin makes
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
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floor-ops.h"
#include "floor.h"

/* The process's one socket: in its namespace, or in the one enter() went into. */
static struct floor_nl nl;

void die(const char *what, int err)
{
	fprintf(stderr, "lj-bench-floor: %s: %s\n", what ? what : "?", strerror(err));
	exit(1);
}

static void check(int r, const char *what)
{
	if (r < 0)
		die(what ? what : nl.what, -r);
}

/* floor.h's helpers (for floor-ways.c): floor-ops.c's requests on the one socket, dying on
 * failure. */

void nl_open(void)
{
	check(floor_open(&nl), "netlink socket");
}

struct nlmsghdr *msg(uint16_t type, uint16_t flags, size_t extra)
{
	return floor_msg(&nl, type, flags, extra);
}

void transact(struct nlmsghdr *nlh, const char *what)
{
	check(floor_transact(&nl, nlh, what), what);
}

int open_ns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die(path, errno);
	return fd;
}

void enter(int nsfd)
{
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns", errno);
	floor_close(&nl);
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
	check(floor_link_up(&nl, name, no_ipv6), NULL);
}

void addressing(const char *name, const char *cidr, const char *gw, int onlink)
{
	check(floor_addressing(&nl, name, cidr, gw, onlink), NULL);
}

void veth(int nsfd, const char *host, const char *peer_name, const char *master)
{
	check(floor_veth_pair(&nl, nsfd, host, peer_name, master), NULL);
}

void del(const char *name)
{
	check(floor_del(&nl, name), NULL);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	char **a = argv + 2;

	if (strcmp(cmd, "veth") == 0 && argc == 8) {
		int nsfd = open_ns(a[0]);
		nl_open();
		check(floor_veth(&nl, nsfd, -1, a[1], a[2], a[3], a[4], a[5]), NULL);
	} else if (strcmp(cmd, "macvlan") == 0 && argc == 7) {
		int nsfd = open_ns(a[0]);
		nl_open();
		check(floor_macvlan(&nl, nsfd, -1, a[1], a[2], a[3], a[4]), NULL);
	} else if (strcmp(cmd, "veth-announce") == 0 && argc == 8) {
		int nsfd = open_ns(a[0]);
		nl_open();
		check(floor_veth_announce(&nl, nsfd, -1, a[1], a[2], a[3], a[4], a[5]), NULL);
	} else if (strcmp(cmd, "macvlan-announce") == 0 && argc == 7) {
		int nsfd = open_ns(a[0]);
		nl_open();
		check(floor_macvlan_announce(&nl, nsfd, -1, a[1], a[2], a[3], a[4]), NULL);
	} else if (strcmp(cmd, "del") == 0 && argc == 3) {
		nl_open();
		del(a[0]);
	} else if (strcmp(cmd, "del-in") == 0 && argc == 4) {
		check(floor_del_in(open_ns(a[0]), -1, a[1]), "delete link");
	} else if (strcmp(cmd, "del-group") == 0 && argc >= 3) {
		nl_open();
		check(floor_del_group(&nl, argc - 2, a), NULL);
	} else if (floor_way(argc - 1, argv + 1) == 0) {
		/* the ovs, nat and routed ways (floor-ways.c) */
	} else {
		fprintf(stderr,
			"usage: lj-bench-floor veth NETNS HOSTIF IFNAME BRIDGE CIDR GW\n"
			"       lj-bench-floor macvlan NETNS PARENT IFNAME CIDR GW\n"
			"       lj-bench-floor veth-announce|macvlan-announce (the same ARGS)\n"
			"       lj-bench-floor del LINK | del-in NETNS LINK | del-group LINK...\n"
			"       lj-bench-floor ovs|ovs-del|nat|nat-del|routed|routed-del ARGS "
			"(see floor-ways.c)\n");
		return 2;
	}
	return 0;
}
