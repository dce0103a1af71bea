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
#include "lib/core/spec.h"
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
/*
 * Warn (a note in res, "warning: ...") about each of o's --ip that lies in none of the
 * on-link prefixes of its family of link ifindex (named dev, role "bridge" or "parent") in
 * the host's namespace, as lj_way_check_on_lan finds them: the bridge and macvlan ways put
 * the container on that LAN itself, so such an address is likely a typo, but allowed (a LAN
 * with no host address on the link, nothing to compare, is no warning). 0 or -errno (res set)
 * when the kernel could not be asked.
 */
int lj_way_warn_off_lan(struct lj_ctx *ctx, int ifindex, const char *role, const char *dev,
			const struct lj_attach_opts *o, struct lj_result *res);

int lj_way_check_on_lan(struct lj_ctx *ctx, int ifindex, const char *role, const char *dev,
			const char *opt, const struct lj_ip *ip, const struct lj_cidr *addr_prefix,
			struct lj_result *res);
