/* SPDX-License-Identifier: MIT */
#include "lib/kernel/rule.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>

static struct nlmsghdr *rule_msg(struct lj_nl *nl, uint16_t type, uint16_t flags,
				 const struct lj_rule *rule)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, type, flags);
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	size_t len = lj_ip_len(rule->src.family);

	frh->family = (uint8_t)rule->src.family;
	frh->src_len = (uint8_t)(len * 8);
	frh->action = FR_ACT_TO_TBL;
	frh->table = rule->table < 256 ? (uint8_t)rule->table : RT_TABLE_UNSPEC;
	mnl_attr_put(nlh, FRA_SRC, len, rule->src.bytes);
	mnl_attr_put_u32(nlh, FRA_TABLE, rule->table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, rule->priority);
	return nlh;
}

int lj_rule_add(struct lj_nl *nl, const struct lj_rule *rule)
{
	if (!lj_ip_len(rule->src.family))
		return -EAFNOSUPPORT;
	return lj_nl_transact(nl, rule_msg(nl, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, rule), NULL,
			      NULL);
}

int lj_rule_del(struct lj_nl *nl, const struct lj_rule *rule)
{
	if (!lj_ip_len(rule->src.family))
		return -EAFNOSUPPORT;
	return lj_nl_transact(nl, rule_msg(nl, RTM_DELRULE, 0, rule), NULL, NULL);
}

struct uses_ctx {
	uint32_t table;
	bool found;
};

static int uses_cb(const struct nlmsghdr *nlh, void *data)
{
	struct uses_ctx *c = data;
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWRULE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)))
		return MNL_CB_OK;
	table = frh->table;
	mnl_attr_for_each(attr, nlh, sizeof(*frh)) if (mnl_attr_get_type(attr) == FRA_TABLE &&
						       mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		table = mnl_attr_get_u32(attr);
	c->found |= table == c->table;
	return MNL_CB_OK;
}

int lj_rule_uses_table(struct lj_nl *nl, int family, uint32_t table)
{
	struct nlmsghdr *nlh = lj_nl_msg(nl, RTM_GETRULE, NLM_F_DUMP);
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	struct uses_ctx c = {.table = table};
	int r;

	frh->family = (uint8_t)family;
	r = lj_nl_transact(nl, nlh, uses_cb, &c);
	return r < 0 ? r : c.found;
}
