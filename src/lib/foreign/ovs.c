/* SPDX-License-Identifier: MIT */
#include "lib/foreign/ovs.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/parse.h"

struct lj_ovs {
	char vsctl[PATH_MAX];
	char db[LJ_OVS_DB_MAX];
	char error[LJ_OVS_ERROR_MAX];
};

/* Bytes of ovs-vsctl output accepted (a listing of thousands of ports fits easily). */
#define OUT_MAX (8u << 20)

static const char *const vsctl_dirs[] = {"/usr/bin", "/usr/sbin",      "/bin",
					 "/sbin",    "/usr/local/bin", "/usr/local/sbin"};

const char *lj_ovs_resolve_db(const char *db, char *buf, size_t size)
{
	const char *rundir = getenv("OVS_RUNDIR");
	int n;

	if (db && *db) {
		if (strncmp(db, "unix:/", 6) != 0)
			return NULL;
		n = snprintf(buf, size, "%s", db);
	} else if (rundir && rundir[0] == '/') {
		n = snprintf(buf, size, "unix:%s/db.sock", rundir);
	} else {
		n = snprintf(buf, size, "unix:%s/db.sock", LJ_OVS_DEFAULT_RUNDIR);
	}
	if (n < 0 || (size_t)n >= size || n >= LJ_OVS_DB_MAX)
		return NULL;
	return buf;
}

int lj_ovs_open(const char *db, struct lj_ovs **ret)
{
	const char *env = getenv("LANJOIN_OVS_VSCTL");
	struct lj_ovs *o;

	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	if (!lj_ovs_resolve_db(db, o->db, sizeof(o->db))) {
		free(o);
		return -EINVAL;
	}
	if (env && *env) {
		if (env[0] != '/' || strlen(env) >= sizeof(o->vsctl) || access(env, X_OK) < 0) {
			free(o);
			return -ENOENT;
		}
		snprintf(o->vsctl, sizeof(o->vsctl), "%s", env);
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(vsctl_dirs) && !o->vsctl[0]; i++) {
			snprintf(o->vsctl, sizeof(o->vsctl), "%s/ovs-vsctl", vsctl_dirs[i]);
			if (access(o->vsctl, X_OK) < 0)
				o->vsctl[0] = '\0';
		}
		if (!o->vsctl[0]) {
			free(o);
			return -ENOENT;
		}
	}
	*ret = o;
	return 0;
}

void lj_ovs_close(struct lj_ovs *o)
{
	free(o);
}

const char *lj_ovs_db(const struct lj_ovs *o)
{
	return o->db;
}

const char *lj_ovs_error(const struct lj_ovs *o)
{
	return o->error;
}

static void set_error(struct lj_ovs *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct lj_ovs *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->error, sizeof(o->error), fmt, ap);
	va_end(ap);
}

static bool name_ok(const char *name)
{
	/* Names go into argv as record names: no option look-alikes. */
	return name && lj_ifname_valid(name) && name[0] != '-';
}

/* --- running ovs-vsctl ------------------------------------------------------------------ */

#define CMD_MAX 48

/* An argv under construction: some strings borrowed, some owned. */
struct cmd {
	const char *argv[CMD_MAX + 1];
	char *owned[CMD_MAX];
	size_t n, n_owned;
	bool bad;
};

static void cmd_add(struct cmd *c, const char *s)
{
	if (c->n >= CMD_MAX || !s) {
		c->bad = true;
		return;
	}
	c->argv[c->n++] = s;
	c->argv[c->n] = NULL;
}

static void cmd_addf(struct cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cmd_addf(struct cmd *c, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || c->n >= CMD_MAX) {
		if (n >= 0)
			free(s);
		c->bad = true;
		return;
	}
	c->owned[c->n_owned++] = s;
	cmd_add(c, s);
}

