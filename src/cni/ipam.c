/* SPDX-License-Identifier: MIT */
/* Delegation to another CNI plugin (IPAM): fork+execve from CNI_PATH, result validation. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cni/cni.h"
#include "shared/macro.h"

#define OUTPUT_MAX (1 << 20)

extern char **environ;

/* The first executable regular file dir/type over the absolute dirs of CNI_PATH. */
static int find_plugin(const char *path, const char *type, char ret[PATH_MAX])
{
	const char *p = path;

	while (*p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct stat st;
		char file[PATH_MAX];

		if (len && p[0] == '/' && len + strlen(type) + 2 <= sizeof(file)) {
			memcpy(file, p, len);
			file[len] = '/';
			memcpy(file + len + 1, type, strlen(type) + 1);
			if (stat(file, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(file, X_OK) == 0) {
				memcpy(ret, file, sizeof(file));
				return 0;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	return -ENOENT;
}

bool lj_cni_plugin_exists(const struct lj_cni_env *env, const char *type)
{
	char file[PATH_MAX];

	return find_plugin(env->path, type, file) == 0;
}

static bool replaced(const char *e, bool attachment)
{
	static const char *const always[] = {"CNI_COMMAND="};
	static const char *const keyed[] = {"CNI_CONTAINERID=", "CNI_IFNAME=", "CNI_NETNS="};

	for (size_t i = 0; i < ARRAY_SIZE(always); i++)
		if (strncmp(e, always[i], strlen(always[i])) == 0)
			return true;
	for (size_t i = 0; attachment && i < ARRAY_SIZE(keyed); i++)
		if (strncmp(e, keyed[i], strlen(keyed[i])) == 0)
			return true;
	return false;
}

/* Our environment with CNI_COMMAND (and the attachment variables) replaced. */
static char **make_env(const char *command, const char *container_id, const char *ifname)
{
	size_t n = 0, k = 0;
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + 5, sizeof(*envp));
	if (!envp)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!replaced(environ[i], container_id != NULL))
			envp[k++] = environ[i];
	if (asprintf(&envp[k++], "CNI_COMMAND=%s", command) < 0)
		goto oom;
	if (container_id) {
		if (asprintf(&envp[k++], "CNI_CONTAINERID=%s", container_id) < 0 ||
		    asprintf(&envp[k++], "CNI_IFNAME=%s", ifname) < 0 ||
		    asprintf(&envp[k++], "CNI_NETNS=") < 0)
			goto oom;
	}
	envp[k] = NULL;
	return envp;
oom:
	/* Only the asprintf'd entries at the end are ours; the rest belong to environ. */
	free(envp);
	return NULL;
}

static void free_env(char **envp, bool keyed)
{
	size_t n = 0;

	if (!envp)
		return;
	while (envp[n])
		n++;
	for (size_t i = n - (keyed ? 4 : 1); i < n; i++)
		free(envp[i]);
	free(envp);
}

/* Fill err from a plugin's failure output (its error JSON, or its text). */
static void plugin_error(const char *type, const char *out, size_t len, int status,
			 struct lj_cni_err *err)
{
	json_t *j = len ? json_loadb(out, len, 0, NULL) : NULL;
	const json_t *code = json_object_get(j, "code");

	if (json_is_integer(code) && json_integer_value(code) > 0 &&
	    json_integer_value(code) < 1000000) {
		const char *msg = json_string_value(json_object_get(j, "msg"));
		const char *det = json_string_value(json_object_get(j, "details"));
		err->code = (int)json_integer_value(code);
		snprintf(err->msg, sizeof(err->msg), "%s: %s", type, msg ? msg : "failed");
		snprintf(err->details, sizeof(err->details), "%s", det ? det : "");
	} else {
		err->code = LJ_CNI_E_IPAM;
		snprintf(err->msg, sizeof(err->msg), "IPAM plugin %s failed", type);
		if (WIFEXITED(status))
			snprintf(err->details, sizeof(err->details), "exit status %d%s%.*s",
				 WEXITSTATUS(status), len ? ": " : "", (int)(len > 512 ? 512 : len),
				 out);
		else
			snprintf(err->details, sizeof(err->details), "killed by signal %d",
				 WTERMSIG(status));
	}
	json_decref(j);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read the plugin's stdout from rd into out (up to OUTPUT_MAX bytes, the rest drained) until
 * EOF or deadline (CLOCK_MONOTONIC, ms). 0 at EOF, -ETIMEDOUT, other -errno.
 */
static int read_until(int rd, char *out, size_t *len, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = rd, .events = POLLIN};
		int64_t left = deadline - now_ms();
		char sink[4096];
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			continue; /* the deadline is checked above */
		n = read(rd, *len < OUTPUT_MAX ? out + *len : sink,
			 *len < OUTPUT_MAX ? OUTPUT_MAX - *len : sizeof(sink));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0;
		if (*len < OUTPUT_MAX)
			*len += (size_t)n;
	}
}

/*
 * Start plugin type with stdin in (dup'ed: the caller keeps its fd) and its stdout a pipe
 * (*ret_rd, the caller's), in its own process group. 0 or a code with err set.
 */
static int spawn(const struct lj_cni_env *env, const char *type, const char *command,
		 const char *container_id, const char *ifname, int in, pid_t *ret_pid, int *ret_rd,
		 struct lj_cni_err *err)
{
	_cleanup_close_ int rd = -1, wr = -1;
	char file[PATH_MAX];
	char **envp;
	int pipefd[2];
	pid_t pid;

	if (find_plugin(env->path, type, file) < 0)
		return lj_cni_fail(err, LJ_CNI_E_CONFIG, "invalid network configuration",
				   "failed to find plugin \"%s\" in CNI_PATH %.512s", type,
				   env->path);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure", "pipe: %m");
	rd = pipefd[0];
	wr = pipefd[1];
	envp = make_env(command, container_id, ifname);
	if (!envp)
		return lj_cni_fail(err, LJ_CNI_E_IO, "out of memory", NULL);

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		free_env(envp, container_id != NULL);
		return lj_cni_fail(err, LJ_CNI_E_AGAIN, "try again later", "fork: %m");
	}
	if (pid == 0) {
		char *argv[] = {file, NULL};
		/* Its own process group: a timeout kills what it started too (a shell's sleep). */
		if (setpgid(0, 0) < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(wr, STDOUT_FILENO) < 0)
			_exit(127);
		execve(file, argv, envp);
		_exit(127);
	}
	setpgid(pid, pid); /* also here: no window before the child's own call */
	free_env(envp, container_id != NULL);
	*ret_pid = pid;
	*ret_rd = TAKE_FD(rd);
	return 0;
}

