/* SPDX-License-Identifier: MIT */
/* Uplink adoption: exact address/route text round trips, validation of plan data, records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/plan.h"
#include "lib/core/state.h"
#include "lib/steps/ovs.h"
#include "lib/steps/uplink-addr.h"
#include "lib/steps/uplink-fw.h"
#include "lib/steps/uplink.h"
#include "lib/ways/uplink.h"

static void ip(const char *s, struct lj_ip *ret)
{
	assert_int_equal(lj_parse_ip(s, ret), 0);
}

static void test_addr_round_trip(void **state)
{
	struct lj_addr_full a = {0}, b;
	char *t;

	assert_int_equal(lj_parse_cidr("198.18.5.1/24", true, &a.local), 0);
	ip("198.18.5.255", &a.broadcast);
	snprintf(a.label, sizeof(a.label), "br-em1:x");
	a.scope = RT_SCOPE_LINK;
	a.flags = IFA_F_NOPREFIXROUTE | IFA_F_SECONDARY;
	a.valid_lft = 3000;
	a.preferred_lft = 2000;
	a.rt_priority = 77;
	a.proto = 3;
	t = lj_addr_full_to_text(&a);
	assert_non_null(t);
	assert_int_equal(lj_addr_full_from_text(t, &b), 0);
	free(t);
	assert_true(lj_ip_equal(&a.local.ip, &b.local.ip));
	assert_int_equal(b.local.prefixlen, 24);
	assert_true(lj_ip_equal(&a.broadcast, &b.broadcast));
	assert_int_equal(b.peer.family, AF_UNSPEC);
	assert_string_equal(b.label, "br-em1:x");
	assert_int_equal(b.scope, RT_SCOPE_LINK);
	assert_int_equal(b.flags, a.flags);
	assert_int_equal(b.valid_lft, 3000);
	assert_int_equal(b.preferred_lft, 2000);
	assert_int_equal(b.rt_priority, 77);
	assert_int_equal(b.proto, 3);

	/* IPv6 with a peer, forever */
	memset(&a, 0, sizeof(a));
	assert_int_equal(lj_parse_cidr("2001:db8:9::1/64", true, &a.local), 0);
	ip("2001:db8:9::2", &a.peer);
	a.valid_lft = a.preferred_lft = UINT32_MAX;
	t = lj_addr_full_to_text(&a);
	assert_int_equal(lj_addr_full_from_text(t, &b), 0);
	free(t);
	assert_true(lj_ip_equal(&a.peer, &b.peer));
	assert_int_equal(b.valid_lft, UINT32_MAX);
}

