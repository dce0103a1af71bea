/* SPDX-License-Identifier: MIT */
/*
 * The container engine client without an engine: the inspect parser against real and hostile
 * answers, socket selection, address picking, and the HTTP path against a tiny canned server
 * on a unix socket (status mapping, the engine's error text passed through, oversized and
 * malformed answers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/foreign/engine.h"

#define ID "d9e814409a5d63dfa5402ca0f9a56073c9cc86830c09fb0d63791d82c5a77de9"

/* Trimmed from Docker 20.10's answer for a container on the default bridge. */
static const char docker_json[] =
	"{\"Id\":\"" ID "\",\"Created\":\"2026-11-29T23:28:49.9Z\",\"Name\":\"/web\","
	"\"State\":{\"Status\":\"running\",\"Running\":true,\"Paused\":false,\"Pid\":9495,"
	"\"ExitCode\":0,\"Error\":\"\",\"StartedAt\":\"2026-11-29T23:28:49.95918792Z\","
	"\"FinishedAt\":\"0001-01-01T00:00:00Z\"},"
	"\"NetworkSettings\":{\"Bridge\":\"\",\"IPAddress\":\"198.18.0.2\",\"Networks\":{"
	"\"bridge\":{\"IPAMConfig\":null,\"Links\":null,\"Gateway\":\"198.18.0.1\","
	"\"IPAddress\":\"198.18.0.2\",\"IPPrefixLen\":24,\"IPv6Gateway\":\"2001:db8:9::1\","
	"\"GlobalIPv6Address\":\"2001:db8:9::2\",\"GlobalIPv6PrefixLen\":64,"
	"\"MacAddress\":\"02:42:c6:12:00:02\",\"DriverOpts\":null},"
	"\"none\":{\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"MacAddress\":\"\"}}}}";

/* Podman 4.3's compatible answer for a --network none container. */
static const char podman_json[] =
	"{\"Id\":\"" ID "\",\"Name\":\"/pweb\",\"State\":{\"Status\":\"running\",\"Running\":true,"
	"\"Pid\":11776,\"StartedAt\":\"2026-11-29T23:29:00.475859033Z\",\"Health\":{\"Status\":"
	"\"\","
	"\"FailingStreak\":0,\"Log\":null}},\"NetworkSettings\":{\"Networks\":{}}}";

static int parse(const char *json, struct lj_engine_container *c, struct lj_engine_err *err)
{
	return lj_engine_parse_inspect(json, strlen(json), c, err);
}

static void test_parse_docker(void **state)
{
	struct lj_engine_container c;
	struct lj_engine_err err = {""};
	char buf[64];

	assert_int_equal(parse(docker_json, &c, &err), 0);
	assert_string_equal(c.id, ID);
	assert_string_equal(c.name, "web");
	assert_true(c.running);
	assert_int_equal(c.pid, 9495);
	assert_string_equal(c.status, "running");
	assert_string_equal(c.started_at, "2026-11-29T23:28:49.95918792Z");
	assert_int_equal(c.n_nets, 2);
	assert_string_equal(c.nets[0].name, "bridge");
	assert_string_equal(lj_cidr_to_string(&c.nets[0].ipv4, buf, sizeof(buf)), "198.18.0.2/24");
	assert_string_equal(lj_cidr_to_string(&c.nets[0].ipv6, buf, sizeof(buf)),
			    "2001:db8:9::2/64");
	assert_string_equal(lj_ip_to_string(&c.nets[0].gateway, buf, sizeof(buf)), "198.18.0.1");
	assert_true(c.nets[0].has_mac);
	assert_string_equal(lj_mac_to_string(c.nets[0].mac, buf, sizeof(buf)), "02:42:c6:12:00:02");
	assert_string_equal(c.nets[1].name, "none");
	assert_int_equal(c.nets[1].ipv4.ip.family, AF_UNSPEC);
	assert_false(c.nets[1].has_mac);
}

