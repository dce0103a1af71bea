/* SPDX-License-Identifier: MIT */
/* rtnetlink links: look up by name, create veth pairs and bridges, set state, delete. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/kernel/netlink.h"
#include "shared/parse.h"

/* What lanjoin needs to know about a link, from one RTM_GETLINK answer. */
struct lj_link {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags; /* IFF_* */
	uint32_t mtu;	/* bytes */
	uint8_t mac[LJ_MAC_LEN];
	bool has_mac;
	int master;	     /* ifindex of the master (bridge), 0 if none */
	int parent;	     /* IFLA_LINK: lower device (macvlan parent, veth peer), 0 if none */
	char kind[16];	     /* IFLA_INFO_KIND: "bridge", "veth", "macvlan", "openvswitch", "" */
	char slave_kind[16]; /* IFLA_INFO_SLAVE_KIND: "bridge" when a bridge port, ... */
	char alias[64];	     /* IFLA_IFALIAS, "" if none */
	int carrier_up;	     /* IFLA_CARRIER_UP_COUNT: times its carrier came up */
	int port_state;	     /* a bridge port's IFLA_BRPORT_STATE (BR_STATE_*), else -1 */
};

/*
 * Parse an RTM_NEWLINK or RTM_DELLINK message (a dump's or a notification's) into *ret.
 * False for another or a truncated message (*ret untouched).
 */
struct nlmsghdr;
bool lj_link_parse_msg(const struct nlmsghdr *nlh, struct lj_link *ret);

/* Whether l is a bridge port in the forwarding state (from its lookup's port_state). */
bool lj_link_port_forwards(const struct lj_link *l);

/* Whether l is a bridge port in the disabled state (no carrier yet, or its bridge is down). */
bool lj_link_port_disabled(const struct lj_link *l);

/* Look up a link by name. -ENODEV if there is none. */
int lj_link_get(struct lj_nl *nl, const char *name, struct lj_link *ret);

/* Look up a link by ifindex. -ENODEV if there is none. */
int lj_link_get_by_index(struct lj_nl *nl, int ifindex, struct lj_link *ret);

/*
 * Options for a veth pair whose host end stays in nl's namespace and whose peer is created
 * directly in another namespace. Pointers are borrowed for the call.
 */
struct lj_veth_opts {
	const char *name;	 /* host end */
	const char *peer_name;	 /* container end */
	int peer_netns_fd;	 /* namespace of the peer (borrowed) */
	uint32_t mtu;		 /* host end MTU, 0 = kernel default */
	uint32_t peer_mtu;	 /* container end MTU, 0 = kernel default */
	const uint8_t *peer_mac; /* NULL = kernel-generated */
	const uint8_t *mac;	 /* host end's, NULL = kernel-generated */
	int master;		 /* ifindex of a bridge for the host end, 0 = none */
	bool up;		 /* bring the host end up in the same request */
	bool no_ipv6; /* host end: IPv6 address generation off (a bridge port needs none) */
};

/*
 * Create a veth pair (NLM_F_CREATE|NLM_F_EXCL). -EEXIST if a name is taken. With up or
 * no_ipv6 a second request configures the host end; if it fails the pair is deleted again.
 */
int lj_link_add_veth(struct lj_nl *nl, const struct lj_veth_opts *o);

/*
 * lj_link_add_veth that also says what the kernel made of the host end in *ret, from its echo
 * of the creation (NLM_F_ECHO, Linux 6.3), so that no lookup is needed: its ifindex, MAC and
 * (parent) the container end's ifindex in its namespace, which the kernel leaves out when it
 * equals the host end's own. ret->ifindex 0 when the kernel does not echo (look it up then).
 * Errors as lj_link_add_veth.
 */
int lj_link_add_veth_echo(struct lj_nl *nl, const struct lj_veth_opts *o, struct lj_link *ret);

/* One RTM_NEWLINK on name: IPv6 address generation off (no_ipv6) and IFF_UP (up). */
int lj_link_setup(struct lj_nl *nl, const char *name, bool up, bool no_ipv6);

/* Set IFLA_IFALIAS of name. */
int lj_link_set_alias(struct lj_nl *nl, const char *name, const char *alias);

/* Delete the link named name. -ENODEV if it does not exist. */
int lj_link_del(struct lj_nl *nl, const char *name);

