/* SPDX-License-Identifier: MIT */
/*
 * A small OVSDB client (RFC 7047): JSON-RPC 1.0 over a unix stream socket, one request at a
 * time (or a transaction sent ahead of the next, lj_ovsdb_transact_send), every call bounded by
 * a timeout. Messages are jansson values; a reply is read one
 * complete JSON object at a time by a bracket-counting splitter over a bounded buffer, so a
 * hostile or broken server can cost at most LJ_OVSDB_MSG_MAX bytes and the timeout. Echo
 * requests from the server (its inactivity probe) are answered; notifications are ignored.
 *
 * After a transport error or a timeout the connection is closed (a late reply would be taken
 * for the next one's); the next call connects again.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#define LJ_OVSDB_MSG_MAX (16u << 20) /* bytes of one message from the server */
#define LJ_OVSDB_DEPTH_MAX 64	     /* nesting of a message (OVSDB's go 6 deep) */
#define LJ_OVSDB_ERROR_MAX 512	     /* bytes kept of an error message */

struct lj_ovsdb;

/*
 * A client of the database server listening on the unix socket path (not "unix:"-prefixed).
 * timeout_ms (> 0) bounds each call, connecting included. Connects on the first call.
 * On success *ret is the caller's (lj_ovsdb_close). Errors: -EINVAL (path too long), -ENOMEM.
 */
int lj_ovsdb_new(const char *path, int timeout_ms, struct lj_ovsdb **ret);

/* Close the connection and free; NULL is fine. */
void lj_ovsdb_free(struct lj_ovsdb *c);

/* Why the last call failed, one line ("" if it did not). */
const char *lj_ovsdb_error(const struct lj_ovsdb *c);

/*
 * Send request method with params (an array; stolen, also on failure) and wait for its reply,
 * at most timeout_ms (0 = the client's timeout). On success *ret_result (may be NULL) is the
 * reply's "result", the caller's. Errors: -ECONNREFUSED (nobody listens at the path),
 * -ECONNRESET (the server closed the connection), -ETIMEDOUT, -EBADMSG (not JSON, not a
 * JSON-RPC object, or nested deeper than LJ_OVSDB_DEPTH_MAX), -EMSGSIZE (a message over
 * LJ_OVSDB_MSG_MAX), -EPROTO (the reply has an "error"), other -errno of the socket.
 */
int lj_ovsdb_call(struct lj_ovsdb *c, const char *method, json_t *params, int timeout_ms,
		  json_t **ret_result);

/*
 * Run ops (an array of operations; stolen) as one transaction on database db. On success
 * *ret_result (may be NULL) is the array of per-operation results, the caller's. An error of
 * the server fails the call with lj_ovsdb_error "ERROR: DETAILS" and *ret_failed (may be NULL)
 * the index of the failed operation (the number of ops when the commit failed), mapped as:
 * "constraint violation" of a unique index -EEXIST, other constraint and "referential
 * integrity violation" -EINVAL, "timed out" (a wait operation) -ETIMEDOUT, "resources
 * exhausted" -ENOSPC, "permission error" -EPERM, others -EIO. Transport errors as
 * lj_ovsdb_call's.
 */
int lj_ovsdb_transact(struct lj_ovsdb *c, const char *db, json_t *ops, int timeout_ms,
		      json_t **ret_result, size_t *ret_failed);

/* A transaction sent and not yet answered (lj_ovsdb_transact_send). */
struct lj_ovsdb_pending {
	json_int_t id;
	size_t n_ops;
};

/*
 * Send ops (stolen) as one transaction on db without waiting for the reply, so that the next
 * request goes in the same round trip (e.g. a wait behind the insert it waits for; the server
 * runs a session's requests in order). *ret is what lj_ovsdb_transact_reply takes; the
 * replies are taken in the order sent (at most two outstanding), or all dropped with
 * lj_ovsdb_drop. timeout_ms bounds the connect and the send. Errors as lj_ovsdb_call's.
 */
int lj_ovsdb_transact_send(struct lj_ovsdb *c, const char *db, json_t *ops, int timeout_ms,
			   struct lj_ovsdb_pending *ret);

/* Wait for the reply of p (at most timeout_ms, 0 = the client's), as lj_ovsdb_transact. */
int lj_ovsdb_transact_reply(struct lj_ovsdb *c, const struct lj_ovsdb_pending *p, int timeout_ms,
			    json_t **ret_result, size_t *ret_failed);

/* Close the connection, dropping the replies not taken yet (the next call connects again). */
void lj_ovsdb_drop(struct lj_ovsdb *c);
