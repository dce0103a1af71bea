/* SPDX-License-Identifier: MIT */
/* The plan runner: order, rollback in reverse at every failing step, undo failures, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/plan.h"
#include "lib/steps/rtnl.h"

static char journal[256];
static size_t fail_apply_at = 0; /* 1-based index of a step whose apply fails; 0 = none */

static void note(char verb, const struct lj_step *s)
{
	size_t n = strlen(journal);
	snprintf(journal + n, sizeof(journal) - n, "%c%s ", verb, s->link);
}

static int fake_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	note('+', s);
	if ((size_t)s->i64 == fail_apply_at)
		return -EBUSY;
	return 0;
}

static int fake_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	note('-', s);
	return 0;
}

static void fake_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "do %s\n", s->link);
}

static const struct lj_step_type fake = {
	.id = "fake",
	.apply = fake_apply,
	.undo = fake_undo,
	.describe = fake_describe,
};

static void build(struct lj_plan *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct lj_step *s = lj_plan_add(p, &fake, LJ_HOST, "step %zu", i + 1);
		snprintf(s->link, sizeof(s->link), "s%zu", i + 1);
		s->i64 = (int64_t)i + 1;
	}
}

static void test_apply_all(void **state)
{
	struct lj_ctx ctx = {0};
	struct lj_plan p = {0};
	struct lj_plan_error err;

	build(&p, 4);
	journal[0] = '\0';
	fail_apply_at = 0;
	unsetenv("LANJOIN_FAULT_STEP");
	assert_int_equal(lj_plan_apply(&ctx, &p, &err), 0);
	assert_string_equal(journal, "+s1 +s2 +s3 +s4 ");
	journal[0] = '\0';
	assert_int_equal(lj_plan_undo_all(&ctx, &p, NULL), 0);
	assert_string_equal(journal, "-s4 -s3 -s2 -s1 ");
	lj_plan_free(&p);
}

/* A step failing by itself: the steps before it are undone in reverse, it is not. */
static void test_rollback_each_step(void **state)
{
	static const char *const want[] = {
		"+s1 ",
		"+s1 +s2 -s1 ",
		"+s1 +s2 +s3 -s2 -s1 ",
		"+s1 +s2 +s3 +s4 -s3 -s2 -s1 ",
	};
	struct lj_ctx ctx = {0};
	struct lj_plan p = {0};
	struct lj_plan_error err;

	build(&p, 4);
	unsetenv("LANJOIN_FAULT_STEP");
	for (size_t n = 1; n <= 4; n++) {
		journal[0] = '\0';
		fail_apply_at = n;
		assert_int_equal(lj_plan_apply(&ctx, &p, &err), -EBUSY);
		assert_int_equal(err.step, n - 1);
		assert_int_equal(err.undo_failed, 0);
		assert_string_equal(journal, want[n - 1]);
	}
	fail_apply_at = 0;
	lj_plan_free(&p);
}

/* LANJOIN_FAULT_STEP=N: step N never runs; the ones before are undone. */
static void test_fault_injection(void **state)
{
	struct lj_ctx ctx = {0};
	struct lj_plan p = {0};
	struct lj_plan_error err;

	build(&p, 3);
	fail_apply_at = 0;
	setenv("LANJOIN_FAULT_STEP", "3", 1);
	journal[0] = '\0';
	assert_int_equal(lj_plan_apply(&ctx, &p, &err), -EIO);
	assert_int_equal(err.step, 2);
	assert_string_equal(journal, "+s1 +s2 -s2 -s1 ");
	assert_non_null(strstr(ctx.detail, "LANJOIN_FAULT_STEP"));
	unsetenv("LANJOIN_FAULT_STEP");
	lj_plan_free(&p);
}

/* A failing undo is reported, and the rest of the rollback still runs. */
static void test_undo_failure(void **state)
{
	struct lj_ctx ctx = {0};
	struct lj_plan p = {0};
	struct lj_plan_error err;

	build(&p, 4);
	setenv("LANJOIN_FAULT_STEP", "4", 1);
	setenv("LANJOIN_FAULT_UNDO", "2", 1);
	journal[0] = '\0';
	assert_int_equal(lj_plan_apply(&ctx, &p, &err), -EIO);
	assert_int_equal(err.undo_failed, 1);
	assert_non_null(strstr(err.undo_detail, "step 2"));
	assert_string_equal(journal, "+s1 +s2 +s3 -s3 -s1 ");
	unsetenv("LANJOIN_FAULT_STEP");
	unsetenv("LANJOIN_FAULT_UNDO");
	lj_plan_free(&p);
}

