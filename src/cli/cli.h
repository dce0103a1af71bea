/* SPDX-License-Identifier: MIT */
/* The command-line front end: one file per subcommand, dispatched from main.c. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "lib/core/attach.h"
#include "lib/foreign/engine.h"

/* Exit codes (the CLI contract). */
#define LJ_EXIT_OK 0
#define LJ_EXIT_FAILED 1   /* failed and rolled back: nothing left behind */
#define LJ_EXIT_USAGE 2	   /* bad usage or input */
#define LJ_EXIT_SETTLING 3 /* status: nothing wrong, but an attach still runs (not ready yet) */

int lj_cmd_attach(int argc, char **argv);
int lj_cmd_detach(int argc, char **argv);
int lj_cmd_list(int argc, char **argv);
int lj_cmd_status(int argc, char **argv);
int lj_cmd_watch(int argc, char **argv); /* src/cli/watch.c */
int lj_cmd_gc(int argc, char **argv);
int lj_cmd_apply(int argc, char **argv);
int lj_cmd_reconcile(int argc, char **argv);
int lj_cmd_uplink(int argc, char **argv);
int lj_cmd_pid(int argc, char **argv);
int lj_cmd_ip(int argc, char **argv);

/* --engine-socket PATH: use PATH for container engine requests. Returns 0, or -1 (printed). */
int lj_cli_engine_socket(const char *v);

/*
 * The arguments of status and reconcile: [TARGET] [--json] [--engine-socket PATH] [--help].
 * Sets *target (borrowed from argv; NULL when none) and *json. Returns -1 to go on, or the
 * exit code to return at once (after --help, or a usage error it printed).
 */
int lj_cli_target_args(int argc, char **argv, const char *usage, const char **target, bool *json);
int lj_cmd_dhcp_supervise(int argc, char **argv); /* hidden, internal */
int lj_dhcp_hook_main(int argc, char **argv);	  /* the DHCP client's hook (env) */
int lj_cmd_shim(int argc, char **argv);
int lj_cmd_docker_plugin(int argc, char **argv); /* src/plugin/server.c */

/*
 * Check that lanjoin has CAP_NET_ADMIN and CAP_SYS_ADMIN (root) for command cmd: if not, say
 * so in one line and return -EPERM (the caller exits 2: nothing was attempted). 0 when it
 * has them, or when it cannot tell.
 */
int lj_require_root(const char *cmd);

/* Print "lanjoin: <message>" to stderr. */
void lj_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Put prefix (borrowed; NULL: none) after "lanjoin: " in lj_err's messages, e.g. the spec
 * file and field that a message about an option's value is about. */
void lj_err_prefix(const char *prefix);

/*
 * Bad usage: print "lanjoin: <reason>" and then usage (if not NULL) to stderr. A usage that
 * starts with "; " is a hint for the end of the reason's line instead (attach, whose usage
 * is long: "; see 'lanjoin attach --help'"). Returns LJ_EXIT_USAGE.
 */
