/* SPDX-License-Identifier: MIT */
/* lanjoin docker-plugin [--socket PATH] [--state-dir DIR]: the HTTP side (libmicrohttpd). */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/core/session.h"
#include "plugin/plugin.h"
#include "shared/macro.h"

/*
 * libmicrohttpd is loaded with dlopen() when the plugin starts, as engine.c loads libcurl:
 * linked, it and its GnuTLS chain (~2.4 MiB of RSS and their loader time) were paid by every
 * lanjoin process, `lanjoin watch` included, though only docker-plugin serves HTTP.
 */
static struct {
	struct MHD_Response *(*create_response_from_buffer)(size_t, void *,
							    enum MHD_ResponseMemoryMode);
	enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
	enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int,
					  struct MHD_Response *);
	void (*destroy_response)(struct MHD_Response *);
	struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
					   MHD_AccessHandlerCallback, void *, ...);
	void (*stop_daemon)(struct MHD_Daemon *);
} mhd;

/* Loads libmicrohttpd (it stays loaded). 0, or -1 with the reason logged. */
static int mhd_load(void)
{
	void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		lj_err("cannot load libmicrohttpd (the plugin's HTTP server): %s", dlerror());
		return -1;
	}
	/* POSIX's way to turn a dlsym() result into a function pointer. */
#define SYM(field, name) *(void **)(&mhd.field) = dlsym(h, name)
	SYM(create_response_from_buffer, "MHD_create_response_from_buffer");
	SYM(add_response_header, "MHD_add_response_header");
	SYM(queue_response, "MHD_queue_response");
	SYM(destroy_response, "MHD_destroy_response");
	SYM(start_daemon, "MHD_start_daemon");
	SYM(stop_daemon, "MHD_stop_daemon");
#undef SYM
	if (!mhd.create_response_from_buffer || !mhd.add_response_header || !mhd.queue_response ||
	    !mhd.destroy_response || !mhd.start_daemon || !mhd.stop_daemon) {
		lj_err("the libmicrohttpd found lacks the functions lanjoin needs");
		dlclose(h);
		return -1;
	}
	return 0;
}

#define CONTENT_TYPE "application/vnd.docker.plugins.v1.2+json"

static const char usage[] =
	"Usage: lanjoin docker-plugin [--socket PATH] [--state-dir DIR]\n"
	"\n"
	"Serve lanjoin as a Docker network driver on a unix socket until SIGINT or SIGTERM.\n"
	"dockerd finds it by the socket's name (default " LJ_PLUGIN_DEFAULT_SOCKET ":\n"
	"the driver 'lanjoin'). The network's options (docker network create -d lanjoin -o ...):\n"
	"  mode=macvlan parent=DEV [macvlan_mode=MODE [force=true]] [host_shim=CIDR]\n"
	"    (force=true: passthru on a DEV that carries the host's addresses)\n"
	"  mode=bridge bridge=BR [uplink=DEV]   (uplink: adopt DEV if BR is missing)\n"
	"  mode=ovs bridge=BR [vlan=TAG] [ovsdb=unix:PATH]\n"
	"  any mode: [conflict_check=true]   (Join probes the LAN for each IPv4 address)\n"
	"Addresses are Docker's IPAM's, or leased from the LAN's DHCP server and held by\n"
	"lanjoin's DHCP client for the container's life (mode=macvlan, with\n"
	"'docker network create --ipam-driver lanjoin'). Each endpoint joined is a lanjoin\n"
	"attachment ('lanjoin list'); network options and endpoint addresses are kept\n"
	"in DIR (default " LJ_PLUGIN_DEFAULT_STATE "), so that a restarted\n"
	"plugin answers for what it made. One plugin per socket and per DIR (locks\n"
	"PATH.lock and DIR/plugin.lock): a second one exits 1 naming the first's PID.\n"
	"Its log (stderr) has a line per CreateNetwork, DeleteNetwork, CreateEndpoint,\n"
	"Join, Leave and DeleteEndpoint: the IDs (12 digits) and ok, or failed: ERROR.\n";

json_t *lj_plugin_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{ss}", "Err", msg);
}

/* One request's body as it arrives. */
struct body {
	char *buf;
	size_t len;
	bool too_big;
};

/* libmicrohttpd answers every call on its one polling thread (MHD_USE_INTERNAL_POLLING_THREAD
 * without a thread per connection): two calls never use the session at once. */
static struct lj_session *session;

