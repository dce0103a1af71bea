/* SPDX-License-Identifier: MIT */
/*
 * DHCPv4 for a container's interface: a well-kept client (busybox udhcpc, ISC dhclient or
 * dhcpcd) runs inside the target's network namespace under a small lanjoin supervisor.
 *
 *   lanjoin attach ──fork+exec──▶ lanjoin dhcp-supervise   (host netns, own session)
 *                                    └─fork, setns(target), private mount ns, execve──▶ client
 *                                         └─ at each event ──▶ lanjoin (hook mode, in the target)
 *
 * The client's script is lanjoin itself in hook mode (env LANJOIN_DHCP_HOOK): it configures
 * only the one interface (IPv4 address, prefix, default route) through netlink in the
 * namespace it runs in, and tells the waiting attach over a unix datagram socket. The client
 * runs in a private mount namespace where its usual state directories are empty tmpfs and
 * /etc/resolv.conf is a private file, and every file it is told to use lives under
 * lanjoin's state directory: it cannot change a host file.
 *
 * Lifetime: the supervisor kills the client (SIGTERM, then SIGKILL) when it is told to stop
 * (detach), when the target's process exits (pid/container targets, pidfd), or when the
 * target's netns file is removed or replaced (netns:NAME and path targets, inotify plus a
 * 2-second re-check). The client dies with the supervisor (PR_SET_PDEATHSIG) and the
 * supervisor exits when the client does. So the client, which holds the namespace alive,
 * never outlives the container.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/kernel/netns.h"
/* A supervisor is named by PID and start time, as lib/kernel/proc.h names processes. */
#include "lib/kernel/proc.h"
#include "shared/parse.h"

enum lj_dhcp_kind {
	LJ_DHCP_NONE = 0,
	LJ_DHCP_UDHCPC = 1,
	LJ_DHCP_DHCLIENT = 2,
	LJ_DHCP_DHCPCD = 3,
};

/* "udhcpc", "dhclient", "dhcpcd" ("?" for others). */
const char *lj_dhcp_kind_name(enum lj_dhcp_kind k);

/* Parse a client name. -EINVAL for an unknown one. */
int lj_dhcp_kind_parse(const char *s, enum lj_dhcp_kind *ret);

/*
 * Find an installed client: name NULL picks the first of udhcpc (busybox), dhclient, dhcpcd;
 * else that one. Only fixed system paths are considered (no $PATH search). Fills *ret_kind
 * and ret_path (size bytes). -ENOENT if none (or not the named one) is installed.
 */
int lj_dhcp_find_client(const char *name, enum lj_dhcp_kind *ret_kind, char *ret_path, size_t size);

/*
 * Find an installed DHCPv6 client: only dhcpcd (-6) is supported (busybox's udhcpc has no
 * DHCPv6; Debian's dhclient -6 needs a script of its own). name NULL or "dhcpcd". Fills as
 * lj_dhcp_find_client; -ENOENT if it is not installed, -EOPNOTSUPP for another name.
 */
int lj_dhcp6_find_client(const char *name, enum lj_dhcp_kind *ret_kind, char *ret_path,
			 size_t size);

/* What a client is started with. Strings are borrowed. */
struct lj_dhcp_start_opts {
	enum lj_dhcp_kind kind;
	const char *client_path; /* from lj_dhcp_find_client */
	const char *ifname;	 /* in the target */
	const char *hostname;	 /* DHCP host-name option; NULL or "" for none (validated) */
	int netns_fd;		 /* the target namespace (borrowed) */
	const char *watch; /* "pid:N", "path:/run/netns/NAME" or "" (see lj_dhcp_watch_spec) */
	struct lj_netns_id netns_id; /* identity the watched path must keep */
	const char *base;      /* path prefix of the client's files: BASE.sock, BASE.log, ... */
	bool no_default_route; /* the hook does not make the lease's router the default route */
	bool v6;	       /* stateful DHCPv6 (dhcpcd -6) instead of DHCPv4 */
	/* Hold the lease only: the hook never changes the link (the address is someone else's
	 * to set, e.g. Docker's from an IPAM driver) and ignores deconfig events; it reports
	 * a lease for an address the link does not hold as a failure. */
	bool hold;
	/* Wait (up to LJ_DHCP_WAIT_LINK_MS) for a link with this MAC to be up in the target
	 * and run the client on it, whatever its name then (ifname is only the name it had
	 * when it was made: an engine renames it as it moves it into its sandbox). */
	bool wait_link;
	uint8_t wait_mac[LJ_MAC_LEN];
};