static void cmd_free(struct cmd *c)
{
	for (size_t i = 0; i < c->n_owned; i++)
		free(c->owned[i]);
	c->n = c->n_owned = 0;
}

/*
 * Start an ovs-vsctl command line. For describe output (vsctl NULL) it begins with a plain
 * "ovs-vsctl" and leaves out the timeout.
 */
static void cmd_init(struct cmd *c, const char *vsctl, const char *db, bool json)
{
	memset(c, 0, sizeof(*c));
	cmd_add(c, vsctl ? vsctl : "ovs-vsctl");
	cmd_addf(c, "--db=%s", db);
	if (vsctl)
		cmd_addf(c, "--timeout=%d", LJ_OVS_TIMEOUT);
	if (json)
		cmd_add(c, "--format=json");
}

/* Move a pipe end above the standard descriptors so the child's dup2()s cannot clobber it. */
static int above_stdio(int *fd)
{
	int n;

	if (*fd > 2)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (n < 0)
		return lj_negerrno();
	close(*fd);
	*fd = n;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keep stderr as one line: newlines become "; ", trailing whitespace goes. */
static void tidy_error(char *s)
{
	size_t len = strlen(s);

	while (len && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\r'))
		s[--len] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

static void child(const char *path, const char *const *argv, int out, int err)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	sigset_t none;
	int null = open("/dev/null", O_RDONLY);

	if (null < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0 ||
	    dup2(null, STDIN_FILENO) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	/* ovs-vsctl's --timeout is an alarm(): it must not inherit an ignored SIGALRM. */
	signal(SIGALRM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, (char *const *)argv, envp);
	_exit(127);
}

/*
 * Run c. On success, *ret_out (may be NULL) gets stdout, NUL-terminated (caller frees).
 * On failure o->error says why and the result is -errno, mapped from ovs-vsctl's message.
 */
static int run(struct lj_ovs *o, struct cmd *c, char **ret_out)
{
	_cleanup_close_ int out_r = -1, err_r = -1;
	_cleanup_free_ char *out = NULL;
	char err[LJ_OVS_ERROR_MAX];
	size_t out_len = 0, out_cap = 0, err_len = 0;
	bool out_open = true, err_open = true, overflow = false, killed = false;
	int64_t deadline;
	int pout[2], perr[2], status, r;
	pid_t pid;

	o->error[0] = '\0';
	if (c->bad) {
		set_error(o, "ovs-vsctl command line too long");
		return -E2BIG;
	}
	if (pipe2(pout, O_CLOEXEC) < 0)
		return lj_negerrno();
	if (pipe2(perr, O_CLOEXEC) < 0) {
		r = lj_negerrno();
		close(pout[0]);
		close(pout[1]);
		return r;
	}
	out_r = pout[0];
	err_r = perr[0];
	r = above_stdio(&pout[1]);
	if (r == 0)
		r = above_stdio(&perr[1]);
	if (r < 0) {
		close(pout[1]);
		close(perr[1]);
		return r;
	}

	pid = fork();
	if (pid == 0)
		child(o->vsctl, c->argv, pout[1], perr[1]);
	r = pid < 0 ? lj_negerrno() : 0;
	close(pout[1]);
	close(perr[1]);
	if (r < 0)
		return r;

	/* ovs-vsctl enforces --timeout itself; this is only a backstop. */
	deadline = now_ms() + (LJ_OVS_TIMEOUT + 5) * 1000;
	while (out_open || err_open) {
		struct pollfd p[2] = {
			{.fd = out_open ? out_r : -1, .events = POLLIN},
			{.fd = err_open ? err_r : -1, .events = POLLIN},
		};
		int64_t left = deadline - now_ms();
		char buf[4096];
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		if (poll(p, 2, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		if (p[0].revents) {
			n = read(out_r, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR)) {
				out_open = false;
			} else if (n > 0 && !overflow) {
				if (out_len + (size_t)n + 1 > OUT_MAX) {
					overflow = true;
				} else {
					if (out_len + (size_t)n + 1 > out_cap) {
						size_t cap = out_cap ? out_cap * 2 : 8192;
						char *q;
						while (cap < out_len + (size_t)n + 1)
							cap *= 2;
						q = realloc(out, cap);
						if (!q) {
							kill(pid, SIGKILL);
							killed = true;
							break;
						}
						out = q;
						out_cap = cap;
					}
					memcpy(out + out_len, buf, (size_t)n);
					out_len += (size_t)n;
					out[out_len] = '\0';
				}
			}
		}
		if (p[1].revents) {
			n = read(err_r, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR)) {
				err_open = false;
			} else if (n > 0) {
				size_t take = (size_t)n;
				if (take > sizeof(err) - 1 - err_len)
					take = sizeof(err) - 1 - err_len;
				memcpy(err + err_len, buf, take);
				err_len += take;
			}
		}
	}
	err[err_len] = '\0';
	tidy_error(err);

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return lj_negerrno();
	}

	if (killed) {
		set_error(o, "ovs-vsctl did not finish within %d s%s%s", LJ_OVS_TIMEOUT + 5,
			  err[0] ? ": " : "", err);
		return -ETIMEDOUT;
	}
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM) {
			set_error(o,
				  "ovs-vsctl timed out after %d s (is ovs-vswitchd running and "
				  "serving %s?)",
				  LJ_OVS_TIMEOUT, o->db);
			return -ETIMEDOUT;
		}
		set_error(o, "ovs-vsctl was killed by signal %d%s%s", WTERMSIG(status),
			  err[0] ? ": " : "", err);
		return -EIO;
	}
	if (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126) {
		set_error(o, "cannot execute %s", o->vsctl);
		return -ENOENT;
	}
	if (WEXITSTATUS(status) != 0) {
		snprintf(o->error, sizeof(o->error), "%s", err[0] ? err : "ovs-vsctl failed");
		if (strstr(err, "database connection failed"))
			return -ECONNREFUSED;
		if (strstr(err, "already exists"))
			return -EEXIST;
		if (strstr(err, "no bridge named") || strstr(err, "no port named") ||
		    strstr(err, "no row"))
			return -ENODEV;
		return -EIO;
	}
	if (overflow) {
		set_error(o, "ovs-vsctl printed more than %u bytes", OUT_MAX);
		return -EMSGSIZE;
	}
	if (ret_out) {
		if (!out) {
			out = strdup("");
			if (!out)
				return -ENOMEM;
		}
		*ret_out = TAKE_PTR(out);
	}
	return 0;
}

