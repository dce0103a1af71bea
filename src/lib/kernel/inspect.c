/* SPDX-License-Identifier: MIT */
#include "lib/kernel/inspect.h"

#include <linux/if_addr.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kernel/addr-msg.h"
#include "lib/kernel/route-msg.h"

struct addr_match {
	int ifindex;
	const struct lj_cidr *want;
	bool found;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1];
	struct addr_match *m = data;
	const struct nlattr *a;
	size_t len = lj_ip_len(m->want->ip.family);

	if (nlh->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != m->ifindex ||
	    ifa->ifa_family != m->want->ip.family || ifa->ifa_prefixlen != m->want->prefixlen)
		return MNL_CB_OK;
	lj_nl_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
	/* IPv4 keeps the interface's own address in IFA_LOCAL; IPv6 only has IFA_ADDRESS. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (a && mnl_attr_get_payload_len(a) == len &&
	    memcmp(mnl_attr_get_payload(a), m->want->ip.bytes, len) == 0)
		m->found = true;
	return MNL_CB_OK;
}

int lj_inspect_has_addr(struct lj_nl *nl, int ifindex, const struct lj_cidr *c)
{
	struct addr_match m = {.ifindex = ifindex, .want = c};
	int r;

	r = LJ_NL_SEND(nl, addr_cb, &m, lj_addr_msg_dump, c->ip.family, ifindex);
	if (r < 0)
		return r;
	return m.found;
}

struct route_match {
	const struct lj_cidr *dst;
	const struct lj_ip *via;
	int oif;
	bool found;
};

/* Whether the first prefixlen bits of a and b agree. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefixlen)
{
	unsigned full = prefixlen / 8, rest = prefixlen % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (!rest)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1];
	struct route_match *m = data;
	size_t len = lj_ip_len(m->dst->ip.family);
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != m->dst->ip.family ||
	    rtm->rtm_type != RTN_UNICAST || rtm->rtm_dst_len != m->dst->prefixlen)
		return MNL_CB_OK;
	lj_nl_attrs(nlh, sizeof(*rtm), tb, RTA_MAX);
	table = tb[RTA_TABLE] && mnl_attr_get_payload_len(tb[RTA_TABLE]) == 4
			? mnl_attr_get_u32(tb[RTA_TABLE])
			: rtm->rtm_table;
	if (table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	if (rtm->rtm_dst_len) {
		if (!tb[RTA_DST] || mnl_attr_get_payload_len(tb[RTA_DST]) != len ||
		    !prefix_equal(mnl_attr_get_payload(tb[RTA_DST]), m->dst->ip.bytes,
				  rtm->rtm_dst_len))
			return MNL_CB_OK;
	}
	if (m->via && m->via->family != AF_UNSPEC) {
		if (!tb[RTA_GATEWAY] || mnl_attr_get_payload_len(tb[RTA_GATEWAY]) != len ||
		    memcmp(mnl_attr_get_payload(tb[RTA_GATEWAY]), m->via->bytes, len) != 0)
			return MNL_CB_OK;
	}
	if (m->oif) {
		if (!tb[RTA_OIF] || mnl_attr_get_payload_len(tb[RTA_OIF]) != 4 ||
		    (int)mnl_attr_get_u32(tb[RTA_OIF]) != m->oif)
			return MNL_CB_OK;
	}
	m->found = true;
	return MNL_CB_OK;
}

int lj_inspect_has_route(struct lj_nl *nl, const struct lj_cidr *dst, const struct lj_ip *via,
			 int oif)
{
	struct route_match m = {.dst = dst, .via = via, .oif = oif};
	int r;

	r = LJ_NL_SEND(nl, route_cb, &m, lj_route_msg_dump, dst->ip.family, 0);
	if (r < 0)
		return r;
	return m.found;
}

struct lj_inspect {
	struct lj_nl *host;
	struct lj_nl *target; /* NULL when no target was given */
};

int lj_inspect_open(int target_netns_fd, struct lj_inspect **ret)
{
	struct lj_inspect *in = calloc(1, sizeof(*in));
	int r;

	*ret = NULL;
	if (!in)
		return -ENOMEM;
	r = lj_nl_open(-1, &in->host);
	if (r == 0 && target_netns_fd >= 0)
		r = lj_nl_open(target_netns_fd, &in->target);
	if (r < 0) {
		lj_inspect_close(in);
		return r;
	}
	*ret = in;
	return 0;
}

void lj_inspect_close(struct lj_inspect *in)
{
	if (!in)
		return;
	lj_nl_close(in->host);
	lj_nl_close(in->target);
	free(in);
}

static struct lj_nl *side(struct lj_inspect *in, bool in_target)
{
	if (!in)
		return NULL;
	return in_target ? in->target : in->host;
}

int lj_inspect_link(struct lj_inspect *in, bool in_target, const char *name, struct lj_link *ret)
{
	struct lj_nl *nl = side(in, in_target);

	if (!nl)
		return -EBADF;
	return lj_link_get(nl, name, ret);
}

int lj_inspect_link_has_addr(struct lj_inspect *in, bool in_target, const char *name,
			     const struct lj_cidr *c)
{
	struct lj_link l;
	int r;

	r = lj_inspect_link(in, in_target, name, &l);
	if (r < 0)
		return r;
	return lj_inspect_has_addr(side(in, in_target), l.ifindex, c);
}

int lj_inspect_target_has_route(struct lj_inspect *in, const struct lj_cidr *dst,
				const struct lj_ip *via, int oif)
{
	struct lj_nl *nl = side(in, true);

	if (!nl)
		return -EBADF;
	return lj_inspect_has_route(nl, dst, via, oif);
}
