/* SPDX-License-Identifier: MIT */
/*
 * STUB (branch watch): stands in for cli_reconcile until `lanjoin reconcile` (branch spec)
 * is merged. It repairs nothing: it reports each attachment's status (lib/core/status.c),
 * one line per attachment that is not ok, and returns as the real one would.
 */
#include <string.h>

#include "cli/reconcile.h"
#include "lib/core/status.h"

int cli_reconcile(const char *target, bool json, FILE *log)
{
	struct lj_status_entry *e = NULL;
	struct lj_result res;
	size_t n = 0;
	int r, ret = 0;

	r = lj_status(target, &e, &n, &res);
	if (r < 0) {
		fprintf(log, "reconcile %s: %s\n", target ? target : "all",
			res.message[0] ? res.message : strerror(-r));
		lj_result_done(&res);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		if (e[i].kind == LJ_STATUS_OK)
			continue;
		ret = 1;
		fprintf(log, "reconcile %s %s: %s%s%s (not repaired: reconcile is a stub)\n",
			e[i].rec.target_spec, e[i].rec.ifname, lj_status_kind_str(e[i].kind),
			e[i].what[0] ? ": " : "", e[i].what);
	}
	if (n == 0 || ret == 0)
		fprintf(log, "reconcile %s: %zu attachment%s ok\n", target ? target : "all", n,
			n == 1 ? "" : "s");
	lj_status_free(e, n);
	lj_result_done(&res);
	return ret;
}
