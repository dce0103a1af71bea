/* SPDX-License-Identifier: MIT */
/*
 * ovs.c without Open vSwitch: the database's name, the check that OVS is installed (a fake
 * ovs-vsctl named by $LANJOIN_OVS_VSCTL) and runs, and the ovs-vsctl command lines --dry-run
 * prints. The OVSDB client and the changes are tested in test-ovsdb.c.
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

static const char fake_script[] = "#!/bin/sh\nexit 0\n";

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

static void reset(void)
{
	const char *names[] = {"ovs-vswitchd.pid"};
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
		cmocka_unit_test(test_quote),	      cmocka_unit_test(test_resolve_db),
		cmocka_unit_test(test_not_installed), cmocka_unit_test(test_check_running),
		cmocka_unit_test(test_describe),      cmocka_unit_test(test_step_ids),
		cmocka_unit_test(test_step_enslave),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