static void test_parse_podman_and_stopped(void **state)
{
	struct lj_engine_container c;
	struct lj_engine_err err = {""};

	assert_int_equal(parse(podman_json, &c, &err), 0);
	assert_string_equal(c.name, "pweb");
	assert_int_equal(c.pid, 11776);
	assert_int_equal(c.n_nets, 0);

	assert_int_equal(parse("{\"Id\":\"" ID "\",\"Name\":\"/c1\",\"State\":{\"Status\":"
			       "\"exited\",\"Running\":false,\"Pid\":0,\"StartedAt\":"
			       "\"0001-01-01T00:00:00Z\"},\"NetworkSettings\":null}",
			       &c, &err),
			 0);
	assert_false(c.running);
	assert_int_equal(c.pid, 0);
	assert_string_equal(c.status, "exited");

	/* on Podman's default network: its NetworkID is the network's name, not a hex ID */
	assert_int_equal(parse("{\"Id\":\"" ID "\",\"Name\":\"/p2\",\"State\":{\"Status\":"
			       "\"running\",\"Running\":true,\"Pid\":7,\"StartedAt\":\"2026-11-"
			       "29T23:29:00Z\"},"
			       "\"NetworkSettings\":{\"SandboxKey\":\"/run/netns/netns-1\","
			       "\"Networks\":{\"podman\":{\"NetworkID\":\"podman\",\"EndpointID\":"
			       "\"\",\"IPAddress\":\"198.18.2.5\",\"IPPrefixLen\":24}}}}",
			       &c, &err),
			 0);
	assert_int_equal(c.n_nets, 1);
	assert_string_equal(c.nets[0].network_id, "");
	assert_string_equal(c.nets[0].endpoint_id, "");
	assert_string_equal(c.sandbox_key, "/run/netns/netns-1");
}

/* Replace the first occurrence of from in docker_json by to, and parse that. */
static int parse_mutated(const char *from, const char *to)
{
	struct lj_engine_container c;
	struct lj_engine_err err = {""};
	char buf[sizeof(docker_json) + 256];
	const char *p = strstr(docker_json, from);
	int r;

	assert_non_null(p);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - docker_json), docker_json, to,
		 p + strlen(from));
	memset(&c, 0x5a, sizeof(c));
	r = lj_engine_parse_inspect(buf, strlen(buf), &c, &err);
	if (r < 0) {
		assert_int_equal(r, -EPROTO);
		assert_true(strlen(err.msg) > 0);
		assert_int_equal(c.pid, 0x5a5a5a5a); /* untouched on failure */
	}
	return r;
}

