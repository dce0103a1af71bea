/* SPDX-License-Identifier: MIT */
/* lanjoin shim add PARENT --ip CIDR | lanjoin shim del PARENT */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/macvlan.h"

static void usage(FILE *f)
{
	fputs("Usage:\n"
	      "  lanjoin shim add PARENT --ip CIDR   create the host shim on PARENT (kept until del)\n"
	      "  lanjoin shim del PARENT             remove it (or, while containers still use it,\n"
	      "                                      let it go with the last of them)\n"
	      "\n"
	      "The kernel never passes frames between a macvlan parent and its children: the host\n"
	      "cannot reach its macvlan containers through PARENT. The shim is a host-side macvlan\n"
	      "(mode bridge) on PARENT holding an address of its own from PARENT's subnet (as a /32\n"
	      "or /128: the host's routes do not change). 'attach macvlan --host-shim CIDR' adds a\n"
	      "host route to each container through it, creating the shim if needed.\n",
	      f);
}

int lj_cmd_shim(int argc, char **argv)
{
	struct lj_result res;
	struct lj_cidr ip;
	int r;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return LJ_EXIT_OK;
	}
	if (argc == 5 && strcmp(argv[1], "add") == 0 && strcmp(argv[3], "--ip") == 0) {
		if (!lj_ifname_valid(argv[2])) {
			lj_err("Invalid parent name '%s': 1-15 bytes, no '/', ':' or whitespace",
			       argv[2]);
			return LJ_EXIT_USAGE;
		}
		if (lj_parse_cidr(argv[4], true, &ip) < 0) {
			lj_err("Invalid --ip '%s': expected ADDRESS/PREFIX, e.g. 198.51.100.144/24",
			       argv[4]);
			return LJ_EXIT_USAGE;
		}
		r = lj_shim_add(argv[2], &ip, &res);
	} else if (argc == 3 && strcmp(argv[1], "del") == 0) {
		r = lj_shim_del(argv[2], &res);
	} else {
		usage(stderr);
		return LJ_EXIT_USAGE;
	}
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
