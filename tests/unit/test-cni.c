/* SPDX-License-Identifier: MIT */
/* The CNI front end's parsers: environment, network configuration, IPAM results, results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"

static void clear_env(void)
{
	const char *vars[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
			      "CNI_IFNAME",  "CNI_PATH",	"CNI_ARGS"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static void set_add_env(void)
{
	clear_env();
	setenv("CNI_COMMAND", "ADD", 1);
	setenv("CNI_CONTAINERID", "c0ffee01", 1);
	setenv("CNI_NETNS", "/run/netns/c1", 1);
	setenv("CNI_IFNAME", "eth0", 1);
	setenv("CNI_PATH", "/usr/lib/cni", 1);
}

static void test_versions(void **state)
{
	assert_true(lj_cni_version_num("1.0.0") > lj_cni_version_num("0.4.0"));
	assert_true(lj_cni_version_num("1.1.0") > lj_cni_version_num("1.0.0"));
	assert_true(lj_cni_version_num("0.3.1") > lj_cni_version_num("0.3.0"));
	const char *bad[] = {"",	 "1",	 "1.0",	 "1.0.0.0", "a.b.c", "1.0.0-rc1",
			     "1000.0.0", "1..0", ".1.0", "1.0.",    "-1.0.0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lj_cni_version_num(bad[i]), -1);
	assert_true(lj_cni_version_supported("0.3.0"));
	assert_true(lj_cni_version_supported("1.1.0"));
	assert_false(lj_cni_version_supported("0.2.0"));
	assert_false(lj_cni_version_supported("1.0"));
}

static void test_env(void **state)
{
	struct lj_cni_env env;
	struct lj_cni_err err;

	set_add_env();
	assert_int_equal(lj_cni_env_parse(&env, &err), 0);
	assert_int_equal(env.cmd, LJ_CNI_ADD);
	assert_string_equal(env.container_id, "c0ffee01");

	/* every missing variable is named */
	unsetenv("CNI_NETNS");
	unsetenv("CNI_PATH");
	assert_int_equal(lj_cni_env_parse(&env, &err), LJ_CNI_E_ENV);
	assert_non_null(strstr(err.details, "CNI_NETNS"));
	assert_non_null(strstr(err.details, "CNI_PATH"));
	/* DEL may have an empty netns; STATUS needs nothing; VERSION nothing at all */
	set_add_env();
	setenv("CNI_COMMAND", "DEL", 1);
	setenv("CNI_NETNS", "", 1);
	assert_int_equal(lj_cni_env_parse(&env, &err), 0);
	assert_string_equal(env.netns, "");
	clear_env();
	setenv("CNI_COMMAND", "STATUS", 1);
	assert_int_equal(lj_cni_env_parse(&env, &err), 0);
	setenv("CNI_COMMAND", "VERSION", 1);
	assert_int_equal(lj_cni_env_parse(&env, &err), 0);
	setenv("CNI_COMMAND", "GC", 1);
	assert_int_equal(lj_cni_env_parse(&env, &err), LJ_CNI_E_ENV);
	setenv("CNI_COMMAND", "add", 1);
	assert_int_equal(lj_cni_env_parse(&env, &err), LJ_CNI_E_ENV);
	assert_string_equal(err.msg, "unknown CNI_COMMAND: add");

	const struct {
		const char *var, *value;
	} bad[] = {
		{"CNI_CONTAINERID", "-x"},    {"CNI_CONTAINERID", "a/b"},
		{"CNI_CONTAINERID", "a b"},   {"CNI_CONTAINERID", "a\nb"},
		{"CNI_IFNAME", "."},	      {"CNI_IFNAME", ".."},
		{"CNI_IFNAME", "a/b"},	      {"CNI_IFNAME", "a:b"},
		{"CNI_IFNAME", "a b"},	      {"CNI_IFNAME", "0123456789abcdef"},
		{"CNI_NETNS", "run/netns/x"}, {"CNI_NETNS", "/run/netns/\x01"},
		{"CNI_ARGS", "K8S_POD_NAME"}, {"CNI_ARGS", "=x"},
		{"CNI_ARGS", "A=b=c"},	      {"CNI_ARGS", "MAC=01:00:5e:00:00:01"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_add_env();
		setenv(bad[i].var, bad[i].value, 1);
		assert_int_equal(lj_cni_env_parse(&env, &err), LJ_CNI_E_ENV);
	}
	char *longid = malloc(300);
	memset(longid, 'a', 299);
	longid[299] = '\0';
	set_add_env();
	setenv("CNI_CONTAINERID", longid, 1);
	assert_int_equal(lj_cni_env_parse(&env, &err), LJ_CNI_E_ENV);
	free(longid);

	set_add_env();
	setenv("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=web;MAC=02:00:c6:33:64:0a;;", 1);
	assert_int_equal(lj_cni_env_parse(&env, &err), 0);
	assert_true(env.has_args_mac);
	assert_int_equal(env.args_mac[5], 0x0a);
	clear_env();
}

