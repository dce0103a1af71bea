/* SPDX-License-Identifier: MIT */
#include "lib/kernel/neigh.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

int lj_neigh_del(struct lj_nl *nl, int ifindex, const struct lj_ip *ip)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_DELNEIGH, 0);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

	ndm->ndm_family = (uint8_t)ip->family;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, lj_ip_len(ip->family), ip->bytes);
	return lj_nl_transact(nl, nlh, NULL, NULL);
}
