/* SPDX-License-Identifier: MIT */
/*
 * What lanjoin watch reads from outside: engine event lines (untrusted JSON from a socket),
 * link and nf_tables notifications; and which host links a record relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "lib/core/watch.h"
#include "lib/foreign/engine-events.h"
#include "lib/kernel/monitor.h"

#define ID "4f2c1b9e8d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"

static int parse(const char *s, struct lj_engine_event *e)
{
	return lj_engine_event_parse(s, strlen(s), e);
}

static void test_event_container(void **state)
{
	struct lj_engine_event e;

	(void)state;
	assert_int_equal(parse("{\"status\":\"start\",\"id\":\"" ID "\",\"Type\":\"container\","
			       "\"Action\":\"start\",\"Actor\":{\"ID\":\"" ID "\","
			       "\"Attributes\":{\"image\":\"busybox\",\"name\":\"web\"}},"
			       "\"scope\":\"local\",\"time\":1,\"timeNano\":1}",
			       &e),
			 1);
	assert_string_equal(e.type, "container");
	assert_string_equal(e.action, "start");
	assert_string_equal(e.id, ID);
	assert_string_equal(e.name, "web");
	/* "exec_start: sh" is the action exec_start */
	assert_int_equal(parse("{\"Type\":\"container\",\"Action\":\"exec_start: sh -c x\","
			       "\"Actor\":{\"ID\":\"" ID "\",\"Attributes\":{\"name\":\"web\"}}}",
			       &e),
			 1);
	assert_string_equal(e.action, "exec_start");
	/* a name that is not a container name is dropped, the event kept */
	assert_int_equal(parse("{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"" ID
			       "\",\"Attributes\":{\"name\":\"../x y\"}}}",
			       &e),
			 1);
	assert_string_equal(e.name, "");
}

static void test_event_network(void **state)
{
	struct lj_engine_event e;

	(void)state;
	assert_int_equal(parse("{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":"
			       "\"abc\",\"Attributes\":{\"container\":\"" ID "\",\"name\":"
			       "\"bridge\",\"type\":\"bridge\"}}}",
			       &e),
			 1);
	assert_string_equal(e.type, "network");
	assert_string_equal(e.id, ID);
	assert_string_equal(e.network, "bridge");
	assert_string_equal(e.name, "");
}

static void test_event_bad(void **state)
{
	struct lj_engine_event e;

	(void)state;
	/* well-formed, of no interest */
	assert_int_equal(parse("{\"Type\":\"image\",\"Action\":\"pull\",\"Actor\":{}}", &e), 0);
	/* malformed */
	assert_int_equal(parse("", &e), -EPROTO);
	assert_int_equal(parse("[]", &e), -EPROTO);
	assert_int_equal(parse("{\"Type\":\"container\"}", &e), -EPROTO);
	assert_int_equal(parse("{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":"
			       "\"xyz\"}}",
			       &e),
			 -EPROTO);
	assert_int_equal(parse("{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":"
			       "\"n\",\"Attributes\":{}}}",
			       &e),
			 -EPROTO);
	assert_int_equal(parse("{\"Type\":1,\"Action\":\"start\",\"Actor\":{}}", &e), -EPROTO);
	assert_int_equal(parse("{\"Type\":\"container\",\"Type\":\"container\"}", &e), -EPROTO);
}

static struct nlmsghdr *nft_msg(char *buf, uint16_t msg, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | msg;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	return nlh;
}

