/* SPDX-License-Identifier: MIT */
#include "lib/kernel/link.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shared/array.h"

#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
	struct lj_link *l = data;
	const char *s;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_INFO_KIND:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0) {
			s = mnl_attr_get_str(attr);
			snprintf(l->kind, sizeof(l->kind), "%.*s",
				 (int)strnlen(s, mnl_attr_get_payload_len(attr)), s);
		}
		break;
	case IFLA_INFO_SLAVE_KIND:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0) {
			s = mnl_attr_get_str(attr);
			snprintf(l->slave_kind, sizeof(l->slave_kind), "%.*s",
				 (int)strnlen(s, mnl_attr_get_payload_len(attr)), s);
		}
		break;
	}
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct lj_link *l = data;
	const char *s;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(attr));
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			l->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			l->master = (int)mnl_attr_get_u32(attr);
		break;
	case IFLA_LINK:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			l->parent = (int)mnl_attr_get_u32(attr);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == LJ_MAC_LEN) {
			memcpy(l->mac, mnl_attr_get_payload(attr), LJ_MAC_LEN);
			l->has_mac = true;
		}
		break;
	case IFLA_IFALIAS:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0) {
			s = mnl_attr_get_str(attr);
			snprintf(l->alias, sizeof(l->alias), "%.*s",
				 (int)strnlen(s, mnl_attr_get_payload_len(attr)), s);
		}
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(attr, linkinfo_cb, l);
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct lj_link *l = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, l);
	return MNL_CB_OK;
}

void lj_link_put_ifname(struct nlmsghdr *nlh, const char *name)
{
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
}

static int link_get(struct lj_nl *nl, const char *name, int ifindex, struct lj_link *ret)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct lj_link l = {0};
	int r;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (name)
		lj_link_put_ifname(nlh, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = lj_nl_transact(nl, nlh, link_cb, &l);
	if (r < 0)
		return r;
	if (l.ifindex <= 0)
		return -ENODEV;
	*ret = l;
	return 0;
}

int lj_link_get(struct lj_nl *nl, const char *name, struct lj_link *ret)
{
	return link_get(nl, name, 0, ret);
}

int lj_link_get_by_index(struct lj_nl *nl, int ifindex, struct lj_link *ret)
{
	return link_get(nl, NULL, ifindex, ret);
}

static void put_no_ipv6(struct nlmsghdr *nlh)
{
	struct nlattr *af = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	struct nlattr *in6 = mnl_attr_nest_start(nlh, AF_INET6);

	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, af);
}

int lj_link_add_veth(struct lj_nl *nl, const struct lj_veth_opts *o)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *linkinfo, *data, *peer;
	struct ifinfomsg *pifi;
	int r;

	ifi->ifi_family = AF_UNSPEC;
	lj_link_put_ifname(nlh, o->name);
	if (o->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, o->mtu);
	if (o->master)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)o->master);

	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	lj_link_put_ifname(nlh, o->peer_name);
	if (o->peer_mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, o->peer_mtu);
	if (o->peer_mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, LJ_MAC_LEN, o->peer_mac);
	if (o->peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)o->peer_netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);

	r = lj_nl_transact(nl, nlh, NULL, NULL);
	if (r < 0 || (!o->up && !o->no_ipv6))
		return r;
	/*
	 * Linux 6.18 refuses IFLA_AF_SPEC in the request that creates a link (EAFNOSUPPORT),
	 * so address generation is turned off in a second request, which also brings the link
	 * up. do_setlink() applies IFF_UP before IFLA_AF_SPEC, but a veth end has no carrier
	 * while its peer is down (the peer is brought up later, from inside the target), and
	 * addrconf starts only with carrier: by then the mode is "none", so no link-local
	 * address, DAD, MLD or RS. A link with carrier needs two separate requests.
	 */
	r = lj_link_setup(nl, o->name, o->up, o->no_ipv6);
	if (r < 0) {
		int saved = r;
		lj_link_del(nl, o->name);
		return saved;
	}
	return 0;
}

int lj_link_setup(struct lj_nl *nl, const char *name, bool up, bool no_ipv6)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	lj_link_put_ifname(nlh, name);
	if (no_ipv6)
		put_no_ipv6(nlh);
	return lj_nl_transact(nl, nlh, NULL, NULL);
}

