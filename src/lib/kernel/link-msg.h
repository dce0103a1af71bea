/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink requests of link.c, each built into a caller's buffer (buf, size bytes,
 * aligned for struct nlmsghdr) with bounded attribute puts: the lj_link_* functions build
 * them in the socket's buffer and send them; the unit test parses them back. Each returns 0
 * (the request starts at buf) or -EMSGSIZE if it does not fit (then nothing must be sent).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Declared in lib/kernel/link.h (not included: link.c includes this header). */
struct lj_veth_opts;
struct lj_bridge_opts;
struct lj_macvlan_opts;

/* RTM_GETLINK of the link named name, or (name NULL) of the link ifindex; no statistics. */
int lj_link_msg_get(void *buf, size_t size, const char *name, int ifindex);

/* RTM_GETLINK dump of every link (master 0) or of the ports of master; no statistics. */
int lj_link_msg_dump(void *buf, size_t size, int master);

/* RTM_GETNSID dump: the numbers this namespace gives the namespaces it knows. */
int lj_link_msg_dump_nsids(void *buf, size_t size);

/* RTM_GETLINK dump of every link of the namespace numbered nsid here (IFLA_TARGET_NETNSID). */
int lj_link_msg_dump_in(void *buf, size_t size, int32_t nsid);

/* RTM_NEWLINK creating the veth pair o (lj_link_add_veth's first request). */
int lj_link_msg_add_veth(void *buf, size_t size, const struct lj_veth_opts *o);

/* RTM_NEWLINK creating the bridge o; o->alias is not part of it (the kernel ignores it). */
int lj_link_msg_add_bridge(void *buf, size_t size, const struct lj_bridge_opts *o);

/* RTM_NEWLINK creating the macvlan o. */
int lj_link_msg_add_macvlan(void *buf, size_t size, const struct lj_macvlan_opts *o);

/* RTM_NEWLINK on name: IFF_UP (up) and IPv6 address generation off (no_ipv6). */
int lj_link_msg_setup(void *buf, size_t size, const char *name, bool up, bool no_ipv6);

/* RTM_NEWLINK on name setting or clearing IFF_UP. */
int lj_link_msg_set_up(void *buf, size_t size, const char *name, bool up);

/* RTM_NEWLINK on name setting IFLA_IFALIAS. */
int lj_link_msg_set_alias(void *buf, size_t size, const char *name, const char *alias);

/* RTM_NEWLINK on name setting IFLA_MASTER (0: no master). */
int lj_link_msg_set_master(void *buf, size_t size, const char *name, int master);

/* RTM_NEWLINK on name setting the link group IFLA_GROUP. */
int lj_link_msg_set_group(void *buf, size_t size, const char *name, uint32_t group);

/* RTM_NEWLINK on name setting the IPv6 address generation mode (IN6_ADDR_GEN_MODE_*). */
int lj_link_msg_set_addr_gen_mode(void *buf, size_t size, const char *name, uint8_t mode);

/* RTM_NEWLINK on name setting its IPv4 arp_notify (IFLA_AF_SPEC, AF_INET, IFLA_INET_CONF). */
int lj_link_msg_set_arp_notify(void *buf, size_t size, const char *name, bool on);

/* RTM_NEWLINK on name setting its MAC address (IFLA_ADDRESS, LJ_MAC_LEN bytes). */
int lj_link_msg_set_mac(void *buf, size_t size, const char *name, const uint8_t *mac);

/* RTM_DELLINK of the link named name. */
int lj_link_msg_del(void *buf, size_t size, const char *name);

/* RTM_DELLINK of link ifindex of the namespace nl's knows as nsid (IFLA_TARGET_NETNSID). */
int lj_link_msg_del_in(void *buf, size_t size, int32_t nsid, int ifindex);

/* RTM_DELLINK of every link in group. */
int lj_link_msg_del_group(void *buf, size_t size, uint32_t group);

/* RTM_GETNSID: the number the socket's namespace gives the namespace netns_fd. */
int lj_link_msg_get_nsid(void *buf, size_t size, int netns_fd);
