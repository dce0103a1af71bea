/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "shared/parse.h"
#include "shared/shquote.h"

static void test_cidr(void **state)
{
	struct lj_cidr c;
	char buf[LJ_CIDR_STRLEN];

	assert_int_equal(lj_parse_cidr("198.51.100.117/24", true, &c), 0);
	assert_int_equal(c.ip.family, AF_INET);
	assert_int_equal(c.prefixlen, 24);
	assert_string_equal(lj_cidr_to_string(&c, buf, sizeof(buf)), "198.51.100.117/24");
	assert_int_equal(lj_parse_cidr("2001:db8:1::117/64", true, &c), 0);
	assert_int_equal(c.ip.family, AF_INET6);
	assert_int_equal(c.prefixlen, 64);
	assert_int_equal(lj_parse_cidr("198.51.100.1", false, &c), 0);
	assert_int_equal(c.prefixlen, 32);

	const char *bad[] = {"",
			     "198.51.100.117",
			     "198.51.100.117/33",
			     "198.51.100.117/",
			     "198.51.100.117/-1",
			     "198.51.100.256/24",
			     "2001:db8::/129",
			     "abc/24",
			     "198.51.100.117/24/1",
			     "198.51.100.117/024x",
			     " 198.51.100.1/24",
			     "198.51.100.117/99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(lj_parse_cidr(bad[i], true, &c), 0);
	assert_int_not_equal(lj_parse_cidr(NULL, true, &c), 0);
}

static void test_route(void **state)
{
	struct lj_route_spec r;
	char buf[LJ_IP_STRLEN];

	assert_int_equal(lj_parse_route("203.0.113.0/24@198.51.100.254", &r), 0);
	assert_int_equal(r.dst.prefixlen, 24);
	assert_string_equal(lj_ip_to_string(&r.via, buf, sizeof(buf)), "198.51.100.254");
	assert_int_equal(lj_parse_route("203.0.113.0/24", &r), 0);
	assert_int_equal(r.via.family, AF_UNSPEC);
	assert_int_equal(lj_parse_route("default@2001:db8:1::fe", &r), 0);
	assert_int_equal(r.dst.ip.family, AF_INET6);
	assert_int_equal(r.dst.prefixlen, 0);
	/* host bits set, mixed families, bare default, junk */
	assert_int_not_equal(lj_parse_route("203.0.113.5/24", &r), 0);
	assert_int_not_equal(lj_parse_route("203.0.113.0/24@2001:db8::1", &r), 0);
	assert_int_not_equal(lj_parse_route("default", &r), 0);
	assert_int_not_equal(lj_parse_route("203.0.113.0/24@", &r), 0);
	assert_int_not_equal(lj_parse_route("@198.51.100.1", &r), 0);
}

static void test_mac(void **state)
{
	uint8_t mac[LJ_MAC_LEN];
	char buf[LJ_MAC_STRLEN];

	assert_int_equal(lj_parse_mac("02:42:c6:33:64:75", mac), 0);
	assert_string_equal(lj_mac_to_string(mac, buf, sizeof(buf)), "02:42:c6:33:64:75");
	assert_int_equal(lj_parse_mac("02-42-C6-33-64-75", mac), 0);
	assert_string_equal(lj_mac_to_string(mac, buf, sizeof(buf)), "02:42:c6:33:64:75");
	const char *bad[] = {"",
			     "02:42:c6:33:64",
			     "02:42:c6:33:64:7",
			     "02:42:c6:33:64:755",
			     "01:00:5e:00:00:01" /* multicast */,
			     "00:00:00:00:00:00",
			     "02:42:c6:33:64:zz",
			     "02.42.c6.33.64.75",
			     "ff:ff:ff:ff:ff:ff"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(lj_parse_mac(bad[i], mac), 0);
}

static void test_ifname(void **state)
{
	assert_true(lj_ifname_valid("eth1"));
	assert_true(lj_ifname_valid("abcdefghijklmno"));   /* 15 */
	assert_false(lj_ifname_valid("abcdefghijklmnop")); /* 16 */
	assert_false(lj_ifname_valid(""));
	assert_false(lj_ifname_valid("."));
	assert_false(lj_ifname_valid(".."));
	assert_false(lj_ifname_valid("a/b"));
	assert_false(lj_ifname_valid("a b"));
	assert_false(lj_ifname_valid("a:b"));
	assert_false(lj_ifname_valid("a\tb"));
	assert_false(lj_ifname_valid("a\xc3\xa9"));
	assert_false(lj_ifname_valid(NULL));
	assert_false(lj_ifname_valid("all"));
	assert_false(lj_ifname_valid("default"));
	assert_false(lj_ifname_valid("eth%d"));
}

static void test_uint_publish(void **state)
{
	uint64_t v;
	struct lj_publish p;

	assert_int_equal(lj_parse_uint("1500", 68, 65535, &v), 0);
	assert_int_equal(v, 1500);
	assert_int_not_equal(lj_parse_uint("67", 68, 65535, &v), 0);
	assert_int_not_equal(lj_parse_uint("-1", 0, 10, &v), 0);
	assert_int_not_equal(lj_parse_uint("18446744073709551616", 0, UINT64_MAX, &v), 0);
	assert_int_not_equal(lj_parse_uint("1x", 0, 10, &v), 0);

	assert_int_equal(lj_parse_publish("80", &p), 0);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.port, 80);
	assert_int_equal(p.cport, 80);
	assert_int_equal(lj_parse_publish("udp/53:5353", &p), 0);
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.port, 53);
	assert_int_equal(p.cport, 5353);
	const char *bad[] = {"",    "0",   "65536",    "sctp/80",  "tcp/",
			     "80:", ":80", "tcp/80:0", "80:65536", "tcp80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(lj_parse_publish(bad[i], &p), 0);
}

static void test_unicast(void **state)
{
	static const char *const bad[] = {"0.0.0.0/0",
					  "198.51.100.0/24",
					  "198.51.100.255/24",
					  "224.0.0.1/24",
					  "127.0.0.5/8",
					  "255.255.255.255/32",
					  "::/128",
					  "::1/128",
					  "ff02::1/64",
					  "::ffff:1.2.3.4/96",
					  "2001:db8:1::/64",
					  "2001:db8::100/120"};
	static const char *const good[] = {
		"198.51.100.117/24", "198.51.100.0/31", "198.51.100.255/32", "2001:db8::1/64",
		"fe80::1/64",	     "2001:db8::/127",	"2001:db8::/128",    "2001:db8::101/120"};
	struct lj_cidr c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(lj_parse_cidr(bad[i], true, &c), 0);
		assert_non_null(lj_ip_unicast_problem(&c.ip, c.prefixlen));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(lj_parse_cidr(good[i], true, &c), 0);
		assert_null(lj_ip_unicast_problem(&c.ip, c.prefixlen));
	}
}