static int run_free(struct lj_ovs *o, struct cmd *c, char **ret_out)
{
	int r = run(o, c, ret_out);

	cmd_free(c);
	return r;
}

/* --- OVSDB JSON ------------------------------------------------------------------------- */

/*
 * Split ovs-vsctl's output (one JSON table per command, one after the other) into tables.
 * Every table must be {"headings": [...], "data": [[...], ...]}.
 */
static int parse_tables(struct lj_ovs *o, const char *out, json_t **tables, size_t n)
{
	size_t len = strlen(out), pos = 0;

	for (size_t i = 0; i < n; i++) {
		json_error_t e;
		json_t *t;

		while (pos < len && (out[pos] == '\n' || out[pos] == ' '))
			pos++;
		t = json_loadb(out + pos, len - pos,
			       JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &e);
		if (!t || !json_is_array(json_object_get(t, "headings")) ||
		    !json_is_array(json_object_get(t, "data"))) {
			json_decref(t);
			for (size_t j = 0; j < i; j++)
				json_decref(tables[j]);
			set_error(o, "cannot parse ovs-vsctl's output (table %zu: %s)", i + 1,
				  t ? "no headings/data" : e.text);
			return -EBADMSG;
		}
		pos += e.position;
		tables[i] = t;
	}
	return 0;
}