int lj_link_set_alias(struct lj_nl *nl, const char *name, const char *alias)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	lj_link_put_ifname(nlh, name);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	return lj_nl_transact(nl, nlh, NULL, NULL);
}

int lj_link_del(struct lj_nl *nl, const char *name)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	lj_link_put_ifname(nlh, name);
	return lj_nl_transact(nl, nlh, NULL, NULL);
}

int lj_link_set_up(struct lj_nl *nl, const char *name, bool up)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	lj_link_put_ifname(nlh, name);
	return lj_nl_transact(nl, nlh, NULL, NULL);
}

struct count_ctx {
	int master;
	int count;
};

static int count_port_cb(const struct nlmsghdr *nlh, void *data)
{
	struct count_ctx *c = data;
	struct lj_link l;

	link_cb(nlh, &l);
	/* The kernel filters by master since 4.15; check again in case it did not. */
	if (l.master == c->master)
		c->count++;
	return MNL_CB_OK;
}

int lj_link_has_ports(struct lj_nl *nl, int ifindex)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct count_ctx c = {.master = ifindex};
	int r;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = lj_nl_transact(nl, nlh, count_port_cb, &c);
	if (r < 0)
		return r;
	return c.count > 0;
}

int lj_link_add_macvlan(struct lj_nl *nl, const struct lj_macvlan_opts *o)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *linkinfo, *data;

	ifi->ifi_family = AF_UNSPEC;
	if (o->up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	lj_link_put_ifname(nlh, o->name);
	/* The kernel resolves IFLA_LINK in the sender's namespace and creates the link in the
	 * IFLA_NET_NS_FD one directly (rtnl_create_link(dest_net)). */
	mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)o->parent);
	if (o->netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)o->netns_fd);
	if (o->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, o->mtu);
	if (o->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, LJ_MAC_LEN, o->mac);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, o->mode ? o->mode : MACVLAN_MODE_BRIDGE);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return lj_nl_transact(nl, nlh, NULL, NULL);
}

struct child_ctx {
	int parent;
	int (*cb)(const struct lj_link *l, void *data);
	void *data;
	int result;
};

static int netnsid_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_LINK_NETNSID)
		*(bool *)data = true;
	return MNL_CB_OK;
}

static int child_cb(const struct nlmsghdr *nlh, void *data)
{
	struct child_ctx *c = data;
	bool elsewhere = false;
	struct lj_link l;

	if (c->result || nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK; /* stopped: drain the rest of the dump */
	link_cb(nlh, &l);
	/* With IFLA_LINK_NETNSID, IFLA_LINK is an ifindex of another namespace (e.g. the peer
	 * of a veth end): not a child of ours whatever its number. */
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), netnsid_attr_cb, &elsewhere);
	if (!elsewhere && l.ifindex > 0 && l.parent == c->parent && l.ifindex != c->parent)
		c->result = c->cb(&l, c->data);
	return MNL_CB_OK;
}

int lj_link_foreach_child(struct lj_nl *nl, int parent,
			  int (*cb)(const struct lj_link *l, void *data), void *data)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct child_ctx c = {.parent = parent, .cb = cb, .data = data};
	int r;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = lj_nl_transact(nl, nlh, child_cb, &c);
	return r < 0 ? r : c.result;
}

struct remote_ctx {
	int parent;
	int32_t nsid;
	int (*cb)(const struct lj_link *l, void *data);
	void *data;
	int result;
};

static int nsid_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NETNSA_NSID && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		*(int32_t *)data = (int32_t)mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWNSID)
		mnl_attr_parse(nlh, sizeof(struct rtgenmsg), nsid_attr_cb, data);
	return MNL_CB_OK;
}

static int link_netnsid_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_LINK_NETNSID &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		*(int32_t *)data = (int32_t)mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int remote_child_cb(const struct nlmsghdr *nlh, void *data)
{
	struct remote_ctx *c = data;
	int32_t nsid = -1;
	struct lj_link l;

	if (c->result || nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	link_cb(nlh, &l);
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_netnsid_cb, &nsid);
	if (nsid == c->nsid && l.ifindex > 0 && l.parent == c->parent)
		c->result = c->cb(&l, c->data);
	return MNL_CB_OK;
}

