/* SPDX-License-Identifier: MIT */
/* lanjoin shim add PARENT --ip CIDR | lanjoin shim del PARENT */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "lib/ways/shim.h"

static const char usage[] =
	"Usage:\n"
	"  lanjoin shim add PARENT --ip CIDR [--json]   create the host shim on PARENT (kept\n"
	"                                               until del)\n"
	"  lanjoin shim del PARENT [--json]             remove it (or, while containers still\n"
	"                                               use it, let it go with the last of them)\n"
	"\n"
	"The kernel never passes frames between a macvlan parent and its children: the host\n"
	"cannot reach its macvlan containers through PARENT. The shim is a host-side macvlan\n"
	"(mode bridge) on PARENT holding an address of its own from PARENT's subnet (as a /32\n"
	"or /128: the host's routes do not change). 'attach macvlan --host-shim CIDR' adds a\n"
	"host route to each container through it, creating the shim if needed.\n";

/* Parse "add PARENT --ip CIDR" or "del PARENT" (options anywhere after the command). Returns
 * -1 after printing why (*ret_code: the exit code), else 0 with *ret_parent and, for add, *ip. */
static int parse(int argc, char **argv, bool add, const char **ret_parent, struct lj_cidr *ip,
		 bool *json, int *ret_code)
{
	static const struct option longopts[] = {
		{"ip", required_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *cidr = NULL;
	int c;

	*ret_code = LJ_EXIT_USAGE;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (!add) {
				lj_usage_error(usage, "Option '--ip' is for 'shim add'");
				return -1;
			}
			cidr = optarg;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			*ret_code = LJ_EXIT_OK;
			return -1;
		default:
			lj_getopt_error(c, argc, argv, usage);
			return -1;
		}
	}
	if (optind == argc) {
		lj_usage_error(usage, "Missing PARENT");
		return -1;
	}
	if (optind < argc - 1) {
		lj_usage_error(usage, "Unexpected argument '%s'", argv[optind + 1]);
		return -1;
	}
	*ret_parent = argv[optind];
	if (!lj_ifname_valid(*ret_parent)) {
		lj_err("Invalid parent name '%s': " LJ_IFNAME_RULE, *ret_parent);
		return -1;
	}
	if (!add)
		return 0;
	if (!cidr) {
		lj_usage_error(usage, "shim add needs --ip CIDR");
		return -1;
	}
	if (lj_parse_cidr(cidr, true, ip) < 0) {
		lj_err("Invalid --ip '%s': expected ADDRESS/PREFIX, e.g. 198.51.100.144/24", cidr);
		return -1;
	}
	if (lj_ip_link_local(&ip->ip)) {
		lj_err("Invalid --ip '%s': " LJ_LINK_LOCAL_WHY, cidr);
		return -1;
	}
	return 0;
}

int lj_cmd_shim(int argc, char **argv)
{
	struct lj_result res;
	struct lj_cidr ip;
	bool json = false;
	int r;

	if (argc < 2)
		return lj_usage_error(usage, "Missing shim command: add or del");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return LJ_EXIT_OK;
	}
	if (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "del") == 0) {
		bool add = argv[1][0] == 'a';
		const char *parent;
		int code;

		if (parse(argc - 1, argv + 1, add, &parent, &ip, &json, &code) < 0)
			return code;
		r = add ? lj_shim_add(parent, &ip, false, &res) : lj_shim_del(parent, false, &res);
	} else if (argv[1][0] == '-') {
		return lj_usage_error(usage, "Unknown option '%s' (expected add or del first)",
				      argv[1]);
	} else {
		return lj_usage_error(usage, "Unknown shim command '%s': expected add or del",
				      argv[1]);
	}
	if (r < 0) {
		int code = lj_report_failure(&res, r);
		lj_result_done(&res);
		return code;
	}
	if (json)
		lj_print_json(lj_json_shim(res.json));
	else if (res.message[0])
		printf("%s\n", res.message);
	lj_result_done(&res);
	return LJ_EXIT_OK;
}
