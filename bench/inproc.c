/* SPDX-License-Identifier: MIT */
/*
 * lj-bench-inproc: attaches from a process that is already running (bench-only, not
 * installed). lanjoin's long-running front ends (`lanjoin watch`, `lanjoin docker-plugin`)
 * attach without a process start or a dynamic loader; this measures them against the same
 * requests made by a running process.
 *
 *   lj-bench-inproc --way bridge|macvlan --n N [--rounds R] --prefix P --methods LIST
 *                   [--plugin-socket PATH --plugin-pid PID] [--log FILE]  > RESULTS
 *
 * Methods (LIST: comma-separated), each with its own bridge br-CODE or macvlan parent
 * mv-CODE (existing, in this process's namespace), containers /run/netns/P CODE-I
 * (existing namespaces) and addresses (198.18.128.0/18, a /20 each):
 *   floor-inproc   (fi) floor-ops.c's requests (lj-bench-floor's), in this process: per
 *                  attach the namespace entered, a socket opened there and the namespace
 *                  left again; the host's socket is kept across calls.
 *   lanjoin-inproc (li) what `lanjoin watch` does to attach again (cli/reconcile.c,
 *                  attach_spec): lj_attach() with the options its spec gives (the spec kept
 *                  in the record, the MAC given, --no-conflict-check, as the bench's lanjoin
 *                  method) and watch's session (core/session.h: the host's socket and
 *                  the state directory kept); detach: lj_detach(). State:
 *                  LANJOIN_STATE_DIR.
 *   driver-inproc  (di) a real `lanjoin docker-plugin` (PID --plugin-pid) on --plugin-socket,
 *                  called over HTTP (libcurl, one kept connection) as dockerd calls it:
 *                  CreateEndpoint, Join, ProgramExternalConnectivity; then what dockerd does
 *                  itself with the link Join names, with the floor's requests (moved into
 *                  the container, renamed eth1, up, address, default route). Detach:
 *                  RevokeExternalConnectivity, the link moved back (down, renamed, moved),
 *                  Leave, DeleteEndpoint. One network per run (CreateNetwork/DeleteNetwork
 *                  around it). Ops "join"/"leave": the plugin's calls alone (HTTP),
 *                  against floor-inproc's "join"/"leave": the floor's requests for the link
 *                  the driver hands over (in this namespace: a veth pair hostif fh-vI on br-fi
 *                  with fh-pI, or the macvlan fh-mI of mv-fi; then deleted). CPU includes the
 *                  plugin's threads (their schedstat run time); join/leave's CPU is the
 *                  plugin's alone.
 *
 * Per container index the methods run in a shuffled order (fixed seed), all attaches, then
 * all detaches; R rounds of that (N = 1: R = 30 in run.sh). Each call is timed from its
 * first request to its last answer (CLOCK_MONOTONIC), CPU time from getrusage(RUSAGE_SELF)
 * (plus the plugin's). The first attach of each method in the process is reported as op
 * "first", the others as "attach". RESULTS lines are lj-bench's: LABEL WALL_NS MAXRSS_KIB
 * STATUS CPU_NS, LABEL = way,N,method,op,index. Stops at the first failing call (status 1,
 * its error in --log).
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor-ops.h"
#include "lib/core/attach.h"
#include "lib/core/session.h"
#include "shared/name.h"

/* FLOOR_JOIN: the in-process floor of the driver's share (ops join, leave), with DRIVER. */
enum method { FLOOR, LANJOIN, DRIVER, FLOOR_JOIN, N_METHODS };

static const struct {
	const char *name, *code;
	int net; /* the /20: 198.18.(16 * net).0 */
} methods[N_METHODS] = {
	{"floor-inproc", "fi", 8},
	{"lanjoin-inproc", "li", 9},
	{"driver-inproc", "di", 10},
	{"floor-inproc", "fh", 8},
};

static const char *way, *prefix, *plugin_socket;
static bool bridge;
static long n_containers, rounds = 1;
static pid_t plugin_pid;
static FILE *log_file;
static int home = -1;
static struct floor_nl host;
static CURL *curl;
static char *net_id[N_METHODS];
static struct lj_session *session; /* watch's (cli/watch.c: one for all its attaches) */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_self_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* The run time of the plugin's threads so far (ns; /proc/PID/task/T/schedstat), 0 if none. */
static int64_t cpu_plugin_ns(void)
{
	char path[64];
	int64_t sum = 0;
	struct dirent *d;
	DIR *dir;

	if (!plugin_pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)plugin_pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		char p[320];
		long long t;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/%d/task/%s/schedstat", (int)plugin_pid, d->d_name);
		f = fopen(p, "re");
		if (f && fscanf(f, "%lld", &t) == 1)
			sum += t;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return sum;
}

