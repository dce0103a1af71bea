/* SPDX-License-Identifier: MIT */
#include "lib/foreign/engine.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/foreign/curl-internal.h"
#include "lib/kernel/proc.h"
#include "shared/macro.h"

#define ENGINE_TIMEOUT_MS 10000L
#define ENGINE_CONNECT_TIMEOUT_MS 3000L
#define ENGINE_BODY_MAX (8u << 20) /* bytes: far more than any inspect or list answer */
#define ENGINE_PID_MAX 4194304	   /* PID_MAX_LIMIT */
#define ENGINE_OPEN_TRIES 3

static char socket_override[LJ_ENGINE_SOCKET_MAX];
/* An engine that let a request time out is not asked again by this process (gc asks about
 * many containers: one hung engine costs one timeout, not one per record). */
static char hung_socket[LJ_ENGINE_SOCKET_MAX];

static int fail(struct lj_engine_err *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct lj_engine_err *err, int r, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return r;
}

bool lj_engine_network_name_valid(const char *s)
{
	return lj_engine_name_valid(s) && strlen(s) < LJ_ENGINE_NET_NAME_MAX;
}

bool lj_engine_name_valid(const char *s)
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++, n++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');
		if (!alnum && (p == s || (*p != '_' && *p != '.' && *p != '-')))
			return false;
	}
	return n < LJ_ENGINE_NAME_MAX;
}

static bool is_hex_id(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* --- which socket --------------------------------------------------------------------------- */

static int check_socket_path(const char *p)
{
	if (!p || p[0] != '/' || strlen(p) >= LJ_ENGINE_SOCKET_MAX)
		return -EINVAL;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	return 0;
}

void lj_engine_forget_hung(void)
{
	hung_socket[0] = '\0';
}

int lj_engine_set_socket(const char *path)
{
	if (!path) {
		socket_override[0] = '\0';
		return 0;
	}
	if (check_socket_path(path) < 0)
		return -EINVAL;
	snprintf(socket_override, sizeof(socket_override), "%s", path);
	return 0;
}

int lj_engine_parse_docker_host(const char *value, char *buf, size_t size)
{
	if (!value || strncmp(value, "unix://", 7) != 0)
		return value && strstr(value, "://") ? -EPROTONOSUPPORT : -EINVAL;
	value += 7;
	if (check_socket_path(value) < 0 || strlen(value) >= size)
		return -EINVAL;
	snprintf(buf, size, "%s", value);
	return 0;
}

int lj_engine_socket(char *buf, size_t size, struct lj_engine_err *err)
{
	const char *v;
	struct stat st;
	int r;

	if (size < LJ_ENGINE_SOCKET_MAX)
		return -EINVAL;
	if (socket_override[0]) {
		snprintf(buf, size, "%s", socket_override);
		return 0;
	}
	v = getenv("LANJOIN_ENGINE_SOCKET");
	if (v && *v) {
		if (check_socket_path(v) < 0)
			return fail(err, -EINVAL,
				    "Invalid LANJOIN_ENGINE_SOCKET '%.200s': expected an "
				    "absolute path shorter than %d bytes",
				    v, LJ_ENGINE_SOCKET_MAX);
		snprintf(buf, size, "%s", v);
		return 0;
	}
	v = getenv("DOCKER_HOST");
	if (v && *v) {
		r = lj_engine_parse_docker_host(v, buf, size);
		if (r == -EPROTONOSUPPORT)
			return fail(err, r,
				    "DOCKER_HOST=%.200s is not supported: lanjoin talks to the "
				    "engine over a local unix:// socket only",
				    v);
		if (r < 0)
			return fail(err, r, "Invalid DOCKER_HOST '%.200s': expected unix:///PATH",
				    v);
		return 0;
	}
	if (stat(LJ_ENGINE_DOCKER_SOCKET, &st) == 0) {
		snprintf(buf, size, "%s", LJ_ENGINE_DOCKER_SOCKET);
		return 0;
	}
	if (stat(LJ_ENGINE_PODMAN_SOCKET, &st) == 0) {
		snprintf(buf, size, "%s", LJ_ENGINE_PODMAN_SOCKET);
		return 0;
	}
	return fail(err, -ECONNREFUSED,
		    "Cannot reach a container engine: neither " LJ_ENGINE_DOCKER_SOCKET
		    " nor " LJ_ENGINE_PODMAN_SOCKET " exists (is the engine "
		    "running? Otherwise name its socket with --engine-socket PATH, "
		    "LANJOIN_ENGINE_SOCKET or DOCKER_HOST=unix://PATH)");
}

/* --- libcurl, loaded on first use ------------------------------------------------------------ */

static struct lj_curl_fns cu;
static bool cu_loaded;

static int curl_load(struct lj_engine_err *err)
{
	static const char *const sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};
	CURLcode (*global_init)(long) = NULL;
	void *h = NULL;

	if (cu_loaded)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(sonames) && !h; i++)
		h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return fail(err, -EPROTONOSUPPORT,
			    "Cannot load libcurl (needed to talk to the "
			    "container engine): %s",
			    dlerror());
		/* POSIX's way to turn a dlsym() result into a function pointer. */
