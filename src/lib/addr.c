/* SPDX-License-Identifier: MIT */
#include "lib/addr.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

static struct nlmsghdr *addr_msg(struct lj_nl *nl, uint16_t type, uint16_t flags, int ifindex,
				 const struct lj_cidr *c)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t len = lj_ip_len(c->ip.family);

	ifa->ifa_family = (uint8_t)c->ip.family;
	ifa->ifa_prefixlen = c->prefixlen;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, IFA_LOCAL, len, c->ip.bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, len, c->ip.bytes);
	return nlh;
}

int lj_addr_add(struct lj_nl *nl, int ifindex, const struct lj_cidr *c, uint32_t flags)
{
	struct nlmsghdr *nlh = addr_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, c);

	if (c->ip.family == AF_INET && c->prefixlen < 31) {
		uint32_t host = ntohl(c->ip.v4.s_addr);
		uint32_t mask = c->prefixlen ? ~0u << (32 - c->prefixlen) : 0;
		uint32_t brd = htonl(host | ~mask);
		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), &brd);
	}
	if (flags)
		mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	return lj_nl_transact(nl, nlh, NULL, NULL);
}

int lj_addr_del(struct lj_nl *nl, int ifindex, const struct lj_cidr *c)
{
	return lj_nl_transact(nl, addr_msg(nl, RTM_DELADDR, 0, ifindex, c), NULL, NULL);
}
