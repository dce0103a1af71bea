/* SPDX-License-Identifier: MIT */
/*
 * attach bridge --uplink: adopt the uplink into a missing bridge, or rely on the adoption that
 * is there (uplink-users.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"
#include "lib/ways/uplink.h"
#include "lib/ways/uplink-users.h"
#include "shared/macro.h"

/* attach --uplink on an existing bridge: if lanjoin adopted it, rely on that adoption. */
static void claim_existing(const char *bridge)
{
	char id[LJ_RECORD_ID_LEN];
	struct lj_record rec = {0};
	struct lj_state *st = NULL;

	if (lj_state_open_read(UPLINK_SUBDIR, &st) < 0)
		return; /* nothing was ever adopted */
	lj_state_close(st);
	if (lj_state_open_sub(UPLINK_SUBDIR, true, &st) < 0)
		return;
	lj_record_id(UPLINK_KEY, bridge, id);
	if (lj_state_load(st, id, &rec) == 0 && strcmp(rec.status, "adopted") == 0 &&
	    lj_uplink_own_record(&rec))
		lj_uplink_claim(st, &rec, false); /* best effort: as before, if it fails */
	lj_record_free(&rec);
	lj_state_close(st);
}

int lj_uplink_adopt_if_missing(const char *bridge, const char *dev, struct lj_result *res,
			       bool *ret_adopted)
{
	struct lj_uplink_opts o = {0};
	struct lj_nl *nl = NULL;
	struct lj_link l;
	int r;

	*ret_adopted = false;
	memset(res, 0, sizeof(*res));
	if (!lj_ifname_valid(bridge) || !lj_ifname_valid(dev))
		return lj_bad_input(res, "Invalid bridge or uplink name");
	r = lj_nl_open(-1, &nl);
	if (r < 0)
		return lj_fail(res, r, "Failed to open netlink sockets: %s", strerror(-r));
	r = lj_link_get(nl, bridge, &l);
	lj_nl_close(nl);
	if (r == 0) {
		/* there already: the uplink option only matters for a new bridge */
		claim_existing(bridge);
		return 0;
	}
	if (r != -ENODEV)
		return lj_fail(res, r, "Failed to look up '%s': %s", bridge, strerror(-r));
	snprintf(o.bridge, sizeof(o.bridge), "%s", bridge);
	snprintf(o.dev, sizeof(o.dev), "%s", dev);
	o.for_attach = true;
	r = lj_uplink_adopt(&o, res);
	/* another one adopted it meanwhile (res->unchanged): not ours to give back */
	if (r == 0 && !res->unchanged)
		*ret_adopted = true;
	return r;
}