#define SYM(field, name) *(void **)(&(field)) = dlsym(h, name)
	SYM(global_init, "curl_global_init");
	SYM(cu.easy_init, "curl_easy_init");
	SYM(cu.easy_setopt, "curl_easy_setopt");
	SYM(cu.easy_perform, "curl_easy_perform");
	SYM(cu.easy_getinfo, "curl_easy_getinfo");
	SYM(cu.easy_cleanup, "curl_easy_cleanup");
	SYM(cu.easy_strerror, "curl_easy_strerror");
	SYM(cu.multi_init, "curl_multi_init");
	SYM(cu.multi_cleanup, "curl_multi_cleanup");
	SYM(cu.multi_setopt, "curl_multi_setopt");
	SYM(cu.multi_add_handle, "curl_multi_add_handle");
	SYM(cu.multi_remove_handle, "curl_multi_remove_handle");
	SYM(cu.multi_socket_action, "curl_multi_socket_action");
	SYM(cu.multi_info_read, "curl_multi_info_read");
	SYM(cu.multi_assign, "curl_multi_assign");
#undef SYM
	if (!global_init || !cu.easy_init || !cu.easy_setopt || !cu.easy_perform ||
	    !cu.easy_getinfo || !cu.easy_cleanup || !cu.easy_strerror || !cu.multi_init ||
	    !cu.multi_cleanup || !cu.multi_setopt || !cu.multi_add_handle ||
	    !cu.multi_remove_handle || !cu.multi_socket_action || !cu.multi_info_read ||
	    !cu.multi_assign) {
		dlclose(h);
		return fail(err, -EPROTONOSUPPORT,
			    "The libcurl found lacks the functions lanjoin "
			    "needs");
	}
	/* Plain HTTP over a unix socket: no TLS to initialise. */
	if (global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
		dlclose(h);
		return fail(err, -ENOMEM, "Cannot initialise libcurl");
	}
	cu_loaded = true; /* stays loaded for the life of the process */
	return 0;
}

const struct lj_curl_fns *lj_curl(struct lj_engine_err *err)
{
	return curl_load(err) < 0 ? NULL : &cu;
}

struct body {
	char *data;
	size_t size, cap; /* bytes used (without the NUL), bytes allocated */
	bool too_big;
};

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;

	if (n > ENGINE_BODY_MAX - b->size) {
		b->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (b->size + n + 1 > b->cap) {
		/* Grow geometrically: one realloc per chunk copies the body over and over. */
		size_t cap = b->cap ? b->cap : 16384;
		char *p;

		while (cap < b->size + n + 1)
			cap *= 2;
		if (cap > ENGINE_BODY_MAX + 1)
			cap = ENGINE_BODY_MAX + 1;
		p = realloc(b->data, cap);
		if (!p)
			return 0;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->size, ptr, n);
	b->size += n;
	b->data[b->size] = '\0';
	return n;
}

