/* SPDX-License-Identifier: MIT */
/*
 * lanjoin uplink adopt BR DEV [--ovs] [--probe ADDR] [--timeout S] [--no-probe] [--dry-run]
 * [--json] lanjoin uplink release BR [--force] [--dry-run] [--json] lanjoin uplink list [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "lib/core/state.h"
#include "lib/ways/uplink.h"

static const char usage[] =
	"Usage:\n"
	"  lanjoin uplink adopt BR DEV [--ovs [--ovsdb unix:PATH]] [--probe ADDR] [--timeout S]\n"
	"                              [--no-probe] [--dry-run] [--json]\n"
	"  lanjoin uplink release BR [--force] [--dry-run] [--json]\n"
	"  lanjoin uplink list [--json]\n"
	"\n"
	"adopt creates bridge BR with DEV's MAC address and MTU, moves every address and route\n"
	"of DEV onto it and makes DEV its port. Then the default gateway (or --probe ADDR) must\n"
	"answer through BR within --timeout seconds (default 5), or everything is undone.\n"
	"release gives DEV what BR holds then (what was added on BR since the adoption too; what\n"
	"was removed there stays removed) and removes BR (refused while containers are attached,\n"
	"unless --force).\n"
	"Both refuse while lanjoin's nat or routed attachments use the link (release even with\n"
	"--force): detach them first (they are named), then attach them again.\n"
	"list names an adoption record that cannot be read on stderr (exit 1; with --json, an\n"
	"unreadable object after the adoptions).\n"
	"\n"
	"Exit status: 0 done; 1 failed and rolled back (nothing changed); 2 bad usage or input;\n"
	"130 (128 + the signal) when Ctrl-C, SIGTERM or SIGHUP comes while adopt or release\n"
	"still waits for the state lock (another lanjoin holds it): nothing was done.\n";

static void print_warnings(const json_t *j)
{
	const json_t *w = json_object_get(j, "warnings"), *v;
	size_t i;

	json_array_foreach(w, i, v) lj_err("warning: %s", json_string_value(v));
}

static int cmd_adopt(int argc, char **argv)
{
	enum {
		OPT_OVS = 0x100,
		OPT_OVSDB,
		OPT_PROBE,
		OPT_TIMEOUT,
		OPT_NO_PROBE,
		OPT_DRY_RUN,
		OPT_JSON,
		OPT_HELP
	};
	static const struct option longopts[] = {
		{"ovs", no_argument, NULL, OPT_OVS},
		{"ovsdb", required_argument, NULL, OPT_OVSDB},
		{"probe", required_argument, NULL, OPT_PROBE},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"no-probe", no_argument, NULL, OPT_NO_PROBE},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{0},
	};
	struct lj_uplink_opts o = {0};
	struct lj_result res;
	bool json = false;
	uint64_t n;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_OVS:
			o.ovs = true;
			break;
		case OPT_OVSDB:
			o.ovsdb = optarg;
			break;
		case OPT_PROBE:
			if (lj_parse_ip(optarg, &o.probe) < 0) {
				lj_err("Invalid --probe address '%s'", optarg);
				return LJ_EXIT_USAGE;
			}
			break;
		case OPT_TIMEOUT:
			if (lj_parse_uint(optarg, 1, LJ_UPLINK_TIMEOUT_MAX_S, &n) < 0) {
				lj_err("Invalid --timeout '%s': seconds, 1 to %u", optarg,
				       LJ_UPLINK_TIMEOUT_MAX_S);
				return LJ_EXIT_USAGE;
			}
			o.timeout_ms = (unsigned)n * 1000u;
			break;
		case OPT_NO_PROBE:
			o.no_probe = true;
			break;
		case OPT_DRY_RUN:
			o.dry_run = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_HELP:
			fputs(usage, stdout);
			return LJ_EXIT_OK;
		default:
			return lj_getopt_error(c, argc, argv, usage);
		}
	}
	if (optind > argc - 2)
		return lj_usage_error(usage, "uplink adopt needs BR and DEV");
	if (optind < argc - 2)
		return lj_usage_error(usage, "Unexpected argument '%s'", argv[optind + 2]);
	if (o.no_probe && o.probe.family != AF_UNSPEC) {
		lj_err("--probe and --no-probe exclude each other");
		return LJ_EXIT_USAGE;
	}
	if (o.ovsdb && !o.ovs) {
		lj_err("--ovsdb needs --ovs");
		return LJ_EXIT_USAGE;
	}
	if (strlen(argv[optind]) >= IFNAMSIZ || strlen(argv[optind + 1]) >= IFNAMSIZ) {
		lj_err("Interface names are at most %d bytes", IFNAMSIZ - 1);
		return LJ_EXIT_USAGE;
	}
	snprintf(o.bridge, sizeof(o.bridge), "%s", argv[optind]);
	snprintf(o.dev, sizeof(o.dev), "%s", argv[optind + 1]);

	/* Ctrl-C, SIGTERM or SIGHUP (a dropped SSH session: what the probe is for) must not leave
	 * a half-done adoption: roll back instead, as attach does. */
	if (!o.dry_run && lj_catch_interrupts() < 0)
		lj_err("warning: cannot catch SIGINT/SIGTERM: an interrupted adopt may leave a "
		       "record for 'lanjoin gc'");
	else if (!o.dry_run)
		lj_state_lock_interruptible_once(); /* its first lock: nothing changed yet */
	r = lj_uplink_adopt(&o, &res);
	if (r < 0) {
		int code = lj_report_failure(&res, r);
		lj_result_done(&res);
		return code;
	}
	if (o.dry_run && json) {
		json_t *w = json_object_get(res.json, "warnings");
		int code = lj_print_dry_run_json(
			&res, json_pack("{s:o}", "warnings", w ? json_incref(w) : json_array()));
		if (code != LJ_EXIT_OK) {
			lj_result_done(&res);
			return code;
		}
	} else if (o.dry_run) {
		lj_plan_describe(res.dry_ctx, &res.dry_plan, false, stdout);
		print_warnings(res.json);
	} else if (json) {
		json_t *j = lj_json_uplink_named(o.bridge, NULL),
		       *w = json_object_get(res.json, "warnings");

		print_warnings(res.json);
		json_object_set_new(j, "warnings", w ? json_deep_copy(w) : json_array());
		lj_print_json(j);
	} else if (res.message[0]) {
		printf("%s\n", res.message);
	} else {
		print_warnings(res.json);
		printf("Adopted '%s' into '%s'\n", o.dev, o.bridge);
	}
	lj_result_done(&res);
	return LJ_EXIT_OK;
}

