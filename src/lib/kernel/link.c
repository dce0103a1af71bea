/* SPDX-License-Identifier: MIT */
#include "lib/kernel/link.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/kernel/link-msg.h"
#include "shared/array.h"

#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif

/* A string attribute that may lack its NUL (IFLA_INFO_KIND, IFLA_IFALIAS) into out; absent: "". */
static void copy_str(const struct nlattr *attr, char *out, size_t size)
{
	const char *str;

	if (!attr || mnl_attr_validate(attr, MNL_TYPE_STRING) < 0)
		return;
	str = mnl_attr_get_str(attr);
	snprintf(out, size, "%.*s", (int)strnlen(str, mnl_attr_get_payload_len(attr)), str);
}

/* A u32 attribute as an int into *ret, if present and valid. */
static void copy_int(const struct nlattr *attr, int *ret)
{
	if (attr && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		*ret = (int)mnl_attr_get_u32(attr);
}

/*
 * Parse an RTM_NEWLINK (or, from a monitor, RTM_DELLINK) into *l, its attributes indexed in
 * tb (IFLA_MAX + 1 entries) for the caller's further questions. Other messages: false, *l
 * untouched.
 */
static bool link_parse(const struct nlmsghdr *nlh, struct lj_link *l, const struct nlattr **tb)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *info[IFLA_INFO_MAX + 1];
	int mtu = 0;

	if ((nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return false;
	memset(l, 0, sizeof(*l));
	l->port_state = -1;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	lj_nl_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX);
	if (tb[IFLA_IFNAME] && mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) >= 0)
		snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	copy_int(tb[IFLA_MTU], &mtu);
	l->mtu = (uint32_t)mtu;
	copy_int(tb[IFLA_MASTER], &l->master);
	copy_int(tb[IFLA_LINK], &l->parent);
	copy_int(tb[IFLA_CARRIER_UP_COUNT], &l->carrier_up);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == LJ_MAC_LEN) {
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), LJ_MAC_LEN);
		l->has_mac = true;
	}
	copy_str(tb[IFLA_IFALIAS], l->alias, sizeof(l->alias));
	if (tb[IFLA_LINKINFO]) {
		lj_nl_attrs_nested(tb[IFLA_LINKINFO], info, IFLA_INFO_MAX);
		copy_str(info[IFLA_INFO_KIND], l->kind, sizeof(l->kind));
		copy_str(info[IFLA_INFO_SLAVE_KIND], l->slave_kind, sizeof(l->slave_kind));
		l->port_state = -1;
		if (info[IFLA_INFO_SLAVE_DATA] && strcmp(l->slave_kind, "bridge") == 0) {
			const struct nlattr *port[IFLA_BRPORT_MAX + 1];

			lj_nl_attrs_nested(info[IFLA_INFO_SLAVE_DATA], port, IFLA_BRPORT_MAX);
			if (port[IFLA_BRPORT_STATE] &&
			    mnl_attr_validate(port[IFLA_BRPORT_STATE], MNL_TYPE_U8) >= 0)
				l->port_state = mnl_attr_get_u8(port[IFLA_BRPORT_STATE]);
		}
	}
	return true;
}

bool lj_link_port_forwards(const struct lj_link *l)
{
	return l->port_state == BR_STATE_FORWARDING;
}

bool lj_link_port_disabled(const struct lj_link *l)
{
	return l->port_state == BR_STATE_DISABLED;
}

bool lj_link_parse_msg(const struct nlmsghdr *nlh, struct lj_link *ret)
{
	const struct nlattr *tb[IFLA_MAX + 1];

	return link_parse(nlh, ret, tb);
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1];

	link_parse(nlh, data, tb);
	return MNL_CB_OK;
}

