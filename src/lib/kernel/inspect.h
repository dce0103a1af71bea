/* SPDX-License-Identifier: MIT */
/*
 * Read-back of live state, for verifying an attachment (CNI CHECK): is an address on a link,
 * is a route in the main table. Dumps filtered by the kernel where it can, checked again here.
 */
#pragma once

#include <stdbool.h>

#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"
#include "shared/parse.h"

/*
 * Whether link ifindex carries address c (same address and prefix length).
 * Returns 1 (yes), 0 (no) or -errno.
 */
int lj_inspect_has_addr(struct lj_nl *nl, int ifindex, const struct lj_cidr *c);

/*
 * Whether the main table has a unicast route to dst (host bits ignored) through gateway via
 * (any gateway when via->family is AF_UNSPEC, or via is NULL) out of link oif (any when 0).
 * Returns 1, 0 or -errno.
 */
int lj_inspect_has_route(struct lj_nl *nl, const struct lj_cidr *dst, const struct lj_ip *via,
			 int oif);

/*
 * A read-back session for a front end that must not open netlink itself (CNI ADD's result,
 * CHECK, STATUS): a socket in lanjoin's own namespace (the host side) and, optionally, one in
 * a target namespace. Read-only: nothing is changed through it.
 */
struct lj_inspect;

/*
 * Open the host socket and, when target_netns_fd >= 0, one in that namespace (the fd is
 * borrowed: it may be closed after this returns). On success *ret is the caller's (free with
 * lj_inspect_close); on failure *ret is NULL. Errors: -errno of lj_nl_open.
 */
int lj_inspect_open(int target_netns_fd, struct lj_inspect **ret);

/* Close the session's sockets and free it (NULL is fine). */
void lj_inspect_close(struct lj_inspect *in);

/*
 * Look up link name in the target (in_target) or on the host. Errors as lj_link_get (-ENODEV
 * if there is none); -EBADF when in is NULL or has no socket on that side.
 */
int lj_inspect_link(struct lj_inspect *in, bool in_target, const char *name, struct lj_link *ret);

/*
 * Whether link name (in the target or on the host) carries address c (same address and
 * prefix length). Returns 1, 0 or -errno (-ENODEV: no such link; -EBADF as lj_inspect_link).
 */
int lj_inspect_link_has_addr(struct lj_inspect *in, bool in_target, const char *name,
			     const struct lj_cidr *c);

/* lj_inspect_has_route in the target's namespace. -EBADF when no target socket is open. */
int lj_inspect_target_has_route(struct lj_inspect *in, const struct lj_cidr *dst,
				const struct lj_ip *via, int oif);