/* Parse text for cmd with a default ADD environment; returns the code. */
static int parse(const char *text, enum lj_cni_cmd cmd, struct lj_cni_conf *c)
{
	struct lj_cni_env env = {0};
	struct lj_cni_err err = {0};
	int r;

	r = lj_cni_conf_parse(text, strlen(text), cmd, &env, c, &err);
	if (r)
		print_message("code %d: %s: %s\n", r, err.msg, err.details);
	return r;
}

#define BR "{\"cniVersion\":\"1.0.0\",\"name\":\"lan\",\"type\":\"lanjoin\",\"mode\":\"bridge\""

static void test_conf_modes(void **state)
{
	struct lj_cni_conf c;

	assert_int_equal(
		parse(BR ",\"bridge\":\"br0\",\"mtu\":1400,\"ipam\":{\"type\":\"host-local\"},"
			 "\"someOtherKey\":[1,2]}",
		      LJ_CNI_ADD, &c),
		0);
	assert_int_equal(c.way, LJ_WAY_BRIDGE);
	assert_string_equal(c.opts.bridge, "br0");
	assert_int_equal(c.opts.mtu, 1400);
	assert_string_equal(c.ipam_type, "host-local");
	assert_string_equal(c.name, "lan");
	assert_string_equal(c.version, "1.0.0");
	assert_true(c.opts.no_conflict_check);
	lj_cni_conf_free(&c);
	assert_int_equal(parse(BR ",\"conflictCheck\":true}", LJ_CNI_ADD, &c), 0);
	assert_false(c.opts.no_conflict_check);
	lj_cni_conf_free(&c);
	assert_int_equal(parse(BR ",\"conflictCheck\":1}", LJ_CNI_ADD, &c), LJ_CNI_E_CONFIG);
	/* the default bridge; no IPAM */
	assert_int_equal(parse(BR ",\"ipam\":{}}", LJ_CNI_ADD, &c), 0);
	assert_string_equal(c.opts.bridge, "cni0");
	assert_string_equal(c.ipam_type, "");
	lj_cni_conf_free(&c);

	assert_int_equal(parse("{\"cniVersion\":\"0.4.0\",\"name\":\"o\",\"mode\":\"ovs\","
			       "\"bridge\":\"br-em1\",\"vlan\":10,\"ovsdb\":\"unix:/run/x.sock\"}",
			       LJ_CNI_ADD, &c),
			 0);
	assert_int_equal(c.way, LJ_WAY_OVS);
	assert_int_equal(c.opts.vlan, 10);
	assert_string_equal(c.opts.ovsdb, "unix:/run/x.sock");
	lj_cni_conf_free(&c);

	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"m\",\"mode\":\"macvlan\","
			       "\"master\":\"em1\",\"macvlanMode\":\"vepa\","
			       "\"hostShim\":\"198.51.100.75/32\"}",
			       LJ_CNI_ADD, &c),
			 0);
	assert_int_equal(c.way, LJ_WAY_MACVLAN);
	assert_string_equal(c.opts.parent, "em1");
	assert_int_equal(c.opts.macvlan_mode, MACVLAN_MODE_VEPA);
	assert_int_equal(c.opts.host_shim.prefixlen, 32);
	lj_cni_conf_free(&c);
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"m\",\"mode\":\"macvlan\","
			       "\"parent\":\"em1\"}",
			       LJ_CNI_ADD, &c),
			 0);
	assert_string_equal(c.opts.parent, "em1");
	lj_cni_conf_free(&c);

	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"nat\","
			       "\"uplink\":\"em1\",\"address\":\"198.51.100.117/24\","
			       "\"publish\":[\"80\",\"udp/53:5353\"],"
			       "\"capabilities\":{\"portMappings\":true},"
			       "\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":8080,"
			       "\"containerPort\":80,\"protocol\":\"tcp\",\"hostIP\":\"\"}]}}",
			       LJ_CNI_ADD, &c),
			 0);
	assert_int_equal(c.way, LJ_WAY_NAT);
	assert_true(c.has_address);
	assert_int_equal(c.opts.n_publish, 3);
	assert_int_equal(c.opts.publish[1].proto, IPPROTO_UDP);
	assert_int_equal(c.opts.publish[1].cport, 5353);
	assert_int_equal(c.opts.publish[2].port, 8080);
	assert_int_equal(c.opts.publish[2].cport, 80);
	lj_cni_conf_free(&c);
}

