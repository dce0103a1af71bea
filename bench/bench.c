/* SPDX-License-Identifier: MIT */
/*
 * lj-bench: the benchmark's driver and report (bench-only, not installed).
 *
 *   lj-bench run [--log FILE] [--keep-going] < SCHEDULE > RESULTS
 *       Run the calls of a schedule one after the other, each as a fresh process (posix_spawn,
 *       minimal fixed environment, stdout to /dev/null, stderr to FILE), and time each call
 *       from just before the spawn to just after wait4(): wall time in ns and the peak RSS
 *       (ru_maxrss, KiB) that wait4 reports. Stops at the first failing call unless
 *       --keep-going.
 *   lj-bench report [--summary | --readme] < RESULTS > MARKDOWN
 *       Medians, p10, p90, totals, ratios to the floor and to the CNI plugin, peak RSS, the
 *       cost as the bridge fills, bulk teardown, and the targets, as Markdown tables.
 *       --summary: only a compact table of medians and ratios, one column per N; --readme:
 *       that and the bulk teardown table (what the README quotes).
 *
 * SCHEDULE: one line per process, fields separated by TABs:
 *       LABEL  CONT  STDIN  [NAME=VALUE ...]  --  ARGV0 ARGV1 ...
 *   LABEL  "way,N,method,op,index" (op: attach, detach, bulk; other ops are run, not reported)
 *   CONT   "." starts a call, "+" adds this process to the previous call (timed as one: e.g.
 *          the five `ip` commands of one attach)
 *   STDIN  "-" for /dev/null, else the text fed on stdin (a CNI network configuration)
 *   NAME=VALUE  environment entries besides PATH (CNI_COMMAND, LANJOIN_STATE_DIR, ...); a
 *          PATH=... entry replaces the fixed PATH
 *   Lines starting with '#' are ignored.
 * RESULTS: one line per call: LABEL  WALL_NS  MAXRSS_KIB  STATUS (exit code, 128+signal)  CPU_NS
 *   (CPU_NS: user + system time of the call's processes, from wait4; less sensitive to other
 *   load on the machine than the wall time, but blind to waits and to kernel work done
 *   elsewhere, such as deferred link deletion).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FIELDS 16384 /* per schedule line: a bulk call names up to 4000 links */

static const char *const fixed_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Split line at TABs in place. Returns the number of fields. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

struct call {
	char label[256];
	int64_t ns;
	int64_t cpu_ns;
	long rss;
	int status;
	bool open;
};

/* Spawn one process of a schedule line and wait for it; adds to c. Returns 0 or -errno. */
static int run_one(char **f, int n, int logfd, struct call *c)
{
	static char *env[MAX_FIELDS];
	char **argv = NULL;
	posix_spawn_file_actions_t fa;
	int pipefd[2] = {-1, -1}, ne = 0, status, r;
	struct rusage ru;
	int64_t t0;
	pid_t pid;

	env[ne++] = (char *)fixed_env[0];
	for (int i = 3; i < n; i++) {
		if (strcmp(f[i], "--") == 0) {
			argv = f + i + 1;
			break;
		}
		if (strncmp(f[i], "PATH=", 5) == 0)
			env[0] = f[i]; /* replaces the fixed one (ovs-docker's stand-in docker) */
		else
			env[ne++] = f[i];
	}
	env[ne] = NULL;
	if (!argv || !argv[0])
		return -EINVAL;
	f[n] = NULL;

	posix_spawn_file_actions_init(&fa);
	if (strcmp(f[2], "-") != 0) {
		size_t len = strlen(f[2]);
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			return -errno;
		/* The configuration is small: it fits the pipe before the child runs. */
		if (write(pipefd[1], f[2], len) != (ssize_t)len)
			return -EIO;
		close(pipefd[1]);
		posix_spawn_file_actions_adddup2(&fa, pipefd[0], 0);
	} else {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	}
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, logfd, 2);

	t0 = now_ns();
	r = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
	if (r == 0) {
		while (wait4(pid, &status, 0, &ru) < 0)
			if (errno != EINTR)
				return -errno;
		c->ns += now_ns() - t0;
		c->cpu_ns += ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
			     ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
		if (ru.ru_maxrss > c->rss)
			c->rss = ru.ru_maxrss;
		if (!c->status)
			c->status =
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	posix_spawn_file_actions_destroy(&fa);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	return r ? -r : 0;
}

