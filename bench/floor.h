/* SPDX-License-Identifier: MIT */
/* lj-bench-floor's netlink helpers (floor.c), shared with its ovs, nat and routed ways
 * (floor-ways.c). Every helper dies with a message (exit 1) on failure. */
#ifndef LJ_BENCH_FLOOR_H
#define LJ_BENCH_FLOOR_H

#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

void die(const char *what, int err) __attribute__((noreturn));
/* Open the rtnetlink socket in the current network namespace. */
void nl_open(void);
/* A request of type with flags (plus NLM_F_REQUEST | NLM_F_ACK) and a zeroed extra header of
 * extra bytes, in the one static buffer. */
struct nlmsghdr *msg(uint16_t type, uint16_t flags, size_t extra);
/* Send a request and wait for its acknowledgement. */
void transact(struct nlmsghdr *nlh, const char *what);
int open_ns(const char *path);
/* Enter the namespace and reopen the netlink socket there. */
void enter(int nsfd);
unsigned ifindex(const char *name);
/* Set name up; no_ipv6: with IPv6 address generation off. */
void link_up(const char *name, int no_ipv6);
/* In the current namespace: name up, address cidr, default route via gw (onlink: without a
 * route to gw). */
void addressing(const char *name, const char *cidr, const char *gw, int onlink);
/* A veth pair host/peer_name, peer_name created in namespace nsfd, host a port of master
 * (NULL: none), up, IPv6 address generation off. */
void veth(int nsfd, const char *host, const char *peer_name, const char *master);
void del(const char *name);
/* The ovs, nat and routed ways: argv[0] is the command. Returns -1 for no such command (or
 * the wrong number of arguments), else 0 once done. */
int floor_way(int argc, char **argv);

#endif