static void test_conf_bad(void **state)
{
	struct lj_cni_conf c;
	const struct {
		int code;
		const char *text;
	} cases[] = {
		{LJ_CNI_E_DECODE, ""},
		{LJ_CNI_E_DECODE, "null"},
		{LJ_CNI_E_DECODE, "[]"},
		{LJ_CNI_E_DECODE, "{"},
		{LJ_CNI_E_DECODE, BR "} trailing"},
		{LJ_CNI_E_DECODE, BR ",\"mode\":\"bridge\"}"},
		{LJ_CNI_E_DECODE, "{\"cniVersion\":1.0}"},
		{LJ_CNI_E_VERSION, "{\"name\":\"x\",\"mode\":\"bridge\"}"},
		{LJ_CNI_E_VERSION, "{\"cniVersion\":\"0.2.0\",\"name\":\"x\",\"mode\":\"bridge\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"mode\":\"bridge\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"\",\"mode\":\"bridge\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\".x\",\"mode\":\"bridge\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"x\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"mode\":\"ipvlan\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"mode\":1}"},
		{LJ_CNI_E_CONFIG, BR ",\"bridge\":\"a/b\"}"},
		{LJ_CNI_E_CONFIG, BR ",\"bridge\":\"0123456789abcdef\"}"},
		{LJ_CNI_E_CONFIG, BR ",\"mtu\":67}"},
		{LJ_CNI_E_CONFIG, BR ",\"mtu\":65536}"},
		{LJ_CNI_E_CONFIG, BR ",\"mtu\":1500.5}"},
		{LJ_CNI_E_CONFIG, BR ",\"mtu\":-1}"},
		{LJ_CNI_E_CONFIG, BR ",\"ipam\":[]}"},
		{LJ_CNI_E_CONFIG, BR ",\"ipam\":{\"type\":\"../bin/sh\"}}"},
		{LJ_CNI_E_CONFIG, BR ",\"ipam\":{\"type\":\"..\"}}"},
		{LJ_CNI_E_CONFIG, BR ",\"ipam\":{\"type\":7}}"},
		{LJ_CNI_E_CONFIG, BR ",\"dns\":[]}"},
		{LJ_CNI_E_DECODE, BR ",\"prevResult\":1}"},
		{LJ_CNI_E_CONFIG, BR ",\"runtimeConfig\":{\"mac\":\"00:00:00:00:00:00\"}}"},
		{LJ_CNI_E_CONFIG, BR ",\"runtimeConfig\":{\"ips\":\"198.51.100.1/24\"}}"},
		{LJ_CNI_E_CONFIG, BR ",\"args\":{\"cni\":{\"ips\":[\"x\"]}}}"},
		{LJ_CNI_E_CONFIG, BR ",\"capabilities\":[]}"},
		{LJ_CNI_E_UNSUPPORTED, BR ",\"isGateway\":true}"},
		{LJ_CNI_E_UNSUPPORTED, BR ",\"hairpinMode\":1}"},
		{LJ_CNI_E_UNSUPPORTED, BR ",\"master\":\"em1\"}"},
		{LJ_CNI_E_UNSUPPORTED, BR ",\"publish\":[]}"},
		{LJ_CNI_E_UNSUPPORTED, BR ",\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":80,"
					  "\"containerPort\":80}]}}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"o\",\"mode\":\"ovs\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"o\",\"mode\":\"ovs\","
				  "\"bridge\":\"b\",\"vlan\":4095}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"o\",\"mode\":\"ovs\","
				  "\"bridge\":\"b\",\"ovsdb\":\"tcp:1.2.3.4:6640\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"m\",\"mode\":\"macvlan\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"m\",\"mode\":\"macvlan\","
				  "\"master\":\"a\",\"parent\":\"b\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"m\",\"mode\":\"macvlan\","
				  "\"master\":\"a\",\"macvlanMode\":\"source\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"nat\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"nat\","
				  "\"uplink\":\"em1\",\"address\":\"2001:db8::1/64\"}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"nat\","
				  "\"uplink\":\"em1\",\"publish\":[\"tcp/0\"]}"},
		{LJ_CNI_E_CONFIG,
		 "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"nat\","
		 "\"uplink\":\"em1\",\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":"
		 "70000,\"containerPort\":80}]}}"},
		{LJ_CNI_E_CONFIG, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"nat\","
				  "\"uplink\":\"em1\",\"publish\":[\"80\"],\"runtimeConfig\":{"
				  "\"portMappings\":[{\"hostPort\":80,\"containerPort\":8080}]}}"},
		{LJ_CNI_E_UNSUPPORTED,
		 "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"nat\","
		 "\"uplink\":\"em1\",\"runtimeConfig\":{\"portMappings\":[{"
		 "\"hostPort\":80,\"containerPort\":80,\"protocol\":\"sctp\"}]}}"},
		{LJ_CNI_E_UNSUPPORTED, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"nat\","
				       "\"uplink\":\"em1\",\"ipam\":{\"type\":\"dhcp\"}}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu: %s\n", i, cases[i].text);
		assert_int_equal(parse(cases[i].text, LJ_CNI_ADD, &c), cases[i].code);
	}
}