/* Peak RSS in KiB: the plugin's (VmHWM) for the driver, this process's otherwise. */
static long max_rss(enum method m)
{
	struct rusage ru;
	char path[64], line[256];
	long kib = 0;
	FILE *f;

	if (m != DRIVER) {
		getrusage(RUSAGE_SELF, &ru);
		return ru.ru_maxrss;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)plugin_pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(log_file, fmt, ap);
	va_end(ap);
	fputc('\n', log_file);
	fflush(log_file);
}

/* --- the plugin over HTTP ----------------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *data)
{
	char **buf = data;
	size_t old = *buf ? strlen(*buf) : 0, add = size * n;
	char *b = realloc(*buf, old + add + 1);

	if (!b)
		return 0;
	memcpy(b + old, p, add);
	b[old + add] = '\0';
	*buf = b;
	return add;
}

/* POST req (stolen) to the plugin's call; the answer (new reference), or NULL (logged). */
static json_t *call(const char *path, json_t *req)
{
	char url[128], *body = json_dumps(req, JSON_COMPACT), *answer = NULL;
	json_t *resp = NULL;
	json_error_t jerr;
	CURLcode c;
	long status = 0;

	json_decref(req);
	snprintf(url, sizeof(url), "http://localhost/%s", path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	c = curl_easy_perform(curl);
	free(body);
	if (c != CURLE_OK) {
		fail("%s: %s", path, curl_easy_strerror(c));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	resp = json_loads(answer ? answer : "", 0, &jerr);
	if (status != 200 || !json_is_object(resp) ||
	    (json_string_value(json_object_get(resp, "Err")) &&
	     json_string_value(json_object_get(resp, "Err"))[0])) {
		fail("%s: HTTP %ld: %s", path, status, answer ? answer : "");
		json_decref(resp);
		resp = NULL;
	}
out:
	free(answer);
	return resp;
}

static int plugin_open(void)
{
	static struct curl_slist *headers;

	if (curl_global_init(CURL_GLOBAL_NOTHING) != 0 || !(curl = curl_easy_init()))
		return -ENOMEM;
	headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, plugin_socket);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	return 0;
}

/* CreateNetwork for method m's bridge or parent; net_id[m] its ID. */
static int network_create(enum method m)
{
	char pool[32], gw[32], dev[IFNAMSIZ];
	json_t *r;

	if (asprintf(&net_id[m], "%x%032x", 0xbe, methods[m].net) < 0)
		return -ENOMEM;
	snprintf(pool, sizeof(pool), "198.18.%d.0/20", 16 * methods[m].net);
	snprintf(gw, sizeof(gw), "198.18.%d.1/20", 16 * methods[m].net);
	snprintf(dev, sizeof(dev), "%s-%s", bridge ? "br" : "mv", methods[m].code);
	r = call("NetworkDriver.CreateNetwork",
		 json_pack("{ss s{s{ssss}} s[{ssss}]}", "NetworkID", net_id[m], "Options",
			   "com.docker.network.generic", "mode", bridge ? "bridge" : "macvlan",
			   bridge ? "bridge" : "parent", dev, "IPv4Data", "Pool", pool, "Gateway",
			   gw));
	json_decref(r);
	return r ? 0 : -EIO;
}

static void network_delete(enum method m)
{
	if (net_id[m])
		json_decref(call("NetworkDriver.DeleteNetwork",
				 json_pack("{ss}", "NetworkID", net_id[m])));
}

/* --- one container -------------------------------------------------------------------- */

struct slot {
	char ns[128], target[160], cidr[64], gw[32], hostif[IFNAMSIZ + 8], eid[40];
	char src[IFNAMSIZ]; /* driver: the link Join named */
	unsigned ifindex;   /* driver: the link in the container */
};

static void slot_init(struct slot *s, enum method m, long round, long i)
{
	long off = i + 2;

	if (m == FLOOR_JOIN) {
		/* no container: the floor's link for a driver to hand over, in br-fi / mv-fi */
		snprintf(s->hostif, sizeof(s->hostif), "fh-v%ld", i % 100000);
		snprintf(s->src, sizeof(s->src), "fh-%c%ld", bridge ? 'p' : 'm', i % 100000);
		return;
	}
	snprintf(s->ns, sizeof(s->ns), "/run/netns/%s%s-%ld", prefix, methods[m].code, i);
	snprintf(s->target, sizeof(s->target), "netns:%s%s-%ld", prefix, methods[m].code, i);
	snprintf(s->cidr, sizeof(s->cidr), "198.18.%ld.%ld/20", 16 * methods[m].net + off / 256,
		 off % 256);
	snprintf(s->gw, sizeof(s->gw), "198.18.%d.1", 16 * methods[m].net);
	snprintf(s->hostif, sizeof(s->hostif), "%s-v%ld", methods[m].code, i % 100000);
	snprintf(s->eid, sizeof(s->eid), "%08lx%08lx", (unsigned long)round, (unsigned long)i);
}

/* What watch's re-attach passes lj_attach (cli/reconcile.c attach_spec). */
static int lanjoin_attach(struct slot *s)
{
	struct lj_attach_opts o = {0};
	struct lj_result res = {0};
	char mac[LJ_MAC_STRLEN], dev[IFNAMSIZ];
	int r;

	snprintf(dev, sizeof(dev), "%s-li", bridge ? "br" : "mv");
	o.way = bridge ? LJ_WAY_BRIDGE : LJ_WAY_MACVLAN;
	o.target = s->target;
	snprintf(o.ifname, sizeof(o.ifname), "eth1");
	if (lj_parse_cidr(s->cidr, true, &o.ips[0]) < 0 || lj_parse_ip(s->gw, &o.gateways[0]) < 0)
		return -EINVAL;
	o.n_ips = o.n_gateways = 1;
	o.no_conflict_check = true;
	o.session = session;
	if (bridge)
		snprintf(o.bridge, sizeof(o.bridge), "%s", dev);
	else
		snprintf(o.parent, sizeof(o.parent), "%s", dev);
	/* the spec --persist kept, with the MAC it gave */
	lj_mac_from_name(s->target, o.mac);
	o.has_mac = true;
	lj_mac_to_string(o.mac, mac, sizeof(mac));
	o.spec = json_pack("{ss ss ss ss s[s] s[s] sb ss}", "way", way, "target", s->target,
			   "ifname", "eth1", bridge ? "bridge" : "parent", dev, "ip", s->cidr,
			   "gateway", s->gw, "no-conflict-check", true, "mac", mac);
	r = o.spec ? lj_attach(&o, &res) : -ENOMEM;
	if (r < 0)
		fail("lj_attach %s: %s", s->target, res.message);
	json_decref(o.spec);
	lj_result_done(&res);
	return r;
}

static int lanjoin_detach(struct slot *s)
{
	struct lj_result res = {0};
	int r = lj_detach(s->target, NULL, 0, &res);

	if (r < 0)
		fail("lj_detach %s: %s", s->target, res.message);
	lj_result_done(&res);
	return r;
}

static json_t *ep_req(const struct slot *s)
{
	return json_pack("{ssss}", "NetworkID", net_id[DRIVER], "EndpointID", s->eid);
}

/* The driver's calls of an attach; *http: their time. */
static int driver_attach(struct slot *s, int64_t *http)
{
	int64_t t0 = now_ns();
	json_t *r, *req = ep_req(s);
	const char *src;

	json_object_set_new(req, "Interface", json_pack("{ss}", "Address", s->cidr));
	json_object_set_new(req, "Options", json_object());
	r = call("NetworkDriver.CreateEndpoint", req);
	json_decref(r);
	if (!r)
		return -EIO;
	req = ep_req(s);
	json_object_set_new(req, "SandboxKey", json_string(s->ns));
	json_object_set_new(req, "Options", json_object());
	r = call("NetworkDriver.Join", req);
	src = json_string_value(json_object_get(json_object_get(r, "InterfaceName"), "SrcName"));
	if (src)
		snprintf(s->src, sizeof(s->src), "%s", src);
	json_decref(r);
	if (!src)
		return -EIO;
	req = ep_req(s);
	json_object_set_new(req, "Options", json_object());
	r = call("NetworkDriver.ProgramExternalConnectivity", req);
	json_decref(r);
	if (!r)
		return -EIO;
	*http = now_ns() - t0;
	return 0;
}

static int driver_call(const char *path, const struct slot *s)
{
	json_t *r = call(path, ep_req(s));

	json_decref(r);
	return r ? 0 : -EIO;
}

/* One attach or detach of method m in s; *http: the driver's HTTP share. */
static int one(enum method m, bool attach, struct slot *s, int64_t *http)
{
	int nsfd = -1, r = 0;
	int64_t t;

	*http = 0;
	if (m == FLOOR_JOIN) {
		if (attach)
			r = floor_handoff(&host, bridge ? "br-fj" : NULL, s->hostif, "mv-fi",
					  s->src);
		else
			r = floor_del(&host, bridge ? s->hostif : s->src);
		if (r < 0)
			fail("floor %s: %s: %s", s->src, host.what, strerror(-r));
		return r;
	}
	if (m != LANJOIN) {
		nsfd = open(s->ns, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0) {
			fail("%s: %s", s->ns, strerror(errno));
			return -errno;
		}
	}
	switch (m) {
	case FLOOR:
		if (attach && bridge)
			r = floor_veth(&host, nsfd, home, s->hostif, "eth1", "br-fi", s->cidr,
				       s->gw);
		else if (attach)
			r = floor_macvlan(&host, nsfd, home, "mv-fi", "eth1", s->cidr, s->gw);
		else if (bridge)
			r = floor_del(&host, s->hostif);
		else
			r = floor_del_in(nsfd, home, "eth1");
		if (r < 0)
			fail("floor %s: %s: %s", s->ns, host.what, strerror(-r));
		break;
	case LANJOIN:
		r = attach ? lanjoin_attach(s) : lanjoin_detach(s);
		break;
	case DRIVER:
		if (attach) {
			r = driver_attach(s, http);
			if (r == 0)
				r = floor_take_in(&host, nsfd, home, s->src, "eth1", s->cidr, s->gw,
						  &s->ifindex);
			if (r < 0 && !*http)
				break;
		} else {
			t = now_ns();
			r = driver_call("NetworkDriver.RevokeExternalConnectivity", s);
			*http = now_ns() - t;
			if (r == 0)
				r = floor_take_back(nsfd, home, s->ifindex, s->src);
			if (r < 0)
				fail("move back %s: %s", s->src, strerror(-r));
			t = now_ns();
			if (r == 0)
				r = driver_call("NetworkDriver.Leave", s);
			if (r == 0)
				r = driver_call("NetworkDriver.DeleteEndpoint", s);
			*http += now_ns() - t;
			break;
		}
		if (r < 0)
			fail("take in %s: %s: %s", s->src, host.what, strerror(-r));
		break;
	case FLOOR_JOIN:
	case N_METHODS:
		break;
	}
	if (nsfd >= 0)
		close(nsfd);
	return r;
}

/* --- the schedule --------------------------------------------------------------------- */

static uint32_t rng = 11;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void print(enum method m, const char *op, long i, int64_t ns, int status, int64_t cpu)
{
	printf("%s,%ld,%s,%s,%ld\t%lld\t%ld\t%d\t%lld\n", way, n_containers, methods[m].name, op, i,
	       (long long)ns, max_rss(m), status, (long long)cpu);
	fflush(stdout);
}

static int run(const enum method *use, size_t n_use)
{
	struct slot *slots = calloc((size_t)n_containers * N_METHODS, sizeof(*slots));
	bool first[N_METHODS] = {true, true, true, true};
	enum method order[N_METHODS];

	if (!slots)
		return -ENOMEM;
	for (long round = 0; round < rounds; round++)
		for (int attach = 1; attach >= 0; attach--)
			for (long i = 0; i < n_containers; i++) {
				memcpy(order, use, n_use * sizeof(*use));
				for (size_t k = n_use - 1; k > 0; k--) {
					size_t j = next_random() % (k + 1);
					enum method t = order[k];
					order[k] = order[j];
					order[j] = t;
				}
				for (size_t k = 0; k < n_use; k++) {
					enum method m = order[k];
					struct slot *s = &slots[i * N_METHODS + m];
					int64_t t0, t1, c0, c1, p0, p1, http;
					const char *op = attach ? "attach" : "detach";
					int r;

					if (attach)
						slot_init(s, m, round, i);
					c0 = cpu_self_ns();
					p0 = m == DRIVER ? cpu_plugin_ns() : 0;
					t0 = now_ns();
					r = one(m, attach, s, &http);
					t1 = now_ns();
					c1 = cpu_self_ns();
					p1 = m == DRIVER ? cpu_plugin_ns() : 0;
					/* lanjoin's announcement leaves a child nobody waits for
					 * (kernel/arp.c): reaped here, off the clock */
					while (waitpid(-1, NULL, WNOHANG) > 0)
						;
					if (m == FLOOR_JOIN)
						op = attach ? "join" : "leave";
					else if (attach && first[m])
						op = "first";
					first[m] &= !attach;
					print(m, op, i, t1 - t0, r < 0, c1 - c0 + p1 - p0);
					/* the plugin's share: its CPU is all spent in its calls */
					if (http)
						print(m, attach ? "join" : "leave", i, http, r < 0,
						      p1 - p0);
					if (r < 0) {
						free(slots);
						return r;
					}
				}
			}
	free(slots);
	return 0;
}

static int parse_methods(char *list, enum method *use, size_t *n_use)
{
	char *tok;

	*n_use = 0;
	while ((tok = strsep(&list, ","))) {
		size_t m;

		for (m = 0; m < N_METHODS && strcmp(tok, methods[m].name); m++)
			;
		if (m >= FLOOR_JOIN || *n_use == N_METHODS)
			return -EINVAL;
		use[(*n_use)++] = (enum method)m;
		if (m == DRIVER && *n_use < N_METHODS)
			use[(*n_use)++] = FLOOR_JOIN;
	}
	return *n_use ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"way", required_argument, NULL, 'w'},
		{"n", required_argument, NULL, 'n'},
		{"rounds", required_argument, NULL, 'r'},
		{"prefix", required_argument, NULL, 'p'},
		{"methods", required_argument, NULL, 'm'},
		{"plugin-socket", required_argument, NULL, 's'},
		{"plugin-pid", required_argument, NULL, 'P'},
		{"log", required_argument, NULL, 'l'},
		{0},
	};
	enum method use[N_METHODS];
	size_t n_use = 0;
	char *list = NULL;
	bool driver = false;
	uint32_t seed = 0;
	int c, r;

	log_file = stderr;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			way = optarg;
			break;
		case 'n':
			n_containers = atol(optarg);
			break;
		case 'r':
			rounds = atol(optarg);
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'm':
			list = optarg;
			break;
		case 's':
			plugin_socket = optarg;
			break;
		case 'P':
			plugin_pid = (pid_t)atol(optarg);
			break;
		case 'l':
			log_file = fopen(optarg, "ae");
			if (!log_file)
				return 1;
			break;
		default:
			return 2;
		}
	}
	if (!way || (strcmp(way, "bridge") && strcmp(way, "macvlan")) || n_containers < 1 ||
	    rounds < 1 || !prefix || !list || parse_methods(list, use, &n_use) < 0) {
		fprintf(stderr, "usage: lj-bench-inproc --way bridge|macvlan --n N [--rounds R] "
				"--prefix P --methods LIST [--plugin-socket PATH --plugin-pid PID] "
				"[--log FILE]\n");
		return 2;
	}
	bridge = strcmp(way, "bridge") == 0;
	for (size_t k = 0; k < n_use; k++)
		driver |= use[k] == DRIVER;
	if (driver && (!plugin_socket || plugin_pid <= 0)) {
		fprintf(stderr, "lj-bench-inproc: driver-inproc needs --plugin-socket and "
				"--plugin-pid\n");
		return 2;
	}
	/* as lanjoin's main(): jansson's hash seed without /dev/urandom */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed) && seed)
		json_object_seed(seed);
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	r = home < 0 ? -errno : floor_open(&host);
	if (r == 0 && driver)
		r = plugin_open() < 0 ? -ENOMEM : network_create(DRIVER);
	if (r < 0) {
		fprintf(stderr, "lj-bench-inproc: cannot start: %s\n", strerror(-r));
		return 1;
	}
	if (lj_session_new(&session) < 0)
		session = NULL;
	r = run(use, n_use);
	lj_session_free(session);
	if (driver) {
		network_delete(DRIVER);
		curl_easy_cleanup(curl);
	}
	floor_close(&host);
	if (r < 0)
		fprintf(stderr, "lj-bench-inproc: a call failed (see the log)\n");
	return r < 0 ? 1 : 0;
}