/* Start a link request of type and flags on the link named name (NULL: none) in buf. */
static struct nlmsghdr *link_msg(void *buf, size_t size, uint16_t type, uint16_t flags,
				 const char *name)
{
	struct nlmsghdr *nlh = lj_nl_msg_start(buf, size, type, flags, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi;

	if (!nlh)
		return NULL;
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_family = AF_UNSPEC;
	if (name && !mnl_attr_put_strz_check(nlh, size, IFLA_IFNAME, name))
		return NULL;
	return nlh;
}

/* The same with IFF_UP set in the header when up. */
static struct nlmsghdr *link_msg_up(void *buf, size_t size, uint16_t type, uint16_t flags,
				    const char *name, bool up)
{
	struct nlmsghdr *nlh = link_msg(buf, size, type, flags, name);
	struct ifinfomsg *ifi;

	if (nlh && up) {
		ifi = mnl_nlmsg_get_payload(nlh);
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	return nlh;
}

int lj_link_msg_get(void *buf, size_t size, const char *name, int ifindex)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_GETLINK, 0, name);
	struct ifinfomsg *ifi;

	if (!nlh || !mnl_attr_put_u32_check(nlh, size, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS))
		return -EMSGSIZE;
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_index = ifindex;
	return 0;
}

int lj_link_msg_dump(void *buf, size_t size, int master)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_GETLINK, NLM_F_DUMP, NULL);

	if (!nlh || (master && !mnl_attr_put_u32_check(nlh, size, IFLA_MASTER, (uint32_t)master)) ||
	    !mnl_attr_put_u32_check(nlh, size, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS))
		return -EMSGSIZE;
	return 0;
}

static int link_get(struct lj_nl *nl, const char *name, int ifindex, struct lj_link *ret)
{
	struct lj_link l = {0};
	int r;

	r = LJ_NL_SEND(nl, link_cb, &l, lj_link_msg_get, name, ifindex);
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

/* IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE = mode } }. False if it does not fit. */
static bool put_addr_gen_mode(struct nlmsghdr *nlh, size_t size, uint8_t mode)
{
	struct nlattr *af = mnl_attr_nest_start_check(nlh, size, IFLA_AF_SPEC);
	struct nlattr *in6 = af ? mnl_attr_nest_start_check(nlh, size, AF_INET6) : NULL;

	if (!in6 || !mnl_attr_put_u8_check(nlh, size, IFLA_INET6_ADDR_GEN_MODE, mode))
		return false;
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, af);
	return true;
}

/* Start IFLA_LINKINFO { IFLA_INFO_KIND = kind, IFLA_INFO_DATA { ... } }: the data nest or NULL. */
static struct nlattr *put_linkinfo(struct nlmsghdr *nlh, size_t size, const char *kind,
				   struct nlattr **ret_linkinfo)
{
	struct nlattr *linkinfo = mnl_attr_nest_start_check(nlh, size, IFLA_LINKINFO);

	if (!linkinfo || !mnl_attr_put_strz_check(nlh, size, IFLA_INFO_KIND, kind))
		return NULL;
	*ret_linkinfo = linkinfo;
	return mnl_attr_nest_start_check(nlh, size, IFLA_INFO_DATA);
}

int lj_link_msg_add_veth(void *buf, size_t size, const struct lj_veth_opts *o)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, o->name);
	struct nlattr *linkinfo = NULL, *data, *peer;
	struct ifinfomsg *pifi;

	if (!nlh || (o->mtu && !mnl_attr_put_u32_check(nlh, size, IFLA_MTU, o->mtu)) ||
	    (o->master && !mnl_attr_put_u32_check(nlh, size, IFLA_MASTER, (uint32_t)o->master)) ||
	    (o->mac && !mnl_attr_put_check(nlh, size, IFLA_ADDRESS, LJ_MAC_LEN, o->mac)))
		return -EMSGSIZE;
	data = put_linkinfo(nlh, size, "veth", &linkinfo);
	peer = data ? mnl_attr_nest_start_check(nlh, size, VETH_INFO_PEER) : NULL;
	/* The peer nest starts with its own ifinfomsg (libmnl has no bounded put for it). */
	if (!peer || nlh->nlmsg_len + MNL_ALIGN(sizeof(*pifi)) > size)
		return -EMSGSIZE;
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	if (!mnl_attr_put_strz_check(nlh, size, IFLA_IFNAME, o->peer_name) ||
	    (o->peer_mtu && !mnl_attr_put_u32_check(nlh, size, IFLA_MTU, o->peer_mtu)) ||
	    (o->peer_mac &&
	     !mnl_attr_put_check(nlh, size, IFLA_ADDRESS, LJ_MAC_LEN, o->peer_mac)) ||
	    (o->peer_netns_fd >= 0 &&
	     !mnl_attr_put_u32_check(nlh, size, IFLA_NET_NS_FD, (uint32_t)o->peer_netns_fd)))
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return 0;
}

