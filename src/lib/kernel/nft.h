/* SPDX-License-Identifier: MIT */
/*
 * The one place that uses libnftables. Every change is one command buffer that the kernel
 * commits atomically (all or nothing); reads come back as `nft -j` JSON. Callers build the
 * buffers from validated values only (addresses they formatted, names they checked with
 * lj_nft_name_valid()).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Run the nft commands in cmds (one atomic transaction) in the caller's network namespace.
 * With check, the kernel validates the transaction and discards it (`nft -c`): nothing
 * changes. err (errsize bytes, may be NULL) receives nft's first error line on failure.
 * Returns 0, or -errno recovered from nft's message (-EPERM without CAP_NET_ADMIN, -ENOENT
 * for a missing table/chain, -EEXIST, -EOPNOTSUPP when the kernel lacks a feature such as
 * NAT), -EINVAL for a syntax error, -ENOMEM.
 */
int lj_nft_run(const char *cmds, bool check, char *err, size_t errsize);

/*
 * Run one list command (e.g. "list table ip lanjoin") and return its `nft -j` output,
 * parsed: *ret is the array under "nftables" (new reference, caller decrefs). -ENOENT when
 * the listed object does not exist; other errors as lj_nft_run.
 */
int lj_nft_list(const char *cmd, json_t **ret, char *err, size_t errsize);

/*
 * True if s is safe to put unquoted into an nft command as a table/chain name or quoted as
 * an interface name: 1..63 bytes of [A-Za-z0-9_-], starting with a letter.
 */
bool lj_nft_name_valid(const char *s);

/* What lj_nft_lookup asks for: a table, or a chain or a set (map) of a table. */
enum lj_nft_kind { LJ_NFT_TABLE, LJ_NFT_CHAIN, LJ_NFT_SET };

struct lj_nft_query {
	enum lj_nft_kind kind;
	const char *name;   /* the object (the table itself for LJ_NFT_TABLE) */
	bool found;	    /* out */
	uint32_t set_flags; /* out: a set's NFT_SET_* flags (NFT_SET_MAP for a map) */
};

/*
 * Whether each of the n objects in q exists in table of nfproto family (NFPROTO_IPV4, ...),
 * in the caller's network namespace, with one nf_tables request each on one netlink socket
 * (no libnftables and no listing: each costs the same however big the table is). A missing
 * object (or table) is q[i].found = false. Returns 0, or -errno from the socket or the kernel
 * (-EPERM without CAP_NET_ADMIN; -EAGAIN/-EOPNOTSUPP without nf_tables): callers that need an
 * answer then fall back to lj_nft_list, which says why in nft's words.
 */
int lj_nft_lookup(uint8_t family, const char *table, struct lj_nft_query *q, size_t n);

/*
 * Call cb(name, data) for each chain of table (nfproto family), from one nf_tables dump
 * (the kernel sends the family's chains; those of other tables are skipped here), without
 * libnftables. Returns 0, or -errno as lj_nft_lookup (-ENOENT is not an error: no calls);
 * -EINTR when the ruleset changed during the dump (cb may then have missed some).
 */
int lj_nft_chains(uint8_t family, const char *table, void (*cb)(const char *name, void *data),
		  void *data);

/*
 * Call cb(key, keylen, chain, data) for each element of map set in table (nfproto family)
 * whose value is a verdict that jumps or goes to a chain, from one dump of the set's elements
 * (without libnftables): key is the element's key in network byte order. Returns 0 (also
 * when the set or table is missing: no calls), or -errno as lj_nft_chains.
 */
int lj_nft_map_jumps(uint8_t family, const char *table, const char *set,
		     void (*cb)(const void *key, size_t keylen, const char *chain, void *data),
		     void *data);
