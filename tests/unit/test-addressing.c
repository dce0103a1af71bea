/* SPDX-License-Identifier: MIT */
/* Unit tests of the addressing helpers that need no root: stable MACs, DHCP host names and
 * client names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "lib/foreign/dhcp.h"
#include "shared/name.h"

static void test_mac_from_name(void **state)
{
	uint8_t a[6], b[6], c[6];

	assert_int_equal(lj_mac_from_name("web", a), 0);
	assert_int_equal(lj_mac_from_name("web", b), 0);
	assert_memory_equal(a, b, 6);	     /* stable */
	assert_int_equal(a[0] & 0x01, 0);    /* unicast */
	assert_int_equal(a[0] & 0x02, 0x02); /* locally administered */
	assert_int_equal(lj_mac_from_name("web2", c), 0);
	assert_memory_not_equal(a, c, 6);
	assert_int_equal(lj_mac_from_name("", a), -EINVAL);
	assert_int_equal(lj_mac_from_name("a\nb", a), -EINVAL);
	char long_name[300];
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(lj_mac_from_name(long_name, a), -EINVAL);
}

static void test_dhcp_hostname(void **state)
{
	char h[64];

	assert_true(lj_dhcp_hostname("web", h));
	assert_string_equal(h, "web");
	assert_true(lj_dhcp_hostname("my_app.v2", h));
	assert_string_equal(h, "my-app-v2");
	assert_true(lj_dhcp_hostname("--x--", h));
	assert_string_equal(h, "x");
	assert_false(lj_dhcp_hostname("___", h));
	assert_false(lj_dhcp_hostname("", h));
	char big[200];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_true(lj_dhcp_hostname(big, h));
	assert_int_equal(strlen(h), 63);
	/* shell and option metacharacters never survive */
	assert_true(lj_dhcp_hostname("a\";rm -rf /;\"b", h));
	assert_null(strpbrk(h, "\";/ "));
}

static void test_dhcp_kind(void **state)
{
	enum lj_dhcp_kind k;

	assert_int_equal(lj_dhcp_kind_parse("udhcpc", &k), 0);
	assert_int_equal(k, LJ_DHCP_UDHCPC);
	assert_int_equal(lj_dhcp_kind_parse("dhclient", &k), 0);
	assert_int_equal(k, LJ_DHCP_DHCLIENT);
	assert_int_equal(lj_dhcp_kind_parse("dhcpcd", &k), 0);
	assert_int_equal(k, LJ_DHCP_DHCPCD);
	assert_int_equal(lj_dhcp_kind_parse("pump", &k), -EINVAL);
	assert_int_equal(lj_dhcp_kind_parse(NULL, &k), -EINVAL);
	assert_string_equal(lj_dhcp_kind_name(LJ_DHCP_DHCPCD), "dhcpcd");
	char path[64];
	assert_int_equal(lj_dhcp_find_client("pump", &k, path, sizeof(path)), -EINVAL);
}

/* A udhcpc-style hook environment: ip and mask from a static table. */
static const char *lease_env_ip;
static const char *lease_env(const char *name, void *data)
{
	if (strcmp(name, "ip") == 0)
		return lease_env_ip;
	if (strcmp(name, "mask") == 0)
		return "24";
	return NULL;
}

/* A lease may not give what --ip refuses (lj_ip_unicast_problem). */
static void test_dhcp_lease_refused(void **state)
{
	static const char *const bad[] = {"198.51.100.255", "198.51.100.0", "127.0.0.1",
					  "224.0.0.1",	    "240.0.0.1",    "0.0.0.1",
					  "255.255.255.255"};
	struct lj_dhcp_lease l;
	char why[256];

	lease_env_ip = "198.51.100.117";
	assert_int_equal(
		lj_dhcp_lease_from_env(LJ_DHCP_UDHCPC, lease_env, NULL, &l, why, sizeof(why)), 0);
	assert_int_equal(l.addr.prefixlen, 24);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lease_env_ip = bad[i];
		why[0] = '\0';
		assert_int_equal(lj_dhcp_lease_from_env(LJ_DHCP_UDHCPC, lease_env, NULL, &l, why,
							sizeof(why)),
				 -EINVAL);
		assert_non_null(strstr(why, bad[i]));
	}
	lease_env_ip = "198.51.100.255";
	lj_dhcp_lease_from_env(LJ_DHCP_UDHCPC, lease_env, NULL, &l, why, sizeof(why));
	assert_string_equal(why, "the server offered 198.51.100.255/24, which is the broadcast "
				 "address of its subnet");
}

/* dhcpcd -6's hook environment: the IA_NA address, its valid lifetime, the DNS servers. */
static const char *lease6_env(const char *name, void *data)
{
	if (strcmp(name, "new_dhcp6_ia_na1_ia_addr1") == 0)
		return lease_env_ip;
	if (strcmp(name, "new_dhcp6_ia_na1_ia_addr1_vltime") == 0)
		return "120";
	if (strcmp(name, "new_dhcp6_name_servers") == 0)
		return "2001:db8:1::fe 198.51.100.1 2001:db8:1::53";
	return NULL;
}

/* A DHCPv6 lease: a /128, its lifetime and IPv6 DNS servers; never a non-unicast address. */
static void test_dhcp6_lease(void **state)
{
	static const char *const bad[] = {
		"fe80::1",	  "ff02::1:2",	 "::", "::1", "::ffff:198.51.100.1",
		"198.51.100.117", "2001:db8::zz"};
	struct lj_dhcp_lease l;
	char why[256], a[LJ_CIDR_STRLEN];

	lease_env_ip = "2001:db8:1::1234";
	assert_int_equal(lj_dhcp6_lease_from_env(lease6_env, NULL, &l, why, sizeof(why)), 0);
	assert_string_equal(lj_cidr_to_string(&l.addr, a, sizeof(a)), "2001:db8:1::1234/128");
	assert_int_equal(l.lease_s, 120);
	assert_int_equal(l.router.family, AF_UNSPEC);
	assert_int_equal(l.n_dns, 2); /* the IPv4 one is dropped */
	assert_string_equal(lj_ip_to_string(&l.dns[1], a, sizeof(a)), "2001:db8:1::53");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lease_env_ip = bad[i];
		why[0] = '\0';
		assert_int_equal(lj_dhcp6_lease_from_env(lease6_env, NULL, &l, why, sizeof(why)),
				 -EINVAL);
		assert_true(why[0] != '\0');
	}
	lease_env_ip = "fe80::1";
	lj_dhcp6_lease_from_env(lease6_env, NULL, &l, why, sizeof(why));
	assert_string_equal(why, "the server offered fe80::1, which is a link-local address");
	/* only dhcpcd does DHCPv6 here */
	enum lj_dhcp_kind k;
	assert_int_equal(lj_dhcp6_find_client("udhcpc", &k, a, sizeof(a)), -EOPNOTSUPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_from_name), cmocka_unit_test(test_dhcp_hostname),
		cmocka_unit_test(test_dhcp_kind),     cmocka_unit_test(test_dhcp_lease_refused),
		cmocka_unit_test(test_dhcp6_lease),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
