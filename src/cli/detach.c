/* SPDX-License-Identifier: MIT */
/* lanjoin detach TARGET [--ifname NAME] [--dry-run] | detach --all [--dry-run]; lanjoin gc */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int lj_cmd_detach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"ifname", required_argument, NULL, 'i'},
		{"dry-run", no_argument, NULL, 'n'},
		{"all", no_argument, NULL, 'a'},
		{"engine-socket", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *ifname = NULL;
	bool dry_run = false, all = false;
	struct lj_result res;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'a':
			all = true;
			break;
		case 'S':
			if (lj_cli_engine_socket(optarg) < 0)
				return LJ_EXIT_USAGE;
			break;
		case 'h':
			printf("Usage: lanjoin detach TARGET [--ifname NAME] [--dry-run] "
			       "[--engine-socket PATH]\n"
			       "       lanjoin detach --all [--dry-run]\n"
			       "Undo exactly what attach did (every attachment of TARGET unless\n"
			       "--ifname is given). Safe to repeat; works after the container died.\n"
			       "--all detaches everything, deleting the host-side links together.\n");
			return LJ_EXIT_OK;
		default:
			lj_err("Unknown or incomplete option '%s'", argv[optind - 1]);
			return LJ_EXIT_USAGE;
		}
	}
	if (all) {
		size_t removed = 0;
		if (optind != argc || ifname) {
			lj_err("Usage: lanjoin detach --all [--dry-run] (no TARGET, no --ifname)");
			return LJ_EXIT_USAGE;
		}
		r = lj_detach_all(dry_run, &res, &removed);
		if (r < 0) {
			int code = lj_report_failure(&res, r);
			lj_result_done(&res);
			return code;
		}
		if (!dry_run)
			printf("Detached %zu attachment%s\n", removed, removed == 1 ? "" : "s");
		lj_result_done(&res);
		return LJ_EXIT_OK;
	}
	if (optind != argc - 1) {
		lj_err("Usage: lanjoin detach TARGET [--ifname NAME] [--dry-run] [--engine-socket PATH]");
		return LJ_EXIT_USAGE;
	}
	r = lj_detach(argv[optind], ifname, dry_run, &res);
	lj_warn_bad_records(&res);
	if (r < 0) {
		int code = lj_report_failure(&res, r);
		lj_result_done(&res);
		return code;
	}
	if (res.message[0])
		printf("%s\n", res.message);
	lj_result_done(&res);
	return LJ_EXIT_OK;
}

int lj_cmd_gc(int argc, char **argv)
{
	struct lj_result res;
	size_t removed = 0;
	int r;

	if (argc == 3 && strcmp(argv[1], "--engine-socket") == 0) {
		if (lj_cli_engine_socket(argv[2]) < 0)
			return LJ_EXIT_USAGE;
	} else if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0) {
			printf("Usage: lanjoin gc [--engine-socket PATH]\nUndo attachments whose "
			       "namespace (or container) is gone, and attachments an interrupted run "
			       "left half-done.\n");
			return LJ_EXIT_OK;
		}
		lj_err("Usage: lanjoin gc [--engine-socket PATH]");
		return LJ_EXIT_USAGE;
	}
	r = lj_gc(&res, &removed);
	lj_warn_bad_records(&res);
	if (r < 0) {
		int code = lj_report_failure(&res, r);
		lj_result_done(&res);
		return code;
	}
	{
		const json_t *notes = json_object_get(res.json, "notes"), *v;
		size_t i;

		json_array_foreach(notes, i, v)
			printf("%s\n", json_string_value(v));
	}
	printf("Removed %zu stale attachment%s\n", removed, removed == 1 ? "" : "s");
	lj_result_done(&res);
	return LJ_EXIT_OK;
}
