/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink requests of addr.c, each built into a caller's buffer (buf, size bytes,
 * aligned for struct nlmsghdr) with bounded attribute puts: the lj_addr_* functions build
 * them in the socket's buffer and send them; the unit test parses them back. Each returns 0
 * (the request starts at buf) or -EMSGSIZE if it does not fit (then nothing must be sent).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/parse.h"

/* Declared in lib/kernel/addr.h (not included: addr.c includes this header). */
struct lj_addr_full;

/* RTM_NEWADDR adding c to link ifindex (lj_addr_add). */
int lj_addr_msg_add(void *buf, size_t size, int ifindex, const struct lj_cidr *c, uint32_t flags);

/* RTM_DELADDR removing c from link ifindex (lj_addr_del). */
int lj_addr_msg_del(void *buf, size_t size, int ifindex, const struct lj_cidr *c);

/* RTM_GETADDR dump of family (AF_UNSPEC: both) on link ifindex (0: every link). */
int lj_addr_msg_dump(void *buf, size_t size, int family, int ifindex);

/* RTM_NEWADDR adding or replacing a on link ifindex (lj_addr_add_full). */
int lj_addr_msg_add_full(void *buf, size_t size, int ifindex, const struct lj_addr_full *a,
			 const char *label, uint32_t extra_flags, bool replace);

/* RTM_DELADDR removing a from link ifindex (lj_addr_del_full). */
int lj_addr_msg_del_full(void *buf, size_t size, int ifindex, const struct lj_addr_full *a);