static void test_conf_commands(void **state)
{
	struct lj_cni_conf c;

	/* CHECK from 0.4.0, STATUS and GC from 1.1.0 */
	assert_int_equal(parse("{\"cniVersion\":\"0.3.1\",\"name\":\"x\",\"mode\":\"bridge\"}",
			       LJ_CNI_CHECK, &c),
			 LJ_CNI_E_VERSION);
	assert_int_equal(parse(BR "}", LJ_CNI_STATUS, &c), LJ_CNI_E_VERSION);
	assert_int_equal(parse(BR "}", LJ_CNI_GC, &c), LJ_CNI_E_VERSION);
	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"mode\":\"bridge\"}",
			       LJ_CNI_STATUS, &c),
			 0);
	lj_cni_conf_free(&c);
	/* GC needs a well-formed list, the newer key first */
	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"mode\":\"bridge\"}",
			       LJ_CNI_GC, &c),
			 LJ_CNI_E_CONFIG);
	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"mode\":\"bridge\","
			       "\"cni.dev/valid-attachments\":[{\"containerID\":\"-\",\"ifname\":"
			       "\"eth0\"}]}",
			       LJ_CNI_GC, &c),
			 LJ_CNI_E_CONFIG);
	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"mode\":\"bridge\","
			       "\"cni.dev/valid-attachments\":[{\"containerID\":\"a\"}]}",
			       LJ_CNI_GC, &c),
			 LJ_CNI_E_CONFIG);
	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"mode\":\"bridge\","
			       "\"cni.dev/valid-attachments\":[{\"containerID\":\"a\",\"ifname\":"
			       "\"eth0\"}],\"cni.dev/attachments\":[]}",
			       LJ_CNI_GC, &c),
			 0);
	assert_int_equal(json_array_size(c.valid), 1);
	lj_cni_conf_free(&c);
	assert_int_equal(parse("{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"mode\":\"bridge\","
			       "\"cni.dev/attachments\":[]}",
			       LJ_CNI_GC, &c),
			 0);
	assert_int_equal(json_array_size(c.valid), 0);
	lj_cni_conf_free(&c);
}