int lj_link_foreach_remote_child(struct lj_nl *nl, int home_fd, int parent,
				 int (*cb)(const struct lj_link *l, void *data), void *data)
{
	struct remote_ctx c = {.parent = parent, .nsid = -1, .cb = cb, .data = data};
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETNSID, 0);
	struct rtgenmsg *rtg = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtg));
	struct ifinfomsg *ifi;
	int r;

	/* The number nl's namespace knows home by: none means no link there refers to home. */
	rtg->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_FD, (uint32_t)home_fd);
	r = lj_nl_transact(nl, nlh, nsid_cb, &c.nsid);
	if (r < 0)
		return r;
	if (c.nsid < 0)
		return 0;
	nlh = lj_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = lj_nl_transact(nl, nlh, remote_child_cb, &c);
	return r < 0 ? r : c.result;
}

int lj_link_add_bridge_opts(struct lj_nl *nl, const struct lj_bridge_opts *o)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *linkinfo;
	int r;

	ifi->ifi_family = AF_UNSPEC;
	if (o->up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	lj_link_put_ifname(nlh, o->name);
	if (o->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, o->mtu);
	/* An address given at creation is "set" (NET_ADDR_SET): the bridge keeps it. */
	if (o->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, LJ_MAC_LEN, o->mac);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, linkinfo);
	r = lj_nl_transact(nl, nlh, NULL, NULL);
	if (r < 0 || !o->alias)
		return r;
	r = lj_link_set_alias(nl, o->name, o->alias);
	if (r < 0) {
		int saved = r;
		lj_link_del(nl, o->name);
		return saved;
	}
	return 0;
}

int lj_link_set_master(struct lj_nl *nl, const char *name, int master_ifindex)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	lj_link_put_ifname(nlh, name);
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master_ifindex);
	return lj_nl_transact(nl, nlh, NULL, NULL);
}

struct gen_mode_ctx {
	int found;
	uint8_t mode;
};

static int inet6_cb(const struct nlattr *attr, void *data)
{
	struct gen_mode_ctx *c = data;

	if (mnl_attr_get_type(attr) == IFLA_INET6_ADDR_GEN_MODE &&
	    mnl_attr_validate(attr, MNL_TYPE_U8) >= 0) {
		c->mode = mnl_attr_get_u8(attr);
		c->found = 1;
	}
	return MNL_CB_OK;
}

static int af_spec_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == AF_INET6)
		mnl_attr_parse_nested(attr, inet6_cb, data);
	return MNL_CB_OK;
}

static int gen_mode_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_AF_SPEC)
		mnl_attr_parse_nested(attr, af_spec_cb, data);
	return MNL_CB_OK;
}

static int gen_mode_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		mnl_attr_parse(nlh, sizeof(struct ifinfomsg), gen_mode_attr_cb, data);
	return MNL_CB_OK;
}

int lj_link_get_addr_gen_mode(struct lj_nl *nl, int ifindex, uint8_t *ret)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct gen_mode_ctx c = {0};
	int r;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = lj_nl_transact(nl, nlh, gen_mode_cb, &c);
	if (r < 0)
		return r;
	if (!c.found)
		return -ENODATA;
	*ret = c.mode;
	return 0;
}

int lj_link_set_addr_gen_mode(struct lj_nl *nl, const char *name, uint8_t mode)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *af, *in6;

	ifi->ifi_family = AF_UNSPEC;
	lj_link_put_ifname(nlh, name);
	af = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	in6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, mode);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, af);
	return lj_nl_transact(nl, nlh, NULL, NULL);
}

struct ports_ctx {
	int master;
	const char *kind; /* not NULL: links of this kind, master ignored */
	struct lj_link *v;
	size_t n, cap;
};

