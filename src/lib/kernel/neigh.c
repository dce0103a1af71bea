/* SPDX-License-Identifier: MIT */
#include "lib/kernel/neigh.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

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