struct echo_ctx {
	const char *name;
	struct lj_link l; /* ifindex 0 until the echo came */
};

/* The kernel's echo of a link it created (NLM_F_ECHO): the link as it made it. */
static int echo_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	struct echo_ctx *c = data;
	struct lj_link l;

	if (nlh->nlmsg_type == RTM_NEWLINK && link_parse(nlh, &l, tb) &&
	    strcmp(l.name, c->name) == 0)
		c->l = l;
	return MNL_CB_OK;
}

int lj_link_add_veth(struct lj_nl *nl, const struct lj_veth_opts *o)
{
	return lj_link_add_veth_echo(nl, o, NULL);
}

int lj_link_add_veth_echo(struct lj_nl *nl, const struct lj_veth_opts *o, struct lj_link *ret)
{
	struct echo_ctx echo = {.name = o->name};
	struct nlmsghdr *nlh = lj_nl_req(nl);
	int r;

	r = lj_link_msg_add_veth(nlh, LJ_NL_REQ_SIZE, o);
	if (r < 0)
		return r;
	/* The kernel answers with the new host end (Linux 6.3; before, nothing: 0). */
	if (ret)
		nlh->nlmsg_flags |= NLM_F_ECHO;
	r = lj_nl_transact(nl, nlh, ret ? echo_cb : NULL, &echo);
	if (r == 0 && ret)
		*ret = echo.l;
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

int lj_link_msg_setup(void *buf, size_t size, const char *name, bool up, bool no_ipv6)
{
	struct nlmsghdr *nlh = link_msg_up(buf, size, RTM_NEWLINK, 0, name, up);

	if (!nlh || (no_ipv6 && !put_addr_gen_mode(nlh, size, IN6_ADDR_GEN_MODE_NONE)))
		return -EMSGSIZE;
	return 0;
}

int lj_link_setup(struct lj_nl *nl, const char *name, bool up, bool no_ipv6)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_setup, name, up, no_ipv6);
}

int lj_link_msg_set_alias(void *buf, size_t size, const char *name, const char *alias)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_NEWLINK, 0, name);

	if (!nlh || !mnl_attr_put_strz_check(nlh, size, IFLA_IFALIAS, alias))
		return -EMSGSIZE;
	return 0;
}

int lj_link_set_alias(struct lj_nl *nl, const char *name, const char *alias)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_set_alias, name, alias);
}

int lj_link_msg_del(void *buf, size_t size, const char *name)
{
	return link_msg(buf, size, RTM_DELLINK, 0, name) ? 0 : -EMSGSIZE;
}

int lj_link_del(struct lj_nl *nl, const char *name)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_del, name);
}

int lj_link_msg_set_up(void *buf, size_t size, const char *name, bool up)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_NEWLINK, 0, name);
	struct ifinfomsg *ifi;

	if (!nlh)
		return -EMSGSIZE;
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return 0;
}

int lj_link_set_up(struct lj_nl *nl, const char *name, bool up)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_set_up, name, up);
}

struct count_ctx {
	int master;
	int count;
};

static int count_port_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	struct count_ctx *c = data;
	struct lj_link l;

	/* The kernel filters by master since 4.15; check again in case it did not. */
	if (link_parse(nlh, &l, tb) && l.master == c->master)
		c->count++;
	return MNL_CB_OK;
}

int lj_link_has_ports(struct lj_nl *nl, int ifindex)
{
	struct count_ctx c = {.master = ifindex};
	int r;

	r = LJ_NL_SEND(nl, count_port_cb, &c, lj_link_msg_dump, ifindex);
	if (r < 0)
		return r;
	return c.count > 0;
}