/*
 * The answer of the plugin pid started by spawn (rd: its stdout, closed here): read until it
 * closes stdout (killed with its group after timeout_s), reap it, judge it. 0 or a code.
 */
static int collect(pid_t pid, int rd, const char *type, const char *command, unsigned timeout_s,
		   json_t **ret_out, struct lj_cni_err *err)
{
	_cleanup_close_ int fd = rd;
	_cleanup_free_ char *out = malloc(OUTPUT_MAX + 1);
	size_t len = 0;
	int status = 0;
	bool timed_out;

	if (!out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	timed_out = !out ||
		    read_until(fd, out, &len, now_ms() + 1000 * (int64_t)timeout_s) == -ETIMEDOUT;
	if (timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure", "waitpid: %m");
	if (!out)
		return lj_cni_fail(err, LJ_CNI_E_IO, "out of memory", NULL);
	out[len] = '\0';
	if (timed_out)
		return lj_cni_fail(err, LJ_CNI_E_IPAM, "IPAM plugin timed out",
				   "%s did not answer %s within %u s (\"ipamTimeout\"): killed",
				   type, command, timeout_s);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		plugin_error(type, out, len, status, err);
		return err->code;
	}
	if (ret_out) {
		json_error_t jerr;
		*ret_out = NULL;
		while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
			len--;
		if (len && !(*ret_out = json_loadb(out, len, 0, &jerr)))
			return lj_cni_fail(err, LJ_CNI_E_IPAM, "IPAM plugin answered no JSON",
					   "%s: %s", type, jerr.text);
	}
	return 0;
}

static int delegate_raw(const struct lj_cni_env *env, const char *raw, size_t raw_size,
			const char *type, const char *command, const char *container_id,
			const char *ifname, unsigned timeout_s, json_t **ret_out,
			struct lj_cni_err *err)
{
	_cleanup_close_ int in = -1;
	size_t off = 0;
	pid_t pid;
	int rd, r;

	in = memfd_create("lanjoin-cni-stdin", MFD_CLOEXEC);
	if (in < 0)
		return lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure", "memfd_create: %m");
	while (off < raw_size) {
		ssize_t n = write(in, raw + off, raw_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure", "write: %m");
		off += (size_t)n;
	}
	if (lseek(in, 0, SEEK_SET) < 0)
		return lj_cni_fail(err, LJ_CNI_E_IO, "I/O failure", "lseek: %m");
	r = spawn(env, type, command, container_id, ifname, in, &pid, &rd, err);
	if (r)
		return r;
	return collect(pid, rd, type, command, timeout_s, ret_out, err);
}

static unsigned ipam_timeout(const struct lj_cni_conf *conf)
{
	return conf->ipam_timeout ? conf->ipam_timeout : LJ_CNI_IPAM_TIMEOUT_DEFAULT;
}

/*
 * r: the answer to conf's own request. IPAM plugins older than spec 1.1.0 (Debian's 1.1.1
 * reference set) refuse a 1.1.0 request; their 1.0.0 answer has everything a 1.1.0 IPAM
 * result has, so ask again in 1.0.0. prevResult (CHECK, DEL) is said to be 1.0.0 too: the Go
 * plugins decode it in its own cniVersion and refuse a 1.1.0 one there as well.
 */
static int retry_older(const struct lj_cni_env *env, const struct lj_cni_conf *conf,
		       const char *type, const char *command, const char *container_id,
		       const char *ifname, json_t **ret_out, struct lj_cni_err *err, int r)
{
	_cleanup_free_ char *older = NULL;
	json_t *copy, *prev;

	if (r != LJ_CNI_E_VERSION || strcmp(conf->version, "1.1.0") != 0)
		return r;
	copy = json_deep_copy(conf->root);
	prev = json_object_get(copy, "prevResult");
	if (json_object_get(prev, "cniVersion"))
		json_object_set_new(prev, "cniVersion", json_string("1.0.0"));
	if (!copy || json_object_set_new(copy, "cniVersion", json_string("1.0.0")) < 0 ||
	    !(older = json_dumps(copy, JSON_COMPACT))) {
		json_decref(copy);
		return r;
	}
	json_decref(copy);
	return delegate_raw(env, older, strlen(older), type, command, container_id, ifname,
			    ipam_timeout(conf), ret_out, err);
}

int lj_cni_delegate(const struct lj_cni_env *env, const struct lj_cni_conf *conf, const char *type,
		    const char *command, const char *container_id, const char *ifname,
		    json_t **ret_out, struct lj_cni_err *err)
{
	int r;

	r = delegate_raw(env, conf->raw, conf->raw_size, type, command, container_id, ifname,
			 ipam_timeout(conf), ret_out, err);
	return retry_older(env, conf, type, command, container_id, ifname, ret_out, err, r);
}

/* A request lj_cni_delegate_start sends through the socket buffer at once (sent whole). */
#define PENDING_STDIN_MAX (64 << 10)

void lj_cni_delegate_start(const struct lj_cni_env *env, const struct lj_cni_conf *conf,
			   const char *type, const char *command, struct lj_cni_pending *ret)
{
	struct lj_cni_err err = {0};
	int sv[2];

	*ret = (struct lj_cni_pending){.pid = 0, .in = -1, .rd = -1};
	if (conf->raw_size > PENDING_STDIN_MAX ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	if (spawn(env, type, command, NULL, NULL, sv[1], &ret->pid, &ret->rd, &err) != 0) {
		close(sv[0]);
		ret->pid = 0;
	} else {
		ret->in = sv[0];
	}
	close(sv[1]);
	snprintf(ret->type, sizeof(ret->type), "%s", type);
	snprintf(ret->command, sizeof(ret->command), "%s", command);
}

void lj_cni_delegate_abort(struct lj_cni_pending *p)
{
	int status;

	if (p->pid <= 0)
		return;
	/* Killed before its stdin got anything: it has not acted (it cannot know on what). */
	kill(-p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
	close(p->in);
	close(p->rd);
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
}

int lj_cni_delegate_finish(const struct lj_cni_env *env, const struct lj_cni_conf *conf,
			   struct lj_cni_pending *p, json_t **ret_out, struct lj_cni_err *err)
{
	size_t off = 0;
	int r;

	if (p->pid <= 0)
		return lj_cni_delegate(env, conf, p->type, p->command, NULL, NULL, ret_out, err);
	/* The socket buffer holds the whole request (PENDING_STDIN_MAX): no wait here. A
	 * plugin that already exited (EPIPE) says why through its exit status. */
	while (off < conf->raw_size) {
		ssize_t n = send(p->in, conf->raw + off, conf->raw_size - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(p->in);
	r = collect(p->pid, p->rd, p->type, p->command, ipam_timeout(conf), ret_out, err);
	p->pid = 0;
	return retry_older(env, conf, p->type, p->command, NULL, NULL, ret_out, err, r);
}

bool lj_cni_delegate_speaks(const struct lj_cni_env *env, const struct lj_cni_conf *conf,
			    const char *v)
{
	struct lj_cni_err e = {0};
	json_t *out = NULL, *a, *x;
	bool yes = false;
	size_t i;

	if (lj_cni_delegate(env, conf, conf->ipam_type, "VERSION", NULL, NULL, &out, &e))
		return false;
	a = json_object_get(out, "supportedVersions");
	json_array_foreach(a, i, x) yes |=
		json_is_string(x) && strcmp(json_string_value(x), v) == 0;
	json_decref(out);
	return yes;
}

void lj_cni_ipam_free(struct lj_cni_ipam *ip)
{
	json_decref(ip->dns);
	ip->dns = NULL;
}

static int ipam_bad(struct lj_cni_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int ipam_bad(struct lj_cni_err *err, const char *fmt, ...)
{
	va_list ap;

	err->code = LJ_CNI_E_IPAM;
	snprintf(err->msg, sizeof(err->msg), "invalid IPAM result");
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return LJ_CNI_E_IPAM;
}

/* Clear the host bits of c (a route destination is a network). */
static void mask(struct lj_cidr *c)
{
	size_t len = lj_ip_len(c->ip.family);

	for (size_t i = 0; i < len; i++) {
		unsigned bits = c->prefixlen > i * 8 ? c->prefixlen - i * 8 : 0;
		if (bits < 8)
			c->ip.bytes[i] &= (uint8_t)(0xff << (8 - bits));
	}
}

static const char *str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) && json_string_length(v) < 64 ? json_string_value(v) : NULL;
}

/* A copy of an IPAM "dns" object with only well-formed known members. */
static json_t *sanitize_dns(const json_t *d)
{
	static const char *const lists[] = {"nameservers", "search", "options"};
	json_t *o = json_object();
	const char *dom = str(d, "domain");

	if (!o)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		const json_t *a = json_object_get(d, lists[i]), *v;
		json_t *copy;
		size_t k;

		if (!json_is_array(a) || json_array_size(a) == 0)
			continue;
		copy = json_array();
		json_array_foreach(a, k, v)
		{
			struct lj_ip ip;
			if (k >= LJ_CNI_MAX_DNS || !json_is_string(v) ||
			    json_string_length(v) > 255)
				continue;
			if (i == 0 && lj_parse_ip(json_string_value(v), &ip) < 0)
				continue;
			json_array_append(copy, (json_t *)v);
		}
		json_object_set_new(o, lists[i], copy);
	}
	if (dom && *dom)
		json_object_set_new(o, "domain", json_string(dom));
	if (json_object_size(o) == 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int lj_cni_ipam_parse(const json_t *j, struct lj_cni_ipam *ret, struct lj_cni_err *err)
{
	struct lj_cni_ipam r = {0};
	const json_t *ips, *routes, *v;
	const char *s;
	size_t i;

	if (!json_is_object(j))
		return ipam_bad(err, "not a JSON object");
	ips = json_object_get(j, "ips");
	routes = json_object_get(j, "routes");
	if ((ips && !json_is_array(ips)) || (routes && !json_is_array(routes)))
		return ipam_bad(err, "\"ips\" and \"routes\" must be arrays");
	if (json_array_size(ips) > LJ_MAX_IPS || json_array_size(routes) > LJ_MAX_ROUTES)
		return ipam_bad(err, "more than %d addresses or %d routes", LJ_MAX_IPS,
				LJ_MAX_ROUTES);
	json_array_foreach(ips, i, v)
	{
		s = str(v, "address");
		if (!s || lj_parse_cidr(s, true, &r.ips[i]) < 0)
			return ipam_bad(err, "ips[%zu].address is not ADDRESS/PREFIX", i);
		r.ip_gw[i].family = AF_UNSPEC;
		if ((s = str(v, "gateway")) && *s) {
			if (lj_parse_ip(s, &r.ip_gw[i]) < 0 ||
			    r.ip_gw[i].family != r.ips[i].ip.family)
				return ipam_bad(err,
						"ips[%zu].gateway is not an address of the "
						"same family",
						i);
		}
		for (size_t k = 0; k < i; k++)
			if (lj_ip_equal(&r.ips[k].ip, &r.ips[i].ip))
				return ipam_bad(err, "ips[%zu] repeats an address", i);
		r.n_ips++;
	}
	json_array_foreach(routes, i, v)
	{
		struct lj_route_spec *rt = &r.routes[i];
		s = str(v, "dst");
		if (!s || lj_parse_cidr(s, true, &rt->dst) < 0)
			return ipam_bad(err, "routes[%zu].dst is not a CIDR", i);
		mask(&rt->dst);
		rt->via.family = AF_UNSPEC;
		if ((s = str(v, "gw")) && *s) {
			if (lj_parse_ip(s, &rt->via) < 0 || rt->via.family != rt->dst.ip.family)
				return ipam_bad(err,
						"routes[%zu].gw is not an address of the same "
						"family",
						i);
		}
		r.n_routes++;
	}
	v = json_object_get(j, "dns");
	if (json_is_object(v))
		r.dns = sanitize_dns(v);
	*ret = r;
	return 0;
}