static void test_contains(void **state)
{
	struct lj_cidr c;
	struct lj_ip ip;

	lj_parse_cidr("198.51.100.117/24", true, &c);
	lj_parse_ip("198.51.100.254", &ip);
	assert_true(lj_cidr_contains(&c, &ip));
	lj_parse_ip("198.51.101.254", &ip);
	assert_false(lj_cidr_contains(&c, &ip));
	lj_parse_cidr("198.51.100.117/25", true, &c);
	lj_parse_ip("198.51.100.254", &ip);
	assert_false(lj_cidr_contains(&c, &ip));
	lj_parse_ip("2001:db8::1", &ip);
	assert_false(lj_cidr_contains(&c, &ip));
}

static void test_shell_quote(void **state)
{
	char b[16];

	assert_string_equal(LJ_SHQ("eth1"), "eth1");
	assert_string_equal(LJ_SHQ("/run/netns/a-b_c.d"), "/run/netns/a-b_c.d");
	assert_string_equal(LJ_SHQ(""), "''");
	assert_string_equal(LJ_SHQ("w$(id>&2)"), "'w$(id>&2)'");
	assert_string_equal(LJ_SHQ("it's"), "'it'\\''s'");
	assert_string_equal(LJ_SHQ("a\nb"), "'a?b'");
	assert_string_equal(lj_shell_quote("0123456789 abcdef", b, sizeof(b)), "'<too-long>'");
	assert_string_equal(LJ_SHC("x\n rm -rf /"), "x? rm -rf /");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr),	     cmocka_unit_test(test_route),
		cmocka_unit_test(test_mac),	     cmocka_unit_test(test_ifname),
		cmocka_unit_test(test_uint_publish), cmocka_unit_test(test_contains),
		cmocka_unit_test(test_unicast),	     cmocka_unit_test(test_shell_quote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
