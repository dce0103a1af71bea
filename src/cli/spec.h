/* SPDX-License-Identifier: MIT */
/*
 * Attachment specs: what an attach is asked to do, as a JSON object whose members are the
 * attach command's long option names without "--" ("way", "target", "ifname", "bridge",
 * "ip": [...], "dhcp": true, ...). A spec is turned into attach options by the very code that
 * parses the command line (attach.c), so a spec file is checked with the same rules and
 * messages. The canonical form (cli_spec_add) is what records keep and what attach compares.
 * Persistent specs are files in the spec directory (LANJOIN_SPEC_DIR, default
 * LJ_SPEC_DIR_DEFAULT), with the state directory's ownership checks.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "lib/core/spec-store.h"
#include "lib/core/result.h"
#include "lib/core/spec.h"

/* What an attach is asked besides struct lj_attach_opts (the CLI's own options). */
struct cli_attach_flags {
	bool json;
	bool persist; /* also a spec member */
	bool replace;
};

/*
 * attach.c: set the attach option name (long name, no "--") to value (NULL for a flag) in
 * o as the command line does (same checks, same messages on stderr, the way table refusing
 * options the way does not take), and add it to spec in canonical form (spec NULL: not).
 * Returns 0; -ENOENT for a name that is no spec member (nothing printed); -EINVAL after a
 * printed message.
 */
int cli_attach_option(const char *name, const char *value, struct lj_attach_opts *o,
		      struct cli_attach_flags *f, json_t *spec);

/* attach.c: is name a flag (takes no value)? -ENOENT for an unknown option, -EPERM for one of
 * the command that is no spec field (dry-run, json). */
int cli_attach_option_is_flag(const char *name);

/* attach.c: the checks of a whole set of options (after all are set). 0 or -EINVAL (printed). */
int cli_attach_check(const struct lj_attach_opts *o);

/* attach.c: why an option of o means nothing (attach nat --to with --mtu: no interface is
 * made), or NULL. The command line and apply refuse it (exit 2); a stored spec carrying it
 * (older lanjoin took it) is attached again with a warning, the option ignored. */
const char *cli_attach_idle_option(const struct lj_attach_opts *o);

/* spec.c: the MAC to store with a persistent spec: the live interface's when res is an
 * attachment already as asked (it keeps its MAC), else mac. Points to static storage or mac. */
const uint8_t *cli_attach_live_mac(const struct lj_result *res, const uint8_t *mac);

/* spec.c: the engine network a nat attachment's address was taken from (res's record's), to
 * store with a persistent spec; NULL if none (borrowed from res). */
const char *cli_attach_live_network(const struct lj_result *res);

/* spec.c: parse --to v (ADDR, docker, docker:NETWORK, podman[:NETWORK]) into o; o keeps a
 * pointer into v. 0, or -1 after a printed message. */
int cli_attach_parse_to(const char *v, struct lj_attach_opts *o);

/*
 * After an attach: a container TARGET that is no container's name but a short prefix of its
 * ID (fewer than the 12 digits `docker ps` shows: `attach macvlan 4 ...` takes "4" as Docker
 * does) gets a note on stderr naming the container it was taken for (not when it was
 * attached already: res then describes the earlier attach).
 */
void cli_note_id_prefix(const struct lj_result *res);

/* The full ID of the container an attach's res is of (its record's), or NULL. */
const char *cli_spec_container_id(const struct lj_result *res);

/* spec.c: say in res->message (an attachment already as asked) that only its spec was
 * stored now: "...: nothing to do" becomes "...: its spec is now stored in DIR (persistent)". */
void cli_attach_say_stored(struct lj_result *res);

/*
 * A new spec {"way", "target", "ifname"} (target NULL: left out, a PID is no identity; ifname
 * NULL or "": left out, cli_default_ifname adds it once the options are parsed).
 */
json_t *cli_spec_new(enum lj_way way, const char *target, const char *ifname);

/*
 * When o asks no ifname (--ifname, the spec's "ifname"): set o->ifname, and spec's "ifname"
 * (spec may be NULL), to what the attach uses (lj_default_ifname). t: o->target parsed; a
 * container's is opened (lj_target_open_ns) to look at its records, so the caller closes t
 * and may hand it on as o->resolved while open (netns_fd >= 0).
 */
void cli_default_ifname(struct lj_attach_opts *o, json_t *spec, struct lj_target *t);

/* Add option name with value (NULL: a flag, true) to spec in canonical form. 0 or -ENOMEM. */
int cli_spec_add(json_t *spec, const char *name, const char *value);

