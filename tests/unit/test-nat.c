/* SPDX-License-Identifier: MIT */
/*
 * The nat way's nft command text, its nf_tables requests (built, not sent), step validation and
 * state round trip (no root needed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/netfilter.h>

#include "lib/kernel/nft.h"
#include "lib/core/plan.h"
#include "lib/steps/nat.h"

static void nat_step(struct lj_step *s, const char *publish)
{
	memset(s, 0, sizeof(*s));
	s->type = &lj_step_nat_rules;
	snprintf(s->link, sizeof(s->link), "lj0123456789ab");
	assert_int_equal(lj_parse_cidr("198.51.100.117/32", true, &s->cidr), 0);
	assert_int_equal(lj_parse_ip("198.18.0.1", &s->via), 0);
	s->text = publish ? strdup(publish) : NULL;
}

static void test_nat_all_ports(void **state)
{
	struct lj_step s;
	char *text = NULL;

	nat_step(&s, NULL);
	assert_int_equal(lj_nat_rules_text(&s, false, &text), 0);
	assert_string_equal(
		text,
		"create chain ip lanjoin lj0123456789ab_dnat\n"
		"add rule ip lanjoin lj0123456789ab_dnat dnat to 198.18.0.1\n"
		"create chain ip lanjoin lj0123456789ab_snat\n"
		"add rule ip lanjoin lj0123456789ab_snat snat to 198.51.100.117\n"
		"create element ip lanjoin inbound { 198.51.100.117 : jump lj0123456789ab_dnat }\n"
		"create element ip lanjoin outbound { 198.18.0.1 : jump lj0123456789ab_snat }\n");
	free(text);
	text = NULL;
	/* the first attachment makes the table, its maps and base chains in the same transaction */
	assert_int_equal(lj_nat_rules_text(&s, true, &text), 0);
	assert_true(strncmp(text, "add table ip lanjoin\n", 21) == 0);
	assert_non_null(strstr(text, "add chain ip lanjoin prerouting { type nat hook prerouting "
				     "priority -110; policy accept; }\n"));
	assert_non_null(strstr(text, "add chain ip lanjoin postrouting { type nat hook postrouting "
				     "priority 90; policy accept; }\n"));
	assert_non_null(strstr(text, "add rule ip lanjoin output ip daddr vmap @inbound\n"));
	assert_non_null(strstr(text, "create chain ip lanjoin lj0123456789ab_dnat\n"));
	free(text);
	free(s.text);
}

static void test_nat_published(void **state)
{
	struct lj_step s;
	char *text = NULL;

	nat_step(&s, "tcp/8080:80 udp/53:5353");
	assert_int_equal(lj_nat_rules_text(&s, false, &text), 0);
	assert_non_null(strstr(text, "add rule ip lanjoin lj0123456789ab_dnat tcp dport 8080 dnat "
				     "to 198.18.0.1:80\n"));
	assert_non_null(strstr(text, "add rule ip lanjoin lj0123456789ab_dnat udp dport 53 dnat "
				     "to 198.18.0.1:5353\n"));
	assert_null(strstr(text, "dnat to 198.18.0.1\n")); /* no catch-all */
	free(text);
	free(s.text);
}

/* With the arrival interface recorded, SNAT takes only what comes in on it. */
static void test_nat_snat_iif(void **state)
{
	struct lj_step s;
	char *text = NULL;

	nat_step(&s, NULL);
	snprintf(s.master, sizeof(s.master), "ljn0123456789ab");
	assert_int_equal(lj_nat_rules_text(&s, false, &text), 0);
	assert_non_null(strstr(text, "add rule ip lanjoin lj0123456789ab_snat iifname "
				     "\"ljn0123456789ab\" snat to 198.51.100.117\n"));
	free(text);
	text = NULL;
	snprintf(s.master, sizeof(s.master), "a\";flush");
	assert_int_equal(lj_nat_rules_text(&s, false, &text), -EBADMSG);
	assert_null(text);
}

