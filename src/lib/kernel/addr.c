/* SPDX-License-Identifier: MIT */
#include "lib/kernel/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include "lib/kernel/addr-msg.h"
#include "shared/array.h"

/* Start an address request on link ifindex in buf: family and prefix length of c, scope universe.
 */
static struct nlmsghdr *addr_msg(void *buf, size_t size, uint16_t type, uint16_t flags, int ifindex,
				 const struct lj_cidr *c)
{
	struct nlmsghdr *nlh = lj_nl_msg_start(buf, size, type, flags, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa;

	if (!nlh)
		return NULL;
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_family = (uint8_t)c->ip.family;
	ifa->ifa_prefixlen = c->prefixlen;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	return nlh;
}

/* IFA_LOCAL = local and IFA_ADDRESS = address (the peer, or local again), of family's length. */
static bool put_local(struct nlmsghdr *nlh, size_t size, int family, const struct lj_ip *local,
		      const struct lj_ip *address)
{
	size_t len = lj_ip_len(family);

	return mnl_attr_put_check(nlh, size, IFA_LOCAL, len, local->bytes) &&
	       mnl_attr_put_check(nlh, size, IFA_ADDRESS, len, address->bytes);
}

int lj_addr_msg_add(void *buf, size_t size, int ifindex, const struct lj_cidr *c, uint32_t flags)
{
	struct nlmsghdr *nlh =
		addr_msg(buf, size, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, c);

	if (!nlh || !put_local(nlh, size, c->ip.family, &c->ip, &c->ip))
		return -EMSGSIZE;
	if (c->ip.family == AF_INET && c->prefixlen < 31) {
		uint32_t host = ntohl(c->ip.v4.s_addr);
		uint32_t mask = c->prefixlen ? ~0u << (32 - c->prefixlen) : 0;
		uint32_t brd = htonl(host | ~mask);
		if (!mnl_attr_put_check(nlh, size, IFA_BROADCAST, sizeof(brd), &brd))
			return -EMSGSIZE;
	}
	if (flags && !mnl_attr_put_u32_check(nlh, size, IFA_FLAGS, flags))
		return -EMSGSIZE;
	return 0;
}

int lj_addr_add(struct lj_nl *nl, int ifindex, const struct lj_cidr *c, uint32_t flags)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_addr_msg_add, ifindex, c, flags);
}

int lj_addr_msg_del(void *buf, size_t size, int ifindex, const struct lj_cidr *c)
{
	struct nlmsghdr *nlh = addr_msg(buf, size, RTM_DELADDR, 0, ifindex, c);

	if (!nlh || !put_local(nlh, size, c->ip.family, &c->ip, &c->ip))
		return -EMSGSIZE;
	return 0;
}

int lj_addr_del(struct lj_nl *nl, int ifindex, const struct lj_cidr *c)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_addr_msg_del, ifindex, c);
}

