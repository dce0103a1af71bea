/* SPDX-License-Identifier: MIT */
#include "lib/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
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

struct addr_list_ctx {
	struct lj_addr_entry *v;
	size_t n, cap;
};

static int addr_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_list_ctx *c = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *local = NULL, *address = NULL;
	struct lj_addr_entry e = {0};
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;
	len = lj_ip_len(ifa->ifa_family);
	if (!len)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_payload_len(attr) != len)
			continue;
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = attr;
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = attr;
	}
	if (!local)
		local = address;
	if (!local)
		return MNL_CB_OK;
	e.ifindex = (int)ifa->ifa_index;
	e.cidr.ip.family = ifa->ifa_family;
	memcpy(e.cidr.ip.bytes, mnl_attr_get_payload(local), len);
	e.cidr.prefixlen = ifa->ifa_prefixlen;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct lj_addr_entry *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = e;
	return MNL_CB_OK;
}

int lj_addr_list(struct lj_nl *nl, int family, struct lj_addr_entry **ret, size_t *ret_n)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct addr_list_ctx c = {0};
	int r;

	ifa->ifa_family = (uint8_t)family;
	r = lj_nl_transact(nl, nlh, addr_list_cb, &c);
	if (r < 0) {
		free(c.v);
		return r;
	}
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

int lj_addr_list_link(struct lj_nl *nl, int ifindex, int family, struct lj_cidr *ret, size_t max,
		      size_t *ret_n)
{
	struct lj_addr_entry *all = NULL;
	size_t n = 0, k = 0;
	int r;

	r = lj_addr_list(nl, family, &all, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (ifindex && all[i].ifindex != ifindex)
			continue;
		if (k < max)
			ret[k] = all[i].cidr;
		k++;
	}
	free(all);
	*ret_n = k;
	return 0;
}

struct addr_attrs {
	const struct nlattr *tb[IFA_MAX + 1];
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	struct addr_attrs *a = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	a->tb[type] = attr;
	return MNL_CB_OK;
}

int lj_addr_parse(const struct nlmsghdr *nlh, struct lj_addr_info *ret)
{
	const struct ifaddrmsg *ifa;
	struct addr_attrs a = {0};
	const struct nlattr *ip;
	size_t len;

	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return -EINVAL;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return -EINVAL;
	len = lj_ip_len(ifa->ifa_family);
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, &a) < 0)
		return -EINVAL;
	/* IFA_LOCAL is the own address (IPv4 point-to-point); IPv6 sends only IFA_ADDRESS. */
	ip = a.tb[IFA_LOCAL] ? a.tb[IFA_LOCAL] : a.tb[IFA_ADDRESS];
	if (!ip || mnl_attr_get_payload_len(ip) != len)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	ret->ifindex = (int)ifa->ifa_index;
	ret->cidr.ip.family = ifa->ifa_family;
	memcpy(ret->cidr.ip.bytes, mnl_attr_get_payload(ip), len);
	ret->cidr.prefixlen = ifa->ifa_prefixlen;
	ret->scope = ifa->ifa_scope;
	ret->flags = ifa->ifa_flags;
	if (a.tb[IFA_FLAGS] && mnl_attr_get_payload_len(a.tb[IFA_FLAGS]) == sizeof(uint32_t))
		ret->flags = mnl_attr_get_u32(a.tb[IFA_FLAGS]);
	return 0;
}

struct addr_dump {
	int ifindex;
	struct lj_addr_info *v;
	size_t n, cap;
};

static int addr_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_dump *l = data;
	struct lj_addr_info ai;

	if (nlh->nlmsg_type != RTM_NEWADDR || lj_addr_parse(nlh, &ai) < 0)
		return MNL_CB_OK;
	if (l->ifindex && ai.ifindex != l->ifindex)
		return MNL_CB_OK;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct lj_addr_info *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = ai;
	return MNL_CB_OK;
}

int lj_addr_dump(struct lj_nl *nl, int family, int ifindex, struct lj_addr_info **ret,
		 size_t *ret_n)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct addr_dump l = {.ifindex = ifindex};
	int r;

	ifa->ifa_family = (uint8_t)family;
	r = lj_nl_transact(nl, nlh, addr_dump_cb, &l);
	if (r < 0) {
		free(l.v);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}
