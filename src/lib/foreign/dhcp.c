/* SPDX-License-Identifier: MIT */
#include "lib/foreign/dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/kernel/addr.h"
#include "lib/kernel/arp.h"
#include "lib/core/interrupt.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"
#include "lib/kernel/proc.h"
#include "lib/kernel/route.h"
#include "lib/core/state.h"
#include "lib/core/target.h"
#include "shared/macro.h"

#define CLIENT_ENV_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
/* udhcpc's ARP check of an offer: one request, then this many ms for an answer (a switched
 * LAN answers in well under a millisecond; each lease waits this long when nobody does). */
#define UDHCPC_ARP_OPT "-a200"
#define SUPERVISOR_NETNS_FD 3

static const char *const kind_names[] = {
	[LJ_DHCP_UDHCPC] = "udhcpc",
	[LJ_DHCP_DHCLIENT] = "dhclient",
	[LJ_DHCP_DHCPCD] = "dhcpcd",
};

const char *lj_dhcp_kind_name(enum lj_dhcp_kind k)
{
	return k > 0 && k < ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

int lj_dhcp_kind_parse(const char *s, enum lj_dhcp_kind *ret)
{
	for (size_t i = 1; i < ARRAY_SIZE(kind_names); i++)
		if (s && strcmp(s, kind_names[i]) == 0) {
			*ret = (enum lj_dhcp_kind)i;
			return 0;
		}
	return -EINVAL;
}

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int lj_dhcp_find_client(const char *name, enum lj_dhcp_kind *ret_kind, char *ret_path, size_t size)
{
	static const struct {
		enum lj_dhcp_kind kind;
		const char *path;
	} candidates[] = {
		/* busybox's udhcpc applet (busybox-static or busybox), or a standalone udhcpc */
		{LJ_DHCP_UDHCPC, "/bin/busybox"},     {LJ_DHCP_UDHCPC, "/usr/bin/busybox"},
		{LJ_DHCP_UDHCPC, "/sbin/udhcpc"},     {LJ_DHCP_UDHCPC, "/usr/sbin/udhcpc"},
		{LJ_DHCP_DHCLIENT, "/sbin/dhclient"}, {LJ_DHCP_DHCLIENT, "/usr/sbin/dhclient"},
		{LJ_DHCP_DHCPCD, "/sbin/dhcpcd"},     {LJ_DHCP_DHCPCD, "/usr/sbin/dhcpcd"},
	};
	enum lj_dhcp_kind want = LJ_DHCP_NONE;

	if (name && lj_dhcp_kind_parse(name, &want) < 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
		if (want != LJ_DHCP_NONE && candidates[i].kind != want)
			continue;
		if (!executable(candidates[i].path))
			continue;
		*ret_kind = candidates[i].kind;
		snprintf(ret_path, size, "%s", candidates[i].path);
		return 0;
	}
	return -ENOENT;
}

bool lj_dhcp_hostname(const char *name, char ret[64])
{
	size_t n = 0;

	for (const char *p = name; p && *p && n < 63; p++) {
		char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			ret[n++] = c;
		else if (n > 0 && ret[n - 1] != '-')
			ret[n++] = '-';
	}
	while (n > 0 && ret[n - 1] == '-')
		n--;
	ret[n] = '\0';
	return n > 0;
}

const char *lj_dhcp_watch_spec(const struct lj_target *t, char *buf, size_t size)
{
	if (t->kind == LJ_TARGET_NETNS)
		snprintf(buf, size, "path:%s/%s", LJ_NETNS_RUN_DIR, t->name);
	else if (t->pid > 0)
		snprintf(buf, size, "pid:%d", (int)t->pid);
	else if (t->kind == LJ_TARGET_PATH && t->name[0] == '/')
		snprintf(buf, size, "path:%s", t->name);
	else
		buf[0] = '\0';
	return buf;
}

/* --- files ---------------------------------------------------------------------------- */

static bool base_ok(const char *base)
{
	const char *dir = lj_state_dir(), *rest;
	size_t len = strlen(dir);

	/* BASE must be STATEDIR/dhcp/<12 hex digits> */
	if (!base || strncmp(base, dir, len) != 0 || strncmp(base + len, "/dhcp/", 6) != 0)
		return false;
	rest = base + len + 6;
	if (strlen(rest) != LJ_RECORD_ID_LEN - 1)
		return false;
	for (const char *p = rest; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static const char *const file_suffixes[] = {".sock", ".log",	".conf",       ".leases",
					    ".pid",  ".resolv", ".supervisor", ".hook"};

void lj_dhcp_remove_files(const char *base)
{
	char path[PATH_MAX];

	if (!base_ok(base))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(file_suffixes); i++) {
		snprintf(path, sizeof(path), "%s%s", base, file_suffixes[i]);
		unlink(path);
	}
}

static int write_file(const char *path, const char *content)
{
	_cleanup_close_ int fd =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t len = strlen(content);

	if (fd < 0)
		return lj_negerrno();
	if (write(fd, content, len) != (ssize_t)len)
		return lj_negerrno();
	return 0;
}

/* --- starting ----------------------------------------------------------------------------- */

static int notify_socket(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lj_negerrno();
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return lj_negerrno();
	return TAKE_FD(fd);
}

static int make_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return lj_negerrno();
	if (lstat(path, &st) < 0)
		return lj_negerrno();
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0077))
		return -EPERM;
	return 0;
}

/* BASE.supervisor: "PID START\n" of the calling process (the supervisor, before its exec). */
static int write_supervisor_file(const char *base)
{
	char path[PATH_MAX], line[64];
	uint64_t start;
	int fd, n, r;

	r = lj_proc_start_time(getpid(), &start);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s.supervisor", base);
	n = snprintf(line, sizeof(line), "%d %" PRIu64 "\n", (int)getpid(), start);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return lj_negerrno();
	r = write(fd, line, (size_t)n) == n ? 0 : -EIO;
	close(fd);
	return r;
}

static int read_supervisor_file(const char *base, pid_t *ret_pid, uint64_t *ret_start)
{
	char path[PATH_MAX], line[64];
	unsigned long long start;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int pid;

	snprintf(path, sizeof(path), "%s.supervisor", base);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : lj_negerrno();
	n = read(fd, line, sizeof(line) - 1);
	if (n <= 0)
		return -EBADMSG;
	line[n] = '\0';
	if (sscanf(line, "%d %llu", &pid, &start) != 2 || pid <= 1)
		return -EBADMSG;
	*ret_pid = pid;
	*ret_start = start;
	return 0;
}

int lj_dhcp_supervisor_of(const char *base, pid_t *ret_pid, uint64_t *ret_start)
{
	if (!base_ok(base))
		return -EINVAL;
	return read_supervisor_file(base, ret_pid, ret_start);
}

