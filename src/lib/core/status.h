/* SPDX-License-Identifier: MIT */
/*
 * status: is each attachment still what its record says? Read only. The kernel is read with
 * a constant number of dumps per network namespace (links, addresses, routes, once each), and
 * each record's steps are compared against those dumps by their step type's verify.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/core/result.h"
#include "lib/core/state.h"
#include "lib/kernel/addr.h"
#include "lib/kernel/link.h"
#include "lib/kernel/route.h"

struct lj_status_caches;

/*
 * One network namespace as dumped once: its links, addresses and routes (IPv4 and IPv6), and
 * what the step types read lazily beside them (nft listings, sysctls, OVSDB rows), once each
 * per status run whatever the number of attachments (lj_status_cached).
 */
struct lj_status_ns {
	struct lj_link *links;
	size_t n_links;
	struct lj_addr_info *addrs;
	size_t n_addrs;
	struct lj_route_entry *routes;
	size_t n_routes;
	struct lj_status_caches *caches; /* owned; NULL: nothing is kept, reads are made here */
};

/* The route tables the source-route steps (steps/default-route.c) pick from: "lj" and up; a
 * target's replies from its engine address go by such a table (rule priority 32700). */
#define LJ_SRC_TABLE_BASE 0x6c6a0000u
#define LJ_SRC_TABLE_END (LJ_SRC_TABLE_BASE + 0x10000u)

/* What a step type's verify compares a step against. */
struct lj_status_view {
	const struct lj_status_ns *host;   /* lanjoin's namespace */
	const struct lj_status_ns *target; /* the target's; NULL when it is gone */
	const struct lj_record *rec;	   /* the record the step is from */
	bool *foreign_down; /* set by lj_status_need_link when the link it wants up is down and
			       is not the record's own host link (an uplink, parent, bridge:
			       not lanjoin's to bring up); NULL: not asked */
};

/* What verify answers besides 0 (holds) and -errno (could not be checked). */
#define LJ_VERIFY_DRIFTED 1
/* The step sees its target gone (e.g. the link handed to an engine is back in lanjoin's
 * namespace, its sandbox let it go): status says target-gone, gc undoes the record. */
#define LJ_VERIFY_TARGET_GONE 2

/* The namespace where acts in (NULL: the target is gone). */
static inline const struct lj_status_ns *lj_status_where(const struct lj_status_view *v,
							 enum lj_where where)
{
	return where == LJ_TARGET ? v->target : v->host;
}

/* The link named name in ns (NULL if none). */
const struct lj_link *lj_status_link(const struct lj_status_ns *ns, const char *name);

/* The link with ifindex in ns (NULL if none). */
const struct lj_link *lj_status_link_index(const struct lj_status_ns *ns, int ifindex);

/* Does link ifindex of ns hold address c (address and prefix length)? */
bool lj_status_has_addr(const struct lj_status_ns *ns, int ifindex, const struct lj_cidr *c);

/*
 * Is there a route to dst (prefix length 0: the default route) out of link oif in table
 * (0: the main table), via gateway via (AF_UNSPEC: any)?
 */
bool lj_status_has_route(const struct lj_status_ns *ns, const struct lj_cidr *dst,
			 const struct lj_ip *via, int oif, uint32_t table);

/*
 * For verify implementations: the link name of where in v, with why set (size bytes) and
 * NULL when it is missing ("link NAME is missing") or, with up, down ("link NAME is down").
 */
const struct lj_link *lj_status_need_link(const struct lj_status_view *v, enum lj_where where,
					  const char *name, bool up, char *why, size_t size);

/*
 * For verify implementations: does link l (named name, "in the target" or "on the host" as
 * where says) keep the MAC step s recorded? Returns 0, or LJ_VERIFY_DRIFTED with why set
 * ("NAME in the target has MAC X, not Y"). Nothing recorded or nothing read: 0.
 */
int lj_status_mac_kept(const struct lj_link *l, const struct lj_step *s, enum lj_where where,
		       char *why, size_t size);

/*
 * A verify implementation for a step that made or took a bridge on the host: s->link is
 * there, up, a bridge, and keeps the MAC s recorded. 0 or LJ_VERIFY_DRIFTED with why set.
 */
int lj_status_verify_bridge(const struct lj_status_view *v, const struct lj_step *s, char *why,
			    size_t size);

/*
 * For verify implementations: the value kept in ns under key (≤ 127 bytes, e.g. "nft list
 * chain ip filter FORWARD"), filled by fill(arg, &data, why, size) on its first use in a
 * status run (in ns's namespace: the process enters it for the call) and freed with drop.
 * *ret is borrowed (lives as long as ns). A failed fill is kept too: every later call
 * returns its -errno and why again. -EOPNOTSUPP when ns has no caches (not made by
 * lj_status_ns_dump).
 */
