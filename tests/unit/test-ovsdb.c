/* SPDX-License-Identifier: MIT */
/*
 * The OVSDB client (foreign/ovsdb.c) and the Open vSwitch calls over it (foreign/ovs.c):
 * - against a fake server written here (a child process on a unix socket answering canned
 *   bytes): answers split anywhere, echo requests, stale replies, and hostile or truncated
 *   answers (garbage, a half value then EOF or silence, deep nesting, a value over the size
 *   limit) all end in a clean error within the timeout;
 * - against a real ovsdb-server with the vswitch schema (skipped if Open vSwitch is not
 *   installed), with a stand-in for ovs-vswitchd that sets ofport and cur_cfg: transactions,
 *   the server's errors (constraint violations, a missing bridge), readiness and its timeout,
 *   and the server killed or stopped in the middle of a call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/foreign/ovs.h"
#include "lib/foreign/ovsdb.h"

#define SCHEMA "/usr/share/openvswitch/vswitch.ovsschema"

static char dir[64], sock[96];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/lj-test-ovsdb.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/db.sock", dir);
	/* lj_ovs_open checks that Open vSwitch is installed; any executable will do here */
	setenv("LANJOIN_OVS_VSCTL", "/bin/true", 1);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- a fake server ----------------------------------------------------------------------- */

enum { WRITE, BYTEWISE, HUGE };

struct answer {
	const char *data; /* written after one request has been read */
	int how;
};

enum { END_CLOSE, END_STALL };

/* Serve one connection on sock: per answer, read a request, write the answer; then end. */
static pid_t fake_start(const struct answer *a, size_t n, int end)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	assert_true(lfd >= 0);
	unlink(sock);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[65536];
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			_exit(1);
		for (size_t i = 0; i < n; i++) {
			if (read(fd, buf, sizeof(buf)) <= 0)
				_exit(2);
			if (a[i].how == BYTEWISE) {
				for (const char *p = a[i].data; *p; p++) {
					if (write(fd, p, 1) != 1)
						_exit(3);
					sleep_ms(1);
				}
			} else if (a[i].how == HUGE) {
				memset(buf, 'a', sizeof(buf));
				if (write(fd, a[i].data, strlen(a[i].data)) < 0)
					_exit(3);
				for (size_t sent = 0; sent < LJ_OVSDB_MSG_MAX + 65536;
				     sent += sizeof(buf))
					if (write(fd, buf, sizeof(buf)) < 0)
						_exit(0); /* the client gave up */
			} else if (write(fd, a[i].data, strlen(a[i].data)) < 0) {
				_exit(3);
			}
		}
		if (end == END_STALL)
			pause();
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void fake_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* One call of method "echo" against a fake server giving answer a; returns its result. */
static int fake_call(const char *data, int how, int end, int timeout_ms, json_t **ret)
{
	struct answer a = {data, how};
	struct lj_ovsdb *c;
	pid_t pid = fake_start(&a, 1, end);
	int r;

	assert_int_equal(lj_ovsdb_new(sock, timeout_ms, &c), 0);
	r = lj_ovsdb_call(c, "echo", json_array(), 0, ret);
	if (r < 0)
		assert_true(lj_ovsdb_error(c)[0] != '\0');
	lj_ovsdb_free(c);
	fake_stop(pid);
	return r;
}

