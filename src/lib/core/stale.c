/* SPDX-License-Identifier: MIT */
/*
 * What an attach checks against what is there before it compares a record of the same
 * attachment with what is asked (the links named exist), and the records of dead attachments
 * that hold an address it asks for: garbage in its way (what gc would undo), undone and
 * removed first, under the attach's lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/attach.h"
#include "lib/core/handed.h"
#include "lib/core/status.h"
#include "lib/core/undo.h"
#include "lib/core/way.h"
#include "lib/kernel/link.h"
#include "shared/macro.h"

/* Is rec (by id) in recs[0..n) already? */
static bool listed(const struct lj_record *recs, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(recs[i].id, id) == 0)
			return true;
	return false;
}

/*
 * Append to *all (n in *n_all) the records of st holding ip, but self_id and those in it
 * already. 0 or -errno.
 */
static int add_holders(struct lj_state *st, const char *self_id, const struct lj_ip *ip,
		       struct lj_record **all, size_t *n_all)
{
	struct lj_record *recs = NULL, *v;
	size_t n = 0, k = 0;
	int r;

	r = lj_state_list_addr(st, ip, &recs, &n);
	if (r < 0)
		return r;
	v = realloc(*all, (*n_all + n + 1) * sizeof(*v));
	if (!v) {
		lj_records_free(recs, n);
		return -ENOMEM;
	}
	*all = v;
	for (size_t i = 0; i < n; i++) {
		if ((self_id && strcmp(recs[i].id, self_id) == 0) ||
		    !lj_attach_record_has_ip(&recs[i], ip) || listed(v, *n_all + k, recs[i].id)) {
			lj_record_free(&recs[i]);
			continue;
		}
		v[*n_all + k++] = recs[i];
	}
	free(recs);
	*n_all += k;
	return 0;
}

int lj_undo_stale_holders(struct lj_state *st, const char *self_id, const struct lj_cidr *ips,
			  size_t n_ips, bool dry_run, struct lj_result *res, size_t *ret_removed)
{
	struct lj_record *recs = NULL;
	const char **sel = NULL;
	char(*why)[128] = NULL;
	size_t n = 0, removed = 0, stale = 0;
	int r = 0;

	*ret_removed = 0;
	for (size_t i = 0; i < n_ips && r == 0; i++)
		if (!lj_ip_link_local(&ips[i].ip))
			r = add_holders(st, self_id, &ips[i].ip, &recs, &n);
	if (r < 0) {
		lj_records_free(recs, n);
		return lj_fail(res, r, "Failed to read the state directory: %s", strerror(-r));
	}
	if (n == 0) {
		free(recs);
		return 0;
	}
	sel = calloc(n, sizeof(*sel));
	why = calloc(n, sizeof(*why));
	if (!sel || !why) {
		r = lj_fail(res, -ENOMEM, "Out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct lj_target t;
		const json_t *a = json_object_get(recs[i].info, "addresses");

		/* A CNI runtime's: its to remove (its DEL, gc): left, its address refused by the
		 * ways' checks as before. */
		if (json_object_get(recs[i].info, "cni"))
			continue;
		/* A Docker endpoint's: by its link, as status and gc judge it (its sandbox file
		 * may be no namespace here while it lives); one Docker dropped unsaid (a dockerd
		 * killed -9) is undone as gc would. */
		if (lj_record_handed(&recs[i])) {
			if (lj_record_alive(&recs[i]))
				continue;
			snprintf(why[i], sizeof(why[i]),
				 "a Docker endpoint whose link is gone with its container's "
				 "namespace, and an attach asks for its address%s",
				 json_array_size(a) > 1 ? "es" : "");
		} else if (lj_undo_open_alive(&recs[i], &t)) {
			/* Its namespace by the record's identity (inode and cookie): a newer
			 * namespace with the old one's inode number or name is not it. */
			lj_target_close(&t);
			continue; /* live: the ways' address checks refuse the address */
		} else {
			snprintf(why[i], sizeof(why[i]),
				 "its namespace (or container) is gone and an attach asks for its "
				 "address%s",
				 json_array_size(a) > 1 ? "es" : "");
		}
		sel[i] = why[i];
		stale++;
		if (dry_run)
			lj_result_note(res, "Would remove attachment %s %s (%s way) first: %s",
				       recs[i].target_spec, recs[i].ifname, recs[i].way, why[i]);
	}
	if (stale && !dry_run)
		r = lj_undo_bulk(st, recs, sel, n, NULL, LJ_UNDO_SPEC_AS_MARKED, res, &removed);
	lj_undo_netns_index_drop();
	*ret_removed = removed;
out:
	free((void *)sel);
	free(why);
	lj_records_free(recs, n);
	return r;
}

int lj_attach_check_links(struct lj_ctx *ctx, const struct lj_attach_opts *o, struct lj_result *res)
{
	struct {
		const char *name, *role, *opt;
		bool check;
	} v[] = {
		{o->parent, "Parent", "--parent", lj_way_takes(o->way, LJ_OPT_PARENT)},
		{o->uplink, "Uplink", "--uplink", o->way == LJ_WAY_NAT},
		/* OVS bridges are the database's; a missing Linux bridge --create-bridge makes,
		 * and --uplink adopts (before the transaction: a dry run has it not yet) */
		{o->bridge, "Bridge", "--bridge",
		 o->way == LJ_WAY_BRIDGE && !o->create_bridge && !(o->dry_run && o->uplink[0])},
	};
	struct lj_link l;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(v) && ctx->host; i++) {
		if (!v[i].check || !v[i].name[0])
			continue;
		if (!lj_ifname_valid(v[i].name))
			return lj_bad_input(res, "Invalid %s name '%s'", v[i].opt + 2, v[i].name);
		r = lj_link_get(ctx->host, v[i].name, &l);
		if (r == -ENODEV)
			return lj_bad_input(res,
					    "%s '%s' does not exist (%s: no such link in lanjoin's "
					    "network namespace)",
					    v[i].role, v[i].name, v[i].opt);
		if (r < 0)
			return lj_fail(res, r, "Failed to look up %s '%s': %s", v[i].opt + 2,
				       v[i].name, strerror(-r));
	}
	return 0;
}