static int cmd_release(int argc, char **argv)
{
	bool force = false, dry_run = false, json = false;
	const char *bridge = NULL;
	json_t *before = NULL;
	struct lj_result res;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0) {
			force = true;
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			dry_run = true;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return LJ_EXIT_OK;
		} else if (argv[i][0] == '-') {
			return lj_usage_error(usage, "Unknown option '%s'", argv[i]);
		} else if (bridge) {
			return lj_usage_error(usage, "Unexpected argument '%s'", argv[i]);
		} else {
			bridge = argv[i];
		}
	}
	if (!bridge)
		return lj_usage_error(usage, "uplink release needs BR");
	if (json && !dry_run)
		before = lj_json_uplink_named(bridge, NULL); /* what is given back */
	/* Interrupted, the release stops and makes the adoption whole again (never half of it). */
	if (!dry_run && lj_catch_interrupts() < 0)
		lj_err("warning: cannot catch SIGINT/SIGTERM: an interrupted release may leave a "
		       "record for 'lanjoin uplink release'");
	else if (!dry_run)
		lj_state_lock_interruptible_once(); /* its first lock: nothing changed yet */
	r = lj_uplink_release(bridge, force, dry_run, &res);
	if (res.dry_text)
		fputs(res.dry_text, stdout);
	if (r < 0) {
		json_decref(before);
		int code;
		if (res.rolled_back) {
			/* Not the attach wording: here "rolled back" means the adoption is intact.
			 */
			lj_err("%s", res.message);
			code = LJ_EXIT_FAILED;
		} else {
			code = lj_report_failure(&res, r);
		}
		lj_result_done(&res);
		return code;
	}
	if (before) {
		if (strcmp(json_string_value(json_object_get(before, "status")), "none") != 0)
			json_object_set_new(before, "status", json_string("released"));
		lj_print_json(before);
	} else if (res.message[0] && !dry_run) {
		printf("%s\n", res.message);
	}
	lj_result_done(&res);
	return LJ_EXIT_OK;
}

static int cmd_list(int argc, char **argv)
{
	json_t *a = NULL, *v, *u = NULL;
	bool json = false;
	size_t i, bad = 0;
	int r;

	for (int k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
			fputs(usage, stdout);
			return LJ_EXIT_OK;
		} else if (argv[k][0] == '-') {
			return lj_usage_error(usage, "Unknown option '%s'", argv[k]);
		} else {
			return lj_usage_error(usage, "Unexpected argument '%s'", argv[k]);
		}
	}

	if (json) {
		a = lj_json_uplinks(&bad);
		if (!a) {
			lj_err("Failed to read the state directory %s", lj_state_dir());
			return LJ_EXIT_FAILED;
		}
		/* then the records that could not be read, as list --json: named, and exit 1 */
		bad = lj_json_unreadable("uplinks", bad, false, &u);
		json_array_extend(a, u);
		json_decref(u);
		lj_print_json(a);
		return bad ? LJ_EXIT_FAILED : LJ_EXIT_OK;
	}
	r = lj_uplink_list(&a, &bad);
	if (r < 0) {
		lj_err("Failed to read the state directory %s: %s", lj_state_dir(),
		       lj_state_strerror(r));
		return LJ_EXIT_FAILED;
	}
	printf("%-15s %-15s %-10s %s\n", "BRIDGE", "UPLINK", "STATUS", "ADDRESSES");
	json_array_foreach(a, i, v)
	{
		const json_t *addrs = json_object_get(v, "addresses"), *x;
		size_t k;
		printf("%-15s %-15s %-10s ", json_string_value(json_object_get(v, "bridge")),
		       json_string_value(json_object_get(v, "uplink")),
		       json_string_value(json_object_get(v, "status")));
		/* the kernel's IPv6 link-local address moved too: marked, after the others */
		for (int ll = 0, n = 0; ll < 2; ll++) {
			json_array_foreach(addrs, k, x)
			{
				if (lj_json_is_link_local(json_string_value(x)) != ll)
					continue;
				printf("%s%s%s", n++ ? "," : "", json_string_value(x),
				       ll ? " (link-local)" : "");
			}
		}
		putchar('\n');
	}
	json_decref(a);
	/* an adoption that cannot be read needs someone's attention: named on stderr, exit 1 */
	return lj_json_unreadable("uplinks", bad, false, NULL) ? LJ_EXIT_FAILED : LJ_EXIT_OK;
}

int lj_cmd_uplink(int argc, char **argv)
{
	if (argc < 2)
		return lj_usage_error(usage, "Missing uplink command: adopt, release or list");
	if (strcmp(argv[1], "adopt") == 0)
		return cmd_adopt(argc - 1, argv + 1);
	if (strcmp(argv[1], "release") == 0)
		return cmd_release(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return LJ_EXIT_OK;
	}
	return lj_usage_error(usage, "Unknown uplink command '%s': expected adopt, release or list",
			      argv[1]);
}
