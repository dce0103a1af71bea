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

struct list_ctx {
	int ifindex;
	struct lj_cidr *ret;
	size_t max, n;
};

static int list_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type == IFA_LOCAL || type == IFA_ADDRESS)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int list_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	struct list_ctx *c = data;
	const struct nlattr *a;
	struct lj_cidr cidr = {0};
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWADDR || (c->ifindex && (int)ifa->ifa_index != c->ifindex))
		return MNL_CB_OK;
	len = lj_ip_len(ifa->ifa_family);
	if (!len)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), list_attr_cb, tb);
	/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != len)
		return MNL_CB_OK;
	cidr.ip.family = ifa->ifa_family;
	memcpy(cidr.ip.bytes, mnl_attr_get_payload(a), len);
	cidr.prefixlen = ifa->ifa_prefixlen;
	if (c->n < c->max)
		c->ret[c->n] = cidr;
	c->n++;
	return MNL_CB_OK;
}

int lj_addr_list(struct lj_nl *nl, int ifindex, int family, struct lj_cidr *ret, size_t max,
		 size_t *ret_n)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct list_ctx c = {.ifindex = ifindex, .ret = ret, .max = max};
	int r;

	/* Without strict checking the kernel ignores ifa_index: list_cb filters. */
	ifa->ifa_family = (uint8_t)family;
	r = lj_nl_transact(nl, nlh, list_cb, &c);
	if (r < 0)
		return r;
	*ret_n = c.n;
	return 0;
}