static void test_addr_rejects(void **state)
{
	struct lj_addr_full a;
	static const char *const bad[] = {
		NULL,
		"",
		"[]",
		"{\"local\":\"198.51.100.76\",\"scope\":0,\"flags\":0,\"valid\":1,\"preferred\":1}",
		"{\"local\":\"198.51.100.76/24\",\"scope\":0,\"flags\":0,\"valid\":1}",
		"{\"local\":\"198.51.100.76/"
		"24\",\"scope\":256,\"flags\":0,\"valid\":1,\"preferred\":1}",
		"{\"local\":\"198.51.100.76/"
		"24\",\"scope\":0,\"flags\":-1,\"valid\":1,\"preferred\":1}",
		"{\"local\":\"198.51.100.76/"
		"24\",\"scope\":0,\"flags\":0,\"valid\":1,\"preferred\":1,"
		"\"label\":\"a/b\"}",
		"{\"local\":\"198.51.100.76/"
		"24\",\"scope\":0,\"flags\":0,\"valid\":1,\"preferred\":1,"
		"\"label\":\"sixteen-bytes-xx\"}",
		"{\"local\":\"198.51.100.76/"
		"24\",\"scope\":0,\"flags\":0,\"valid\":1,\"preferred\":1,"
		"\"peer\":\"2001:db8::1\"}",
		"{\"local\":\"198.51.100.76/24\",\"local\":\"198.51.100.77/24\",\"scope\":0,"
		"\"flags\":0,\"valid\":1,\"preferred\":1}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lj_addr_full_from_text(bad[i], &a), -EBADMSG);
}

static void test_route_round_trip(void **state)
{
	struct lj_route_info r = {0}, s;
	char buf[512];
	FILE *f;
	char *t;

	r.family = AF_INET6;
	ip("2001:db8:7::", &r.dst);
	r.dst_len = 48;
	ip("2001:db8:1::", &r.src);
	r.src_len = 64;
	ip("2001:db8:1::fe", &r.gateway);
	ip("2001:db8:1::76", &r.prefsrc);
	r.protocol = RTPROT_STATIC;
	r.type = RTN_UNICAST;
	r.table = 1000;
	r.has_priority = true;
	r.priority = 77;
	r.has_pref = true;
	r.pref = 1;
	r.expires = 600;
	r.flags = RTNH_F_ONLINK;
	r.metrics_mask = 1u << RTAX_MTU | 1u << RTAX_HOPLIMIT;
	r.metrics[RTAX_MTU] = 1400;
	r.metrics[RTAX_HOPLIMIT] = 9;
	t = lj_route_info_to_text(&r);
	assert_non_null(t);
	assert_int_equal(lj_route_info_from_text(t, &s), 0);
	free(t);
	assert_int_equal(s.family, AF_INET6);
	assert_true(lj_ip_equal(&s.dst, &r.dst));
	assert_int_equal(s.dst_len, 48);
	assert_true(lj_ip_equal(&s.src, &r.src));
	assert_int_equal(s.src_len, 64);
	assert_true(lj_ip_equal(&s.gateway, &r.gateway));
	assert_true(lj_ip_equal(&s.prefsrc, &r.prefsrc));
	assert_int_equal(s.table, 1000);
	assert_true(s.has_priority);
	assert_int_equal(s.priority, 77);
	assert_true(s.has_pref);
	assert_int_equal(s.pref, 1);
	assert_int_equal(s.expires, 600);
	assert_int_equal(s.flags, RTNH_F_ONLINK);
	assert_int_equal(s.metrics_mask, r.metrics_mask);
	assert_int_equal(s.metrics[RTAX_MTU], 1400);
	assert_int_equal(s.metrics[RTAX_HOPLIMIT], 9);

	f = fmemopen(buf, sizeof(buf), "w");
	lj_route_info_print(&s, "br-em1", f);
	fclose(f);
	assert_string_equal(buf,
			    "2001:db8:7::/48 from 2001:db8:1::/64 via 2001:db8:1::fe dev br-em1 "
			    "table 1000 proto 4 scope 0 metric 77 src 2001:db8:1::76 onlink "
			    "pref high expires 600 mtu 1400 hoplimit 9");

	/* a default route without a metric keeps none */
	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.dst.family = AF_INET;
	ip("198.51.100.254", &r.gateway);
	r.table = RT_TABLE_MAIN;
	t = lj_route_info_to_text(&r);
	assert_int_equal(lj_route_info_from_text(t, &s), 0);
	free(t);
	assert_false(s.has_priority);
	assert_int_equal(s.dst_len, 0);
}

static void test_route_rejects(void **state)
{
	struct lj_route_info r;
	static const char *const bad[] = {
		"{}",
		"{\"family\":5,\"dst\":\"0.0.0.0/"
		"0\",\"tos\":0,\"protocol\":3,\"scope\":0,\"type\":1,"
		"\"flags\":0,\"table\":254}",
		"{\"family\":6,\"dst\":\"0.0.0.0/"
		"0\",\"tos\":0,\"protocol\":3,\"scope\":0,\"type\":1,"
		"\"flags\":0,\"table\":254}",
		"{\"family\":4,\"dst\":\"0.0.0.0/"
		"0\",\"tos\":0,\"protocol\":3,\"scope\":0,\"type\":1,"
		"\"flags\":8,\"table\":254}",
		"{\"family\":4,\"dst\":\"0.0.0.0/"
		"0\",\"tos\":0,\"protocol\":3,\"scope\":0,\"type\":1,"
		"\"flags\":0,\"table\":254,\"metrics\":{\"99\":1}}",
		"{\"family\":4,\"dst\":\"0.0.0.0/"
		"0\",\"tos\":0,\"protocol\":3,\"scope\":0,\"type\":1,"
		"\"flags\":0,\"table\":254,\"gateway\":\"2001:db8::1\"}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lj_route_info_from_text(bad[i], &r), -EBADMSG);
}

/* Malformed sysctl lists are refused before anything is written. */
static void test_sysctl_validation(void **state)
{
	struct lj_ctx ctx = {0};
	struct lj_step s = {0};
	static const char *const bad[] = {
		"ipv4.rp_filter=1\n",	   /* sysctl-set needs NEW/OLD */
		"ipv4.nonexistent=1/0\n",  /* not in the allow-list */
		"ipv4.rp_filter=1/0",	   /* no newline */
		"ipv4.rp_filter=1;rm/0\n", /* not a number */
		"../../ipv4.rp_filter=1/0\n", "ipv4.rp_filter=/0\n",
	};

	snprintf(s.link, sizeof(s.link), "em1");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.text = (char *)bad[i];
		ctx.detail[0] = '\0';
		assert_int_equal(lj_step_sysctl_set.apply(&ctx, &s), -EINVAL);
		assert_int_equal(lj_step_sysctl_set.undo(&ctx, &s), -EINVAL);
	}
	s.text = (char *)"ipv6.accept_dad=0\nipv4.forwarding=1;\n";
	assert_int_equal(lj_step_sysctl_copy.apply(&ctx, &s), -EINVAL);
	s.text = NULL;
}

/* Every uplink step survives a record round trip. */
static void test_plan_round_trip(void **state)
{
	static const struct lj_step_type *const types[] = {
		&lj_step_uplink_bridge,	    &lj_step_sysctl_copy,
		&lj_step_addr_copy,	    &lj_step_enslave,
		&lj_step_route_move,	    &lj_step_addr_move,
		&lj_step_addr_flags,	    &lj_step_probe,
		&lj_step_bridged_accept,    &lj_step_sysctl_set,
		&lj_step_ovs_uplink_bridge, &lj_step_ovs_enslave,
		&lj_step_test_crash,
	};
	struct lj_plan p = {0}, q;
	json_t *j;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct lj_step *s = lj_plan_add(&p, types[i], LJ_HOST, "step %zu", i);
		assert_non_null(s);
		snprintf(s->link, sizeof(s->link), "em1");
		snprintf(s->master, sizeof(s->master), "br-em1");
		s->flags = LJ_STEP_F_NODAD_FIRST;
		s->u32 = (uint32_t)i;
		s->text = strdup("ipv4.rp_filter=1/0\n");
	}
	j = lj_plan_to_json(&p);
	assert_int_equal(lj_plan_from_json(j, &q), 0);
	json_decref(j);
	assert_int_equal(q.n, p.n);
	for (size_t i = 0; i < p.n; i++) {
		assert_ptr_equal(q.steps[i].type, p.steps[i].type);
		assert_string_equal(q.steps[i].master, "br-em1");
		assert_string_equal(q.steps[i].text, p.steps[i].text);
		assert_int_equal(q.steps[i].u32, p.steps[i].u32);
	}
	lj_plan_free(&p);
	lj_plan_free(&q);
}