static void test_fake_answers(void **state)
{
	const struct answer a[] = {
		{"{\"id\":1,\"result\":[\"ok\"],\"error\":null}", WRITE},
		/* an echo request of the server's first, then the reply, in one write */
		{" {\"method\":\"echo\",\"params\":[],\"id\":\"e\"}\n"
		 "{\"id\":2,\"result\":[2],\"error\":null}",
		 WRITE},
		/* a stale reply, then the one asked for, a byte at a time; brackets in strings */
		{"{\"id\":99,\"result\":[],\"error\":null}"
		 "{\"id\":3,\"result\":[\"}]\\\"{[\"],\"error\":null}",
		 BYTEWISE},
	};
	struct lj_ovsdb *c;
	json_t *res;
	pid_t pid = fake_start(a, 3, END_CLOSE);

	assert_int_equal(lj_ovsdb_new(sock, 3000, &c), 0);
	assert_int_equal(lj_ovsdb_call(c, "echo", json_array(), 0, &res), 0);
	assert_string_equal(json_string_value(json_array_get(res, 0)), "ok");
	json_decref(res);
	assert_int_equal(lj_ovsdb_call(c, "echo", json_array(), 0, &res), 0);
	assert_int_equal(json_integer_value(json_array_get(res, 0)), 2);
	json_decref(res);
	assert_int_equal(lj_ovsdb_call(c, "echo", json_array(), 0, &res), 0);
	assert_string_equal(json_string_value(json_array_get(res, 0)), "}]\"{[");
	json_decref(res);
	/* the server hung up: a clean error, and the next call connects again */
	assert_int_equal(lj_ovsdb_call(c, "echo", json_array(), 0, &res), -ECONNRESET);
	fake_stop(pid);
	unlink(sock);
	assert_int_equal(lj_ovsdb_call(c, "echo", json_array(), 0, &res), -ECONNREFUSED);
	assert_non_null(strstr(lj_ovsdb_error(c), "database connection failed"));
	lj_ovsdb_free(c);
}

static void test_fake_hostile(void **state)
{
	char deep[200] = "{\"id\":1,\"result\":";
	json_t *res = NULL;
	int64_t t0;

	assert_int_equal(fake_call("garbage\n", WRITE, END_STALL, 2000, &res), -EBADMSG);
	assert_int_equal(fake_call("[1,2]", WRITE, END_STALL, 2000, &res), -EBADMSG);
	assert_int_equal(fake_call("{\"id\":1,\"result\":[1}", WRITE, END_STALL, 2000, &res),
			 -EBADMSG);
	assert_int_equal(
		fake_call("{\"id\":1,\"id\":1,\"result\":[]}", WRITE, END_STALL, 2000, &res),
		-EBADMSG);
	/* half a value, then EOF: at once; then silence: the timeout */
	assert_int_equal(fake_call("{\"id\":1,\"result\":[", WRITE, END_CLOSE, 2000, &res),
			 -ECONNRESET);
	t0 = now_ms();
	assert_int_equal(fake_call("{\"id\":1,\"result\":[", WRITE, END_STALL, 300, &res),
			 -ETIMEDOUT);
	assert_true(now_ms() - t0 < 2000);
	/* nested deeper than any OVSDB message */
	for (size_t i = strlen(deep); i < sizeof(deep) - 1; i++)
		deep[i] = '[';
	assert_int_equal(fake_call(deep, WRITE, END_STALL, 2000, &res), -EBADMSG);
	/* a value that never ends within the size limit */
	assert_int_equal(fake_call("{\"id\":1,\"result\":\"", HUGE, END_STALL, 10000, &res),
			 -EMSGSIZE);
	/* a JSON-RPC error, a reply without result */
	assert_int_equal(fake_call("{\"id\":1,\"result\":null,\"error\":\"unknown method\"}", WRITE,
				   END_STALL, 2000, &res),
			 -EPROTO);
	assert_int_equal(fake_call("{\"id\":1,\"error\":null}", WRITE, END_STALL, 2000, &res),
			 -EBADMSG);
	assert_null(res);
}

