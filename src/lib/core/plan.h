/* SPDX-License-Identifier: MIT */
/*
 * The step/undo runner. A plan is an ordered array of steps; each step can apply itself,
 * undo itself (idempotently: "already gone" counts as undone) and describe itself as the
 * equivalent shell command. A failing step makes the runner undo the steps already done, in
 * reverse. A plan is also what a state record stores: detach replays its undo.
 */
#pragma once

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/kernel/netlink.h"
#include "lib/core/target.h"
#include "shared/parse.h"
#include "shared/shquote.h"

/* Where a step acts: lanjoin's own network namespace or the target's. */
enum lj_where {
	LJ_HOST = 0,
	LJ_TARGET = 1,
};

struct lj_state;
struct lj_plan;
struct lj_status_view;
struct lj_route_info;
struct lj_ctx_checks;

/* What steps run against. Owned by the caller of the runner. */
struct lj_ctx {
	struct lj_nl *host;		 /* netlink in lanjoin's namespace */
	bool host_borrowed;		 /* host is the caller's (lj_ctx_close leaves it open) */
	struct lj_nl *target;		 /* netlink in the target; NULL when the target is gone */
	bool target_is_host;		 /* the target is lanjoin's own namespace: target == host */
	int target_fd;			 /* target namespace fd (borrowed); -1 when gone */
	const struct lj_target *tgt;	 /* NULL when the target is gone; else &tgt_copy */
	struct lj_target tgt_copy;	 /* copy of the target (its fd is borrowed, not owned) */
	char target_ip[LJ_SHQ_MAX + 32]; /* "ip -n NAME" etc. (quoted), for describe */
	char detail[512];		 /* why the last step failed, beyond strerror */
	bool rollback;			 /* undoing a failed apply (vs. detach/gc) */
	bool finish;			 /* lj_plan_undo_atomic goes on when interrupted (the
					    give-back of an interrupted attach's adoption) */
	struct lj_link_batch *batch;	 /* bulk detach/gc: host links to delete in one request
					    (see LJ_UNDO_DEFERRED); NULL: one by one */
	struct lj_state *state;		 /* attach: the locked state directory, for builders that
					    look at other attachments (borrowed); NULL otherwise */
	/* detach --dry-run: the plan whose undo is described (borrowed), for a describe_undo
	 * that must tell this attachment's objects from others'; NULL otherwise */
	const struct lj_plan *describing;
	/* attach: save the record with p as it is now; called by lj_plan_apply right after a
	 * step whose type has save_after. NULL: nothing is saved. Returns 0 or -errno. */
	int (*save)(struct lj_ctx *ctx, const struct lj_plan *p);
	void *save_data; /* for save (borrowed) */
	/* attach: the target's default routes of the main table, both families, as the plan's
	 * builder listed them (lj_attach_add_source_routes), for its other checks: not for
	 * apply, which looks again. Freed by lj_ctx_close; has_defroutes false: not listed. */
	struct lj_route_info *defroutes;
	size_t n_defroutes;
	bool has_defroutes;
	/* attach: what the plan's checks asked the host (routes to an address, the addresses of
	 * a family), kept so that checks asking the same share one request (ctx.h:
	 * lj_ctx_route_match, lj_ctx_host_addrs); not for apply. NULL until asked; freed by
	 * lj_ctx_close. */
	struct lj_ctx_checks *checks;
	struct {
		enum lj_where where;
		char name[IFNAMSIZ];
		int ifindex;
		bool has_mac; /* mac is what the lookup of ifindex saw */
		bool bridge;  /* the lookup saw a Linux bridge (lj_ctx_remember_bridge) */
		uint8_t mac[LJ_MAC_LEN];
	} ifindex_cache[8]; /* see lj_ctx_ifindex() */
};

struct lj_step;
struct lj_link_batch;

/*
 * What an undo may return, besides 0 and -errno, when ctx->batch is set: the step queued its
 * work there (e.g. a host link to delete with the others); lj_plan_undo_from stops after it so
 * that the batch runs before the steps below it are undone.
 */
#define LJ_UNDO_DEFERRED 1

