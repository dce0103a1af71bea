/* SPDX-License-Identifier: MIT */
/*
 * status: is each attachment still what its record says? Read only. The kernel is read with
 * a constant number of dumps per network namespace (links, addresses, routes, once each), and
 * each record's steps are compared against those dumps by their step type's verify.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/core/result.h"
#include "lib/core/state.h"
#include "lib/kernel/addr.h"
#include "lib/kernel/link.h"
#include "lib/kernel/route.h"

/* One network namespace as dumped once: its links, addresses and routes (IPv4 and IPv6). */
struct lj_status_ns {
	struct lj_link *links;
	size_t n_links;
	struct lj_addr_info *addrs;
	size_t n_addrs;
	struct lj_route_entry *routes;
	size_t n_routes;
};

/* What a step type's verify compares a step against. */
struct lj_status_view {
	const struct lj_status_ns *host;   /* lanjoin's namespace */
	const struct lj_status_ns *target; /* the target's; NULL when it is gone */
	const struct lj_record *rec;	   /* the record the step is from */
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

enum lj_status_kind {
	LJ_STATUS_OK,
	LJ_STATUS_DRIFTED,
	LJ_STATUS_TARGET_GONE,
	LJ_STATUS_TARGET_RESTARTED,
};

/* "ok", "drifted", "target-gone", "target-restarted". */
/*
 * Does a step of rec see its target gone (its verify answers LJ_VERIFY_TARGET_GONE), judged
 * against host, a dump of lanjoin's namespace (lj_status_ns_dump)? True with why (size bytes)
 * saying so. Reads only; for gc and the front ends' recovery.
 */
bool lj_status_gone(const struct lj_status_ns *host, const struct lj_record *rec, char *why,
		    size_t size);

const char *lj_status_kind_str(enum lj_status_kind k);

/* One attachment's status. */
struct lj_status_entry {
	struct lj_record rec; /* owned */
	enum lj_status_kind kind;
	char what[512];	  /* drifted: what differs (the first difference, then "; ..."); "" */
	size_t unchecked; /* steps whose type cannot be checked (no verify) */
};

/*
 * The status of every attachment recorded from this namespace (target not NULL: only those
 * whose TARGET as given at attach time is target), in creation order. *ret (n in *ret_n) is
 * freed with lj_status_free. Reads only (shared state lock while the records are read). On
 * failure res says why; returns 0 or -errno.
 */
int lj_status(const char *target, struct lj_status_entry **ret, size_t *ret_n,
	      struct lj_result *res);

/* Free what lj_status returned. */
void lj_status_free(struct lj_status_entry *e, size_t n);

/* Free what lj_status_ns_dump filled (not ns itself). */
void lj_status_ns_free(struct lj_status_ns *ns);

/* Dump the links, addresses and routes of nl's namespace into ns (4 dumps). 0 or -errno. */
int lj_status_ns_dump(struct lj_nl *nl, struct lj_status_ns *ns);
