/* SPDX-License-Identifier: MIT */
#include "lib/foreign/ovs.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/foreign/ovsdb.h"
#include "shared/macro.h"
#include "shared/parse.h"

struct lj_ovs {
	char vsctl[PATH_MAX];
	char db[LJ_OVS_DB_MAX];
	char error[LJ_OVS_ERROR_MAX];
	struct lj_ovsdb *c; /* connected on the first call */
	int timeout_ms;	    /* of each call, and of each wait for ovs-vswitchd */
};

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
	o->timeout_ms = LJ_OVS_TIMEOUT * 1000;
	*ret = o;
	return 0;
}

void lj_ovs_set_timeout(struct lj_ovs *o, int timeout_ms)
{
	if (timeout_ms > 0 && !o->c)
		o->timeout_ms = timeout_ms;
}

void lj_ovs_close(struct lj_ovs *o)
{
	if (!o)
		return;
	lj_ovsdb_free(o->c);
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
	/* Also ovs-vsctl's record names (--dry-run): no option look-alikes. */
	return name && lj_ifname_valid(name) && name[0] != '-';
}

/* --- OVSDB ------------------------------------------------------------------------------ */

#define DB_NAME "Open_vSwitch"
/* A call whose transaction waits o->timeout_ms in the server may take this long. */
#define WAIT_CALL_MS(o) ((o)->timeout_ms + 5000)

/*
 * Run ops (stolen; NULL = out of memory) as one transaction, connecting first if needed.
 * On failure o->error says why; *ret_failed (may be NULL) is the failed op's index. txn_send
 * only sends it (the next request goes in the same round trip), txn_reply takes its reply.
 */
static int txn_send(struct lj_ovs *o, json_t *ops, int timeout_ms, struct lj_ovsdb_pending *ret)
{
	int r;

	o->error[0] = '\0';
	if (!ops) {
		set_error(o, "out of memory");
		return -ENOMEM;
	}
	if (!o->c) {
		r = lj_ovsdb_new(o->db + strlen("unix:"), o->timeout_ms, &o->c);
		if (r < 0) {
			json_decref(ops);
			set_error(o, "invalid database socket %s", o->db);
			return r;
		}
	}
	r = lj_ovsdb_transact_send(o->c, DB_NAME, ops, timeout_ms, ret);
	if (r < 0)
		set_error(o, "%s", lj_ovsdb_error(o->c));
	return r;
}

/* The reply to a transaction txn_send sent; as txn. */
static int txn_reply(struct lj_ovs *o, const struct lj_ovsdb_pending *p, int timeout_ms,
		     json_t **ret, size_t *ret_failed)
{
	int r = lj_ovsdb_transact_reply(o->c, p, timeout_ms, ret, ret_failed);

	if (r < 0)
		set_error(o, "%s", lj_ovsdb_error(o->c));
	return r;
}

static int txn(struct lj_ovs *o, json_t *ops, int timeout_ms, json_t **ret, size_t *ret_failed)
{
	struct lj_ovsdb_pending p;
	int r = txn_send(o, ops, timeout_ms, &p);

	return r < 0 ? r : txn_reply(o, &p, timeout_ms, ret, ret_failed);
}

/* The rows of select number i of a transaction's result, or NULL if that is no select's. */
static json_t *rows_of(json_t *result, size_t i)
{
	json_t *rows = json_object_get(json_array_get(result, i), "rows");

	return json_is_array(rows) ? rows : NULL;
}

static json_t *where_name(const char *name)
{
	return json_pack("[[s,s,s]]", "name", "==", name);
}

/* Rows of ours: external_ids includes lanjoin-owner=lanjoin. */
static json_t *where_ours(void)
{
	return json_pack("[[s,s,[s,[[s,s]]]]]", "external_ids", "includes", "map", LJ_OVS_KEY_OWNER,
			 LJ_OVS_OWNER);
}

static json_t *op_select(const char *table, json_t *where, json_t *columns)
{
	return json_pack("{s:s,s:s,s:o,s:o}", "op", "select", "table", table, "where", where,
			 "columns", columns);
}

static json_t *bridge_columns(void)
{
	return json_pack("[s,s,s,s]", "name", "datapath_type", "external_ids", "ports");
}

static json_t *port_columns(void)
{
	return json_pack("[s,s,s]", "name", "tag", "external_ids");
}

