/* SPDX-License-Identifier: MIT */
/*
 * Who relies on an uplink adoption (uplink-users.c), for the give-back of an adoption that a
 * failed `attach --uplink` made: an explicit `lanjoin uplink adopt` (info.explicit), another
 * attach that found the adoption there and goes on with it (info.claims: its PID and start
 * time), an attachment recorded on the bridge. Read and written under the state lock, in the
 * same locked section as the decision. For uplink.c only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/core/state.h"

#define UPLINK_SUBDIR "uplinks"
#define UPLINK_KEY "uplink"

/*
 * Record in rec (an adoption record, loaded under st's exclusive lock) that someone relies on
 * it: an explicit adopt (explicit true), else this process (an attach going on with it; claims
 * of processes gone are dropped). Saves rec. Returns 0 or -errno.
 */
int lj_uplink_claim(struct lj_state *st, const struct lj_record *rec, bool explicit);

/*
 * Does anyone but this process rely on the adoption rec (under st's lock)? Returns 1 with why
 * (for a message: "it was adopted by 'lanjoin uplink adopt' too", ...) in buf, 0 if not, or
 * -errno.
 */
int lj_uplink_in_use(struct lj_state *st, const struct lj_record *rec, char *buf, size_t size);
