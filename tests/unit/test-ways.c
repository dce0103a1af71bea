/* SPDX-License-Identifier: MIT */
/*
 * The way table (lib/core/way.h): every row complete, every step id unique and findable, the
 * ids records were written with still found, names, modes and static checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/if_link.h>
#include <string.h>

#include "lib/core/way.h"
#include "lib/ways/macvlan.h"
#include "shared/macro.h"

static void test_rows_complete(void **state)
{
	for (size_t i = 0; i < LJ_WAY_COUNT; i++) {
		const struct lj_way_ops *w = lj_way_table[i];
		enum lj_way found;

		assert_non_null(w);
		assert_int_equal(w->way, i);
		assert_ptr_equal(lj_way_get((enum lj_way)i), w);
		assert_non_null(w->name);
		assert_true(w->name[0]);
		assert_string_equal(lj_way_name((enum lj_way)i), w->name);
		assert_int_equal(lj_way_find(w->name, &found), 0);
		assert_int_equal(found, i);
		assert_non_null(w->check);
		assert_non_null(w->build);
		assert_non_null(w->steps);
		assert_non_null(w->steps[0]);
		/* every way takes the common options, and only options that exist */
		assert_true(lj_way_takes(w->way, LJ_OPT_COMMON));
		assert_int_equal(w->opts & ~((1u << LJ_OPT_COUNT) - 1), 0);
		/* a gc reports its count under a key of its own */
		assert_int_equal(!w->gc, !w->gc_key);
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(lj_way_table[j]->name, w->name);
			if (w->gc_key && lj_way_table[j]->gc_key)
				assert_string_not_equal(lj_way_table[j]->gc_key, w->gc_key);
		}
		/* modes exactly when it takes the mode option, each with a name of its own */
		assert_int_equal(!w->modes, !w->n_modes);
		assert_int_equal(!!w->n_modes, lj_way_takes(w->way, LJ_OPT_MODE));
		for (size_t j = 0; j < w->n_modes; j++) {
			uint32_t v;
			assert_int_equal(lj_way_mode_find(w->way, w->modes[j].name, &v), 0);
			assert_int_equal(v, w->modes[j].value);
			assert_string_equal(lj_way_mode_name(w->way, v), w->modes[j].name);
		}
	}
	assert_null(lj_way_get(LJ_WAY_COUNT));
	assert_string_equal(lj_way_name(LJ_WAY_COUNT), "?");
}

/* Each step type in types (NULL-terminated): complete, found by its id, its id its own. */
static void check_steps(const struct lj_step_type *const *types)
{
	for (; *types; types++) {
		const struct lj_step_type *t = *types;

		assert_non_null(t->id);
		assert_true(t->id[0]);
		assert_non_null(t->apply);
		assert_non_null(t->describe);
		assert_ptr_equal(lj_step_type_find(t->id), t);
	}
}

/* No two step types share an id, among all the table names. */
static void check_unique(const struct lj_step_type *t)
{
	for (size_t i = 0; i <= LJ_WAY_COUNT; i++) {
		const struct lj_step_type *const *u =
			i < LJ_WAY_COUNT ? lj_way_table[i]->steps : lj_way_other_steps;
		for (; *u; u++)
			if (strcmp((*u)->id, t->id) == 0)
				assert_ptr_equal(*u, t);
	}
}

static void test_steps(void **state)
{
	for (size_t i = 0; i < LJ_WAY_COUNT; i++) {
		check_steps(lj_way_table[i]->steps);
		for (const struct lj_step_type *const *t = lj_way_table[i]->steps; *t; t++)
			check_unique(*t);
	}
	check_steps(lj_way_other_steps);
	for (const struct lj_step_type *const *t = lj_way_other_steps; *t; t++)
		check_unique(*t);
	assert_null(lj_step_type_find("no-such-step"));
}

/* The step ids records were written with before the table: they must still load. */
static void test_recorded_ids(void **state)
{
	static const char *const ids[] = {
		"bridge",      "veth",	     "link-up",	       "addr",		"route",
		"sysctl",      "arp-probe",  "announce",       "slaac",		"dhcp",
		"ovs-bridge",  "ovs-port",   "tx-csum-off",    "uplink-bridge", "sysctl-copy",
		"addr-copy",   "enslave",    "route-move",     "addr-move",	"addr-flags",
		"probe",       "test-crash", "bridged-accept", "sysctl-set",	"ovs-uplink-bridge",
		"ovs-enslave", "macvlan",    "shim",	       "shim-route",	"garp",
		"ip-forward",  "nft-nat",    "nft-fw-accept",  "default-route", "source-route",
		"proxy-neigh", "ndp-probe",  "proxy-announce", "routed-sysctl", "arp-notify",
	};

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		const struct lj_step_type *t = lj_step_type_find(ids[i]);
		assert_non_null(t);
		assert_string_equal(t->id, ids[i]);
	}
}