static void test_nft(void **state)
{
	char buf[512] __attribute__((aligned(4))) = {0};
	struct lj_nft_event e;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = nft_msg(buf, NFT_MSG_DELTABLE, NFPROTO_IPV4);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, "lanjoin");
	assert_int_equal(lj_monitor_parse_nft(nlh, &e), 1);
	assert_true(e.deletion);
	assert_true(e.ipv4);
	assert_false(e.newgen);
	assert_string_equal(e.table, "lanjoin");

	memset(buf, 0, sizeof(buf));
	nlh = nft_msg(buf, NFT_MSG_NEWRULE, NFPROTO_INET);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "filter");
	assert_int_equal(lj_monitor_parse_nft(nlh, &e), 1);
	assert_false(e.deletion);
	assert_false(e.ipv4);
	assert_string_equal(e.table, "filter");

	memset(buf, 0, sizeof(buf));
	nlh = nft_msg(buf, NFT_MSG_NEWGEN, NFPROTO_UNSPEC);
	mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(7));
	mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(4242));
	mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, "nft");
	assert_int_equal(lj_monitor_parse_nft(nlh, &e), 1);
	assert_true(e.newgen);
	assert_int_equal(e.gen_pid, 4242);
	assert_string_equal(e.gen_proc, "nft");

	/* a table name that does not fit is malformed */
	memset(buf, 0, sizeof(buf));
	nlh = nft_msg(buf, NFT_MSG_DELCHAIN, NFPROTO_IPV4);
	{
		char longname[200];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, longname);
	}
	assert_int_equal(lj_monitor_parse_nft(nlh, &e), -EBADMSG);
	/* another subsystem: not ours */
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | 1;
	assert_int_equal(lj_monitor_parse_nft(nlh, &e), 0);
}

static void test_link(void **state)
{
	char buf[512] __attribute__((aligned(4))) = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct lj_link_event e;
	struct ifinfomsg *ifi;

	(void)state;
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 7;
	ifi->ifi_flags = 0x10001; /* IFF_UP | IFF_LOWER_UP */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "em1");
	mnl_attr_put_u32(nlh, IFLA_MASTER, 3);
	assert_int_equal(lj_monitor_parse_link(nlh, &e), 1);
	assert_false(e.deleted);
	assert_int_equal(e.link.ifindex, 7);
	assert_string_equal(e.link.name, "em1");
	assert_int_equal(e.link.master, 3);
	nlh->nlmsg_type = RTM_DELLINK;
	assert_int_equal(lj_monitor_parse_link(nlh, &e), 1);
	assert_true(e.deleted);
	nlh->nlmsg_type = RTM_NEWADDR;
	assert_int_equal(lj_monitor_parse_link(nlh, &e), 0);
	/* truncated */
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_len = sizeof(*nlh) + 4;
	assert_int_equal(lj_monitor_parse_link(nlh, &e), -EBADMSG);
}

static void test_record_links(void **state)
{
	static const struct lj_step_type t = {.id = "t", .nft = LJ_STEP_NFT_OWN};
	struct lj_step steps[3] = {
		{.type = &t, .where = LJ_HOST, .link = "ljvabc", .master = "br0"},
		{.type = &t, .where = LJ_TARGET, .link = "eth1", .master = "em1"},
		{.type = &t, .where = LJ_HOST, .link = "br0"},
	};
	struct lj_record rec = {.host_ifname = "ljvabc",
				.target_kind = LJ_TARGET_CONTAINER,
				.container_id = ID,
				.target_name = "web",
				.target_spec = "web"};
	const char *names[8];

	(void)state;
	rec.plan.steps = steps;
	rec.plan.n = 3;
	assert_int_equal(lj_record_links(&rec, names, 8), 3);
	assert_string_equal(names[0], "ljvabc");
	assert_string_equal(names[1], "br0");
	assert_string_equal(names[2], "em1");
	assert_true(lj_record_uses_link(&rec, "em1"));
	assert_false(lj_record_uses_link(&rec, "eth1")); /* the target's, not the host's */
	assert_int_equal(lj_record_nft(&rec), LJ_STEP_NFT_OWN);
	assert_true(lj_record_is_container(&rec, ID, ""));
	assert_true(lj_record_is_container(&rec, "", "web"));
	assert_false(lj_record_is_container(&rec, "", "db"));
	assert_false(lj_record_is_container(&rec, "", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_container),
		cmocka_unit_test(test_event_network),
		cmocka_unit_test(test_event_bad),
		cmocka_unit_test(test_nft),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_record_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
