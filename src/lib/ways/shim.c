/* SPDX-License-Identifier: MIT */
/* The host shim on its own (`lanjoin shim add|del`). */
#include "lib/ways/shim.h"

#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kernel/addr.h"
#include "lib/ways/macvlan-common.h"
#include "lib/kernel/route.h"
#include "lib/core/state.h"
#include "lib/core/txn.h"

/* res->json: what lj_shim_add/lj_shim_del did, for the front ends' output (doc/json.md). */
static void shim_facts(struct lj_result *res, const char *parent, const char *name,
		       const char *address, const char *status)
{
	json_decref(res->json);
	res->json = json_pack("{s:s, s:s, s:s?, s:s}", "parent", parent, "name", name, "address",
			      address, "status", status);
}

int lj_shim_add(const char *parent, const struct lj_cidr *ip, bool network, struct lj_result *res)
{
	struct lj_cidr addrs[LJ_MACVLAN_MAX_ADDRS], host_ip;
	char name[IFNAMSIZ], buf[LJ_CIDR_STRLEN], given[LJ_CIDR_STRLEN];
	struct lj_state *st = NULL;
	struct lj_plan plan = {0};
	struct lj_plan_error perr;
	struct lj_link p, l;
	struct lj_ctx ctx;
	struct lj_step *s;
	size_t n = 0;
	int r;

	memset(res, 0, sizeof(*res));
	r = lj_ctx_open(&ctx, NULL, NULL);
	if (r < 0)
		return lj_fail(res, r, "Failed to open a netlink socket: %s", strerror(-r));
	r = lj_state_open(true, &st);
	if (r < 0) {
		lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			lj_state_strerror(r));
		goto out;
	}
	r = lj_macvlan_check_parent(ctx.host, parent, &p, res);
	if (r < 0)
		goto out;
	r = lj_macvlan_link_addrs(ctx.host, p.ifindex, p.name, addrs, &n, res);
	if (r < 0)
		goto out;
	r = lj_macvlan_check_shim_ip(parent, ip, addrs, n, res);
	if (r < 0)
		goto out;
	r = lj_macvlan_check_users(&ctx, st, parent, &p, MACVLAN_MODE_BRIDGE, ip, 1, res);
	if (r < 0)
		goto out;

	host_ip = *ip;
	host_ip.prefixlen = ip->ip.family == AF_INET ? 32 : 128;
	lj_cidr_to_string(&host_ip, buf, sizeof(buf));
	lj_shim_name(parent, name);
	r = lj_link_get(ctx.host, name, &l);
	if (r == 0 && lj_shim_is_leftover(ctx.host, &l, p.ifindex) == 1) {
		/* an interrupted run's, never marked: start afresh */
		r = lj_link_del(ctx.host, name);
		if (r < 0 && r != -ENODEV) {
			lj_fail(res, r, "Failed to remove the unfinished host shim '%s': %s", name,
				strerror(-r));
			goto out;
		}
		r = -ENODEV;
	}
	if (r == 0) {
		struct lj_cidr have[LJ_MACVLAN_MAX_ADDRS];
		size_t nh = 0;
		bool same = false;

		if (strcmp(l.kind, "macvlan") != 0 || !lj_shim_is_ours(&l) ||
		    l.parent != p.ifindex) {
			r = lj_bad_input(res, "'%s' exists and is not lanjoin's host shim on '%s'",
					 name, parent);
			goto out;
		}
		r = lj_macvlan_link_addrs(ctx.host, l.ifindex, name, have, &nh, res);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < nh; i++)
			same |= lj_ip_equal(&have[i].ip, &ip->ip);
		if (!same) {
			r = lj_bad_input(
				res,
				"'%s' already has a host shim, '%s' with %s: use that "
				"address, or remove the shim first ('lanjoin shim del %s')",
				parent, name,
				nh ? lj_cidr_to_string(&have[0], buf, sizeof(buf)) : "no address",
				parent);
			goto out;
		}
		/* pinned (by shim add or a network) stays so; a network takes over only one
		 * that CLI attachments made, removed when unused */
		if (strcmp(l.alias, LJ_OWNED_ALIAS) != 0 &&
		    (network || strcmp(l.alias, LJ_SHIM_PINNED_ALIAS) == 0)) {
			snprintf(res->message, sizeof(res->message),
				 "Host shim %s on %s with %s already exists; nothing to do", name,
				 parent, buf);
			shim_facts(res, parent, name, buf, "kept");
			r = 0;
			goto out;
		}
		r = lj_link_set_alias(ctx.host, name, lj_shim_alias(network ? 2 : 1));
		if (r < 0) {
			lj_fail(res, r, "Failed to mark host shim '%s' as kept: %s", name,
				strerror(-r));
			goto out;
		}
		snprintf(res->message, sizeof(res->message),
			 "Host shim %s on %s with %s already existed; it is now kept until "
			 "'lanjoin shim del %s'",
			 name, parent, buf, parent);
		shim_facts(res, parent, name, buf, "kept");
		goto out;
	}
	if (r != -ENODEV) {
		lj_fail(res, r, "Failed to look up '%s': %s", name, strerror(-r));
		goto out;
	}

	if (host_ip.ip.family == AF_INET) {
		/* The shim's address must be free on the LAN (RFC 5227 probe from the parent). */
		s = lj_plan_add(&plan, &lj_step_arp_probe, LJ_HOST, "probe the LAN for %s on '%s'",
				buf, parent);
		if (!s) {
			r = -ENOMEM;
			goto out;
		}
		snprintf(s->link, sizeof(s->link), "%s", parent);
		s->cidr = host_ip;
	}
	s = lj_plan_add(&plan, &lj_step_shim, LJ_HOST, "create host shim '%s' on '%s' with %s",
			name, parent, buf);
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(s->link, sizeof(s->link), "%s", name);
	snprintf(s->master, sizeof(s->master), "%s", parent);
	s->cidr = host_ip;
	s->u32 = network ? 2 : 1; /* pinned, or the network's */
	s->flags |= LJ_STEP_F_WILL_CREATE;
	r = lj_plan_apply(&ctx, &plan, &perr);
	if (r < 0) {
		res->rolled_back = true;
		res->undo_failed = perr.undo_failed;
		lj_fail(res, r, "Failed to create host shim '%s' on '%s': %s%s%s%s", name, parent,
			strerror(-r), ctx.detail[0] ? " (" : "", ctx.detail,
			ctx.detail[0] ? ")" : "");
		goto out;
	}
	snprintf(res->message, sizeof(res->message),
		 "Created host shim %s on %s with %s; 'lanjoin attach macvlan ... --parent %s "
		 "--host-shim %s' routes containers through it",
		 name, parent, buf, parent, lj_cidr_to_string(ip, given, sizeof(given)));
	shim_facts(res, parent, name, buf, "created");