int lj_addr_msg_dump(void *buf, size_t size, int family, int ifindex)
{
	struct nlmsghdr *nlh =
		lj_nl_msg_start(buf, size, RTM_GETADDR, NLM_F_DUMP, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa;

	if (!nlh)
		return -EMSGSIZE;
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_index = (uint32_t)ifindex;
	return 0;
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
	mnl_attr_for_each(attr, nlh, sizeof(*ifa))
	{
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
	if (lj_array_append(&c->v, &c->n, &c->cap, sizeof(e), &e) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int lj_addr_list(struct lj_nl *nl, int family, struct lj_addr_entry **ret, size_t *ret_n)
{
	struct addr_list_ctx c = {0};
	int r;

	r = LJ_NL_SEND(nl, addr_list_cb, &c, lj_addr_msg_dump, family, 0);
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
	struct addr_list_ctx c = {0};
	struct lj_addr_entry *all;
	void *req = lj_nl_req(nl);
	size_t n, k = 0;
	int r;

	/* The link's addresses only, not every link's (a host with many links has many). */
	r = lj_addr_msg_dump(req, LJ_NL_REQ_SIZE, family, ifindex);
	if (r == 0)
		r = ifindex ? lj_nl_transact_filtered(nl, req, addr_list_cb, &c)
			    : lj_nl_transact(nl, req, addr_list_cb, &c);
	if (r < 0) {
		free(c.v);
		return r;
	}
	all = c.v;
	n = c.n;
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

int lj_addr_parse(const struct nlmsghdr *nlh, struct lj_addr_info *ret)
{
	const struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa;
	const struct nlattr *ip;
	size_t len;

	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return -EINVAL;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return -EINVAL;
	len = lj_ip_len(ifa->ifa_family);
	lj_nl_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
	/* IFA_LOCAL is the own address (IPv4 point-to-point); IPv6 sends only IFA_ADDRESS. */
	ip = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!ip || mnl_attr_get_payload_len(ip) != len)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	ret->ifindex = (int)ifa->ifa_index;
	ret->cidr.ip.family = ifa->ifa_family;
	memcpy(ret->cidr.ip.bytes, mnl_attr_get_payload(ip), len);
	ret->cidr.prefixlen = ifa->ifa_prefixlen;
	ret->scope = ifa->ifa_scope;
	ret->flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && mnl_attr_get_payload_len(tb[IFA_FLAGS]) == sizeof(uint32_t))
		ret->flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
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
	if (lj_array_append(&l->v, &l->n, &l->cap, sizeof(ai), &ai) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int lj_addr_dump(struct lj_nl *nl, int family, int ifindex, struct lj_addr_info **ret,
		 size_t *ret_n)
{
	struct addr_dump l = {.ifindex = ifindex};
	int r;

	/* Filtered here, not by the kernel: all links' addresses are asked for. */
	r = LJ_NL_SEND(nl, addr_dump_cb, &l, lj_addr_msg_dump, family, 0);
	if (r < 0) {
		free(l.v);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

struct addr_full_ctx {
	int family, ifindex;
	struct lj_addr_full *v;
	size_t n, cap;
	int error;
};

static bool full_ip(const struct nlattr *a, int family, struct lj_ip *ret)
{
	size_t len = lj_ip_len(family);

	if (!a || mnl_attr_get_payload_len(a) != len)
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	memcpy(ret->bytes, mnl_attr_get_payload(a), len);
	return true;
}

static int full_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_MAX + 1];
	struct addr_full_ctx *c = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct lj_addr_full a = {0};
	struct lj_ip local, addr;
	bool has_local, has_addr;

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;
	if ((int)ifa->ifa_index != c->ifindex ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    (c->family != AF_UNSPEC && ifa->ifa_family != c->family))
		return MNL_CB_OK;
	lj_nl_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
	has_local = full_ip(tb[IFA_LOCAL], ifa->ifa_family, &local);
	has_addr = full_ip(tb[IFA_ADDRESS], ifa->ifa_family, &addr);
	if (!has_local && !has_addr)
		return MNL_CB_OK;
	a.ifindex = (int)ifa->ifa_index;
	a.local.ip = has_local ? local : addr;
	a.local.prefixlen = ifa->ifa_prefixlen;
	if (has_local && has_addr && !lj_ip_equal(&local, &addr))
		a.peer = addr;
	full_ip(tb[IFA_BROADCAST], ifa->ifa_family, &a.broadcast);
	if (tb[IFA_LABEL] && mnl_attr_validate(tb[IFA_LABEL], MNL_TYPE_NUL_STRING) >= 0)
		snprintf(a.label, sizeof(a.label), "%s", mnl_attr_get_str(tb[IFA_LABEL]));
	a.scope = ifa->ifa_scope;
	a.flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && mnl_attr_validate(tb[IFA_FLAGS], MNL_TYPE_U32) >= 0)
		a.flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	a.valid_lft = a.preferred_lft = UINT32_MAX;
	if (tb[IFA_CACHEINFO] &&
	    mnl_attr_get_payload_len(tb[IFA_CACHEINFO]) >= sizeof(struct ifa_cacheinfo)) {
		const struct ifa_cacheinfo *ci = mnl_attr_get_payload(tb[IFA_CACHEINFO]);
		a.valid_lft = ci->ifa_valid;
		a.preferred_lft = ci->ifa_prefered;
	}
	if (tb[IFA_RT_PRIORITY] && mnl_attr_validate(tb[IFA_RT_PRIORITY], MNL_TYPE_U32) >= 0)
		a.rt_priority = mnl_attr_get_u32(tb[IFA_RT_PRIORITY]);
#ifdef IFA_PROTO
	if (tb[IFA_PROTO] && mnl_attr_validate(tb[IFA_PROTO], MNL_TYPE_U8) >= 0)
		a.proto = mnl_attr_get_u8(tb[IFA_PROTO]);
#endif
	if (lj_array_append(&c->v, &c->n, &c->cap, sizeof(a), &a) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int lj_addr_dump_full(struct lj_nl *nl, int family, int ifindex, struct lj_addr_full **ret,
		      size_t *ret_n)
{
	struct addr_full_ctx c = {.family = family, .ifindex = ifindex};
	int r;

	r = LJ_NL_SEND(nl, full_dump_cb, &c, lj_addr_msg_dump, family, ifindex);
	if (r < 0) {
		free(c.v);
		return r;
	}
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

int lj_addr_msg_add_full(void *buf, size_t size, int ifindex, const struct lj_addr_full *a,
			 const char *label, uint32_t extra_flags, bool replace)
{
	struct nlmsghdr *nlh =
		addr_msg(buf, size, RTM_NEWADDR,
			 replace ? NLM_F_REPLACE : NLM_F_CREATE | NLM_F_EXCL, ifindex, &a->local);
	uint32_t flags = (a->flags & LJ_ADDR_SETTABLE_FLAGS) | extra_flags;
	int family = a->local.ip.family;
	struct ifaddrmsg *ifa;

	if (!nlh ||
	    !put_local(nlh, size, family, &a->local.ip,
		       a->peer.family == family ? &a->peer : &a->local.ip) ||
	    (a->broadcast.family == AF_INET && family == AF_INET &&
	     !mnl_attr_put_check(nlh, size, IFA_BROADCAST, 4, a->broadcast.bytes)))
		return -EMSGSIZE;
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_scope = a->scope;
	ifa->ifa_flags = (uint8_t)flags;
	if (!label)
		label = a->label;
	if ((family == AF_INET && label[0] &&
	     !mnl_attr_put_strz_check(nlh, size, IFA_LABEL, label)) ||
	    !mnl_attr_put_u32_check(nlh, size, IFA_FLAGS, flags))
		return -EMSGSIZE;
	if (a->valid_lft != UINT32_MAX || a->preferred_lft != UINT32_MAX) {
		struct ifa_cacheinfo ci = {
			.ifa_valid = a->valid_lft ? a->valid_lft : 1,
			.ifa_prefered = a->preferred_lft,
		};
		if (ci.ifa_prefered > ci.ifa_valid)
			ci.ifa_prefered = ci.ifa_valid;
		if (!mnl_attr_put_check(nlh, size, IFA_CACHEINFO, sizeof(ci), &ci))
			return -EMSGSIZE;
	}
	if (a->rt_priority && !mnl_attr_put_u32_check(nlh, size, IFA_RT_PRIORITY, a->rt_priority))
		return -EMSGSIZE;
#ifdef IFA_PROTO
	if (a->proto && !mnl_attr_put_u8_check(nlh, size, IFA_PROTO, a->proto))
		return -EMSGSIZE;
#endif
	return 0;
}

int lj_addr_add_full(struct lj_nl *nl, int ifindex, const struct lj_addr_full *a, const char *label,
		     uint32_t extra_flags, bool replace)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_addr_msg_add_full, ifindex, a, label, extra_flags,
			  replace);
}

int lj_addr_msg_del_full(void *buf, size_t size, int ifindex, const struct lj_addr_full *a)
{
	struct nlmsghdr *nlh = addr_msg(buf, size, RTM_DELADDR, 0, ifindex, &a->local);
	size_t len = lj_ip_len(a->local.ip.family);

	if (!nlh)
		return -EMSGSIZE;
	if (a->local.ip.family == AF_INET &&
	    !put_local(nlh, size, AF_INET, &a->local.ip,
		       a->peer.family == AF_INET ? &a->peer : &a->local.ip))
		return -EMSGSIZE;
	if (a->local.ip.family != AF_INET &&
	    !mnl_attr_put_check(nlh, size, IFA_LOCAL, len, a->local.ip.bytes))
		return -EMSGSIZE;
	return 0;
}

int lj_addr_del_full(struct lj_nl *nl, int ifindex, const struct lj_addr_full *a)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_addr_msg_del_full, ifindex, a);
}