/*
 * GET path on the engine at sock. On success *ret_status is the HTTP status and *ret_body a
 * NUL-terminated body the caller frees (any status: error bodies carry the engine's text).
 */
static int engine_get(const char *sock, const char *path, long *ret_status, char **ret_body,
		      size_t *ret_size, struct lj_engine_err *err)
{
	struct body b = {0};
	char url[512];
	long status = 0, oserr = 0;
	CURLcode c;
	CURL *h;
	int r;

	if (hung_socket[0] && strcmp(hung_socket, sock) == 0)
		return fail(err, -ETIMEDOUT,
			    "The engine at %s did not answer within %ld s before; "
			    "not asked again",
			    sock, ENGINE_TIMEOUT_MS / 1000);
	r = curl_load(err);
	if (r < 0)
		return r;
	if (snprintf(url, sizeof(url), "http://localhost%s", path) >= (int)sizeof(url))
		return fail(err, -EINVAL, "Request path too long");
	h = cu.easy_init();
	if (!h)
		return fail(err, -ENOMEM, "Cannot create a libcurl handle");
	if (cu.easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock) != CURLE_OK ||
	    cu.easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    cu.easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK ||
	    cu.easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    cu.easy_setopt(h, CURLOPT_TIMEOUT_MS, ENGINE_TIMEOUT_MS) != CURLE_OK ||
	    cu.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ENGINE_CONNECT_TIMEOUT_MS) != CURLE_OK ||
	    cu.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    cu.easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write) != CURLE_OK ||
	    cu.easy_setopt(h, CURLOPT_WRITEDATA, &b) != CURLE_OK) {
		cu.easy_cleanup(h);
		return fail(err, -EINVAL, "Cannot set up the request to the engine");
	}
	c = cu.easy_perform(h);
	if (c == CURLE_OK)
		cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	else
		cu.easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
	cu.easy_cleanup(h);

	if (c != CURLE_OK) {
		free(b.data);
		if (b.too_big)
			return fail(err, -EPROTO, "The engine at %s sent an answer over %u bytes",
				    sock, ENGINE_BODY_MAX);
		if (c == CURLE_OPERATION_TIMEDOUT) {
			snprintf(hung_socket, sizeof(hung_socket), "%s", sock);
			return fail(err, -ETIMEDOUT, "The engine at %s did not answer within %ld s",
				    sock, ENGINE_TIMEOUT_MS / 1000);
		}
		if (c == CURLE_COULDNT_CONNECT) {
			r = oserr == EACCES || oserr == EPERM ? -EACCES : -ECONNREFUSED;
			return fail(err, r, "Cannot reach the container engine at %s: %s", sock,
				    oserr ? strerror((int)oserr) : cu.easy_strerror(c));
		}
		return fail(err, -EPROTO, "Request to the engine at %s failed: %s", sock,
			    cu.easy_strerror(c));
	}
	if (!b.data) {
		b.data = strdup("");
		if (!b.data)
			return -ENOMEM;
	}
	*ret_status = status;
	*ret_body = b.data;
	*ret_size = b.size;
	return 0;
}

/* The engine's error text from an error body ({"message": "..."}), sanitised, into buf. */
static const char *api_message(const char *body, size_t size, char *buf, size_t bufsize)
{
	json_t *j = json_loadb(body, size, 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	size_t n = 0;

	if (!m || !*m)
		m = "no error text";
	for (; *m && n + 1 < bufsize && n < 300; m++)
		buf[n++] = (unsigned char)*m < 0x20 || *m == 0x7f ? ' ' : *m;
	buf[n] = '\0';
	json_decref(j);
	return buf;
}

/* --- parsing the inspect answer -------------------------------------------------------------- */

/* Optional string member: NULL/absent → "", a non-string → -EPROTO. */
static int get_str(json_t *o, const char *key, const char **ret)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*ret = "";
		return 0;
	}
	if (!json_is_string(v))
		return -EPROTO;
	*ret = json_string_value(v);
	/* jansson allows NULs inside strings; a C string must not hide a tail. */
	if (strlen(*ret) != json_string_length(v))
		return -EPROTO;
	return 0;
}