static void flush_call(struct call *c)
{
	if (c->open)
		printf("%s\t%lld\t%ld\t%d\t%lld\n", c->label, (long long)c->ns, c->rss, c->status,
		       (long long)c->cpu_ns);
	fflush(stdout);
	c->open = false;
}

static int cmd_run(int argc, char **argv)
{
	const char *log = "/dev/null";
	bool keep_going = false;
	struct call c = {0};
	static char *f[MAX_FIELDS + 1];
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int logfd;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			log = argv[++i];
		else if (strcmp(argv[i], "--keep-going") == 0)
			keep_going = true;
		else {
			fprintf(stderr, "lj-bench run: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		fprintf(stderr, "lj-bench run: %s: %s\n", log, strerror(errno));
		return 1;
	}

	while ((len = getline(&line, &cap, stdin)) > 0) {
		int n, r;

		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len || line[0] == '#')
			continue;
		n = split(line, f, MAX_FIELDS);
		if (n == MAX_FIELDS && strchr(f[n - 1], '\t')) {
			fprintf(stderr, "lj-bench run: schedule line %zu has too many fields\n",
				lineno);
			return 2;
		}
		if (n < 5 || (strcmp(f[1], ".") != 0 && strcmp(f[1], "+") != 0)) {
			fprintf(stderr, "lj-bench run: schedule line %zu is malformed\n", lineno);
			return 2;
		}
		if (strcmp(f[1], ".") == 0) {
			flush_call(&c);
			if (c.status && !keep_going)
				break;
			memset(&c, 0, sizeof(c));
			snprintf(c.label, sizeof(c.label), "%s", f[0]);
			c.open = true;
		} else if (!c.open) {
			fprintf(stderr, "lj-bench run: schedule line %zu continues nothing\n",
				lineno);
			return 2;
		} else if (c.status) {
			continue; /* an earlier process of this call failed: skip the rest */
		}
		r = run_one(f, n, logfd, &c);
		if (r < 0) {
			fprintf(stderr, "lj-bench run: line %zu: cannot run '%s': %s\n", lineno,
				f[4], strerror(-r));
			return 1;
		}
		if (c.status) {
			dprintf(logfd, "lj-bench: call %s failed with status %d\n", c.label,
				c.status);
			fprintf(stderr, "lj-bench run: call %s failed with status %d (see %s)\n",
				c.label, c.status, log);
		}
	}
	flush_call(&c);
	free(line);
	close(logfd);
	return c.status && !keep_going ? 1 : 0;
}

/* --- report ----------------------------------------------------------------------------- */

struct group {
	char way[16], method[24], op[16];
	long n;
	double *ms;  /* per call, in schedule order */
	double *cpu; /* CPU time per call (ms) */
	long *idx;   /* the call's index (the number of ports before it, for attach) */
	size_t count, cap;
	double total_ms;
	long max_rss; /* KiB */
};

static struct group *groups;
static size_t n_groups, cap_groups;

static struct group *find(const char *way, long n, const char *method, const char *op)
{
	for (size_t i = 0; i < n_groups; i++) {
		struct group *g = &groups[i];
		if (g->n == n && !strcmp(g->way, way) && !strcmp(g->method, method) &&
		    !strcmp(g->op, op))
			return g;
	}
	return NULL;
}

static struct group *group_get(const char *way, long n, const char *method, const char *op)
{
	struct group *g = find(way, n, method, op);

	if (g)
		return g;
	if (n_groups == cap_groups) {
		cap_groups = cap_groups ? cap_groups * 2 : 64;
		groups = realloc(groups, cap_groups * sizeof(*groups));
		if (!groups)
			abort();
	}
	g = &groups[n_groups++];
	memset(g, 0, sizeof(*g));
	snprintf(g->way, sizeof(g->way), "%s", way);
	snprintf(g->method, sizeof(g->method), "%s", method);
	snprintf(g->op, sizeof(g->op), "%s", op);
	g->n = n;
	return g;
}

