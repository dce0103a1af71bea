/* SPDX-License-Identifier: MIT */
#include "lib/kernel/route.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include "lib/kernel/route-msg.h"
#include "shared/array.h"

/* Start the request of op for a route of family in buf; its rtmsg is at *ret_rtm. */
static struct nlmsghdr *route_start(void *buf, size_t size, enum lj_route_op op, int family,
				    struct rtmsg **ret_rtm)
{
	static const struct {
		uint16_t type, flags;
	} ops[] = {
		[LJ_ROUTE_ADD] = {RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL},
		[LJ_ROUTE_APPEND] = {RTM_NEWROUTE, NLM_F_CREATE | NLM_F_APPEND},
		[LJ_ROUTE_REPLACE] = {RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE},
		[LJ_ROUTE_DEL] = {RTM_DELROUTE, 0},
	};
	struct nlmsghdr *nlh =
		lj_nl_msg_start(buf, size, ops[op].type, ops[op].flags, sizeof(struct rtmsg));

	if (!nlh)
		return NULL;
	*ret_rtm = mnl_nlmsg_get_payload(nlh);
	(*ret_rtm)->rtm_family = (uint8_t)family;
	return nlh;
}

int lj_route_msg(void *buf, size_t size, enum lj_route_op op, const struct lj_route *rt)
{
	uint32_t table = rt->table ? rt->table : RT_TABLE_MAIN;
	struct rtmsg *rtm;
	struct nlmsghdr *nlh = route_start(buf, size, op, rt->dst.ip.family, &rtm);

	if (!nlh)
		return -EMSGSIZE;
	rtm->rtm_dst_len = rt->dst.prefixlen;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_scope = rt->via.family == AF_UNSPEC ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	if (rt->onlink)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	if (op == LJ_ROUTE_DEL)
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	if ((table >= 256 && !mnl_attr_put_u32_check(nlh, size, RTA_TABLE, table)) ||
	    (rt->dst.prefixlen &&
	     !mnl_attr_put_check(nlh, size, RTA_DST, lj_ip_len(rt->dst.ip.family),
				 rt->dst.ip.bytes)) ||
	    (rt->via.family != AF_UNSPEC &&
	     !mnl_attr_put_check(nlh, size, RTA_GATEWAY, lj_ip_len(rt->via.family),
				 rt->via.bytes)) ||
	    (rt->oif && !mnl_attr_put_u32_check(nlh, size, RTA_OIF, (uint32_t)rt->oif)) ||
	    (rt->metric && !mnl_attr_put_u32_check(nlh, size, RTA_PRIORITY, rt->metric)))
		return -EMSGSIZE;
	return 0;
}

int lj_route_add(struct lj_nl *nl, const struct lj_route *rt)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_route_msg, LJ_ROUTE_ADD, rt);
}

int lj_route_append(struct lj_nl *nl, const struct lj_route *rt)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_route_msg, LJ_ROUTE_APPEND, rt);
}

int lj_route_del(struct lj_nl *nl, const struct lj_route *rt)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_route_msg, LJ_ROUTE_DEL, rt);
}

int lj_route_msg_dump(void *buf, size_t size, int family, int oif)
{
	struct nlmsghdr *nlh =
		lj_nl_msg_start(buf, size, RTM_GETROUTE, NLM_F_DUMP, sizeof(struct rtmsg));
	struct rtmsg *rtm;

	if (!nlh || (oif > 0 && !mnl_attr_put_u32_check(nlh, size, RTA_OIF, (uint32_t)oif)))
		return -EMSGSIZE;
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = (uint8_t)family;
	return 0;
}