static void free_tables(json_t **tables, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(tables[i]);
}

/* The index of column name in table t, or -1. */
static int column(const json_t *t, const char *name)
{
	const json_t *h = json_object_get(t, "headings");
	const json_t *v;
	size_t i;

	json_array_foreach(h, i, v) if (json_is_string(v) &&
					strcmp(json_string_value(v), name) == 0) return (int)i;
	return -1;
}

static const json_t *cell(const json_t *row, int col)
{
	return col < 0 ? NULL : json_array_get(row, (size_t)col);
}

/* Is v an OVSDB ["set", [...]] / ["map", [...]] wrapper of that kind? */
static bool is_wrapped(const json_t *v, const char *kind)
{
	return json_is_array(v) && json_array_size(v) == 2 &&
	       json_is_string(json_array_get(v, 0)) &&
	       strcmp(json_string_value(json_array_get(v, 0)), kind) == 0 &&
	       json_is_array(json_array_get(v, 1));
}

/* Elements of an OVSDB set value (a set of one is the bare atom). */
static size_t set_size(const json_t *v)
{
	if (!v)
		return 0;
	if (is_wrapped(v, "set"))
		return json_array_size(json_array_get(v, 1));
	return 1;
}

/* The string value of key in an OVSDB map, or NULL. */
static const char *map_get(const json_t *map, const char *key)
{
	const json_t *pairs, *pair;
	size_t i;

	if (!is_wrapped(map, "map"))
		return NULL;
	pairs = json_array_get(map, 1);
	json_array_foreach(pairs, i, pair)
	{
		const json_t *k = json_array_get(pair, 0), *v = json_array_get(pair, 1);
		if (json_is_string(k) && json_is_string(v) &&
		    strcmp(json_string_value(k), key) == 0)
			return json_string_value(v);
	}
	return NULL;
}