/* The uplink step types keep the ids records name them by. */
static void test_step_ids(void **state)
{
	static const struct {
		const char *id;
		const struct lj_step_type *type;
	} ids[] = {
		{"uplink-bridge", &lj_step_uplink_bridge},
		{"sysctl-copy", &lj_step_sysctl_copy},
		{"sysctl-set", &lj_step_sysctl_set},
		{"enslave", &lj_step_enslave},
		{"probe", &lj_step_probe},
		{"test-crash", &lj_step_test_crash},
		{"addr-copy", &lj_step_addr_copy},
		{"addr-flags", &lj_step_addr_flags},
		{"addr-move", &lj_step_addr_move},
		{"route-move", &lj_step_route_move},
		{"bridged-accept", &lj_step_bridged_accept},
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_string_equal(ids[i].type->id, ids[i].id);
		assert_ptr_equal(lj_step_type_find(ids[i].id), ids[i].type);
	}
}

/* What the address steps describe, for apply and undo. */
static void test_addr_describe(void **state)
{
	struct lj_addr_full a = {.valid_lft = UINT32_MAX, .preferred_lft = UINT32_MAX};
	const struct lj_step_type *const types[] = {&lj_step_addr_copy, &lj_step_addr_flags,
						    &lj_step_addr_move};
	struct lj_ctx ctx = {0};
	struct lj_step s = {0};
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	assert_int_equal(lj_parse_cidr("2001:db8::5/64", true, &a.local), 0);
	s.text = lj_addr_full_to_text(&a);
	assert_non_null(s.text);
	f = open_memstream(&buf, &size);
	snprintf(s.link, sizeof(s.link), "br-em1");
	s.flags = LJ_STEP_F_NODAD_FIRST;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (types[i] == &lj_step_addr_move) {
			snprintf(s.link, sizeof(s.link), "em1");
			s.flags = 0;
		}
		types[i]->describe(&ctx, &s, f);
		if (types[i]->describe_undo)
			types[i]->describe_undo(&ctx, &s, f);
	}
	/* malformed: nothing */
	free(s.text);
	s.text = strdup("{}");
	lj_step_addr_copy.describe(&ctx, &s, f);
	lj_step_addr_move.describe(&ctx, &s, f);
	fclose(f);
	assert_string_equal(buf, "ip addr add 2001:db8::5/64 dev br-em1 nodad\n"
				 "ip addr del 2001:db8::5/64 dev br-em1\n"
				 "ip addr change 2001:db8::5/64 dev br-em1\n"
				 "ip addr del 2001:db8::5/64 dev em1\n"
				 "ip addr add 2001:db8::5/64 dev em1\n");
	free(buf);
	free(s.text);
}

static void test_state_subdirs(void **state)
{
	char dir[64], cmd[128];
	struct lj_state *st = NULL, *sib = NULL;

	strcpy(dir, "/tmp/lj-unit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	setenv("LANJOIN_STATE_DIR", dir, 1);
	assert_int_equal(lj_state_open_sub("../x", true, &st), -EINVAL);
	assert_int_equal(lj_state_open_sub("", true, &st), -EINVAL);
	assert_int_equal(lj_state_open_sub(".hidden", true, &st), -EINVAL);
	assert_int_equal(lj_state_open(true, &st), 0);
	assert_int_equal(lj_state_open_sibling(st, "a/b", &sib), -EINVAL);
	assert_int_equal(lj_state_open_sibling(st, "uplinks", &sib), 0);
	lj_state_close(sib);
	lj_state_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_round_trip),	  cmocka_unit_test(test_addr_rejects),
		cmocka_unit_test(test_route_round_trip),  cmocka_unit_test(test_route_rejects),
		cmocka_unit_test(test_sysctl_validation), cmocka_unit_test(test_plan_round_trip),
		cmocka_unit_test(test_state_subdirs),	  cmocka_unit_test(test_step_ids),
		cmocka_unit_test(test_addr_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
