/* SPDX-License-Identifier: MIT */
/*
 * The LAN a link is on, as its on-link prefixes (lan-prefix.c): the nat and routed ways claim
 * addresses on that LAN (an address on the uplink, proxy ARP/NDP answers) and refuse one
 * outside it, which would only take over the host's own way to that address.
 */
#pragma once

#include <stdbool.h>

#include "lib/core/plan.h"
#include "lib/core/result.h"
#include "shared/parse.h"

/*
 * Check that ip lies in one of the on-link prefixes of ip's family of link ifindex (named
 * dev) in the host's namespace: the prefixes of its addresses and its directly connected
 * routes of the main table (IPv6 link-local ones left out); a link with none is refused too.
 * role ("uplink", "parent") and opt ("--address", "--ip") name them in messages. When addr_prefix
 * is given (nat's --address), it must also add no connected route: it must be a host prefix (/32,
 * /128) or the prefix of an address dev already has, whose secondary it then becomes. Returns 0;
 * -EINVAL with res set (exit 2) when refused; another -errno with res set when the kernel could not
 * be asked.
 */
int lj_way_check_on_lan(struct lj_ctx *ctx, int ifindex, const char *role, const char *dev,
			const char *opt, const struct lj_ip *ip, const struct lj_cidr *addr_prefix,
			struct lj_result *res);