static void test_names_and_modes(void **state)
{
	static const enum lj_way order[] = {LJ_WAY_BRIDGE, LJ_WAY_MACVLAN, LJ_WAY_OVS, LJ_WAY_NAT};
	char buf[128];
	enum lj_way w;
	uint32_t v;

	assert_string_equal(lj_way_names_text(buf, sizeof(buf), ", ", " or ", NULL, 0),
			    "bridge, ovs, macvlan, nat or routed");
	assert_string_equal(lj_way_names_text(buf, sizeof(buf), ", ", " or ", order, 4),
			    "bridge, macvlan, ovs or nat");
	assert_string_equal(lj_way_names_text(buf, 8, ", ", " or ", NULL, 0), "bridge,");
	assert_int_equal(lj_way_find("vxlan", &w), -ENOENT);
	assert_int_equal(lj_way_find("routed", &w), 0);
	assert_int_equal(w, LJ_WAY_ROUTED);

	assert_string_equal(lj_way_modes_text(LJ_WAY_MACVLAN, buf, sizeof(buf), "|", "|"),
			    "bridge|vepa|private|passthru");
	assert_string_equal(lj_way_modes_text(LJ_WAY_BRIDGE, buf, sizeof(buf), "|", "|"), "");
	assert_int_equal(lj_way_mode_find(LJ_WAY_MACVLAN, "passthru", &v), 0);
	assert_int_equal(v, MACVLAN_MODE_PASSTHRU);
	assert_int_equal(lj_way_mode_find(LJ_WAY_MACVLAN, "source", &v), -ENOENT);
	assert_int_equal(lj_way_mode_find(LJ_WAY_NAT, "bridge", &v), -ENOENT);
	/* 0 (not set) and unknown values are the default */
	assert_string_equal(lj_macvlan_mode_name(0), "bridge");
	assert_string_equal(lj_macvlan_mode_name(MACVLAN_MODE_VEPA), "vepa");
}

static void test_options(void **state)
{
	assert_true(lj_way_takes(LJ_WAY_BRIDGE, LJ_OPT_UPLINK));
	assert_true(lj_way_takes(LJ_WAY_NAT, LJ_OPT_UPLINK));
	assert_false(lj_way_takes(LJ_WAY_OVS, LJ_OPT_UPLINK));
	assert_false(lj_way_takes(LJ_WAY_NAT, LJ_OPT_ADDRESSING));
	assert_true(lj_way_takes(LJ_WAY_MACVLAN, LJ_OPT_ADDRESSING));
	assert_true(lj_way_takes(LJ_WAY_OVS, LJ_OPT_VLAN));
	assert_false(lj_way_takes(LJ_WAY_BRIDGE, LJ_OPT_VLAN));
	assert_true(lj_way_takes(LJ_WAY_ROUTED, LJ_OPT_PARENT));
	assert_false(lj_way_takes(LJ_WAY_ROUTED, LJ_OPT_UPLINK));
	assert_false(lj_way_takes(LJ_WAY_COUNT, LJ_OPT_COMMON));
}

static void test_checks(void **state)
{
	struct lj_attach_opts o = {0};
	struct lj_result res = {0};

	o.way = LJ_WAY_OVS;
	assert_int_equal(lj_way_check(&o, &res), -EINVAL);
	assert_true(res.bad_input);
	assert_string_equal(res.message, "attach ovs needs --bridge BR");
	snprintf(o.bridge, sizeof(o.bridge), "br0");
	assert_int_equal(lj_way_check(&o, &res), 0);

	o = (struct lj_attach_opts){.way = LJ_WAY_MACVLAN};
	assert_int_equal(lj_way_check(&o, &res), -EINVAL);
	assert_string_equal(res.message, "attach macvlan needs --parent DEV");

	o = (struct lj_attach_opts){.way = LJ_WAY_NAT};
	snprintf(o.uplink, sizeof(o.uplink), "em1");
	assert_int_equal(lj_way_check(&o, &res), -EINVAL);
	assert_string_equal(res.message, "attach nat needs --uplink DEV and --address CIDR");
	assert_int_equal(lj_parse_cidr("198.51.100.9/24", true, &o.address), 0);
	assert_int_equal(lj_way_check(&o, &res), 0);
	assert_int_equal(lj_parse_cidr("198.18.0.0/31", true, &o.private_net), 0);
	o.to_engine = true;
	assert_int_equal(lj_way_check(&o, &res), -EINVAL);
	assert_string_equal(res.message, "--private and --to exclude each other");

	o = (struct lj_attach_opts){.way = LJ_WAY_ROUTED};
	snprintf(o.parent, sizeof(o.parent), "em1");
	assert_int_equal(lj_way_check(&o, &res), -EINVAL);
	assert_string_equal(res.message, "attach routed needs --parent DEV and --ip ADDRESS");
	assert_int_equal(lj_parse_cidr("198.51.100.9/24", true, &o.ips[0]), 0);
	o.n_ips = 1;
	assert_int_equal(lj_way_check(&o, &res), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_complete), cmocka_unit_test(test_steps),
		cmocka_unit_test(test_recorded_ids),  cmocka_unit_test(test_names_and_modes),
		cmocka_unit_test(test_options),	      cmocka_unit_test(test_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