int lj_route_msg_get(void *buf, size_t size, const struct lj_ip *dst)
{
	struct nlmsghdr *nlh = lj_nl_msg_start(buf, size, RTM_GETROUTE, 0, sizeof(struct rtmsg));
	size_t len = lj_ip_len(dst->family);
	struct rtmsg *rtm;

	if (!len)
		return -EAFNOSUPPORT;
	if (!nlh || !mnl_attr_put_check(nlh, size, RTA_DST, len, dst->bytes))
		return -EMSGSIZE;
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = (uint8_t)dst->family;
	rtm->rtm_dst_len = (uint8_t)(len * 8);
	return 0;
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
	mnl_attr_for_each(attr, nlh, sizeof(*rtm))
	{
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
	if (lj_array_append(&c->v, &c->n, &c->cap, sizeof(e), &e) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int lj_route_list(struct lj_nl *nl, int family, struct lj_route_entry **ret, size_t *ret_n)
{
	struct route_list_ctx c = {0};
	int r;

	r = LJ_NL_SEND(nl, route_list_cb, &c, lj_route_msg_dump, family, 0);
	if (r < 0) {
		free(c.v);
		return r;
	}
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

static int route_msg_lookup(void *buf, size_t size, const struct lj_ip *dst, bool fib_match)
{
	int r = lj_route_msg_get(buf, size, dst);

	if (r == 0 && fib_match)
		((struct rtmsg *)mnl_nlmsg_get_payload(buf))->rtm_flags = RTM_F_FIB_MATCH;
	return r;
}

static int route_lookup(struct lj_nl *nl, const struct lj_ip *dst, bool fib_match,
			struct lj_route_entry *ret)
{
	struct route_list_ctx c = {.one = true};
	int r;

	r = LJ_NL_SEND(nl, route_list_cb, &c, route_msg_lookup, dst, fib_match);
	if (r == 0 && c.n == 0)
		r = -ENETUNREACH;
	if (r == 0)
		*ret = c.v[0];
	free(c.v);
	return r;
}

int lj_route_get(struct lj_nl *nl, const struct lj_ip *dst, struct lj_route_entry *ret)
{
	return route_lookup(nl, dst, false, ret);
}

static int route_msg_dump_filtered(void *buf, size_t size, int family, uint32_t table, int oif)
{
	struct nlmsghdr *nlh =
		lj_nl_msg_start(buf, size, RTM_GETROUTE, NLM_F_DUMP, sizeof(struct rtmsg));
	struct rtmsg *rtm;

	if (!nlh || (oif > 0 && !mnl_attr_put_u32_check(nlh, size, RTA_OIF, (uint32_t)oif)) ||
	    (table && !mnl_attr_put_u32_check(nlh, size, RTA_TABLE, table)))
		return -EMSGSIZE;
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = (uint8_t)family;
	return 0;
}

int lj_route_list_filtered(struct lj_nl *nl, int family, uint32_t table, int oif,
			   struct lj_route_entry **ret, size_t *ret_n)
{
	struct route_list_ctx c = {0};
	size_t k = 0;
	int r;

	r = route_msg_dump_filtered(lj_nl_req(nl), LJ_NL_REQ_SIZE, family, table, oif);
	if (r == 0)
		r = lj_nl_transact_filtered(nl, lj_nl_req(nl), route_list_cb, &c);
	if (r < 0) {
		free(c.v);
		return r;
	}
	/* The kernel filters where it can (strict checking); what it did not, goes here. */
	for (size_t i = 0; i < c.n; i++)
		if ((!table || c.v[i].table == table) && (!oif || c.v[i].oif == oif))
			c.v[k++] = c.v[i];
	*ret = c.v;
	*ret_n = k;
	return 0;
}

int lj_route_match(struct lj_nl *nl, const struct lj_ip *dst, struct lj_route_entry *ret)
{
	return route_lookup(nl, dst, true, ret);
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
			if (e->oif != ifindex || e->table == RT_TABLE_LOCAL ||
			    e->type != RTN_UNICAST || e->protocol == RTPROT_KERNEL ||
			    e->protocol == RTPROT_RA || e->protocol == RTPROT_REDIRECT)
				continue;
			count++;
		}
		free(v);
	}
	return count;
}

int lj_route_replace(struct lj_nl *nl, const struct lj_route *rt)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_route_msg, LJ_ROUTE_REPLACE, rt);
}

struct route_dump_ctx {
	int family, oif;
	struct lj_route_info *v;
	size_t n, cap;
};

static bool route_ip(const struct nlattr *a, int family, struct lj_ip *ret)
{
	size_t len = lj_ip_len(family);

	if (!a || mnl_attr_get_payload_len(a) != len)
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	memcpy(ret->bytes, mnl_attr_get_payload(a), len);
	return true;
}

static int metrics_cb(const struct nlattr *attr, void *data)
{
	struct lj_route_info *rt = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type == 0 || type >= LJ_ROUTE_METRICS || mnl_attr_validate(attr, MNL_TYPE_U32) < 0) {
		/* RTAX_CC_ALGO is a string; newer ones are unknown to us. */
		rt->unsupported = "it has route metrics lanjoin does not know (e.g. congctl)";
		return MNL_CB_OK;
	}
	rt->metrics_mask |= 1u << type;
	rt->metrics[type] = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