/*
 * Set (on) or clear the IPv4 arp_notify of the link named name, as net.ipv4.conf.NAME.arp_notify
 * does: with it set, the kernel sends a gratuitous ARP for each IPv4 address of the link when
 * the link comes up and when its MAC address is set. Through rtnetlink, without /proc.
 */
int lj_link_set_arp_notify(struct lj_nl *nl, const char *name, bool on);

/*
 * Set the MAC address (LJ_MAC_LEN bytes) of the link named name. Setting its current one
 * changes nothing but is a hardware address change to the kernel (NETDEV_CHANGEADDR): with
 * arp_notify set, it announces the link's IPv4 addresses again.
 */
int lj_link_set_mac(struct lj_nl *nl, const char *name, const uint8_t *mac);

/* Set or clear IFF_UP on the link named name. */
int lj_link_set_up(struct lj_nl *nl, const char *name, bool up);

/*
 * Count the links whose master is ifindex, stopping at the first (returns 0 or 1), with a
 * kernel-filtered dump so only ports are sent. Returns the count or -errno.
 */
int lj_link_has_ports(struct lj_nl *nl, int ifindex);

/* How a new bridge is made (lj_link_add_bridge_opts). Pointers are borrowed for the call. */
struct lj_bridge_opts {
	const char *name;
	const char *alias;  /* IFLA_IFALIAS, NULL = none */
	uint32_t mtu;	    /* bytes; 0 = kernel default. Set explicitly, it stays. */
	const uint8_t *mac; /* NULL = kernel's choice. Set explicitly, it stays (the bridge
			     * no longer takes the lowest port MAC) */
	bool up;
};

/* Create a Linux bridge (NLM_F_CREATE|NLM_F_EXCL); if setting the alias fails it is deleted. */
int lj_link_add_bridge_opts(struct lj_nl *nl, const struct lj_bridge_opts *o);

/* Make link name a port of master_ifindex (0: leave its master). */
int lj_link_set_master(struct lj_nl *nl, const char *name, int master_ifindex);

/*
 * IPv6 address generation mode (IN6_ADDR_GEN_MODE_*) of link ifindex. -ENODATA if the link has
 * no IPv6 (disabled).
 */
int lj_link_get_addr_gen_mode(struct lj_nl *nl, int ifindex, uint8_t *ret);

/* Set the IPv6 address generation mode of link name. */
int lj_link_set_addr_gen_mode(struct lj_nl *nl, const char *name, uint8_t mode);

/*
 * The ports of bridge master (links whose master it is), kernel-filtered dump. *ret is
 * malloc'd (caller frees), NULL when *ret_n is 0. Returns 0 or -errno.
 */
int lj_link_list_ports(struct lj_nl *nl, int master, struct lj_link **ret, size_t *ret_n);

/* The links of kind kind ("bridge", ...) in nl's namespace, dump order; as lj_link_list_ports. */
int lj_link_list_kind(struct lj_nl *nl, const char *kind, struct lj_link **ret, size_t *ret_n);

/* Every link of nl's namespace with one dump, dump order; as lj_link_list_ports. */
int lj_link_list(struct lj_nl *nl, struct lj_link **ret, size_t *ret_n);
/* Host links whose deletion is deferred to one request (bulk detach, gc). */
struct lj_link_batch {
	char (*names)[IFNAMSIZ];
	size_t n, cap;
};

/* Add name to b (copied). Returns 0 or -ENOMEM. */
int lj_link_batch_add(struct lj_link_batch *b, const char *name);

/* Free b's memory (not b). */
void lj_link_batch_free(struct lj_link_batch *b);

/*
 * Delete the links of b (in nl's namespace) with one RTM_DELLINK: the kernel then waits for
 * its RCU grace periods once for all of them instead of once per link (~20 ms per veth). The
 * links are first moved into a link group no other link uses; links already gone are skipped.
 * Every link must support deletion by group (veth, macvlan, bridge do). On failure nothing is
 * deleted and the links are back in their own groups (best effort); the caller then deletes
 * them one by one. Returns 0 or -errno.
 */
int lj_link_del_batch(struct lj_nl *nl, const struct lj_link_batch *b);

/*
 * Options for a macvlan link on a parent in nl's namespace, created directly in another
 * namespace (or in nl's own). Pointers are borrowed for the call.
 */
