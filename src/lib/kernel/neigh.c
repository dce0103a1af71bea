/* SPDX-License-Identifier: MIT */
#include "lib/kernel/neigh.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/kernel/neigh-msg.h"

int lj_neigh_msg(void *buf, size_t size, uint16_t type, int ifindex, const struct lj_ip *ip)
{
	struct nlmsghdr *nlh = lj_nl_msg_start(buf, size, type, 0, sizeof(struct ndmsg));
	struct ndmsg *ndm;

	if (!nlh || !mnl_attr_put_check(nlh, size, NDA_DST, lj_ip_len(ip->family), ip->bytes))
		return -EMSGSIZE;
	ndm = mnl_nlmsg_get_payload(nlh);
	ndm->ndm_family = (uint8_t)ip->family;
	ndm->ndm_ifindex = ifindex;
	return 0;
}

int lj_neigh_del(struct lj_nl *nl, int ifindex, const struct lj_ip *ip)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_neigh_msg, RTM_DELNEIGH, ifindex, ip);
}

int lj_neigh_proxy_msg(void *buf, size_t size, uint16_t type, int family, int ifindex,
		       const struct lj_ip *ip)
{
	uint16_t flags = type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_EXCL : ip ? 0 : NLM_F_DUMP;
	struct nlmsghdr *nlh = lj_nl_msg_start(buf, size, type, flags, sizeof(struct ndmsg));
	struct ndmsg *ndm;

	if (!nlh)
		return -EMSGSIZE;
	if (ip && !mnl_attr_put_check(nlh, size, NDA_DST, lj_ip_len(ip->family), ip->bytes))
		return -EMSGSIZE;
	ndm = mnl_nlmsg_get_payload(nlh);
	ndm->ndm_family = (uint8_t)(ip ? ip->family : family);
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_flags = NTF_PROXY;
	if (type == RTM_NEWNEIGH)
		ndm->ndm_state = NUD_PERMANENT; /* as iproute2 sends it */
	return 0;
}

int lj_neigh_proxy_add(struct lj_nl *nl, int ifindex, const struct lj_ip *ip)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_neigh_proxy_msg, RTM_NEWNEIGH, ip->family, ifindex,
			  ip);
}

int lj_neigh_proxy_del(struct lj_nl *nl, int ifindex, const struct lj_ip *ip)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_neigh_proxy_msg, RTM_DELNEIGH, ip->family, ifindex,
			  ip);
}

struct proxy_dump {
	int family, ifindex;
	const struct lj_ip *ip;
	int count;
	bool has;
};

static int proxy_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NDA_MAX + 1];
	struct proxy_dump *d = data;
	size_t len = lj_ip_len(d->family);

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return MNL_CB_OK;
	/* Without strict checking the kernel may answer with the whole table: filter here. */
	if (!(ndm->ndm_flags & NTF_PROXY) || ndm->ndm_family != d->family ||
	    (d->ifindex && ndm->ndm_ifindex != d->ifindex))
		return MNL_CB_OK;
	d->count++;
	lj_nl_attrs(nlh, sizeof(*ndm), tb, NDA_MAX);
	if (d->ip && tb[NDA_DST] && mnl_attr_get_payload_len(tb[NDA_DST]) == len &&
	    memcmp(mnl_attr_get_payload(tb[NDA_DST]), d->ip->bytes, len) == 0)
		d->has = true;
	return MNL_CB_OK;
}

int lj_neigh_proxy_count(struct lj_nl *nl, int family, int ifindex, const struct lj_ip *ip,
			 bool *ret_has)
{
	struct proxy_dump d = {.family = family, .ifindex = ifindex, .ip = ip};
	int r;

	/* The whole family: a strictly checked dump refuses an ifindex in the header (Linux
	 * 4.20+ wants NDA_IFINDEX); proxy_cb filters. */
	r = LJ_NL_SEND(nl, proxy_cb, &d, lj_neigh_proxy_msg, RTM_GETNEIGH, family, 0, NULL);
	if (r < 0)
		return r;
	if (ret_has)
		*ret_has = d.has;
	return d.count;
}

struct proxy_get {
	int ifindex;
	bool found, other;
};

static int proxy_get_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct proxy_get *g = data;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return MNL_CB_OK;
	if (ndm->ndm_ifindex == g->ifindex && (ndm->ndm_flags & NTF_PROXY))
		g->found = true;
	else
		g->other = true;
	return MNL_CB_OK;
}

int lj_neigh_proxy_has(struct lj_nl *nl, int ifindex, const struct lj_ip *ip)
{
	struct proxy_get g = {.ifindex = ifindex};
	bool has = false;
	int r;

	/* The kernel's exact lookup (RTM_GETNEIGH of one proxy entry, Linux 5.0) */
	r = LJ_NL_SEND(nl, proxy_get_cb, &g, lj_neigh_proxy_msg, RTM_GETNEIGH, ip->family, ifindex,
		       ip);
	if (r == 0 && g.found)
		return 1;
	if (r == -ENOENT)
		return 0;
	/* An older kernel, or the answer was an entry for every link (which the lookup
	 * prefers): the dump tells this link's entries apart. */
	r = lj_neigh_proxy_count(nl, ip->family, ifindex, ip, &has);
	return r < 0 ? r : has;
}

int lj_neigh_fdb_get_msg(void *buf, size_t size, int master, const uint8_t *mac)
{
	struct nlmsghdr *nlh = lj_nl_msg_start(buf, size, RTM_GETNEIGH, 0, sizeof(struct ndmsg));
	struct ndmsg *ndm;

	if (!nlh || !mnl_attr_put_check(nlh, size, NDA_LLADDR, ETH_ALEN, mac) ||
	    !mnl_attr_put_u32_check(nlh, size, NDA_MASTER, (uint32_t)master))
		return -EMSGSIZE;
	ndm = mnl_nlmsg_get_payload(nlh);
	ndm->ndm_family = AF_BRIDGE;
	return 0;
}

struct fdb_get {
	bool local;
	int ifindex;
};

static int fdb_get_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct fdb_get *g = data;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return MNL_CB_OK;
	/* The bridge reports its own and its ports' addresses as NUD_PERMANENT (br_fdb.c) */
	if (ndm->ndm_family == AF_BRIDGE && (ndm->ndm_state & NUD_PERMANENT)) {
		g->local = true;
		g->ifindex = ndm->ndm_ifindex;
	}
	return MNL_CB_OK;
}

int lj_neigh_fdb_local(struct lj_nl *nl, int master, const uint8_t *mac, int *ret_ifindex)
{
	struct fdb_get g = {0};
	int r = LJ_NL_SEND(nl, fdb_get_cb, &g, lj_neigh_fdb_get_msg, master, mac);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (g.local && ret_ifindex)
		*ret_ifindex = g.ifindex;
	return g.local;
}
