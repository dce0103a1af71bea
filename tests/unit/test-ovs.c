/* SPDX-License-Identifier: MIT */
/*
 * ovs.c without Open vSwitch: a fake ovs-vsctl (a script in a temporary directory, named by
 * $LANJOIN_OVS_VSCTL) records its argv and environment and answers with canned output, so
 * the command lines, the environment, the JSON parsing and the error mapping are checked.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/foreign/ovs.h"
#include "lib/steps/ovs.h"

static char dir[64];

static const char fake_script[] =
	"#!/bin/sh\n"
	"d=$(dirname \"$0\")\n"
	"n=$(cat \"$d/count\" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >\"$d/count\"\n"
	"for a in \"$@\"; do printf '%s\\n' \"$a\"; done >\"$d/argv.$n\"\n"
	"env >\"$d/env.$n\"\n"
	"if [ -f \"$d/err\" ]; then cat \"$d/err\" >&2; fi\n"
	"if [ -f \"$d/out\" ]; then cat \"$d/out\"; fi\n"
	"if [ -f \"$d/alarm\" ]; then rm -f \"$d/alarm\"; kill -ALRM $$; fi\n"
	"exit $(cat \"$d/rc\" 2>/dev/null || echo 0)\n";

static void put(const char *name, const char *content)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* The whole content of file name in dir ("" if missing), in a static buffer. */
static const char *get(const char *name)
{
	static char buf[8192];
	char path[128];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void reset(void)
{
	const char *names[] = {"count",	 "out",	   "err",   "rc",    "alarm", "argv.1",
			       "argv.2", "argv.3", "env.1", "env.2", "env.3"};
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
}

static int setup(void **state)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/lj-test-ovs.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	put("ovs-vsctl", fake_script);
	snprintf(path, sizeof(path), "%s/ovs-vsctl", dir);
	chmod(path, 0755);
	setenv("LANJOIN_OVS_VSCTL", path, 1);
	unsetenv("OVS_RUNDIR");
	return 0;
}

