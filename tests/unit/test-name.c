/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lib/core/state.h"
#include "shared/name.h"
#include "shared/parse.h"

static void test_hashed_names(void **state)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], c[IFNAMSIZ];

	assert_int_equal(lj_name_hashed("ljv", "ns:4:4026532291/eth1", a), 0);
	assert_int_equal(lj_name_hashed("ljv", "ns:4:4026532291/eth1", b), 0);
	assert_string_equal(a, b); /* deterministic */
	assert_int_equal(strlen(a), 15);
	assert_true(lj_ifname_valid(a));
	assert_int_equal(strncmp(a, "ljv", 3), 0);
	assert_int_equal(lj_name_hashed("ljv", "ns:4:4026532291/eth2", c), 0);
	assert_string_not_equal(a, c); /* another ifname, another name */
	assert_int_not_equal(lj_name_hashed("long", "x", c), 0);
}

static void test_no_collisions(void **state)
{
	/* 20000 targets × 2 ifnames: 48-bit names must not collide. */
	enum { N = 40000 };
	static char names[N][IFNAMSIZ];
	char key[64];

	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "ns:4:%ld/eth%d", 4026531000L + i / 2, i % 2);
		lj_name_hashed("ljv", key, names[i]);
	}
	qsort(names, N, IFNAMSIZ, (int (*)(const void *, const void *))strcmp);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(names[i - 1], names[i]);
}

static void test_record_id(void **state)
{
	char a[LJ_RECORD_ID_LEN], b[LJ_RECORD_ID_LEN];

	lj_record_id("ns:4:1", "eth1", a);
	lj_record_id("ns:4:1", "eth1", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 12);
	lj_record_id("ns:4:1", "eth2", b);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hashed_names),
		cmocka_unit_test(test_no_collisions),
		cmocka_unit_test(test_record_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
