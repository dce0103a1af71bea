/* SPDX-License-Identifier: MIT */
/* The stored persistent specs: directory, file names, removal (spec-store.h). */
#include "lib/core/spec-store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/name.h"

const char *lj_spec_dir(void)
{
	const char *d = getenv("LANJOIN_SPEC_DIR");

	return d ? d : LJ_SPEC_DIR_DEFAULT; /* empty: refused as not absolute */
}

void lj_spec_file_name(const char *target, const char *ifname, char ret[LJ_SPEC_NAME_SIZE])
{
	char key[LJ_TARGET_SPEC_MAX + 32];

	snprintf(key, sizeof(key), "%s/%s", target, ifname);
	snprintf(ret, LJ_SPEC_NAME_SIZE, "%016" PRIx64 ".json", lj_hash64(key));
}

int lj_spec_remove(const char *target, const char *ifname)
{
	_cleanup_close_ int dir = -1;
	char name[LJ_SPEC_NAME_SIZE];
	int r;

	if (access(lj_spec_dir(), F_OK) < 0)
		return -ENOENT; /* never made: nothing stored (and nothing to create) */
	r = lj_state_open_dir(lj_spec_dir(), &dir);
	if (r < 0)
		return r;
	lj_spec_file_name(target, ifname, name);
	if (unlinkat(dir, name, 0) < 0)
		return lj_negerrno();
	return 0;
}

int lj_spec_forget(const struct lj_record *rec)
{
	const char *t = json_string_value(json_object_get(rec->spec, "target"));
	int r = lj_spec_remove(t ? t : rec->target_spec, rec->ifname);

	return r == -ENOENT ? 0 : r;
}
