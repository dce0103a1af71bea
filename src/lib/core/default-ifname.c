/* SPDX-License-Identifier: MIT */
/* The interface name an attach uses when none is asked (lj_default_ifname, attach.h). */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/core/attach.h"
#include "lib/core/target.h"

/*
 * Does lanjoin hold a record of the open target t as ifname? Its file's presence says it
 * (a record file appears whole: linked or renamed in), read without the state lock: the
 * attach takes the lock later, where a wait for it can be interrupted (Ctrl-C).
 */
static bool recorded_as(const struct lj_target *t, const char *ifname)
{
	char path[PATH_MAX], id[LJ_RECORD_ID_LEN];

	if (lj_state_dir()[0] != '/')
		return false;
	lj_record_id(t->key, ifname, id);
	snprintf(path, sizeof(path), "%s/attachments/%s.json", lj_state_dir(), id);
	return access(path, F_OK) == 0;
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