/* Parse one RTM_NEWROUTE into *rt. Returns false for messages that are not routes. */
static bool route_parse(const struct nlmsghdr *nlh, struct lj_route_info *rt)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return false;
	memset(rt, 0, sizeof(*rt));
	lj_nl_attrs(nlh, sizeof(*rtm), tb, RTA_MAX);
	rt->family = rtm->rtm_family;
	rt->dst_len = rtm->rtm_dst_len;
	rt->src_len = rtm->rtm_src_len;
	rt->tos = rtm->rtm_tos;
	rt->protocol = rtm->rtm_protocol;
	rt->scope = rtm->rtm_scope;
	rt->type = rtm->rtm_type;
	rt->flags = rtm->rtm_flags;
	rt->table = rtm->rtm_table;
	if (tb[RTA_TABLE] && mnl_attr_validate(tb[RTA_TABLE], MNL_TYPE_U32) >= 0)
		rt->table = mnl_attr_get_u32(tb[RTA_TABLE]);
	if (!route_ip(tb[RTA_DST], rt->family, &rt->dst)) {
		rt->dst.family = rt->family;
		if (rt->dst_len)
			rt->unsupported = "its destination is missing";
	}
	route_ip(tb[RTA_SRC], rt->family, &rt->src);
	route_ip(tb[RTA_GATEWAY], rt->family, &rt->gateway);
	route_ip(tb[RTA_PREFSRC], rt->family, &rt->prefsrc);
	if (tb[RTA_OIF] && mnl_attr_validate(tb[RTA_OIF], MNL_TYPE_U32) >= 0)
		rt->oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PRIORITY] && mnl_attr_validate(tb[RTA_PRIORITY], MNL_TYPE_U32) >= 0) {
		rt->has_priority = true;
		rt->priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	}
	if (tb[RTA_FLOW] && mnl_attr_validate(tb[RTA_FLOW], MNL_TYPE_U32) >= 0)
		rt->flow = mnl_attr_get_u32(tb[RTA_FLOW]);
	if (tb[RTA_PREF] && mnl_attr_validate(tb[RTA_PREF], MNL_TYPE_U8) >= 0) {
		rt->has_pref = true;
		rt->pref = mnl_attr_get_u8(tb[RTA_PREF]);
	}
	if (rt->family == AF_INET6 && tb[RTA_CACHEINFO] &&
	    mnl_attr_get_payload_len(tb[RTA_CACHEINFO]) >= sizeof(struct rta_cacheinfo)) {
		/* Dumps report clock ticks (USER_HZ = 100); RTA_EXPIRES takes seconds. */
		const struct rta_cacheinfo *ci = mnl_attr_get_payload(tb[RTA_CACHEINFO]);
		if (ci->rta_expires > 0) {
			uint32_t secs = (uint32_t)ci->rta_expires / 100;
			rt->expires = secs ? secs : 1;
		}
	}
	if (tb[RTA_METRICS])
		mnl_attr_parse_nested(tb[RTA_METRICS], metrics_cb, rt);
	if (tb[RTA_MULTIPATH])
		rt->unsupported = "it is a multipath route";
	else if (tb[RTA_NH_ID])
		rt->unsupported = "it uses a nexthop object";
	else if (tb[RTA_ENCAP])
		rt->unsupported = "it has a lightweight-tunnel encapsulation";
	else if (tb[RTA_VIA])
		rt->unsupported = "its gateway is of another address family";
	return true;
}

