/* SPDX-License-Identifier: MIT */
/*
 * The DHCP supervisor (`lanjoin dhcp-supervise`, started by lj_dhcp_start): it starts the
 * client in the target's network namespace and a private mount namespace, and stops it when
 * told to, or when the target is gone. Its process main (arguments, exit status, what it
 * prints to its log) is the front end's (src/cli/dhcp.c).
 */
#include "lib/foreign/dhcp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/foreign/dhcp-internal.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netns.h"
#include "lib/kernel/proc.h"
#include "shared/macro.h"

/* udhcpc's ARP check of an offer: one request, then this many ms for an answer (a switched
 * LAN answers in well under a millisecond; each lease waits this long when nobody does). */
#define UDHCPC_ARP_OPT "-a200"

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

/* Is PATH DIR or below it? */
static bool path_below(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/*
 * The nearest existing ancestor of DIR, into ANC (PATH_MAX bytes), when DIR is missing; "" when
 * DIR exists. Anything but a directory there is -ENOTDIR.
 */
static int missing_dir_ancestor(const char *dir, char *anc)
{
	struct stat st;
	char *slash;
	int r;

	anc[0] = '\0';
	if (stat(dir, &st) == 0)
		return 0;
	if (errno != ENOENT)
		return lj_negerrno();
	if (snprintf(anc, PATH_MAX, "%s", dir) >= PATH_MAX)
		return -ENAMETOOLONG;
	do {
		slash = strrchr(anc, '/');
		if (!slash)
			return -EINVAL;
		slash[slash == anc] = '\0'; /* the parent, or "/" */
	} while ((r = stat(anc, &st)) < 0 && errno == ENOENT);
	if (r < 0)
		return lj_negerrno();
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/*
 * Make every client state directory a private, empty directory of the client, whether or not
 * it exists on the host, and create nothing on the host. First a copy-on-write overlay on the
 * nearest existing ancestor of each missing one, shallowest first (an overlay on /var put after
 * one on /var/lib would hide it and what was made in it), then each missing directory made
 * inside its overlay, then a tmpfs on each (a directory the host has shows none of its files).
 */
static int private_state_dirs(void)
{
	char anc[ARRAY_SIZE(client_state_dirs)][PATH_MAX];
	const char *overlaid[ARRAY_SIZE(client_state_dirs)];
	size_t n_overlaid = 0;
	struct stat st;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(client_state_dirs); i++) {
		r = missing_dir_ancestor(client_state_dirs[i], anc[i]);
		if (r < 0)
			return r;
	}
	for (;;) {
		const char *next = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(anc); i++) {
			bool covered = !anc[i][0];
			for (size_t j = 0; j < n_overlaid && !covered; j++)
				covered = path_below(anc[i], overlaid[j]);
			if (!covered && (!next || strlen(anc[i]) < strlen(next)))
				next = anc[i];
		}
		if (!next)
			break;
		r = mount_private_overlay(next);
		if (r < 0)
			return r;
		overlaid[n_overlaid++] = next;
	}
	for (size_t i = 0; i < ARRAY_SIZE(client_state_dirs); i++) {
		const char *dir = client_state_dirs[i];
		if (anc[i][0]) {
			r = mkdir_parents(dir);
			if (r < 0)
				return r;
		} else if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			continue; /* not a directory: the client cannot write there either */
		}
		r = mount_private_tmpfs(dir);
		if (r < 0)
			return r;
	}
	return 0;
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
	r = private_state_dirs();
	if (r < 0)
		return r;
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
	char *envp[7];
};

#define NO_DEFAULT_ENV "LANJOIN_DHCP_NO_DEFAULT=1"
#define FAMILY6_ENV "LANJOIN_DHCP_FAMILY=6"
#define HOLD_ENV "LANJOIN_DHCP_HOLD=1"

/* Append the three "-e VAR=VALUE" pairs every client passes to its hook (lanjoin): which hook,
 * which interface, where to notify. Returns the new argument count. */