/* A note in ovsdb-server's log of who changed what. */
static json_t *op_comment(const char *verb, const char *name)
{
	char s[64];

	snprintf(s, sizeof(s), "lanjoin: %s %s", verb, name);
	return json_pack("{s:s,s:s}", "op", "comment", "comment", s);
}

/* OVSDB's empty set, e.g. a column without a value. */
static json_t *empty_set(void)
{
	return json_pack("[s,[]]", "set");
}

/* Append key=value to an OVSDB map under construction (["map", [...]]). */
static void map_put(json_t *map, const char *key, const char *value)
{
	json_array_append_new(json_array_get(map, 1), json_pack("[s,s]", key, value));
}

/* value as printable ASCII (others become '?'), cut to size bytes with the NUL. */
static const char *printable(const char *value, char *buf, size_t size)
{
	size_t n = 0;

	for (; *value && n + 1 < size; value++)
		buf[n++] = (*value >= 0x20 && *value < 0x7f) ? *value : '?';
	buf[n] = '\0';
	return buf;
}

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

/* A Bridge row of bridge_columns(). */
static void bridge_from_row(const json_t *row, struct lj_ovs_bridge *b)
{
	const char *owner = map_get(json_object_get(row, "external_ids"), LJ_OVS_KEY_OWNER);

	memset(b, 0, sizeof(*b));
	copy_str(b->name, sizeof(b->name), json_object_get(row, "name"));
	copy_str(b->datapath_type, sizeof(b->datapath_type), json_object_get(row, "datapath_type"));
	b->ours = owner && strcmp(owner, LJ_OVS_OWNER) == 0;
	b->n_ports = set_size(json_object_get(row, "ports"));
}

/* A Port row of port_columns(). */
static void port_from_row(const json_t *row, struct lj_ovs_port *p)
{
	const json_t *ids = json_object_get(row, "external_ids");
	const json_t *tag = json_object_get(row, "tag");
	const char *owner = map_get(ids, LJ_OVS_KEY_OWNER);
	const char *s;

	memset(p, 0, sizeof(*p));
	copy_str(p->name, sizeof(p->name), json_object_get(row, "name"));
	if (json_is_integer(tag) && json_integer_value(tag) > 0 && json_integer_value(tag) < 4096)
		p->tag = (uint32_t)json_integer_value(tag);
	p->ours = owner && strcmp(owner, LJ_OVS_OWNER) == 0;
	s = map_get(ids, LJ_OVS_KEY_TARGET);
	snprintf(p->target, sizeof(p->target), "%s", s ? s : "");
	s = map_get(ids, LJ_OVS_KEY_IFNAME);
	snprintf(p->ifname, sizeof(p->ifname), "%s", s ? s : "");
}

static int bad_answer(struct lj_ovs *o, json_t *result)
{
	json_decref(result);
	set_error(o, "unexpected answer from ovsdb-server at %s", o->db);
	return -EBADMSG;
}

/* --- queries ---------------------------------------------------------------------------- */

int lj_ovs_survey(struct lj_ovs *o, const char *port, const char *iface, struct lj_ovs_survey *ret)
{
	struct lj_ovs_survey s = {0};
	json_t *result, *rows[3], *row;
	size_t i;
	int r;

	if (!name_ok(port) || !name_ok(iface))
		return -EINVAL;
	/* Name and datapath only: the ports column holds a uuid per port of every bridge, which
	 * attach does not need (at 500 ports, 25 KB of answer per attach). */
	r = txn(o,
		json_pack("[o,o,o]",
			  op_select("Bridge", json_array(),
				    json_pack("[s,s]", "name", "datapath_type")),
			  op_select("Port", where_name(port), port_columns()),
			  op_select("Interface", where_name(iface), json_pack("[s]", "name"))),
		0, &result, NULL);
	if (r < 0)
		return r;
	for (i = 0; i < 3; i++)
		if (!(rows[i] = rows_of(result, i)))
			return bad_answer(o, result);
	s.n_bridges = json_array_size(rows[0]);
	if (s.n_bridges) {
		s.bridges = calloc(s.n_bridges, sizeof(*s.bridges));
		if (!s.bridges) {
			json_decref(result);
			return -ENOMEM;
		}
	}
	json_array_foreach(rows[0], i, row) bridge_from_row(row, &s.bridges[i]);
	row = json_array_get(rows[1], 0);
	if (row) {
		s.has_port = true;
		port_from_row(row, &s.port);
	}
	s.name_is_iface = json_array_size(rows[2]) > 0;
	json_decref(result);
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
	json_t *result, *rows, *row;
	int r;

	if (!name_ok(name))
		return -EINVAL;
	r = txn(o, json_pack("[o]", op_select("Bridge", where_name(name), bridge_columns())), 0,
		&result, NULL);
	if (r < 0)
		return r;
	rows = rows_of(result, 0);
	if (!rows)
		return bad_answer(o, result);
	row = json_array_get(rows, 0);
	if (row)
		bridge_from_row(row, ret);
	json_decref(result);
	return row ? 0 : -ENODEV;
}

