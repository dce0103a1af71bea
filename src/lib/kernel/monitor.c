/* SPDX-License-Identifier: MIT */
/*
 * Netlink multicast listeners. netlink.c holds the request/acknowledge path; a listener only
 * receives, on a socket of its own joined to one multicast group, so it is kept apart here.
 */
#include "lib/kernel/monitor.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "lib/kernel/netlink.h"
#include "shared/macro.h"

/* Bytes of the kernel's receive queue asked for: a burst of link changes (many containers
 * starting at once) fits without ENOBUFS. Needs no privilege beyond rmem_max (FORCE if root). */
#define MONITOR_RCVBUF (4u << 20)

struct lj_monitor {
	struct mnl_socket *nl;
	enum lj_monitor_kind kind;
};

int lj_monitor_open(enum lj_monitor_kind kind, struct lj_monitor **ret)
{
	int proto = kind == LJ_MONITOR_LINK ? NETLINK_ROUTE : NETLINK_NETFILTER;
	unsigned group = kind == LJ_MONITOR_LINK ? RTNLGRP_LINK : NFNLGRP_NFTABLES;
	int size = MONITOR_RCVBUF;
	struct lj_monitor *m;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->kind = kind;
	m->nl = mnl_socket_open2(proto, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!m->nl) {
		r = lj_negerrno();
		free(m);
		return r;
	}
	if (setsockopt(mnl_socket_get_fd(m->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) <
	    0)
		(void)setsockopt(mnl_socket_get_fd(m->nl), SOL_SOCKET, SO_RCVBUF, &size,
				 sizeof(size));
	if (mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(m->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = lj_negerrno();
		mnl_socket_close(m->nl);
		free(m);
		return r;
	}
	*ret = m;
	return 0;
}

int lj_monitor_fd(const struct lj_monitor *m)
{
	return mnl_socket_get_fd(m->nl);
}

void lj_monitor_close(struct lj_monitor *m)
{
	if (!m)
		return;
	mnl_socket_close(m->nl);
	free(m);
}

int lj_monitor_parse_link(const struct nlmsghdr *nlh, struct lj_link_event *ret)
{
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return 0;
	memset(ret, 0, sizeof(*ret));
	if (!lj_link_parse_msg(nlh, &ret->link) || ret->link.ifindex <= 0)
		return -EBADMSG;
	ret->deleted = nlh->nlmsg_type == RTM_DELLINK;
	return 1;
}

static bool nft_is_deletion(uint16_t msg)
{
	switch (msg) {
	case NFT_MSG_DELTABLE:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_DELRULE:
	case NFT_MSG_DELSET:
	case NFT_MSG_DELSETELEM:
	case NFT_MSG_DELOBJ:
	case NFT_MSG_DELFLOWTABLE:
		return true;
	default:
		return false;
	}
}

/* A string attribute into out (size bytes); false if it is not a string or does not fit. */
static bool copy_attr_str(const struct nlattr *a, char *out, size_t size)
{
	size_t len;

	if (mnl_attr_validate(a, MNL_TYPE_STRING) < 0)
		return false;
	len = strnlen(mnl_attr_get_str(a), mnl_attr_get_payload_len(a));
	if (len >= size)
		return false;
	memcpy(out, mnl_attr_get_str(a), len);
	out[len] = '\0';
	return true;
}

int lj_monitor_parse_nft(const struct nlmsghdr *nlh, struct lj_nft_event *ret)
{
	const struct nfgenmsg *g;
	const struct nlattr *a;
	uint16_t msg;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return -EBADMSG;
	g = mnl_nlmsg_get_payload(nlh);
	msg = NFNL_MSG_TYPE(nlh->nlmsg_type);
	memset(ret, 0, sizeof(*ret));
	ret->msg = msg;
	ret->family = g->nfgen_family;
	ret->deletion = nft_is_deletion(msg);
	ret->ipv4 = g->nfgen_family == NFPROTO_IPV4;
	ret->newgen = msg == NFT_MSG_NEWGEN;
	/* Attribute 1 names the table in every object's message (NFTA_TABLE_NAME,
	 * NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE,
	 * NFTA_OBJ_TABLE, NFTA_FLOWTABLE_TABLE); NEWGEN's are the generation's facts. */
	mnl_attr_for_each(a, nlh, sizeof(*g))
	{
		uint16_t type = mnl_attr_get_type(a);

		if (msg == NFT_MSG_NEWGEN) {
			if (type == NFTA_GEN_PROC_PID && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				ret->gen_pid = (pid_t)ntohl(mnl_attr_get_u32(a));
			else if (type == NFTA_GEN_PROC_NAME &&
				 !copy_attr_str(a, ret->gen_proc, sizeof(ret->gen_proc)))
				ret->gen_proc[0] = '\0';
		} else if (type == 1 && !copy_attr_str(a, ret->table, sizeof(ret->table))) {
			return -EBADMSG;
		}
	}
	return 1;
}

/* Receive every queued datagram and hand each message to each(); -ENOBUFS: some were lost. */
static int monitor_read(struct lj_monitor *m, int (*each)(const struct nlmsghdr *nlh, void *ctx),
			void *ctx)
{
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(m->nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh;
		int len, r;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return lj_negerrno(); /* -ENOBUFS: lost notifications */
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; lj_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			r = each(nlh, ctx);
			if (r < 0)
				return r;
		}
	}
}

struct link_ctx {
	int (*cb)(const struct lj_link_event *e, void *data);
	void *data;
};

static int each_link(const struct nlmsghdr *nlh, void *p)
{
	struct link_ctx *c = p;
	struct lj_link_event e;

	if (lj_monitor_parse_link(nlh, &e) <= 0)
		return 0; /* not ours or malformed: nothing to act on */
	return c->cb(&e, c->data);
}

int lj_monitor_read_links(struct lj_monitor *m,
			  int (*cb)(const struct lj_link_event *e, void *data), void *data)
{
	struct link_ctx c = {cb, data};

	if (m->kind != LJ_MONITOR_LINK)
		return -EINVAL;
	return monitor_read(m, each_link, &c);
}

struct nft_ctx {
	int (*cb)(const struct lj_nft_event *e, void *data);
	void *data;
};

static int each_nft(const struct nlmsghdr *nlh, void *p)
{
	struct nft_ctx *c = p;
	struct lj_nft_event e;

	if (lj_monitor_parse_nft(nlh, &e) <= 0)
		return 0;
	return c->cb(&e, c->data);
}

int lj_monitor_read_nft(struct lj_monitor *m, int (*cb)(const struct lj_nft_event *e, void *data),
			void *data)
{
	struct nft_ctx c = {cb, data};

	if (m->kind != LJ_MONITOR_NFT)
		return -EINVAL;
	return monitor_read(m, each_nft, &c);
}