int lj_link_msg_add_macvlan(void *buf, size_t size, const struct lj_macvlan_opts *o)
{
	struct nlmsghdr *nlh =
		link_msg_up(buf, size, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, o->name, o->up);
	struct nlattr *linkinfo = NULL, *data;

	/* The kernel resolves IFLA_LINK in the sender's namespace and creates the link in the
	 * IFLA_NET_NS_FD one directly (rtnl_create_link(dest_net)). */
	if (!nlh || !mnl_attr_put_u32_check(nlh, size, IFLA_LINK, (uint32_t)o->parent) ||
	    (o->netns_fd >= 0 &&
	     !mnl_attr_put_u32_check(nlh, size, IFLA_NET_NS_FD, (uint32_t)o->netns_fd)) ||
	    (o->mtu && !mnl_attr_put_u32_check(nlh, size, IFLA_MTU, o->mtu)) ||
	    (o->mac && !mnl_attr_put_check(nlh, size, IFLA_ADDRESS, LJ_MAC_LEN, o->mac)))
		return -EMSGSIZE;
	data = put_linkinfo(nlh, size, "macvlan", &linkinfo);
	if (!data || !mnl_attr_put_u32_check(nlh, size, IFLA_MACVLAN_MODE,
					     o->mode ? o->mode : MACVLAN_MODE_BRIDGE))
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return 0;
}

int lj_link_add_macvlan(struct lj_nl *nl, const struct lj_macvlan_opts *o)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_add_macvlan, o);
}

struct child_ctx {
	int parent;
	int32_t nsid; /* remote children: the number of the parent's namespace */
	int (*cb)(const struct lj_link *l, void *data);
	void *data;
	int result;
	const char *name; /* lj_link_foreach_child_named: the link to find too */
	struct lj_link *named;
};

static int child_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	struct child_ctx *c = data;
	struct lj_link l;

	if ((c->result && !c->name) || !link_parse(nlh, &l, tb))
		return MNL_CB_OK; /* stopped: drain the rest of the dump */
	if (c->name && l.ifindex > 0 && strcmp(l.name, c->name) == 0)
		*c->named = l;
	if (c->result)
		return MNL_CB_OK;
	/* With IFLA_LINK_NETNSID, IFLA_LINK is an ifindex of another namespace (e.g. the peer
	 * of a veth end): not a child of ours whatever its number. */
	if (!tb[IFLA_LINK_NETNSID] && l.ifindex > 0 && l.parent == c->parent &&
	    l.ifindex != c->parent)
		c->result = c->cb(&l, c->data);
	return MNL_CB_OK;
}

int lj_link_foreach_child(struct lj_nl *nl, int parent,
			  int (*cb)(const struct lj_link *l, void *data), void *data)
{
	struct child_ctx c = {.parent = parent, .cb = cb, .data = data};
	int r;

	r = LJ_NL_SEND(nl, child_cb, &c, lj_link_msg_dump, 0);
	return r < 0 ? r : c.result;
}

int lj_link_foreach_child_named(struct lj_nl *nl, int parent,
				int (*cb)(const struct lj_link *l, void *data), void *data,
				const char *name, struct lj_link *ret_named)
{
	struct child_ctx c = {
		.parent = parent, .cb = cb, .data = data, .name = name, .named = ret_named};
	int r;

	memset(ret_named, 0, sizeof(*ret_named));
	r = LJ_NL_SEND(nl, child_cb, &c, lj_link_msg_dump, 0);
	return r < 0 ? r : c.result;
}

int lj_link_msg_get_nsid(void *buf, size_t size, int netns_fd)
{
	struct nlmsghdr *nlh = lj_nl_msg_start(buf, size, RTM_GETNSID, 0, sizeof(struct rtgenmsg));
	struct rtgenmsg *rtg;

	if (!nlh || !mnl_attr_put_u32_check(nlh, size, NETNSA_FD, (uint32_t)netns_fd))
		return -EMSGSIZE;
	rtg = mnl_nlmsg_get_payload(nlh);
	rtg->rtgen_family = AF_UNSPEC;
	return 0;
}

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NETNSA_MAX + 1];

	if (nlh->nlmsg_type != RTM_NEWNSID)
		return MNL_CB_OK;
	lj_nl_attrs(nlh, sizeof(struct rtgenmsg), tb, NETNSA_MAX);
	if (tb[NETNSA_NSID] && mnl_attr_validate(tb[NETNSA_NSID], MNL_TYPE_U32) >= 0)
		*(int32_t *)data = (int32_t)mnl_attr_get_u32(tb[NETNSA_NSID]);
	return MNL_CB_OK;
}

static int remote_child_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	struct child_ctx *c = data;
	int nsid = -1;
	struct lj_link l;

	if (c->result || !link_parse(nlh, &l, tb))
		return MNL_CB_OK;
	copy_int(tb[IFLA_LINK_NETNSID], &nsid);
	if (nsid == c->nsid && l.ifindex > 0 && l.parent == c->parent)
		c->result = c->cb(&l, c->data);
	return MNL_CB_OK;
}