static void group_add(struct group *g, long idx, double ms, double cpu, long rss)
{
	if (g->count == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->ms = realloc(g->ms, g->cap * sizeof(*g->ms));
		g->cpu = realloc(g->cpu, g->cap * sizeof(*g->cpu));
		g->idx = realloc(g->idx, g->cap * sizeof(*g->idx));
		if (!g->ms || !g->cpu || !g->idx)
			abort();
	}
	g->ms[g->count] = ms;
	g->cpu[g->count] = cpu;
	g->idx[g->count] = idx;
	g->count++;
	g->total_ms += ms;
	if (rss > g->max_rss)
		g->max_rss = rss;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Percentile p (0..100) of sorted v[0..n), interpolating between ranks; NAN if n = 0. */
static double pct(const double *v, size_t n, double p)
{
	double rank;
	size_t lo;

	if (!n)
		return NAN;
	rank = p / 100.0 * (double)(n - 1);
	lo = (size_t)rank;
	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (rank - (double)lo) * (v[lo + 1] - v[lo]);
}

struct stats {
	size_t n;
	double p10, median, p90;
};

/* Percentiles of the calls of g (wall time, or CPU time) whose index is in [from, to). All NAN
 * for a NULL group. */
static struct stats stats_of(const struct group *g, long from, long to, bool cpu)
{
	struct stats st = {0, NAN, NAN, NAN};
	double *v;

	if (!g || !g->count)
		return st;
	v = malloc(g->count * sizeof(*v));
	if (!v)
		abort();
	for (size_t i = 0; i < g->count; i++)
		if (g->idx[i] >= from && g->idx[i] < to)
			v[st.n++] = cpu ? g->cpu[i] : g->ms[i];
	qsort(v, st.n, sizeof(*v), cmp_double);
	st.p10 = pct(v, st.n, 10);
	st.median = pct(v, st.n, 50);
	st.p90 = pct(v, st.n, 90);
	free(v);
	return st;
}

static struct stats stats_range(const struct group *g, long from, long to)
{
	return stats_of(g, from, to, false);
}

static struct stats stats(const struct group *g)
{
	return stats_range(g, 0, LONG_MAX);
}

static struct stats stats_cpu(const struct group *g)
{
	return stats_of(g, 0, LONG_MAX, true);
}

static void print_ratio(double x)
{
	if (isnan(x))
		printf(" – |");
	else
		printf(" %.2f× |", x);
}

static const char *const method_order[] = {"floor",
					   "lanjoin",
					   "lanjoin-tmpfs",
					   "lanjoin-default",
					   "lanjoin-cni",
					   "ip",
					   "cni",
					   "lanjoin-bridge",
					   "ovs-docker",
					   "floor-inproc",
					   "lanjoin-inproc",
					   "driver-inproc",
					   "floor-announce"};

/* The second reference of a way's ratios: the CNI reference plugin; for the ovs way (which has
 * none) lanjoin's bridge attach, run interleaved with it (the target: ovs <= 2x it). */
static const char *second_ref(const char *way)
{
	return !strcmp(way, "ovs") ? "lanjoin-bridge" : "cni";
}

/* The floor a method is measured against: the in-process floor for the in-process methods
 * (lj-bench-inproc), else the floor's process. */
static const char *floor_of(const char *method)
{
	size_t n = strlen(method);

	return n > 7 && !strcmp(method + n - 7, "-inproc") ? "floor-inproc" : "floor";
}

static bool is_floor(const char *method)
{
	return !strcmp(method, floor_of(method));
}

static int method_rank(const char *m)
{
	for (size_t i = 0; i < sizeof(method_order) / sizeof(method_order[0]); i++)
		if (!strcmp(m, method_order[i]))
			return (int)i;
	return 100;
}

/* Reported ops, in order: lj-bench-inproc adds "first" (a process's first attach), "join" and
 * "leave" (the Docker plugin's share of its calls, and the floor's for the same links). */
static const char *const op_order[] = {"attach", "first", "join", "detach", "leave", "bulk"};

static int op_rank(const char *op)
{
	for (size_t i = 0; i < sizeof(op_order) / sizeof(op_order[0]); i++)
		if (!strcmp(op, op_order[i]))
			return (int)i;
	return -1;
}

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	int c = strcmp(x->way, y->way);

	if (c)
		return c;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	if (op_rank(x->op) != op_rank(y->op))
		return op_rank(x->op) - op_rank(y->op);
	return method_rank(x->method) - method_rank(y->method);
}