static void test_nat_rejects_bad_steps(void **state)
{
	struct lj_step s;
	char *text = NULL;

	nat_step(&s, "tcp/80;flush ruleset");
	assert_int_equal(lj_nat_rules_text(&s, false, &text), -EBADMSG);
	free(s.text);

	nat_step(&s, NULL);
	snprintf(s.link, sizeof(s.link), "x\";flush");
	assert_int_equal(lj_nat_rules_text(&s, false, &text), -EBADMSG);

	nat_step(&s, NULL);
	assert_int_equal(lj_parse_ip("2001:db8::1", &s.via), 0);
	assert_int_equal(lj_nat_rules_text(&s, false, &text), -EBADMSG);
	assert_null(text);
}

static void fw_step(struct lj_step *s)
{
	memset(s, 0, sizeof(*s));
	s->type = &lj_step_fw_accept;
	snprintf(s->master, sizeof(s->master), "DOCKER-USER");
	snprintf(s->link, sizeof(s->link), "ljn0123456789ab");
	assert_int_equal(lj_parse_ip("198.18.0.1", &s->via), 0);
	s->text = strdup("lanjoin:0123456789ab");
}

static void test_fw_accept(void **state)
{
	struct lj_step s;
	char *text = NULL;

	fw_step(&s);
	assert_int_equal(lj_fw_accept_text(&s, &text), 0);
	assert_string_equal(
		text, "insert rule ip filter DOCKER-USER iifname \"ljn0123456789ab\" ip saddr "
		      "198.18.0.1 counter accept comment \"lanjoin:0123456789ab\"\n"
		      "insert rule ip filter DOCKER-USER oifname \"ljn0123456789ab\" ip daddr "
		      "198.18.0.1 counter accept comment \"lanjoin:0123456789ab\"\n");
	free(text);
	text = NULL;

	/* the nat way's: in, only what DNAT let in and replies, as iptables-nft's conntrack match
	 */
	s.flags = LJ_STEP_F_FW_NAT;
	assert_int_equal(lj_fw_accept_text(&s, &text), 0);
	assert_string_equal(
		text, "insert rule ip filter DOCKER-USER iifname \"ljn0123456789ab\" ip saddr "
		      "198.18.0.1 counter accept comment \"lanjoin:0123456789ab\"\n"
		      "iptables -w -I DOCKER-USER -o ljn0123456789ab -d 198.18.0.1 -m conntrack "
		      "--ctstate DNAT -m comment --comment lanjoin:0123456789ab -j ACCEPT\n"
		      "iptables -w -I DOCKER-USER -o ljn0123456789ab -d 198.18.0.1 -m conntrack "
		      "--ctstate RELATED,ESTABLISHED -m comment --comment lanjoin:0123456789ab "
		      "-j ACCEPT\n");
	free(text);
	text = NULL;
	s.flags = 0;

	/* --to: no link, only the address */
	s.link[0] = '\0';
	assert_int_equal(lj_fw_accept_text(&s, &text), 0);
	assert_non_null(strstr(text, "DOCKER-USER ip saddr 198.18.0.1 counter"));
	free(text);
	text = NULL;

	free(s.text);
	s.text = strdup("lanjoin:\"; flush ruleset");
	assert_int_equal(lj_fw_accept_text(&s, &text), -EBADMSG);
	free(s.text);
	s.text = NULL;
	assert_int_equal(lj_fw_accept_text(&s, &text), -EBADMSG);
	fw_step(&s);
	snprintf(s.master, sizeof(s.master), "a b");
	assert_int_equal(lj_fw_accept_text(&s, &text), -EBADMSG);
	free(s.text);
}

/* lj_nft_tx checks what it is given and counts its requests; a bad one fails the commit
 * before anything is sent (nothing here reaches the kernel). */
