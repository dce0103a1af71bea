/* SPDX-License-Identifier: MIT */
/* lanjoin list [--json] */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include "cli/cli.h"
#include "lib/kernel/netns.h"
#include "cli/json.h"
#include "lib/core/state.h"

static const char usage[] =
	"Usage: lanjoin list [--json]\n"
	"Show what lanjoin has attached from this network namespace (records belong to the\n"
	"namespace lanjoin ran in); says how many were attached from other namespaces, and "
	"where.\n";

/*
 * The records made by lanjoin in other network namespaces: one line saying how many and where
 * (to f), so that an attachment never seems lost. Unreadable places say nothing.
 */
static void say_foreign(struct lj_state *st, FILE *f)
{
	struct lj_netns_index *idx = NULL;
	struct lj_record *recs = NULL;
	size_t n = 0, gone = 0;

	if (lj_state_list_foreign(st, &recs, &n) < 0 || n == 0)
		goto out;
	lj_netns_index_new(&idx);
	fprintf(f,
		"%zu attachment%s lanjoin made from other network namespaces (run 'lanjoin list' "
		"there):",
		n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		char where[256];
		int fd;

		if (idx && lj_netns_find(idx, &recs[i].host_netns, recs[i].host_netns_cookie, &fd,
					 where, sizeof(where)) == 0) {
			close(fd);
			fprintf(f, "\n  %s %s (%s way), from %s", recs[i].target_spec,
				recs[i].ifname, recs[i].way, where);
		} else {
			gone++;
		}
	}
	if (gone)
		fprintf(f,
			"\n  %zu from network namespaces that no longer exist ('lanjoin gc' drops "
			"them)",
			gone);
	fputc('\n', f);
out:
	lj_netns_index_free(idx);
	lj_records_free(recs, n);
}

int lj_cmd_list(int argc, char **argv)
{
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	size_t n = 0, bad = 0;
	bool json = false;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return LJ_EXIT_OK;
		} else if (argv[i][0] == '-') {
			return lj_usage_error(usage, "Unknown option '%s'", argv[i]);
		} else {
			return lj_usage_error(usage, "Unexpected argument '%s'", argv[i]);
		}
	}
	r = lj_state_open(false, &st);
	if (r == 0)
		r = lj_state_list(st, &recs, &n, &bad);
	if (r < 0) {
		lj_state_close(st);
		lj_err("Failed to read the state directory %s: %s", lj_state_dir(),
		       lj_state_strerror(r));
		return LJ_EXIT_FAILED;
	}
	if (json) {
		lj_print_json(lj_json_attachments(recs, n));
	} else {
		printf("%-24s %-8s %-8s %-15s %-16s %s\n", "TARGET", "IFNAME", "WAY", "HOST-SIDE",
		       "VIA", "ADDRESSES");
		for (size_t i = 0; i < n; i++) {
			const struct lj_record *rec = &recs[i];
			json_t *addrs = json_object_get(rec->info, "addresses"), *a;
			const char *via = json_string_value(json_object_get(rec->info, "bridge"));
			size_t k;

			if (!via)
				via = json_string_value(json_object_get(rec->info, "parent"));
			if (!via)
				via = json_string_value(json_object_get(rec->info, "uplink"));
			printf("%-24s %-8s %-8s %-15s %-16s ", rec->target_spec, rec->ifname,
			       rec->way, rec->host_ifname[0] ? rec->host_ifname : "-",
			       via ? via : "-");
			json_array_foreach(addrs, k, a)
				printf("%s%s", k ? "," : "", json_string_value(a));
			if (!json_array_size(addrs))
				printf("-");
			if (lj_record_settling_live(rec))
				printf(" (settling: attach PID %" PRId64
				       " waits for its addresses)",
				       rec->owner_pid);
			else if (strcmp(rec->status, "attached") != 0)
				printf(" (%s: interrupted, run 'lanjoin gc')", rec->status);
			if (lj_json_persistent(rec))
				printf(" (persistent)");
			putchar('\n');
		}
	}
	/* On stdout after the table; with --json on stderr, so that stdout stays one value. */
	say_foreign(st, json ? stderr : stdout);
	lj_state_close(st);
	if (bad)
		lj_err("%zu file%s in %s/attachments could not be read (malformed or not "
		       "lanjoin's)",
		       bad, bad == 1 ? "" : "s", lj_state_dir());
	lj_records_free(recs, n);
	return LJ_EXIT_OK;
}