static void test_conf_del_lenient(void **state)
{
	struct lj_cni_conf c;

	/* what made ADD fail must not make the DEL that follows it fail */
	const char *ok[] = {
		BR ",\"isGateway\":true,\"ipam\":{\"type\":\"host-local\"}}",
		"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"mode\":\"ipvlan\"}",
		BR ",\"runtimeConfig\":{\"mac\":\"zz\"},\"prevResult\":7,\"dns\":[]}",
		/* one string in two pieces (the parentheses tell clang so) */
		("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"nat\",\"ipam\":{\"type\":"
		 "\"dhcp\"}}"),
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_not_equal(parse(ok[i], LJ_CNI_ADD, &c), 0);
		assert_int_equal(parse(ok[i], LJ_CNI_DEL, &c), 0);
		assert_null(c.prev_result);
		lj_cni_conf_free(&c);
	}
	assert_int_equal(parse(ok[0], LJ_CNI_DEL, &c), 0);
	assert_string_equal(c.ipam_type, "host-local");
	lj_cni_conf_free(&c);
	/* but what DEL needs must be right */
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"a/b\",\"mode\":\"bridge\"}",
			       LJ_CNI_DEL, &c),
			 LJ_CNI_E_CONFIG);
	assert_int_equal(parse(BR ",\"ipam\":{\"type\":\"../x\"}}", LJ_CNI_DEL, &c),
			 LJ_CNI_E_CONFIG);
	assert_int_equal(parse("{\"cniVersion\":\"0.2.0\",\"name\":\"x\"}", LJ_CNI_DEL, &c),
			 LJ_CNI_E_VERSION);
}

static void test_conf_runtime(void **state)
{
	struct lj_cni_env env = {.has_args_mac = true, .args_mac = {2, 0, 0, 0, 0, 1}};
	struct lj_cni_err err;
	struct lj_cni_conf c;
	const char *t;

	/* runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC */
	t = BR ",\"runtimeConfig\":{\"mac\":\"02:00:00:00:00:03\",\"ips\":[\"198.51.100.5/24\","
	       "\"2001:db8::5\"]},\"args\":{\"cni\":{\"mac\":\"02:00:00:00:00:02\"}}}";
	assert_int_equal(lj_cni_conf_parse(t, strlen(t), LJ_CNI_ADD, &env, &c, &err), 0);
	assert_int_equal(c.opts.mac[5], 3);
	assert_int_equal(c.n_rt_ips, 2);
	assert_int_equal(c.rt_ips[1].prefixlen, 128);
	lj_cni_conf_free(&c);
	/* capabilities present without mac: runtimeConfig.mac is not ours */
	t = BR ",\"capabilities\":{\"ips\":true},\"runtimeConfig\":{\"mac\":\"02:00:00:00:00:03\"},"
	       "\"args\":{\"cni\":{\"mac\":\"02:00:00:00:00:02\"}}}";
	assert_int_equal(lj_cni_conf_parse(t, strlen(t), LJ_CNI_ADD, &env, &c, &err), 0);
	assert_int_equal(c.opts.mac[5], 2);
	lj_cni_conf_free(&c);
	t = BR "}";
	assert_int_equal(lj_cni_conf_parse(t, strlen(t), LJ_CNI_ADD, &env, &c, &err), 0);
	assert_true(c.opts.has_mac);
	assert_int_equal(c.opts.mac[5], 1);
	lj_cni_conf_free(&c);
}

static void test_ipam_parse(void **state)
{
	struct lj_cni_ipam ip;
	struct lj_cni_err err;
	json_t *j;

	j = json_loads("{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":"
		       "\"198.51.100.5/24\",\"gateway\":\"198.51.100.254\"},{\"address\":"
		       "\"2001:db8::5/64\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"dst\":"
		       "\"203.0.113.7/24\",\"gw\":\"198.51.100.1\"}],\"dns\":{\"nameservers\":"
		       "[\"198.51.100.254\",\"bogus\"],\"search\":[\"lab\"],\"x\":1}}",
		       0, NULL);
	assert_int_equal(lj_cni_ipam_parse(j, &ip, &err), 0);
	assert_int_equal(ip.n_ips, 2);
	assert_int_equal(ip.ip_gw[0].family, AF_INET);
	assert_int_equal(ip.ip_gw[1].family, AF_UNSPEC);
	assert_int_equal(ip.n_routes, 2);
	/* a route destination is a network: host bits cleared */
	assert_int_equal(ip.routes[1].dst.ip.bytes[3], 0);
	assert_int_equal(json_array_size(json_object_get(ip.dns, "nameservers")), 1);
	assert_null(json_object_get(ip.dns, "x"));
	lj_cni_ipam_free(&ip);
	json_decref(j);

	const char *bad[] = {
		"[]",
		"{\"ips\":{}}",
		"{\"ips\":[{\"address\":\"198.51.100.5\"}]}",
		"{\"ips\":[{\"address\":\"198.51.100.5/24\",\"gateway\":\"2001:db8::1\"}]}",
		"{\"ips\":[{\"address\":\"198.51.100.5/24\"},{\"address\":\"198.51.100.5/25\"}]}",
		"{\"routes\":[{\"dst\":\"x\"}]}",
		"{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"2001:db8::1\"}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json_loads(bad[i], 0, NULL);
		assert_int_equal(lj_cni_ipam_parse(j, &ip, &err), LJ_CNI_E_IPAM);
		json_decref(j);
	}
}