struct lj_step_type {
	const char *id; /* stable name, stored in state records */
	/* Do it. Return 0 or -errno; may fill ctx->detail. May record results in the step. */
	int (*apply)(struct lj_ctx *ctx, struct lj_step *s);
	/* Undo it; "already undone" is success. NULL: nothing to undo. */
	int (*undo)(struct lj_ctx *ctx, const struct lj_step *s);
	/* Print the equivalent shell command(s) for apply (each line ends in '\n'). */
	void (*describe)(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f);
	/* Print the equivalent shell command(s) for undo. NULL: none. */
	void (*describe_undo)(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f);
	/*
	 * Optional: wait until what apply started is ready (a DHCP lease, an IPv6 address past
	 * DAD). Runs after the whole plan is applied and recorded, without the state lock, in
	 * plan order. May add facts to info (the record's info object). Return 0 or -errno
	 * (may fill ctx->detail); a failure rolls the whole attachment back.
	 */
	int (*settle)(struct lj_ctx *ctx, struct lj_step *s, json_t *info);
	/* Optional: whether settle has anything to wait for in this step (NULL: it has). */
	bool (*settles)(const struct lj_step *s);
	/*
	 * apply learns what its undo needs (a helper's PID, a value it overwrote): the runner
	 * saves the record (ctx->save) right after the step, so that a crash before the
	 * attachment is recorded as attached cannot lose it; not when apply left the step as
	 * the record has it already (it learnt nothing new). Not for skip_undo steps.
	 */
	bool save_after;
	/*
	 * Optional: once the whole plan is applied (and settled), confirm that what the
	 * attachment relies on still holds, as apply left it (e.g. the host end of a veth is
	 * still a port of the very bridge it was put in: someone may have deleted the bridge
	 * meanwhile). 0, or -errno with ctx->detail saying what changed.
	 */
	int (*check)(struct lj_ctx *ctx, const struct lj_step *s);
	/*
	 * Optional (status, read only): whether what apply made is still there, judged from the
	 * dumps in v (core/status.h) without asking the kernel again. 0 when it holds,
	 * LJ_VERIFY_DRIFTED with why (size bytes) saying what differs, or -errno when it cannot
	 * be checked. NULL: the step type is not checked.
	 */
	int (*verify)(const struct lj_status_view *v, const struct lj_step *s, char *why,
		      size_t size);
	/*
	 * Optional (watch): send again what apply announced (a gratuitous ARP, an unsolicited
	 * neighbour advertisement), after a link's carrier came back. 0 or -errno.
	 */
	int (*announce)(struct lj_ctx *ctx, const struct lj_step *s);
	/* Which nftables tables the step's objects live in (LJ_STEP_NFT_* bits; 0: none): watch
	 * reconciles the attachment when something is deleted from one of them. */
	unsigned nft;
};

#define LJ_STEP_NFT_OWN 1u     /* lanjoin's own table */
#define LJ_STEP_NFT_FOREIGN 2u /* another's (Docker's filter chains, through iptables-nft) */

/*
 * One step. Fields are generic; each step type documents which it uses. Everything a step's
 * undo needs is in these fields (they are what the state record stores).
 */
struct lj_step {
	const struct lj_step_type *type;
	enum lj_where where;
	bool skip_undo;		/* undone by a later step's undo (e.g. deleting its link) */
	bool created;		/* apply created the object (for "ensure" steps) */
	char what[128];		/* "create veth pair ljv…/eth1": for messages */
	char link[IFNAMSIZ];	/* the link acted on */
	char peer[IFNAMSIZ];	/* veth peer / second link */
	char master[IFNAMSIZ];	/* bridge or parent link */
	struct lj_cidr cidr;	/* address, or route destination */
	struct lj_ip via;	/* route gateway */
	uint32_t mtu, peer_mtu; /* bytes */
	uint8_t mac[LJ_MAC_LEN];
	bool has_mac;
	uint8_t link_mac[LJ_MAC_LEN]; /* type-specific: link's MAC when mac is peer's (veth) */
	bool has_link_mac;
	uint32_t u32;	/* type-specific (mode, VLAN tag, route table) */
	uint32_t flags; /* type-specific flags (LJ_STEP_F_*) */
	int64_t i64;	/* type-specific (e.g. a helper PID) */
	char *text;	/* type-specific owned string, or NULL */
};

struct lj_plan {
	struct lj_step *steps;
	size_t n, cap;
};

/* Append a zeroed step of type t acting in where. NULL on out of memory. */
struct lj_step *lj_plan_add(struct lj_plan *p, const struct lj_step_type *t, enum lj_where where,
			    const char *what_fmt, ...) __attribute__((format(printf, 4, 5)));