/*
 * Convert spec (borrowed: o's strings point into it, keep it while o is used) into *o and
 * *f, checked as the command line is. Errors are printed as "lanjoin: FILE: field 'F': ...".
 * Returns 0 or -EINVAL. *ret_canon (may be NULL) gets the canonical spec (new reference).
 */
int cli_spec_to_opts(json_t *spec, const char *file, struct lj_attach_opts *o,
		     struct cli_attach_flags *f, json_t **ret_canon);

/*
 * The MAC of a persistent attachment when none is asked: derived from the target's identity
 * and ifname (locally administered, unicast), so that it comes back with the same one.
 */
void cli_spec_mac(const char *target, const char *ifname, uint8_t ret[6]);

/* The spec directory in use. */
const char *cli_spec_dir(void);

/*
 * Store spec (of target as ifname) in the spec directory (created with its missing parents),
 * atomically; mac (may be NULL) is stored as its "mac" unless it names one (the MAC
 * lanjoin derived or the live interface has, so that it comes back with it); network (may be
 * NULL: cli_attach_live_network) as its "to", "docker:NETWORK", unless it names an address or
 * a network; container_id (NULL or "": none) as its "container-id", the ID of the container
 * it was attached to, which cli_spec_open_target follows. 0 or -errno.
 */
int cli_spec_save(const json_t *spec, const uint8_t *mac, const char *network,
		  const char *container_id);

/*
 * Open the target of a stored spec as a persistent attachment follows its container: by its
 * "container-id" while that container exists, running or not (renamed since: ret->name is
 * its name now), else by its "target" (a container removed and made again under that name,
 * or an older spec without an ID; not when the target is a prefix of that ID: another
 * container with that prefix is not it). ret->spec is the spec's target. Returns lj_target_open's
 * 0 or -errno (-ESRCH: it exists but does not run); on failure ret->netns_fd is -1.
 */
int cli_spec_open_target(const json_t *spec, struct lj_target *ret);

/*
 * The stored spec of target as ifname is renamed new_target (its container's name now),
 * with container_id (NULL: kept) as its "container-id": written under its new name, then
 * the old file removed. -ENOENT: there is none; -EEXIST: another spec is stored under the
 * new name (left alone, nothing changed); else 0 or -errno.
 */
int cli_spec_retarget(const char *target, const char *ifname, const char *new_target,
		      const char *container_id);

/* Create the spec directory (and its missing parents) if missing, with the state
 * directory's checks: before an attach that must store its spec. 0 or -errno. */
int cli_spec_dir_make(void);

/* Remove the stored spec of target as ifname; -ENOENT: there is none. */
int cli_spec_remove(const char *target, const char *ifname);

/* Is there a stored spec of target as ifname? */
bool cli_spec_stored(const char *target, const char *ifname);

/*
 * A persistent spec (canonical, of a container as ifname) whose container exists but does not
 * run: store it (mac as for cli_spec_save), to be attached when it runs (status and list say
 * waiting; reconcile and watch attach it), and say so on stdout (json: {"target", "ifname",
 * "status": "waiting", "persistent": true}), or on stderr why it was not stored (another spec
 * of it is stored and not replace: exit 2; it could not be stored: exit 1); lines begin with
 * prefix (e.g. "FILE: "). True, with the exit status in *ret_code, for such a spec; false
 * when the target runs or is no stopped container (attach it as usual).
 */
bool cli_spec_wait(const json_t *spec, const uint8_t *mac, bool replace, const char *prefix,
		   bool json, int *ret_code);

/*
 * Load a spec file (path): *ret (new reference) or -errno with the reason printed as
 * "lanjoin: FILE: ...".
 */
int cli_spec_load(const char *path, json_t **ret);

/*
 * The stored specs: an array of {"file": PATH, "spec": {...}} (new reference) in *ret.
 * No directory: an empty array. 0 or -errno.
 */
int cli_spec_list(json_t **ret);

/*
 * The stored persistent specs (of target, NULL: all) that no attachment has (attached(t,
 * ifname, data) false), each {"target", "ifname", "way", "spec", "status"}: "waiting" (its
 * target does not run: attached when it does) or "missing" (it runs: reconcile attaches it;
 * then *missing is set true). A new array, empty if the spec directory cannot be read.
 */
json_t *cli_spec_unattached(const char *target,
			    bool (*attached)(const char *t, const char *ifname, void *data),
			    void *data, bool *missing);

/* Why the spec directory could not be used (r from the functions above), for messages. */
const char *cli_spec_strerror(int r);