static int list_port_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ports_ctx *c = data;
	struct lj_link l;

	link_cb(nlh, &l);
	if (l.ifindex <= 0 || (c->kind ? strcmp(l.kind, c->kind) != 0 : l.master != c->master))
		return MNL_CB_OK;
	if (lj_array_append(&c->v, &c->n, &c->cap, sizeof(l), &l) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int lj_link_list_ports(struct lj_nl *nl, int master, struct lj_link **ret, size_t *ret_n)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct ports_ctx c = {.master = master};
	int r;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = lj_nl_transact(nl, nlh, list_port_cb, &c);
	if (r < 0) {
		free(c.v);
		return r;
	}
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

int lj_link_list_kind(struct lj_nl *nl, const char *kind, struct lj_link **ret, size_t *ret_n)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct ports_ctx c = {.kind = kind};
	int r;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = lj_nl_transact(nl, nlh, list_port_cb, &c);
	if (r < 0) {
		free(c.v);
		return r;
	}
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

int lj_link_batch_add(struct lj_link_batch *b, const char *name)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		char(*names)[IFNAMSIZ] = realloc(b->names, cap * sizeof(*names));
		if (!names)
			return -ENOMEM;
		b->names = names;
		b->cap = cap;
	}
	snprintf(b->names[b->n++], IFNAMSIZ, "%s", name);
	return 0;
}

void lj_link_batch_free(struct lj_link_batch *b)
{
	free(b->names);
	memset(b, 0, sizeof(*b));
}

/* lanjoin's range of link groups for batch deletion; the low bits vary until one is unused. */
#define BATCH_GROUP_BASE 0x4c4a0000u

struct groups_ctx {
	uint32_t base;
	uint64_t used[4]; /* bit k: group base + k is in use */
};

static int group_cb(const struct nlmsghdr *nlh, void *data)
{
	struct groups_ctx *g = data;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg))
	{
		uint32_t v;
		if (mnl_attr_get_type(a) != IFLA_GROUP || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			continue;
		v = mnl_attr_get_u32(a) - g->base;
		if (v < 256)
			g->used[v / 64] |= 1ull << (v % 64);
	}
	return MNL_CB_OK;
}

static int set_group(struct lj_nl *nl, const char *name, uint32_t group)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	lj_link_put_ifname(nlh, name);
	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	return lj_nl_transact(nl, nlh, NULL, NULL);
}

int lj_link_del_batch(struct lj_nl *nl, const struct lj_link_batch *b)
{
	struct groups_ctx g = {.base = BATCH_GROUP_BASE};
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	uint32_t group = 0;
	size_t moved = 0, i;
	int r;

	if (!b->n)
		return 0;
	if (b->n == 1) {
		/* Nothing to share: one plain delete is cheaper than finding a free group. */
		r = lj_link_del(nl, b->names[0]);
		return r == -ENODEV ? 0 : r;
	}
	/* A group no link uses. The state lock keeps other lanjoin runs out meanwhile. */
	nlh = lj_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = lj_nl_transact(nl, nlh, group_cb, &g);
	if (r < 0)
		return r;
	for (uint32_t k = 1; k < 256 && !group; k++)
		if (!(g.used[k / 64] & (1ull << (k % 64))))
			group = g.base + k;
	if (!group)
		return -EBUSY;

	for (i = 0; i < b->n; i++) {
		r = set_group(nl, b->names[i], group);
		if (r == -ENODEV)
			continue; /* already gone */
		if (r < 0)
			goto restore;
		moved++;
	}
	if (!moved)
		return 0;
	nlh = lj_nl_msg(nl, RTM_DELLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	r = lj_nl_transact(nl, nlh, NULL, NULL);
	if (r == 0)
		return 0;
	i = b->n;
restore:
	/* lanjoin's links are in the default group (0) until moved here. */
	while (i-- > 0)
		set_group(nl, b->names[i], 0);
	return r;
}

bool lj_link_is_wireless(const char *name, int ifindex)
{
	char path[128], buf[32];
	struct stat st;
	ssize_t n;
	int fd;

	if (!lj_ifname_valid(name))
		return false;
	/* /sys must show our namespace's links (ip netns exec mounts it so): the ifindex first. */
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (atoi(buf) != ifindex)
		return false;
	/* wireless/: wireless extensions (every cfg80211 driver too); phy80211: cfg80211. */
	snprintf(path, sizeof(path), "/sys/class/net/%s/wireless", name);
	if (stat(path, &st) == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/class/net/%s/phy80211", name);
	return stat(path, &st) == 0;
}
