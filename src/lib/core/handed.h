/* SPDX-License-Identifier: MIT */
/*
 * Links handed to a container engine (the Docker plugin's endpoints, ways/handoff.h), seen
 * from a TARGET the user names: a container's endpoints are recorded by their sandbox (the
 * engine's SandboxKey) in lanjoin's own namespace, not by the container, so that `status web`
 * or `detach web` finds them only by asking the engine which sandbox and endpoints web has.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/core/state.h"
#include "lib/foreign/engine.h"
#include "lib/kernel/link.h"

/* Is rec a link handed to a container engine (a Docker plugin endpoint)? */
bool lj_record_handed(const struct lj_record *rec);

/*
 * rec as messages name an attachment, into buf (size bytes; returned): "TARGET ('IFNAME')",
 * or for a Docker plugin endpoint "Docker endpoint EID12 on network NID12 (sandbox PATH)"
 * (its target is the sandbox and its ifname the link's name before Docker renamed it: neither
 * is what the user knows; `docker network inspect NID12` is).
 */
const char *lj_record_who(const struct lj_record *rec, char *buf, size_t size);

/* What a TARGET is, as far as handed links go. */
struct lj_handed_owner {
	bool known;			      /* something was resolved (else nothing matches) */
	char container[LJ_ENGINE_NAME_MAX];   /* the container's name, "" for other targets */
	char sandbox_key[LJ_ENGINE_NAME_MAX]; /* its SandboxKey, "" if none */
	struct lj_netns_id id;		      /* its namespace, when has_id */
	bool has_id;
	struct lj_engine_net nets[LJ_ENGINE_MAX_NETS]; /* a container's networks (endpoint IDs) */
	size_t n_nets;
	/* another target's links (owned) and lanjoin's own (owned): a handed link is found in
	 * its namespace by the record even where its sandbox file is no namespace (the engine
	 * mounts it in a mount namespace of its own) */
	struct lj_link *links, *host;
	size_t n_links, n_host;
};

/*
 * Resolve target (a TARGET as the CLI takes it) into *ret for lj_handed_owned: a container
 * by one inspect of its engine (its SandboxKey and endpoints; running or not), any other
 * target by opening its namespace (its identity). Returns 0, or -errno with ret->known false
 * (no such container, no engine, not a namespace): then no handed link is its.
 */
int lj_handed_owner_get(const char *target, struct lj_handed_owner *ret);

/* Free what lj_handed_owner_get put in o (not o itself). */
void lj_handed_owner_free(struct lj_handed_owner *o);

/*
 * Is the handed link of rec one of o's: its sandbox is o's SandboxKey, its endpoint one of
 * o's, its sandbox file is o's namespace, or o's namespace holds its link (the recorded MAC,
 * on the recorded parent, or the peer of the recorded host end)? *ret_network (may be NULL) is then
 * the engine's name for its network when o knows it, else NULL (borrowed from o).
 */
bool lj_handed_owned(const struct lj_handed_owner *o, const struct lj_record *rec,
		     const char **ret_network);

/*
 * Read into o the links of namespace netns_fd (borrowed: a container's, opened by the
 * caller) and lanjoin's own, for lj_handed_named, unless o has them (any other target's are
 * read by lj_handed_owner_get). 0 or -errno (then o has no links: none is named).
 */
int lj_handed_owner_links(struct lj_handed_owner *o, int netns_fd);

/*
 * Is rec's handed link named ifname in o's namespace (found there by its record as
 * lj_handed_owned finds it: the recorded MAC on the recorded parent or host end)? False for
 * any other record and when o has no links.
 */
bool lj_handed_named(const struct lj_handed_owner *o, const struct lj_record *rec,
		     const char *ifname);