struct lj_session *lj_plugin_session(void)
{
	if (!session && lj_session_new(&session) < 0)
		session = NULL;
	return session;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, json_t *resp)
{
	char *text = json_dumps(resp, JSON_COMPACT);
	struct MHD_Response *r;
	enum MHD_Result ret;

	json_decref(resp);
	if (!text)
		return MHD_NO;
	r = mhd.create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	ret = mhd.queue_response(conn, status, r);
	mhd.destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct body *b = *con_cls;
	json_error_t jerr;
	json_t *req = NULL, *resp;
	unsigned status = 200;

	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return MHD_NO;
		*con_cls = b;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!b->too_big && b->len + *upload_data_size <= LJ_PLUGIN_MAX_BODY) {
			char *n = realloc(b->buf, b->len + *upload_data_size + 1);

			if (!n)
				return MHD_NO;
			b->buf = n;
			memcpy(b->buf + b->len, upload_data, *upload_data_size);
			b->len += *upload_data_size;
			b->buf[b->len] = '\0';
		} else {
			b->too_big = true;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") != 0)
		return reply(conn, 405, lj_plugin_error("only POST is served, not %.16s", method));
	if (b->too_big)
		return reply(
			conn, 413,
			lj_plugin_error("request body larger than %d bytes", LJ_PLUGIN_MAX_BODY));
	if (b->len) {
		if (memchr(b->buf, '\0', b->len))
			return reply(conn, 400, lj_plugin_error("request body holds a NUL byte"));
		req = json_loadb(b->buf, b->len, JSON_REJECT_DUPLICATES, &jerr);
		if (!req)
			return reply(conn, 400,
				     lj_plugin_error("request body is not JSON: %s (line %d)",
						     jerr.text, jerr.line));
		if (!json_is_object(req)) {
			json_decref(req);
			return reply(conn, 400,
				     lj_plugin_error("request body is not a JSON object"));
		}
	}
	resp = lj_plugin_call(url, req, &status);
	json_decref(req);
	return reply(conn, status, resp ? resp : lj_plugin_error("out of memory"));
}

static void done(void *cls, struct MHD_Connection *conn, void **con_cls,
		 enum MHD_RequestTerminationCode toe)
{
	struct body *b = *con_cls;

	if (b) {
		free(b->buf);
		free(b);
		*con_cls = NULL;
	}
}

/* The directories a start made, in the order made: a start that fails removes them again
 * (lj_cmd_docker_plugin), so that a refused second plugin leaves nothing behind. */
struct made_dirs {
	char *path[40];
	size_t n;
};

/* Note directory path (made by this start) in m; one that does not fit is left made. */
static void note_made(struct made_dirs *m, const char *path)
{
	if (m->n < ARRAY_SIZE(m->path))
		m->path[m->n] = strdup(path);
	if (m->n < ARRAY_SIZE(m->path) && m->path[m->n])
		m->n++;
}

/*
 * Create the missing directories above path, mode 0755 (at boot /run/docker/plugins is not
 * there until dockerd, which starts after the plugin, makes it), and with last path itself,
 * mode 0700. Each one made is noted in m. Returns 0 or -errno.
 */
static int make_dirs(const char *path, bool last, struct made_dirs *m)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1;; p++) {
		bool end = !*p;

		if (!end && *p != '/')
			continue;
		if (end && !last)
			break;
		*p = '\0';
		if (mkdir(buf, end ? 0700 : 0755) == 0)
			note_made(m, buf);
		else if (errno != EEXIST)
			return -errno;
		if (end)
			break;
		*p = '/';
	}
	return 0;
}

/* After a failed start: remove what m notes, newest first (only if empty: rmdir), and free. */
static void unmake_dirs(struct made_dirs *m)
{
	while (m->n > 0) {
		m->n--;
		rmdir(m->path[m->n]);
		free(m->path[m->n]);
	}
}

/* Forget what m notes (the start succeeded: they are the plugin's now). */
static void keep_dirs(struct made_dirs *m)
{
	while (m->n > 0)
		free(m->path[--m->n]);
}

/* Whether something accepts connections on the unix socket at path (a live server). */
static bool socket_answers(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool live;

	if (fd < 0)
		return false;
	/* a full backlog (EAGAIN) is a live server too; ECONNREFUSED: nobody listens */
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN;
	close(fd);
	return live;
}

/*
 * A listening unix socket at path: a stale socket file (nobody answers on it) is replaced,
 * one a server answers on is not (-EADDRINUSE). *ret_st: the socket file bound (its device and
 * inode, for remove_socket). Returns the fd or -errno.
 */
static int listen_unix(const char *path, struct stat *ret_st)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (socket_answers(&sa))
			return -EADDRINUSE;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || lstat(path, ret_st) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Remove the socket file at path if it is still the one bound (st): never another's. */
static void remove_socket(const char *path, const struct stat *bound)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return;
	if (st.st_dev != bound->st_dev || st.st_ino != bound->st_ino) {
		fprintf(stderr,
			"lanjoin: docker-plugin: '%s' is no longer the socket it bound; left "
			"there\n",
			path);
		return;
	}
	unlink(path);
}

/*
 * One of the plugin's two instance locks: one beside the socket (PATH.lock) and one in the
 * state directory (DIR/plugin.lock), so that a second plugin neither takes the first's socket
 * nor shares its files. what and name say which ("on socket", its path), only what only one
 * may do. *fd: the lock's (the caller's). 0, or -1 with the reason logged.
 */
