/* SPDX-License-Identifier: MIT */
/* lanjoin detach TARGET [--ifname NAME] [--dry-run] | detach --all [--dry-run]; lanjoin gc */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/spec.h"
#include "lib/core/target.h"

static const char detach_usage[] =
	"Usage: lanjoin detach TARGET [--ifname NAME] [--keep-spec] [--dry-run] [--json]\n"
	"                      [--engine-socket PATH]\n"
	"       lanjoin detach --all [--include-cni] [--dry-run] [--json]\n"
	"Undo exactly what attach did (every attachment of TARGET unless\n"
	"--ifname is given). Safe to repeat (exit 0); works after the container died. A\n"
	"container the engine does not know, with no attachment or stored spec, is said to\n"
	"be no such container (exit 0 too: a removed container's detach repeated).\n"
	"--all detaches everything, deleting the host-side links together; endpoints of the\n"
	"Docker plugin are Docker's (docker network disconnect removes them): left, and counted;\n"
	"so are a CNI runtime's attachments (its CNI DEL removes them) unless --include-cni\n"
	"(or 'lanjoin detach TARGET' naming one). A container's plugin endpoints, found by its\n"
	"name too, are refused (exit 2) naming the 'docker network disconnect' to run.\n"
	"The stored spec of a persistent attachment goes too, unless --keep-spec,\n"
	"once the attachment is gone (a failed detach keeps it).\n";

/*
 * When target is a container the engine says does not exist (misspelt, or removed since),
 * put the engine's words in msg (size bytes), to say instead of "not attached".
 */
static void no_such_container(const char *target, char *msg, size_t size)
{
	struct lj_target t;
	int r;

	if (lj_target_parse(target, &t) < 0 || t.kind != LJ_TARGET_CONTAINER)
		return;
	r = lj_target_open(&t);
	if (r == 0)
		lj_target_close(&t);
	if (r == -ENOENT && t.error[0])
		snprintf(msg, size, "%s, and no attachment or stored spec names it: nothing to do",
			 t.error);
}

/*
 * Forget the stored specs of target (as ifname, NULL: any) that no record explains (what
 * lj_detach detached took its own spec along, see LJ_DETACH_DROP_SPEC): a persistent
 * attachment whose container is gone, or one whose container was renamed since (the spec
 * keeps its ID: target's container, asked once). Returns how many were removed.
 */
static size_t remove_specs(const char *target, const char *ifname)
{
	json_t *specs = NULL, *e;
	size_t i, removed = 0;
	struct lj_target tg = {.netns_fd = -1};
	bool asked = false;

	if (cli_spec_list(&specs) < 0)
		return 0;
	json_array_foreach(specs, i, e)
	{
		const json_t *s = json_object_get(e, "spec");
		const char *t = json_string_value(json_object_get(s, "target"));
		const char *n = json_string_value(json_object_get(s, "ifname"));
		const char *id = json_string_value(json_object_get(s, "container-id"));

		if (!t || (ifname && (!n || strcmp(n, ifname) != 0)))
			continue;
		if (strcmp(t, target) != 0 && id) {
			if (!asked && lj_target_parse(target, &tg) == 0 &&
			    tg.kind == LJ_TARGET_CONTAINER) {
				lj_target_open(&tg); /* stopped: its ID all the same */
				lj_target_close(&tg);
			}
			asked = true;
			if (strcmp(tg.container_id, id) != 0)
				continue;
		} else if (strcmp(t, target) != 0) {
			continue;
		}
		if (cli_spec_remove(t, n ? n : LJ_DEFAULT_IFNAME) == 0)
			removed++;
	}
	json_decref(specs);
	return removed;
}

/* What detach could not put back (e.g. a default route whose link is gone), on stderr. */
static void warn_notes(const struct lj_result *res)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(res->json, "notes"), i, v)
		fprintf(stderr, "%s\n", json_string_value(v));
}

