/* SPDX-License-Identifier: MIT */
/* The interface name an attach uses when none is asked (lj_default_ifname, attach.h). */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/core/attach.h"
#include "lib/core/target.h"

/* Does lanjoin hold a record of the open target t as ifname? */
static bool recorded_as(const struct lj_target *t, const char *ifname)
{
	struct lj_state *st = NULL;
	struct lj_record rec;
	char dir[PATH_MAX], id[LJ_RECORD_ID_LEN];
	bool found = false;

	snprintf(dir, sizeof(dir), "%s/attachments", lj_state_dir());
	if (lj_state_dir()[0] != '/' || access(dir, F_OK) < 0)
		return false; /* no record at all; lj_state_open would create the directory */
	if (lj_state_open(false, &st) < 0)
		return false; /* the attach reports it */
	lj_record_id(t->key, ifname, id);
	if (lj_state_load(st, id, &rec) == 0) {
		found = true;
		lj_record_free(&rec);
	}
	lj_state_close(st);
	return found;
}

const char *lj_default_ifname(const char *target, const struct lj_target *t)
{
	struct lj_target p;

	if (lj_target_parse(target, &p) < 0 || p.kind != LJ_TARGET_CONTAINER)
		return LJ_DEFAULT_IFNAME;
	if (t && t->key[0] && recorded_as(t, LJ_DEFAULT_IFNAME))
		return LJ_DEFAULT_IFNAME;
	return LJ_DEFAULT_IFNAME_ENGINE;
}