int lj_dhcp_start(const struct lj_dhcp_start_opts *o, pid_t *ret_pid, uint64_t *ret_start,
		  int *ret_notify_fd)
{
	char dir[PATH_MAX], path[PATH_MAX], netns_id[64], conf[512], hostname[64] = "";
	_cleanup_close_ int notify = -1, logfd = -1, devnull = -1, self = -1;
	uint64_t start = 0;
	pid_t pid;
	int r;

	if (!base_ok(o->base))
		return -EINVAL;
	if (o->hostname && *o->hostname && !lj_dhcp_hostname(o->hostname, hostname))
		hostname[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/dhcp", lj_state_dir());
	r = make_dir(dir);
	if (r < 0)
		return r;

	snprintf(path, sizeof(path), "%s.sock", o->base);
	notify = notify_socket(path);
	if (notify < 0)
		return notify;
	snprintf(path, sizeof(path), "%s.log", o->base);
	logfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (logfd < 0) {
		r = lj_negerrno();
		goto fail;
	}
	if (o->kind == LJ_DHCP_DHCLIENT) {
		/* lanjoin's own configuration: ask for what is applied, send the host name. */
		snprintf(conf, sizeof(conf),
			 "%s%s%s"
			 "request subnet-mask, broadcast-address, routers, domain-name-servers;\n",
			 hostname[0] ? "send host-name \"" : "", hostname,
			 hostname[0] ? "\";\n" : "");
		snprintf(path, sizeof(path), "%s.conf", o->base);
		r = write_file(path, conf);
		if (r < 0)
			goto fail;
	}
	snprintf(path, sizeof(path), "%s.resolv", o->base);
	r = write_file(path, "");
	if (r < 0)
		goto fail;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		r = lj_negerrno();
		goto fail;
	}
	/* The supervisor is this very binary, pinned by an fd (not re-resolved by path). Opened
	 * here rather than exec'ing /proc/self/exe: under valgrind that is valgrind itself, while
	 * an open of it gives the program. */
	self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		r = lj_negerrno();
		goto fail;
	}

	snprintf(netns_id, sizeof(netns_id), "%" PRIu64 ":%" PRIu64, o->netns_id.dev,
		 o->netns_id.ino);
	pid = fork();
	if (pid < 0) {
		r = lj_negerrno();
		goto fail;
	}
	if (pid == 0) {
		char *const argv[] = {
			"lanjoin",
			"dhcp-supervise",
			(char *)lj_dhcp_kind_name(o->kind),
			(char *)o->client_path,
			(char *)o->ifname,
			hostname,
			(char *)(o->watch ? o->watch : ""),
			netns_id,
			(char *)o->base,
			o->no_default_route ? "no-default-route" : NULL,
			NULL,
		};
		char state_env[PATH_MAX + 32];
		char *envp[] = {CLIENT_ENV_PATH, state_env, NULL};
		sigset_t all;

		snprintf(state_env, sizeof(state_env), "LANJOIN_STATE_DIR=%s", lj_state_dir());
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		/* Its own session: the attach's terminal and process group do not reach it. */
		setsid();
		/* Move the namespace fd out of the way first: it may sit at 0-3 itself. */
		int ns = fcntl(o->netns_fd, F_DUPFD_CLOEXEC, 10);
		int exe = fcntl(self, F_DUPFD_CLOEXEC, 10);
		if (ns < 0 || exe < 0 || dup2(devnull, 0) < 0 || dup2(logfd, 1) < 0 ||
		    dup2(logfd, 2) < 0 || dup2(ns, SUPERVISOR_NETNS_FD) < 0)
			_exit(127);
		/* Nothing else is inherited: no state lock, no netlink sockets, no test pipes (the
		 * close-on-exec copy of exe goes with the exec). */
		if (exe != SUPERVISOR_NETNS_FD + 1 && dup2(exe, SUPERVISOR_NETNS_FD + 1) < 0)
			_exit(127);
		exe = SUPERVISOR_NETNS_FD + 1;
		if (fcntl(exe, F_SETFD, FD_CLOEXEC) < 0)
			_exit(127);
		syscall(SYS_close_range, SUPERVISOR_NETNS_FD + 2, ~0U, 0);
		/* Say who we are before anything else: if attach is killed before it records our
		 * PID, its undo finds us here (lj_dhcp_supervisor_of). */
		if (write_supervisor_file(o->base) < 0 || chdir("/") < 0)
			_exit(127);
		syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
		_exit(127);
	}
	r = lj_proc_start_time(pid, &start);
	if (r < 0) {
		/* It already died (exec failed): reap it. */
		waitpid(pid, NULL, 0);
		r = -ECHILD;
		goto fail;
	}
	*ret_pid = pid;
	*ret_start = start;
	*ret_notify_fd = TAKE_FD(notify);
	return 0;
fail:
	lj_dhcp_remove_files(o->base);
	return r;
}

/* --- waiting for the lease ---------------------------------------------------------------- */

int lj_dhcp_lease_msg_parse(char *msg, struct lj_dhcp_lease *ret)
{
	struct lj_dhcp_lease l = {0};
	char *save = NULL, *line;
	bool have_addr = false;

	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, '=');
		if (!v)
			continue;
		*v++ = '\0';
		if (strcmp(line, "addr") == 0) {
			if (lj_parse_cidr(v, true, &l.addr) < 0)
				return -EBADMSG;
			have_addr = true;
		} else if (strcmp(line, "router") == 0) {
			if (lj_parse_ip(v, &l.router) < 0)
				return -EBADMSG;
		} else if (strcmp(line, "dns") == 0) {
			if (l.n_dns < ARRAY_SIZE(l.dns) && lj_parse_ip(v, &l.dns[l.n_dns]) == 0)
				l.n_dns++;
		} else if (strcmp(line, "lease") == 0) {
			uint64_t n;
			if (lj_parse_uint(v, 0, UINT32_MAX, &n) == 0)
				l.lease_s = (uint32_t)n;
		}
	}
	if (!have_addr)
		return -EBADMSG;
	*ret = l;
	return 0;
}

size_t lj_dhcp_lease_msg_format(const struct lj_dhcp_lease *l, char *buf, size_t size)
{
	char a[LJ_CIDR_STRLEN];
	size_t len = 0;

	if (size == 0)
		return 0;
	buf[0] = '\0';
#define PUT(...)                                                                                   \
	do {                                                                                       \
		int n_ = snprintf(buf + len, size - len, __VA_ARGS__);                             \
		if (n_ < 0 || (size_t)n_ >= size - len) {                                          \
			buf[len] = '\0';                                                           \
			return len;                                                                \
		}                                                                                  \
		len += (size_t)n_;                                                                 \
	} while (0)
	PUT("addr=%s\nlease=%" PRIu32 "\n", lj_cidr_to_string(&l->addr, a, sizeof(a)), l->lease_s);
	if (l->router.family == AF_INET)
		PUT("router=%s\n", lj_ip_to_string(&l->router, a, sizeof(a)));
	for (size_t i = 0; i < l->n_dns && i < ARRAY_SIZE(l->dns); i++)
		PUT("dns=%s\n", lj_ip_to_string(&l->dns[i], a, sizeof(a)));
#undef PUT
	return len;
}