static void test_result_versions(void **state)
{
	struct lj_cni_result r = {0};
	json_t *j;

	snprintf(r.ifaces[0].name, IFNAMSIZ, "br0");
	snprintf(r.ifaces[1].name, IFNAMSIZ, "eth0");
	snprintf(r.ifaces[1].mac, sizeof(r.ifaces[1].mac), "02:00:00:00:00:01");
	r.ifaces[1].mtu = 1500;
	r.ifaces[1].sandbox = "/run/netns/c1";
	r.n_ifaces = 2;
	lj_parse_cidr("198.51.100.5/24", true, &r.ips[0].addr);
	lj_parse_ip("198.51.100.254", &r.ips[0].gw);
	r.ips[0].iface = 1;
	r.n_ips = 1;
	lj_parse_cidr("0.0.0.0/0", true, &r.routes[0].dst);
	r.n_routes = 1;

	j = lj_cni_result_json(&r, "0.4.0");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "ips"), 0), "version")),
			    "4");
	assert_null(json_object_get(json_array_get(json_object_get(j, "interfaces"), 1), "mtu"));
	json_decref(j);
	j = lj_cni_result_json(&r, "1.0.0");
	assert_null(json_object_get(json_array_get(json_object_get(j, "ips"), 0), "version"));
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(j, "ips"), 0), "interface")),
			 1);
	assert_null(json_object_get(json_array_get(json_object_get(j, "interfaces"), 1), "mtu"));
	json_decref(j);
	j = lj_cni_result_json(&r, "1.1.0");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(j, "interfaces"), 1), "mtu")),
			 1500);
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(j, "interfaces"), 1), "sandbox")),
		"/run/netns/c1");
	assert_null(
		json_object_get(json_array_get(json_object_get(j, "interfaces"), 0), "sandbox"));
	assert_true(json_is_object(json_object_get(j, "dns")));
	json_decref(j);
}

/* Mutations of a valid configuration never crash and either parse or give a spec code. */
static void test_conf_mutations(void **state)
{
	const char *seed = "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"mode\":\"nat\",\"uplink\":"
			   "\"em1\",\"address\":\"198.51.100.7/24\",\"publish\":[\"80:8080\"],"
			   "\"ipam\":{\"type\":\"host-local\"},\"runtimeConfig\":{\"mac\":"
			   "\"02:00:00:00:00:01\",\"portMappings\":[{\"hostPort\":81,"
			   "\"containerPort\":80}]},\"cni.dev/valid-attachments\":[]}";
	size_t len = strlen(seed);
	char *buf = malloc(len + 1);
	uint32_t x = 12345;

	for (int round = 0; round < 20000; round++) {
		struct lj_cni_conf c;
		struct lj_cni_err err;
		int r;

		memcpy(buf, seed, len + 1);
		for (int k = 0; k < 1 + round % 4; k++) {
			x = x * 1103515245 + 12345;
			buf[(x >> 8) % len] = (char)(x >> 20);
		}
		r = lj_cni_conf_parse(buf, len, (enum lj_cni_cmd)(round % 6 == 3 ? 0 : round % 6),
				      NULL, &c, &err);
		if (r == 0)
			lj_cni_conf_free(&c);
		else
			assert_true(r == 1 || r == 2 || r == 6 || r == 7);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),	 cmocka_unit_test(test_env),
		cmocka_unit_test(test_conf_modes),	 cmocka_unit_test(test_conf_bad),
		cmocka_unit_test(test_conf_commands),	 cmocka_unit_test(test_conf_runtime),
		cmocka_unit_test(test_conf_del_lenient), cmocka_unit_test(test_ipam_parse),
		cmocka_unit_test(test_result_versions),	 cmocka_unit_test(test_conf_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
