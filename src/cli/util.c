/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <getopt.h>
#include <string.h>

#include <linux/capability.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "lib/core/interrupt.h"

static const char *err_prefix;

void lj_err_prefix(const char *prefix)
{
	err_prefix = prefix;
}

/*
 * Print a message formatted from fmt and ap to stderr with its control characters (but new
 * lines and tabs) as \xNN: it may quote input (a bad --ifname, a file's text), and escape
 * sequences must not reach the terminal.
 */
static void vput_clean(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void vput_clean(const char *fmt, va_list ap)
{
	char *text = NULL;

	if (vasprintf(&text, fmt, ap) < 0) {
		fputs("(out of memory)", stderr);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	free(text);
}

void lj_err(const char *fmt, ...)
{
	va_list ap;

	fputs("lanjoin: ", stderr);
	if (err_prefix)
		fputs(err_prefix, stderr);
	va_start(ap, fmt);
	vput_clean(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int lj_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fputs("lanjoin: ", stderr);
	va_start(ap, fmt);
	vput_clean(fmt, ap);
	va_end(ap);
	if (usage && strncmp(usage, "; ", 2) == 0) {
		fprintf(stderr, "%s\n", usage);
		return LJ_EXIT_USAGE;
	}
	fputc('\n', stderr);
	if (usage)
		fputs(usage, stderr);
	return LJ_EXIT_USAGE;
}

int lj_getopt_error(int c, int argc, char **argv, const char *usage)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

	if (strncmp(arg, "--", 2) != 0) {
		/* A short option (there are none): optopt is its letter. */
		if (optopt > ' ' && optopt < 0x7f)
			return lj_usage_error(usage, "Unknown option '-%c'", optopt);
		return lj_usage_error(usage, "Unknown option '%s'", arg);
	}
	if (c == ':')
		return lj_usage_error(usage, "Option '%s' needs a value", arg);
	if (optopt && strchr(arg, '='))
		return lj_usage_error(usage, "Option '%.*s' takes no value",
				      (int)(strchr(arg, '=') - arg), arg);
	return lj_usage_error(usage, "Unknown option '%.*s'", (int)strcspn(arg, "="), arg);
}

int lj_report_failure(const struct lj_result *res, int r)
{
	const char *msg = res->message[0] ? res->message : strerror(-r);

	if (res->bad_input) {
		lj_err("%s", msg);
		return LJ_EXIT_USAGE;
	}
	if (res->lock_interrupted) {
		lj_err("%s", msg);
		return 128 + res->interrupted; /* as if killed by it: nothing was done */
	}
	if (res->interrupted && res->rolled_back && res->undo_failed == 0)
		lj_err("%s; nothing was left behind.", msg);
	else if (res->rolled_back && res->undo_failed == 0)
		lj_err("%s. Rolled back: nothing was left behind.", msg);
	else
		lj_err("%s", msg);
	return LJ_EXIT_FAILED;
}

void lj_print_json(json_t *j)
{
	if (!j)
		return;
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(j);
}

int lj_print_dry_run_json(const struct lj_result *res, json_t *extra)
{
	json_t *j = lj_plan_describe_json(res->dry_ctx, &res->dry_plan);

	if (!j || !extra || json_object_set_new(j, "dry_run", json_true()) < 0 ||
	    json_object_set_new(j, "schema", json_string(LJ_SCHEMA_PLAN)) < 0 ||
	    json_object_update(j, extra) < 0) {
		json_decref(j);
		json_decref(extra);
		lj_err("Failed to describe the plan: %s", strerror(ENOMEM));
		return LJ_EXIT_FAILED;
	}
	json_decref(extra);
	lj_print_json(j);
	return LJ_EXIT_OK;
}

void lj_warn_bad_records(const struct lj_result *res)
{
	lj_json_unreadable("attachments", res->bad_records, true, NULL);
}

static void on_signal(int signo)
{
	lj_interrupt_raise(signo);
}

int lj_catch_interrupts(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	int r;

	r = lj_interrupt_setup();
	if (r < 0)
		return r;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* A signal ignored from the start (nohup, a shell's background job) stays so. */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	}
	return 0;
}

int lj_require_root(const char *cmd)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {0};
	bool net, sys;

	/* Cannot tell: let the command try, and fail with its own message if it must. */
	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	net = d[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
	sys = d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
	if (net && sys)
		return 0;
	lj_err("'lanjoin %s' needs root (CAP_NET_ADMIN%s): run it as root, e.g. with sudo", cmd,
	       sys ? "" : " and CAP_SYS_ADMIN");
	return -EPERM;
}

int lj_cli_target_args(int argc, char **argv, const char *usage, const char **target, bool *json)
{
	*target = NULL;
	*json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			*json = true;
		} else if (strcmp(argv[i], "--engine-socket") == 0) {
			if (i + 1 == argc)
				return lj_usage_error(usage,
						      "Option '--engine-socket' needs a value");
			if (lj_cli_engine_socket(argv[++i]) < 0)
				return LJ_EXIT_USAGE;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return LJ_EXIT_OK;
		} else if (argv[i][0] == '-') {
			return lj_usage_error(usage, "Unknown option '%s'", argv[i]);
		} else if (*target) {
			return lj_usage_error(usage, "Unexpected argument '%s'", argv[i]);
		} else if (!argv[i][0] || strlen(argv[i]) >= LJ_TARGET_SPEC_MAX) {
			return lj_usage_error(usage, "Invalid TARGET '%s'", argv[i]);
		} else {
			*target = argv[i];
		}
	}
	return -1;
}

void lj_sd_notify(const char *text)
{
	static __typeof__(sd_notify) *notify;
	static bool tried;

	if (!getenv("NOTIFY_SOCKET"))
		return; /* not run by systemd as Type=notify: nothing to load */
	if (!tried) {
		void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);

		tried = true;
		if (h)
			notify = (__typeof__(sd_notify) *)dlsym(h, "sd_notify");
	}
	if (notify)
		(void)notify(0, text);
}

int lj_max_width(int w, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > (size_t)w && n < 4096 ? (int)n : w;
}