/* The last size - 1 bytes (at most) of BASE.log into buf, NUL-terminated; its length or -errno. */
static ssize_t read_log_tail(const char *base, char *buf, size_t size)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	off_t len;
	ssize_t n;

	snprintf(path, sizeof(path), "%s.log", base);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return lj_negerrno();
	len = lseek(fd, 0, SEEK_END);
	if (len < 0)
		return lj_negerrno();
	if (lseek(fd, len > (off_t)size - 1 ? len - (off_t)size + 1 : 0, SEEK_SET) < 0)
		return lj_negerrno();
	n = read(fd, buf, size - 1);
	if (n < 0)
		return lj_negerrno();
	buf[n] = '\0';
	return n;
}

void lj_dhcp_log_tail(const char *base, char *why, size_t size)
{
	char buf[2048], *p, *end;
	ssize_t n = read_log_tail(base, buf, sizeof(buf));

	if (n <= 0)
		return;
	end = buf + n;
	while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	p = strrchr(buf, '\n');
	p = p ? p + 1 : buf;
	if (*p)
		snprintf(why, size, "%s", p);
}

bool lj_dhcp_log_declined(const char *base, char *why, size_t size)
{
	char buf[8192], *save = NULL, *found = NULL;

	if (read_log_tail(base, buf, sizeof(buf)) <= 0)
		return false;
	/* udhcpc: "offered address is in use (got ARP reply), declining";
	 * dhcpcd: "eth1: MAC(MAC) claims 198.51.100.254" (then "DAD detected", and a decline). */
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "in use (got ARP reply)") || strstr(line, ") claims "))
			found = line;
	if (!found)
		return false;
	snprintf(why, size, "the client declined an offered address in use on the LAN (%s)", found);
	return true;
}

int lj_dhcp_wait(int notify_fd, pid_t pid, int timeout_ms, struct lj_dhcp_lease *ret, char *why,
		 size_t why_size)
{
	_cleanup_close_ int pidfd = -1;
	struct timespec t0, t;
	bool failed_once = false;

	pidfd = lj_proc_pidfd_open(pid);
	if (pidfd < 0 && !lj_proc_pidfd_unavailable(pidfd))
		return -ECHILD;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd[3] = {
			{.fd = notify_fd, .events = POLLIN},
			{.fd = pidfd, .events = POLLIN},
			{.fd = lj_interrupt_fd(), .events = POLLIN},
		};
		char msg[1024];
		int64_t elapsed;
		ssize_t n;
		int r;

		if (lj_interrupted())
			return -EINTR;
		clock_gettime(CLOCK_MONOTONIC, &t);
		elapsed =
			(int64_t)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (elapsed >= timeout_ms) {
			if (!failed_once)
				snprintf(why, why_size, "no DHCP server answered");
			return -ETIMEDOUT;
		}
		/* Without a pidfd, look at the process every 100 ms. */
		r = poll(pfd, 3,
			 (int)(pidfd < 0 && timeout_ms - elapsed > 100 ? 100
								       : timeout_ms - elapsed));
		if (r < 0 && errno != EINTR)
			return lj_negerrno();
		if (lj_interrupted())
			return -EINTR;
		if (pidfd < 0 && !(pfd[0].revents & POLLIN) && !lj_proc_alive(pid, 0))
			return -ECHILD;
		if (r <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			n = recv(notify_fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
			if (n > 0) {
				msg[n] = '\0';
				if (strncmp(msg, "bound\n", 6) == 0) {
					if (lj_dhcp_lease_msg_parse(msg + 6, ret) == 0)
						return 0;
				} else if (strncmp(msg, "fail\n", 5) == 0) {
					snprintf(why, why_size, "%s", msg + 5);
					failed_once = true;
				}
			}
			continue;
		}
		if (pfd[1].revents & POLLIN) {
			/* Reap it if it is our child (it is, right after attach started it). */
			waitpid(pid, NULL, WNOHANG);
			return -ECHILD;
		}
	}
}

/* --- stopping ------------------------------------------------------------------------------ */

/* Wait up to timeout_ms for process pid (started at start) to be gone, looking every 10 ms. */
static int wait_gone(pid_t pid, uint64_t start, int timeout_ms)
{
	for (int waited = 0; lj_proc_alive(pid, start); waited += 10) {
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
	}
	return 0;
}