static int get_int(json_t *o, const char *key, json_int_t min, json_int_t max, json_int_t *ret)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*ret = 0;
		return 0 >= min && 0 <= max ? 0 : -EPROTO;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return -EPROTO;
	*ret = json_integer_value(v);
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int parse_net(const char *name, json_t *o, struct lj_engine_net *n,
		     struct lj_engine_err *err)
{
	const char *ip4, *ip6, *gw4, *gw6, *mac, *nid, *eid;
	json_int_t len4, len6;

	memset(n, 0, sizeof(*n));
	if (!*name || strlen(name) >= sizeof(n->name) || !printable(name))
		return fail(err, -EPROTO,
			    "Malformed answer from the engine: a network name is "
			    "empty, too long or not printable");
	snprintf(n->name, sizeof(n->name), "%s", name);
	if (!json_is_object(o))
		return fail(err, -EPROTO,
			    "Malformed answer from the engine: network '%s' is not "
			    "an object",
			    name);
	if (get_str(o, "IPAddress", &ip4) < 0 || get_str(o, "GlobalIPv6Address", &ip6) < 0 ||
	    get_str(o, "Gateway", &gw4) < 0 || get_str(o, "IPv6Gateway", &gw6) < 0 ||
	    get_str(o, "MacAddress", &mac) < 0 || get_int(o, "IPPrefixLen", 0, 32, &len4) < 0 ||
	    get_int(o, "GlobalIPv6PrefixLen", 0, 128, &len6) < 0 ||
	    get_str(o, "NetworkID", &nid) < 0 || get_str(o, "EndpointID", &eid) < 0)
		return fail(err, -EPROTO,
			    "Malformed answer from the engine: a field of network "
			    "'%s' has the wrong type or range",
			    name);
	/* Docker's are hex IDs (a plugin endpoint is matched by them); Podman's compatible API
	 * gives the network's name as NetworkID: kept only when they are IDs. */
	if (is_hex_id(nid, 1, LJ_ENGINE_ID_LEN))
		snprintf(n->network_id, sizeof(n->network_id), "%s", nid);
	if (is_hex_id(eid, 1, LJ_ENGINE_ID_LEN))
		snprintf(n->endpoint_id, sizeof(n->endpoint_id), "%s", eid);
	if (*ip4 && (lj_parse_ip(ip4, &n->ipv4.ip) < 0 || n->ipv4.ip.family != AF_INET))
		return fail(err, -EPROTO,
			    "Malformed answer from the engine: network '%s': "
			    "IPAddress is not an IPv4 address",
			    name);
	n->ipv4.prefixlen = *ip4 ? (uint8_t)(len4 ? len4 : 32) : 0;
	if (*ip6 && (lj_parse_ip(ip6, &n->ipv6.ip) < 0 || n->ipv6.ip.family != AF_INET6))
		return fail(err, -EPROTO,
			    "Malformed answer from the engine: network '%s': "
			    "GlobalIPv6Address is not an IPv6 address",
			    name);
	n->ipv6.prefixlen = *ip6 ? (uint8_t)(len6 ? len6 : 128) : 0;
	if (*gw4 && (lj_parse_ip(gw4, &n->gateway) < 0 || n->gateway.family != AF_INET))
		return fail(err, -EPROTO,
			    "Malformed answer from the engine: network '%s': "
			    "Gateway is not an IPv4 address",
			    name);
	if (*gw6 && (lj_parse_ip(gw6, &n->gateway6) < 0 || n->gateway6.family != AF_INET6))
		return fail(err, -EPROTO,
			    "Malformed answer from the engine: network '%s': "
			    "IPv6Gateway is not an IPv6 address",
			    name);
	if (*mac) {
		if (lj_parse_mac(mac, n->mac) < 0)
			return fail(err, -EPROTO,
				    "Malformed answer from the engine: network '%s': "
				    "MacAddress is not a unicast MAC address",
				    name);
		n->has_mac = true;
	}
	return 0;
}

