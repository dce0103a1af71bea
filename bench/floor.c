/* SPDX-License-Identifier: MIT */
/*
 * lj-bench-floor: the benchmark's floor. The fewest rtnetlink requests that do the work of
 * one attach or detach, from a fresh process, with no state, no checks and no rollback; a
 * lanjoin call cannot be cheaper than this. Bench-only (not installed), and on purpose
 * independent of lanjoin's library: it talks to libmnl directly (the requests are in
 * floor-ops.c, which lj-bench-inproc runs in a loop as the in-process floor).
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
 * IPv4 only (the bench's addresses). Exit 0 on success, 1 with a message on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floor-ops.h"

static struct floor_nl nl;

static void check(int r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "lj-bench-floor: %s: %s\n", what ? what : "?", strerror(-r));
		exit(1);
	}
}

static int open_ns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	check(fd < 0 ? -errno : 0, path);
	return fd;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	char **a = argv + 2;

	if (strcmp(cmd, "veth") == 0 && argc == 8) {
		int nsfd = open_ns(a[0]);
		check(floor_open(&nl), nl.what);
		check(floor_veth(&nl, nsfd, -1, a[1], a[2], a[3], a[4], a[5]), nl.what);
	} else if (strcmp(cmd, "macvlan") == 0 && argc == 7) {
		int nsfd = open_ns(a[0]);
		check(floor_open(&nl), nl.what);
		check(floor_macvlan(&nl, nsfd, -1, a[1], a[2], a[3], a[4]), nl.what);
	} else if (strcmp(cmd, "del") == 0 && argc == 3) {
		check(floor_open(&nl), nl.what);
		check(floor_del(&nl, a[0]), nl.what);
	} else if (strcmp(cmd, "del-in") == 0 && argc == 4) {
		check(floor_del_in(open_ns(a[0]), -1, a[1]), "delete link");
	} else if (strcmp(cmd, "del-group") == 0 && argc >= 3) {
		check(floor_open(&nl), nl.what);
		check(floor_del_group(&nl, argc - 2, a), nl.what);
	} else {
		fprintf(stderr,
			"usage: lj-bench-floor veth NETNS HOSTIF IFNAME BRIDGE CIDR GW\n"
			"       lj-bench-floor macvlan NETNS PARENT IFNAME CIDR GW\n"
			"       lj-bench-floor del LINK | del-in NETNS LINK | del-group LINK...\n");
		return 2;
	}
	return 0;
}