int lj_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * getopt_long returned c ('?' or, with an optstring starting with ':', ':'): say which
 * argument of argv (argc items) was wrong ("Unknown option '--x'", "Option '--ip' needs a
 * value", "Option '--json' takes no value") as lj_usage_error does. Returns LJ_EXIT_USAGE.
 */
int lj_getopt_error(int c, int argc, char **argv, const char *usage);

/*
 * Catch SIGINT, SIGTERM and SIGHUP for the rest of the process: the handler only records the
 * signal (lj_interrupt_raise), the library's waits and plan runner then stop and roll back
 * (SA_RESTART: other system calls go on, so that the rollback itself is not cut short).
 * A signal that was ignored when lanjoin started (nohup, a background job) is left ignored.
 * Returns 0 or -errno.
 */
int lj_catch_interrupts(void);

/* Print a result's failure and map it to an exit code (an interrupted, rolled-back attach
 * is a failure like any other: 1; a command stopped while it waited for the state lock,
 * res->lock_interrupted, nothing done: 128 + the signal, as if killed by it). */
int lj_report_failure(const struct lj_result *res, int r);

/* Warn on stderr about record files detach or gc could not read (res->bad_records). */
void lj_warn_bad_records(const struct lj_result *res);

/* Print a JSON value (steals the reference) to stdout, indented. */
void lj_print_json(json_t *j);

/* A table column's width: w, or the length of s if longer (NULL: w), for "%-*s". */
int lj_max_width(int w, const char *s);

/*
 * --dry-run --json: print res's plan as {"schema": "lanjoin/plan/v1", "dry_run": true,
 * "steps": [...], "commands": [...]} with the members of extra (taken; the front end's own,
 * e.g. "way") added. Returns LJ_EXIT_OK, or LJ_EXIT_FAILED after a message when out of memory.
 */
int lj_print_dry_run_json(const struct lj_result *res, json_t *extra);

/*
 * Tell systemd text ("READY=1", "STOPPING=1", sd_notify(3)'s datagram protocol) on
 * $NOTIFY_SOCKET; nothing when it is unset. Best effort: errors are ignored.
 */
void lj_sd_notify(const char *text);

/*
 * The records lanjoin made from other network namespaces than this one (list.c): one line to f
 * saying how many and where ("run 'lanjoin CMD' there"), so that an attachment never seems
 * lost; nothing when there are none or they cannot be read. Returns how many.
 */
struct lj_state;
size_t cli_say_foreign(struct lj_state *st, const char *cmd, FILE *f);

/*
 * Did lanjoin attach target as ifname from another network namespace, one that still exists
 * (list.c)? Then true, and its place (/run/netns/NAME, /proc/PID/ns/net) in where (size
 * bytes). False also when the records cannot be read.
 */
bool cli_attached_elsewhere(const char *target, const char *ifname, char *where, size_t size);

/*
 * Mark the rows of cli_spec_unattached that an attachment made from another network namespace
 * has (cli_attached_elsewhere): status "elsewhere", "where" its place; they are not missing
 * here (reconcile here would attach them a second time). Returns whether one is still missing.
 */
bool cli_spec_mark_elsewhere(json_t *specs);

/*
 * The names the Docker plugin's endpoints among n records (recs, each stride bytes from the
 * last, a struct lj_record at its start) have in their containers now ("eth1": Docker renames
 * the link the plugin made), into ret[i]; "" for other records and for an endpoint in no
 * container (list.c). The kernel is read only when one is an endpoint.
 */
void cli_handoff_ifnames(const void *recs, size_t n, size_t stride, char (*ret)[IFNAMSIZ]);

/*
 * The containers the Docker plugin's endpoints among n records (as above) are Docker's
 * endpoints of, by name, into ret[i]; "" for other records and when the engine (lanjoin's
 * engine socket) does not list the endpoint (list.c). The engine is asked once, only when one
 * is an endpoint; a failure to ask is no error (the record's sandbox is shown instead).
 */
void cli_handoff_containers(const void *recs, size_t n, size_t stride,
			    char (*ret)[LJ_ENGINE_NAME_MAX]);

/*
 * One instance of a long-running front end (instance.c). lj_instance_lock takes the lock
 * file path (created 0600, flock): 0 with *ret_fd its fd (the caller's; the file holds our
 * PID), -EBUSY when another process holds it, or -errno. lj_instance_holder reads the holder's
 * PID into buf: the file's, if that process holds the lock (/proc/locks), else one that does;
 * "" when unknown. lj_instance_unlock removes the file while still holding it,
 * then closes fd (nothing when fd < 0).
 */
int lj_instance_lock(const char *path, int *ret_fd);
void lj_instance_holder(const char *path, char *buf, size_t size);
void lj_instance_unlock(const char *path, int fd);