static void test_nft_tx(void **state)
{
	const struct lj_nft_hook hook = {"nat", NF_INET_PRE_ROUTING, -110};
	struct lj_ip a, b, v6;
	struct lj_nft_tx *tx = NULL;
	char err[128], longname[] = "abcdefghijklmnopq", comment[200];

	assert_int_equal(lj_parse_ip("198.51.100.7", &a), 0);
	assert_int_equal(lj_parse_ip("198.18.0.1", &b), 0);
	assert_int_equal(lj_parse_ip("2001:db8::1", &v6), 0);
	assert_int_equal(lj_nft_tx_new(NFPROTO_IPV4, &tx), 0);
	assert_int_equal(lj_nft_tx_commit(tx, false, err, sizeof(err)), 0); /* empty: nothing */
	assert_int_equal(lj_nft_tx_table(tx, LJ_NFT_ADD, "lanjoin"), 0);
	assert_int_equal(lj_nft_tx_vmap(tx, LJ_NFT_ADD, "lanjoin", "inbound"), 0);
	assert_int_equal(lj_nft_tx_chain(tx, LJ_NFT_ADD, "lanjoin", "prerouting", &hook), 0);
	assert_int_equal(lj_nft_tx_chain(tx, LJ_NFT_CREATE, "lanjoin", "lj1_dnat", NULL), 0);
	assert_int_equal(
		lj_nft_tx_rule(tx, false, "lanjoin", "prerouting",
			       &(struct lj_nft_rule){.action = LJ_NFT_VMAP, .vmap = "inbound"}),
		0);
	assert_int_equal(lj_nft_tx_rule(tx, false, "lanjoin", "lj1_dnat",
					&(struct lj_nft_rule){.l4proto = IPPROTO_TCP,
							      .dport = 80,
							      .action = LJ_NFT_DNAT,
							      .nat = &b,
							      .nat_port = 8080}),
			 0);
	assert_int_equal(lj_nft_tx_jump(tx, LJ_NFT_CREATE, "lanjoin", "inbound", &a, "lj1_dnat"),
			 0);
	assert_int_equal(lj_nft_tx_jump(tx, LJ_NFT_DELETE, "lanjoin", "inbound", &a, NULL), 0);
	assert_int_equal(lj_nft_tx_rule_delete(tx, "lanjoin", "lj1_dnat", 42), 0);
	assert_int_equal(lj_nft_tx_chain(tx, LJ_NFT_DELETE, "lanjoin", "lj1_dnat", NULL), 0);
	assert_int_equal(lj_nft_tx_table(tx, LJ_NFT_DELETE, "lanjoin"), 0);
	assert_int_equal(lj_nft_tx_size(tx), 11);

	/* Each of these is refused, and nothing is added. */
	assert_int_equal(lj_nft_tx_table(tx, LJ_NFT_ADD, "0bad"), -EINVAL);
	assert_int_equal(lj_nft_tx_chain(tx, LJ_NFT_ADD, "lanjoin", "a b", NULL), -EINVAL);
	assert_int_equal(lj_nft_tx_jump(tx, LJ_NFT_CREATE, "lanjoin", "inbound", &v6, "lj1"),
			 -EINVAL);
	assert_int_equal(lj_nft_tx_jump(tx, LJ_NFT_CREATE, "lanjoin", "inbound", &a, "x;y"),
			 -EINVAL);
	assert_int_equal(lj_nft_tx_rule(tx, true, "filter", "FORWARD",
					&(struct lj_nft_rule){.iifname = longname}),
			 -EINVAL);
	assert_int_equal(
		lj_nft_tx_rule(tx, true, "filter", "FORWARD", &(struct lj_nft_rule){.saddr = &v6}),
		-EINVAL);
	assert_int_equal(
		lj_nft_tx_rule(tx, true, "filter", "FORWARD", &(struct lj_nft_rule){.dport = 80}),
		-EINVAL);
	memset(comment, 'c', sizeof(comment) - 1);
	comment[sizeof(comment) - 1] = '\0';
	assert_int_equal(lj_nft_tx_rule(tx, true, "filter", "FORWARD",
					&(struct lj_nft_rule){.comment = comment}),
			 -EINVAL);
	assert_int_equal(lj_nft_tx_size(tx), 11);
	/* The first refusal fails the commit, before any socket. */
	assert_int_equal(lj_nft_tx_commit(tx, true, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot build"));
	lj_nft_tx_free(tx);

	/* IPv6: addresses and interfaces, but no maps or NAT. */
	assert_int_equal(lj_nft_tx_new(NFPROTO_IPV6, &tx), 0);
	assert_int_equal(lj_nft_tx_rule(tx, true, "filter", "FORWARD",
					&(struct lj_nft_rule){.iifname = "veth0",
							      .saddr = &v6,
							      .counter = true,
							      .action = LJ_NFT_ACCEPT,
							      .comment = "lanjoin:0123456789ab"}),
			 0);
	assert_int_equal(lj_nft_tx_rule(tx, false, "filter", "FORWARD",
					&(struct lj_nft_rule){.action = LJ_NFT_DNAT, .nat = &a}),
			 -EINVAL);
	assert_int_equal(lj_nft_tx_size(tx), 1);
	lj_nft_tx_free(tx);
	lj_nft_tx_free(NULL);
}

static void test_nft_names(void **state)
{
	assert_true(lj_nft_name_valid("DOCKER-USER"));
	assert_true(lj_nft_name_valid("lj0123_pre"));
	assert_false(lj_nft_name_valid(""));
	assert_false(lj_nft_name_valid("0abc"));
	assert_false(lj_nft_name_valid("a\"b"));
	assert_false(lj_nft_name_valid("a b"));
	assert_false(lj_nft_name_valid("a;b"));
	assert_false(lj_nft_name_valid(NULL));
}

static void test_round_trip(void **state)
{
	struct lj_plan p = {0}, q = {0};
	struct lj_step *s;
	json_t *j;

	s = lj_plan_add(&p, &lj_step_ip_forward, LJ_HOST, "turn on IPv4 forwarding");
	s->u32 = 1;
	s = lj_plan_add(&p, &lj_step_nat_rules, LJ_HOST, "nat");
	nat_step(s, "tcp/80:80");
	s = lj_plan_add(&p, &lj_step_fw_accept, LJ_HOST, "fw");
	fw_step(s);
	s = lj_plan_add(&p, &lj_step_garp, LJ_HOST, "garp");
	snprintf(s->link, sizeof(s->link), "em1");
	assert_int_equal(lj_parse_cidr("198.51.100.117/24", true, &s->cidr), 0);

	j = lj_plan_to_json(&p);
	assert_non_null(j);
	assert_int_equal(lj_plan_from_json(j, &q), 0);
	assert_int_equal(q.n, 4);
	assert_ptr_equal(q.steps[0].type, &lj_step_ip_forward);
	assert_ptr_equal(q.steps[1].type, &lj_step_nat_rules);
	assert_string_equal(q.steps[1].text, "tcp/80:80");
	assert_string_equal(q.steps[1].link, "lj0123456789ab");
	assert_ptr_equal(q.steps[2].type, &lj_step_fw_accept);
	assert_string_equal(q.steps[2].master, "DOCKER-USER");
	assert_string_equal(q.steps[2].text, "lanjoin:0123456789ab");
	assert_ptr_equal(q.steps[3].type, &lj_step_garp);
	assert_non_null(lj_step_type_find("nft-nat"));
	assert_non_null(lj_step_type_find("nft-fw-accept"));
	assert_non_null(lj_step_type_find("ip-forward"));
	assert_non_null(lj_step_type_find("garp"));
	json_decref(j);
	lj_plan_free(&p);
	lj_plan_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nat_all_ports), cmocka_unit_test(test_nat_published),
		cmocka_unit_test(test_nat_snat_iif),  cmocka_unit_test(test_nat_rejects_bad_steps),
		cmocka_unit_test(test_fw_accept),     cmocka_unit_test(test_nft_names),
		cmocka_unit_test(test_nft_tx),	      cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
