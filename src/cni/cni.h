/* SPDX-License-Identifier: MIT */
/*
 * The CNI front end: when CNI_COMMAND is set, lanjoin is a CNI plugin. The runtime's
 * environment and the network configuration on stdin are validated and mapped onto the same
 * library calls the command line uses (lj_attach, lj_detach_matching); IPAM is delegated to
 * the plugin named by ipam.type in CNI_PATH. Results and errors are JSON on stdout in the
 * spec version the request asked for; one log line goes to stderr on failure.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/core/attach.h"

/* Spec error codes (SPEC.md "Error"), plus the Go libraries' 8 and our own 100+. */
enum {
	LJ_CNI_OK = 0,
	LJ_CNI_E_VERSION = 1,	  /* incompatible CNI version */
	LJ_CNI_E_UNSUPPORTED = 2, /* unsupported field in the network configuration */
	LJ_CNI_E_UNKNOWN = 3,	  /* container unknown or does not exist */
	LJ_CNI_E_ENV = 4,	  /* invalid or missing environment variables */
	LJ_CNI_E_IO = 5,	  /* I/O failure */
	LJ_CNI_E_DECODE = 6,	  /* failed to decode content */
	LJ_CNI_E_CONFIG = 7,	  /* invalid network configuration */
	LJ_CNI_E_NETNS = 8,	  /* invalid network namespace (Go libraries' ErrInvalidNetNS) */
	LJ_CNI_E_AGAIN = 11,	  /* try again later */
	LJ_CNI_E_NOT_READY = 50,  /* STATUS: cannot serve ADD */
	LJ_CNI_E_FAILED = 100,	  /* the attach failed and was rolled back */
	LJ_CNI_E_EXISTS = 101,	  /* the container already has CNI_IFNAME / this attachment */
	LJ_CNI_E_CHECK = 102,	  /* CHECK found the live state differs from prevResult */
	LJ_CNI_E_DETACH = 103,	  /* DEL/GC could not undo everything (the record is kept) */
	LJ_CNI_E_IPAM = 104,	  /* the IPAM plugin misbehaved (no valid result) */
};

enum lj_cni_cmd {
	LJ_CNI_ADD,
	LJ_CNI_DEL,
	LJ_CNI_CHECK,
	LJ_CNI_VERSION,
	LJ_CNI_STATUS,
	LJ_CNI_GC,
};

/* An error to report: code, short message, details (both may be ""). */
struct lj_cni_err {
	int code;
	char msg[128];
	char details[1024];
};

