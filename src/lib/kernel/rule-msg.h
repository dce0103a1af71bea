/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink requests of rule.c, built into a caller's buffer (buf, size bytes, aligned
 * for struct nlmsghdr) with bounded attribute puts, for the senders and the unit test.
 * Returns 0 (the request starts at buf) or -EMSGSIZE if it does not fit.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Declared in lib/kernel/rule.h (not included: rule.c includes this header). */
struct lj_rule;

/*
 * RTM_NEWRULE (NLM_F_CREATE|NLM_F_EXCL) or RTM_DELRULE (type) of rule. -EAFNOSUPPORT if its
 * source is no IPv4/IPv6 address.
 */
int lj_rule_msg(void *buf, size_t size, uint16_t type, const struct lj_rule *rule);

/* RTM_GETRULE dump of family. */
int lj_rule_msg_dump(void *buf, size_t size, int family);
