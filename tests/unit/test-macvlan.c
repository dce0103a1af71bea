/* SPDX-License-Identifier: MIT */
/* The macvlan way without the kernel: shim address checks, names, step records, dry-run text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ways/macvlan-common.h"
#include "lib/core/plan.h"

static struct lj_cidr cidr(const char *s)
{
	struct lj_cidr c;

	assert_int_equal(lj_parse_cidr(s, true, &c), 0);
	return c;
}

static void test_shim_ip(void **state)
{
	struct lj_cidr parent[] = {cidr("198.51.100.76/24"), cidr("2001:db8:1::76/64"),
				   cidr("fe80::1/64")};
	struct lj_result res;
	struct lj_cidr c;

	memset(&res, 0, sizeof(res));
	c = cidr("198.51.100.144/24");
	assert_int_equal(lj_macvlan_check_shim_ip("em1", &c, parent, 3, &res), 0);
	c = cidr("198.51.100.144/32"); /* the prefix given does not matter, the parent's does */
	assert_int_equal(lj_macvlan_check_shim_ip("em1", &c, parent, 3, &res), 0);
	c = cidr("2001:db8:1::144/64");
	assert_int_equal(lj_macvlan_check_shim_ip("em1", &c, parent, 3, &res), 0);

	/* another subnet: refused, and the message lists the parent's addresses of that family */
	c = cidr("203.0.113.9/24");
	assert_int_equal(lj_macvlan_check_shim_ip("em1", &c, parent, 3, &res), -EINVAL);
	assert_true(res.bad_input);
	assert_non_null(strstr(res.message, "not in the subnet"));
	assert_non_null(strstr(res.message, "198.51.100.76/24"));
	assert_null(strstr(res.message, "2001:db8"));

	/* the host's own address */
	memset(&res, 0, sizeof(res));
	c = cidr("198.51.100.76/24");
	assert_int_equal(lj_macvlan_check_shim_ip("em1", &c, parent, 3, &res), -EINVAL);
	assert_non_null(strstr(res.message, "host's own address"));

	/* no address of that family on the parent */
	memset(&res, 0, sizeof(res));
	c = cidr("198.51.100.144/24");
	assert_int_equal(lj_macvlan_check_shim_ip("em1", &c, parent + 1, 2, &res), -EINVAL);
	assert_non_null(strstr(res.message, "none of that family"));
	assert_int_equal(lj_macvlan_check_shim_ip("em1", &c, parent, 0, &res), -EINVAL);
}

static void test_names(void **state)
{
	char a[IFNAMSIZ], b[IFNAMSIZ];
	struct lj_link l = {0};

	lj_shim_name("em1", a);
	lj_shim_name("em1", b);
	assert_string_equal(a, b);
	assert_int_equal(strncmp(a, "ljs", 3), 0);
	assert_int_equal(strlen(a), 15);
	assert_true(lj_ifname_valid(a));
	lj_shim_name("em2", b);
	assert_string_not_equal(a, b);

	assert_string_equal(lj_macvlan_mode_name(0), "bridge");
	assert_string_equal(lj_macvlan_mode_name(MACVLAN_MODE_BRIDGE), "bridge");
	assert_string_equal(lj_macvlan_mode_name(MACVLAN_MODE_PRIVATE), "private");
	assert_string_equal(lj_macvlan_mode_name(MACVLAN_MODE_VEPA), "vepa");
	assert_string_equal(lj_macvlan_mode_name(MACVLAN_MODE_PASSTHRU), "passthru");

	assert_false(lj_shim_is_ours(&l));
	snprintf(l.alias, sizeof(l.alias), "%s", LJ_OWNED_ALIAS);
	assert_true(lj_shim_is_ours(&l));
	snprintf(l.alias, sizeof(l.alias), "%s", LJ_SHIM_PINNED_ALIAS);
	assert_true(lj_shim_is_ours(&l));
	snprintf(l.alias, sizeof(l.alias), "uplink");
	assert_false(lj_shim_is_ours(&l));
}