int lj_link_foreach_remote_child(struct lj_nl *nl, int home_fd, int parent,
				 int (*cb)(const struct lj_link *l, void *data), void *data)
{
	struct child_ctx c = {.parent = parent, .nsid = -1, .cb = cb, .data = data};
	int r;

	/* The number nl's namespace knows home by: none means no link there refers to home. */
	r = LJ_NL_SEND(nl, nsid_cb, &c.nsid, lj_link_msg_get_nsid, home_fd);
	if (r < 0)
		return r;
	if (c.nsid < 0)
		return 0;
	r = LJ_NL_SEND(nl, remote_child_cb, &c, lj_link_msg_dump, 0);
	return r < 0 ? r : c.result;
}

int lj_link_msg_add_bridge(void *buf, size_t size, const struct lj_bridge_opts *o)
{
	struct nlmsghdr *nlh =
		link_msg_up(buf, size, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, o->name, o->up);
	struct nlattr *linkinfo;

	/* An address given at creation is "set" (NET_ADDR_SET): the bridge keeps it. */
	if (!nlh || (o->mtu && !mnl_attr_put_u32_check(nlh, size, IFLA_MTU, o->mtu)) ||
	    (o->mac && !mnl_attr_put_check(nlh, size, IFLA_ADDRESS, LJ_MAC_LEN, o->mac)))
		return -EMSGSIZE;
	linkinfo = mnl_attr_nest_start_check(nlh, size, IFLA_LINKINFO);
	if (!linkinfo || !mnl_attr_put_strz_check(nlh, size, IFLA_INFO_KIND, "bridge"))
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, linkinfo);
	return 0;
}

int lj_link_add_bridge_opts(struct lj_nl *nl, const struct lj_bridge_opts *o)
{
	int r;

	r = LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_add_bridge, o);
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

int lj_link_msg_set_master(void *buf, size_t size, const char *name, int master)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_NEWLINK, 0, name);

	if (!nlh || !mnl_attr_put_u32_check(nlh, size, IFLA_MASTER, (uint32_t)master))
		return -EMSGSIZE;
	return 0;
}

int lj_link_set_master(struct lj_nl *nl, const char *name, int master_ifindex)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_set_master, name, master_ifindex);
}

struct gen_mode_ctx {
	int found;
	uint8_t mode;
};

static int gen_mode_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1], *af[AF_INET6 + 1], *in6[IFLA_INET6_MAX + 1];
	struct gen_mode_ctx *c = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	lj_nl_attrs(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX);
	if (!tb[IFLA_AF_SPEC])
		return MNL_CB_OK;
	lj_nl_attrs_nested(tb[IFLA_AF_SPEC], af, AF_INET6);
	if (!af[AF_INET6])
		return MNL_CB_OK;
	lj_nl_attrs_nested(af[AF_INET6], in6, IFLA_INET6_MAX);
	if (in6[IFLA_INET6_ADDR_GEN_MODE] &&
	    mnl_attr_validate(in6[IFLA_INET6_ADDR_GEN_MODE], MNL_TYPE_U8) >= 0) {
		c->mode = mnl_attr_get_u8(in6[IFLA_INET6_ADDR_GEN_MODE]);
		c->found = 1;
	}
	return MNL_CB_OK;
}

int lj_link_get_addr_gen_mode(struct lj_nl *nl, int ifindex, uint8_t *ret)
{
	struct gen_mode_ctx c = {0};
	int r;

	r = LJ_NL_SEND(nl, gen_mode_cb, &c, lj_link_msg_get, NULL, ifindex);
	if (r < 0)
		return r;
	if (!c.found)
		return -ENODATA;
	*ret = c.mode;
	return 0;
}

int lj_link_msg_set_addr_gen_mode(void *buf, size_t size, const char *name, uint8_t mode)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_NEWLINK, 0, name);

	if (!nlh || !put_addr_gen_mode(nlh, size, mode))
		return -EMSGSIZE;
	return 0;
}

int lj_link_set_addr_gen_mode(struct lj_nl *nl, const char *name, uint8_t mode)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_set_addr_gen_mode, name, mode);
}

