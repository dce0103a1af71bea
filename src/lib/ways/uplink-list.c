/* SPDX-License-Identifier: MIT */
/* `lanjoin uplink list`: the adoption records, each with what is left of it on the host. */
#include "lib/ways/uplink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/ctx.h"
#include "lib/core/state.h"
#include "lib/core/status.h"
#include "lib/kernel/link.h"
#include "lib/steps/uplink-addr.h"
#include "lib/steps/uplink.h"
#include "lib/ways/uplink-users.h"
#include "shared/macro.h"

/*
 * What is left of adoption rec (status "adopted", made from this namespace): "adopted" while
 * the bridge is there, (a Linux bridge) the device still its port and the bridge still holds
 * the host's addresses and routes (checked as status does, against host, dumped on first use
 * into *host: a bridge set down and up again loses its IPv6 addresses and its routes); "gone"
 * when the bridge was deleted (by hand: release or gc would have dropped the record);
 * "drifted" otherwise (status says what).
 */
static const char *adoption_state(struct lj_ctx *ctx, const struct lj_record *rec,
				  struct lj_status_ns *host, int *dumped)
{
	struct lj_status_view v = {.host = host, .rec = rec};
	struct lj_link br, dev;
	char why[256];

	int r = lj_link_get(ctx->host, rec->ifname, &br);

	if (r == -ENODEV)
		return "gone";
	if (r < 0 || strcmp(rec->way, "uplink-ovs") == 0) /* its port is OVSDB's: status checks */
		return "adopted";
	if (lj_link_get(ctx->host, rec->host_ifname, &dev) < 0 || dev.master != br.ifindex)
		return "drifted";
	if (*dumped == 0)
		*dumped = lj_status_ns_dump(ctx->host, -1, host) == 0 ? 1 : -1;
	for (size_t i = 0; *dumped > 0 && i < rec->plan.n; i++) {
		const struct lj_step *s = &rec->plan.steps[i];

		if ((s->type == &lj_step_addr_copy || s->type == &lj_step_route_move) &&
		    s->type->verify(&v, s, why, sizeof(why)) == LJ_VERIFY_DRIFTED)
			return "drifted";
	}
	return "adopted";
}

int lj_uplink_list(json_t **ret, size_t *ret_bad)
{
	struct lj_status_ns host = {0};
	int dumped = 0; /* host: 1 dumped, -1 failed */
	struct lj_ctx *ctx = NULL;
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	size_t n = 0;
	json_t *a;
	int r;

	r = lj_state_open_read(UPLINK_SUBDIR, &st);
	if (r == 0)
		r = lj_state_list(st, &recs, &n, ret_bad);
	else if (r == -ENOENT)
		r = 0; /* nothing ever recorded */
	lj_state_close(st);
	if (r < 0)
		return r;
	if (n && lj_ctx_new(NULL, NULL, &ctx) < 0)
		ctx = NULL; /* without a socket: the records as they are */
	a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_incref(recs[i].info);
		bool own = lj_uplink_own_record(&recs[i]);
		/* Adopted in a namespace that is gone: the record describes nothing (gc drops it).
		 */
		bool stale = !own && !lj_netns_exists(NULL, &recs[i].netns, recs[i].netns_cookie);
		const char *status = stale ? "stale" : recs[i].status;

		if (!stale && own && ctx && strcmp(status, "adopted") == 0)
			status = adoption_state(ctx, &recs[i], &host, &dumped);
		json_object_set_new(o, "status", json_string(status));
		json_array_append_new(a, o);
	}
	if (dumped > 0)
		lj_status_ns_free(&host);
	lj_ctx_free(ctx);
	lj_records_free(recs, n);
	*ret = a;
	return 0;
}