struct lj_macvlan_opts {
	const char *name;   /* the new link's name (in netns_fd's namespace) */
	int parent;	    /* ifindex of the parent (lower device) in nl's namespace */
	int netns_fd;	    /* namespace to create it in (borrowed); -1 = nl's own */
	uint32_t mode;	    /* MACVLAN_MODE_*; 0 = bridge */
	uint32_t mtu;	    /* bytes, 0 = the parent's */
	const uint8_t *mac; /* NULL = kernel-generated */
	bool up;	    /* IFF_UP in the creating request */
};

/*
 * Create a macvlan link (NLM_F_CREATE|NLM_F_EXCL) in one request: the link never exists in
 * nl's namespace when netns_fd is another one. -EEXIST if the name is taken there, -EBUSY if
 * the parent is a bridge/bond port, -EINVAL if the mode clashes with the parent's other
 * macvlans (passthru), -EADDRINUSE if mac is taken on the parent.
 */
int lj_link_add_macvlan(struct lj_nl *nl, const struct lj_macvlan_opts *o);

/*
 * Visit every link of nl's namespace whose IFLA_LINK is parent (macvlan children, VLANs, ...)
 * with a dump; cb gets each link and data and returns 0 to go on, or a value that stops the
 * walk and is returned. Returns 0, that value, or -errno.
 */
int lj_link_foreach_child(struct lj_nl *nl, int parent,
			  int (*cb)(const struct lj_link *l, void *data), void *data);

/*
 * lj_link_foreach_child, and from the same dump the link called name (any link of the
 * namespace, child or not, seen also after cb stopped the walk) into *ret_named: its ifindex
 * is 0 if there is none. Returns as lj_link_foreach_child.
 */
int lj_link_foreach_child_named(struct lj_nl *nl, int parent,
				int (*cb)(const struct lj_link *l, void *data), void *data,
				const char *name, struct lj_link *ret_named);

/*
 * The same for the links of nl's namespace whose IFLA_LINK is parent in another namespace,
 * home (home_fd, borrowed): e.g. a macvlan child of a host link moved into a container. Found
 * by the number nl's namespace gives home (RTM_GETNSID), so an ifindex of a third namespace is
 * never taken for parent. Returns 0, cb's stopping value, or -errno.
 */
int lj_link_foreach_remote_child(struct lj_nl *nl, int home_fd, int parent,
				 int (*cb)(const struct lj_link *l, void *data), void *data);

/*
 * Every link of every namespace nl's namespace knows by a number (RTM_GETNSID: e.g. one a
 * link of it was moved into, which the kernel numbers at the move), read from here with
 * IFLA_TARGET_NETNSID (Linux 4.20), one dump each, then those of nl's namespace itself (so
 * a link moved back meanwhile is seen). A namespace gone meanwhile is skipped. *ret (n in
 * *ret_n) is the caller's to free; NULL with 0. 0 or -errno.
 */
int lj_link_peer_links(struct lj_nl *nl, struct lj_link **ret, size_t *ret_n);

/* lj_link_peer_links without those of nl's own namespace: only the numbered ones'. */
int lj_link_other_links(struct lj_nl *nl, struct lj_link **ret, size_t *ret_n);

/*
 * Delete the link of a namespace nl's knows by a number (not nl's own) that is want exactly:
 * its ifindex, kind, MAC (has_mac) and lower link (parent, an ifindex of nl's namespace, as
 * IFLA_LINK names a macvlan's parent from there) all as want says; a link moved out of nl's
 * namespace keeps its ifindex where that is free. Returns 1 deleted, 0 none such, -EINVAL if
 * want lacks one of them, other -errno.
 */
int lj_link_del_elsewhere(struct lj_nl *nl, const struct lj_link *want);

/*
 * Whether link name (with ifindex, checked against /sys so that a /sys of another namespace
 * does not answer) is a wireless (Wi-Fi) link: /sys/class/net/NAME/wireless or phy80211.
 * False when /sys does not tell.
 */
bool lj_link_is_wireless(const char *name, int ifindex);

/*
 * For messages refusing a wireless link: why bridge and macvlan cannot work there, and the
 * ways that do (a comma-separated list: add a way here when it works over Wi-Fi).
 */
#define LJ_WIRELESS_WHY "a Wi-Fi access point drops frames from MAC addresses it did not associate"
#define LJ_WIRELESS_WAYS "routed (--parent DEV), nat"
