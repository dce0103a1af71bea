/* SPDX-License-Identifier: MIT */
#include "lib/route.h"

#include <linux/rtnetlink.h>

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

struct count_ctx {
	int ifindex;
	int count;
};

static int count_attr_cb(const struct nlattr *attr, void *data)
{
	int *oif = data;

	if (mnl_attr_get_type(attr) == RTA_OIF && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		*oif = (int)mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct count_ctx *c = data;
	int oif = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_table == RT_TABLE_LOCAL ||
	    rtm->rtm_protocol == RTPROT_KERNEL || rtm->rtm_protocol == RTPROT_RA ||
	    rtm->rtm_protocol == RTPROT_REDIRECT || rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), count_attr_cb, &oif);
	if (oif == c->ifindex)
		c->count++;
	return MNL_CB_OK;
}

int lj_route_count_dev(struct lj_nl *nl, int ifindex)
{
	static const uint8_t families[] = {AF_INET, AF_INET6};
	struct count_ctx c = {.ifindex = ifindex};

	for (size_t i = 0; i < sizeof(families); i++) {
		struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP);
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		int r;

		rtm->rtm_family = families[i];
		r = lj_nl_transact(nl, nlh, count_cb, &c);
		if (r < 0)
			return r;
	}
	return c.count;
}