int lj_engine_parse_inspect(const char *json, size_t size, struct lj_engine_container *ret,
			    struct lj_engine_err *err)
{
	struct lj_engine_container *c;
	const char *id, *name, *status, *started;
	json_t *root, *state, *running, *ns, *nets, *v;
	json_int_t pid;
	const char *key;
	int r = -EPROTO;

	root = json_loadb(json, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(err, -EPROTO, "Malformed answer from the engine: not a JSON object");
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		json_decref(root);
		return -ENOMEM;
	}
	if (get_str(root, "Id", &id) < 0 || !is_hex_id(id, LJ_ENGINE_ID_LEN, LJ_ENGINE_ID_LEN)) {
		fail(err, r, "Malformed answer from the engine: Id is not 64 hex digits");
		goto out;
	}
	snprintf(c->id, sizeof(c->id), "%s", id);
	if (get_str(root, "Name", &name) < 0) {
		fail(err, r, "Malformed answer from the engine: Name is not a string");
		goto out;
	}
	if (name[0] == '/')
		name++;
	if (!lj_engine_name_valid(name)) {
		fail(err, r,
		     "Malformed answer from the engine: Name is not a valid container name");
		goto out;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);

	state = json_object_get(root, "State");
	running = json_object_get(state, "Running");
	if (!json_is_object(state) || !json_is_boolean(running) ||
	    get_int(state, "Pid", 0, ENGINE_PID_MAX, &pid) < 0 ||
	    get_str(state, "Status", &status) < 0 || get_str(state, "StartedAt", &started) < 0) {
		fail(err, r,
		     "Malformed answer from the engine: State is missing or has a field of "
		     "the wrong type or range");
		goto out;
	}
	c->running = json_is_true(running);
	c->pid = (pid_t)pid;
	if (c->running != (c->pid > 0)) {
		fail(err, r,
		     "Malformed answer from the engine: State.Running and State.Pid disagree");
		goto out;
	}
	if (strlen(status) >= sizeof(c->status) ||
	    strspn(status, "abcdefghijklmnopqrstuvwxyz") != strlen(status)) {
		fail(err, r, "Malformed answer from the engine: State.Status is not a status word");
		goto out;
	}
	snprintf(c->status, sizeof(c->status), "%s", status);
	if (strlen(started) >= sizeof(c->started_at) ||
	    strspn(started, "0123456789TZ:.+-") != strlen(started)) {
		fail(err, r,
		     "Malformed answer from the engine: State.StartedAt is not a timestamp");
		goto out;
	}
	snprintf(c->started_at, sizeof(c->started_at), "%s", started);

	ns = json_object_get(root, "NetworkSettings");
	if (ns && !json_is_null(ns) && !json_is_object(ns)) {
		fail(err, r, "Malformed answer from the engine: NetworkSettings is not an object");
		goto out;
	}
	if (get_str(ns, "SandboxKey", &key) < 0 || strlen(key) >= sizeof(c->sandbox_key) ||
	    (*key && (key[0] != '/' || !printable(key)))) {
		fail(err, r,
		     "Malformed answer from the engine: NetworkSettings.SandboxKey is not an "
		     "absolute path");
		goto out;
	}
	snprintf(c->sandbox_key, sizeof(c->sandbox_key), "%s", key);
	nets = json_object_get(ns, "Networks");
	if (nets && !json_is_null(nets) && !json_is_object(nets)) {
		fail(err, r,
		     "Malformed answer from the engine: NetworkSettings.Networks is not an "
		     "object");
		goto out;
	}
	if (json_object_size(nets) > LJ_ENGINE_MAX_NETS) {
		fail(err, r,
		     "The container is on more than %d networks; lanjoin handles at most that",
		     LJ_ENGINE_MAX_NETS);
		goto out;
	}
	json_object_foreach(nets, key, v)
	{
		r = parse_net(key, v, &c->nets[c->n_nets], err);
		if (r < 0)
			goto out;
		c->n_nets++;
	}
	*ret = *c;
	r = 0;
out:
	free(c);
	json_decref(root);
	return r;
}