/* How long a supervisor started with wait_link waits for its link, in ms. */
#define LJ_DHCP_WAIT_LINK_MS 60000

/* The lease a client got, as its hook reported it. */
struct lj_dhcp_lease {
	struct lj_cidr addr;
	struct lj_ip router; /* AF_UNSPEC if none */
	struct lj_ip dns[4]; /* reported only; never written anywhere */
	size_t n_dns;
	uint32_t lease_s; /* seconds, 0 if unknown */
};

/*
 * Start the supervisor and client. Creates the notification socket BASE.sock first (its fd in
 * *ret_notify_fd, owned by the caller), writes client files (BASE.conf) and the log BASE.log.
 * *ret_pid is the supervisor's PID and *ret_start its start time (clock ticks since boot, from
 * /proc/PID/stat) to recognise it later. Returns 0 or -errno (then nothing is left running
 * and the files are removed).
 */
int lj_dhcp_start(const struct lj_dhcp_start_opts *o, pid_t *ret_pid, uint64_t *ret_start,
		  int *ret_notify_fd);

/*
 * Wait up to timeout_ms for the client's first lease on notify_fd. pid is the supervisor
 * (if it exits, waiting stops). On success fills *ret. Errors: -ETIMEDOUT (no lease),
 * -ECHILD (the supervisor or client exited; why says what its log says), -EINTR (the front
 * end caught a signal: lj_interrupted()), -errno. why
 * (why_size bytes) gets a reason when there is one.
 */
int lj_dhcp_wait(int notify_fd, pid_t pid, int timeout_ms, struct lj_dhcp_lease *ret, char *why,
		 size_t why_size);

/*
 * Stop the supervisor pid if it is still the process that started at start (so a reused PID
 * is never signalled): SIGTERM (the client releases its lease), wait up to timeout_ms, then
 * SIGKILL. Returns 0 when it is gone (or was already), else -errno.
 */
int lj_dhcp_stop(pid_t pid, uint64_t start, int timeout_ms);

/*
 * The supervisor started for BASE, as it wrote itself into BASE.supervisor before its exec
 * (for an undo whose record lost the PID: attach was killed right after starting it).
 * -ENOENT if there is none (never started). Pass the result to lj_dhcp_stop.
 */
int lj_dhcp_supervisor_of(const char *base, pid_t *ret_pid, uint64_t *ret_start);

/*
 * If the client's log BASE.log says the client itself declined an offer because its address
 * answered an ARP probe (udhcpc -a, dhcpcd), the last such line, as a reason, into why (size
 * bytes), and true; else false and why untouched.
 */
bool lj_dhcp_log_declined(const char *base, char *why, size_t size);

/* The last non-empty line of the client's log BASE.log into why (size bytes), if any. */
void lj_dhcp_log_tail(const char *base, char *why, size_t size);

/* Remove BASE.* files the client used. Only acts on a base under the state directory. */
void lj_dhcp_remove_files(const char *base);

/*
 * The watch spec for a target: "pid:N" when it has a PID, "path:P" for a netns file path,
 * "" otherwise. Writes into buf (size bytes); returns buf.
 */
struct lj_target;
const char *lj_dhcp_watch_spec(const struct lj_target *t, char *buf, size_t size);

