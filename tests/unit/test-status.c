/* SPDX-License-Identifier: MIT */
/* status: the lookups in a namespace's dumps and the step types' verify, on made-up dumps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "lib/core/status.h"
#include "lib/steps/nat.h"

static struct lj_link links[3];
static struct lj_addr_info addrs[1];
static struct lj_route_entry routes[2];
static struct lj_status_ns host, target;

static void cidr(const char *s, struct lj_cidr *c)
{
	assert_int_equal(lj_parse_cidr(s, true, c), 0);
}

/* host: bridge br0 (2, up) with port ljv0 (3); target: eth1 (5, up) with 198.18.0.2/24, a
 * default route via 198.18.0.1 and 198.18.0.0/24 on it. */
static int setup(void **state)
{
	(void)state;
	memset(links, 0, sizeof(links));
	links[0] = (struct lj_link){.ifindex = 2,
				    .name = "br0",
				    .flags = IFF_UP,
				    .kind = "bridge",
				    .has_mac = true,
				    .mac = {2, 0, 0, 0, 0, 1}};
	links[1] = (struct lj_link){
		.ifindex = 3, .name = "ljv0", .flags = IFF_UP, .kind = "veth", .master = 2};
	links[2] = (struct lj_link){.ifindex = 5,
				    .name = "eth1",
				    .flags = IFF_UP,
				    .kind = "veth",
				    .has_mac = true,
				    .mac = {2, 0, 0, 0, 0, 9}};
	host = (struct lj_status_ns){.links = links, .n_links = 2};
	memset(addrs, 0, sizeof(addrs));
	addrs[0].ifindex = 5;
	cidr("198.18.0.2/24", &addrs[0].cidr);
	memset(routes, 0, sizeof(routes));
	routes[0] = (struct lj_route_entry){.dst.ip.family = AF_INET, .oif = 5, .table = 254};
	assert_int_equal(lj_parse_ip("198.18.0.1", &routes[0].via), 0);
	cidr("198.18.0.0/24", &routes[1].dst);
	routes[1].oif = 5;
	routes[1].table = 254;
	target = (struct lj_status_ns){.links = links + 2,
				       .n_links = 1,
				       .addrs = addrs,
				       .n_addrs = 1,
				       .routes = routes,
				       .n_routes = 2};
	return 0;
}

static void test_lookups(void **state)
{
	struct lj_cidr c, any = {.ip.family = AF_INET};
	struct lj_ip gw, other;

	(void)state;
	assert_ptr_equal(lj_status_link(&host, "ljv0"), &links[1]);
	assert_null(lj_status_link(&host, "eth1"));
	assert_ptr_equal(lj_status_link_index(&target, 5), &links[2]);
	cidr("198.18.0.2/24", &c);
	assert_true(lj_status_has_addr(&target, 5, &c));
	assert_false(lj_status_has_addr(&target, 4, &c));
	cidr("198.18.0.2/32", &c);
	assert_false(lj_status_has_addr(&target, 5, &c));
	assert_int_equal(lj_parse_ip("198.18.0.1", &gw), 0);
	assert_int_equal(lj_parse_ip("198.18.0.7", &other), 0);
	assert_true(lj_status_has_route(&target, &any, &gw, 5, 0));
	assert_true(lj_status_has_route(&target, &any, NULL, 5, 0));
	assert_false(lj_status_has_route(&target, &any, &other, 5, 0));
	assert_false(lj_status_has_route(&target, &any, &gw, 5, 100));
	any.ip.family = AF_INET6;
	assert_false(lj_status_has_route(&target, &any, NULL, 5, 0));
	cidr("198.18.0.0/24", &c);
	assert_true(lj_status_has_route(&target, &c, NULL, 5, 254));
	cidr("198.18.1.0/24", &c);
	assert_false(lj_status_has_route(&target, &c, NULL, 5, 0));
	assert_string_equal(lj_status_kind_str(LJ_STATUS_TARGET_RESTARTED), "target-restarted");
}

static void test_need_link(void **state)
{
	struct lj_status_view v = {.host = &host, .target = &target};
	char why[128];

	(void)state;
	assert_non_null(lj_status_need_link(&v, LJ_HOST, "ljv0", true, why, sizeof(why)));
	assert_null(lj_status_need_link(&v, LJ_TARGET, "eth9", false, why, sizeof(why)));
	assert_string_equal(why, "link eth9 is missing in the target");
	links[1].flags = 0;
	assert_null(lj_status_need_link(&v, LJ_HOST, "ljv0", true, why, sizeof(why)));
	assert_string_equal(why, "link ljv0 is down on the host");
	assert_non_null(lj_status_need_link(&v, LJ_HOST, "ljv0", false, why, sizeof(why)));
}