out:
	lj_plan_free(&plan);
	lj_state_close(st);
	lj_ctx_close(&ctx);
	return r;
}

int lj_shim_del(const char *parent, bool network, struct lj_result *res)
{
	char name[IFNAMSIZ];
	struct lj_state *st = NULL;
	struct lj_link l;
	struct lj_ctx ctx;
	int r;

	memset(res, 0, sizeof(*res));
	if (!lj_ifname_valid(parent))
		return lj_bad_input(res, "Invalid parent name '%s'", parent);
	r = lj_ctx_open(&ctx, NULL, NULL);
	if (r < 0)
		return lj_fail(res, r, "Failed to open a netlink socket: %s", strerror(-r));
	r = lj_state_open(true, &st);
	if (r < 0) {
		lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			lj_state_strerror(r));
		goto out;
	}
	lj_shim_name(parent, name);
	r = lj_link_get(ctx.host, name, &l);
	if (r == -ENODEV) {
		snprintf(res->message, sizeof(res->message), "'%s' has no host shim; nothing to do",
			 parent);
		shim_facts(res, parent, name, NULL, "none");
		r = 0;
		goto out;
	}
	if (r < 0) {
		lj_fail(res, r, "Failed to look up '%s': %s", name, strerror(-r));
		goto out;
	}
	if (strcmp(l.kind, "macvlan") != 0 || !lj_shim_is_ours(&l)) {
		r = lj_bad_input(res, "'%s' is not lanjoin's host shim; not touching it", name);
		goto out;
	}
	if (!network && strcmp(l.alias, LJ_SHIM_NETWORK_ALIAS) == 0) {
		r = lj_bad_input(
			res,
			"Host shim %s on %s belongs to a Docker network of lanjoin's "
			"plugin (its host_shim): it goes with that network ('docker network "
			"rm'); if that network is gone, 'ip link del %s' removes it",
			name, parent, name);
		goto out;
	}
	if (network && strcmp(l.alias, LJ_SHIM_PINNED_ALIAS) == 0) {
		snprintf(res->message, sizeof(res->message),
			 "Host shim %s on %s is pinned by 'lanjoin shim add'; kept", name, parent);
		shim_facts(res, parent, name, NULL, "kept");
		goto out;
	}
	r = lj_route_count_dev(ctx.host, l.ifindex);
	if (r < 0) {
		lj_fail(res, r, "Failed to list the routes through '%s': %s", name, strerror(-r));
		goto out;
	}
	if (r > 0) {
		int count = r;
		r = 0;
		if (strcmp(l.alias, LJ_OWNED_ALIAS) != 0)
			r = lj_link_set_alias(ctx.host, name, LJ_OWNED_ALIAS);
		if (r < 0) {
			lj_fail(res, r, "Failed to unpin host shim '%s': %s", name, strerror(-r));
			goto out;
		}
		snprintf(res->message, sizeof(res->message),
			 "Host shim %s still carries %d route%s to containers; it goes away when "
			 "the "
			 "last of them detaches",
			 name, count, count == 1 ? "" : "s");
		shim_facts(res, parent, name, NULL, "unpinned");
		goto out;
	}
	r = lj_link_del(ctx.host, name);
	if (r < 0 && r != -ENODEV) {
		lj_fail(res, r, "Failed to delete host shim '%s': %s", name, strerror(-r));
		goto out;
	}
	r = 0;
	snprintf(res->message, sizeof(res->message), "Removed host shim %s from %s", name, parent);
	shim_facts(res, parent, name, NULL, "removed");
out:
	lj_state_close(st);
	lj_ctx_close(&ctx);
	return r;
}
