/* SPDX-License-Identifier: MIT */
/*
 * The one place that talks to nf_tables. Changes are one nf_tables transaction each (struct
 * lj_nft_tx: a netlink batch built with libnftnl, all or nothing), reads are nf_tables
 * requests (lj_nft_lookup, lj_nft_chains, lj_nft_map_jumps, lj_nft_rules). libnftables (loaded
 * on demand) is left for what needs nft's JSON: `nft -j` listings (lj_nft_list, for `lanjoin
 * status` and the fallbacks when the kernel does not answer a dump). Callers pass validated
 * values only (addresses they parsed, names they checked with lj_nft_name_valid()).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shared/parse.h"

/*
 * Run one list command (e.g. "list table ip lanjoin") and return its `nft -j` output,
 * parsed: *ret is the array under "nftables" (new reference, caller decrefs), loading
 * libnftables on first use. Returns 0, or -errno recovered from nft's message (-EPERM without
 * CAP_NET_ADMIN, -ENOENT when the listed object does not exist), -EINVAL for a syntax error,
 * -ENOMEM, -EPROTONOSUPPORT without libnftables; err (errsize bytes, may be NULL) receives
 * nft's first error line.
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
	uint8_t family;	    /* its table's family; 0: lj_nft_lookup's */
	bool found;	    /* out */
	uint32_t set_flags; /* out: a set's NFT_SET_* flags (NFT_SET_MAP for a map) */
	bool base;	    /* out: a chain is a base chain, on hook hooknum (NF_INET_*) ... */
	uint32_t hooknum;
	bool has_policy; /* ... with policy (NF_ACCEPT, NF_DROP) */
	uint32_t policy;
};

/*
 * Whether each of the n objects in q exists in table of nfproto family (NFPROTO_IPV4, ...),
 * (or q[i].family's table of that name, where it is set: both IP families on one socket),
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

/*
 * Call cb(handle, comment, data) for each rule of chain in table (nfproto family), from one
 * nf_tables dump (without libnftables): comment is the rule's comment (nft's `comment "..."`),
 * or NULL. Returns 0, -ENOENT when the table or chain is missing, or -errno as lj_nft_chains.
 */
int lj_nft_rules(uint8_t family, const char *table, const char *chain,
		 void (*cb)(uint64_t handle, const char *comment, void *data), void *data);

/*
 * For a dry run: print to f the nft commands that delete the rules of chain in table "filter"
 * of family (NFPROTO_IPV4 or NFPROTO_IPV6) that carry comment, by the handles they have now
 * (one dump, lj_nft_rules), each line pasteable; a comment line instead when the chain is
 * gone, cannot be listed, or holds no such rule.
 */
void lj_nft_describe_delete(FILE *f, uint8_t family, const char *chain, const char *comment);

/* Whether this process has CAP_NET_ADMIN (effective): without, nf_tables refuses it all. */
bool lj_nft_have_net_admin(void);

/*
 * The number of rules of table (nfproto family) that jump or go to chain target, from one
 * dump of the table's rules (without libnftables). Returns it, or -errno as lj_nft_chains
 * (-ENOENT: no such table).
 */
int lj_nft_jumps_to(uint8_t family, const char *table, const char *target);

/* --- changes: one nf_tables transaction, built with libnftnl (nft-tx.c) ------------------ */

/* One transaction being built: requests that the kernel applies all together or not at all. */
struct lj_nft_tx;

/* What a request does to an object: nft's `add` (no error if it exists), `create` (-EEXIST
 * if it exists) or `delete` (-ENOENT if it does not). */
enum lj_nft_op { LJ_NFT_ADD, LJ_NFT_CREATE, LJ_NFT_DELETE };

/* A base chain's hook: type ("nat", "filter"), hook number (NF_INET_*), priority. */
struct lj_nft_hook {
	const char *type;
	unsigned hooknum;
	int prio;
};

