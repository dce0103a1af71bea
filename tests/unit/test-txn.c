/* SPDX-License-Identifier: MIT */
/*
 * The transaction: the record is written before the first change, a failed step leaves no
 * record (or the record as it was, for an extension), a failed undo keeps it, the existing-
 * record policy is obeyed, and the all-or-nothing undo puts back what it undid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/txn.h"

static char dir[64];
static char journal[256];
static size_t fail_apply_at, fail_undo_at; /* step (i64) whose apply/undo fails; 0 = none */
static struct lj_state *g_st;		   /* for the step that looks at the record */
static char seen_status[16];		   /* the record's status as a step saw it */

static int setup(void **state)
{
	strcpy(dir, "/tmp/lj-unit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	setenv("LANJOIN_STATE_DIR", dir, 1);
	unsetenv("LANJOIN_FAULT_STEP");
	unsetenv("LANJOIN_FAULT_UNDO");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The record as written: status and number of undo steps; false if there is no file. */
static bool record_file(const char *id, char status[16], size_t *ret_n)
{
	char path[PATH_MAX];
	json_t *o, *undo;

	snprintf(path, sizeof(path), "%s/attachments/%s.json", dir, id);
	o = json_load_file(path, 0, NULL);
	if (!o)
		return false;
	snprintf(status, 16, "%s", json_string_value(json_object_get(o, "status")));
	undo = json_object_get(o, "undo");
	if (json_is_object(undo))
		undo = json_object_get(undo, "steps");
	*ret_n = json_array_size(undo);
	json_decref(o);
	return true;
}

static void note(char verb, const struct lj_step *s)
{
	size_t n = strlen(journal);

	snprintf(journal + n, sizeof(journal) - n, "%c%s ", verb, s->link);
}

static int fake_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	size_t n;

	note('+', s);
	if (s->u32 == 1 &&
	    !record_file(ctx->save_data ? ((struct lj_txn *)ctx->save_data)->rec->id : "",
			 seen_status, &n))
		seen_status[0] = '\0';
	if ((size_t)s->i64 == fail_apply_at)
		return -EBUSY;
	return 0;
}

static int fake_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	note('-', s);
	return (size_t)s->i64 == fail_undo_at ? -EIO : 0;
}

static const struct lj_step_type fake = {
	.id = "fake",
	.apply = fake_apply,
	.undo = fake_undo,
};

static void build(struct lj_plan *p, size_t from, size_t to)
{
	for (size_t i = from; i <= to; i++) {
		struct lj_step *s = lj_plan_add(p, &fake, LJ_HOST, "step %zu", i);
		snprintf(s->link, sizeof(s->link), "s%zu", i);
		s->i64 = (int64_t)i;
	}
}

static void make_record(struct lj_record *rec, const char *ifname)
{
	memset(rec, 0, sizeof(*rec));
	lj_record_id("ns:4:4026532291", ifname, rec->id);
	strcpy(rec->way, "bridge");
	strcpy(rec->status, "applying");
	strcpy(rec->ifname, ifname);
	rec->target_kind = LJ_TARGET_NETNS;
	strcpy(rec->target_spec, "netns:c1");
	strcpy(rec->target_name, "c1");
	rec->netns.dev = 4;
	rec->netns.ino = 4026532291;
	rec->created = 1700000000;
	rec->info = json_object();
}

struct fixture {
	struct lj_ctx ctx;
	struct lj_record rec;
	struct lj_plan plan;
	struct lj_result res;
	struct lj_txn txn;
};

static void begin(struct fixture *f, const char *ifname)
{
	memset(f, 0, sizeof(*f));
	f->ctx.target_fd = -1;
	make_record(&f->rec, ifname);
	assert_int_equal(lj_state_open(true, &g_st), 0);
	f->txn = (struct lj_txn){.st = g_st, .ctx = &f->ctx, .rec = &f->rec, .plan = &f->plan};
	journal[0] = '\0';
	fail_apply_at = fail_undo_at = 0;
}

static void end(struct fixture *f)
{
	lj_state_close(f->txn.st);
	lj_plan_free(&f->plan);
	lj_record_free(&f->rec);
	lj_result_done(&f->res);
}

/* Applied and committed: the record says attached and holds every step. */
static void test_apply_commit(void **state)
{
	struct fixture f;
	char status[16];
	size_t n;

	begin(&f, "eth1");
	build(&f.plan, 1, 3);
	f.plan.steps[0].u32 = 1; /* look at the record from inside the first step */
	assert_int_equal(lj_txn_apply(&f.txn, &f.res), 0);
	assert_string_equal(seen_status, "applying"); /* recorded before the first change */
	assert_string_equal(journal, "+s1 +s2 +s3 ");
	assert_int_equal(lj_txn_commit(&f.txn, "attached", false, &f.res), 0);
	assert_true(record_file(f.rec.id, status, &n));
	assert_string_equal(status, "attached");
	assert_int_equal(n, 3);
	end(&f);
}

/* A failed step: the done steps are undone in reverse and the record goes. */
static void test_apply_fails(void **state)
{
	struct fixture f;
	char status[16];
	size_t n;

	begin(&f, "eth2");
	build(&f.plan, 1, 3);
	fail_apply_at = 2;
	assert_int_equal(lj_txn_apply(&f.txn, &f.res), -EBUSY);
	assert_string_equal(journal, "+s1 +s2 -s1 ");
	assert_int_equal(f.txn.step, 1);
	assert_true(f.res.rolled_back);
	assert_int_equal(f.res.undo_failed, 0);
	assert_false(record_file(f.rec.id, status, &n));
	end(&f);
}