static void test_parse_hostile(void **state)
{
	static const char *const bad[][2] = {
		{"\"Id\":\"" ID "\"", "\"Id\":\"d9e8\""},
		{"\"Id\":\"" ID "\"", "\"Id\":\"" ID "00\""},
		{"\"Id\":\"d9e8", "\"Id\":\"D9E8"},
		{"\"Id\":\"" ID "\"", "\"Id\":5"},
		{"\"Id\":\"" ID "\"", "\"Id\":\"../../../etc/passwd\""},
		{"\"Name\":\"/web\"", "\"Name\":\"/w eb\""},
		{"\"Name\":\"/web\"", "\"Name\":\"/web\\u0000x\""},
		{"\"Name\":\"/web\"", "\"Name\":[]"},
		{"\"Name\":\"/web\"", "\"Name\":\"/\""},
		{"\"Running\":true", "\"Running\":\"true\""},
		{"\"Running\":true", "\"Running\":false"},
		{"\"Pid\":9495", "\"Pid\":-1"},
		{"\"Pid\":9495", "\"Pid\":0"},
		{"\"Pid\":9495", "\"Pid\":99999999999"},
		{"\"Pid\":9495", "\"Pid\":9495.5"},
		{"\"Pid\":9495", "\"Pid\":\"9495\""},
		{"\"Status\":\"running\"", "\"Status\":\"run ning\""},
		{"\"StartedAt\":\"2026", "\"StartedAt\":\"\\n2026"},
		{"\"State\":{", "\"State\":[{"},
		{"\"NetworkSettings\":{", "\"NetworkSettings\":\"x\",\"y\":{"},
		{"\"Networks\":{", "\"Networks\":[{"},
		{"\"bridge\":{\"IPAMConfig\"", "\"bridge\":5,\"x\":{\"IPAMConfig\""},
		{"\"IPAddress\":\"198.18.0.2\",\"IPPrefixLen\"",
		 "\"IPAddress\":\"198.18.0.256\",\"IPPrefixLen\""},
		{"\"IPAddress\":\"198.18.0.2\",\"IPPrefixLen\"",
		 "\"IPAddress\":\"2001:db8::2\",\"IPPrefixLen\""},
		{"\"IPPrefixLen\":24", "\"IPPrefixLen\":33"},
		{"\"GlobalIPv6PrefixLen\":64", "\"GlobalIPv6PrefixLen\":129"},
		{"\"GlobalIPv6Address\":\"2001:db8:9::2\"", "\"GlobalIPv6Address\":\"198.18.0.2\""},
		{"\"Gateway\":\"198.18.0.1\"", "\"Gateway\":\"gw\""},
		{"\"IPv6Gateway\":\"2001:db8:9::1\"", "\"IPv6Gateway\":1"},
		{"\"MacAddress\":\"02:42:c6:12:00:02\"", "\"MacAddress\":\"01:00:5e:00:00:01\""},
		{"\"MacAddress\":\"02:42:c6:12:00:02\"", "\"MacAddress\":\"02:42\""},
		{"\"bridge\":{", "\"br\\u0001\":{"},
		{"\"bridge\":{", "\"\":{"},
		/* duplicate keys are refused, not resolved either way */
		{"\"Name\":\"/web\"", "\"Name\":\"/web\",\"Name\":\"/other\""},
	};
	struct lj_engine_container c;
	struct lj_engine_err err = {""};
	char many[8192];
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_mutated(bad[i][0], bad[i][1]) != -EPROTO)
			fail_msg("accepted hostile input #%zu: %s", i, bad[i][1]);
	}
	/* Not JSON, not an object, truncated, empty. */
	assert_int_equal(parse("", &c, &err), -EPROTO);
	assert_int_equal(parse("[]", &c, &err), -EPROTO);
	assert_int_equal(parse("null", &c, &err), -EPROTO);
	assert_int_equal(lj_engine_parse_inspect(docker_json, sizeof(docker_json) / 2, &c, &err),
			 -EPROTO);
	/* Missing State. */
	assert_int_equal(parse("{\"Id\":\"" ID "\",\"Name\":\"/x\"}", &c, &err), -EPROTO);
	/* A network name of 127 bytes is fine, 128 is not. */
	len = (size_t)snprintf(
		many, sizeof(many),
		"{\"Id\":\"" ID "\",\"Name\":\"/x\",\"State\":"
		"{\"Running\":false,\"Pid\":0},\"NetworkSettings\":{\"Networks\":{\"");
	memset(many + len, 'n', 127);
	snprintf(many + len + 127, sizeof(many) - len - 127, "\":{}}}}");
	assert_int_equal(parse(many, &c, &err), 0);
	memset(many + len, 'n', 128);
	snprintf(many + len + 128, sizeof(many) - len - 128, "\":{}}}}");
	assert_int_equal(parse(many, &c, &err), -EPROTO);
	/* More networks than lanjoin keeps. */
	len = (size_t)snprintf(many, sizeof(many),
			       "{\"Id\":\"" ID "\",\"Name\":\"/x\",\"State\":"
			       "{\"Running\":false,\"Pid\":0},\"NetworkSettings\":{\"Networks\":{");
	for (int i = 0; i <= LJ_ENGINE_MAX_NETS; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, "%s\"n%d\":{}",
					i ? "," : "", i);
	snprintf(many + len, sizeof(many) - len, "}}}");
	assert_int_equal(parse(many, &c, &err), -EPROTO);
	/* Deep nesting in an ignored field does not crash. */
	len = (size_t)snprintf(many, sizeof(many), "{\"Id\":\"" ID "\",\"X\":");
	for (int i = 0; i < 3000 && len < sizeof(many) - 1; i++)
		many[len++] = '[';
	many[len] = '\0';
	assert_int_equal(parse(many, &c, &err), -EPROTO);
}