int lj_cmd_detach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"ifname", required_argument, NULL, 'i'},
		{"dry-run", no_argument, NULL, 'n'},
		{"all", no_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{"engine-socket", required_argument, NULL, 'S'},
		{"keep-spec", no_argument, NULL, 'k'},
		{"include-cni", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *ifname = NULL;
	bool dry_run = false, all = false, json = false, keep_spec = false, include_cni = false;
	unsigned flags = 0;
	size_t spec_removed = 0;
	struct lj_result res;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
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
		case 'j':
			json = true;
			break;
		case 'k':
			keep_spec = true;
			break;
		case 'C':
			include_cni = true;
			break;
		case 'S':
			if (lj_cli_engine_socket(optarg) < 0)
				return LJ_EXIT_USAGE;
			break;
		case 'h':
			fputs(detach_usage, stdout);
			return LJ_EXIT_OK;
		default:
			return lj_getopt_error(c, argc, argv, detach_usage);
		}
	}
	flags = (dry_run ? LJ_DETACH_DRY_RUN : 0) | (keep_spec ? 0 : LJ_DETACH_DROP_SPEC) |
		(include_cni ? LJ_DETACH_INCLUDE_CNI : 0);
	if (include_cni && !all)
		return lj_usage_error(detach_usage,
				      "--include-cni goes with --all (a TARGET named is detached "
				      "whoever attached it)");
	if (all) {
		size_t removed = 0;
		if (optind != argc)
			return lj_usage_error(detach_usage, "--all takes no TARGET (got '%s')",
					      argv[optind]);
		if (ifname)
			return lj_usage_error(detach_usage,
					      "--all and --ifname exclude each other");
		r = lj_detach_all(flags, &res, &removed);
		if (res.dry_text)
			fputs(res.dry_text, stdout);
		warn_notes(&res);
		if (r < 0) {
			int code = lj_report_failure(&res, r);
			lj_result_done(&res);
			return code;
		}
		if (json && !dry_run)
			lj_print_json(lj_json_removed(LJ_SCHEMA_DETACH, "detached", &res));
		else if (!dry_run)
			printf("Detached %zu attachment%s\n%s%s", removed, removed == 1 ? "" : "s",
			       res.message, res.message[0] ? "\n" : "");
		lj_result_done(&res);
		return LJ_EXIT_OK;
	}
	if (optind == argc)
		return lj_usage_error(detach_usage, "Missing TARGET (or --all)");
	if (optind < argc - 1)
		return lj_usage_error(detach_usage, "Unexpected argument '%s'", argv[optind + 1]);
	/* Each detached attachment's spec goes with its record (LJ_DETACH_DROP_SPEC): only once
	 * it is really gone, and a detach killed part-way leaves it to whoever finishes it. */
	r = lj_detach(argv[optind], ifname, flags, &res);
	if (res.dry_text)
		fputs(res.dry_text, stdout);
	warn_notes(&res);
	lj_warn_bad_records(&res);
	if (r < 0) {
		int code = lj_report_failure(&res, r);
		lj_result_done(&res);
		return code;
	}
	if (!dry_run && !keep_spec)
		spec_removed = remove_specs(argv[optind], ifname);
	if (spec_removed && !res.n_records)
		/* nothing attached (a persistent container that is gone): its spec was all */
		snprintf(res.message, sizeof(res.message),
			 "Removed the stored spec of %s: it will not be attached again",
			 argv[optind]);
	/* not "not attached": the name is no container (misspelt, or removed since) */
	if (!res.n_records && !spec_removed)
		no_such_container(argv[optind], res.message, sizeof(res.message));
	if (json && !dry_run)
		lj_print_json(lj_json_removed(LJ_SCHEMA_DETACH, "detached", &res));
	else if (res.message[0])
		printf("%s\n", res.message);
	lj_result_done(&res);
	return LJ_EXIT_OK;
}

int lj_cmd_gc(int argc, char **argv)
{
	struct lj_result res;
	json_t *unreadable = NULL;
	size_t removed = 0;
	bool json = false;
	int r;

	static const char usage[] =
		"Usage: lanjoin gc [--json] [--engine-socket PATH]\n"
		"Undo attachments whose namespace (or container) is gone, and attachments an\n"
		"interrupted run left half-done; roll back interrupted uplink adoptions; remove\n"
		"lanjoin's OVS rows no record explains. Prints one line per thing removed.\n";

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--engine-socket") == 0) {
			if (i + 1 == argc)
				return lj_usage_error(usage,
						      "Option '--engine-socket' needs a value");
			if (lj_cli_engine_socket(argv[++i]) < 0)
				return LJ_EXIT_USAGE;
		} else if (strcmp(argv[i], "--json") == 0) {
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
	r = lj_gc(&res, &removed);
	if (r < 0) {
		int code;

		lj_warn_bad_records(&res);
		code = lj_report_failure(&res, r);
		lj_result_done(&res);
		return code;
	}
	/* named, and left alone: gc cannot tell whose they were (exit 0: gc did what it can) */
	lj_json_unreadable("attachments", res.bad_records, true, json ? &unreadable : NULL);
	if (json) {
		json_t *o = lj_json_removed(LJ_SCHEMA_GC, "removed", &res);

		/* also counts uplink adoptions and OVS rows gc removed */
		json_object_set_new(o, "count", json_integer((json_int_t)removed));
		json_object_set_new(o, "unreadable", unreadable);
		lj_print_json(o);
		lj_result_done(&res);
		return LJ_EXIT_OK;
	}
	{
		const json_t *notes = json_object_get(res.json, "notes"), *v;
		size_t i;

		json_array_foreach(notes, i, v) printf("%s\n", json_string_value(v));
	}
	{
		const json_t *c = json_object_get(res.json, "removed");
		size_t att = (size_t)json_integer_value(json_object_get(c, "attachments"));
		size_t upl = (size_t)json_integer_value(json_object_get(c, "uplink_adoptions"));
		size_t ovs = (size_t)json_integer_value(json_object_get(c, "ovs_rows"));

		printf("Removed %zu stale attachment%s", att, att == 1 ? "" : "s");
		if (upl)
			printf(", %zu uplink adoption%s", upl, upl == 1 ? "" : "s");
		if (ovs)
			printf(", %zu OVS row%s", ovs, ovs == 1 ? "" : "s");
		putchar('\n');
	}
	lj_result_done(&res);
	return LJ_EXIT_OK;
}