/* The targets: one row, "met" when measured <= limit. */
static void target_row(const char *what, double measured, const char *unit, double limit)
{
	printf("| %s | ", what);
	if (isnan(measured))
		printf("– | %s%.2f%s | not measured |\n", "≤ ", limit, unit);
	else
		printf("%.2f%s | ≤ %.2f%s | %s |\n", measured, unit, limit, unit,
		       measured <= limit ? "met" : "**missed**");
}

/* Is method one of lj-bench-inproc's (reported in a section of its own)? */
static bool is_inproc(const char *method)
{
	return strcmp(floor_of(method), "floor-inproc") == 0;
}

/*
 * The compact table the README quotes: one row per way, op and method, one column per N. inproc:
 * the in-process methods' table (nothing if there are none), else the others'.
 */
static void print_summary(bool inproc)
{
	bool any = false;

	long ns[8];
	size_t n_ns = 0;

	for (size_t i = 0; i < n_groups; i++) {
		bool seen = false;
		for (size_t k = 0; k < n_ns; k++)
			seen |= ns[k] == groups[i].n;
		if (!seen && n_ns < 8)
			ns[n_ns++] = groups[i].n;
	}
	for (size_t a = 0; a < n_ns; a++)
		for (size_t b = a + 1; b < n_ns; b++)
			if (ns[b] < ns[a]) {
				long t = ns[a];
				ns[a] = ns[b];
				ns[b] = t;
			}
	for (size_t i = 0; i < n_groups; i++)
		any |= is_inproc(groups[i].method) == inproc;
	if (!any)
		return;
	if (inproc)
		printf("\nIn process (lj-bench-inproc: the calls of `lanjoin watch` and of the "
		       "Docker "
		       "plugin, from a running process), median ms per call (× the in-process "
		       "floor's median):\n\n| way | op | method |");
	else
		printf("Median ms per call (× the floor's median / × the CNI plugin's; ovs way: / "
		       "× lanjoin's bridge attach, lanjoin-bridge):\n\n| way | op | method |");
	for (size_t k = 0; k < n_ns; k++)
		printf(" N = %ld |", ns[k]);
	printf("\n|---|---|---|");
	for (size_t k = 0; k < n_ns; k++)
		printf("---:|");
	printf("\n");
	for (size_t i = 0; i < n_groups; i++) {
		const struct group *g = &groups[i];
		bool first = true;

		if (!strcmp(g->op, "bulk") || is_inproc(g->method) != inproc)
			continue;
		/* one row per (way, op, method): print it at its first group */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(groups[j].way, g->way) && !strcmp(groups[j].op, g->op) &&
			    !strcmp(groups[j].method, g->method))
				first = false;
		if (!first)
			continue;
		printf("| %s | %s | %s |", g->way, g->op, g->method);
		for (size_t k = 0; k < n_ns; k++) {
			const struct group *h = find(g->way, ns[k], g->method, g->op);
			double m = stats(h).median;
			double f = stats(find(g->way, ns[k], floor_of(g->method), g->op)).median;
			double c = stats(find(g->way, ns[k], second_ref(g->way), g->op)).median;

			if (!h) {
				printf(" – |");
				continue;
			}
			printf(" %.1f (", m);
			if (isnan(f) || is_floor(g->method))
				printf("–");
			else
				printf("%.2f×", m / f);
			if (inproc) /* no CNI plugin in process */
				printf(") |");
			else if (isnan(c) || !strcmp(g->method, second_ref(g->way)))
				printf(" / –) |");
			else
				printf(" / %.2f×) |", m / c);
		}
		printf("\n");
	}
}

