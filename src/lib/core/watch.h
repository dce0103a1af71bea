/* SPDX-License-Identifier: MIT */
/*
 * What the supervisor (lanjoin watch, a front end) asks of the records: which attachments an
 * event touches, and the announcements to send again when a link's carrier comes back. The
 * supervisor's loop, sockets and signals are the front end's (src/cli/watch.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/core/state.h"

/*
 * Does rec rely on the host link name: its host-side link, or a link a step of it acts on in
 * lanjoin's namespace (a bridge, a macvlan parent, the uplink of a nat attachment)?
 */
bool lj_record_uses_link(const struct lj_record *rec, const char *name);

/* The links of lj_record_uses_link as a list: up to max names into names; returns how many. */
size_t lj_record_links(const struct lj_record *rec, const char **names, size_t max);

/* Which nftables tables rec's steps live in: LJ_STEP_NFT_* bits (core/plan.h), 0 for none. */
unsigned lj_record_nft(const struct lj_record *rec);

/* Is rec an attachment of the container with full ID id or name name (either may be "")? */
bool lj_record_is_container(const struct lj_record *rec, const char *id, const char *name);

/*
 * Send rec's announcements again (gratuitous ARP, unsolicited neighbour advertisements), from
 * the namespace each was sent from at attach time. Returns how many were sent, -ESRCH when
 * its target is gone or restarted, or the first -errno (why, size bytes, says which).
 */
int lj_record_announce(const struct lj_record *rec, char *why, size_t size);

/*
 * The records of this namespace (shared lock while they are read). *ret is freed with
 * lj_records_free. 0 or -errno.
 */
int lj_watch_records(struct lj_record **ret, size_t *ret_n);

/*
 * The namespace a netns:NAME or path target spec names now: the identity of the namespace
 * bound to its file into *ret, {0, 0} when there is none (no file, or a file nothing is bound
 * to yet: `ip netns add` creates it before the bind mount). 0, or -EINVAL for a spec of
 * another kind (a container, pid:N, a path under /proc: a process's) or a malformed one.
 */
int lj_watch_target_ns(const char *spec, struct lj_netns_id *ret);