/* skip_undo steps are left to a later step's undo. */
static void test_skip_undo(void **state)
{
	struct lj_ctx ctx = {0};
	struct lj_plan p = {0};
	size_t failed = 9;

	build(&p, 3);
	p.steps[1].skip_undo = true;
	journal[0] = '\0';
	assert_int_equal(lj_plan_undo_all(&ctx, &p, &failed), 0);
	assert_int_equal(failed, 0);
	assert_string_equal(journal, "-s3 -s1 ");
	lj_plan_free(&p);
}

static void test_json_round_trip(void **state)
{
	struct lj_plan p = {0}, q = {0};
	struct lj_step *s;
	json_t *j, *k;

	s = lj_plan_add(&p, &lj_step_veth, LJ_HOST, "create veth pair");
	strcpy(s->link, "ljv0123456789ab");
	strcpy(s->peer, "eth1");
	strcpy(s->master, "br-em1");
	s->mtu = 1500;
	s->peer_mtu = 1400;
	s->has_mac = true;
	memcpy(s->mac, "\x02\x42\xc6\x33\x64\x75", 6);
	s->has_link_mac = true;
	memcpy(s->link_mac, "\x06\x00\x5e\x00\x53\x01", 6);
	s = lj_plan_add(&p, &lj_step_route, LJ_TARGET, "add default route");
	strcpy(s->link, "eth1");
	lj_parse_ip("198.51.100.254", &s->via);
	s->cidr.ip.family = AF_INET;
	s->flags = LJ_STEP_F_ONLINK;
	s->skip_undo = true;
	s->text = strdup("opaque");

	j = lj_plan_to_json(&p);
	assert_non_null(j);
	assert_int_equal(lj_plan_from_json(j, &q), 0);
	k = lj_plan_to_json(&q);
	assert_true(json_equal(j, k));
	assert_int_equal(q.n, 2);
	assert_ptr_equal(q.steps[0].type, &lj_step_veth);
	assert_true(q.steps[0].has_link_mac);
	assert_memory_equal(q.steps[0].link_mac, "\x06\x00\x5e\x00\x53\x01", 6);
	assert_false(q.steps[1].has_link_mac);
	assert_int_equal(q.steps[1].where, LJ_TARGET);
	assert_true(q.steps[1].skip_undo);
	assert_string_equal(q.steps[1].text, "opaque");
	json_decref(j);
	json_decref(k);
	lj_plan_free(&p);
	lj_plan_free(&q);
}

/* A veth step's MACs, chosen before the record's first save: the user's for the container end
 * or a random one (flagged), always a random one for the host end; unicast, locally
 * administered, the two different. */
static void test_veth_macs(void **state)
{
	struct lj_attach_opts o = {.has_mac = true, .mac = {0x02, 0x00, 0x5e, 0x00, 0x53, 0x07}};
	struct lj_step a = {.type = &lj_step_veth}, b = {.type = &lj_step_veth};

	assert_int_equal(lj_rtnl_veth_macs(&a, &o), 0);
	assert_true(a.has_mac && a.has_link_mac);
	assert_memory_equal(a.mac, o.mac, LJ_MAC_LEN);
	assert_false(a.flags & LJ_STEP_F_MAC_CHOSEN);
	assert_int_equal(a.link_mac[0] & 0x03, 0x02);
	assert_memory_not_equal(a.link_mac, a.mac, LJ_MAC_LEN);

	o.has_mac = false;
	assert_int_equal(lj_rtnl_veth_macs(&b, &o), 0);
	assert_true(b.has_mac && b.has_link_mac);
	assert_true(b.flags & LJ_STEP_F_MAC_CHOSEN);
	assert_int_equal(b.mac[0] & 0x03, 0x02);
	assert_int_equal(b.link_mac[0] & 0x03, 0x02);
	assert_memory_not_equal(b.link_mac, b.mac, LJ_MAC_LEN);
}

static void test_json_rejects(void **state)
{
	static const char *const bad[] = {
		"{}",
		"[{\"type\":\"nope\",\"where\":\"host\"}]",
		"[{\"type\":\"veth\",\"where\":\"moon\"}]",
		"[{\"type\":\"veth\",\"where\":\"host\",\"link\":\"a/b\"}]",
		"[{\"type\":\"veth\",\"where\":\"host\",\"link\":\"abcdefghijklmnopq\"}]",
		"[{\"type\":\"addr\",\"where\":\"host\",\"cidr\":\"300.1.1.1/24\"}]",
		"[{\"type\":\"veth\",\"where\":\"host\",\"mtu\":-1}]",
		"[{\"type\":\"veth\",\"where\":\"host\",\"mac\":\"01:00:5e:00:00:01\"}]",
		"[{\"type\":\"veth\",\"where\":\"host\",\"link_mac\":\"02:00:5e\"}]",
		"[{\"type\":\"veth\",\"where\":\"host\",\"link_mac\":2}]",
		"[{\"type\":\"veth\",\"where\":\"host\",\"text\":7}]",
		"[3]",
	};
	struct lj_plan q;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		assert_non_null(j);
		assert_int_equal(lj_plan_from_json(j, &q), -EBADMSG);
		json_decref(j);
	}
}