/* Set err (details printf-style) and return code. */
int lj_cni_fail(struct lj_cni_err *err, int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The runtime's environment, validated. Strings point into the environment. */
struct lj_cni_env {
	enum lj_cni_cmd cmd;
	const char *container_id; /* ADD/DEL/CHECK: matches ^[A-Za-z0-9][A-Za-z0-9_.-]*$ */
	const char *netns;	  /* ADD/CHECK: an absolute path; DEL: may be "" */
	const char *ifname;	  /* ADD/DEL/CHECK: a valid Linux interface name */
	const char *path;	  /* CNI_PATH, "" if unset */
	uint8_t args_mac[6];	  /* CNI_ARGS MAC=..., if has_args_mac */
	bool has_args_mac;
};

/*
 * Read and validate the environment for the command in CNI_COMMAND. Returns 0 or an error
 * code with err filled (LJ_CNI_E_ENV for missing/invalid variables).
 */
int lj_cni_env_parse(struct lj_cni_env *ret, struct lj_cni_err *err);

/* Spec versions: parse "X.Y.Z" into a comparable number; -1 if malformed. */
long lj_cni_version_num(const char *s);
/* Whether lanjoin speaks version s. */
bool lj_cni_version_supported(const char *s);
/* The versions lanjoin advertises, as a new JSON array. */
json_t *lj_cni_versions_json(void);
#define LJ_CNI_VERSION_LATEST "1.1.0"

#define LJ_CNI_MAX_PORTS LJ_MAX_PUBLISH

/* A network configuration, parsed and validated (nothing is looked up on the system). */
struct lj_cni_conf {
	json_t *root;	 /* the whole request (owned) */
	const char *raw; /* the request as read (borrowed: stdin buffer) */
	size_t raw_size;
	char version[16]; /* cniVersion: the version to answer in */
	char name[129];	  /* network name */
	enum lj_way way;
	struct lj_attach_opts opts; /* the way's options (strings point into root) */
	bool has_address;	    /* nat: "address" given in the configuration */
	char ipam_type[64];	    /* "" = no IPAM */
	bool ipam_dhcp;		    /* ipam.type is "dhcp": run it after the interface exists */
	uint32_t ipam_timeout;	    /* seconds an IPAM plugin may run ("ipamTimeout") */
	struct lj_ip pm_host_ips[LJ_CNI_MAX_PORTS]; /* portMappings' hostIPs (nat: must be the
						     * network's address, known after IPAM) */
	size_t n_pm_host_ips;
	struct lj_cidr rt_ips[LJ_MAX_IPS]; /* runtimeConfig.ips (capability "ips") */
	size_t n_rt_ips;
	json_t *dns;	     /* the configuration's "dns" (borrowed), NULL if none */
	json_t *prev_result; /* "prevResult" (borrowed), NULL if none */
	json_t *valid;	     /* GC: the valid attachments list (borrowed), NULL if none */
};

/*
 * Parse the request bytes (the JSON on stdin) for cmd. Checks the version first (errors 6
 * and 1 as the Go skel does), then every key lanjoin reads: types, ranges, lengths, names
 * (7), fields lanjoin does not implement (2). env supplies CNI_ARGS' MAC. On success
 * ret->root is owned by ret (free with lj_cni_conf_free). Returns 0 or a code with err set.
 */
int lj_cni_conf_parse(const char *buf, size_t size, enum lj_cni_cmd cmd,
		      const struct lj_cni_env *env, struct lj_cni_conf *ret,
		      struct lj_cni_err *err);

void lj_cni_conf_free(struct lj_cni_conf *c);

/* Only the cniVersion of a request (for VERSION and for errors); "" if none/unreadable. */
void lj_cni_peek_version(const char *buf, size_t size, char ret[16]);

/* --- IPAM delegation (ipam.c) -------------------------------------------------------- */

/* Seconds an IPAM plugin may take to answer when "ipamTimeout" is not set. */
#define LJ_CNI_IPAM_TIMEOUT_DEFAULT 30

#define LJ_CNI_MAX_DNS 8

/* What an IPAM plugin answered for ADD, validated. */
struct lj_cni_ipam {
	struct lj_cidr ips[LJ_MAX_IPS];
	struct lj_ip ip_gw[LJ_MAX_IPS]; /* family AF_UNSPEC = no gateway */
	size_t n_ips;
	struct lj_route_spec routes[LJ_MAX_ROUTES]; /* via AF_UNSPEC = no "gw" */
	size_t n_routes;
	json_t *dns; /* sanitized "dns" object or NULL (owned) */
};

void lj_cni_ipam_free(struct lj_cni_ipam *ip);

/*
 * Run the plugin `type` found in env->path with CNI_COMMAND=command (and, when not NULL,
 * CNI_CONTAINERID/CNI_IFNAME replaced), the rest of the environment unchanged and the same
 * stdin (conf->raw). fork+execve, no shell; its stderr passes through. On exit 0 and
 * ret_out != NULL, *ret_out is its stdout as JSON (NULL if empty). On failure err carries the
 * plugin's own error (code, msg, details) or why it could not be run. The plugin runs in its
 * own process group; if it has not exited within conf->ipam_timeout seconds (0: the
 * default), the group is killed with SIGKILL and the answer is LJ_CNI_E_IPAM ("did not
 * answer within N s"). Returns 0 or a code.
 */
int lj_cni_delegate(const struct lj_cni_env *env, const struct lj_cni_conf *conf, const char *type,
		    const char *command, const char *container_id, const char *ifname,
		    json_t **ret_out, struct lj_cni_err *err);

/*
 * A delegation started ahead of time, so that the plugin's start-up overlaps other work
 * (DEL: while the attachment is undone): the plugin runs and waits for its stdin, which only
 * lj_cni_delegate_finish sends; lj_cni_delegate_abort kills it before it has read anything, so
 * that it has not acted (it cannot know on what).
 */
struct lj_cni_pending {
	pid_t pid; /* 0: not started (too big a request, no fork): finish runs it then */
	int in;	   /* our end of its stdin (a socket: no SIGPIPE) */
	int rd;	   /* its stdout */
	char type[64];
	char command[16];
};

/*
 * Start plugin type for command with conf's request (CNI_CONTAINERID and CNI_IFNAME as in the
 * environment) into *ret. Never fails: a plugin that could not be started is run by
 * lj_cni_delegate_finish instead, which also reports why it cannot run.
 */
void lj_cni_delegate_start(const struct lj_cni_env *env, const struct lj_cni_conf *conf,
			   const char *type, const char *command, struct lj_cni_pending *ret);

/* Send the request to p, then as lj_cni_delegate (timeout, errors, the 1.0.0 retry). */
int lj_cni_delegate_finish(const struct lj_cni_env *env, const struct lj_cni_conf *conf,
			   struct lj_cni_pending *p, json_t **ret_out, struct lj_cni_err *err);

/* Kill p (and its process group) unless it is not started; reap it. */
void lj_cni_delegate_abort(struct lj_cni_pending *p);

/* Whether the IPAM plugin advertises spec version v (one VERSION exec). */
bool lj_cni_delegate_speaks(const struct lj_cni_env *env, const struct lj_cni_conf *conf,
			    const char *v);

/* Parse and validate an IPAM ADD result into ret. Returns 0 or LJ_CNI_E_IPAM. */
int lj_cni_ipam_parse(const json_t *j, struct lj_cni_ipam *ret, struct lj_cni_err *err);

/* Whether the plugin `type` can be found (and executed) in env->path. */
bool lj_cni_plugin_exists(const struct lj_cni_env *env, const char *type);

/* --- results (result.c) ---------------------------------------------------------------- */

#define LJ_CNI_MAX_IFACES 4

/* The internal result model, serialised per version. */
struct lj_cni_result {
	struct {
		char name[IFNAMSIZ];
		char mac[LJ_MAC_STRLEN]; /* "" if none */
		uint32_t mtu;		 /* 0 = unknown */
		const char *sandbox;	 /* NULL for host-side interfaces (borrowed) */
	} ifaces[LJ_CNI_MAX_IFACES];
	size_t n_ifaces;
	struct {
		struct lj_cidr addr;
		struct lj_ip gw; /* AF_UNSPEC = none */
		int iface;	 /* index into ifaces, -1 = none */
	} ips[LJ_MAX_IPS + 1];
	size_t n_ips;
	struct lj_route_spec routes[LJ_MAX_ROUTES + 2];
	size_t n_routes;
	json_t *dns; /* borrowed, NULL = none */
};

/* The result as JSON in version (a supported one). New reference. */
json_t *lj_cni_result_json(const struct lj_cni_result *r, const char *version);

/*
 * Validate a prevResult strictly as a CNI result: the members a result has are of their
 * types (interfaces, ips, routes arrays of objects; names, addresses, CIDRs, interface
 * indexes in range; dns lists of strings). Unknown members pass. Returns 0 or
 * LJ_CNI_E_DECODE with err saying what is malformed.
 */
int lj_cni_prev_result_check(const json_t *prev, struct lj_cni_err *err);

/* Print j (steals the reference) compactly to stdout with a newline. */
void lj_cni_print(json_t *j);

/* --- commands -------------------------------------------------------------------------- */

/* The attachment key: records whose info.cni matches. ifname/container_id NULL = any. */
struct lj_cni_key {
	const char *network;
	const char *container_id;
	const char *ifname;
	const json_t *keep; /* GC: a valid-attachments list whose entries do NOT match */
};

/* lj_record_match_fn for lj_cni_key. */
bool lj_cni_key_match(const struct lj_record *rec, void *data);

/*
 * The record of k, read under the shared lock (through the index below when it is built and
 * k names a container ID and an ifname); *ret is the caller's. -ENOENT if there is none.
 */
int lj_cni_find_record(struct lj_cni_key *k, struct lj_record *ret);

/* --- the index (index.c): a key's record without reading every record ---------------- */

/*
 * Open the index beside st's records (st's lock covers it). When it is not built yet (the
 * state directory of an older lanjoin), build it with exclusive (st locked exclusively), else
 * return -EAGAIN (the caller reads every record instead). *ret: close with lj_state_close.
 */
int lj_cni_index_open(struct lj_state *st, bool exclusive, struct lj_state **ret);

/* The record of k through the open index idx of st, if it is k's: 0 (*ret the caller's) or
 * -ENOENT. */
int lj_cni_index_find(struct lj_state *st, struct lj_state *idx, const struct lj_cni_key *k,
		      struct lj_record *ret);

/*
 * ADD, before anything changes: under the exclusive lock, refuse a key that has a record
 * (-EEXIST, *ret_old the caller's) and link k to id, the record id the attach will write.
 * -ENOTUNIQ: the index name of k is another live attachment's (hashed names only: never seen);
 * -EINVAL: k is not a key; else -errno of the state directory.
 */
int lj_cni_index_claim(const struct lj_cni_key *k, const char *id, struct lj_record *ret_old);

/* ADD failed: remove the link of k unless a record of k is there. Best effort. */
void lj_cni_index_release(const struct lj_cni_key *k);

/* GC: remove the links of keys[0..n) whose records are gone. 0 or -errno. */
int lj_cni_index_drop(const struct lj_cni_key *const *keys, size_t n);

/*
 * DEL: undo the attachment of k and remove its link, under the exclusive lock: the record the
 * index names, or, with no link, the one an older lanjoin would have written for the
 * namespace at netns (may be "" or gone). Nothing found is success. Returns 0 or -errno with
 * res->message (the record and its link are then kept); *ret_removed counts records removed.
 */
int lj_cni_index_detach(const struct lj_cni_key *k, const char *netns, struct lj_result *res,
			size_t *ret_removed);

struct lj_target;
/*
 * Open CNI_NETNS as the target t (refusing lanjoin's own namespace). Returns 0 or a code
 * with err set: 3 when it does not exist, 8 when it is not a usable network namespace.
 */
int lj_cni_open_netns(const struct lj_cni_env *env, struct lj_target *t, struct lj_cni_err *err);

int lj_cni_cmd_add(const struct lj_cni_env *env, struct lj_cni_conf *conf, struct lj_cni_err *err);
int lj_cni_cmd_del(const struct lj_cni_env *env, struct lj_cni_conf *conf, struct lj_cni_err *err);
int lj_cni_cmd_check(const struct lj_cni_env *env, struct lj_cni_conf *conf,
		     struct lj_cni_err *err);
int lj_cni_cmd_status(const struct lj_cni_env *env, struct lj_cni_conf *conf,
		      struct lj_cni_err *err);
int lj_cni_cmd_gc(const struct lj_cni_env *env, struct lj_cni_conf *conf, struct lj_cni_err *err);

/* The plugin's entry point: everything about a CNI invocation; returns the exit status. */
int lj_cni_main(void);
