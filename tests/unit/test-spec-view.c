/* SPDX-License-Identifier: MIT */
/* Spec comparison: what of a recorded spec is compared with the spec asked (lj_spec_view). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/spec-view.h"

/* Is recorded (JSON text) as asked (JSON text), as lj_spec_view compares them? */
static bool same(const char *recorded, const char *asked)
{
	json_t *r = json_loads(recorded, 0, NULL), *a = json_loads(asked, 0, NULL);
	json_t *vr, *va;
	bool eq;

	assert_non_null(r);
	assert_non_null(a);
	vr = lj_spec_view(r, a, "eth1");
	va = lj_spec_view(a, a, "eth1");
	assert_non_null(vr);
	assert_non_null(va);
	eq = json_equal(vr, va);
	json_decref(vr);
	json_decref(va);
	json_decref(r);
	json_decref(a);
	return eq;
}

#define NAT "\"way\": \"nat\", \"uplink\": \"em1\", \"address\": \"198.51.100.119/24\""

static void test_to_network(void **state)
{
	/* the engine network lanjoin chose and stored: as asked without --to, or --to docker */
	assert_true(same("{" NAT ", \"to\": \"docker:bridge\"}", "{" NAT "}"));
	assert_true(same("{" NAT ", \"to\": \"docker:bridge\"}", "{" NAT ", \"to\": \"docker\"}"));
	assert_true(same("{" NAT ", \"to\": \"docker:bridge\"}",
			 "{" NAT ", \"to\": \"docker:bridge\"}"));
	/* asked names another network, or an address: not as asked */
	assert_false(same("{" NAT ", \"to\": \"docker:bridge\"}",
			  "{" NAT ", \"to\": \"docker:other\"}"));
	assert_false(
		same("{" NAT ", \"to\": \"docker:bridge\"}", "{" NAT ", \"to\": \"198.18.0.2\"}"));
	/* a network asked of a record without one: the caller compares the record's network */
	assert_false(same("{" NAT "}", "{" NAT ", \"to\": \"docker:bridge\"}"));
	assert_true(lj_spec_to_names_network("docker:x"));
	assert_true(lj_spec_to_names_network("podman:x"));
	assert_false(lj_spec_to_names_network("docker"));
	assert_false(lj_spec_to_names_network(NULL));
	assert_true(lj_spec_to_unnamed(NULL));
	assert_true(lj_spec_to_unnamed("docker"));
	assert_false(lj_spec_to_unnamed("docker:x"));
	assert_false(lj_spec_to_unnamed("198.18.0.2"));
}

static void test_mac_and_sets(void **state)
{
	/* a derived MAC is compared only when asked names one; a repeated option is a set */
	assert_true(same("{\"way\": \"bridge\", \"mac\": \"02:00:00:00:00:01\", \"ip\": [\"a\", "
			 "\"b\"]}",
			 "{\"way\": \"bridge\", \"ip\": [\"b\", \"a\"]}"));
	assert_false(same("{\"way\": \"bridge\", \"mac\": \"02:00:00:00:00:01\"}",
			  "{\"way\": \"bridge\", \"mac\": \"02:00:00:00:00:02\"}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_to_network),
		cmocka_unit_test(test_mac_and_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