static int take_lock(const char *lock, const char *what, const char *name, const char *only,
		     int *fd)
{
	char pid[32];
	int r;

	r = lj_instance_lock(lock, fd);
	if (r == -EBUSY) {
		lj_instance_holder(lock, pid, sizeof(pid));
		lj_err("Another lanjoin docker-plugin is running%s%s%s %s '%s' (lock %s); only one "
		       "may %s",
		       pid[0] ? " (PID " : "", pid, pid[0] ? ")" : "", what, name, lock, only);
		return -1;
	}
	if (r < 0) {
		lj_err("cannot lock '%s': %s", lock, strerror(-r));
		return -1;
	}
	return 0;
}

int lj_cmd_docker_plugin(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"state-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *path = LJ_PLUGIN_DEFAULT_SOCKET, *dir = LJ_PLUGIN_DEFAULT_STATE;
	char sock_lock[PATH_MAX], dir_lock[PATH_MAX];
	int sock_lock_fd = -1, dir_lock_fd = -1;
	struct made_dirs made = {.n = 0};
	size_t made_before_dir = 0;
	bool made_dir = false;
	struct MHD_Daemon *d;
	struct stat bound;
	sigset_t set;
	int c, fd, r, sig, code = LJ_EXIT_FAILED;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return LJ_EXIT_OK;
		default:
			return lj_getopt_error(c, argc, argv, usage);
		}
	}
	if (optind < argc)
		return lj_usage_error(usage, "Unexpected argument '%s'", argv[optind]);
	if (path[0] != '/' || dir[0] != '/')
		return lj_usage_error(usage, "--socket and --state-dir take absolute paths");
	if (mhd_load() < 0)
		return LJ_EXIT_FAILED;
	if (snprintf(sock_lock, sizeof(sock_lock), "%s.lock", path) >= (int)sizeof(sock_lock) ||
	    snprintf(dir_lock, sizeof(dir_lock), "%s/plugin.lock", dir) >= (int)sizeof(dir_lock)) {
		lj_err("cannot lock '%s': %s", path, strerror(ENAMETOOLONG));
		return LJ_EXIT_FAILED;
	}
	/* In this order, so that a plugin refused by either lock has made nothing yet that it
	 * would not remove (the socket's directory and the state directory it is refused for are
	 * there already: the first plugin's lock is in each). */
	r = make_dirs(path, false, &made);
	if (r < 0) {
		lj_err("cannot listen on '%s': %s", path, strerror(-r));
		goto unlock;
	}
	if (take_lock(sock_lock, "on socket", path, "serve a socket", &sock_lock_fd) < 0)
		goto unlock;
	made_before_dir = made.n;
	r = make_dirs(dir, true, &made);
	if (r < 0) {
		lj_err("cannot use state directory '%s': %s", dir, strerror(-r));
		goto unlock;
	}
	made_dir = made.n > made_before_dir; /* dir itself is the last one made */
	if (take_lock(dir_lock, "with state directory", dir, "use a state directory",
		      &dir_lock_fd) < 0)
		goto unlock;
	r = lj_plugin_state_init(dir);
	if (r < 0) {
		lj_err("cannot use state directory '%s': %s", dir, strerror(-r));
		goto unlock;
	}
	r = lj_plugin_index();
	if (r < 0) {
		lj_err("cannot index the endpoints in '%s': %s", dir, strerror(-r));
		goto unlock;
	}
	lj_plugin_ipam_init();
	r = lj_plugin_recover();
	if (r < 0)
		goto unlock;
	/* The signals are taken with sigwait below; MHD's thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = listen_unix(path, &bound);
	if (fd < 0) {
		lj_err("cannot listen on '%s': %s", path,
		       fd == -EEXIST	   ? "a file that is not a socket is there"
		       : fd == -EADDRINUSE ? "a server answers on it (not a lanjoin docker-plugin "
					     "holding its lock: another program, or an older "
					     "lanjoin?)"
					   : strerror(-fd));
		goto unlock;
	}
	/* One thread serves every request in turn: the driver's state needs no lock. */
	d = mhd.start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			     handle, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
			     (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
			     MHD_OPTION_END);
	if (!d) {
		lj_err("cannot start the HTTP server on '%s'", path);
		close(fd);
		remove_socket(path, &bound);
		goto unlock;
	}
	fprintf(stderr, "lanjoin: docker-plugin listening on %s\n", path);
	/* the socket listens: dockerd (ordered after this unit) finds the driver */
	lj_sd_notify("READY=1\nSTATUS=serving");
	do {
		r = sigwait(&set, &sig);
	} while (r != 0);
	lj_sd_notify("STOPPING=1");
	mhd.stop_daemon(d);
	close(fd);
	remove_socket(path, &bound);
	code = LJ_EXIT_OK;
unlock:
	lj_instance_unlock(sock_lock, sock_lock_fd);
	lj_instance_unlock(dir_lock, dir_lock_fd);
	/* A start that failed leaves no directory it made (a stop keeps them: the state is the
	 * plugin's across restarts). */
	if (code == LJ_EXIT_OK) {
		keep_dirs(&made);
	} else {
		if (made_dir)
			lj_plugin_state_unmake();
		unmake_dirs(&made);
	}
	return code;
}
