/* SPDX-License-Identifier: MIT */
/* lanjoin: put a container on a local layer-2 network. Dispatch to one file per subcommand. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cli/cli.h"
#include "cni/cni.h"
#include "config.h"
#include "lib/core/state.h"
#include "shared/macro.h"

static int cmd_version(int argc, char **argv)
{
	static const char usage[] = "Usage: lanjoin version\nPrint the version.\n";

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return LJ_EXIT_OK;
	}
	if (argc > 1)
		return lj_usage_error(usage, "%s '%s'",
				      argv[1][0] == '-' ? "Unknown option" : "Unexpected argument",
				      argv[1]);
	printf("lanjoin %s\n", LJ_VERSION);
	return LJ_EXIT_OK;
}

static int cmd_help(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	bool has_sub; /* help CMD SUB: CMD has per-SUB help (attach WAY, uplink CMD, shim CMD) */
	bool root;    /* needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) but for its --help */
} commands[] = {
	{"attach", lj_cmd_attach,
	 "attach a container to the LAN (bridge, ovs, macvlan, nat, routed)", true, true},
	{"detach", lj_cmd_detach, "undo exactly what attach did; safe to repeat", false, true},
	{"list", lj_cmd_list, "show what is attached", false, true},
	{"status", lj_cmd_status, "check each attachment against the kernel (read only)", false,
	 true},
	{"reconcile", lj_cmd_reconcile,
	 "bring attachments back to their specs (repair, re-attach, drop)", false, true},
	{"apply", lj_cmd_apply, "attach what spec files declare (idempotent)", false, true},
	{"watch", lj_cmd_watch,
	 "keep the attachments true: reconcile on engine, link and nftables events", false, true},
	{"uplink", lj_cmd_uplink, "adopt the host's uplink into a bridge (probed), or release it",
	 true, true},
	{"gc", lj_cmd_gc, "undo attachments whose namespace is gone", false, true},
	{"pid", lj_cmd_pid, "print a container's PID (docker-pid)", false, false},
	{"ip", lj_cmd_ip, "print a container's engine and lanjoin addresses (docker-ip)", false,
	 false},
	{"shim", lj_cmd_shim,
	 "host-side macvlan shim on its own (add PARENT --ip CIDR | del PARENT)", true, true},
	{"docker-plugin", lj_cmd_docker_plugin,
	 "serve lanjoin as a Docker network driver on a unix socket", false, true},
	{"version", cmd_version, "print the version", false, false},
	{"help", cmd_help, "show this help, or a command's: help COMMAND [SUBCOMMAND]", false,
	 false},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* `help CMD [SUB...]` is `CMD [SUB...] --help`. */
static int help_for(int argc, char **argv)
{
	char *args[4];
	int n = 0;

	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) != 0 || commands[i].fn == cmd_help)
			continue;
		/* Only attach (WAY), uplink and shim (their commands) take a second word. */
		if (argc > (commands[i].has_sub ? 3 : 2))
			return lj_usage_error(NULL,
					      "Unexpected argument '%s'; see 'lanjoin help %s'",
					      argv[commands[i].has_sub ? 3 : 2], argv[1]);
		for (int k = 1; k < argc; k++)
			args[n++] = argv[k];
		args[n++] = (char *)"--help";
		args[n] = NULL;
		return commands[i].fn(n, args);
	}
	return lj_usage_error(NULL, "Unknown command '%s'; see 'lanjoin help'", argv[1]);
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0 &&
	    strcmp(argv[1], "help") != 0)
		return help_for(argc, argv);
	printf("Usage: lanjoin COMMAND [ARGS]\n\n"
	       "Put a container (Docker/Podman name, pid:N, netns:NAME or a netns path) on a\n"
	       "local layer-2 network.\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf(strlen(commands[i].name) > 8 ? "  %s\n%11s%s\n" : "  %-8s %s%s\n",
		       commands[i].name, "", commands[i].summary);
	printf("\nRun 'lanjoin help COMMAND' (or 'lanjoin COMMAND --help') for a command's "
	       "options.\n"
	       "Exit status: 0 done; 1 failed and rolled back (nothing left behind), or for\n"
	       "status, some attachment not ok or a TARGET with no attachment; 2 bad usage or\n"
	       "input; 3 (status only) nothing wrong, but an attachment still settling. Every\n"
	       "command but pid, ip, version and help needs root (CAP_NET_ADMIN and\n"
	       "CAP_SYS_ADMIN); without it lanjoin says so and exits 2, changing nothing.\n");
	return LJ_EXIT_OK;
}

/* Does argv ask for help (--help or -h anywhere, or no arguments for uplink/shim)? */
static bool asks_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/*
 * Seed jansson's hash function from getrandom(): jansson would otherwise open /dev/urandom
 * itself on first use. Without entropy yet, jansson's own fallback seeding applies.
 */
static void seed_json(void)
{
	uint32_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed) && seed)
		json_object_seed(seed);
}

/* Directories lanjoin takes from the environment. */
/*
 * The state lock has been waited for a while (lj_state_set_lock_notice): say whom for, once,
 * on stderr (stdout may be --json). Called from another thread while this one waits in
 * flock, so nothing else prints meanwhile.
 */
static void on_lock_wait(const char *lock, const char *holders)
{
	lj_err("waiting for the state lock %s%s%s...", lock, holders[0] ? ", held by " : "",
	       holders);
}

static const char *const dir_vars[] = {"LANJOIN_STATE_DIR", "LANJOIN_SPEC_DIR"};

int main(int argc, char **argv)
{
	seed_json();
	/* Started by a DHCP client that lanjoin runs, as its event script (see lib/foreign/dhcp.h).
	 */
	if (getenv("LANJOIN_DHCP_HOOK"))
		return lj_dhcp_hook_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "dhcp-supervise") == 0)
		return lj_cmd_dhcp_supervise(argc - 1, argv + 1);
	/* A CNI runtime sets CNI_COMMAND: then argv means nothing and the protocol rules. */
	if (getenv("CNI_COMMAND"))
		return lj_cni_main();
	if (argc < 2) {
		cmd_help(0, NULL);
		return LJ_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	/* Set but empty is a mistake (an unset variable in a script), not the default. */
	for (size_t i = 0; i < ARRAY_SIZE(dir_vars); i++) {
		const char *v = getenv(dir_vars[i]);
		if (v && !*v) {
			lj_err("%s is set but empty: unset it for the default, or give an absolute "
			       "path",
			       dir_vars[i]);
			return LJ_EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (commands[i].root && !asks_help(argc - 1, argv + 1) &&
		    lj_require_root(argv[1]) < 0)
			return LJ_EXIT_USAGE;
		lj_state_set_lock_notice(on_lock_wait);
		return commands[i].fn(argc - 1, argv + 1);
	}
	lj_err("Unknown command '%s'; see 'lanjoin help'", argv[1]);
	return LJ_EXIT_USAGE;
}
