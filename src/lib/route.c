/* SPDX-License-Identifier: MIT */
#include "lib/route.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

static struct nlmsghdr *route_msg(struct lj_nl *nl, uint16_t type, uint16_t flags,
				  const struct lj_route *rt)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	uint32_t table = rt->table ? rt->table : RT_TABLE_MAIN;

	rtm->rtm_family = (uint8_t)rt->dst.ip.family;
	rtm->rtm_dst_len = rt->dst.prefixlen;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_scope = rt->via.family == AF_UNSPEC ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	if (rt->onlink)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	if (type == RTM_DELROUTE)
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	if (table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, table);
	if (rt->dst.prefixlen)
		mnl_attr_put(nlh, RTA_DST, lj_ip_len(rt->dst.ip.family), rt->dst.ip.bytes);
	if (rt->via.family != AF_UNSPEC)
		mnl_attr_put(nlh, RTA_GATEWAY, lj_ip_len(rt->via.family), rt->via.bytes);
	if (rt->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)rt->oif);
	if (rt->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, rt->metric);
	return nlh;
}

int lj_route_add(struct lj_nl *nl, const struct lj_route *rt)
{
	return lj_nl_transact(nl, route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, rt),
			      NULL, NULL);
}

int lj_route_del(struct lj_nl *nl, const struct lj_route *rt)
{
	return lj_nl_transact(nl, route_msg(nl, RTM_DELROUTE, 0, rt), NULL, NULL);
}

struct route_list_ctx {
	struct lj_route_entry *v;
	size_t n, cap;
	bool one; /* a lookup: keep only the first answer */
};

static void copy_ip(const struct nlattr *attr, int family, struct lj_ip *ip)
{
	size_t len = lj_ip_len(family);

	if (len && mnl_attr_get_payload_len(attr) == len) {
		ip->family = family;
		memcpy(ip->bytes, mnl_attr_get_payload(attr), len);
	}
}

static int route_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_list_ctx *c = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct lj_route_entry e = {0};

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return MNL_CB_OK;
	if (!lj_ip_len(rtm->rtm_family) || (c->one && c->n))
		return MNL_CB_OK;
	e.dst.ip.family = rtm->rtm_family;
	e.dst.prefixlen = rtm->rtm_dst_len;
	e.table = rtm->rtm_table;
	e.type = rtm->rtm_type;
	e.protocol = rtm->rtm_protocol;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(attr)) {
		case RTA_DST:
			copy_ip(attr, rtm->rtm_family, &e.dst.ip);
			break;
		case RTA_GATEWAY:
			copy_ip(attr, rtm->rtm_family, &e.via);
			break;
		case RTA_PREFSRC:
			copy_ip(attr, rtm->rtm_family, &e.src);
			break;
		case RTA_OIF:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				e.oif = (int)mnl_attr_get_u32(attr);
			break;
		case RTA_TABLE:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				e.table = mnl_attr_get_u32(attr);
			break;
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct lj_route_entry *v = realloc(c->v, cap * sizeof(*v));
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

int lj_route_list(struct lj_nl *nl, int family, struct lj_route_entry **ret, size_t *ret_n)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_list_ctx c = {0};
	int r;

	rtm->rtm_family = (uint8_t)family;
	r = lj_nl_transact(nl, nlh, route_list_cb, &c);
	if (r < 0) {
		free(c.v);
		return r;
	}
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

int lj_route_get(struct lj_nl *nl, const struct lj_ip *dst, struct lj_route_entry *ret)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_list_ctx c = {.one = true};
	size_t len = lj_ip_len(dst->family);
	int r;

	if (!len)
		return -EAFNOSUPPORT;
	rtm->rtm_family = (uint8_t)dst->family;
	rtm->rtm_dst_len = (uint8_t)(len * 8);
	mnl_attr_put(nlh, RTA_DST, len, dst->bytes);
	r = lj_nl_transact(nl, nlh, route_list_cb, &c);
	if (r == 0 && c.n == 0)
		r = -ENETUNREACH;
	if (r == 0)
		*ret = c.v[0];
	free(c.v);
	return r;
}

int lj_route_count_dev(struct lj_nl *nl, int ifindex)
{
	static const int families[] = {AF_INET, AF_INET6};
	int count = 0;

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		struct lj_route_entry *v = NULL;
		size_t n = 0;
		int r = lj_route_list(nl, families[i], &v, &n);

		if (r < 0)
			return r;
		for (size_t k = 0; k < n; k++) {
			const struct lj_route_entry *e = &v[k];
			if (e->oif != ifindex || e->table == RT_TABLE_LOCAL || e->type != RTN_UNICAST ||
			    e->protocol == RTPROT_KERNEL || e->protocol == RTPROT_RA ||
			    e->protocol == RTPROT_REDIRECT)
				continue;
			count++;
		}
		free(v);
	}
	return count;
}

int lj_route_replace(struct lj_nl *nl, const struct lj_route *rt)
{
	return lj_nl_transact(nl, route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, rt),
			      NULL, NULL);
}
