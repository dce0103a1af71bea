/* SPDX-License-Identifier: MIT */
/*
 * The stored persistent specs (attach --persist): their directory and file names, and their
 * removal. The CLI writes and reads them (src/cli/spec.c); a detach whose record is marked to
 * drop its spec (lj_record drop_spec) removes it once the attachment is gone, whoever
 * finishes that detach (detach, reconcile, watch, gc).
 */
#pragma once

#include "lib/core/state.h"

#define LJ_SPEC_DIR_DEFAULT "/var/lib/lanjoin/specs"
#define LJ_SPEC_NAME_SIZE 32

/* The spec directory in use: $LANJOIN_SPEC_DIR, else LJ_SPEC_DIR_DEFAULT. */
const char *lj_spec_dir(void);

/* The file name of the spec of target as ifname: 16 hex digits of a hash, ".json". */
void lj_spec_file_name(const char *target, const char *ifname, char ret[LJ_SPEC_NAME_SIZE]);

/* Remove the stored spec of target as ifname; -ENOENT: there is none. Else 0 or -errno. */
int lj_spec_remove(const char *target, const char *ifname);

/*
 * Remove the stored spec of rec's attachment (named by its spec's "target", else by the
 * record's target as given, and its ifname). 0 also when there is none, else -errno.
 */
int lj_spec_forget(const struct lj_record *rec);
