/* SPDX-License-Identifier: MIT */
#include "lib/core/session.h"

#include <errno.h>
#include <stdlib.h>

struct lj_session {
	struct lj_nl *host;
	struct lj_state_keep state;
};

int lj_session_new(struct lj_session **ret)
{
	struct lj_session *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->state.top_fd = s->state.dir_fd = -1;
	r = lj_nl_open(-1, &s->host);
	if (r < 0) {
		free(s);
		return r;
	}
	lj_nl_note_self_cookie(s->host); /* lj_netns_self_cookie needs no socket now */
	*ret = s;
	return 0;
}

void lj_session_free(struct lj_session *s)
{
	if (!s)
		return;
	lj_nl_close(s->host);
	lj_state_keep_close(&s->state);
	free(s);
}

struct lj_nl *lj_session_host(struct lj_session *s)
{
	if (!s)
		return NULL;
	/* An earlier call that stopped in the middle of an answer (an error in a dump's
	 * callback, a signal) left the rest: it would fail this call's sequence check. */
	lj_nl_drain(s->host);
	return s->host;
}

int lj_session_state_open(struct lj_session *s, bool exclusive, struct lj_state **ret)
{
	return s ? lj_state_open_kept(&s->state, exclusive, ret) : lj_state_open(exclusive, ret);
}