static void test_names_and_docker_host(void **state)
{
	char buf[LJ_ENGINE_SOCKET_MAX];
	char longname[300];

	assert_true(lj_engine_name_valid("web"));
	assert_true(lj_engine_name_valid("a1_b.c-d"));
	assert_true(lj_engine_name_valid(ID));
	assert_false(lj_engine_name_valid(""));
	assert_false(lj_engine_name_valid("-web"));
	assert_false(lj_engine_name_valid("_web"));
	assert_false(lj_engine_name_valid("web/x"));
	assert_false(lj_engine_name_valid("web?x=1"));
	assert_false(lj_engine_name_valid("we b"));
	assert_false(lj_engine_name_valid("../x"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(lj_engine_name_valid(longname));

	assert_int_equal(
		lj_engine_parse_docker_host("unix:///var/run/docker.sock", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/run/docker.sock");
	assert_int_equal(lj_engine_parse_docker_host("tcp://127.0.0.1:2375", buf, sizeof(buf)),
			 -EPROTONOSUPPORT);
	assert_int_equal(lj_engine_parse_docker_host("ssh://x@y", buf, sizeof(buf)),
			 -EPROTONOSUPPORT);
	assert_int_equal(lj_engine_parse_docker_host("unix://relative.sock", buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(lj_engine_parse_docker_host("unix://", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(lj_engine_parse_docker_host("/var/run/docker.sock", buf, sizeof(buf)),
			 -EINVAL);
	snprintf(longname, sizeof(longname), "unix:///%0200d", 0);
	assert_int_equal(lj_engine_parse_docker_host(longname, buf, sizeof(buf)), -EINVAL);
}

static void test_socket_choice(void **state)
{
	char buf[LJ_ENGINE_SOCKET_MAX];
	struct lj_engine_err err = {""};

	setenv("DOCKER_HOST", "unix:///d/docker.sock", 1);
	setenv("LANJOIN_ENGINE_SOCKET", "/l/engine.sock", 1);
	assert_int_equal(lj_engine_set_socket("/o/override.sock"), 0);
	assert_int_equal(lj_engine_socket(buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/o/override.sock");
	lj_engine_set_socket(NULL);
	assert_int_equal(lj_engine_socket(buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/l/engine.sock");
	unsetenv("LANJOIN_ENGINE_SOCKET");
	assert_int_equal(lj_engine_socket(buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/d/docker.sock");
	setenv("DOCKER_HOST", "tcp://127.0.0.1:2375", 1);
	assert_int_equal(lj_engine_socket(buf, sizeof(buf), &err), -EPROTONOSUPPORT);
	assert_non_null(strstr(err.msg, "DOCKER_HOST=tcp://127.0.0.1:2375"));
	unsetenv("DOCKER_HOST");
	assert_int_equal(lj_engine_set_socket("relative.sock"), -EINVAL);
	setenv("LANJOIN_ENGINE_SOCKET", "relative.sock", 1);
	assert_int_equal(lj_engine_socket(buf, sizeof(buf), &err), -EINVAL);
	unsetenv("LANJOIN_ENGINE_SOCKET");
}

static void test_pick_address(void **state)
{
	struct lj_engine_container c;
	struct lj_engine_err err = {""};
	struct lj_cidr a;
	char buf[64];

	assert_int_equal(parse(docker_json, &c, &err), 0);
	assert_int_equal(lj_engine_pick_address(&c, NULL, AF_INET, &a, &err), 0);
	assert_string_equal(lj_cidr_to_string(&a, buf, sizeof(buf)), "198.18.0.2/24");
	assert_int_equal(lj_engine_pick_address(&c, "bridge", AF_INET6, &a, &err), 0);
	assert_string_equal(lj_cidr_to_string(&a, buf, sizeof(buf)), "2001:db8:9::2/64");
	assert_int_equal(lj_engine_pick_address(&c, "none", AF_INET, &a, &err), -EADDRNOTAVAIL);
	assert_int_equal(lj_engine_pick_address(&c, "nosuch", AF_INET, &a, &err), -ENONET);
	assert_non_null(strstr(err.msg, "is not on network 'nosuch' (its networks: bridge, none)"));
	/* two networks with IPv4: ambiguous without a name */
	c.nets[1].ipv4 = c.nets[0].ipv4;
	assert_int_equal(lj_engine_pick_address(&c, NULL, AF_INET, &a, &err), -ENOTUNIQ);
	assert_non_null(strstr(err.msg, "bridge, none"));
	assert_int_equal(lj_engine_pick_address(&c, "none", AF_INET, &a, &err), 0);
}

/* --- against a canned server --------------------------------------------------------------- */

static char sock_path[108];

/* Serve one connection per canned answer, then exit. */
static pid_t serve(const char *const *answers, size_t n)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;
	pid_t pid;

	snprintf(sock_path, sizeof(sock_path), "/tmp/lj-test-engine.%d.sock", (int)getpid());
	unlink(sock_path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (size_t i = 0; i < n; i++) {
			char req[4096];
			int c = accept(fd, NULL, NULL);
			if (c < 0)
				_exit(1);
			if (read(c, req, sizeof(req)) <= 0) /* one small GET fits */
				_exit(1);
			if (strcmp(answers[i], "HUGE") == 0) {
				static char chunk[65536];
				const char *h =
					"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n";
				memset(chunk, ' ', sizeof(chunk));
				if (write(c, h, strlen(h)) < 0)
					_exit(1);
				for (int k = 0; k < 200; k++)
					if (write(c, chunk, sizeof(chunk)) < 0)
						break;
			} else if (write(c, answers[i], strlen(answers[i])) < 0) {
				_exit(1);
			}
			close(c);
		}
		_exit(0);
	}
	close(fd);
	lj_engine_set_socket(sock_path);
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	unlink(sock_path);
	lj_engine_set_socket(NULL);
}

static char *http(const char *status, const char *body)
{
	static char buf[4][16384];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]),
		 "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 status, strlen(body), body);
	return b;
}

static void test_http_answers(void **state)
{
	struct lj_engine_container c;
	struct lj_engine_err err = {""};
	const char *answers[3];
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	answers[0] = http("200 OK", docker_json);
	pid = serve(answers, 1);
	assert_int_equal(lj_engine_inspect("web", &c, &err), 0);
	assert_int_equal(c.pid, 9495);
	reap(pid);

	answers[0] = http("404 Not Found", "{\"message\":\"No such container: web\"}");
	pid = serve(answers, 1);
	assert_int_equal(lj_engine_inspect("web", &c, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "No such container: web"));
	assert_non_null(strstr(err.msg, sock_path));
	reap(pid);

	/* An error answer: the engine's text is passed through (control characters blanked). */
	answers[0] = http("500 Internal Server Error", "{\"message\":\"boom\\nsecond line\"}");
	pid = serve(answers, 1);
	assert_int_equal(lj_engine_inspect("web", &c, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "HTTP 500"));
	assert_non_null(strstr(err.msg, "boom second line"));
	reap(pid);

	/* Docker's answer to an ambiguous prefix, then the list that shows it is one. */
	answers[0] = http("500 Internal Server Error",
			  "{\"message\":\"Multiple IDs found with provided prefix: d9\"}");
	answers[1] = http(
		"200 OK",
		"[{\"Id\":\"" ID "\"},{\"Id\":\"d9" ID "\"},"
		"{\"Id\":\"d9ff14409a5d63dfa5402ca0f9a56073c9cc86830c09fb0d63791d82c5a77de9\"}]");
	/* (the second entry is not a valid ID and is ignored) */
	pid = serve(answers, 2);
	assert_int_equal(lj_engine_inspect("d9", &c, &err), -ENOTUNIQ);
	assert_non_null(strstr(err.msg, "ambiguous"));
	assert_non_null(strstr(err.msg, "d9e814409a5d"));
	reap(pid);

	/* Malformed 200 answers. */
	answers[0] = http("200 OK", "{\"Id\":");
	pid = serve(answers, 1);
	assert_int_equal(lj_engine_inspect("web", &c, &err), -EPROTO);
	reap(pid);
	answers[0] = "this is not HTTP\r\n\r\n";
	pid = serve(answers, 1);
	assert_true(lj_engine_inspect("web", &c, &err) < 0);
	reap(pid);

	/* An endless answer is cut off. */
	answers[0] = "HUGE";
	pid = serve(answers, 1);
	assert_int_equal(lj_engine_inspect("web", &c, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "over"));
	reap(pid);

	/* Nobody there. */
	lj_engine_set_socket("/tmp/lj-test-engine-nonexistent.sock");
	assert_int_equal(lj_engine_inspect("web", &c, &err), -ECONNREFUSED);
	assert_non_null(strstr(err.msg, "/tmp/lj-test-engine-nonexistent.sock"));
	lj_engine_set_socket(NULL);

	/* Invalid names never reach the engine. */
	assert_int_equal(lj_engine_inspect("web/../../x", &c, &err), -EINVAL);
}

/* An inspect answer naming pid, started at `started`. */
static char *inspect_answer(pid_t pid, const char *started)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "{\"Id\":\"" ID "\",\"Name\":\"/web\",\"State\":{"
		 "\"Status\":\"running\",\"Running\":true,\"Pid\":%d,\"StartedAt\":\"%s\"}}",
		 (int)pid, started);
	return http("200 OK", body);
}

static bool same_netns_as_self(int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat("/proc/self/ns/net", &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static void test_open_container_race(void **state)
{
	struct lj_engine_container c;
	struct lj_engine_err err = {""};
	const char *answers[6];
	pid_t child, pid;
	char *a1, *a2;
	int fd = -1, st;

	signal(SIGPIPE, SIG_IGN);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	a1 = inspect_answer(child, "2026-11-29T23:28:49.1Z");
	a2 = inspect_answer(child, "2026-11-29T23:28:50.2Z");

	/* The engine says the same twice and the process is alive: its namespace. */
	answers[0] = answers[1] = a1;
	pid = serve(answers, 2);
	assert_int_equal(lj_engine_open_container("web", &c, &fd, &err), 0);
	assert_int_equal(c.pid, child);
	assert_true(same_netns_as_self(fd)); /* the child shares ours */
	close(fd);
	reap(pid);

	/* The container restarted between the two questions, every time: -ESTALE, no fd. */
	for (int i = 0; i < 6; i++)
		answers[i] = i % 2 ? a2 : a1;
	pid = serve(answers, 6);
	fd = -1;
	assert_int_equal(lj_engine_open_container("web", &c, &fd, &err), -ESTALE);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err.msg, "restarting"));
	reap(pid);

	/* Removed meanwhile. */
	answers[0] = a1;
	answers[1] = http("404 Not Found", "{\"message\":\"No such container\"}");
	pid = serve(answers, 2);
	assert_int_equal(lj_engine_open_container("web", &c, &fd, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "removed"));
	reap(pid);

	/* The PID the engine names is gone (it died before it could be pinned), every time. */
	a1 = inspect_answer(4194303, "2026-11-29T23:28:49.1Z");
	answers[0] = answers[1] = answers[2] = a1;
	pid = serve(answers, 3);
	assert_int_equal(lj_engine_open_container("web", &c, &fd, &err), -ESTALE);
	reap(pid);

	kill(child, SIGKILL);
	waitpid(child, &st, 0);
}

/* GET /containers/json: each container's name and endpoint IDs; an invalid entry skipped. */
static void test_parse_endpoints(void **state)
{
	static const char e1[] = "1111111111111111111111111111111111111111111111111111111111111111";
	static const char e2[] = "2222222222222222222222222222222222222222222222222222222222222222";
	struct lj_engine_endpoint *v = NULL;
	size_t n = 9;
	char json[1024];

	snprintf(json, sizeof(json),
		 "[{\"Names\":[\"/web\"],\"NetworkSettings\":{\"Networks\":{"
		 "\"lan\":{\"EndpointID\":\"%s\"},\"bridge\":{\"EndpointID\":\"%s\"}}}},"
		 "{\"Names\":[\"/bad name\"],\"NetworkSettings\":{\"Networks\":{"
		 "\"lan\":{\"EndpointID\":\"%s\"}}}},"
		 "{\"Names\":[\"/db\"],\"NetworkSettings\":{\"Networks\":{"
		 "\"lan\":{\"EndpointID\":\"not-hex\"},\"x\":{\"EndpointID\":7}}}},"
		 "{\"Names\":7},42]",
		 e1, e2, e1);
	assert_int_equal(lj_engine_parse_endpoints(json, strlen(json), &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].endpoint_id, e1);
	assert_string_equal(v[0].container, "web");
	assert_string_equal(v[1].endpoint_id, e2);
	assert_string_equal(v[1].container, "web");
	free(v);
	assert_int_equal(lj_engine_parse_endpoints("{}", 2, &v, &n), -EPROTO);
	assert_int_equal(lj_engine_parse_endpoints("[", 1, &v, &n), -EPROTO);
	v = NULL;
	assert_int_equal(lj_engine_parse_endpoints("[]", 2, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_docker),
		cmocka_unit_test(test_parse_endpoints),
		cmocka_unit_test(test_parse_podman_and_stopped),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_names_and_docker_host),
		cmocka_unit_test(test_socket_choice),
		cmocka_unit_test(test_pick_address),
		cmocka_unit_test(test_http_answers),
		cmocka_unit_test(test_open_container_race),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