int lj_ovs_list_ours(struct lj_ovs *o, struct lj_ovs_port **ret, size_t *ret_n,
		     struct lj_ovs_bridge **ret_br, size_t *ret_n_br)
{
	struct lj_ovs_port *ports = NULL;
	struct lj_ovs_bridge *brs = NULL;
	json_t *result, *rows[2], *row;
	size_t i, n, n_br;
	int r;

	r = txn(o,
		json_pack("[o,o]", op_select("Port", where_ours(), port_columns()),
			  op_select("Bridge", where_ours(), bridge_columns())),
		0, &result, NULL);
	if (r < 0)
		return r;
	for (i = 0; i < 2; i++)
		if (!(rows[i] = rows_of(result, i)))
			return bad_answer(o, result);
	n = json_array_size(rows[0]);
	n_br = json_array_size(rows[1]);
	ports = calloc(n ? n : 1, sizeof(*ports));
	brs = calloc(n_br ? n_br : 1, sizeof(*brs));
	if (!ports || !brs) {
		free(ports);
		free(brs);
		json_decref(result);
		return -ENOMEM;
	}
	json_array_foreach(rows[0], i, row) port_from_row(row, &ports[i]);
	json_array_foreach(rows[1], i, row) bridge_from_row(row, &brs[i]);
	json_decref(result);
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

/* A datapath_type: lower-case letters only (NULL = the default). */
static bool datapath_type_ok(const char *datapath_type)
{
	return !datapath_type ||
	       strspn(datapath_type, "abcdefghijklmnopqrstuvwxyz") == strlen(datapath_type);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The transaction that waits until interface name has an ofport (at most o->timeout_ms), then
 * selects its ofport and error (NULL: out of memory). */
static json_t *ofport_wait_ops(struct lj_ovs *o, const char *name)
{
	return json_pack(
		"[{s:s,s:i,s:s,s:o,s:[s],s:s,s:[{s:o}]},o]", "op", "wait", "timeout", o->timeout_ms,
		"table", "Interface", "where", where_name(name), "columns", "ofport", "until",
		"!=", "rows", "ofport", empty_set(),
		op_select("Interface", where_name(name), json_pack("[s,s]", "ofport", "error")));
}

/* What ofport_wait_ops's transaction ended in (r, and its result if r is 0; taken): as
 * wait_ofport. */
static int ofport_result(struct lj_ovs *o, const char *name, int r, json_t *result)
{
	json_t *rows, *row, *ofport;
	const char *err;

	if (r == -ETIMEDOUT)
		set_error(o,
			  "ovs-vswitchd did not set up interface %s within %g s (is it running?)",
			  name, o->timeout_ms / 1000.0);
	if (r < 0)
		return r;
	rows = rows_of(result, 1);
	if (!rows)
		return bad_answer(o, result);
	row = json_array_get(rows, 0);
	if (!row) {
		json_decref(result);
		set_error(o, "interface %s was removed while it was set up", name);
		return -ENODEV;
	}
	ofport = json_object_get(row, "ofport");
	if (json_is_integer(ofport) && json_integer_value(ofport) > 0) {
		json_decref(result);
		return 0;
	}
	err = json_string_value(json_object_get(row, "error"));
	set_error(o, "ovs-vswitchd could not add interface %s: %s", name,
		  err ? err : "it has no OpenFlow port");
	r = err && strstr(err, "No such device") ? -ENODEV : -EIO;
	json_decref(result);
	return r;
}

/*
 * Wait until ovs-vswitchd has set up interface name: a wait operation that the server answers
 * once the row's ofport is set (at most o->timeout_ms), then its ofport and error. Returns 0 for
 * a positive ofport (an OpenFlow port: the switch uses the interface), -ETIMEDOUT, -ENODEV
 * (the row is gone, or there is no such device), -EIO (another error of ovs-vswitchd's).
 */
static int wait_ofport(struct lj_ovs *o, const char *name)
{
	json_t *result = NULL;
	int r = txn(o, ofport_wait_ops(o, name), WAIT_CALL_MS(o), &result, NULL);

	return ofport_result(o, name, r, result);
}

/*
 * Wait until ovs-vswitchd has applied configuration want (its cur_cfg, now cur, reaches the
 * next_cfg a change set): each round is a wait operation that the server answers when
 * cur_cfg changes. At most o->timeout_ms in all: -ETIMEDOUT.
 */
static int wait_cfg(struct lj_ovs *o, json_int_t want, json_int_t cur)
{
	int64_t deadline = now_ms() + o->timeout_ms;
	json_t *result, *rows, *v;
	int r;

	while (cur < want) {
		int64_t left = deadline - now_ms();

		r = left <= 0 ? -ETIMEDOUT
			      : txn(o,
				    json_pack("[{s:s,s:I,s:s,s:[],s:[s],s:s,s:[{s:I}]},o]", "op",
					      "wait", "timeout", (json_int_t)left, "table", DB_NAME,
					      "where", "columns", "cur_cfg", "until", "!=", "rows",
					      "cur_cfg", cur,
					      op_select(DB_NAME, json_array(),
							json_pack("[s]", "cur_cfg"))),
				    (int)left + 5000, &result, NULL);
		if (r == -ETIMEDOUT)
			set_error(o,
				  "ovs-vswitchd did not apply the change within %g s (is it "
				  "running?)",
				  o->timeout_ms / 1000.0);
		if (r < 0)
			return r;
		rows = rows_of(result, 1);
		v = json_object_get(json_array_get(rows, 0), "cur_cfg");
		if (!json_is_integer(v))
			return bad_answer(o, result);
		cur = json_integer_value(v);
		json_decref(result);
	}
	return 0;
}

/* The _uuid of the row of table named name into *ret (["uuid", "..."], the caller's; NULL if
 * there is none). */
static int find_uuid(struct lj_ovs *o, const char *table, const char *name, json_t **ret)
{
	json_t *result, *rows, *uuid;
	int r;

	r = txn(o, json_pack("[o]", op_select(table, where_name(name), json_pack("[s]", "_uuid"))),
		0, &result, NULL);
	if (r < 0)
		return r;
	rows = rows_of(result, 0);
	if (!rows)
		return bad_answer(o, result);
	uuid = json_object_get(json_array_get(rows, 0), "_uuid");
	if (json_array_size(rows) && !json_is_array(uuid))
		return bad_answer(o, result);
	*ret = json_incref(uuid);
	json_decref(result);
	return 0;
}

/*
 * Delete bridge or port name (a missing one is success): drop its reference from the
 * Open_vSwitch row or from every bridge, and the server collects the rows no longer referred
 * to. With wait, return once ovs-vswitchd has acted on it (next_cfg/cur_cfg, as ovs-vsctl).
 */
static int del_row(struct lj_ovs *o, bool bridge, const char *name, bool wait)
{
	json_t *uuid = NULL, *result, *row;
	json_t *cfg, *cur;
	int r;

	r = find_uuid(o, bridge ? "Bridge" : "Port", name, &uuid);
	if (r < 0 || !uuid)
		return r;
	r = txn(o,
		json_pack("[o,{s:s,s:s,s:[],s:[[s,s,[s,[o]]]]},{s:s,s:s,s:[],s:[[s,s,i]]},o]",
			  op_comment(bridge ? "del-br" : "del-port", name), "op", "mutate", "table",
			  bridge ? DB_NAME : "Bridge", "where", "mutations",
			  bridge ? "bridges" : "ports", "delete", "set", uuid, "op", "mutate",
			  "table", DB_NAME, "where", "mutations", "next_cfg", "+=", 1,
			  op_select(DB_NAME, json_array(),
				    json_pack("[s,s]", "next_cfg", "cur_cfg"))),
		0, &result, NULL);
	if (r < 0 || !wait) {
		if (r == 0)
			json_decref(result);
		return r;
	}
	row = json_array_get(rows_of(result, 3), 0);
	cfg = json_object_get(row, "next_cfg");
	cur = json_object_get(row, "cur_cfg");
	if (!json_is_integer(cfg) || !json_is_integer(cur))
		return bad_answer(o, result);
	r = wait_cfg(o, json_integer_value(cfg), json_integer_value(cur));
	json_decref(result);
	return r;
}

/* After the wait for bridge or port name ended in r: if it failed, the row goes again
 * (without waiting), keeping the wait's message. */
static int undo_unless_ready(struct lj_ovs *o, bool bridge, const char *name, int r)
{
	char saved[LJ_OVS_ERROR_MAX];

	if (r == 0)
		return 0;
	snprintf(saved, sizeof(saved), "%s", o->error);
	del_row(o, bridge, name, false);
	snprintf(o->error, sizeof(o->error), "%s", saved);
	return r;
}

/*
 * After a change that created bridge or port name: wait until ovs-vswitchd uses it. If it
 * does not, the row goes again (without waiting), keeping the first error's message.
 */
static int ready_or_undo(struct lj_ovs *o, bool bridge, const char *name)
{
	return undo_unless_ready(o, bridge, name, wait_ofport(o, name));
}

/* A new OVSDB map with lanjoin-owner=lanjoin. */
static json_t *ours_map(void)
{
	return json_pack("[s,[[s,s]]]", "map", LJ_OVS_KEY_OWNER, LJ_OVS_OWNER);
}

static int bridge_add(struct lj_ovs *o, const char *name, const char *datapath_type,
		      const uint8_t *mac, uint32_t mtu, const char *uplink)
{
	json_t *iface, *br, *ids, *result, *count;
	char hw[18];
	int r;

	iface = json_pack("{s:s,s:s}", "name", name, "type", "internal");
	ids = ours_map();
	br = json_pack("{s:s,s:[s,s],s:o}", "name", name, "ports", "named-uuid", "port",
		       "external_ids", ids);
	if (!iface || !br) {
		json_decref(iface);
		json_decref(br);
		return -ENOMEM;
	}
	if (mtu)
		json_object_set_new(iface, "mtu_request", json_integer(mtu));
	if (uplink && *uplink)
		map_put(ids, "lanjoin-uplink", uplink);
	if (datapath_type && *datapath_type)
		json_object_set_new(br, "datapath_type", json_string(datapath_type));
	if (mac) {
		snprintf(hw, sizeof(hw), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
			 mac[3], mac[4], mac[5]);
		json_object_set_new(br, "other_config",
				    json_pack("[s,[[s,s]]]", "map", "hwaddr", hw));
	}
	r = txn(o,
		json_pack("[o,{s:s,s:s,s:o,s:s},{s:s,s:s,s:{s:s,s:[s,s]},s:s},{s:s,s:s,s:o,s:s},"
			  "{s:s,s:s,s:[],s:[[s,s,[s,[[s,s]]]]]}]",
			  op_comment("add-br", name), "op", "insert", "table", "Interface", "row",
			  iface, "uuid-name", "iface", "op", "insert", "table", "Port", "row",
			  "name", name, "interfaces", "named-uuid", "iface", "uuid-name", "port",
			  "op", "insert", "table", "Bridge", "row", br, "uuid-name", "br", "op",
			  "mutate", "table", DB_NAME, "where", "mutations", "bridges", "insert",
			  "set", "named-uuid", "br"),
		0, &result, NULL);
	if (r == -EEXIST)
		set_error(o,
			  "cannot create a bridge named %s because a bridge, port or interface "
			  "named %s already exists",
			  name, name);
	if (r < 0)
		return r;
	count = json_object_get(json_array_get(result, 4), "count");
	r = json_is_integer(count) && json_integer_value(count) == 1 ? 0 : -EIO;
	json_decref(result);
	if (r < 0) {
		/* The bridge row, referred to by nothing, was collected again. */
		set_error(o, "the database at %s has no Open_vSwitch row (not initialised?)",
			  o->db);
		return r;
	}
	return ready_or_undo(o, true, name);
}

int lj_ovs_bridge_add(struct lj_ovs *o, const char *name, const char *datapath_type)
{
	if (!name_ok(name) || !datapath_type_ok(datapath_type))
		return -EINVAL;
	return bridge_add(o, name, datapath_type, NULL, 0, NULL);
}

int lj_ovs_bridge_add_hw(struct lj_ovs *o, const char *name, const char *datapath_type,
			 const uint8_t *mac, uint32_t mtu, const char *uplink)
{
	if (!name_ok(name) || (uplink && *uplink && !name_ok(uplink)) ||
	    !datapath_type_ok(datapath_type))
		return -EINVAL;
	return bridge_add(o, name, datapath_type, mac, mtu, uplink);
}

int lj_ovs_bridge_del(struct lj_ovs *o, const char *name)
{
	if (!name_ok(name))
		return -EINVAL;
	return del_row(o, true, name, true);
}

int lj_ovs_port_add(struct lj_ovs *o, const struct lj_ovs_port_opts *p)
{
	char target[LJ_OVS_VALUE_MAX];
	json_t *ops, *row, *ids, *old = NULL, *result = NULL;
	struct lj_ovsdb_pending ins, wait;
	size_t failed = SIZE_MAX;
	bool piped;
	int r;

	if (!name_ok(p->bridge) || !name_ok(p->name) || p->tag > 4094 ||
	    (p->ifname && *p->ifname && !lj_ifname_valid(p->ifname)))
		return -EINVAL;
	/* A stale row of that name goes in the same transaction (the server collects it). */
	if (p->replace) {
		r = find_uuid(o, "Port", p->name, &old);
		if (r < 0)
			return r;
	}
	ids = ours_map();
	row = json_pack("{s:s,s:[s,s],s:o}", "name", p->name, "interfaces", "named-uuid", "iface",
			"external_ids", ids);
	/* The bridge must exist: a wait that does not wait fails at once if it does not. */
	ops = json_pack("[o,{s:s,s:i,s:s,s:o,s:[s],s:s,s:[{s:s}]}]",
			op_comment("add-port", p->name), "op", "wait", "timeout", 0, "table",
			"Bridge", "where", where_name(p->bridge), "columns", "name", "until",
			"==", "rows", "name", p->bridge);
	if (!row || !ops) {
		json_decref(row);
		json_decref(ops);
		json_decref(old);
		return -ENOMEM;
	}
	if (p->tag)
		json_object_set_new(row, "tag", json_integer(p->tag));
	/* Informational: long values are cut, never refused. */
	if (p->target && *p->target)
		map_put(ids, LJ_OVS_KEY_TARGET, printable(p->target, target, sizeof(target)));
	if (p->ifname && *p->ifname)
		map_put(ids, LJ_OVS_KEY_IFNAME, p->ifname);
	if (old)
		json_array_append_new(ops, json_pack("{s:s,s:s,s:[],s:[[s,s,[s,[o]]]]}", "op",
						     "mutate", "table", "Bridge", "where",
						     "mutations", "ports", "delete", "set", old));
	json_array_append_new(ops,
			      json_pack("{s:s,s:s,s:{s:s},s:s}", "op", "insert", "table",
					"Interface", "row", "name", p->name, "uuid-name", "iface"));
	json_array_append_new(ops, json_pack("{s:s,s:s,s:o,s:s}", "op", "insert", "table", "Port",
					     "row", row, "uuid-name", "port"));
	json_array_append_new(ops, json_pack("{s:s,s:s,s:o,s:[[s,s,[s,[[s,s]]]]]}", "op", "mutate",
					     "table", "Bridge", "where", where_name(p->bridge),
					     "mutations", "ports", "insert", "set", "named-uuid",
					     "port"));
	r = txn_send(o, ops, 0, &ins);
	/* The wait for the interface's ofport goes in the same round trip: the server runs it
	 * once the insert is done. */
	piped = r == 0 && txn_send(o, ofport_wait_ops(o, p->name), WAIT_CALL_MS(o), &wait) == 0;
	if (r == 0)
		r = txn_reply(o, &ins, 0, NULL, &failed);
	if (r < 0 && piped && o->c)
		lj_ovsdb_drop(o->c); /* the wait's reply is not wanted */
	if (r == -ETIMEDOUT && failed == 1) {
		set_error(o, "no bridge named %s", p->bridge);
		return -ENODEV;
	}
	if (r == -EEXIST)
		set_error(o,
			  "cannot create a port named %s because a port or interface named %s "
			  "already exists",
			  p->name, p->name);
	if (r < 0)
		return r;
	if (!piped)
		return ready_or_undo(o, false, p->name);
	r = txn_reply(o, &wait, WAIT_CALL_MS(o), &result, NULL);
	return undo_unless_ready(o, false, p->name, ofport_result(o, p->name, r, result));
}

int lj_ovs_port_del(struct lj_ovs *o, const char *name)
{
	if (!name_ok(name))
		return -EINVAL;
	return del_row(o, false, name, true);
}