/* Free the steps' memory (not p itself). */
void lj_plan_free(struct lj_plan *p);

/* Move the steps of src to the end of dst (src is left empty). Returns 0 or -ENOMEM (then
 * nothing moved). */
int lj_plan_append(struct lj_plan *dst, struct lj_plan *src);

/* The outcome of a failed lj_plan_apply. */
struct lj_plan_error {
	size_t step;	       /* index of the failed step */
	int error;	       /* its -errno */
	size_t undo_failed;    /* how many undos failed during rollback */
	char undo_detail[512]; /* what could not be undone */
};

/*
 * Apply steps in order. On the first failure, undo the steps done so far in reverse
 * (continuing past undo failures) and return that step's -errno with *err filled. After a
 * save_after step that changed (lj_plan_to_json of it differs from before apply), ctx->save
 * (if set) records the plan; if that fails, the step counts as
 * failed and is undone with the others. Once lj_interrupted() (the front end caught a signal),
 * the next step fails with -EINTR instead of running.
 * Fault injection: env LANJOIN_FAULT_STEP=N makes step N (1-based) fail with -EIO, and
 * LANJOIN_FAULT_UNDO=N makes the undo of step N fail. LANJOIN_STEP_DELAY_MS=N sleeps before
 * each step and before each undo that acts, here and in lj_plan_undo_all (crash-consistency
 * tests kill the process in between).
 */
int lj_plan_apply(struct lj_ctx *ctx, struct lj_plan *p, struct lj_plan_error *err);

/* The LANJOIN_STEP_DELAY_MS test hook: sleep that long, if it is set. */
void lj_plan_test_delay(void);

/*
 * The value of the test hook variable name (LANJOIN_FAULT_STEP, LANJOIN_FAULT_UNDO,
 * LANJOIN_STEP_DELAY_MS, LANJOIN_PAUSE_AT, ...): a number from 1 to 1000000, or 0 when unset
 * or not such a number. The one parser of these hooks.
 */
size_t lj_test_hook(const char *name);

/*
 * Hidden test hook for race tests: with LANJOIN_PAUSE_AT=n (1-based) and
 * LANJOIN_PAUSE_FIFO=PATH both set, stop at point n: lj_plan_apply calls this before step n,
 * and the attach calls it with n = the plan's length + 1 after the whole plan and its waits,
 * before the final check and record. PATH (a FIFO the test made) is opened for reading, which
 * blocks until the test opens it for writing (the test then knows lanjoin is there), and read
 * until the test closes it. Does nothing for another n or without both variables.
 */
void lj_plan_test_pause(size_t n);

/*
 * The same with LANJOIN_PAUSE_SETTLE=1 instead of LANJOIN_PAUSE_AT: lj_txn_settle stops there
 * once it has dropped the state lock, before its waits (another command can take the lock).
 */
void lj_plan_test_pause_settle(void);

/*
 * Run the check callbacks of p's steps, in order (steps in the target are skipped when the
 * target is gone). The first failure's -errno (ctx->detail says what) and its index in
 * *ret_step; 0 when all hold.
 */
int lj_plan_check(struct lj_ctx *ctx, const struct lj_plan *p, size_t *ret_step);

/*
 * Undo every step of p in reverse (for detach, gc and crash recovery): steps acting in the
 * target are skipped when ctx->target is NULL. Continues past failures; returns the first
 * -errno (0 if all undone), and the number of failures in *ret_failed (may be NULL).
 * Honours LANJOIN_FAULT_UNDO and LANJOIN_STEP_DELAY_MS as lj_plan_apply does.
 */
int lj_plan_undo_all(struct lj_ctx *ctx, const struct lj_plan *p, size_t *ret_failed);

/*
 * Undo steps *pos - 1 down to 0 like lj_plan_undo_all, but stop after a step whose undo was
 * deferred to ctx->batch (LJ_UNDO_DEFERRED): *pos is then that step's index (call again, after
 * running the batch, to undo the rest), else 0. Failures are counted into *failed (added).
 * Returns the first -errno, or 0.
 */
int lj_plan_undo_from(struct lj_ctx *ctx, const struct lj_plan *p, size_t *pos, size_t *failed);