static int route_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_dump_ctx *c = data;
	struct lj_route_info rt;

	if (!route_parse(nlh, &rt) || (c->family != AF_UNSPEC && rt.family != c->family))
		return MNL_CB_OK;
	if (rt.flags & RTM_F_CLONED)
		return MNL_CB_OK;
	/* A multipath route shows no RTA_OIF; the kernel filter says it uses the link. */
	if (c->oif > 0 && rt.oif != c->oif && !(rt.unsupported && rt.oif == 0))
		return MNL_CB_OK;
	if (lj_array_append(&c->v, &c->n, &c->cap, sizeof(rt), &rt) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

bool lj_route_info_same_key(const struct lj_route_info *a, const struct lj_route_info *b)
{
	return a->family == b->family && a->table == b->table && a->dst_len == b->dst_len &&
	       (a->dst_len == 0 || lj_ip_equal(&a->dst, &b->dst)) && a->tos == b->tos &&
	       a->src_len == b->src_len && (a->src_len == 0 || lj_ip_equal(&a->src, &b->src)) &&
	       a->has_priority == b->has_priority && a->priority == b->priority;
}

int lj_route_dump(struct lj_nl *nl, int family, int oif, struct lj_route_info **ret, size_t *ret_n)
{
	struct route_dump_ctx c = {.family = family, .oif = oif};
	int r;

	r = LJ_NL_SEND(nl, route_dump_cb, &c, lj_route_msg_dump, family, oif);
	if (r < 0) {
		free(c.v);
		return r;
	}
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

int lj_route_msg_info(void *buf, size_t size, enum lj_route_op op, const struct lj_route_info *rt,
		      int oif)
{
	size_t len = lj_ip_len(rt->family);
	struct rtmsg *rtm;
	struct nlmsghdr *nlh = route_start(buf, size, op, rt->family, &rtm);

	if (!nlh)
		return -EMSGSIZE;
	rtm->rtm_dst_len = rt->dst_len;
	rtm->rtm_src_len = rt->src_len;
	rtm->rtm_tos = rt->tos;
	rtm->rtm_table = rt->table < 256 ? (uint8_t)rt->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = rt->protocol;
	rtm->rtm_scope = rt->scope;
	rtm->rtm_type = rt->type;
	rtm->rtm_flags = rt->flags & RTNH_F_ONLINK;
	if (!mnl_attr_put_u32_check(nlh, size, RTA_TABLE, rt->table) ||
	    (rt->dst_len && rt->dst.family == rt->family &&
	     !mnl_attr_put_check(nlh, size, RTA_DST, len, rt->dst.bytes)) ||
	    (rt->src_len && rt->src.family == rt->family &&
	     !mnl_attr_put_check(nlh, size, RTA_SRC, len, rt->src.bytes)) ||
	    (rt->gateway.family == rt->family &&
	     !mnl_attr_put_check(nlh, size, RTA_GATEWAY, len, rt->gateway.bytes)) ||
	    (oif && !mnl_attr_put_u32_check(nlh, size, RTA_OIF, (uint32_t)oif)) ||
	    (rt->has_priority && !mnl_attr_put_u32_check(nlh, size, RTA_PRIORITY, rt->priority)))
		return -EMSGSIZE;
	if (op == LJ_ROUTE_DEL)
		return 0;
	if ((rt->prefsrc.family == rt->family &&
	     !mnl_attr_put_check(nlh, size, RTA_PREFSRC, len, rt->prefsrc.bytes)) ||
	    (rt->flow && !mnl_attr_put_u32_check(nlh, size, RTA_FLOW, rt->flow)) ||
	    (rt->has_pref && !mnl_attr_put_u8_check(nlh, size, RTA_PREF, rt->pref)) ||
	    (rt->expires && rt->family == AF_INET6 &&
	     !mnl_attr_put_u32_check(nlh, size, RTA_EXPIRES, rt->expires)))
		return -EMSGSIZE;
	if (rt->metrics_mask) {
		struct nlattr *m = mnl_attr_nest_start_check(nlh, size, RTA_METRICS);
		if (!m)
			return -EMSGSIZE;
		for (unsigned i = 1; i < LJ_ROUTE_METRICS; i++)
			if ((rt->metrics_mask & (1u << i)) &&
			    !mnl_attr_put_u32_check(nlh, size, (uint16_t)i, rt->metrics[i]))
				return -EMSGSIZE;
		mnl_attr_nest_end(nlh, m);
	}
	return 0;
}

int lj_route_replace_info(struct lj_nl *nl, const struct lj_route_info *rt, int oif)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_route_msg_info, LJ_ROUTE_REPLACE, rt, oif);
}

int lj_route_del_info(struct lj_nl *nl, const struct lj_route_info *rt, int oif)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_route_msg_info, LJ_ROUTE_DEL, rt, oif);
}

int lj_route_add_info(struct lj_nl *nl, const struct lj_route_info *rt, int oif)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_route_msg_info, LJ_ROUTE_ADD, rt, oif);
}