int lj_link_msg_set_arp_notify(void *buf, size_t size, const char *name, bool on)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_NEWLINK, 0, name);
	struct nlattr *af = nlh ? mnl_attr_nest_start_check(nlh, size, IFLA_AF_SPEC) : NULL;
	struct nlattr *in = af ? mnl_attr_nest_start_check(nlh, size, AF_INET) : NULL;
	struct nlattr *conf = in ? mnl_attr_nest_start_check(nlh, size, IFLA_INET_CONF) : NULL;

	/* IFLA_INET_CONF's attributes are typed by IPV4_DEVCONF_* index, each a u32. */
	if (!conf || !mnl_attr_put_u32_check(nlh, size, IPV4_DEVCONF_ARP_NOTIFY, on ? 1 : 0))
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, in);
	mnl_attr_nest_end(nlh, af);
	return 0;
}

int lj_link_set_arp_notify(struct lj_nl *nl, const char *name, bool on)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_set_arp_notify, name, on);
}

int lj_link_msg_set_mac(void *buf, size_t size, const char *name, const uint8_t *mac)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_NEWLINK, 0, name);

	if (!nlh || !mnl_attr_put_check(nlh, size, IFLA_ADDRESS, LJ_MAC_LEN, mac))
		return -EMSGSIZE;
	return 0;
}

int lj_link_set_mac(struct lj_nl *nl, const char *name, const uint8_t *mac)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_set_mac, name, mac);
}

struct ports_ctx {
	int master;
	const char *kind; /* not NULL: links of this kind, master ignored */
	bool all;	  /* every link (kind and master ignored) */
	struct lj_link *v;
	size_t n, cap;
};

static int list_port_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	struct ports_ctx *c = data;
	struct lj_link l;

	if (!link_parse(nlh, &l, tb) || l.ifindex <= 0 ||
	    (!c->all && (c->kind ? strcmp(l.kind, c->kind) != 0 : l.master != c->master)))
		return MNL_CB_OK;
	if (lj_array_append(&c->v, &c->n, &c->cap, sizeof(l), &l) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* The links a dump (of master's ports, or of all with c->kind) keeps, into *ret. */
static int list_links(struct lj_nl *nl, int master, struct ports_ctx *c, struct lj_link **ret,
		      size_t *ret_n)
{
	int r;

	r = LJ_NL_SEND(nl, list_port_cb, c, lj_link_msg_dump, master);
	if (r < 0) {
		free(c->v);
		return r;
	}
	*ret = c->v;
	*ret_n = c->n;
	return 0;
}

int lj_link_list_ports(struct lj_nl *nl, int master, struct lj_link **ret, size_t *ret_n)
{
	struct ports_ctx c = {.master = master};

	return list_links(nl, master, &c, ret, ret_n);
}

int lj_link_list_kind(struct lj_nl *nl, const char *kind, struct lj_link **ret, size_t *ret_n)
{
	struct ports_ctx c = {.kind = kind};

	return list_links(nl, 0, &c, ret, ret_n);
}

int lj_link_list(struct lj_nl *nl, struct lj_link **ret, size_t *ret_n)
{
	struct ports_ctx c = {.all = true};

	return list_links(nl, 0, &c, ret, ret_n);
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

int lj_link_msg_set_group(void *buf, size_t size, const char *name, uint32_t group)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_NEWLINK, 0, name);

	if (!nlh || !mnl_attr_put_u32_check(nlh, size, IFLA_GROUP, group))
		return -EMSGSIZE;
	return 0;
}

int lj_link_msg_del_group(void *buf, size_t size, uint32_t group)
{
	struct nlmsghdr *nlh = link_msg(buf, size, RTM_DELLINK, 0, NULL);

	if (!nlh || !mnl_attr_put_u32_check(nlh, size, IFLA_GROUP, group))
		return -EMSGSIZE;
	return 0;
}

static int set_group(struct lj_nl *nl, const char *name, uint32_t group)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_set_group, name, group);
}

int lj_link_del_batch(struct lj_nl *nl, const struct lj_link_batch *b)
{
	struct groups_ctx g = {.base = BATCH_GROUP_BASE};
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
	r = LJ_NL_SEND(nl, group_cb, &g, lj_link_msg_dump, 0);
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
	r = LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_del_group, group);
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