static int teardown(void **state)
{
	char path[160];

	reset();
	snprintf(path, sizeof(path), "%s/ovs-vsctl", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/db.sock", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ovs-vswitchd.pid", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct lj_ovs *open_ovs(void)
{
	struct lj_ovs *o = NULL;

	reset();
	assert_int_equal(lj_ovs_open("unix:/x/db.sock", &o), 0);
	assert_string_equal(lj_ovs_db(o), "unix:/x/db.sock");
	return o;
}

static void test_quote(void **state)
{
	char buf[32];

	assert_string_equal(lj_ovs_quote("eth1", buf, sizeof(buf)), "\"eth1\"");
	assert_string_equal(lj_ovs_quote("a\"b\\c", buf, sizeof(buf)), "\"a\\\"b\\\\c\"");
	assert_string_equal(lj_ovs_quote("x\n\xc3\xa9", buf, sizeof(buf)), "\"x???\"");
	assert_string_equal(lj_ovs_quote("", buf, sizeof(buf)), "\"\"");
	assert_null(lj_ovs_quote("0123456789", buf, 12));
	assert_non_null(lj_ovs_quote("0123456789", buf, 13));
}

static void test_resolve_db(void **state)
{
	char buf[LJ_OVS_DB_MAX];
	char longpath[LJ_OVS_DB_MAX + 8];

	assert_string_equal(lj_ovs_resolve_db("unix:/a/b.sock", buf, sizeof(buf)),
			    "unix:/a/b.sock");
	assert_string_equal(lj_ovs_resolve_db(NULL, buf, sizeof(buf)),
			    "unix:/var/run/openvswitch/db.sock");
	setenv("OVS_RUNDIR", "/run/lab/ovs", 1);
	assert_string_equal(lj_ovs_resolve_db("", buf, sizeof(buf)), "unix:/run/lab/ovs/db.sock");
	setenv("OVS_RUNDIR", "relative", 1);
	assert_string_equal(lj_ovs_resolve_db(NULL, buf, sizeof(buf)),
			    "unix:/var/run/openvswitch/db.sock");
	unsetenv("OVS_RUNDIR");
	assert_null(lj_ovs_resolve_db("tcp:127.0.0.1:6640", buf, sizeof(buf)));
	assert_null(lj_ovs_resolve_db("unix:relative", buf, sizeof(buf)));
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	memcpy(longpath, "unix:/", 6);
	assert_null(lj_ovs_resolve_db(longpath, buf, sizeof(buf)));
}

static void test_not_installed(void **state)
{
	struct lj_ovs *o = NULL;
	char *saved = strdup(getenv("LANJOIN_OVS_VSCTL"));

	setenv("LANJOIN_OVS_VSCTL", "/nonexistent/ovs-vsctl", 1);
	assert_int_equal(lj_ovs_open(NULL, &o), -ENOENT);
	setenv("LANJOIN_OVS_VSCTL", "relative/ovs-vsctl", 1);
	assert_int_equal(lj_ovs_open(NULL, &o), -ENOENT);
	setenv("LANJOIN_OVS_VSCTL", saved, 1);
	free(saved);
	assert_int_equal(lj_ovs_open("tcp:1.2.3.4:5", &o), -EINVAL);
}

static void test_survey(void **state)
{
	struct lj_ovs *o = open_ovs();
	struct lj_ovs_survey s;

	put("out",
	    "{\"data\":[[\"br-em1\",\"netdev\",[\"map\",[]],[\"set\",[[\"uuid\",\"1\"],"
	    "[\"uuid\",\"2\"]]]],[\"br-lj\",\"\",[\"map\",[[\"lanjoin-owner\",\"lanjoin\"]]],"
	    "[\"uuid\",\"3\"]]],\"headings\":[\"name\",\"datapath_type\",\"external_ids\","
	    "\"ports\"]}\n"
	    "{\"data\":[[\"ljo0123\",10,[\"map\",[[\"lanjoin-ifname\",\"eth1\"],"
	    "[\"lanjoin-owner\",\"lanjoin\"],[\"lanjoin-target\",\"netns:a\\\"b\"]]]]],"
	    "\"headings\":[\"name\",\"tag\",\"external_ids\"]}\n"
	    "{\"data\":[],\"headings\":[\"name\"]}\n");
	assert_int_equal(lj_ovs_survey(o, "ljo0123", "br-x", &s), 0);
	assert_int_equal(s.n_bridges, 2);
	assert_string_equal(s.bridges[0].name, "br-em1");
	assert_string_equal(s.bridges[0].datapath_type, "netdev");
	assert_false(s.bridges[0].ours);
	assert_int_equal(s.bridges[0].n_ports, 2);
	assert_string_equal(s.bridges[1].datapath_type, "");
	assert_true(s.bridges[1].ours);
	assert_int_equal(s.bridges[1].n_ports, 1); /* a set of one is the bare uuid */
	assert_true(s.has_port);
	assert_true(s.port.ours);
	assert_int_equal(s.port.tag, 10);
	assert_string_equal(s.port.ifname, "eth1");
	assert_string_equal(s.port.target, "netns:a\"b");
	assert_false(s.name_is_iface);
	lj_ovs_survey_free(&s);

	/* one run, explicit database and timeout, JSON, names quoted in conditions */
	assert_string_equal(get("count"), "1\n");
	assert_non_null(strstr(get("argv.1"),
			       "--db=unix:/x/db.sock\n--timeout=10\n--format=json\n"
			       "--\n--columns=name,datapath_type,external_ids,ports\n"
			       "list\nBridge\n--\n--columns=name,tag,external_ids\n"
			       "find\nPort\nname=\"ljo0123\"\n--\n--columns=name\n"
			       "find\nInterface\nname=\"br-x\"\n"));
	/* a fixed minimal environment: nothing of ours leaks into it */
	assert_non_null(strstr(get("env.1"), "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"));
	assert_non_null(strstr(get("env.1"), "LC_ALL=C\n"));
	assert_null(strstr(get("env.1"), "LANJOIN_OVS_VSCTL"));

	/* garbage and missing tables are refused */
	put("out", "{\"data\":[],\"headings\":[]}\nnot json\n");
	assert_int_equal(lj_ovs_survey(o, "ljo0123", "br-x", &s), -EBADMSG);
	assert_non_null(strstr(lj_ovs_error(o), "cannot parse"));
	put("out", "{\"data\":[],\"headings\":[]}\n");
	assert_int_equal(lj_ovs_survey(o, "ljo0123", "br-x", &s), -EBADMSG);
	/* names that could be options are refused before anything runs */
	reset();
	assert_int_equal(lj_ovs_survey(o, "--all", "br-x", &s), -EINVAL);
	assert_int_equal(lj_ovs_port_del(o, "-x"), -EINVAL);
	assert_string_equal(get("count"), "");
	lj_ovs_close(o);
}

static void test_port_add(void **state)
{
	struct lj_ovs *o = open_ovs();
	struct lj_ovs_port_opts p = {
		.bridge = "br-em1",
		.name = "ljo0123",
		.tag = 42,
		.target = "netns:c 1",
		.ifname = "eth1",
	};

	assert_int_equal(lj_ovs_port_add(o, &p), 0);
	assert_string_equal(get("argv.1"),
			    "--db=unix:/x/db.sock\n--timeout=10\n--\nadd-port\nbr-em1\nljo0123\n"
			    "tag=42\nexternal_ids:lanjoin-owner=lanjoin\n"
			    "external_ids:lanjoin-target=\"netns:c 1\"\n"
			    "external_ids:lanjoin-ifname=\"eth1\"\n");
	/* replacing a stale row: delete and add in the same transaction */
	reset();
	p.replace = true;
	p.tag = 0;
	assert_int_equal(lj_ovs_port_add(o, &p), 0);
	assert_string_equal(get("count"), "1\n");
	assert_non_null(strstr(get("argv.1"), "--\n--if-exists\ndel-port\nljo0123\n--\nadd-port\n"
					      "br-em1\nljo0123\nexternal_ids:"));
	assert_null(strstr(get("argv.1"), "tag="));
	p.tag = 4095;
	assert_int_equal(lj_ovs_port_add(o, &p), -EINVAL);
	lj_ovs_close(o);
}

static void test_errors(void **state)
{
	struct lj_ovs *o = open_ovs();
	struct lj_ovs_bridge b;

	put("rc", "1\n");
	put("err", "ovs-vsctl: unix:/x/db.sock: database connection failed (No such file or "
		   "directory)\n");
	assert_int_equal(lj_ovs_bridge_del(o, "br-x"), -ECONNREFUSED);
	assert_string_equal(lj_ovs_error(o), "ovs-vsctl: unix:/x/db.sock: database connection "
					     "failed (No such file or directory)");
	put("err", "ovs-vsctl: cannot create a bridge named br-x because a bridge named br-x "
		   "already exists\n");
	assert_int_equal(lj_ovs_bridge_add(o, "br-x", "netdev"), -EEXIST);
	put("err", "ovs-vsctl: no bridge named br-y\n");
	assert_int_equal(
		lj_ovs_port_add(o, &(struct lj_ovs_port_opts){.bridge = "br-y", .name = "p"}),
		-ENODEV);
	put("err", "ovs-vsctl: something else\nsecond line\n");
	assert_int_equal(lj_ovs_port_del(o, "p"), -EIO);
	assert_string_equal(lj_ovs_error(o), "ovs-vsctl: something else second line");

	/* a query that finds nothing */
	reset();
	put("out", "{\"data\":[],\"headings\":[\"name\",\"datapath_type\",\"external_ids\","
		   "\"ports\"]}\n");
	assert_int_equal(lj_ovs_bridge_get(o, "br-x", &b), -ENODEV);
	lj_ovs_close(o);
}

static void test_timeout_cleans_up(void **state)
{
	struct lj_ovs *o = open_ovs();
	struct lj_ovs_port_opts p = {.bridge = "br-em1", .name = "ljo0123"};

	/* ovs-vsctl's own --timeout kills it with SIGALRM; the row may be committed anyway */
	put("alarm", "");
	assert_int_equal(lj_ovs_port_add(o, &p), -ETIMEDOUT);
	assert_non_null(strstr(lj_ovs_error(o), "timed out"));
	assert_string_equal(get("count"), "2\n");
	assert_non_null(strstr(get("argv.2"), "--timeout=10\n--no-wait\n--\n--if-exists\n"
					      "del-port\nljo0123\n"));

	reset();
	put("alarm", "");
	assert_int_equal(lj_ovs_bridge_add(o, "br-new", NULL), -ETIMEDOUT);
	assert_null(strstr(get("argv.1"), "datapath_type"));
	assert_non_null(strstr(get("argv.2"), "--no-wait\n--\n--if-exists\ndel-br\nbr-new\n"));

	reset();
	put("alarm", "");
	assert_int_equal(lj_ovs_bridge_add_hw(o, "br-em1", "netdev", NULL, 1400, "em1"),
			 -ETIMEDOUT);
	assert_non_null(strstr(get("argv.1"), "external_ids:lanjoin-uplink=em1\n"));
	assert_non_null(strstr(get("argv.2"), "--no-wait\n--\n--if-exists\ndel-br\nbr-em1\n"));
	assert_int_equal(lj_ovs_bridge_add_hw(o, "br-em1", "Net-dev", NULL, 0, NULL), -EINVAL);
	lj_ovs_close(o);
}

static void test_list_ours(void **state)
{
	struct lj_ovs *o = open_ovs();
	struct lj_ovs_port *ports = NULL;
	struct lj_ovs_bridge *brs = NULL;
	size_t n = 9, n_br = 9;

	put("out",
	    "{\"data\":[[\"ljo1\",[\"set\",[]],[\"map\",[[\"lanjoin-owner\",\"lanjoin\"]]]]],"
	    "\"headings\":[\"name\",\"tag\",\"external_ids\"]}\n"
	    "{\"data\":[],\"headings\":[\"name\",\"datapath_type\",\"external_ids\",\"ports\"]}");
	assert_int_equal(lj_ovs_list_ours(o, &ports, &n, &brs, &n_br), 0);
	assert_int_equal(n, 1);
	assert_int_equal(n_br, 0);
	assert_string_equal(ports[0].name, "ljo1");
	assert_int_equal(ports[0].tag, 0);
	assert_true(ports[0].ours);
	assert_non_null(strstr(get("argv.1"), "find\nPort\nexternal_ids:lanjoin-owner=lanjoin\n"));
	free(ports);
	free(brs);
	lj_ovs_close(o);
}

static void test_check_running(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char db[128], pid[32];
	struct lj_ovs *o = NULL;
	int fd;

	snprintf(db, sizeof(db), "unix:%s/db.sock", dir);
	assert_int_equal(lj_ovs_open(db, &o), 0);
	assert_int_equal(lj_ovs_check_running(o, NULL), -ECONNREFUSED);
	assert_non_null(strstr(lj_ovs_error(o), "ovsdb-server is not running"));

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/db.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(lj_ovs_check_running(o, NULL), -ESRCH);
	assert_non_null(strstr(lj_ovs_error(o), "ovs-vswitchd is not running"));
	/* a pid file naming a live process that is not ovs-vswitchd */
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	put("ovs-vswitchd.pid", pid);
	assert_int_equal(lj_ovs_check_running(o, NULL), -ESRCH);
	close(fd);
	lj_ovs_close(o);
}

static void test_describe(void **state)
{
	struct lj_ovs_port_opts p = {
		.bridge = "br-em1",
		.name = "ljo0123",
		.tag = 7,
		.target = "pid:12",
		.ifname = "eth1",
	};
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	lj_ovs_describe_bridge_add(f, "unix:/r/db.sock", "br-new", "netdev");
	lj_ovs_describe_port_add(f, "unix:/r/db.sock", &p);
	lj_ovs_describe_port_del(f, "unix:/r/db.sock", "ljo0123");
	lj_ovs_describe_bridge_del(f, "unix:/r/db.sock", "br-new");
	fclose(f);
	assert_string_equal(buf,
			    "ovs-vsctl --db=unix:/r/db.sock -- add-br br-new -- set Bridge br-new "
			    "datapath_type=netdev external_ids:lanjoin-owner=lanjoin\n"
			    "ovs-vsctl --db=unix:/r/db.sock -- add-port br-em1 ljo0123 tag=7 "
			    "external_ids:lanjoin-owner=lanjoin "
			    "'external_ids:lanjoin-target=\"pid:12\"' "
			    "'external_ids:lanjoin-ifname=\"eth1\"'\n"
			    "ovs-vsctl --db=unix:/r/db.sock -- --if-exists del-port ljo0123\n"
			    "ovs-vsctl --db=unix:/r/db.sock -- --if-exists del-br br-new\n");
	free(buf);
}

/* The OVS step types keep the ids records name them by. */
static void test_step_ids(void **state)
{
	static const struct {
		const char *id;
		const struct lj_step_type *type;
	} ids[] = {
		{"ovs-bridge", &lj_step_ovs_bridge},
		{"ovs-port", &lj_step_ovs_port},
		{"tx-csum-off", &lj_step_tx_csum_off},
		{"ovs-uplink-bridge", &lj_step_ovs_uplink_bridge},
		{"ovs-enslave", &lj_step_ovs_enslave},
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_string_equal(ids[i].type->id, ids[i].id);
		assert_ptr_equal(lj_step_type_find(ids[i].id), ids[i].type);
	}
}

/* ovs-enslave adds the uplink as a port marked "uplink" and removes it as ovs-port does. */
static void test_step_enslave(void **state)
{
	struct lj_ctx ctx = {0};
	struct lj_step s = {.type = &lj_step_ovs_enslave, .text = (char *)"unix:/x/db.sock"};
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	snprintf(s.link, sizeof(s.link), "em1");
	snprintf(s.master, sizeof(s.master), "br-em1");
	reset();
	assert_int_equal(lj_step_ovs_enslave.apply(&ctx, &s), 0);
	assert_string_equal(get("argv.1"), "--db=unix:/x/db.sock\n--timeout=10\n--\nadd-port\n"
					   "br-em1\nem1\nexternal_ids:lanjoin-owner=lanjoin\n"
					   "external_ids:lanjoin-target=\"uplink\"\n");
	assert_int_equal(lj_step_ovs_enslave.undo(&ctx, &s), 0);
	assert_string_equal(get("argv.2"),
			    "--db=unix:/x/db.sock\n--timeout=10\n--\n--if-exists\ndel-port\nem1\n");
	/* a failure's reason is ovs-vsctl's */
	put("rc", "1\n");
	put("err", "ovs-vsctl: no bridge named br-em1\n");
	assert_int_equal(lj_step_ovs_enslave.apply(&ctx, &s), -ENODEV);
	assert_string_equal(ctx.detail, "ovs-vsctl: no bridge named br-em1");

	f = open_memstream(&buf, &size);
	lj_step_ovs_enslave.describe(&ctx, &s, f);
	lj_step_ovs_enslave.describe_undo(&ctx, &s, f);
	s.type = &lj_step_ovs_port;
	lj_step_ovs_port.describe_undo(&ctx, &s, f);
	fclose(f);
	assert_string_equal(buf, "ovs-vsctl --db=unix:/x/db.sock -- add-port br-em1 em1 "
				 "external_ids:lanjoin-owner=lanjoin "
				 "'external_ids:lanjoin-target=\"uplink\"'\n"
				 "ovs-vsctl --db=unix:/x/db.sock -- --if-exists del-port em1\n"
				 "ovs-vsctl --db=unix:/x/db.sock -- --if-exists del-port em1\n");
	free(buf);
	reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_resolve_db),
		cmocka_unit_test(test_not_installed),
		cmocka_unit_test(test_survey),
		cmocka_unit_test(test_port_add),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_timeout_cleans_up),
		cmocka_unit_test(test_list_ours),
		cmocka_unit_test(test_check_running),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_step_ids),
		cmocka_unit_test(test_step_enslave),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
