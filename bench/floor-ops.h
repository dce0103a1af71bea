/* SPDX-License-Identifier: MIT */
/*
 * The floor's requests (bench-only): the fewest rtnetlink requests that do the work of one
 * attach or detach, with no state, no checks and no rollback. lj-bench-floor (floor.c) runs
 * them once per process; lj-bench-inproc (inproc.c) runs them in a loop from one process, the
 * in-process floor. On purpose independent of lanjoin's library: libmnl directly.
 * IPv4 only (the bench's addresses). Every function returns 0 or -errno; on failure the
 * socket's `what` names the request that failed.
 */
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

/* One rtnetlink socket in the namespace it was opened in, and its request buffer. */
struct floor_nl {
	struct mnl_socket *nl;
	unsigned portid, seq;
	const char *what; /* the request that failed last */
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
};

/* Open f's socket in the calling thread's network namespace. */
int floor_open(struct floor_nl *f);
void floor_close(struct floor_nl *f);

/* A request of type with flags (plus NLM_F_REQUEST | NLM_F_ACK) and a zeroed extra header of
 * extra bytes, in f's buffer. */
struct nlmsghdr *floor_msg(struct floor_nl *f, uint16_t type, uint16_t flags, size_t extra);
/* Send nlh and wait for its acknowledgement; what names it for f->what. 0 or -errno. */
int floor_transact(struct floor_nl *f, struct nlmsghdr *nlh, const char *what);
/* Set name up; no_ipv6: with IPv6 address generation off. */
int floor_link_up(struct floor_nl *f, const char *name, int no_ipv6);
/* In f's namespace: name up, address cidr, default route via gw (onlink: without a route to
 * gw). */
int floor_addressing(struct floor_nl *f, const char *name, const char *cidr, const char *gw,
		     int onlink);
/* The veth pair hostif/ifname, ifname created in nsfd's namespace (-1: here), hostif a port of
 * bridge (NULL: none), up, IPv6 address generation off. */
int floor_veth_pair(struct floor_nl *host, int nsfd, const char *hostif, const char *ifname,
		    const char *bridge);

/*
 * A veth pair hostif/ifname with ifname created in nsfd's namespace; hostif a port of bridge,
 * up, IPv6 address generation off; then in the namespace (entered, a socket opened there):
 * ifname up, cidr, default via gw. host: a socket in the host's namespace. home: the
 * namespace to return to afterwards (an fd), or -1 to stay in nsfd's (a process that exits).
 */
int floor_veth(struct floor_nl *host, int nsfd, int home, const char *hostif, const char *ifname,
	       const char *bridge, const char *cidr, const char *gw);

/* A macvlan (mode bridge) of parent created in nsfd's namespace as ifname, then as
 * floor_veth: up, cidr, default via gw. */
int floor_macvlan(struct floor_nl *host, int nsfd, int home, const char *parent, const char *ifname,
		  const char *cidr, const char *gw);

/*
 * floor_veth and floor_macvlan, plus one gratuitous ARP of cidr that reaches the LAN, made by
 * the kernel with the fewest requests (lanjoin announces; the plain floor does not): a
 * macvlan gets arp_notify and its address before it comes up (+1 request); through a veth,
 * the container end (given a MAC at creation) gets arp_notify once up, then an RTM_GETLINK of
 * hostif (the bridge port forwards) and its MAC set again (+3 requests). The announcement is
 * copied to every port of the bridge, or every macvlan of the parent.
 */
int floor_veth_announce(struct floor_nl *host, int nsfd, int home, const char *hostif,
			const char *ifname, const char *bridge, const char *cidr, const char *gw);
int floor_macvlan_announce(struct floor_nl *host, int nsfd, int home, const char *parent,
			   const char *ifname, const char *cidr, const char *gw);

/*
 * What a network driver makes for a container engine to move (Docker's Join), here: with
 * bridge, a veth pair hostif/name, hostif a port of bridge, up, IPv6 address generation off;
 * without, the macvlan (mode bridge) name of parent.
 */
int floor_handoff(struct floor_nl *host, const char *bridge, const char *hostif, const char *parent,
		  const char *name);

/* Delete link name in f's namespace. */
int floor_del(struct floor_nl *f, const char *name);

/* Delete link name inside nsfd's namespace (entered; home as in floor_veth). */
int floor_del_in(int nsfd, int home, const char *name);

/* Delete the n links names behind one request: moved into a fresh link group, then one
 * RTM_DELLINK for the group. */
int floor_del_group(struct floor_nl *f, int n, char **names);

/*
 * What a container engine does with a link a network driver handed it (Docker's Join): move
 * link name from host's namespace into nsfd's, named ifname there, up, cidr, default via gw.
 * *ret_ifindex: its index (kept across the move), for floor_take_back.
 */
int floor_take_in(struct floor_nl *host, int nsfd, int home, const char *name, const char *ifname,
		  const char *cidr, const char *gw, unsigned *ret_ifindex);

/* And back (Docker's sandbox release): in nsfd's namespace, link ifindex down, renamed name,
 * moved into home's namespace. */
int floor_take_back(int nsfd, int home, unsigned ifindex, const char *name);
