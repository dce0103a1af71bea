/* SPDX-License-Identifier: MIT */
/*
 * The DHCP control attach and detach use: find a client, start the supervisor (which starts
 * the client), wait for the first lease, stop the supervisor. The supervisor is in
 * dhcp-supervisor.c, the client's hook in dhcp-hook.c.
 */
#include "lib/foreign/dhcp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/interrupt.h"
#include "lib/core/state.h"
#include "lib/core/target.h"
#include "lib/foreign/dhcp-internal.h"
#include "lib/kernel/proc.h"
#include "shared/macro.h"

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

int lj_dhcp6_find_client(const char *name, enum lj_dhcp_kind *ret_kind, char *ret_path, size_t size)
{
	if (name && strcmp(name, "dhcpcd") != 0)
		return -EOPNOTSUPP;
	return lj_dhcp_find_client("dhcpcd", ret_kind, ret_path, size);
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

	/* BASE must be STATEDIR/dhcp/<12 hex digits>, "-6" after them for DHCPv6 */
	if (!base || strncmp(base, dir, len) != 0 || strncmp(base + len, "/dhcp/", 6) != 0)
		return false;
	rest = base + len + 6;
	if (strlen(rest) != LJ_RECORD_ID_LEN - 1 &&
	    !(strlen(rest) == LJ_RECORD_ID_LEN + 1 &&
	      strcmp(rest + LJ_RECORD_ID_LEN - 1, "-6") == 0))
		return false;
	for (const char *p = rest; *p && p < rest + LJ_RECORD_ID_LEN - 1; p++)
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
	int r;

	r = lj_proc_start_time(getpid(), &start);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s.supervisor", base);
	snprintf(line, sizeof(line), "%d %" PRIu64 "\n", (int)getpid(), start);
	return write_file(path, line);
}

int lj_dhcp_read_supervisor_file(const char *base, pid_t *ret_pid, uint64_t *ret_start)
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
	return lj_dhcp_read_supervisor_file(base, ret_pid, ret_start);
}

int lj_dhcp_start(const struct lj_dhcp_start_opts *o, pid_t *ret_pid, uint64_t *ret_start,
		  int *ret_notify_fd)
{
	char dir[PATH_MAX], path[PATH_MAX], netns_id[64], conf[512], hostname[64] = "";
	char wait_mac[LJ_MAC_STRLEN + 16] = "";
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
	if (o->v6) {
		/* dhcpcd -6: ask for an address (IA_NA) and the DNS servers at once, without
		 * waiting for a router advertisement's M flag; nothing else from the host's
		 * dhcpcd.conf. */
		snprintf(path, sizeof(path), "%s.conf", o->base);
		r = write_file(path, "noipv6rs\nia_na\noption dhcp6_name_servers\n");
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
	if (o->wait_link) {
		char m[LJ_MAC_STRLEN];

		snprintf(wait_mac, sizeof(wait_mac), "wait-mac=%s",
			 lj_mac_to_string(o->wait_mac, m, sizeof(m)));
	}
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
			/* flags, in any order; the first NULL ends them */
			o->v6 ? "v6" : (o->no_default_route ? "no-default-route" : "-"),
			o->hold ? "hold" : "-",
			wait_mac[0] ? wait_mac : NULL,
			NULL,
		};
		char state_env[PATH_MAX + 32];
		char *envp[] = {LJ_DHCP_CLIENT_ENV_PATH, state_env, NULL};
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
		    dup2(logfd, 2) < 0 || dup2(ns, LJ_DHCP_SUPERVISOR_NETNS_FD) < 0)
			_exit(127);
		/* Nothing else is inherited: no state lock, no netlink sockets, no test pipes (the
		 * close-on-exec copy of exe goes with the exec). */
		if (exe != LJ_DHCP_SUPERVISOR_NETNS_FD + 1 &&
		    dup2(exe, LJ_DHCP_SUPERVISOR_NETNS_FD + 1) < 0)
			_exit(127);
		exe = LJ_DHCP_SUPERVISOR_NETNS_FD + 1;
		if (fcntl(exe, F_SETFD, FD_CLOEXEC) < 0)
			_exit(127);
		syscall(SYS_close_range, LJ_DHCP_SUPERVISOR_NETNS_FD + 2, ~0U, 0);
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
	 * dhcpcd: "eth1: MAC(MAC) claims 198.51.100.254" (then "DAD detected", and a decline);
	 * dhcpcd -6: "eth1: DAD detected 2001:db8:1::fe", or, when the kernel drops the address
	 * whose DAD failed before dhcpcd runs its hook, "eth1: pid 0 deleted address A/128". */
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "in use (got ARP reply)") || strstr(line, ") claims ") ||
		    strstr(line, "DAD detected") || strstr(line, ": pid 0 deleted address "))
			found = line;
	if (!found)
		return false;
	if (strstr(found, ": pid 0 deleted address ")) {
		/* The kernel (pid 0) removed what dhcpcd -6 added: its DAD failed. */
		snprintf(why, size,
			 "the offered address is in use on the LAN: duplicate address detection "
			 "failed (%s)",
			 found);
		return true;
	}
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