/* --- requests -------------------------------------------------------------------------------- */

/*
 * The engine answered something other than 200 for an inspect of name: 404 is "no such
 * container"; an ID prefix that matches several containers gets a 500 from Docker, so a
 * hex-looking name is checked against the list of all containers to say so exactly.
 */
static int inspect_error(const char *sock, const char *name, long status, const char *body,
			 size_t size, struct lj_engine_err *err)
{
	char text[320], found[256] = "";
	char *lbody = NULL;
	size_t lsize, n = 0, len = 0;
	long lstatus;
	json_t *list, *e;
	size_t i;

	api_message(body, size, text, sizeof(text));
	if (status == 404)
		return fail(err, -ENOENT, "No such container '%s' (the engine at %s says: %s)",
			    name, sock, text);
	if (is_hex_id(name, 1, LJ_ENGINE_ID_LEN - 1) &&
	    engine_get(sock, "/containers/json?all=1", &lstatus, &lbody, &lsize, NULL) == 0 &&
	    lstatus == 200) {
		list = json_loadb(lbody, lsize, 0, NULL);
		json_array_foreach(list, i, e)
		{
			const char *id = json_string_value(json_object_get(e, "Id"));
			if (!id || !is_hex_id(id, LJ_ENGINE_ID_LEN, LJ_ENGINE_ID_LEN) ||
			    strncmp(id, name, strlen(name)) != 0)
				continue;
			if (n++ < 4 && len < sizeof(found))
				len += (size_t)snprintf(found + len, sizeof(found) - len, "%s%.12s",
							n > 1 ? ", " : "", id);
		}
		json_decref(list);
		free(lbody);
		if (n > 1)
			return fail(err, -ENOTUNIQ,
				    "Container ID prefix '%s' is ambiguous: it matches "
				    "%zu containers (%s%s); give more digits or the name",
				    name, n, found, n > 4 ? ", ..." : "");
	} else {
		free(lbody);
	}
	return fail(err, -EPROTO, "The engine at %s answered HTTP %ld for container '%s': %s", sock,
		    status, name, text);
}

static int inspect_at(const char *sock, const char *name, struct lj_engine_container *ret,
		      struct lj_engine_err *err)
{
	_cleanup_free_ char *body = NULL;
	char path[LJ_ENGINE_NAME_MAX + 32];
	long status;
	size_t size;
	int r;

	if (!lj_engine_name_valid(name))
		return fail(err, -EINVAL, "Invalid container name '%.200s'", name);
	snprintf(path, sizeof(path), "/containers/%s/json", name);
	r = engine_get(sock, path, &status, &body, &size, err);
	if (r < 0)
		return r;
	if (status != 200)
		return inspect_error(sock, name, status, body, size, err);
	r = lj_engine_parse_inspect(body, size, ret, err);
	if (r < 0) {
		size_t len = err ? strlen(err->msg) : 0;
		if (err)
			snprintf(err->msg + len, sizeof(err->msg) - len,
				 " (container '%s', engine at %s)", name, sock);
	}
	return r;
}

int lj_engine_inspect(const char *name, struct lj_engine_container *ret, struct lj_engine_err *err)
{
	char sock[LJ_ENGINE_SOCKET_MAX];
	int r;

	if (!lj_engine_name_valid(name))
		return fail(err, -EINVAL, "Invalid container name '%.200s'", name ? name : "");
	r = lj_engine_socket(sock, sizeof(sock), err);
	if (r < 0)
		return r;
	return inspect_at(sock, name, ret, err);
}