/* Learns what its undo needs (as a helper's PID): u32 counts its applies. */
static int learning_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	s->u32++;
	return fake_apply(ctx, s);
}

static const struct lj_step_type fake_saved = {
	.id = "fake",
	.apply = learning_apply,
	.undo = fake_undo,
	.describe = fake_describe,
	.save_after = true,
};

/* Could learn something, but learns nothing this time. */
static const struct lj_step_type fake_saved_idle = {
	.id = "fake",
	.apply = fake_apply,
	.undo = fake_undo,
	.describe = fake_describe,
	.save_after = true,
};
static int save_result;

static int fake_save(struct lj_ctx *ctx, const struct lj_plan *p)
{
	size_t n = strlen(journal);
	snprintf(journal + n, sizeof(journal) - n, "save ");
	return save_result;
}

/*
 * A save_after step is recorded right after it is applied, unless apply left it as it was (the
 * record holds it already); a failing save undoes it too.
 */
static void test_save_after(void **state)
{
	struct lj_ctx ctx = {.save = fake_save};
	struct lj_plan p = {0};
	struct lj_plan_error err;

	build(&p, 3);
	p.steps[1].type = &fake_saved;
	unsetenv("LANJOIN_FAULT_STEP");
	unsetenv("LANJOIN_FAULT_UNDO");
	fail_apply_at = 0;
	save_result = 0;
	journal[0] = '\0';
	assert_int_equal(lj_plan_apply(&ctx, &p, &err), 0);
	assert_string_equal(journal, "+s1 +s2 save +s3 ");
	p.steps[1].skip_undo = true; /* nothing to undo: nothing to save */
	journal[0] = '\0';
	assert_int_equal(lj_plan_apply(&ctx, &p, &err), 0);
	assert_string_equal(journal, "+s1 +s2 +s3 ");
	p.steps[1].skip_undo = false;
	save_result = -ENOSPC;
	journal[0] = '\0';
	assert_int_equal(lj_plan_apply(&ctx, &p, &err), -ENOSPC);
	assert_string_equal(journal, "+s1 +s2 save -s2 -s1 ");
	assert_int_equal(err.step, 1);
	p.steps[1].type = &fake_saved_idle; /* learnt nothing: nothing to save */
	save_result = 0;
	journal[0] = '\0';
	assert_int_equal(lj_plan_apply(&ctx, &p, &err), 0);
	assert_string_equal(journal, "+s1 +s2 +s3 ");
	lj_plan_free(&p);
}

/* A step that defers its undo to ctx->batch when there is one (like a veth in bulk detach). */
static int deferring_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	note(ctx->batch ? '~' : '-', s);
	return ctx->batch ? LJ_UNDO_DEFERRED : 0;
}

static const struct lj_step_type deferring = {
	.id = "deferring",
	.apply = fake_apply,
	.undo = deferring_undo,
	.describe = fake_describe,
};

/* lj_plan_undo_from stops after a deferred undo and resumes below it; undo_all never defers. */
static void test_undo_deferred(void **state)
{
	struct lj_link_batch *batch = (struct lj_link_batch *)&journal; /* any non-NULL pointer */
	struct lj_ctx ctx = {0};
	struct lj_plan p = {0};
	size_t pos, failed = 0;

	build(&p, 4);
	p.steps[1].type = &deferring;
	unsetenv("LANJOIN_FAULT_UNDO");

	journal[0] = '\0';
	ctx.batch = batch;
	pos = p.n;
	assert_int_equal(lj_plan_undo_from(&ctx, &p, &pos, &failed), 0);
	assert_int_equal(pos, 1);
	assert_string_equal(journal, "-s4 -s3 ~s2 ");
	ctx.batch = NULL;
	assert_int_equal(lj_plan_undo_from(&ctx, &p, &pos, &failed), 0);
	assert_int_equal(pos, 0);
	assert_string_equal(journal, "-s4 -s3 ~s2 -s1 ");
	assert_int_equal(failed, 0);

	/* lj_plan_undo_all runs everything itself, batch or not, and keeps ctx->batch. */
	journal[0] = '\0';
	ctx.batch = batch;
	assert_int_equal(lj_plan_undo_all(&ctx, &p, NULL), 0);
	assert_string_equal(journal, "-s4 -s3 -s2 -s1 ");
	assert_ptr_equal(ctx.batch, batch);
	lj_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_all),	cmocka_unit_test(test_rollback_each_step),
		cmocka_unit_test(test_fault_injection), cmocka_unit_test(test_undo_failure),
		cmocka_unit_test(test_skip_undo),	cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_rejects),	cmocka_unit_test(test_undo_deferred),
		cmocka_unit_test(test_veth_macs),	cmocka_unit_test(test_save_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
