/* SPDX-License-Identifier: MIT */
/* The documented machine output (doc/json.md): one builder per object, used by every command. */
#pragma once

#include <jansson.h>

#include "lib/core/attach.h"

#define LJ_SCHEMA_ATTACHMENT "lanjoin/attachment/v1"
#define LJ_SCHEMA_UPLINK "lanjoin/uplink/v1"
#define LJ_SCHEMA_SHIM "lanjoin/shim/v1"
#define LJ_SCHEMA_DETACH "lanjoin/detach/v1"
#define LJ_SCHEMA_GC "lanjoin/gc/v1"
#define LJ_SCHEMA_PID "lanjoin/pid/v1"
#define LJ_SCHEMA_CONTAINER "lanjoin/container/v1"
#define LJ_SCHEMA_STATUS "lanjoin/status/v1"
#define LJ_SCHEMA_PLAN "lanjoin/plan/v1"
#define LJ_SCHEMA_UNREADABLE "lanjoin/unreadable/v1"

struct lj_record;

/* An attachment (the record's public part) as a new JSON object; NULL on out of memory. */
json_t *lj_json_attachment(const struct lj_record *rec);

/* An array of lj_json_attachment of recs[0..n). */
json_t *lj_json_attachments(const struct lj_record *recs, size_t n);

/* {"schema": schema, key: [attachments of res->records], "notes": [res's notes]}: detach, gc. */
json_t *lj_json_removed(const char *schema, const char *key, const struct lj_result *res);

/* An uplink adoption from the library's facts (lj_uplink_list's items, an adopt's res->json);
 * status overrides the facts' own (NULL: theirs, else "adopted"). */
json_t *lj_json_uplink(const json_t *facts, const char *status);

/* Is cidr ("ADDR/LEN") an IPv6 link-local address (fe80::/10)? The kernel makes one on every
 * link; adopt moves it with the addresses a user configured, and lists mark it. */
bool lj_json_is_link_local(const char *cidr);

/* The members of the array addresses that are IPv6 link-local (a new array). */
json_t *lj_json_link_local(const json_t *addresses);

/* A host shim from lj_shim_add/lj_shim_del's res->json facts. */
json_t *lj_json_shim(const json_t *facts);

/* attach --json: the attachment made (res->records[0]), with "adopted_uplink" when attach
 * bridge --uplink adopted it first. */
void lj_print_attach_json(const struct lj_result *res);

/* The adoption of bridge as lj_json_uplink, looked up now (status overrides its own); one
 * with status "none" (or status) and only "bridge" when nothing is adopted under that name. */
json_t *lj_json_uplink_named(const char *bridge, const char *status);

/* Every adoption (uplink list --json); NULL when the state cannot be read. *ret_bad counts
 * the adoption records that could not be read (for lj_json_unreadable). */
json_t *lj_json_uplinks(size_t *ret_bad);

/*
 * The records of state subdirectory sub ("attachments", "uplinks") that could not be read,
 * when bad (a count from lj_state_list or res->bad_records) is not 0: one line on stderr
 * naming them ("warning: " first when warning:
 * the command goes on as if they were not there, detach and gc), and, unless ret_json is NULL,
 * *ret_json a new array of {"schema": "lanjoin/unreadable/v1", "file", "error"} (empty when
 * bad is 0). Returns how many there are (bad, when they cannot be listed again).
 */
size_t lj_json_unreadable(const char *sub, size_t bad, bool warning, json_t **ret_json);

/* Is there a stored (--persist) spec for rec's target and ifname? */
bool lj_json_persistent(const struct lj_record *rec);