/*
 * A rule, as nft would write it, its parts in this order (each one optional):
 *   iifname "IIF" oifname "OIF" ip[6] saddr S ip[6] daddr D tcp|udp dport P
 *   -m conntrack --ctstate STATES -m comment --comment COMMENT (iptables-nft's xt matches,
 *   as iptables-nft makes them) counter
 *   then one of: ip daddr|saddr vmap @VMAP, accept, dnat to A[:PORT], snat to A[:PORT]
 *   comment "COMMENT"
 * Addresses are of the transaction's family (vmap and NAT: IPv4 only).
 */
struct lj_nft_rule {
	const char *iifname, *oifname;
	const struct lj_ip *saddr, *daddr;
	uint8_t l4proto; /* IPPROTO_TCP or IPPROTO_UDP with dport (host order) */
	uint16_t dport;
	uint16_t xt_ctstate; /* nonzero: the XT_CONNTRACK_STATE_* bits of -m conntrack --ctstate */
	bool xt_comment;     /* the comment as iptables' -m comment match, not nft's userdata */
	bool counter;
	enum { LJ_NFT_CONTINUE, LJ_NFT_VMAP, LJ_NFT_ACCEPT, LJ_NFT_DNAT, LJ_NFT_SNAT } action;
	const char *vmap;	 /* LJ_NFT_VMAP: the map, looked up by ... */
	bool vmap_by_saddr;	 /* ... ip saddr (else ip daddr) */
	const struct lj_ip *nat; /* LJ_NFT_DNAT/SNAT: to this address ... */
	uint16_t nat_port;	 /* ... and port (0: keep it) */
	const char *comment;
};

/* A new, empty transaction on tables of nfproto family (NFPROTO_IPV4, NFPROTO_IPV6). */
int lj_nft_tx_new(uint8_t family, struct lj_nft_tx **ret);

/* Free; NULL is fine. */
void lj_nft_tx_free(struct lj_nft_tx *tx);

/*
 * Add one request to tx (the requests are applied in the order they were added). Names are
 * checked (lj_nft_name_valid; interface names < IFNAMSIZ, comments <= 127 bytes). A request
 * that cannot be built (-EINVAL, -ENOMEM) is remembered and fails lj_nft_tx_commit; the
 * functions return it too.
 */
int lj_nft_tx_table(struct lj_nft_tx *tx, enum lj_nft_op op, const char *table);
/* `add map TABLE NAME { type ipv4_addr : verdict; }` (op ADD or CREATE). */
int lj_nft_tx_vmap(struct lj_nft_tx *tx, enum lj_nft_op op, const char *table, const char *name);
/* A chain: a base chain with hook (policy accept), a regular one with hook NULL. */
int lj_nft_tx_chain(struct lj_nft_tx *tx, enum lj_nft_op op, const char *table, const char *name,
		    const struct lj_nft_hook *hook);
/* The element key : jump chain of map set (op CREATE or DELETE; chain unused for DELETE). */
int lj_nft_tx_jump(struct lj_nft_tx *tx, enum lj_nft_op op, const char *table, const char *set,
		   const struct lj_ip *key, const char *chain);
/* A rule at the end of chain (nft add rule), or at its top with insert (nft insert rule). */
int lj_nft_tx_rule(struct lj_nft_tx *tx, bool insert, const char *table, const char *chain,
		   const struct lj_nft_rule *rule);
/* Delete the rule of chain with this handle. */
int lj_nft_tx_rule_delete(struct lj_nft_tx *tx, const char *table, const char *chain,
			  uint64_t handle);

/* The number of requests in tx. */
size_t lj_nft_tx_size(const struct lj_nft_tx *tx);

/*
 * Send tx to the kernel as one nf_tables transaction in the caller's network namespace (an
 * empty one: nothing). With check, the kernel validates every request and then discards them
 * all (as `nft -c`): nothing changes. err (errsize bytes, may be NULL) receives what failed
 * and why ("add chain ip lanjoin lj1_dnat: File exists"). Returns 0, or the kernel's -errno
 * (-EPERM without CAP_NET_ADMIN, -ENOENT for a missing table/chain, -EEXIST, -EOPNOTSUPP or
 * -ENOENT when the kernel lacks a feature such as NAT), or the first build error.
 */
int lj_nft_tx_commit(struct lj_nft_tx *tx, bool check, char *err, size_t errsize);