int lj_engine_parse_endpoints(const char *json, size_t size, struct lj_engine_endpoint **ret,
			      size_t *ret_n)
{
	json_t *root = json_loadb(json, size, 0, NULL), *c, *net;
	struct lj_engine_endpoint *v = NULL;
	size_t n = 0, i;
	const char *key;

	if (!json_is_array(root)) {
		json_decref(root);
		return -EPROTO;
	}
	json_array_foreach(root, i, c)
	{
		const char *name =
			json_string_value(json_array_get(json_object_get(c, "Names"), 0));
		json_t *nets = json_object_get(json_object_get(c, "NetworkSettings"), "Networks");

		if (!name || name[0] != '/' || !lj_engine_name_valid(name + 1))
			continue;
		json_object_foreach(nets, key, net)
		{
			const char *eid = json_string_value(json_object_get(net, "EndpointID"));
			struct lj_engine_endpoint *nv;

			if (!eid || !is_hex_id(eid, LJ_ENGINE_ID_LEN, LJ_ENGINE_ID_LEN))
				continue;
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv) {
				free(v);
				json_decref(root);
				return -ENOMEM;
			}
			v = nv;
			snprintf(v[n].endpoint_id, sizeof(v[n].endpoint_id), "%s", eid);
			snprintf(v[n].container, sizeof(v[n].container), "%s", name + 1);
			n++;
		}
	}
	json_decref(root);
	*ret = v;
	*ret_n = n;
	return 0;
}

int lj_engine_list_endpoints(struct lj_engine_endpoint **ret, size_t *ret_n,
			     struct lj_engine_err *err)
{
	_cleanup_free_ char *body = NULL;
	char sock[LJ_ENGINE_SOCKET_MAX];
	long status;
	size_t size;
	int r;

	r = lj_engine_socket(sock, sizeof(sock), err);
	if (r == 0)
		r = engine_get(sock, "/containers/json", &status, &body, &size, err);
	if (r < 0)
		return r;
	if (status != 200)
		return fail(err, -EPROTO, "The engine at %s answered HTTP %ld for the containers",
			    sock, status);
	r = lj_engine_parse_endpoints(body, size, ret, ret_n);
	return r < 0 ? fail(err, r, "Malformed list of containers from the engine at %s", sock) : 0;
}

/* --- opening the namespace ------------------------------------------------------------------- */

int lj_engine_open_container(const char *name, struct lj_engine_container *ret, int *ret_fd,
			     struct lj_engine_err *err)
{
	char sock[LJ_ENGINE_SOCKET_MAX], path[64];
	struct lj_engine_container *c, *again;
	int r;

	if (!lj_engine_name_valid(name))
		return fail(err, -EINVAL, "Invalid container name '%.200s'", name ? name : "");
	r = lj_engine_socket(sock, sizeof(sock), err);
	if (r < 0)
		return r;
	c = calloc(2, sizeof(*c));
	if (!c)
		return -ENOMEM;
	again = &c[1];