/*
 * lanjoin's attach against the floor that also announces (floor-announce: the same work and
 * the one gratuitous ARP lanjoin has the kernel make, which the kernel copies to every port of
 * the bridge or macvlan of the parent): lanjoin's own cost beside the announcement's. Wall
 * and CPU medians; nothing without floor-announce.
 */
static void print_announce(void)
{
	bool any = false;

	for (size_t i = 0; i < n_groups; i++) {
		const struct group *g = &groups[i], *a, *f;

		if (strcmp(g->method, "lanjoin") || strcmp(g->op, "attach") ||
		    !(a = find(g->way, g->n, "floor-announce", "attach")))
			continue;
		f = find(g->way, g->n, "floor", "attach");
		if (!any)
			printf("\nlanjoin's attach against the floor that also announces "
			       "(floor-announce: the floor's work and one gratuitous ARP made "
			       "by the kernel, copied to every port of the bridge or macvlan of "
			       "the parent; the plain floor announces nothing), median ms:\n\n"
			       "| way | N | floor | floor-announce | lanjoin | lanjoin × "
			       "floor-announce | CPU × floor-announce |\n"
			       "|---|---:|---:|---:|---:|---:|---:|\n");
		any = true;
		printf("| %s | %ld | %.2f | %.2f | %.2f |", g->way, g->n, stats(f).median,
		       stats(a).median, stats(g).median);
		print_ratio(stats(g).median / stats(a).median);
		print_ratio(stats_cpu(g).median / stats_cpu(a).median);
		printf("\n");
	}
}

/* The bulk teardown table (nothing if the run had no bulk calls). */
static void print_bulk(void)
{
	bool any_bulk = false;
	for (size_t i = 0; i < n_groups; i++) {
		struct group *g = &groups[i], *single;

		if (strcmp(g->op, "bulk"))
			continue;
		if (!any_bulk) {
			printf("\nBulk teardown: one call removing all N attachments, against the "
			       "N "
			       "single detaches of the same method above.\n\n");
			printf("| way | N | method | bulk s | N single detaches s | bulk / singles "
			       "|\n");
			printf("|---|---:|---|---:|---:|---:|\n");
			any_bulk = true;
		}
		single = find(g->way, g->n, g->method, "detach");
		printf("| %s | %ld | %s | %.3f | %s", g->way, g->n, g->method, g->total_ms / 1000.0,
		       single ? "" : "– |");
		if (single)
			printf("%.3f |", single->total_ms / 1000.0);
		print_ratio(single ? g->total_ms / single->total_ms : NAN);
		printf("\n");
	}
}

/*
 * The full table: the process methods' (inproc false) or the in-process ones' (nothing if
 * there are none). Updates *max_rss_lj (the largest peak RSS of a lanjoin process, KiB) and
 * *fill_n (the largest N >= 200 with attaches).
 */