static void test_fake_transact(void **state)
{
	struct answer a[] = {
		{"{\"id\":1,\"result\":[{},{\"error\":\"timed out\"},null],\"error\":null}", WRITE},
		{"{\"id\":2,\"result\":[{}],\"error\":null}", WRITE},
		{"{\"id\":1,\"result\":[{},{\"error\":\"constraint violation\",\"details\":\"... "
		 "identical values ...\"}],\"error\":null}",
		 WRITE},
	};
	struct lj_ovsdb *c;
	size_t failed = 0;
	pid_t pid = fake_start(a, 3, END_STALL);

	assert_int_equal(lj_ovsdb_new(sock, 2000, &c), 0);
	assert_int_equal(
		lj_ovsdb_transact(c, "Open_vSwitch", json_pack("[{},{},{}]"), 0, NULL, &failed),
		-ETIMEDOUT);
	assert_int_equal(failed, 1);
	assert_string_equal(lj_ovsdb_error(c), "timed out");
	/* fewer results than operations */
	assert_int_equal(lj_ovsdb_transact(c, "Open_vSwitch", json_pack("[{},{}]"), 0, NULL, NULL),
			 -EBADMSG);
	lj_ovsdb_free(c);
	fake_stop(pid);

	/* two transactions sent ahead, their replies in the other order: each gets its own */
	pid = fake_start(&(struct answer){"{\"id\":2,\"result\":[{\"count\":2}],\"error\":null}"
					  "{\"id\":1,\"result\":[{\"count\":1}],\"error\":null}",
					  WRITE},
			 1, END_STALL);
	assert_int_equal(lj_ovsdb_new(sock, 2000, &c), 0);
	{
		struct lj_ovsdb_pending p1, p2;
		json_t *r1 = NULL, *r2 = NULL;

		assert_int_equal(
			lj_ovsdb_transact_send(c, "Open_vSwitch", json_pack("[{}]"), 0, &p1), 0);
		assert_int_equal(
			lj_ovsdb_transact_send(c, "Open_vSwitch", json_pack("[{}]"), 0, &p2), 0);
		assert_int_equal(lj_ovsdb_transact_reply(c, &p1, 0, &r1, NULL), 0);
		assert_int_equal(lj_ovsdb_transact_reply(c, &p2, 0, &r2, NULL), 0);
		assert_int_equal(
			json_integer_value(json_object_get(json_array_get(r1, 0), "count")), 1);
		assert_int_equal(
			json_integer_value(json_object_get(json_array_get(r2, 0), "count")), 2);
		json_decref(r1);
		json_decref(r2);
	}
	lj_ovsdb_free(c);
	fake_stop(pid);

	pid = fake_start(&a[2], 1, END_STALL);
	assert_int_equal(lj_ovsdb_new(sock, 2000, &c), 0);
	assert_int_equal(lj_ovsdb_transact(c, "Open_vSwitch", json_pack("[{}]"), 0, NULL, &failed),
			 -EEXIST);
	assert_int_equal(failed, 1); /* the commit: one past the operations */
	lj_ovsdb_free(c);
	fake_stop(pid);
}

/* --- a real ovsdb-server ----------------------------------------------------------------- */

static pid_t server = -1, vswitchd = -1;