static size_t put_hook_env(struct client_argv *c, size_t n)
{
	c->argv[n++] = "-e";
	c->argv[n++] = c->hook;
	c->argv[n++] = "-e";
	c->argv[n++] = c->ifenv;
	c->argv[n++] = "-e";
	c->argv[n++] = c->notify;
	return n;
}

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
	c->envp[0] = (char *)LJ_DHCP_CLIENT_ENV_PATH;
	c->envp[1] = c->hook;
	c->envp[2] = c->ifenv;
	c->envp[3] = c->notify;
	c->envp[4] = o->no_default_route ? (char *)NO_DEFAULT_ENV : NULL;
	c->envp[5] = NULL;
	c->envp[6] = NULL;
	if (o->hold)
		c->envp[c->envp[4] ? 5 : 4] = (char *)HOLD_ENV;
	if (o->v6) {
		c->envp[4] = (char *)FAMILY6_ENV;
		if (o->kind != LJ_DHCP_DHCPCD)
			return -EOPNOTSUPP;
	}

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
		n = put_hook_env(c, n);
		if (o->no_default_route) {
			argv[n++] = "-e";
			argv[n++] = NO_DEFAULT_ENV;
		}
		if (o->hold) {
			argv[n++] = "-e";
			argv[n++] = HOLD_ENV;
		}
		argv[n++] = o->ifname;
		break;
	case LJ_DHCP_DHCPCD:
		if (o->v6) {
			/* Its own instance (a private /run/dhcpcd: its control socket is not the
			 * DHCPv4 one's), IPv6 only; BASE.conf asks for an address and DNS. */
			argv[n++] = "dhcpcd";
			argv[n++] = "-6";
			if (release) {
				argv[n++] = "-k";
				argv[n++] = o->ifname;
				break;
			}
			argv[n++] = "-B";
			argv[n++] = "-f";
			argv[n++] = c->cf;
			argv[n++] = "-c";
			argv[n++] = self;
			n = put_hook_env(c, n);
			argv[n++] = "-e";
			argv[n++] = FAMILY6_ENV;
			argv[n++] = o->ifname;
			break;
		}
		argv[n++] = "dhcpcd";
		argv[n++] = "-4"; /* DHCPv4 only: IPv6 is lanjoin's --ip/--slaac/--dhcp6 */
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
		n = put_hook_env(c, n);
		if (o->no_default_route) {
			argv[n++] = "-e";
			argv[n++] = NO_DEFAULT_ENV;
		}
		if (o->hold) {
			argv[n++] = "-e";
			argv[n++] = HOLD_ENV;
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
	if (setns(LJ_DHCP_SUPERVISOR_NETNS_FD, CLONE_NEWNET) < 0) {
		perror("lanjoin dhcp: cannot enter the target network namespace");
		_exit(127);
	}
	close(LJ_DHCP_SUPERVISOR_NETNS_FD);
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

/* Watch the target named by o->watch: a pidfd in *tfd or an inotify fd in *ifd (else -1). */
static int watch_target(const struct lj_dhcp_start_opts *o, int *tfd, int *ifd, char *why,
			size_t why_size)
{
	if (strncmp(o->watch, "pid:", 4) == 0) {
		uint64_t tp;
		if (lj_parse_uint(o->watch + 4, 1, INT_MAX, &tp) < 0)
			return -EINVAL;
		*tfd = lj_proc_pidfd_open((pid_t)tp);
		if (*tfd < 0) {
			snprintf(why, why_size, "target process %s is gone", o->watch + 4);
			return -ESRCH;
		}
	} else if (strncmp(o->watch, "path:", 5) == 0) {
		_cleanup_free_ char *dir = strdup(o->watch + 5);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		if (!dir)
			return -ENOMEM;
		if (!slash)
			return -EINVAL;
		*ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (*ifd < 0)
			return lj_negerrno();
		*slash = '\0';
		/* Removing the netns file (ip netns del) unmounts and unlinks it. */
		if (inotify_add_watch(*ifd, *dir ? dir : "/",
				      IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF |
					      IN_UNMOUNT) < 0)
			return lj_negerrno();
	}
	if (!target_alive(o, *tfd)) {
		snprintf(why, why_size, "the target namespace is gone");
		return -ESRCH;
	}
	return 0;
}

/* The name of the link with MAC mac that is up in netns_fd's namespace, into ifname. */
static bool find_up_link(int netns_fd, const uint8_t *mac, char ifname[IFNAMSIZ])
{
	struct lj_nl *nl = NULL;
	struct lj_link *v = NULL;
	bool found = false;
	size_t n = 0;

	if (lj_nl_open(netns_fd, &nl) < 0)
		return false;
	if (lj_link_list(nl, &v, &n) == 0)
		for (size_t i = 0; i < n && !found; i++)
			if (v[i].has_mac && memcmp(v[i].mac, mac, LJ_MAC_LEN) == 0 &&
			    (v[i].flags & IFF_UP)) {
				snprintf(ifname, IFNAMSIZ, "%s", v[i].name);
				found = true;
			}
	free(v);
	lj_nl_close(nl);
	return found;
}

/*
 * wait_link: wait for the target path (o->watch "path:P") to be a network namespace and for
 * the link o->wait_mac to be up in it; then that namespace becomes fd 3 and o's netns_id, and
 * the link's name goes into ifname. 0, -ETIMEDOUT, -ECANCELED (told to stop: the signal stays
 * pending on sfd), -EINVAL (no path to watch), -errno.
 */
static int wait_link(struct lj_dhcp_start_opts *o, int sfd, char ifname[IFNAMSIZ], char *why,
		     size_t why_size)
{
	char m[LJ_MAC_STRLEN];

	if (strncmp(o->watch, "path:", 5) != 0)
		return -EINVAL;
	for (int waited = 0; waited < LJ_DHCP_WAIT_LINK_MS; waited += 20) {
		struct pollfd pfd = {.fd = sfd, .events = POLLIN};
		int fd = -1;

		/* The file is there before the namespace is mounted on it. */
		lj_netns_open_path(o->watch + 5, &fd);
		if (fd >= 0 && find_up_link(fd, o->wait_mac, ifname)) {
			int r = lj_netns_get_id(fd, &o->netns_id);

			if (r == 0 && dup2(fd, LJ_DHCP_SUPERVISOR_NETNS_FD) < 0)
				r = lj_negerrno();
			close(fd);
			return r;
		}
		if (fd >= 0)
			close(fd);
		/* A short poll: the engine moves the link in as the container starts. */
		if (poll(&pfd, 1, 20) > 0)
			return -ECANCELED;
	}
	snprintf(why, why_size, "no link %s came up in %s within %d s",
		 lj_mac_to_string(o->wait_mac, m, sizeof(m)), o->watch + 5,
		 LJ_DHCP_WAIT_LINK_MS / 1000);
	return -ETIMEDOUT;
}

int lj_dhcp_supervise(const struct lj_dhcp_start_opts *orig, char *why, size_t why_size)
{
	struct lj_dhcp_start_opts opts = *orig, *o = &opts;
	char ifname[IFNAMSIZ];
	_cleanup_close_ int sfd = -1, cfd = -1, tfd = -1, ifd = -1;
	char self[PATH_MAX];
	sigset_t mask;
	ssize_t n;
	pid_t pid;
	int r;

	why[0] = '\0';
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return n < 0 ? lj_negerrno() : -EIO;
	self[n] = '\0';

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		return lj_negerrno();
	if (o->wait_link) {
		r = wait_link(o, sfd, ifname, why, why_size);
		if (r == -ECANCELED)
			return 0; /* told to stop before there was a client */
		if (r < 0)
			return r;
		o->ifname = ifname;
	}
	r = watch_target(o, &tfd, &ifd, why, why_size);
	if (r < 0)
		return r;

	/* Orphans of the client (helpers, hooks) are reparented here and reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = spawn_client(o, self);
	if (pid < 0)
		return pid;
	cfd = lj_proc_pidfd_open(pid);
	if (cfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return cfd;
	}
	for (;;) {
		struct pollfd pfd[4] = {
			{.fd = sfd, .events = POLLIN},
			{.fd = cfd, .events = POLLIN},
			{.fd = tfd, .events = POLLIN},
			{.fd = ifd, .events = POLLIN},
		};

		r = poll(pfd, 4, 2000);
		if (r < 0 && errno != EINTR) {
			r = lj_negerrno();
			break;
		}
		reap_orphans(pid);
		if (pfd[1].revents & POLLIN) {
			int status = 0;
			waitpid(pid, &status, 0);
			snprintf(why, why_size, "the client exited (status %d)",
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			kill(-pid, SIGKILL);
			reap_all();
			return -ECHILD;
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
			snprintf(why, why_size, "the target namespace is gone; stopped the client");
			stop_client(o, self, pid, cfd, false);
			return 0;
		}
	}
	stop_client(o, self, pid, cfd, false);
	return r;
}