/*
 * The supervisor's work (hidden command `lanjoin dhcp-supervise`, whose main is the front
 * end's): with the target's netns in fd 3 and everything else in o, start the client and
 * watch it and the target (o->watch) until told to stop (SIGTERM, SIGINT, SIGHUP: the client
 * releases its lease) or the target is gone, then stop the client. Returns 0 when it stopped
 * so (why may say the target went), or -errno with why (why_size bytes) filled when there is
 * something to say: -ESRCH (the target was gone at start), -ECHILD (the client exited),
 * -EINVAL (a bad watch spec), other -errno.
 */
int lj_dhcp_supervise(const struct lj_dhcp_start_opts *o, char *why, size_t why_size);

/*
 * The hook acts on at most one lease event (bound, renew, rebind...) per this many ms of an
 * attachment: a client that renews faster (dhclient with a 1-second lease renews at once) is
 * held in its hook until the time has passed.
 */
#define LJ_DHCP_MIN_EVENT_INTERVAL_MS 2000

/*
 * The client hook (lanjoin started by the client with LANJOIN_DHCP_HOOK in its environment):
 * apply the event named by arg (udhcpc) or $reason (dhclient, dhcpcd) to the interface
 * LANJOIN_DHCP_IFNAME in the current network namespace and notify LANJOIN_DHCP_NOTIFY.
 * A lease is refused (never configured; -EINVAL or -EADDRINUSE, so that dhclient declines
 * it) if its address is one --ip refuses, one of the host's own, or answers an RFC 5227 ARP
 * probe from the link. Lease events are spaced by LJ_DHCP_MIN_EVENT_INTERVAL_MS.
 * Returns 0 or -errno with why filled.
 */
int lj_dhcp_hook(const char *arg, char *why, size_t why_size);

/* Look up variable name of a DHCP client's hook environment (NULL if unset). */
typedef const char *(*lj_dhcp_env_fn)(const char *name, void *data);

/*
 * The lease a client of kind k hands its hook, from the hook's environment (udhcpc's names
 * ip, mask/subnet, router, dns, lease; dhclient's and dhcpcd's new_* names), looked up through
 * get(name, data). Everything in it comes from a DHCP server, i.e. from the network: the
 * address must be a usable unicast IPv4 address with a prefix of 1-32 bits; a router that
 * does not parse is dropped, at most 4 DNS servers are kept. Returns 0, or -EINVAL with why
 * (size bytes) filled.
 */
int lj_dhcp_lease_from_env(enum lj_dhcp_kind k, lj_dhcp_env_fn get, void *data,
			   struct lj_dhcp_lease *ret, char *why, size_t size);

/*
 * The same for a DHCPv6 lease (dhcpcd's new_dhcp6_ia_na1_ia_addr1, _vltime and
 * new_dhcp6_name_servers): the address becomes a /128 (DHCPv6 carries no prefix; the on-link
 * prefix and the default route come from router advertisements) and must be a usable global
 * unicast address (not link-local, multicast, unspecified, loopback or v4-mapped). No router.
 */
int lj_dhcp6_lease_from_env(lj_dhcp_env_fn get, void *data, struct lj_dhcp_lease *ret, char *why,
			    size_t size);

/*
 * The hook's "bound" notification body ("addr=CIDR\nlease=S\n[router=IP\n][dns=IP\n]...") for
 * lease l into buf (size bytes, always NUL-terminated; cut at a line boundary if too small).
 * Returns the length written.
 */
size_t lj_dhcp_lease_msg_format(const struct lj_dhcp_lease *l, char *buf, size_t size);

/* Parse a notification body as written by lj_dhcp_lease_msg_format (msg is modified). Unknown
 * lines are ignored. -EBADMSG without a valid addr line. */
int lj_dhcp_lease_msg_parse(char *msg, struct lj_dhcp_lease *ret);

/* Normalise a name into a DHCP host name (letters, digits, '-', at most 63) in ret. False if
 * nothing is left. */
bool lj_dhcp_hostname(const char *name, char ret[64]);