int lj_status_cached(const struct lj_status_ns *ns, const char *key,
		     int (*fill)(void *arg, void **ret, char *why, size_t size), void *arg,
		     void (*drop)(void *data), void **ret, char *why, size_t size);

/*
 * For verify implementations: `nft -j cmd` (a "list ..." command) in ns, once per status run
 * (*ret borrowed as lj_status_cached's). -ENOENT when what it lists is missing; other -errno
 * with why ("nft: ...").
 */
int lj_status_nft(const struct lj_status_ns *ns, const char *cmd, json_t **ret, char *why,
		  size_t size);

/*
 * For verify implementations: sysctl key (under /proc/sys) of ns into buf (size bytes,
 * trailing newline cut), read once per status run. -ENOENT when it does not exist.
 */
int lj_status_sysctl(const struct lj_status_ns *ns, const char *key, char *buf, size_t size);

enum lj_status_kind {
	LJ_STATUS_OK,
	LJ_STATUS_DRIFTED,
	LJ_STATUS_TARGET_GONE,
	LJ_STATUS_TARGET_RESTARTED,
	LJ_STATUS_SETTLING, /* its attach still runs (a live owner waits for its addresses): not
			       checked, and left alone by reconcile and watch */
};

/*
 * Does a step of rec see its target gone (its verify answers LJ_VERIFY_TARGET_GONE), judged
 * against host, a dump of lanjoin's namespace (lj_status_ns_dump)? True with why (size bytes)
 * saying so. Reads only; for gc and the front ends' recovery.
 */
bool lj_status_gone(const struct lj_status_ns *host, const struct lj_record *rec, char *why,
		    size_t size);

/*
 * Is rec's target alive, for a check that refuses what a live attachment holds (its address,
 * its MAC)? lj_target_alive; but a handed link's record (a Docker plugin endpoint,
 * lj_record_handed) names its sandbox, not the namespace it was made in (the engine may
 * mount it in a mount namespace of its own: an empty file proves nothing), so it is judged
 * by its link, as status and gc judge it: dead when its sandbox file is gone, or when
 * attached and a step of its record sees its target gone against a dump of lanjoin's
 * namespace (lj_status_gone: the veth pair by its recorded ifindex gone, the macvlan by its
 * MAC in no namespace, with the sandbox file no namespace here; or the link back beside
 * lanjoin, let go). A record made in another namespace than this process's, or what cannot
 * be read, counts as live.
 */
bool lj_record_alive(const struct lj_record *rec);

/* "ok", "drifted", "target-gone", "target-restarted", "settling". */
const char *lj_status_kind_str(enum lj_status_kind k);

/* One attachment's status. */
struct lj_status_entry {
	struct lj_record rec; /* owned */
	enum lj_status_kind kind;
	char what[512];	     /* drifted: what differs (the first difference, then "; ..."); "" */
	size_t unchecked;    /* steps whose type cannot be checked (no verify) */
	bool waits_for_link; /* drifted only because links it needs that lanjoin did not make
				(its uplink, parent, bridge) are down: nothing to repair until
				they are up (reconcile waits) */
	bool adoption; /* an uplink adoption (state subdirectory "uplinks"), not an attachment */
	char warning[768]; /* "" or what makes it not work though nothing drifted (nothing for
			      reconcile to repair): a nat --to whose replies to the LAN leave
			      the target through another link (a macvlan on the same LAN) */
	/* a container target's name as its engine says now (it may have been renamed since the
	 * record was made: reconcile follows it); "" when not asked or not known */
	char container_name[LJ_TARGET_SPEC_MAX];
};

/*
 * The status of every attachment recorded from this namespace (target not NULL: only those
 * of target: its TARGET as given at attach time or its name then, or, resolved once now, its
 * container (by ID: one renamed since) or its network namespace (a container that shares
 * another's, --network container:NAME, has that one's attachments)), in creation order, then of
 * every uplink adoption recorded from it (target not NULL: the one of bridge target), adoption set.
 * *ret (n in *ret_n) is freed with lj_status_free. Reads only (shared state lock while the records
 * are read). Record files that could not be read are counted in res->bad_records (attachments) and
 * res->bad_uplinks. On failure res says why; returns 0 or -errno.
 */
int lj_status(const char *target, struct lj_status_entry **ret, size_t *ret_n,
	      struct lj_result *res);

/* Free what lj_status returned. */
void lj_status_free(struct lj_status_entry *e, size_t n);

/* Free what lj_status_ns_dump filled (not ns itself). */
void lj_status_ns_free(struct lj_status_ns *ns);

/*
 * Dump the links, addresses and routes of nl's namespace into ns (4 dumps), and prepare its
 * caches for netns_fd (duplicated into ns; -1: this process's own namespace). 0 or -errno.
 */
int lj_status_ns_dump(struct lj_nl *nl, int netns_fd, struct lj_status_ns *ns);
