/* SPDX-License-Identifier: MIT */
#include "lib/kernel/rule.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>

#include "lib/kernel/rule-msg.h"

int lj_rule_msg(void *buf, size_t size, uint16_t type, const struct lj_rule *rule)
{
	struct nlmsghdr *nlh = lj_nl_msg_start(buf, size, type,
					       type == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL : 0,
					       sizeof(struct fib_rule_hdr));
	size_t len = lj_ip_len(rule->src.family);
	struct fib_rule_hdr *frh;

	if (!len)
		return -EAFNOSUPPORT;
	if (!nlh || !mnl_attr_put_check(nlh, size, FRA_SRC, len, rule->src.bytes) ||
	    !mnl_attr_put_u32_check(nlh, size, FRA_TABLE, rule->table) ||
	    !mnl_attr_put_u32_check(nlh, size, FRA_PRIORITY, rule->priority))
		return -EMSGSIZE;
	frh = mnl_nlmsg_get_payload(nlh);
	frh->family = (uint8_t)rule->src.family;
	frh->src_len = (uint8_t)(len * 8);
	frh->action = FR_ACT_TO_TBL;
	frh->table = rule->table < 256 ? (uint8_t)rule->table : RT_TABLE_UNSPEC;
	return 0;
}

int lj_rule_add(struct lj_nl *nl, const struct lj_rule *rule)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_rule_msg, RTM_NEWRULE, rule);
}

int lj_rule_del(struct lj_nl *nl, const struct lj_rule *rule)
{
	return LJ_NL_SEND(nl, NULL, NULL, lj_rule_msg, RTM_DELRULE, rule);
}

int lj_rule_msg_dump(void *buf, size_t size, int family)
{
	struct nlmsghdr *nlh =
		lj_nl_msg_start(buf, size, RTM_GETRULE, NLM_F_DUMP, sizeof(struct fib_rule_hdr));
	struct fib_rule_hdr *frh;

	if (!nlh)
		return -EMSGSIZE;
	frh = mnl_nlmsg_get_payload(nlh);
	frh->family = (uint8_t)family;
	return 0;
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
	struct uses_ctx c = {.table = table};
	int r;

	r = LJ_NL_SEND(nl, uses_cb, &c, lj_rule_msg_dump, family);
	return r < 0 ? r : c.found;
}
