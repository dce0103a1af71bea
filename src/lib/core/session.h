/* SPDX-License-Identifier: MIT */
/*
 * A session: what a long-running front end (`lanjoin watch`, the Docker plugin) keeps
 * across the library calls it makes, so that each attach does not set it up again (DESIGN
 * §3b: the library keeps no state of its own; the front end creates the session once and
 * hands it in, lj_attach_opts.session, lj_handoff_opts.session). It holds only what a call
 * can check cheaply is still right, or what cannot be wrong:
 *
 *   - the rtnetlink socket in lanjoin's own namespace (a long-running front end never
 *     leaves it); whatever an earlier call left unread in it is dropped before each use;
 *   - the state directory and its attachments directory, opened once by path; each use
 *     checks that the path still leads to them (lj_state_open_kept) and opens them again
 *     otherwise. The lock is taken anew by every call, on the lock file as named now.
 *
 * One thread at a time: a session is not shared by calls running at once.
 */
#pragma once

#include "lib/core/state.h"
#include "lib/kernel/netlink.h"

struct lj_session;

/* A new session (*ret; free with lj_session_free). Returns 0 or -errno. */
int lj_session_new(struct lj_session **ret);

/* Close what s keeps and free it (NULL: nothing). */
void lj_session_free(struct lj_session *s);

/*
 * The session's rtnetlink socket in lanjoin's namespace, borrowed (s keeps it), with
 * nothing left unread in it; NULL when s is NULL (the caller opens its own).
 */
struct lj_nl *lj_session_host(struct lj_session *s);

/*
 * lj_state_open (the attachments directory, locked) through s's kept directories; s NULL:
 * lj_state_open. Returns 0 or -errno as lj_state_open.
 */
int lj_session_state_open(struct lj_session *s, bool exclusive, struct lj_state **ret);