static void print_table(bool inproc, double *max_rss_lj, long *fill_n)
{
	bool any = false;

	for (size_t i = 0; i < n_groups; i++)
		any |= is_inproc(groups[i].method) == inproc;
	if (!any)
		return;
	if (!inproc)
		printf("Per call: wall time from spawn to exit, in ms. × floor, × CNI: this median "
		       "over the floor's, the CNI plugin's median (same way, N and operation; ovs "
		       "way: "
		       "× CNI is × lanjoin's bridge attach, method lanjoin-bridge, run "
		       "interleaved). "
		       "CPU: "
		       "user + system time of the call's processes (median; blind to kernel work "
		       "deferred to other threads, e.g. the wait of a link deletion). Peak RSS: "
		       "the "
		       "largest ru_maxrss of the calls.\n\n");
	else
		printf("\nIn process (bench/inproc.c): each method's calls made by one running "
		       "process, `lj-bench-inproc`, timed from the first request to the last "
		       "answer, "
		       "in ms. × floor: over the in-process floor's median (floor-inproc: the "
		       "floor's "
		       "requests from that process). first: the first attach of the process; "
		       "join, leave: the Docker plugin's share alone (its HTTP calls: "
		       "CreateEndpoint, Join, ProgramExternalConnectivity; "
		       "RevokeExternalConnectivity, Leave, DeleteEndpoint), against the floor's "
		       "requests for the link it hands over (in the host: a veth pair on the "
		       "bridge, or a macvlan; deleted). CPU: the "
		       "process's (and the plugin's threads'). Peak RSS: lj-bench-inproc's, or the "
		       "plugin's for driver-inproc.\n\n");
	printf("| way | N | op | method | calls | median ms | p10 | p90 | total s | × floor | "
	       "× CNI | CPU ms | CPU × floor | peak RSS MiB |\n");
	printf("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < n_groups; i++) {
		struct group *g = &groups[i];
		struct stats s = stats(g);

		if (!strcmp(g->op, "bulk") || is_inproc(g->method) != inproc)
			continue;
		printf("| %s | %ld | %s | %s | %zu | %.2f | %.2f | %.2f | %.2f |", g->way, g->n,
		       g->op, g->method, s.n, s.median, s.p10, s.p90, g->total_ms / 1000.0);
		print_ratio(s.median /
			    stats(find(g->way, g->n, floor_of(g->method), g->op)).median);
		print_ratio(s.median / stats(find(g->way, g->n, second_ref(g->way), g->op)).median);
		printf(" %.2f |", stats_cpu(g).median);
		print_ratio(stats_cpu(g).median /
			    stats_cpu(find(g->way, g->n, floor_of(g->method), g->op)).median);
		printf(" %.1f |\n", (double)g->max_rss / 1024.0);
		if (!strncmp(g->method, "lanjoin", 7) && !inproc &&
		    (isnan(*max_rss_lj) || g->max_rss > *max_rss_lj))
			*max_rss_lj = (double)g->max_rss;
		if (!strcmp(g->op, "attach") && g->n >= 200 && g->n > *fill_n)
			*fill_n = g->n;
	}
}

enum report_mode {
	REPORT_FULL,
	REPORT_SUMMARY, /* the summary table */
	REPORT_README,	/* the summary and bulk tables */
};