/*
 * Undo every step of p in reverse, all or nothing (uplink release): on the first failure,
 * apply again the steps already undone (oldest first), so that what p made is whole again.
 * Returns 0, or the failed undo's -errno with its index in *ret_failed_step; *ret_redo_failed
 * says whether a redo failed too (redo_detail, size bytes, lists which). Honours
 * LANJOIN_FAULT_UNDO and LANJOIN_STEP_DELAY_MS as lj_plan_undo_all does. A signal the front
 * end caught (core/interrupt.h) stops it before the next undo as a failure (-EINTR) would,
 * unless ctx->finish.
 */
int lj_plan_undo_atomic(struct lj_ctx *ctx, struct lj_plan *p, size_t *ret_failed_step,
			bool *ret_redo_failed, char *redo_detail, size_t redo_size);

/* Print the plan as shell commands (--dry-run). undo=true prints the undo instead. */
void lj_plan_describe(const struct lj_ctx *ctx, const struct lj_plan *p, bool undo, FILE *f);

/*
 * The plan as JSON for --dry-run --json: {"steps": [{"what", "where": "host"|"target",
 * "commands": [...]}...], "commands": [...]}, where each command is one shell command as
 * lj_plan_describe prints it, without its final newline (a here-document, "nft -f - <<'EOF'",
 * stays one command, its lines joined with '\n'); "commands" is every step's in order. New
 * reference, or NULL on out of memory.
 */
json_t *lj_plan_describe_json(const struct lj_ctx *ctx, const struct lj_plan *p);

/* Serialise / parse (with validation) a plan for a state record. */
json_t *lj_plan_to_json(const struct lj_plan *p);
int lj_plan_from_json(const json_t *j, struct lj_plan *ret);

/*
 * The step types records may name, as NULL-terminated lists (the list of lists ends with
 * NULL): each way's and the others' (uplink adoption, the shim command). Provided by the ways
 * layer (src/lib/ways/ways.c), so the engine names no way.
 */
extern const struct lj_step_type *const *const lj_step_type_lists[];

/* Find a step type by id (NULL if unknown). */
const struct lj_step_type *lj_step_type_find(const char *id);

/*
 * The ifindex of link name in where, looked up once per run and cached in ctx.
 * Returns the ifindex or -errno (-ENODEV if there is no such link, -ENOENT if the target
 * is gone).
 */
int lj_ctx_ifindex(struct lj_ctx *ctx, enum lj_where where, const char *name);

/*
 * The MAC address of link name in where into ret, as the lookup that found its ifindex
 * (lj_ctx_ifindex) saw it: looked up once per run, as the ifindex. Returns 0, -ENODATA if the
 * link has none, or the errors of lj_ctx_ifindex.
 */
int lj_ctx_mac(struct lj_ctx *ctx, enum lj_where where, const char *name, uint8_t ret[LJ_MAC_LEN]);

/* Cache the ifindex of name in where, learnt from a lookup the caller made anyway. */
void lj_ctx_remember(struct lj_ctx *ctx, enum lj_where where, const char *name, int ifindex);

/* lj_ctx_remember, and the link's MAC (LJ_MAC_LEN bytes) for lj_ctx_mac: known without a
 * lookup (set in the request that made the link). */
void lj_ctx_remember_mac(struct lj_ctx *ctx, enum lj_where where, const char *name, int ifindex,
			 const uint8_t *mac);

/*
 * Cache the ifindex of host link name, which the caller's lookup found to be a Linux bridge
 * (the plan's builder): its step need not ask again. The kernel gives a deleted link's ifindex
 * to no other link (until the numbers wrap at 2^31), so a request naming that ifindex either
 * reaches this bridge or fails.
 */
void lj_ctx_remember_bridge(struct lj_ctx *ctx, const char *name, int ifindex);

/* Whether host link name is cached as a Linux bridge (lj_ctx_remember_bridge). */
bool lj_ctx_known_bridge(struct lj_ctx *ctx, const char *name);

/* Forget the cached ifindex of name (after deleting or renaming it). */
void lj_ctx_forget(struct lj_ctx *ctx, enum lj_where where, const char *name);

/* The netlink socket for where (NULL if the target is gone). */
static inline struct lj_nl *lj_ctx_nl(const struct lj_ctx *ctx, enum lj_where where)
{
	return where == LJ_TARGET ? ctx->target : ctx->host;
}

