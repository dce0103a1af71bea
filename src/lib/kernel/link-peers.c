/* SPDX-License-Identifier: MIT */
/* The links of the namespaces this one knows by a number (RTM_GETNSID), read from here. */
#include "lib/kernel/link.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kernel/link-msg.h"
#include "shared/array.h"

#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif

int lj_link_msg_dump_nsids(void *buf, size_t size)
{
	struct nlmsghdr *nlh =
		lj_nl_msg_start(buf, size, RTM_GETNSID, NLM_F_DUMP, sizeof(struct rtgenmsg));
	struct rtgenmsg *rtg;

	if (!nlh)
		return -EMSGSIZE;
	rtg = mnl_nlmsg_get_payload(nlh);
	rtg->rtgen_family = AF_UNSPEC;
	return 0;
}

int lj_link_msg_dump_in(void *buf, size_t size, int32_t nsid)
{
	struct nlmsghdr *nlh =
		lj_nl_msg_start(buf, size, RTM_GETLINK, NLM_F_DUMP, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi;

	if (!nlh || !mnl_attr_put_u32_check(nlh, size, IFLA_TARGET_NETNSID, (uint32_t)nsid) ||
	    !mnl_attr_put_u32_check(nlh, size, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS))
		return -EMSGSIZE;
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_family = AF_UNSPEC;
	return 0;
}

struct nsids {
	int32_t *v;
	size_t n, cap;
	int error;
};

static int nsids_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NETNSA_MAX + 1];
	struct nsids *ids = data;
	int32_t id;

	if (nlh->nlmsg_type != RTM_NEWNSID || ids->error)
		return MNL_CB_OK;
	lj_nl_attrs(nlh, sizeof(struct rtgenmsg), tb, NETNSA_MAX);
	if (!tb[NETNSA_NSID] || mnl_attr_validate(tb[NETNSA_NSID], MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	id = (int32_t)mnl_attr_get_u32(tb[NETNSA_NSID]);
	if (id >= 0)
		ids->error = lj_array_append(&ids->v, &ids->n, &ids->cap, sizeof(id), &id);
	return MNL_CB_OK;
}

struct links {
	struct lj_link *v;
	size_t n, cap;
	int error;
};

static int links_cb(const struct nlmsghdr *nlh, void *data)
{
	struct links *ls = data;
	struct lj_link l;

	if (!ls->error && lj_link_parse_msg(nlh, &l) && l.ifindex > 0)
		ls->error = lj_array_append(&ls->v, &ls->n, &ls->cap, sizeof(l), &l);
	return MNL_CB_OK;
}

/* The links of the numbered namespaces into ls, then (own) nl's namespace's. 0 or -errno. */
static int dump_links(struct lj_nl *nl, bool own, struct links *ls)
{
	struct nsids ids = {0};
	int r;

	r = lj_link_msg_dump_nsids(lj_nl_req(nl), LJ_NL_REQ_SIZE);
	if (r == 0)
		r = lj_nl_transact(nl, lj_nl_req(nl), nsids_cb, &ids);
	if (r == 0)
		r = ids.error;
	for (size_t i = 0; r == 0 && i < ids.n; i++) {
		r = LJ_NL_SEND(nl, links_cb, ls, lj_link_msg_dump_in, ids.v[i]);
		/* a namespace gone since the list took its number (and its links with it) */
		if (r == -EINVAL || r == -ENOENT)
			r = 0;
		if (r == 0)
			r = ls->error;
	}
	free(ids.v);
	/* last, this namespace's own: a link moved back here meanwhile is seen */
	if (r == 0 && own)
		r = LJ_NL_SEND(nl, links_cb, ls, lj_link_msg_dump, 0);
	if (r == 0)
		r = ls->error;
	return r;
}

static int read_links(struct lj_nl *nl, bool own, struct lj_link **ret, size_t *ret_n)
{
	struct links ls = {0};
	int r = dump_links(nl, own, &ls);

	if (r < 0) {
		free(ls.v);
		return r;
	}
	*ret = ls.v;
	*ret_n = ls.n;
	return 0;
}

int lj_link_peer_links(struct lj_nl *nl, struct lj_link **ret, size_t *ret_n)
{
	return read_links(nl, true, ret, ret_n);
}

int lj_link_other_links(struct lj_nl *nl, struct lj_link **ret, size_t *ret_n)
{
	return read_links(nl, false, ret, ret_n);
}

int lj_link_msg_del_in(void *buf, size_t size, int32_t nsid, int ifindex)
{
	struct nlmsghdr *nlh = lj_nl_msg_start(buf, size, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi;

	if (!nlh || !mnl_attr_put_u32_check(nlh, size, IFLA_TARGET_NETNSID, (uint32_t)nsid))
		return -EMSGSIZE;
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return 0;
}

/* Is l the link want describes (ifindex, kind, MAC, lower link)? */
static bool same_link(const struct lj_link *l, const struct lj_link *want)
{
	return l->ifindex == want->ifindex && strcmp(l->kind, want->kind) == 0 && l->has_mac &&
	       memcmp(l->mac, want->mac, LJ_MAC_LEN) == 0 && l->parent == want->parent;
}

int lj_link_del_elsewhere(struct lj_nl *nl, const struct lj_link *want)
{
	struct nsids ids = {0};
	int r, found = 0;

	if (want->ifindex <= 0 || !want->has_mac || want->parent <= 0 || !want->kind[0])
		return -EINVAL;
	r = lj_link_msg_dump_nsids(lj_nl_req(nl), LJ_NL_REQ_SIZE);
	if (r == 0)
		r = lj_nl_transact(nl, lj_nl_req(nl), nsids_cb, &ids);
	if (r == 0)
		r = ids.error;
	for (size_t i = 0; r == 0 && !found && i < ids.n; i++) {
		struct links ls = {0};

		r = LJ_NL_SEND(nl, links_cb, &ls, lj_link_msg_dump_in, ids.v[i]);
		if (r == 0)
			r = ls.error;
		for (size_t k = 0; r == 0 && !found && k < ls.n; k++) {
			if (!same_link(&ls.v[k], want))
				continue;
			r = LJ_NL_SEND(nl, NULL, NULL, lj_link_msg_del_in, ids.v[i], want->ifindex);
			found = r == 0;
		}
		free(ls.v);
		/* a namespace (or the link) gone since the list was read: not there */
		if (r == -EINVAL || r == -ENOENT || r == -ENODEV)
			r = 0;
	}
	free(ids.v);
	return r < 0 ? r : found;
}