/* A failed undo during the rollback: the record stays, for detach and gc. */
static void test_undo_fails_keeps_record(void **state)
{
	struct fixture f;
	char status[16];
	size_t n;

	begin(&f, "eth3");
	build(&f.plan, 1, 3);
	fail_apply_at = 3;
	fail_undo_at = 1;
	assert_int_equal(lj_txn_apply(&f.txn, &f.res), -EBUSY);
	assert_string_equal(journal, "+s1 +s2 +s3 -s2 -s1 ");
	assert_int_equal(f.txn.undo_failed, 1);
	assert_non_null(strstr(f.txn.undo_detail, "step 1"));
	assert_true(record_file(f.rec.id, status, &n));
	assert_string_equal(status, "applying");
	assert_int_equal(n, 3);
	end(&f);
}

/* An extension: only the new steps run; on failure only they are undone and the record is
 * back to the steps it had, still attached. */
static void test_extend(void **state)
{
	struct fixture f;
	char status[16];
	size_t n;

	begin(&f, "eth4");
	strcpy(f.rec.status, "attached");
	build(&f.plan, 1, 2);
	f.txn.from = 2;
	build(&f.plan, 3, 5);
	fail_apply_at = 5;
	assert_int_equal(lj_txn_apply(&f.txn, &f.res), -EBUSY);
	assert_string_equal(journal, "+s3 +s4 +s5 -s4 -s3 ");
	assert_int_equal(f.txn.step, 4);
	assert_true(record_file(f.rec.id, status, &n));
	assert_string_equal(status, "attached");
	assert_int_equal(n, 2);

	journal[0] = '\0';
	fail_apply_at = 0;
	assert_int_equal(lj_txn_apply(&f.txn, &f.res), 0);
	assert_string_equal(journal, "+s3 +s4 +s5 ");
	assert_int_equal(lj_txn_commit(&f.txn, "attached", false, &f.res), 0);
	assert_true(record_file(f.rec.id, status, &n));
	assert_int_equal(n, 5);
	end(&f);
}

static int keep_policy(struct lj_txn *txn, const struct lj_record *old, int load_error, void *data,
		       struct lj_result *res)
{
	*(int *)data += 1;
	return *(int *)data == 1 ? LJ_TXN_KEEP : LJ_TXN_REPLACE;
}

/* The caller's policy decides about a record under the same id: keep it, or replace it. */
static void test_existing_policy(void **state)
{
	struct fixture f;
	char status[16];
	size_t n;
	int calls = 0;

	begin(&f, "eth5");
	assert_int_equal(lj_txn_existing(&f.txn, "attachments", keep_policy, &calls, &f.res), 0);
	assert_int_equal(calls, 0); /* nothing there: not asked */
	assert_int_equal(lj_state_save(f.txn.st, &f.rec), 0);
	assert_int_equal(lj_txn_existing(&f.txn, "attachments", keep_policy, &calls, &f.res),
			 LJ_TXN_KEEP);
	assert_true(record_file(f.rec.id, status, &n));
	assert_int_equal(lj_txn_existing(&f.txn, "attachments", keep_policy, &calls, &f.res), 0);
	assert_int_equal(calls, 2);
	assert_false(record_file(f.rec.id, status, &n)); /* replaced: its record is gone */
	end(&f);
}

/* All or nothing: a failed undo puts back what was undone; the record stays as it was. When
 * the redo fails too, the record is kept with the stuck status. */
static void test_undo_atomic(void **state)
{
	struct fixture f;
	char status[16];
	size_t n;

	begin(&f, "eth6");
	strcpy(f.rec.status, "adopted");
	build(&f.plan, 1, 3);
	assert_int_equal(lj_state_save(f.txn.st, &f.rec), 0);
	fail_undo_at = 2;
	assert_int_equal(lj_txn_undo_atomic(&f.txn, "releasing", &f.res), -EIO);
	assert_string_equal(journal, "-s3 -s2 +s3 ");
	assert_int_equal(f.txn.step, 1);
	assert_true(f.res.rolled_back);
	assert_true(record_file(f.rec.id, status, &n));
	assert_string_equal(status, "adopted");

	journal[0] = '\0';
	fail_apply_at = 3;
	assert_int_equal(lj_txn_undo_atomic(&f.txn, "releasing", &f.res), -EIO);
	assert_int_equal(f.txn.undo_failed, 1);
	assert_true(record_file(f.rec.id, status, &n));
	assert_string_equal(status, "releasing");

	journal[0] = '\0';
	fail_apply_at = fail_undo_at = 0;
	assert_int_equal(lj_txn_undo_atomic(&f.txn, "releasing", &f.res), 0);
	assert_string_equal(journal, "-s3 -s2 -s1 ");
	assert_false(record_file(f.rec.id, status, &n));
	end(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_commit),
		cmocka_unit_test(test_apply_fails),
		cmocka_unit_test(test_undo_fails_keeps_record),
		cmocka_unit_test(test_extend),
		cmocka_unit_test(test_existing_policy),
		cmocka_unit_test(test_undo_atomic),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
