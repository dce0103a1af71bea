/* SPDX-License-Identifier: MIT */
/*
 * The ways, as the engine and the front ends see them: one row per way (struct lj_way_ops)
 * in a table the ways layer provides (src/lib/ways/ways.c). The engine builds, records and
 * collects garbage through a row; the front ends take the way names, the options each way
 * takes and the values of a way's --mode from it. Adding a way is a builder, its step types
 * and one row (and its enum lj_way value).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/plan.h"
#include "lib/core/result.h"
#include "lib/core/spec.h"
#include "lib/core/state.h"

/*
 * A way's plan builder: validate o against the live system (through ctx), append the steps
 * to plan and fill rec->info/host_ifname. Returns 0, or -errno with res->message set
 * (and res->bad_input for invalid input).
 */
typedef int (*lj_build_fn)(struct lj_ctx *ctx, const struct lj_attach_opts *o, const char *ifname,
			   struct lj_plan *plan, struct lj_record *rec, struct lj_result *res);

/* One value of a way's mode option (macvlan --mode, CNI macvlanMode). */
struct lj_way_choice {
	const char *name; /* "bridge", ... */
	uint32_t value;	  /* e.g. MACVLAN_MODE_BRIDGE */
};

/*
 * gc for a way: remove what of the way outlives its records (e.g. OVS rows after a reboot),
 * given every record (recs[0..n): the live ones, and those whose host namespace is gone with
 * host_ifname ""). *ret_removed counts what was removed. Returns 0 or the first -errno
 * (res->message says why).
 */
typedef int (*lj_way_gc_fn)(const struct lj_record *recs, size_t n, struct lj_result *res,
			    size_t *ret_removed);

/*
 * Static checks of a spec for a way, without looking at the system: the options the way
 * requires, the ones that exclude each other. Returns 0, or -EINVAL with lj_bad_input's
 * message (in the CLI's terms: "attach nat needs --uplink DEV and --address CIDR").
 */
typedef int (*lj_way_check_fn)(const struct lj_attach_opts *o, struct lj_result *res);

/*
 * Before the attach of o, outside its transaction (the bridge way: adopt --uplink DEV into a
 * missing bridge, a transaction of its own). Sets *ret_done when it changed something that
 * lj_way_after_fn must keep or give back. Returns 0, or -errno with res set.
 */
typedef int (*lj_way_before_fn)(const struct lj_attach_opts *o, struct lj_result *res,
				bool *ret_done);
/* After the attach of o ended with r (0 or -errno), when before() did something: give it
 * back if r < 0 (saying so in res), or describe it in res->json. */
typedef void (*lj_way_after_fn)(const struct lj_attach_opts *o, int r, struct lj_result *res);
/* rec was just detached (st locked): add to res->message what the user should know next
 * (e.g. that the bridge still holds an adopted uplink). */
typedef void (*lj_way_detached_fn)(struct lj_state *st, const struct lj_record *rec,
				   struct lj_result *res);

struct lj_way_ops {
	enum lj_way way;
	const char *name; /* as typed and recorded: "bridge", ... */
	unsigned opts;	  /* the spec options it takes: LJ_OPT_BIT(...) | ... */
	lj_way_check_fn check;
	lj_build_fn build;
	/* The step types its records may name (NULL-terminated), shared ones included. */
	const struct lj_step_type *const *steps;
	lj_way_gc_fn gc;		   /* NULL: records alone describe all it makes */
	const char *gc_key;		   /* gc: its count in gc's JSON "removed" ("ovs_rows") */
	lj_way_before_fn before;	   /* NULL: nothing before the transaction */
	lj_way_after_fn after;		   /* with before */
	lj_way_detached_fn detached;	   /* NULL: nothing to say after a detach */
	const struct lj_way_choice *modes; /* its --mode values, first the default; or NULL */
	size_t n_modes;
};

/* The table, indexed by enum lj_way (provided by the ways layer: src/lib/ways/ways.c). */
extern const struct lj_way_ops *const lj_way_table[LJ_WAY_COUNT];

/*
 * Step types records may name besides the ways' (NULL-terminated): uplink adoption, the
 * host shim command (provided by the ways layer: src/lib/ways/ways.c).
 */
extern const struct lj_step_type *const lj_way_other_steps[];

/*
 * Records that are not attachments (uplink adoptions, provided by the ways layer): gc removes
 * those a crash left half-done or whose namespace is gone, before the ways' gc hooks run.
 */
struct lj_record_gc {
	const char *key; /* its count in gc's JSON "removed" ("uplink_adoptions") */
	int (*gc)(const struct lj_state *st, struct lj_result *res, size_t *ret_removed);
};
extern const struct lj_record_gc lj_way_record_gc;

/* The row of w, or NULL if w is not a way. */
const struct lj_way_ops *lj_way_get(enum lj_way w);

/* Find a way by name into *ret. Returns 0, or -ENOENT. */
int lj_way_find(const char *name, enum lj_way *ret);

/* Whether way w takes the spec option opt. */
bool lj_way_takes(enum lj_way w, enum lj_spec_opt opt);

/* Run the static checks of o->way's row (lj_way_check_fn). Returns 0 or -EINVAL (res set). */
int lj_way_check(const struct lj_attach_opts *o, struct lj_result *res);

/*
 * The names of the ways, in table order, or in the order of order[0..n) (order NULL: all in
 * table order), joined with sep and the last one with last ("bridge, ovs, macvlan or nat"),
 * into buf (truncated to size). Returns buf.
 */
const char *lj_way_names_text(char *buf, size_t size, const char *sep, const char *last,
			      const enum lj_way *order, size_t n);

/* Find mode name of way w into *ret (its value). Returns 0, or -ENOENT. */
int lj_way_mode_find(enum lj_way w, const char *name, uint32_t *ret);

/* The name of mode value of way w: the default (its first) if value is none of them, "?"
 * if w has no modes. */
const char *lj_way_mode_name(enum lj_way w, uint32_t value);

/* The mode names of way w joined as lj_way_names_text does ("bridge|vepa|private|passthru"). */
const char *lj_way_modes_text(enum lj_way w, char *buf, size_t size, const char *sep,
			      const char *last);