	r = -ESTALE;
	for (int attempt = 0; attempt < ENGINE_OPEN_TRIES; attempt++) {
		_cleanup_close_ int pidfd = -1, fd = -1;

		r = inspect_at(sock, name, c, err);
		if (r < 0)
			goto out;
		if (!c->running) {
			*ret = *c; /* it exists: callers still want its ID */
			r = fail(err, -ESRCH, "Container '%s' is not running (status %s)", c->name,
				 c->status[0] ? c->status : "unknown");
			goto out;
		}
		/* Pin the process the engine named, then open its namespace. */
		pidfd = lj_proc_pidfd_open(c->pid);
		if (pidfd < 0) {
			if (pidfd != -ESRCH) {
				r = fail(err, pidfd, "Cannot open PID %d of container '%s': %s",
					 (int)c->pid, c->name, strerror(-pidfd));
				goto out;
			}
			continue; /* it died (restart?): ask again */
		}
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c->pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ESRCH)
				continue;
			r = fail(err, lj_negerrno(), "Cannot open %s (container '%s'): %s", path,
				 c->name, strerror(errno));
			goto out;
		}
		if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
			r = fail(err, -EINVAL, "%s is not a network namespace", path);
			goto out;
		}
		/*
		 * The pidfd's process was alive from before this second inspect until the check
		 * below; if the engine still names the same PID and start, the two are one
		 * process (no two live processes share a PID), so fd is the container's.
		 */
		r = inspect_at(sock, c->id, again, err);
		if (r < 0) {
			if (r == -ENOENT)
				r = fail(err, -ENOENT,
					 "Container '%s' was removed while lanjoin opened "
					 "its namespace",
					 c->name);
			goto out;
		}
		if (!again->running || again->pid != c->pid ||
		    strcmp(again->started_at, c->started_at) != 0 || !lj_proc_pidfd_alive(pidfd))
			continue;
		*ret = *c;
		*ret_fd = TAKE_FD(fd);
		r = 0;
		goto out;
	}
	r = fail(err, -ESTALE,
		 "Container '%s' kept restarting while lanjoin opened its network "
		 "namespace; try again",
		 name);
out:
	free(c);
	return r;
}

/* --- addresses ---------------------------------------------------------------------------------
 */

/* The networks of c as "a, b" into buf (size bytes). */
static void net_names(const struct lj_engine_container *c, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->n_nets && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
					c->nets[i].name);
}

/* lj_engine_pick_address, with the index of the network the address is on into *ret_i. */
static int pick(const struct lj_engine_container *c, const char *network, int family, size_t *ret_i,
		struct lj_engine_err *err)
{
	char names[256] = "";
	size_t n = 0, len = 0, at = 0;
	bool on = false;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	for (size_t i = 0; i < c->n_nets; i++) {
		const struct lj_cidr *a = family == AF_INET ? &c->nets[i].ipv4 : &c->nets[i].ipv6;
		if (network && strcmp(network, c->nets[i].name) != 0)
			continue;
		on = true;
		if (a->ip.family != family)
			continue;
		at = i;
		if (len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						n ? ", " : "", c->nets[i].name);
		n++;
	}
	if (network && !on) {
		net_names(c, names, sizeof(names));
		return fail(err, -ENONET, "Container '%s' is not on network '%s' (%s%s)", c->name,
			    network, c->n_nets ? "its networks: " : "it is on no network", names);
	}
	if (n == 0)
		return fail(err, -EADDRNOTAVAIL, "Container '%s' has no %s address on %s%s%s",
			    c->name, family == AF_INET ? "IPv4" : "IPv6",
			    network ? "network '" : "any engine network", network ? network : "",
			    network ? "'" : "");
	if (n > 1)
		return fail(err, -ENOTUNIQ,
			    "Container '%s' has %s addresses on several networks "
			    "(%s): say which",
			    c->name, family == AF_INET ? "IPv4" : "IPv6", names);
	*ret_i = at;
	return 0;
}

int lj_engine_pick_address(const struct lj_engine_container *c, const char *network, int family,
			   struct lj_cidr *ret, struct lj_engine_err *err)
{
	size_t i;
	int r = pick(c, network, family, &i, err);

	if (r < 0)
		return r;
	*ret = family == AF_INET ? c->nets[i].ipv4 : c->nets[i].ipv6;
	return 0;
}

int lj_engine_container_address(const char *name, const char *network, int family,
				struct lj_cidr *ret, char ret_network[LJ_ENGINE_NET_NAME_MAX],
				struct lj_engine_err *err)
{
	struct lj_engine_container *c;
	size_t i;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = lj_engine_inspect(name, c, err);
	if (r == 0)
		r = pick(c, network, family, &i, err);
	if (r == 0) {
		*ret = family == AF_INET ? c->nets[i].ipv4 : c->nets[i].ipv6;
		if (ret_network)
			snprintf(ret_network, LJ_ENGINE_NET_NAME_MAX, "%s", c->nets[i].name);
	}
	free(c);
	return r;
}
