/* SPDX-License-Identifier: MIT */
/*
 * Hidden entry points of the DHCP machinery (see lib/foreign/dhcp.h): the supervisor that attach
 * starts (`lanjoin dhcp-supervise ...`) and the hook the DHCP client runs at each event
 * (lanjoin with LANJOIN_DHCP_HOOK in its environment). Not for users.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/foreign/dhcp.h"

int lj_cmd_dhcp_supervise(int argc, char **argv)
{
	struct lj_dhcp_start_opts o = {0};
	unsigned long long dev, ino;
	uint64_t watch_pid;
	bool bad = false;
	char why[512];
	int r;

	/* argv[8...]: flags (lj_dhcp_start writes them; "-" is none) */
	for (int i = 8; i < argc && !bad; i++) {
		if (strcmp(argv[i], "v6") == 0)
			o.v6 = true;
		else if (strcmp(argv[i], "no-default-route") == 0)
			o.no_default_route = true;
		else if (strcmp(argv[i], "hold") == 0)
			o.hold = true;
		else if (strncmp(argv[i], "wait-mac=", 9) == 0)
			bad = lj_parse_mac(argv[i] + 9, o.wait_mac) < 0 || !(o.wait_link = true);
		else
			bad = strcmp(argv[i], "-") != 0;
	}
	if (bad || argc < 8 || argc > 11 || lj_dhcp_kind_parse(argv[1], &o.kind) < 0 ||
	    argv[2][0] != '/' || !lj_ifname_valid(argv[3]) ||
	    sscanf(argv[6], "%llu:%llu", &dev, &ino) != 2 ||
	    (strncmp(argv[5], "pid:", 4) == 0 &&
	     lj_parse_uint(argv[5] + 4, 1, INT_MAX, &watch_pid) < 0)) {
		lj_err("dhcp-supervise is internal to lanjoin attach");
		return LJ_EXIT_USAGE;
	}
	o.client_path = argv[2];
	o.ifname = argv[3];
	o.hostname = argv[4];
	o.watch = argv[5];
	o.netns_id.dev = dev;
	o.netns_id.ino = ino;
	o.base = argv[7];
	o.netns_fd = 3;
	r = lj_dhcp_supervise(&o, why, sizeof(why));
	/* stdout and stderr are the attachment's DHCP log: its last line is what attach reports
	 * when the client stops. */
	if (why[0])
		fprintf(stderr, "lanjoin dhcp: %s\n", why);
	return r < 0 ? LJ_EXIT_FAILED : LJ_EXIT_OK;
}

int lj_dhcp_hook_main(int argc, char **argv)
{
	char why[512];
	int r;

	r = lj_dhcp_hook(argc > 1 ? argv[1] : NULL, why, sizeof(why));
	/* stderr is the client's, i.e. the attachment's DHCP log. */
	if (why[0])
		fprintf(stderr, "lanjoin dhcp hook: %s\n", why);
	return r < 0 ? 1 : 0;
}