static void copy_str(char *dst, size_t size, const json_t *v)
{
	snprintf(dst, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static void bridge_from_row(const json_t *t, const json_t *row, struct lj_ovs_bridge *b)
{
	const char *owner = map_get(cell(row, column(t, "external_ids")), LJ_OVS_KEY_OWNER);

	memset(b, 0, sizeof(*b));
	copy_str(b->name, sizeof(b->name), cell(row, column(t, "name")));
	copy_str(b->datapath_type, sizeof(b->datapath_type), cell(row, column(t, "datapath_type")));
	b->ours = owner && strcmp(owner, LJ_OVS_OWNER) == 0;
	b->n_ports = set_size(cell(row, column(t, "ports")));
}

static void port_from_row(const json_t *t, const json_t *row, struct lj_ovs_port *p)
{
	const json_t *ids = cell(row, column(t, "external_ids"));
	const json_t *tag = cell(row, column(t, "tag"));
	const char *owner = map_get(ids, LJ_OVS_KEY_OWNER);
	const char *s;

	memset(p, 0, sizeof(*p));
	copy_str(p->name, sizeof(p->name), cell(row, column(t, "name")));
	if (json_is_integer(tag) && json_integer_value(tag) > 0 && json_integer_value(tag) < 4096)
		p->tag = (uint32_t)json_integer_value(tag);
	p->ours = owner && strcmp(owner, LJ_OVS_OWNER) == 0;
	s = map_get(ids, LJ_OVS_KEY_TARGET);
	snprintf(p->target, sizeof(p->target), "%s", s ? s : "");
	s = map_get(ids, LJ_OVS_KEY_IFNAME);
	snprintf(p->ifname, sizeof(p->ifname), "%s", s ? s : "");
}

const char *lj_ovs_quote(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	if (size < 3)
		return NULL;
	buf[n++] = '"';
	for (; *s; s++) {
		char ch = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
		bool esc = ch == '"' || ch == '\\';
		if (n + esc + 1 + 2 > size)
			return NULL;
		if (esc)
			buf[n++] = '\\';
		buf[n++] = ch;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* --- queries ---------------------------------------------------------------------------- */

#define BRIDGE_COLUMNS "--columns=name,datapath_type,external_ids,ports"
#define PORT_COLUMNS "--columns=name,tag,external_ids"

int lj_ovs_survey(struct lj_ovs *o, const char *port, const char *iface, struct lj_ovs_survey *ret)
{
	char qport[2 * IFNAMSIZ + 3], qiface[2 * IFNAMSIZ + 3];
	_cleanup_free_ char *out = NULL;
	struct lj_ovs_survey s = {0};
	json_t *t[3];
	const json_t *row;
	struct cmd c;
	size_t i;
	int r;

	if (!name_ok(port) || !name_ok(iface))
		return -EINVAL;
	lj_ovs_quote(port, qport, sizeof(qport));
	lj_ovs_quote(iface, qiface, sizeof(qiface));
	cmd_init(&c, o->vsctl, o->db, true);
	cmd_add(&c, "--");
	cmd_add(&c, BRIDGE_COLUMNS);
	cmd_add(&c, "list");
	cmd_add(&c, "Bridge");
	cmd_add(&c, "--");
	cmd_add(&c, PORT_COLUMNS);
	cmd_add(&c, "find");
	cmd_add(&c, "Port");
	cmd_addf(&c, "name=%s", qport);
	cmd_add(&c, "--");
	cmd_add(&c, "--columns=name");
	cmd_add(&c, "find");
	cmd_add(&c, "Interface");
	cmd_addf(&c, "name=%s", qiface);
	r = run_free(o, &c, &out);
	if (r < 0)
		return r;
	r = parse_tables(o, out, t, 3);
	if (r < 0)
		return r;

	s.n_bridges = json_array_size(json_object_get(t[0], "data"));
	if (s.n_bridges) {
		s.bridges = calloc(s.n_bridges, sizeof(*s.bridges));
		if (!s.bridges) {
			free_tables(t, 3);
			return -ENOMEM;
		}
	}
	json_array_foreach(json_object_get(t[0], "data"), i, row)
		bridge_from_row(t[0], row, &s.bridges[i]);
	row = json_array_get(json_object_get(t[1], "data"), 0);
	if (row) {
		s.has_port = true;
		port_from_row(t[1], row, &s.port);
	}
	s.name_is_iface = json_array_size(json_object_get(t[2], "data")) > 0;
	free_tables(t, 3);
	*ret = s;
	return 0;
}

void lj_ovs_survey_free(struct lj_ovs_survey *s)
{
	free(s->bridges);
	memset(s, 0, sizeof(*s));
}

int lj_ovs_bridge_get(struct lj_ovs *o, const char *name, struct lj_ovs_bridge *ret)
{
	char q[2 * IFNAMSIZ + 3];
	_cleanup_free_ char *out = NULL;
	const json_t *row;
	json_t *t;
	struct cmd c;
	int r;

	if (!name_ok(name))
		return -EINVAL;
	cmd_init(&c, o->vsctl, o->db, true);
	cmd_add(&c, "--");
	cmd_add(&c, BRIDGE_COLUMNS);
	cmd_add(&c, "find");
	cmd_add(&c, "Bridge");
	cmd_addf(&c, "name=%s", lj_ovs_quote(name, q, sizeof(q)));
	r = run_free(o, &c, &out);
	if (r < 0)
		return r;
	r = parse_tables(o, out, &t, 1);
	if (r < 0)
		return r;
	row = json_array_get(json_object_get(t, "data"), 0);
	if (row)
		bridge_from_row(t, row, ret);
	json_decref(t);
	return row ? 0 : -ENODEV;
}

int lj_ovs_list_ours(struct lj_ovs *o, struct lj_ovs_port **ret, size_t *ret_n,
		     struct lj_ovs_bridge **ret_br, size_t *ret_n_br)
{
	_cleanup_free_ char *out = NULL;
	struct lj_ovs_port *ports = NULL;
	struct lj_ovs_bridge *brs = NULL;
	const json_t *row;
	json_t *t[2];
	size_t i, n, n_br;
	struct cmd c;
	int r;

	cmd_init(&c, o->vsctl, o->db, true);
	cmd_add(&c, "--");
	cmd_add(&c, PORT_COLUMNS);
	cmd_add(&c, "find");
	cmd_add(&c, "Port");
	cmd_add(&c, "external_ids:" LJ_OVS_KEY_OWNER "=" LJ_OVS_OWNER);
	cmd_add(&c, "--");
	cmd_add(&c, BRIDGE_COLUMNS);
	cmd_add(&c, "find");
	cmd_add(&c, "Bridge");
	cmd_add(&c, "external_ids:" LJ_OVS_KEY_OWNER "=" LJ_OVS_OWNER);
	r = run_free(o, &c, &out);
	if (r < 0)
		return r;
	r = parse_tables(o, out, t, 2);
	if (r < 0)
		return r;
	n = json_array_size(json_object_get(t[0], "data"));
	n_br = json_array_size(json_object_get(t[1], "data"));
	ports = calloc(n ? n : 1, sizeof(*ports));
	brs = calloc(n_br ? n_br : 1, sizeof(*brs));
	if (!ports || !brs) {
		free(ports);
		free(brs);
		free_tables(t, 2);
		return -ENOMEM;
	}
	json_array_foreach(json_object_get(t[0], "data"), i, row)
		port_from_row(t[0], row, &ports[i]);
	json_array_foreach(json_object_get(t[1], "data"), i, row)
		bridge_from_row(t[1], row, &brs[i]);
	free_tables(t, 2);
	*ret = ports;
	*ret_n = n;
	if (ret_br) {
		*ret_br = brs;
		*ret_n_br = n_br;
	} else {
		free(brs);
	}
	return 0;
}

int lj_ovs_check_running(struct lj_ovs *o, pid_t *ret_pid)
{
	const char *sock = o->db + strlen("unix:");
	char dir[LJ_OVS_DB_MAX], path[LJ_OVS_DB_MAX + 32], buf[64];
	struct stat st;
	uint64_t pid;
	char *slash;
	ssize_t n;
	int fd;

	o->error[0] = '\0';
	if (stat(sock, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		set_error(o, "ovsdb-server is not running: there is no database socket %s", sock);
		return -ECONNREFUSED;
	}
	snprintf(dir, sizeof(dir), "%s", sock);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/ovs-vswitchd.pid", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		set_error(o, "ovs-vswitchd is not running: there is no %s", path);
		return -ESRCH;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n > 0 ? n : 0] = '\0';
	if (lj_parse_uint(buf, 1, INT_MAX, &pid) == 0) {
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			buf[n > 0 ? n : 0] = '\0';
			if (strcmp(buf, "ovs-vswitchd\n") == 0) {
				if (ret_pid)
					*ret_pid = (pid_t)pid;
				return 0;
			}
		}
	}
	set_error(o, "ovs-vswitchd is not running: %s/ovs-vswitchd.pid names no live ovs-vswitchd",
		  dir);
	return -ESRCH;
}

/* --- changes ---------------------------------------------------------------------------- */

static void build_bridge_add(struct cmd *c, const char *vsctl, const char *db, const char *name,
			     const char *datapath_type)
{
	cmd_init(c, vsctl, db, false);
	cmd_add(c, "--");
	cmd_add(c, "add-br");
	cmd_add(c, name);
	cmd_add(c, "--");
	cmd_add(c, "set");
	cmd_add(c, "Bridge");
	cmd_add(c, name);
	if (datapath_type && *datapath_type)
		cmd_addf(c, "datapath_type=%s", datapath_type);
	cmd_add(c, "external_ids:" LJ_OVS_KEY_OWNER "=" LJ_OVS_OWNER);
}

/* Delete bridge or port name: verb is "del-br" or "del-port"; --if-exists, so gone is fine. */
static void build_del(struct cmd *c, const char *vsctl, const char *db, const char *verb,
		      const char *name, bool no_wait)
{
	cmd_init(c, vsctl, db, false);
	if (no_wait)
		cmd_add(c, "--no-wait");
	cmd_add(c, "--");
	cmd_add(c, "--if-exists");
	cmd_add(c, verb);
	cmd_add(c, name);
}

static void build_port_add(struct cmd *c, const char *vsctl, const char *db,
			   const struct lj_ovs_port_opts *p)
{
	char q[LJ_OVS_VALUE_MAX * 2 + 3];

	cmd_init(c, vsctl, db, false);
	if (p->replace) {
		cmd_add(c, "--");
		cmd_add(c, "--if-exists");
		cmd_add(c, "del-port");
		cmd_add(c, p->name);
	}
	cmd_add(c, "--");
	cmd_add(c, "add-port");
	cmd_add(c, p->bridge);
	cmd_add(c, p->name);
	if (p->tag)
		cmd_addf(c, "tag=%u", p->tag);
	cmd_add(c, "external_ids:" LJ_OVS_KEY_OWNER "=" LJ_OVS_OWNER);
	if (p->target && *p->target) {
		char t[LJ_OVS_VALUE_MAX];
		/* Informational: long values are cut, never refused. */
		snprintf(t, sizeof(t), "%s", p->target);
		cmd_addf(c, "external_ids:" LJ_OVS_KEY_TARGET "=%s", lj_ovs_quote(t, q, sizeof(q)));
	}
	if (p->ifname && *p->ifname)
		cmd_addf(c, "external_ids:" LJ_OVS_KEY_IFNAME "=%s",
			 lj_ovs_quote(p->ifname, q, sizeof(q)));
}

/* A datapath_type goes into argv as a value: lower-case letters only (NULL = the default). */
static bool datapath_type_ok(const char *datapath_type)
{
	return !datapath_type ||
	       strspn(datapath_type, "abcdefghijklmnopqrstuvwxyz") == strlen(datapath_type);
}

/*
 * Run c, a change that creates row name. If ovs-vsctl timed out, the transaction may have been
 * committed without ovs-vswitchd acting on it: remove the row again (del_verb as build_del's,
 * without waiting), keeping the first error's message. Returns run's result.
 */
static int run_change(struct lj_ovs *o, struct cmd *c, const char *del_verb, const char *name)
{
	char saved[LJ_OVS_ERROR_MAX];
	struct cmd undo;
	int r;

	r = run_free(o, c, NULL);
	if (r != -ETIMEDOUT)
		return r;
	snprintf(saved, sizeof(saved), "%s", o->error);
	build_del(&undo, o->vsctl, o->db, del_verb, name, true);
	run_free(o, &undo, NULL);
	snprintf(o->error, sizeof(o->error), "%s", saved);
	return r;
}

int lj_ovs_bridge_add(struct lj_ovs *o, const char *name, const char *datapath_type)
{
	struct cmd c;

	if (!name_ok(name) || !datapath_type_ok(datapath_type))
		return -EINVAL;
	build_bridge_add(&c, o->vsctl, o->db, name, datapath_type);
	return run_change(o, &c, "del-br", name);
}

int lj_ovs_bridge_del(struct lj_ovs *o, const char *name)
{
	struct cmd c;

	if (!name_ok(name))
		return -EINVAL;
	build_del(&c, o->vsctl, o->db, "del-br", name, false);
	return run_free(o, &c, NULL);
}

int lj_ovs_port_add(struct lj_ovs *o, const struct lj_ovs_port_opts *p)
{
	struct cmd c;

	if (!name_ok(p->bridge) || !name_ok(p->name) || p->tag > 4094 ||
	    (p->ifname && *p->ifname && !lj_ifname_valid(p->ifname)))
		return -EINVAL;
	build_port_add(&c, o->vsctl, o->db, p);
	return run_change(o, &c, "del-port", p->name);
}

int lj_ovs_port_del(struct lj_ovs *o, const char *name)
{
	struct cmd c;

	if (!name_ok(name))
		return -EINVAL;
	build_del(&c, o->vsctl, o->db, "del-port", name, false);
	return run_free(o, &c, NULL);
}

/* --- describe --------------------------------------------------------------------------- */

static void print_cmd(FILE *f, struct cmd *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const char *a = c->argv[i];
		bool plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789_@%+=:,./-") == strlen(a);
		fputs(i ? " " : "", f);
		if (plain) {
			fputs(a, f);
			continue;
		}
		fputc('\'', f);
		for (; *a; a++) {
			if (*a == '\'')
				fputs("'\\''", f);
			else
				fputc(*a, f);
		}
		fputc('\'', f);
	}
	fputc('\n', f);
	cmd_free(c);
}

void lj_ovs_describe_bridge_add(FILE *f, const char *db, const char *name,
				const char *datapath_type)
{
	struct cmd c;

	build_bridge_add(&c, NULL, db, name, datapath_type);
	print_cmd(f, &c);
}

void lj_ovs_describe_bridge_del(FILE *f, const char *db, const char *name)
{
	struct cmd c;

	build_del(&c, NULL, db, "del-br", name, false);
	print_cmd(f, &c);
}

void lj_ovs_describe_port_add(FILE *f, const char *db, const struct lj_ovs_port_opts *p)
{
	struct cmd c;

	build_port_add(&c, NULL, db, p);
	print_cmd(f, &c);
}

void lj_ovs_describe_port_del(FILE *f, const char *db, const char *name)
{
	struct cmd c;

	build_del(&c, NULL, db, "del-port", name, false);
	print_cmd(f, &c);
}

/* --- bridges with a fixed MAC address and MTU (uplink adoption) ---------------------------- */

static void build_bridge_add_hw(struct cmd *c, const char *vsctl, const char *db, const char *name,
				const char *datapath_type, const uint8_t *mac, uint32_t mtu,
				const char *uplink)
{
	build_bridge_add(c, vsctl, db, name, datapath_type);
	if (mac)
		cmd_addf(c, "other-config:hwaddr=\"%02x:%02x:%02x:%02x:%02x:%02x\"", mac[0], mac[1],
			 mac[2], mac[3], mac[4], mac[5]);
	if (uplink && *uplink)
		cmd_addf(c, "external_ids:lanjoin-uplink=%s", uplink);
	if (mtu) {
		cmd_add(c, "--");
		cmd_add(c, "set");
		cmd_add(c, "Interface");
		cmd_add(c, name);
		cmd_addf(c, "mtu_request=%u", mtu);
	}
}

int lj_ovs_bridge_add_hw(struct lj_ovs *o, const char *name, const char *datapath_type,
			 const uint8_t *mac, uint32_t mtu, const char *uplink)
{
	struct cmd c;

	if (!name_ok(name) || (uplink && *uplink && !name_ok(uplink)) ||
	    !datapath_type_ok(datapath_type))
		return -EINVAL;
	build_bridge_add_hw(&c, o->vsctl, o->db, name, datapath_type, mac, mtu, uplink);
	return run_change(o, &c, "del-br", name);
}

void lj_ovs_describe_bridge_add_hw(FILE *f, const char *db, const char *name,
				   const char *datapath_type, const uint8_t *mac, uint32_t mtu,
				   const char *uplink)
{
	struct cmd c;

	build_bridge_add_hw(&c, NULL, db, name, datapath_type, mac, mtu, uplink);
	print_cmd(f, &c);
}