/* Run type's verify on step s; returns its answer, why in why. */
static int verify(const struct lj_step *s, char *why, size_t size)
{
	struct lj_status_view v = {.host = &host, .target = &target};

	why[0] = '\0';
	return s->type->verify(&v, s, why, size);
}

static void test_verify_steps(void **state)
{
	struct lj_step s = {0};
	char why[256];

	(void)state;
	/* addr */
	s = (struct lj_step){.type = &lj_step_addr, .where = LJ_TARGET, .link = "eth1"};
	cidr("198.18.0.2/24", &s.cidr);
	assert_int_equal(verify(&s, why, sizeof(why)), 0);
	cidr("198.18.0.3/24", &s.cidr);
	assert_int_equal(verify(&s, why, sizeof(why)), LJ_VERIFY_DRIFTED);
	assert_string_equal(why, "address 198.18.0.3/24 is missing on eth1 in the target");
	/* route */
	s = (struct lj_step){.type = &lj_step_route, .where = LJ_TARGET, .link = "eth1"};
	cidr("198.18.0.0/24", &s.cidr);
	assert_int_equal(verify(&s, why, sizeof(why)), 0);
	snprintf(s.link, sizeof(s.link), "eth2");
	assert_int_equal(verify(&s, why, sizeof(why)), LJ_VERIFY_DRIFTED);
	assert_string_equal(why, "link eth2 is missing in the target");
	/* veth: both ends, the host end a port of br0, the container end's MAC */
	s = (struct lj_step){.type = &lj_step_veth,
			     .where = LJ_HOST,
			     .link = "ljv0",
			     .peer = "eth1",
			     .master = "br0",
			     .has_mac = true,
			     .mac = {2, 0, 0, 0, 0, 9}};
	assert_int_equal(verify(&s, why, sizeof(why)), 0);
	links[1].master = 0;
	assert_int_equal(verify(&s, why, sizeof(why)), LJ_VERIFY_DRIFTED);
	assert_string_equal(why, "ljv0 is no longer a port of br0");
	links[1].master = 2;
	links[0].flags = 0; /* the bridge down */
	assert_int_equal(verify(&s, why, sizeof(why)), LJ_VERIFY_DRIFTED);
	assert_string_equal(why, "link br0 is down on the host (the bridge)");
	links[0].flags = IFF_UP;
	s.mac[5] = 8;
	assert_int_equal(verify(&s, why, sizeof(why)), LJ_VERIFY_DRIFTED);
	assert_string_equal(why,
			    "eth1 in the target has MAC 02:00:00:00:00:09, not 02:00:00:00:00:08");
	/* bridge: its MAC */
	s = (struct lj_step){.type = &lj_step_bridge,
			     .where = LJ_HOST,
			     .link = "br0",
			     .has_mac = true,
			     .mac = {2, 0, 0, 0, 0, 1}};
	assert_int_equal(verify(&s, why, sizeof(why)), 0);
	links[0].mac[5] = 7;
	assert_int_equal(verify(&s, why, sizeof(why)), LJ_VERIFY_DRIFTED);
	assert_string_equal(why,
			    "br0 on the host has MAC 02:00:00:00:00:07, not 02:00:00:00:00:01");
	/* link-up */
	s = (struct lj_step){.type = &lj_step_link_up, .where = LJ_TARGET, .link = "eth1"};
	assert_int_equal(verify(&s, why, sizeof(why)), 0);
	links[2].flags = 0;
	assert_int_equal(verify(&s, why, sizeof(why)), LJ_VERIFY_DRIFTED);
	assert_string_equal(why, "link eth1 is down in the target");
	/* macvlan: a parent that is down */
	s = (struct lj_step){
		.type = &lj_step_macvlan, .where = LJ_TARGET, .link = "eth1", .master = "br0"};
	assert_int_equal(verify(&s, why, sizeof(why)), 0);
	links[0].flags = 0;
	assert_int_equal(verify(&s, why, sizeof(why)), LJ_VERIFY_DRIFTED);
	assert_string_equal(why, "link br0 is down on the host (the parent)");
	/* the nat uplink (its gratuitous ARP's link) down */
	s = (struct lj_step){.type = &lj_step_garp, .where = LJ_HOST, .link = "br0"};
	assert_int_equal(verify(&s, why, sizeof(why)), LJ_VERIFY_DRIFTED);
	assert_string_equal(why, "link br0 is down on the host (the uplink)");
	links[0].flags = IFF_UP;
	assert_int_equal(verify(&s, why, sizeof(why)), 0);
	/* a namespace not read by lj_status_ns_dump has no caches: nft steps cannot be checked */
	s = (struct lj_step){.type = &lj_step_ip_forward, .where = LJ_HOST};
	assert_int_equal(verify(&s, why, sizeof(why)), -EOPNOTSUPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lookups, setup),
		cmocka_unit_test_setup(test_need_link, setup),
		cmocka_unit_test_setup(test_verify_steps, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