static int run_wait(const char *const *argv)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *find_bin(const char *name)
{
	static char path[2][64];
	static int i;
	const char *dirs[] = {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"};

	i = !i;
	for (size_t d = 0; d < 4; d++) {
		snprintf(path[i], sizeof(path[i]), "%s/%s", dirs[d], name);
		if (access(path[i], X_OK) == 0)
			return path[i];
	}
	return NULL;
}

static int server_teardown(void **state);

/* Start ovsdb-server with an empty vswitch database and its Open_vSwitch row. */
static int server_setup(void **state)
{
	char db[128], remote[160], ctl[128];
	const char *tool = find_bin("ovsdb-tool"), *srv = find_bin("ovsdb-server");
	struct lj_ovsdb *c;
	int r = -1;

	if (setup(state) < 0)
		return -1;
	if (!tool || !srv || access(SCHEMA, R_OK) < 0)
		return 0; /* the tests skip */
	snprintf(db, sizeof(db), "%s/conf.db", dir);
	snprintf(remote, sizeof(remote), "--remote=punix:%s", sock);
	snprintf(ctl, sizeof(ctl), "--unixctl=%s/ovsdb-server.ctl", dir);
	if (run_wait((const char *const[]){tool, "create", db, SCHEMA, NULL}) != 0) {
		teardown(state);
		return -1;
	}
	server = fork();
	if (server == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl(srv, srv, db, remote, ctl, "--no-chdir", "-vconsole:off", (char *)NULL);
		_exit(127);
	}
	/* a loaded machine (the suite's files run in parallel) may take a while */
	for (int i = 0; i < 3000 && server > 0 && access(sock, F_OK) < 0; i++)
		sleep_ms(10);
	/* the socket's file exists from bind(); until listen() a connect is refused */
	for (int i = 0; i < 3000 && server > 0 && r == -1; i++) {
		if (lj_ovsdb_new(sock, 10000, &c) < 0)
			break;
		r = lj_ovsdb_transact(c, "Open_vSwitch",
				      json_pack("[{s:s,s:s,s:{}}]", "op", "insert", "table",
						"Open_vSwitch", "row"),
				      0, NULL, NULL);
		lj_ovsdb_free(c);
		if (r != -ECONNREFUSED)
			break;
		r = -1;
		sleep_ms(10);
	}
	/* cmocka runs no group teardown after a failed setup: leave no server behind */
	if (r < 0)
		server_teardown(state);
	return r;
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGCONT);
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

static int server_teardown(void **state)
{
	stop(&vswitchd);
	stop(&server);
	return teardown(state);
}

#define NEED_SERVER()                                                                              \
	do {                                                                                       \
		if (server <= 0)                                                                   \
			skip();                                                                    \
	} while (0)

/*
 * A stand-in for ovs-vswitchd (polling, which the real one does not need): every interface
 * without ofport gets one (-1 and an error for names starting with "bad"), and cur_cfg
 * follows next_cfg.
 */
static void vswitchd_start(void)
{
	vswitchd = fork();
	assert_true(vswitchd >= 0);
	if (vswitchd > 0)
		return;
	struct lj_ovsdb *c;
	int port = 1;

	if (lj_ovsdb_new(sock, 5000, &c) < 0)
		_exit(1);
	for (;;) {
		json_t *res, *rows, *row, *cfg;
		size_t i;

		if (lj_ovsdb_transact(
			    c, "Open_vSwitch",
			    json_pack("[{s:s,s:s,s:[[s,s,[s,[]]]],s:[s]},{s:s,s:s,s:[],s:[s]}]",
				      "op", "select", "table", "Interface", "where", "ofport",
				      "==", "set", "columns", "name", "op", "select", "table",
				      "Open_vSwitch", "where", "columns", "next_cfg"),
			    0, &res, NULL) < 0)
			_exit(2);
		rows = json_object_get(json_array_get(res, 0), "rows");
		cfg = json_object_get(
			json_array_get(json_object_get(json_array_get(res, 1), "rows"), 0),
			"next_cfg");
		json_array_foreach(rows, i, row)
		{
			const char *name = json_string_value(json_object_get(row, "name"));
			bool bad = strncmp(name, "bad", 3) == 0;
			json_t *set = bad ? json_pack("{s:i,s:s}", "ofport", -1, "error",
						      "could not open network device (No such "
						      "device)")
					  : json_pack("{s:i}", "ofport", port++);

			lj_ovsdb_transact(c, "Open_vSwitch",
					  json_pack("[{s:s,s:s,s:[[s,s,s]],s:o}]", "op", "update",
						    "table", "Interface", "where", "name",
						    "==", name, "row", set),
					  0, NULL, NULL);
		}
		lj_ovsdb_transact(c, "Open_vSwitch",
				  json_pack("[{s:s,s:s,s:[],s:{s:O}}]", "op", "update", "table",
					    "Open_vSwitch", "where", "row", "cur_cfg", cfg),
				  0, NULL, NULL);
		json_decref(res);
		sleep_ms(5);
	}
}

static struct lj_ovs *open_real(int timeout_ms)
{
	char db[160];
	struct lj_ovs *o;

	snprintf(db, sizeof(db), "unix:%s", sock);
	assert_int_equal(lj_ovs_open(db, &o), 0);
	lj_ovs_set_timeout(o, timeout_ms);
	return o;
}

static void test_real_changes(void **state)
{
	struct lj_ovs_port_opts p = {
		.bridge = "br-t",
		.name = "p1",
		.tag = 5,
		.target = "netns:x\n",
		.ifname = "eth1",
	};
	struct lj_ovs_port *ports;
	struct lj_ovs_bridge b, *brs;
	struct lj_ovs_survey sv;
	size_t n, n_br;
	struct lj_ovs *o;

	NEED_SERVER();
	vswitchd_start();
	o = open_real(3000);
	assert_int_equal(lj_ovs_bridge_add(o, "br-t", "netdev"), 0);
	assert_int_equal(lj_ovs_bridge_get(o, "br-t", &b), 0);
	assert_true(b.ours);
	assert_string_equal(b.datapath_type, "netdev");
	assert_int_equal(b.n_ports, 1);
	/* a unique index of the server's */
	assert_int_equal(lj_ovs_bridge_add(o, "br-t", NULL), -EEXIST);
	assert_non_null(strstr(lj_ovs_error(o), "already exists"));

	assert_int_equal(lj_ovs_port_add(o, &p), 0);
	assert_int_equal(lj_ovs_port_add(o, &p), -EEXIST);
	p.replace = true;
	p.tag = 0;
	assert_int_equal(lj_ovs_port_add(o, &p), 0);
	assert_int_equal(lj_ovs_list_ours(o, &ports, &n, &brs, &n_br), 0);
	assert_int_equal(n, 1);
	assert_int_equal(n_br, 1);
	assert_string_equal(ports[0].name, "p1");
	assert_int_equal(ports[0].tag, 0);
	assert_string_equal(ports[0].target, "netns:x?");
	assert_string_equal(ports[0].ifname, "eth1");
	assert_string_equal(brs[0].name, "br-t");
	assert_int_equal(brs[0].n_ports, 2);
	free(ports);
	free(brs);

	/* a missing bridge: the server's wait fails at once */
	p.bridge = "br-missing";
	p.replace = false;
	p.name = "p2";
	assert_int_equal(lj_ovs_port_add(o, &p), -ENODEV);
	assert_string_equal(lj_ovs_error(o), "no bridge named br-missing");
	/* ovs-vswitchd cannot open the device: an error, and the row goes again */
	p.bridge = "br-t";
	p.name = "bad1";
	assert_int_equal(lj_ovs_port_add(o, &p), -ENODEV);
	assert_non_null(strstr(lj_ovs_error(o), "No such device"));
	assert_int_equal(lj_ovs_survey(o, "bad1", "br-t", &sv), 0);
	assert_false(sv.has_port);
	assert_true(sv.name_is_iface);
	assert_int_equal(sv.n_bridges, 1);
	lj_ovs_survey_free(&sv);

	assert_int_equal(lj_ovs_port_del(o, "p1"), 0);
	assert_int_equal(lj_ovs_port_del(o, "p1"), 0);
	assert_int_equal(lj_ovs_bridge_get(o, "br-t", &b), 0);
	assert_int_equal(b.n_ports, 1);
	assert_int_equal(lj_ovs_bridge_del(o, "br-t"), 0);
	assert_int_equal(lj_ovs_bridge_get(o, "br-t", &b), -ENODEV);
	assert_int_equal(lj_ovs_bridge_del(o, "br-t"), 0);

	/* without ovs-vswitchd: a bounded wait, then the row is removed again */
	stop(&vswitchd);
	p.name = "p3";
	assert_int_equal(lj_ovs_bridge_add_hw(o, "br-u", NULL, (const uint8_t *)"\x02\0\0\0\0\1",
					      1400, "em1"),
			 -ETIMEDOUT);
	assert_non_null(strstr(lj_ovs_error(o), "did not set up interface br-u"));
	assert_int_equal(lj_ovs_bridge_get(o, "br-u", &b), -ENODEV);
	lj_ovs_close(o);
}

static void test_real_errors(void **state)
{
	struct lj_ovsdb *c;
	size_t failed = 99;

	NEED_SERVER();
	assert_int_equal(lj_ovsdb_new(sock, 3000, &c), 0);
	/* a Port needs at least one interface: a row the server cannot make consistent */
	assert_int_equal(
		lj_ovsdb_transact(c, "Open_vSwitch",
				  json_pack("[{s:s,s:s,s:{s:s},s:s},{s:s,s:s,s:{s:s,s:[s,s]},s:s},"
					    "{s:s,s:s,s:[],s:[[s,s,[s,s]]]}]",
					    "op", "insert", "table", "Port", "row", "name", "p",
					    "uuid-name", "p", "op", "insert", "table", "Bridge",
					    "row", "name", "bx", "ports", "named-uuid", "p",
					    "uuid-name", "b", "op", "mutate", "table",
					    "Open_vSwitch", "where", "mutations", "bridges",
					    "insert", "named-uuid", "b"),
				  0, NULL, &failed),
		-EINVAL);
	assert_non_null(strstr(lj_ovsdb_error(c), "integrity violation"));
	/* two rows of the same name in a unique index */
	assert_int_equal(lj_ovsdb_transact(
				 c, "Open_vSwitch",
				 json_pack("[{s:s,s:s,s:{s:s},s:s},{s:s,s:s,s:{s:s},s:s},{s:s,s:s,"
					   "s:[],s:[[s,s,[s,[[s,s],[s,s]]]]]}]",
					   "op", "insert", "table", "Bridge", "row", "name", "b",
					   "uuid-name", "b1", "op", "insert", "table", "Bridge",
					   "row", "name", "b", "uuid-name", "b2", "op", "mutate",
					   "table", "Open_vSwitch", "where", "mutations", "bridges",
					   "insert", "set", "named-uuid", "b1", "named-uuid", "b2"),
				 0, NULL, &failed),
			 -EEXIST);
	assert_int_equal(failed, 3);
	/* a wait that fails at once: how a missing bridge shows */
	assert_int_equal(
		lj_ovsdb_transact(c, "Open_vSwitch",
				  json_pack("[{s:s,s:i,s:s,s:[[s,s,s]],s:[s],s:s,s:[{s:s}]}]", "op",
					    "wait", "timeout", 0, "table", "Bridge", "where",
					    "name", "==", "nope", "columns", "name", "until",
					    "==", "rows", "name", "nope"),
				  0, NULL, &failed),
		-ETIMEDOUT);
	assert_int_equal(failed, 0);
	/* no such table; no such database (a JSON-RPC error) */
	assert_int_equal(lj_ovsdb_transact(c, "Open_vSwitch",
					   json_pack("[{s:s,s:s,s:[]}]", "op", "select", "table",
						     "Nope", "where"),
					   0, NULL, NULL),
			 -EIO);
	assert_int_equal(lj_ovsdb_transact(c, "Nope", json_array(), 0, NULL, NULL), -EPROTO);
	lj_ovsdb_free(c);
}

/* A transaction the server holds: it waits (up to 5 s) for a bridge that never comes. */
static json_t *held(void)
{
	return json_pack("[{s:s,s:i,s:s,s:[[s,s,s]],s:[s],s:s,s:[{s:s}]}]", "op", "wait", "timeout",
			 5000, "table", "Bridge", "where", "name", "==", "never", "columns", "name",
			 "until", "==", "rows", "name", "never");
}

static void test_real_server_goes_away(void **state)
{
	struct lj_ovsdb *c;
	int64_t t0;
	pid_t killer;

	NEED_SERVER();
	/* stopped: the client's timeout */
	assert_int_equal(lj_ovsdb_new(sock, 300, &c), 0);
	kill(server, SIGSTOP);
	t0 = now_ms();
	assert_int_equal(lj_ovsdb_transact(c, "Open_vSwitch", held(), 0, NULL, NULL), -ETIMEDOUT);
	assert_true(now_ms() - t0 < 2000);
	kill(server, SIGCONT);
	lj_ovsdb_free(c);

	/* killed in the middle of a call: at once */
	assert_int_equal(lj_ovsdb_new(sock, 8000, &c), 0);
	killer = fork();
	assert_true(killer >= 0);
	if (killer == 0) {
		sleep_ms(200);
		kill(server, SIGKILL);
		_exit(0);
	}
	t0 = now_ms();
	assert_int_equal(lj_ovsdb_transact(c, "Open_vSwitch", held(), 0, NULL, NULL), -ECONNRESET);
	assert_true(now_ms() - t0 < 2000);
	assert_non_null(strstr(lj_ovsdb_error(c), "closed the connection"));
	waitpid(killer, NULL, 0);
	waitpid(server, NULL, 0);
	server = -1;
	/* and nobody listens any more */
	assert_int_equal(lj_ovsdb_transact(c, "Open_vSwitch", held(), 0, NULL, NULL),
			 -ECONNREFUSED);
	lj_ovsdb_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fake_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_transact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_changes, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_real_errors, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_real_server_goes_away, server_setup,
						server_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