static int cmd_report(enum report_mode mode)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long fill_n = 0;
	double max_rss_lj = NAN;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		char *f[8], *l[8], *p, *tok;
		int n = 0, nf;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len || line[0] == '#' || (nf = split(line, f, 8)) < 4 || atoi(f[3]) != 0)
			continue;
		/* label: way,N,method,op,index */
		p = f[0];
		while ((tok = strsep(&p, ",")) && n < 8)
			l[n++] = tok;
		if (n != 5 || op_rank(l[3]) < 0)
			continue;
		group_add(group_get(l[0], atol(l[1]), l[2], l[3]), atol(l[4]),
			  (double)atoll(f[1]) / 1e6, nf >= 5 ? (double)atoll(f[4]) / 1e6 : NAN,
			  atol(f[2]));
	}
	free(line);
	if (!n_groups) {
		fprintf(stderr, "lj-bench report: no results\n");
		return 1;
	}
	qsort(groups, n_groups, sizeof(*groups), cmp_group);
	if (mode != REPORT_FULL) {
		print_summary(false);
		print_announce();
		print_summary(true);
		if (mode == REPORT_README)
			print_bulk();
		return 0;
	}

	print_table(false, &max_rss_lj, &fill_n);
	print_announce();
	print_table(true, &max_rss_lj, &fill_n);

	if (fill_n) {
		printf("\nAs the bridge (or the macvlan parent) fills, N = %ld: median attach of "
		       "the "
		       "first 100 calls (ports 1–100) and of the last 100 (ports %ld–%ld). Growth "
		       "× floor's: this method's growth over the floor's.\n\n",
		       fill_n, fill_n - 99, fill_n);
		printf("| way | method | first 100 ms | last 100 ms | growth | growth × floor's "
		       "|\n");
		printf("|---|---|---:|---:|---:|---:|\n");
		for (size_t i = 0; i < n_groups; i++) {
			struct group *g = &groups[i], *fl;
			double first, last, ffirst, flast;

			if (g->n != fill_n || strcmp(g->op, "attach"))
				continue;
			fl = find(g->way, g->n, floor_of(g->method), "attach");
			first = stats_range(g, 0, 100).median;
			last = stats_range(g, fill_n - 100, fill_n).median;
			ffirst = stats_range(fl, 0, 100).median;
			flast = stats_range(fl, fill_n - 100, fill_n).median;
			printf("| %s | %s | %.2f | %.2f | %.2f× |", g->way, g->method, first, last,
			       last / first);
			print_ratio((last / first) / (flast / ffirst));
			printf("\n");
		}
	}

	print_bulk();

	printf("\nTargets (issues 11 and 21), lanjoin against the floor (ovs attach: against "
	       "lanjoin's bridge attach; in-process: against the in-process floor):\n\n");
	printf("| target | measured | limit | |\n|---|---:|---:|---|\n");
	for (size_t i = 0; i < n_groups; i++) {
		struct group *g = &groups[i], *fl;
		char what[128];

		if (strcmp(g->method, "lanjoin") && strcmp(g->method, "lanjoin-tmpfs") &&
		    strcmp(g->method, "lanjoin-inproc") && strcmp(g->method, "driver-inproc"))
			continue;
		if (strcmp(g->op, "attach") && strcmp(g->op, "detach") && strcmp(g->op, "bulk"))
			continue;
		if (!strcmp(g->op, "bulk")) {
			struct group *single = find(g->way, g->n, "lanjoin", "detach");
			snprintf(what, sizeof(what),
				 "%s, N = %ld: bulk teardown / N single detaches", g->way, g->n);
			target_row(what, single ? g->total_ms / single->total_ms : NAN, "×", 0.25);
			continue;
		}
		if (!strcmp(g->way, "ovs") && !strcmp(g->op, "attach")) {
			/* issue 21: ovs attach <= 2x lanjoin's bridge attach */
			fl = find(g->way, g->n, "lanjoin-bridge", g->op);
			snprintf(what, sizeof(what),
				 "%s, ovs, N = %ld: attach median × lanjoin's "
				 "bridge attach",
				 g->method, g->n);
			target_row(what, stats(g).median / stats(fl).median, "×", 2.0);
			continue;
		}
		fl = find(g->way, g->n, floor_of(g->method), g->op);
		snprintf(what, sizeof(what), "%s, %s, N = %ld: %s median × floor", g->method,
			 g->way, g->n, g->op);
		target_row(what, stats(g).median / stats(fl).median, "×",
			   !strcmp(g->op, "attach") ? 1.3 : 1.1);
		if (!strcmp(g->op, "attach") && g->n == fill_n) {
			double growth = stats_range(g, fill_n - 100, fill_n).median /
					stats_range(g, 0, 100).median;
			double fgrowth = stats_range(fl, fill_n - 100, fill_n).median /
					 stats_range(fl, 0, 100).median;
			snprintf(what, sizeof(what),
				 "%s, %s, N = %ld: attach growth (last/first "
				 "100) × floor's",
				 g->method, g->way, g->n);
			target_row(what, growth / fgrowth, "×", 1.0);
		}
	}
	target_row("peak RSS of any lanjoin call", max_rss_lj / 1024.0, " MiB", 4.0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "report"))
		return cmd_report(REPORT_FULL);
	if (argc == 3 && !strcmp(argv[1], "report") && !strcmp(argv[2], "--summary"))
		return cmd_report(REPORT_SUMMARY);
	if (argc == 3 && !strcmp(argv[1], "report") && !strcmp(argv[2], "--readme"))
		return cmd_report(REPORT_README);
	fprintf(stderr, "usage: lj-bench run [--log FILE] [--keep-going] < SCHEDULE > RESULTS\n"
			"       lj-bench report [--summary | --readme] < RESULTS > MARKDOWN\n");
	return 2;
}
