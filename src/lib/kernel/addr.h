/* SPDX-License-Identifier: MIT */
/* rtnetlink addresses on a link. */
#pragma once

#include <linux/if_addr.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/kernel/netlink.h"
#include "shared/parse.h"

/*
 * Add address c (with its prefix length) to link ifindex. flags are IFA_F_* (e.g.
 * IFA_F_NODAD), sent as IFA_FLAGS. For IPv4 the broadcast address is derived. -EEXIST if the
 * link already has it.
 */
int lj_addr_add(struct lj_nl *nl, int ifindex, const struct lj_cidr *c, uint32_t flags);

/* Remove address c from link ifindex. -EADDRNOTAVAIL if it is not there. */
int lj_addr_del(struct lj_nl *nl, int ifindex, const struct lj_cidr *c);

/* Everything rtnetlink says about one address, enough to re-create it exactly elsewhere. */
struct lj_addr_full {
	int ifindex;
	struct lj_cidr local;	/* the address and its prefix length */
	struct lj_ip peer;	/* IPv4 IFA_ADDRESS if it differs from IFA_LOCAL (point-to-point) */
	struct lj_ip broadcast; /* IPv4 IFA_BROADCAST; AF_UNSPEC if none */
	char label[IFNAMSIZ];	/* IPv4 IFA_LABEL; "" if none */
	uint8_t scope;		/* RT_SCOPE_* */
	uint32_t flags;		/* IFA_F_* (IFA_FLAGS, or the 8-bit ifa_flags) */
	uint32_t valid_lft;	/* seconds left; UINT32_MAX = forever */
	uint32_t preferred_lft; /* seconds left; UINT32_MAX = forever */
	uint32_t rt_priority;	/* IFA_RT_PRIORITY (metric of the prefix route), 0 = none */
	uint8_t proto;		/* IFA_PROTO (who added it), 0 = unknown */
};

/* The flags a request may set (the kernel keeps the others to itself). */
#define LJ_ADDR_SETTABLE_FLAGS                                                                     \
	(IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE |            \
	 IFA_F_MCAUTOJOIN | IFA_F_OPTIMISTIC)

/*
 * Dump the addresses of family (AF_INET, AF_INET6 or AF_UNSPEC for both) on link ifindex
 * (kernel-filtered when the socket is strict, see lj_nl_set_strict; filtered here anyway), in
 * the kernel's order (IPv4 primaries before their secondaries). *ret is malloc'd (caller frees),
 * possibly NULL when *ret_n is 0. Returns 0 or -errno.
 */
int lj_addr_dump_full(struct lj_nl *nl, int family, int ifindex, struct lj_addr_full **ret,
		      size_t *ret_n);

/*
 * Add a (on link ifindex, a->ifindex is ignored) with its prefix length, peer, broadcast,
 * label (label NULL = a->label; "" = none), scope, settable flags | extra_flags, lifetimes and
 * prefix-route metric. replace: modify an existing address (NLM_F_REPLACE) instead of creating
 * (NLM_F_CREATE|NLM_F_EXCL: -EEXIST if present).
 */
int lj_addr_add_full(struct lj_nl *nl, int ifindex, const struct lj_addr_full *a, const char *label,
		     uint32_t extra_flags, bool replace);

/* Remove a from link ifindex. -EADDRNOTAVAIL if it is not there. */
int lj_addr_del_full(struct lj_nl *nl, int ifindex, const struct lj_addr_full *a);

/* One address of a link, from an address dump. */
struct lj_addr_entry {
	int ifindex;
	struct lj_cidr cidr; /* the local address and its prefix length */
};

/*
 * Dump the addresses of family (AF_INET, AF_INET6 or AF_UNSPEC for both) of every link in
 * nl's namespace. On success *ret is a malloc'd array of *ret_n entries (the caller frees
 * it; NULL when there are none). Errors: -errno.
 */
int lj_addr_list(struct lj_nl *nl, int family, struct lj_addr_entry **ret, size_t *ret_n);

/*
 * The addresses of family (AF_UNSPEC for both) on link ifindex (0 = every link) into
 * ret[0..max). *ret_n receives how many there are, which may exceed max (only max are
 * stored). The kernel sends only the link's (lj_nl_transact_filtered), not every link's.
 * Returns 0 or -errno.
 */
int lj_addr_list_link(struct lj_nl *nl, int ifindex, int family, struct lj_cidr *ret, size_t max,
		      size_t *ret_n);

/* One address of a link, from RTM_NEWADDR (a dump answer or a notification). */
struct lj_addr_info {
	int ifindex;
	struct lj_cidr cidr;
	uint32_t flags; /* IFA_F_*: TENTATIVE, DADFAILED, PERMANENT, ... (from IFA_FLAGS) */
	uint8_t scope;	/* RT_SCOPE_* */
};

/*
 * Parse an RTM_NEWADDR/RTM_DELADDR message into *ret. Returns 0, or -EINVAL if it is not an
 * IPv4/IPv6 address message.
 */
int lj_addr_parse(const struct nlmsghdr *nlh, struct lj_addr_info *ret);

/*
 * The addresses of family (AF_INET, AF_INET6, or AF_UNSPEC for both) on link ifindex (0: all
 * links), with their flags and scope. *ret is a malloc'd array of *ret_n entries (NULL when
 * none); the caller frees it.
 */
int lj_addr_dump(struct lj_nl *nl, int family, int ifindex, struct lj_addr_info **ret,
		 size_t *ret_n);