/* The plan of `attach macvlan netns:web --parent em1 --ip .117/24 --host-shim .144/24`. */
static void build(struct lj_plan *p)
{
	struct lj_step *s;

	s = lj_plan_add(p, &lj_step_macvlan, LJ_TARGET, "create macvlan");
	snprintf(s->link, sizeof(s->link), "eth1");
	snprintf(s->master, sizeof(s->master), "em1");
	s->u32 = MACVLAN_MODE_PRIVATE;
	s->mtu = 1400;
	s->has_mac = true;
	memcpy(s->mac, (uint8_t[]){0x02, 0, 0xc6, 0x33, 0x64, 0x75}, 6);
	s = lj_plan_add(p, &lj_step_shim, LJ_HOST, "create shim");
	lj_shim_name("em1", s->link);
	snprintf(s->master, sizeof(s->master), "em1");
	s->cidr = cidr("198.51.100.144/32");
	s->flags = LJ_STEP_F_WILL_CREATE;
	s = lj_plan_add(p, &lj_step_shim_route, LJ_HOST, "host route");
	lj_shim_name("em1", s->link);
	s->cidr = cidr("198.51.100.117/32");
}

static void test_json_round_trip(void **state)
{
	struct lj_plan p = {0}, q = {0};
	json_t *j;

	build(&p);
	j = lj_plan_to_json(&p);
	assert_non_null(j);
	assert_int_equal(lj_plan_from_json(j, &q), 0);
	json_decref(j);
	assert_int_equal(q.n, 3);
	assert_ptr_equal(q.steps[0].type, &lj_step_macvlan);
	assert_int_equal(q.steps[0].where, LJ_TARGET);
	assert_string_equal(q.steps[0].master, "em1");
	assert_int_equal(q.steps[0].u32, MACVLAN_MODE_PRIVATE);
	assert_int_equal(q.steps[0].mtu, 1400);
	assert_true(q.steps[0].has_mac);
	assert_memory_equal(q.steps[0].mac, p.steps[0].mac, 6);
	assert_ptr_equal(q.steps[1].type, &lj_step_shim);
	assert_string_equal(q.steps[1].link, p.steps[1].link);
	assert_true(lj_ip_equal(&q.steps[1].cidr.ip, &p.steps[1].cidr.ip));
	assert_int_equal(q.steps[1].cidr.prefixlen, 32);
	assert_ptr_equal(q.steps[2].type, &lj_step_shim_route);
	assert_ptr_equal(lj_step_type_find("shim-route"), &lj_step_shim_route);
	lj_plan_free(&p);
	lj_plan_free(&q);
}

static void test_describe(void **state)
{
	struct lj_ctx ctx = {0};
	struct lj_plan p = {0};
	char *text = NULL, shim[IFNAMSIZ], want[256];
	size_t size = 0;
	FILE *f;

	ctx.tgt_copy.kind = LJ_TARGET_NETNS;
	snprintf(ctx.tgt_copy.name, sizeof(ctx.tgt_copy.name), "web");
	ctx.tgt = &ctx.tgt_copy;
	snprintf(ctx.target_ip, sizeof(ctx.target_ip), "ip -n web");
	lj_shim_name("em1", shim);
	build(&p);

	f = open_memstream(&text, &size);
	lj_plan_describe(&ctx, &p, false, f);
	fclose(f);
	assert_non_null(strstr(text, "ip link add link em1 name eth1 netns web mtu 1400 address "
				     "02:00:c6:33:64:75 type macvlan mode private\n"));
	snprintf(want, sizeof(want), "ip link add link em1 name %s type macvlan mode bridge\n",
		 shim);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "sysctl -qw net.ipv6.conf.%s.disable_ipv6=1\n", shim);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "ip addr add 198.51.100.144/32 dev %s noprefixroute\n", shim);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "ip route add 198.51.100.117/32 dev %s proto static\n", shim);
	assert_non_null(strstr(text, want));
	free(text);

	/* undo, newest first: route, shim (if unused), the macvlan in the target */
	text = NULL;
	f = open_memstream(&text, &size);
	lj_plan_describe(&ctx, &p, true, f);
	fclose(f);
	snprintf(want, sizeof(want), "ip route del 198.51.100.117/32 dev %s\n", shim);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "ip link del %s\n", shim);
	assert_non_null(strstr(text, want));
	assert_true(strstr(text, "ip route del") < strstr(text, want));
	assert_true(strstr(text, want) < strstr(text, "ip -n web link del eth1\n"));
	free(text);
	lj_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shim_ip),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