/* lj_dhcp_stop without pidfds: signals by PID, right after checking the start time. */
static int stop_by_pid(pid_t pid, uint64_t start, int timeout_ms)
{
	if (!lj_proc_alive(pid, start))
		return 0;
	if (kill(pid, SIGTERM) < 0)
		return errno == ESRCH ? 0 : lj_negerrno();
	if (wait_gone(pid, start, timeout_ms) == 0)
		return 0;
	if (lj_proc_alive(pid, start) && kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return lj_negerrno();
	return wait_gone(pid, start, 2000);
}

int lj_dhcp_stop(pid_t pid, uint64_t start, int timeout_ms)
{
	_cleanup_close_ int pidfd = -1;
	int r;

	if (pid <= 0)
		return 0;
	pidfd = lj_proc_open(pid, start);
	if (lj_proc_pidfd_unavailable(pidfd))
		return stop_by_pid(pid, start, timeout_ms);
	if (pidfd < 0)
		return pidfd == -ESRCH ? 0 : pidfd;
	r = lj_proc_pidfd_signal(pidfd, SIGTERM);
	if (r < 0)
		return r == -ESRCH ? 0 : r;
	if (lj_proc_pidfd_wait(pidfd, timeout_ms) < 0) {
		r = lj_proc_pidfd_signal(pidfd, SIGKILL);
		if (r < 0 && r != -ESRCH)
			return r;
		r = lj_proc_pidfd_wait(pidfd, 2000);
		if (r < 0)
			return r;
	}
	waitpid(pid, NULL, WNOHANG);
	return 0;
}

/* --- the supervisor -------------------------------------------------------------------------- */

/*
 * Directories a client may write its own state to (leases, DUID, pid files, control sockets):
 * each is private to the client, whether or not it exists on the host. Debian's dhcpcd, for
 * one, creates /run/dhcpcd at start when it is missing.
 */
static const char *const client_state_dirs[] = {"/var/lib/dhcp", "/var/lib/dhclient",
						"/var/lib/dhcpcd", "/run/dhcpcd", "/var/db/dhcpcd"};
/* Host hook directories a client would run scripts from: hidden where they exist. */
static const char *const client_hook_dirs[] = {"/etc/dhcp/dhclient-exit-hooks.d",
					       "/etc/dhcp/dhclient-enter-hooks.d"};

static int mount_private_tmpfs(const char *dir)
{
	if (mount("lanjoin-dhcp", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return lj_negerrno();
	return 0;
}

/*
 * Put a copy-on-write overlay on DIR: the client sees DIR's content, and whatever it creates
 * or changes there lands in a tmpfs that lives only as long as this mount namespace. The
 * tmpfs is never attached anywhere (fsmount); the overlay reaches it through /proc/self/fd.
 */
static int mount_private_overlay(const char *dir)
{
	_cleanup_close_ int fs = -1, mnt = -1;
	char opts[3 * PATH_MAX];

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return lj_negerrno();
	if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return lj_negerrno();
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		return lj_negerrno();
	if (mkdirat(mnt, "upper", 0755) < 0 || mkdirat(mnt, "work", 0755) < 0)
		return lj_negerrno();
	if (snprintf(opts, sizeof(opts),
		     "lowerdir=%s,upperdir=/proc/self/fd/%d/upper,workdir=/proc/self/fd/%d/work",
		     dir, mnt, mnt) >= (int)sizeof(opts))
		return -ENAMETOOLONG;
	return mount("lanjoin-dhcp", dir, "overlay", 0, opts) < 0 ? lj_negerrno() : 0;
}

/* mkdir -p DIR (in this mount namespace's view). */
static int mkdir_parents(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1;; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return lj_negerrno();
		if (last)
			return 0;
		*p = '/';
	}
}

/* The ancestors this client's mount namespace has put an overlay on (see private_state_dir). */
struct overlaid {
	char path[ARRAY_SIZE(client_state_dirs)][PATH_MAX];
	size_t n;
};

/*
 * Make DIR a private, empty directory of the client. An existing one gets a tmpfs on top. A
 * missing one is created inside a copy-on-write overlay on its nearest existing ancestor, so
 * that nothing appears on the host.
 */
static int private_state_dir(const char *dir, struct overlaid *ov)
{
	char anc[PATH_MAX];
	struct stat st;
	char *slash;
	int r;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? mount_private_tmpfs(dir) : 0;
	if (errno != ENOENT)
		return lj_negerrno();
	if (snprintf(anc, sizeof(anc), "%s", dir) >= (int)sizeof(anc))
		return -ENAMETOOLONG;
	do {
		slash = strrchr(anc, '/');
		if (!slash)
			return -EINVAL;
		slash[slash == anc] = '\0'; /* the parent, or "/" */
	} while (stat(anc, &st) < 0 && errno == ENOENT);
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	/* Below an overlay put there for an earlier directory, the directories are private already.
	 */
	for (size_t i = 0; i < ov->n; i++) {
		size_t len = strlen(ov->path[i]);
		if (strncmp(anc, ov->path[i], len) == 0 && (anc[len] == '\0' || anc[len] == '/'))
			return mkdir_parents(dir);
	}
	r = mount_private_overlay(anc);
	if (r < 0)
		return r;
	if (ov->n < ARRAY_SIZE(ov->path))
		snprintf(ov->path[ov->n++], PATH_MAX, "%s", anc);
	return mkdir_parents(dir);
}

/*
 * Give the client a private mount namespace where host files are out of its reach: its state
 * directories private (created privately where missing), the host's hook directories hidden,
 * /etc/resolv.conf a private file. BASE's directory (lanjoin's own files, shared with the
 * supervisor and the hook) stays the host's, even below an overlay.
 */
static int private_mounts(const char *base)
{
	_cleanup_close_ int base_tree = -1;
	struct overlaid ov = {.n = 0};
	char path[PATH_MAX], *slash;
	struct stat st;
	int r;

	if (unshare(CLONE_NEWNS) < 0)
		return lj_negerrno();
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return lj_negerrno();
	if (snprintf(path, sizeof(path), "%s", base) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	slash = strrchr(path, '/');
	if (!slash || slash == path)
		return -EINVAL;
	*slash = '\0';
	base_tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (base_tree < 0)
		return lj_negerrno();
	for (size_t i = 0; i < ARRAY_SIZE(client_state_dirs); i++) {
		r = private_state_dir(client_state_dirs[i], &ov);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(client_hook_dirs); i++) {
		if (stat(client_hook_dirs[i], &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		r = mount_private_tmpfs(client_hook_dirs[i]);
		if (r < 0)
			return r;
	}
	/* Put the host's BASE directory back on top of any overlay that now covers its path. */
	if (move_mount(base_tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return lj_negerrno();
	/* /etc/resolv.conf (what a client's default script would rewrite) is a private file. */
	snprintf(path, sizeof(path), "%s.resolv", base);
	if (stat("/etc/resolv.conf", &st) == 0 &&
	    mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
		return lj_negerrno();
	return 0;
}

/* The client's argv for starting it, or (release) for releasing the lease of the running one. */
struct client_argv {
	char notify[PATH_MAX + 32], ifenv[64], hook[64], lf[PATH_MAX], pf[PATH_MAX], cf[PATH_MAX];
	char hostopt[80];
	const char *argv[48];
	char *envp[6];
};

#define NO_DEFAULT_ENV "LANJOIN_DHCP_NO_DEFAULT=1"

static int client_argv(const struct lj_dhcp_start_opts *o, const char *self, bool release,
		       struct client_argv *c)
{
	const char **argv = c->argv;
	size_t n = 0;

	snprintf(c->notify, sizeof(c->notify), "LANJOIN_DHCP_NOTIFY=%s.sock", o->base);
	snprintf(c->ifenv, sizeof(c->ifenv), "LANJOIN_DHCP_IFNAME=%s", o->ifname);
	snprintf(c->hook, sizeof(c->hook), "LANJOIN_DHCP_HOOK=%s", lj_dhcp_kind_name(o->kind));
	snprintf(c->lf, sizeof(c->lf), "%s.leases", o->base);
	snprintf(c->pf, sizeof(c->pf), "%s.pid", o->base);
	snprintf(c->cf, sizeof(c->cf), "%s.conf", o->base);
	c->envp[0] = (char *)CLIENT_ENV_PATH;
	c->envp[1] = c->hook;
	c->envp[2] = c->ifenv;
	c->envp[3] = c->notify;
	c->envp[4] = o->no_default_route ? (char *)NO_DEFAULT_ENV : NULL;
	c->envp[5] = NULL;

	switch (o->kind) {
	case LJ_DHCP_UDHCPC:
		if (release)
			return -EOPNOTSUPP; /* -R: it releases when it gets SIGTERM */
		argv[n++] = "udhcpc";
		argv[n++] = "-f"; /* foreground: the supervisor watches it */
		argv[n++] = "-R"; /* release the lease when stopped */
		argv[n++] = "-i";
		argv[n++] = o->ifname;
		argv[n++] = "-s";
		argv[n++] = self;
		argv[n++] = "-t";
		argv[n++] = "5";
		argv[n++] = "-T";
		argv[n++] = "1";
		argv[n++] = "-A";
		argv[n++] = "2";
		/* RFC 5227: ARP-probe the offered address (sender 0.0.0.0) before taking it; on
		 * an answer udhcpc sends DHCPDECLINE and starts over after -A. */
		argv[n++] = UDHCPC_ARP_OPT;
		if (o->hostname && *o->hostname) {
			snprintf(c->hostopt, sizeof(c->hostopt), "hostname:%s", o->hostname);
			argv[n++] = "-x";
			argv[n++] = c->hostopt;
		}
		break;
	case LJ_DHCP_DHCLIENT:
		argv[n++] = "dhclient";
		argv[n++] = "-4";
		/* -r: stop the running one (through the pid file) and release its lease */
		argv[n++] = release ? "-r" : "-d";
		if (!release) {
			/* After a lease the hook refused (exit 1: DHCPDECLINE), start over in 2 s,
			 * as udhcpc's -A 2, not the default 10 s. */
			argv[n++] = "--decline-wait-time";
			argv[n++] = "2";
		}
		argv[n++] = "-sf";
		argv[n++] = self;
		argv[n++] = "-lf";
		argv[n++] = c->lf;
		argv[n++] = "-pf";
		argv[n++] = c->pf;
		argv[n++] = "-cf";
		argv[n++] = c->cf;
		argv[n++] = "-e";
		argv[n++] = c->hook;
		argv[n++] = "-e";
		argv[n++] = c->ifenv;
		argv[n++] = "-e";
		argv[n++] = c->notify;
		if (o->no_default_route) {
			argv[n++] = "-e";
			argv[n++] = NO_DEFAULT_ENV;
		}
		argv[n++] = o->ifname;
		break;
	case LJ_DHCP_DHCPCD:
		argv[n++] = "dhcpcd";
		argv[n++] = "-4"; /* DHCPv4 only: IPv6 is lanjoin's --ip/--slaac */
		if (release) {
			argv[n++] = "-k"; /* ask the running one to release and exit */
			argv[n++] = o->ifname;
			break;
		}
		argv[n++] = "-B"; /* no background */
		argv[n++] = "-f";
		argv[n++] = "/dev/null"; /* no host configuration file */
		argv[n++] = "-c";
		argv[n++] = self; /* lanjoin is the hook script */
		argv[n++] = "-L"; /* no IPv4LL */
		argv[n++] = "-G"; /* no routes of its own: the hook sets the default route */
		/* No --noarp: dhcpcd ARP-probes the offered address (RFC 5227) before it adds it,
		 * and declines it (DHCPDECLINE) if someone answers. */
		/* Nothing else from the server is applied (by dhcpcd itself, behind lanjoin's
		 * back): no classless static routes (121, and the old 33), no interface MTU (26).
		 */
		argv[n++] = "-O";
		argv[n++] = "classless_static_routes";
		argv[n++] = "-O";
		argv[n++] = "static_routes";
		argv[n++] = "-O";
		argv[n++] = "interface_mtu";
		argv[n++] = "-e";
		argv[n++] = c->hook;
		argv[n++] = "-e";
		argv[n++] = c->ifenv;
		argv[n++] = "-e";
		argv[n++] = c->notify;
		if (o->no_default_route) {
			argv[n++] = "-e";
			argv[n++] = NO_DEFAULT_ENV;
		}
		if (o->hostname && *o->hostname) {
			argv[n++] = "-h";
			argv[n++] = o->hostname;
		}
		argv[n++] = o->ifname;
		break;
	default:
		return -EINVAL;
	}
	argv[n] = NULL;
	return 0;
}

/*
 * Fork a process that runs argv in the target namespace: in a new private mount namespace,
 * or (join_pid > 0) in the mount namespace of the running client join_pid. Its own process
 * group; it dies with the supervisor.
 */
static pid_t spawn_in_target(const struct lj_dhcp_start_opts *o, const struct client_argv *c,
			     pid_t join_pid)
{
	pid_t parent = getpid(), pid;
	sigset_t none;

	pid = fork();
	if (pid < 0)
		return lj_negerrno();
	if (pid > 0)
		return pid;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The client dies with the supervisor; if that already happened, do not start. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(127);
	setpgid(0, 0);
	if (setns(SUPERVISOR_NETNS_FD, CLONE_NEWNET) < 0) {
		perror("lanjoin dhcp: cannot enter the target network namespace");
		_exit(127);
	}
	close(SUPERVISOR_NETNS_FD);
	if (join_pid > 0) {
		char path[64];
		int fd;
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)join_pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNS) < 0) {
			perror("lanjoin dhcp: cannot join the client's mount namespace");
			_exit(127);
		}
	} else if (private_mounts(o->base) < 0) {
		perror("lanjoin dhcp: cannot set up the client's private mounts");
		_exit(127);
	}
	execve(o->client_path, (char *const *)c->argv, c->envp);
	perror("lanjoin dhcp: cannot start the client");
	_exit(127);
}

static pid_t spawn_client(const struct lj_dhcp_start_opts *o, const char *self)
{
	struct client_argv c;
	int r = client_argv(o, self, false, &c);

	return r < 0 ? r : spawn_in_target(o, &c, 0);
}

/* Is the target still there? */
static bool target_alive(const struct lj_dhcp_start_opts *o, int target_pidfd)
{
	struct stat st;

	if (strncmp(o->watch, "pid:", 4) == 0)
		return lj_proc_pidfd_wait(target_pidfd, 0) == -ETIMEDOUT;
	if (strncmp(o->watch, "path:", 5) == 0)
		return stat(o->watch + 5, &st) == 0 && (uint64_t)st.st_dev == o->netns_id.dev &&
		       (uint64_t)st.st_ino == o->netns_id.ino;
	return true;
}

/*
 * Reap the children that have exited, except client (its exit is handled where it is waited
 * for): orphans of the client's helpers are reparented to the supervisor, a subreaper, and
 * would stay zombies for the attachment's life. Never blocks.
 */
static void reap_orphans(pid_t client)
{
	for (;;) {
		siginfo_t si = {0};

		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0 ||
		    si.si_pid == client)
			return;
		waitpid(si.si_pid, NULL, 0);
	}
}

/* Kill and reap every child left (the supervisor is a subreaper: the client's helpers end
 * up here when it exits). Bounded: gives up after about 2 s. */
static void reap_all(void)
{
	for (int round = 0; round < 40; round++) {
		char path[64], buf[4096];
		_cleanup_close_ int fd = -1;
		ssize_t n;
		bool any = false;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (n <= 0)
			return;
		buf[n] = '\0';
		for (char *p = buf, *end; *p; p = end) {
			long c = strtol(p, &end, 10);
			if (end == p)
				break;
			if (c > 0) {
				kill((pid_t)c, SIGKILL);
				any = true;
			}
		}
		if (!any)
			return;
		usleep(50 * 1000); /* only in this bounded clean-up of stragglers */
	}
}

static void stop_client(const struct lj_dhcp_start_opts *o, const char *self, pid_t pid, int pidfd,
			bool release)
{
	struct client_argv c;

	/* dhclient and dhcpcd release their lease only when asked by a second invocation. */
	if (release && client_argv(o, self, true, &c) == 0) {
		pid_t r = spawn_in_target(o, &c, pid);
		if (r > 0) {
			_cleanup_close_ int rfd = lj_proc_pidfd_open(r);
			if (rfd >= 0 && lj_proc_pidfd_wait(rfd, 3000) < 0)
				kill(r, SIGKILL);
			waitpid(r, NULL, 0);
		}
	}
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	if (lj_proc_pidfd_wait(pidfd, 3000) < 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	waitpid(pid, NULL, 0);
	kill(-pid, SIGKILL); /* helpers left in its process group */
	reap_all();
}

int lj_dhcp_supervise(const struct lj_dhcp_start_opts *o)
{
	_cleanup_close_ int sfd = -1, cfd = -1, tfd = -1, ifd = -1;
	char self[PATH_MAX];
	sigset_t mask;
	ssize_t n;
	pid_t pid;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		return 1;

	if (strncmp(o->watch, "pid:", 4) == 0) {
		uint64_t tp;
		if (lj_parse_uint(o->watch + 4, 1, INT_MAX, &tp) < 0)
			return 2;
		tfd = lj_proc_pidfd_open((pid_t)tp);
		if (tfd < 0) {
			fprintf(stderr, "lanjoin dhcp: target process %s is gone\n", o->watch + 4);
			return 1;
		}
	} else if (strncmp(o->watch, "path:", 5) == 0) {
		_cleanup_free_ char *dir = strdup(o->watch + 5);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (ifd < 0 || !slash)
			return 1;
		*slash = '\0';
		/* Removing the netns file (ip netns del) unmounts and unlinks it. */
		if (inotify_add_watch(ifd, *dir ? dir : "/",
				      IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF |
					      IN_UNMOUNT) < 0)
			return 1;
	}
	if (!target_alive(o, tfd)) {
		fprintf(stderr, "lanjoin dhcp: the target namespace is gone\n");
		return 1;
	}

	/* Orphans of the client (helpers, hooks) are reparented here and reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = spawn_client(o, self);
	if (pid < 0)
		return 1;
	cfd = lj_proc_pidfd_open(pid);
	if (cfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	for (;;) {
		struct pollfd pfd[4] = {
			{.fd = sfd, .events = POLLIN},
			{.fd = cfd, .events = POLLIN},
			{.fd = tfd, .events = POLLIN},
			{.fd = ifd, .events = POLLIN},
		};
		int r = poll(pfd, 4, 2000);

		if (r < 0 && errno != EINTR)
			break;
		reap_orphans(pid);
		if (pfd[1].revents & POLLIN) {
			int status = 0;
			waitpid(pid, &status, 0);
			fprintf(stderr, "lanjoin dhcp: the client exited (status %d)\n",
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			kill(-pid, SIGKILL);
			reap_all();
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				stop_client(o, self, pid, cfd, true);
				return 0;
			}
		}
		if (ifd >= 0 && (pfd[3].revents & POLLIN)) {
			char buf[4096];
			while (read(ifd, buf, sizeof(buf)) > 0)
				;
		}
		if (!target_alive(o, tfd)) {
			fprintf(stderr, "lanjoin dhcp: the target namespace is gone; stopping the "
					"client\n");
			stop_client(o, self, pid, cfd, false);
			return 0;
		}
	}
	stop_client(o, self, pid, cfd, false);
	return 1;
}

/* --- the hook ------------------------------------------------------------------------------ */

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static const char *process_env(const char *name, void *data)
{
	return getenv(name);
}

/* First word of a space-separated list into buf. */
static const char *first_word(const char *list, char *buf, size_t size, const char **rest)
{
	size_t n = 0;

	while (list && *list == ' ')
		list++;
	if (!list || !*list)
		return NULL;
	while (list[n] && list[n] != ' ')
		n++;
	if (n >= size)
		return NULL;
	memcpy(buf, list, n);
	buf[n] = '\0';
	if (rest)
		*rest = list + n;
	return buf;
}

static int mask_to_prefix(const char *s)
{
	struct lj_ip m;
	uint32_t v;
	int p = 0;

	if (lj_parse_ip(s, &m) < 0 || m.family != AF_INET)
		return -EINVAL;
	v = ntohl(m.v4.s_addr);
	while (v & 0x80000000u) {
		p++;
		v <<= 1;
	}
	return v ? -EINVAL : p;
}

/* The lease in the environment of hook (udhcpc names or dhclient/dhcpcd "new_" names). */
static const char *nonempty(const char *v)
{
	return v && *v ? v : NULL;
}

int lj_dhcp_lease_from_env(enum lj_dhcp_kind k, lj_dhcp_env_fn get, void *data,
			   struct lj_dhcp_lease *ret, char *why, size_t size)
{
	const char *ip = nonempty(get(k == LJ_DHCP_UDHCPC ? "ip" : "new_ip_address", data));
	const char *routers = nonempty(get(k == LJ_DHCP_UDHCPC ? "router" : "new_routers", data));
	const char *dns =
		nonempty(get(k == LJ_DHCP_UDHCPC ? "dns" : "new_domain_name_servers", data));
	const char *lease =
		nonempty(get(k == LJ_DHCP_UDHCPC ? "lease" : "new_dhcp_lease_time", data));
	const char *cidr = nonempty(get(k == LJ_DHCP_UDHCPC ? "mask" : "new_subnet_cidr", data));
	const char *mask = nonempty(get(k == LJ_DHCP_UDHCPC ? "subnet" : "new_subnet_mask", data));
	struct lj_dhcp_lease l = {0};
	uint64_t n;
	char w[64];
	int prefix = -EINVAL;

	if (!ip || lj_parse_ip(ip, &l.addr.ip) < 0 || l.addr.ip.family != AF_INET) {
		snprintf(why, size, "the client gave no valid IPv4 address");
		return -EINVAL;
	}
	if (cidr && lj_parse_uint(cidr, 1, 32, &n) == 0)
		prefix = (int)n;
	else if (mask)
		prefix = mask_to_prefix(mask);
	if (prefix <= 0 || prefix > 32) {
		snprintf(why, size, "the client gave no valid subnet mask");
		return -EINVAL;
	}
	l.addr.prefixlen = (uint8_t)prefix;
	{
		/* What --ip refuses, a lease may not give either. */
		const char *problem = lj_ip_unicast_problem(&l.addr.ip, l.addr.prefixlen);
		if (problem) {
			snprintf(why, size, "the server offered %s/%d, which is %s", ip, prefix,
				 problem);
			return -EINVAL;
		}
	}
	if (first_word(routers, w, sizeof(w), NULL) &&
	    (lj_parse_ip(w, &l.router) < 0 || l.router.family != AF_INET))
		l.router.family = AF_UNSPEC;
	for (const char *rest = dns;
	     l.n_dns < ARRAY_SIZE(l.dns) && first_word(rest, w, sizeof(w), &rest);)
		if (lj_parse_ip(w, &l.dns[l.n_dns]) == 0)
			l.n_dns++;
	if (lease && lj_parse_uint(lease, 0, UINT32_MAX, &n) == 0)
		l.lease_s = (uint32_t)n;
	*ret = l;
	return 0;
}

/* Remove the IPv4 addresses (except keep, if given) and IPv4 default routes of ifindex. */
static int deconfigure(struct lj_nl *nl, int ifindex, const struct lj_cidr *keep)
{
	struct lj_addr_info *v = NULL;
	size_t n = 0;
	int r;

	r = lj_addr_dump(nl, AF_INET, ifindex, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (keep && lj_ip_equal(&v[i].cidr.ip, &keep->ip) &&
		    v[i].cidr.prefixlen == keep->prefixlen)
			continue;
		lj_addr_del(nl, ifindex, &v[i].cidr);
	}
	free(v);
	if (!keep) {
		struct lj_route rt = {.dst.ip.family = AF_INET, .oif = ifindex};
		for (int i = 0; i < 8 && lj_route_del(nl, &rt) == 0; i++)
			;
	}
	return 0;
}

/* Remove every address ip on link ifindex (whatever its prefix). */
static void remove_address(struct lj_nl *nl, int ifindex, const struct lj_ip *ip)
{
	struct lj_addr_info *v = NULL;
	size_t n = 0;

	if (lj_addr_dump(nl, AF_INET, ifindex, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (lj_ip_equal(&v[i].cidr.ip, ip))
			lj_addr_del(nl, ifindex, &v[i].cidr);
	free(v);
}

static int apply_lease(struct lj_nl *nl, int ifindex, const char *ifname,
		       const struct lj_dhcp_lease *l, bool no_default)
{
	struct lj_addr_info *v = NULL;
	bool have = false;
	size_t n = 0;
	int r;

	r = deconfigure(nl, ifindex, &l->addr);
	if (r < 0)
		return r;
	r = lj_addr_dump(nl, AF_INET, ifindex, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		have |= lj_ip_equal(&v[i].cidr.ip, &l->addr.ip);
	free(v);
	if (!have) {
		r = lj_addr_add(nl, ifindex, &l->addr, 0);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	/* Neighbours may still have a previous holder's MAC cached (dhcpcd adds the address
	 * itself, so announce whether or not this hook added it). */
	lj_arp_announce(-1, ifname, &l->addr.ip, NULL);
	if (l->router.family == AF_INET && !no_default) {
		struct lj_route rt = {
			.dst.ip.family = AF_INET,
			.via = l->router,
			.oif = ifindex,
			.onlink = !lj_cidr_contains(&l->addr, &l->router),
		};
		/* Replace only the IPv4 default route: IPv6's is another table. */
		r = lj_route_replace(nl, &rt);
		if (r < 0)
			return r;
	}
	return 0;
}

static void notify(const char *msg)
{
	const char *path = env("LANJOIN_DHCP_NOTIFY");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (!path || strlen(path) >= sizeof(sun.sun_path))
		return;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	/* Nobody listens after attach returned (renewals): that is fine. */
	sendto(fd, msg, strlen(msg), MSG_DONTWAIT, (struct sockaddr *)&sun, sizeof(sun));
}

/*
 * BASE of the attachment the hook runs for, from its notification path BASE.sock. The hook's
 * environment has no LANJOIN_STATE_DIR (base_ok cannot be used): BASE must be an absolute
 * path ending in /dhcp/<record id>, as lj_dhcp_start makes it.
 */
static bool hook_base(char *buf, size_t size)
{
	const char *n = env("LANJOIN_DHCP_NOTIFY"), *id;
	size_t len = n ? strlen(n) : 0;

	if (len < 5 || len - 5 >= size || n[0] != '/' || strcmp(n + len - 5, ".sock") != 0 ||
	    strstr(n, "/../"))
		return false;
	memcpy(buf, n, len - 5);
	buf[len - 5] = '\0';
	id = strrchr(buf, '/');
	if (!id || strlen(id + 1) != LJ_RECORD_ID_LEN - 1 || id - buf < 5 ||
	    strncmp(id - 5, "/dhcp", 5) != 0)
		return false;
	for (const char *p = id + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static int64_t boottime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Hold the client in its hook until LJ_DHCP_MIN_EVENT_INTERVAL_MS have passed since the
 * previous lease event of this attachment (BASE.hook holds its CLOCK_BOOTTIME in ms). The
 * client waits for its hook, so this bounds how often any client can renew, whatever the
 * lease time (dhclient renews at once when a lease is a second long). Best effort: without
 * the file it does not wait.
 */
static void throttle(const char *base)
{
	char path[PATH_MAX + 8], buf[32];
	_cleanup_close_ int fd = -1;
	int64_t now = boottime_ms(), last = 0, wait;
	ssize_t n;

	snprintf(path, sizeof(path), "%s.hook", base);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		last = strtoll(buf, NULL, 10);
	}
	wait = last + LJ_DHCP_MIN_EVENT_INTERVAL_MS - now;
	if (last > 0 && wait > 0) {
		if (wait > LJ_DHCP_MIN_EVENT_INTERVAL_MS)
			wait = LJ_DHCP_MIN_EVENT_INTERVAL_MS;
		/* SIGTERM (the supervisor stopping the client's process group) ends it. */
		nanosleep(&(struct timespec){.tv_sec = wait / 1000,
					     .tv_nsec = (wait % 1000) * 1000000L},
			  NULL);
		now = boottime_ms();
	}
	n = snprintf(buf, sizeof(buf), "%" PRId64 "\n", now);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) != n)
		return;
}

/*
 * Is ip an address of the host, i.e. of the network namespace lanjoin's supervisor runs in
 * (BASE.supervisor, checked against the process's start time)? False when that cannot be
 * told (the ARP probe still covers the host's addresses on a bridge).
 */
static bool host_address(const char *base, const struct lj_ip *ip)
{
	struct lj_addr_info *v = NULL;
	struct lj_nl *nl = NULL;
	_cleanup_close_ int fd = -1;
	char path[64];
	uint64_t start, now;
	bool found = false;
	size_t n = 0;
	pid_t pid;

	if (read_supervisor_file(base, &pid, &start) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Checked after the open: the namespace is the supervisor's, not a PID reuser's. */
	if (fd < 0 || lj_proc_start_time(pid, &now) < 0 || now != start)
		return false;
	if (lj_nl_open(fd, &nl) < 0)
		return false;
	if (lj_addr_dump(nl, AF_INET, 0, &v, &n) == 0)
		for (size_t i = 0; i < n && !found; i++)
			found = lj_ip_equal(&v[i].cidr.ip, ip);
	free(v);
	lj_nl_close(nl);
	return found;
}

/* Does link ifindex hold ip already (a renewal, or dhcpcd, which adds the address itself)? */
static bool link_has(struct lj_nl *nl, int ifindex, const struct lj_ip *ip)
{
	struct lj_addr_info *v = NULL;
	bool have = false;
	size_t n = 0;

	if (lj_addr_dump(nl, AF_INET, ifindex, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		have |= lj_ip_equal(&v[i].cidr.ip, ip);
	free(v);
	return have;
}

enum hook_action { HOOK_IGNORE, HOOK_BOUND, HOOK_DECONFIG, HOOK_FAIL };

static enum hook_action hook_action(enum lj_dhcp_kind k, const char *ev)
{
	static const char *const bound[] = {"bound",  "renew",	"BOUND",  "RENEW", "REBIND",
					    "REBOOT", "INFORM", "STATIC", NULL};
	static const char *const deconfig[] = {"deconfig", "EXPIRE",  "RELEASE",  "STOP",
					       "NAK",	   "STOPPED", "DEPARTED", "NOCARRIER",
					       "EXPIRE6",  NULL};
	static const char *const fail[] = {"leasefail", "nak", "FAIL", "TIMEOUT", NULL};

	if (!ev)
		return HOOK_IGNORE;
	for (size_t i = 0; bound[i]; i++)
		if (strcmp(ev, bound[i]) == 0)
			return HOOK_BOUND;
	for (size_t i = 0; deconfig[i]; i++)
		if (strcmp(ev, deconfig[i]) == 0)
			return HOOK_DECONFIG;
	for (size_t i = 0; fail[i]; i++)
		if (strcmp(ev, fail[i]) == 0)
			return HOOK_FAIL;
	return HOOK_IGNORE;
}

int lj_dhcp_hook(const char *arg, char *why, size_t why_size)
{
	const char *ifname = env("LANJOIN_DHCP_IFNAME"), *ev, *iface;
	enum lj_dhcp_kind k;
	struct lj_dhcp_lease l;
	struct lj_nl *nl = NULL;
	struct lj_link link;
	char msg[1024], buf[LJ_CIDR_STRLEN], base[PATH_MAX];
	int r;

	why[0] = '\0';
	if (lj_dhcp_kind_parse(env("LANJOIN_DHCP_HOOK"), &k) < 0 || !ifname ||
	    !lj_ifname_valid(ifname)) {
		snprintf(why, why_size, "bad hook environment");
		return -EINVAL;
	}
	ev = k == LJ_DHCP_UDHCPC ? arg : env("reason");
	iface = env("interface");
	/* Only ever the interface lanjoin started the client for. */
	if (iface && strcmp(iface, ifname) != 0) {
		snprintf(why, why_size, "event for '%s', not '%s': ignored", iface, ifname);
		return 0;
	}
	switch (hook_action(k, ev)) {
	case HOOK_IGNORE:
		return 0;
	case HOOK_FAIL:
		snprintf(msg, sizeof(msg), "fail\nthe DHCP client reported '%s'", ev);
		notify(msg);
		return 0;
	default:
		break;
	}
	r = lj_nl_open(-1, &nl);
	if (r < 0) {
		snprintf(why, why_size, "netlink: %s", strerror(-r));
		return r;
	}
	r = lj_link_get(nl, ifname, &link);
	if (r < 0) {
		snprintf(why, why_size, "interface '%s': %s", ifname, strerror(-r));
		goto out;
	}
	if (hook_action(k, ev) == HOOK_DECONFIG) {
		r = deconfigure(nl, link.ifindex, NULL);
		if (r < 0)
			snprintf(why, why_size, "deconfigure '%s': %s", ifname, strerror(-r));
		goto out;
	}
	/* A lease the hook refuses or finds in use is never configured, and the hook exits 1:
	 * dhclient then sends DHCPDECLINE and starts over. udhcpc (-a) and dhcpcd have probed
	 * and declined conflicts themselves; they ignore the hook's status, and what the hook
	 * refuses (dhcpcd has added it already: removed here) leaves them bound to nothing. */
	if (hook_base(base, sizeof(base)))
		throttle(base);
	else
		base[0] = '\0';
	r = lj_dhcp_lease_from_env(k, process_env, NULL, &l, why, why_size);
	if (r == 0 && base[0] && host_address(base, &l.addr.ip)) {
		snprintf(why, why_size, "the server offered %s, which is the host's own address",
			 lj_ip_to_string(&l.addr.ip, buf, sizeof(buf)));
		r = -EADDRINUSE;
	}
	if (r == 0 && !link_has(nl, link.ifindex, &l.addr.ip)) {
		uint8_t mac[LJ_MAC_LEN];
		char m[LJ_MAC_STRLEN];

		/* RFC 5227, as for a static address: probe before taking it. */
		r = lj_arp_probe(-1, link.ifindex, &l.addr.ip.v4, LJ_ARP_PROBE_NUM,
				 LJ_ARP_PROBE_INTERVAL_MS, LJ_ARP_PROBE_WAIT_MS, mac);
		if (r == -EADDRINUSE)
			snprintf(why, why_size,
				 "the server offered %s, which is already in use on "
				 "the LAN by %s",
				 lj_ip_to_string(&l.addr.ip, buf, sizeof(buf)),
				 lj_mac_to_string(mac, m, sizeof(m)));
		else if (r < 0) {
			/* Not a conflict: the lease is taken as before there was a probe; the
			 * reason goes to the client's log. */
			snprintf(why, why_size,
				 "ARP probe of %s from '%s' failed (%s): taken "
				 "unchecked",
				 lj_ip_to_string(&l.addr.ip, buf, sizeof(buf)), ifname,
				 strerror(-r));
			r = 0;
		}
	}
	if (r < 0) {
		struct lj_ip bad;
		const char *ip = env(k == LJ_DHCP_UDHCPC ? "ip" : "new_ip_address");

		/* dhcpcd added it before running the hook: take it away again. */
		if (ip && lj_parse_ip(ip, &bad) == 0 && bad.family == AF_INET)
			remove_address(nl, link.ifindex, &bad);
		snprintf(msg, sizeof(msg), "fail\n%s: refused%s", why,
			 k == LJ_DHCP_DHCLIENT ? " (declined)" : "");
		notify(msg);
		goto out;
	}
	r = apply_lease(nl, link.ifindex, ifname, &l, env("LANJOIN_DHCP_NO_DEFAULT") != NULL);
	if (r < 0) {
		snprintf(why, why_size, "configure %s on '%s': %s%s%s",
			 lj_cidr_to_string(&l.addr, buf, sizeof(buf)), ifname, strerror(-r),
			 *lj_nl_extack(nl) ? ": " : "", lj_nl_extack(nl));
		snprintf(msg, sizeof(msg), "fail\n%s", why);
		notify(msg);
		goto out;
	}
	snprintf(msg, sizeof(msg), "bound\n");
	lj_dhcp_lease_msg_format(&l, msg + 6, sizeof(msg) - 6);
	notify(msg);
out:
	lj_nl_close(nl);
	return r;
}