/* The `ip` command prefix for where, for describe output. */
static inline const char *lj_ctx_ip(const struct lj_ctx *ctx, enum lj_where where)
{
	return where == LJ_TARGET ? ctx->target_ip : "ip";
}

/* Flags in lj_step.flags */
/* route: gateway is on-link */
#define LJ_STEP_F_ONLINK (1u << 0)
/* ensure-steps: the object is missing at plan time */
#define LJ_STEP_F_WILL_CREATE (1u << 1)
/* dhcp: the lease's router is not made the default route */
#define LJ_STEP_F_NO_DEFAULT (1u << 2)
/* route: added beside routes to the same destination on other links (NLM_F_APPEND), as the
 * CNI reference plugins do */
#define LJ_STEP_F_APPEND (1u << 3)
/* announce (IPv4): arp_notify is set on the link (lj_step_arp_notify), so the kernel announces
 * the address itself: as the link came up, or, with peer set (the host end of a veth; arp_notify
 * then set after the link came up), when apply sets the link's MAC once the host end's bridge
 * port forwards */
#define LJ_STEP_F_KERNEL_ANNOUNCE (1u << 4)
/* veth: lanjoin chose the container end's MAC (mac), the user gave none: status does not hold
 * the container to it */
#define LJ_STEP_F_MAC_CHOSEN (1u << 5)

/*
 * Pass r through; if it is an error, put the kernel's extack text of nl's last request (if
 * any) into ctx->detail. For step implementations: `return lj_ctx_nl_error(ctx, nl, r);`.
 */
int lj_ctx_nl_error(struct lj_ctx *ctx, struct lj_nl *nl, int r);

/* Set ctx->detail (printf-style) unless already set. */
void lj_ctx_detail(struct lj_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Step types defined by the rtnetlink steps (steps-rtnl.c). */
extern const struct lj_step_type
	lj_step_bridge; /* link=BR: ensure bridge; undo: delete if ours and empty */
extern const struct lj_step_type lj_step_veth;	  /* link=host end, peer=container end, master, mtu,
						     mac (container end), link_mac (host end);
						     i64 = host end ifindex (undo checks it) */
extern const struct lj_step_type lj_step_link_up; /* link up, in where */
extern const struct lj_step_type lj_step_addr;	  /* cidr on link, in where; u32 = IFA_F_* flags */
extern const struct lj_step_type lj_step_route;	  /* cidr via on link, in where; u32 = table */

/* Step types of a target's own network (default-route.c). */
extern const struct lj_step_type lj_step_default_route; /* replace the default route, put it back */
extern const struct lj_step_type
	lj_step_source_route; /* replies from an address leave by its link */

/* Step types of addressing inside the target (steps-addressing.c). */
extern const struct lj_step_type lj_step_sysctl;     /* text = key under /proc/sys, u32 = value */
extern const struct lj_step_type lj_step_arp_probe;  /* cidr (IPv4) on link: RFC 5227 probe */
extern const struct lj_step_type lj_step_announce;   /* cidr on link: GARP / DAD wait + NA */
extern const struct lj_step_type lj_step_arp_notify; /* link: arp_notify=1, before it comes up */
extern const struct lj_step_type lj_step_slaac;	     /* link: wait for a SLAAC address */
extern const struct lj_step_type lj_step_dhcp;	     /* link: supervised DHCP client */
extern const struct lj_step_type lj_step_dhcp6;	     /* link: supervised DHCPv6 client */

/* Run the settle callbacks of a plan's steps in order; returns the first failure's -errno and
 * its index in *ret_step. -EINTR once lj_interrupted(): the waits in settle callbacks poll
 * lj_interrupt_fd() and return -EINTR too. */
int lj_plan_settle(struct lj_ctx *ctx, struct lj_plan *p, json_t *info, size_t *ret_step);

/* Step types of the macvlan way (steps-macvlan.c). */
extern const struct lj_step_type lj_step_macvlan; /* link in the target, child of master (host) */
extern const struct lj_step_type lj_step_shim;	  /* link = host shim on master, cidr its address */
extern const struct lj_step_type lj_step_shim_route; /* host route to cidr through shim link */

/* The IFLA_IFALIAS lanjoin puts on links it creates and may remove when unused. */
#define LJ_OWNED_ALIAS "lanjoin: created, removed when unused"
