/* SPDX-License-Identifier: MIT */
/* rtnetlink policy-routing rules (`ip rule`): the one kind lanjoin uses, from SRC lookup TABLE. */
#pragma once

#include <stdint.h>

#include "lib/kernel/netlink.h"
#include "shared/parse.h"

/* A rule `from src lookup table priority priority` (src is a host address: /32 or /128). */
struct lj_rule {
	struct lj_ip src;
	uint32_t table;
	uint32_t priority;
};

/* Add rule (NLM_F_CREATE|NLM_F_EXCL): -EEXIST if an equal one exists. */
int lj_rule_add(struct lj_nl *nl, const struct lj_rule *rule);

/* Delete the rule equal to rule (source, table, priority); -ENOENT if there is none. */
int lj_rule_del(struct lj_nl *nl, const struct lj_rule *rule);

/*
 * Whether any rule of family (AF_INET, AF_INET6) in nl's namespace looks up table: 1 if one
 * does, 0 if none, or -errno of the dump.
 */
int lj_rule_uses_table(struct lj_nl *nl, int family, uint32_t table);
