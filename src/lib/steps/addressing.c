/* SPDX-License-Identifier: MIT */
/*
 * Plan steps for addressing inside the target: sysctl, ARP probe (conflict detection),
 * announcements (gratuitous ARP; IPv6: wait for DAD, then unsolicited NA), SLAAC and DHCP.
 * The waiting ones do their waiting in settle, after the plan is recorded and the state lock
 * is released.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/kernel/addr.h"
#include "lib/kernel/arp.h"
#include "lib/foreign/dhcp.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"
#include "lib/core/interrupt.h"
#include "lib/core/plan.h"
#include "lib/kernel/sysctl.h"
#include "lib/kernel/proc.h"
#include "lib/steps/rtnl.h"
#include "lib/core/status.h"
#include "shared/parse.h"
#include "lib/core/target.h"
#include "shared/macro.h"
#include "shared/shquote.h"

/* The shell prefix that runs a command in the target, for describe output. */
static const char *in_target(const struct lj_ctx *ctx, char *buf, size_t size)
{
	return lj_target_exec_prefix(ctx->tgt, buf, size);
}

/* --- sysctl: text = key (relative to /proc/sys), u32 = value; i64 = old value, created = read */

static int sysctl_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	char old[32], val[16];
	uint64_t n;
	int r;

	/* The value it overwrites matters only if the undo puts it back. */
	if (!s->skip_undo) {
		r = lj_sysctl_read_in(ctx->target_fd, s->text, old, sizeof(old));
		if (r < 0) {
			lj_ctx_detail(ctx, "cannot read %s in the target: %s", s->text,
				      strerror(-r));
			return r;
		}
		if (lj_parse_uint(old, 0, INT32_MAX, &n) == 0) {
			s->i64 = (int64_t)n;
			s->created = true;
		}
	}
	snprintf(val, sizeof(val), "%" PRIu32, s->u32);
	r = lj_sysctl_write_in(ctx->target_fd, s->text, val);
	/* accept_ra off where the link has no IPv6 (the kernel's off, an MTU below 1280): no
	 * such key, and no router advertisement to take. */
	if (r == -ENOENT && s->u32 == 0 && strlen(s->text) > 10 &&
	    strcmp(s->text + strlen(s->text) - 10, "/accept_ra") == 0)
		return 0;
	if (r < 0)
		lj_ctx_detail(ctx, "cannot write %s=%s in the target: %s", s->text, val,
			      strerror(-r));
	return r;
}

static int sysctl_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	char val[24];
	int r;

	if (!s->created)
		return 0;
	snprintf(val, sizeof(val), "%" PRId64, s->i64);
	r = lj_sysctl_write_in(ctx->target_fd, s->text, val);
	return r == -ENOENT ? 0 : r; /* the link (and its conf directory) is gone */
}

static void sysctl_print(const struct lj_ctx *ctx, const struct lj_step *s, const char *val,
			 FILE *f)
{
	char pre[LJ_SHQ_MAX + 32];

	fprintf(f, "%s ", in_target(ctx, pre, sizeof(pre)));
	lj_sysctl_describe_write(f, s->text, val);
	fputc('\n', f);
}

static void sysctl_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char val[16];

	snprintf(val, sizeof(val), "%" PRIu32, s->u32);
	sysctl_print(ctx, s, val, f);
}

static void sysctl_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char val[24];

	if (!s->created) {
		fprintf(f, "# %s stays: lanjoin did not read its old value\n",
			s->text ? s->text : "");
		return;
	}
	snprintf(val, sizeof(val), "%" PRId64, s->i64);
	sysctl_print(ctx, s, val, f);
}

/* The value written is still there (read once per target and status run). */
static int sysctl_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			 size_t size)
{
	char cur[32], val[16];
	int r;

	if (!s->text || !lj_status_where(v, s->where))
		return 0;
	r = lj_status_sysctl(lj_status_where(v, s->where), s->text, cur, sizeof(cur));
	if (r == -ENOENT)
		return 0; /* the link is gone: its own verify says so */
	if (r < 0)
		return r;
	snprintf(val, sizeof(val), "%" PRIu32, s->u32);
	if (strcmp(cur, val) == 0)
		return 0;
	snprintf(why, size, "sysctl %s is %s in the target, not %s", s->text, cur, val);
	return LJ_VERIFY_DRIFTED;
}

const struct lj_step_type lj_step_sysctl = {
	.id = "sysctl",
	.verify = sysctl_verify,
	.save_after = true, /* the old value */
	.apply = sysctl_apply,
	.undo = sysctl_undo,
	.describe = sysctl_describe,
	.describe_undo = sysctl_describe_undo,
};

static int wait_port_forwards(struct lj_ctx *ctx, const char *host_if, struct lj_link *ret);

/* --- arp-probe: cidr (IPv4) on link, before the address is added; nothing to undo;
 *     peer: the host end of link's veth, if it is one */

static int arp_probe_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	int ifindex = lj_ctx_ifindex(ctx, s->where, s->link);
	uint8_t mac[LJ_MAC_LEN];
	char ip[LJ_IP_STRLEN], m[LJ_MAC_STRLEN];
	int r;

	if (ifindex < 0)
		return ifindex;
	/* through a bridge port that does not forward yet, no answer would be seen */
	if (s->where == LJ_TARGET && s->peer[0]) {
		r = wait_port_forwards(ctx, s->peer, NULL);
		if (r < 0)
			return r;
	}
	/* From the container's new link, or (nat's LAN address) from the host's uplink. */
	r = lj_arp_probe(s->where == LJ_TARGET ? ctx->target_fd : -1, ifindex, &s->cidr.ip.v4,
			 LJ_ARP_PROBE_NUM, LJ_ARP_PROBE_INTERVAL_MS, LJ_ARP_PROBE_WAIT_MS, mac);
	if (r == -EADDRINUSE)
		lj_ctx_detail(ctx, "%s is already in use on the LAN by %s",
			      lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip)),
			      lj_mac_to_string(mac, m, sizeof(m)));
	else if (r < 0)
		lj_ctx_detail(ctx, "ARP probe from '%s': %s", s->link, strerror(-r));
	return r;
}

static void arp_probe_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char ip[LJ_IP_STRLEN], pre[LJ_SHQ_MAX + 32];

	fprintf(f, "%s%sbusybox arping -q -D -c %d -w 1 -I %s %s   # fail if anyone answers\n",
		s->where == LJ_TARGET ? in_target(ctx, pre, sizeof(pre)) : "",
		s->where == LJ_TARGET ? " " : "", LJ_ARP_PROBE_NUM, LJ_SHQ(s->link),
		lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip)));
}

const struct lj_step_type lj_step_arp_probe = {
	.id = "arp-probe",
	.apply = arp_probe_apply,
	.describe = arp_probe_describe,
};

/* --- waiting for IPv6 addresses (DAD) with RTM_NEWADDR notifications --------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long a bridge port may take to forward: STP's listening and learning states last the
 * bridge's forward delay each (at most 30 s), and a kernel before 6.8 reports a new link's
 * carrier to the bridge a moment after the link came up. A port of a bridge that is down is
 * not waited for. */
#define PORT_FORWARD_WAIT_MS 62000

/*
 * Wait until host_if, the host end of a container link's veth, forwards if it is a port of a
 * Linux bridge (at once otherwise): a probe or an announcement sent before would never reach
 * the LAN. *ret (may be NULL): its last lookup. 0, -ETIMEDOUT (ctx's detail says why),
 * -EINTR (interrupted) or -errno.
 */
static int wait_port_forwards(struct lj_ctx *ctx, const char *host_if, struct lj_link *ret)
{
	int64_t end = now_ms() + PORT_FORWARD_WAIT_MS;
	struct lj_link l;
	int r;

	for (;;) {
		struct pollfd p = {.fd = lj_interrupt_fd(), .events = POLLIN};

		r = lj_link_get(ctx->host, host_if, &l);
		if (r < 0)
			return lj_ctx_nl_error(ctx, ctx->host, r);
		if (strcmp(l.slave_kind, "bridge") != 0 || lj_link_port_forwards(&l))
			break;
		/* disabled: a carrier the kernel has not reported yet (Linux before 6.8), or a
		 * bridge (or host end) that is down, which nothing here will change: sent as
		 * before, into a port that drops it */
		if (lj_link_port_disabled(&l)) {
			struct lj_link br;

			if (!(l.flags & IFF_UP) ||
			    (lj_link_get_by_index(ctx->host, l.master, &br) == 0 &&
			     !(br.flags & IFF_UP)))
				break;
		}
		if (now_ms() >= end) {
			lj_ctx_detail(ctx,
				      "port '%s' of its bridge did not forward within %d s (STP "
				      "blocks it?): nothing sent from it would reach the LAN",
				      host_if, PORT_FORWARD_WAIT_MS / 1000);
			return -ETIMEDOUT;
		}
		/* 20 ms, or until a signal interrupts the attach */
		if (poll(&p, p.fd >= 0 ? 1 : 0, 20) > 0 && lj_interrupted())
			return -EINTR;
	}
	if (ret)
		*ret = l;
	return 0;
}

static int wake_cb(const struct nlmsghdr *nlh, void *data)
{
	return MNL_CB_OK;
}

/* A usable SLAAC address: global, learned (not permanent), not a privacy address. */
static bool is_slaac(const struct lj_addr_info *a)
{
	return a->scope == RT_SCOPE_UNIVERSE && !(a->flags & (IFA_F_PERMANENT | IFA_F_TEMPORARY)) &&
	       !IN6_IS_ADDR_LINKLOCAL(&a->cidr.ip.v6);
}

/*
 * Wait until want (or, if want is NULL, a SLAAC address) on ifindex in the target is no
 * longer tentative. Returns 0 with *ret, -EADDRINUSE if DAD failed, -ETIMEDOUT, -errno.
 */
static int wait_ipv6(struct lj_ctx *ctx, int ifindex, const struct lj_cidr *want, int timeout_ms,
		     struct lj_cidr *ret)
{
	struct lj_nl *nl = NULL;
	int64_t end = now_ms() + timeout_ms;
	bool seen = false;
	int r;

	/* Subscribe first, then look: no change can fall in between. */
	r = lj_nl_open_groups(ctx->target_fd, RTMGRP_IPV6_IFADDR, &nl);
	if (r < 0)
		return r;
	for (;;) {
		struct lj_addr_info *v = NULL;
		size_t n = 0;
		int64_t left;

		r = lj_addr_dump(nl, AF_INET6, ifindex, &v, &n);
		if (r < 0)
			break;
		r = 1;
		for (size_t i = 0; i < n && r == 1; i++) {
			const struct lj_addr_info *a = &v[i];
			if (want ? !lj_ip_equal(&a->cidr.ip, &want->ip) : !is_slaac(a))
				continue;
			seen = true;
			if (a->flags & IFA_F_DADFAILED)
				r = want ? -EADDRINUSE
					 : 1; /* the kernel drops a failed SLAAC address */
			else if (!(a->flags & IFA_F_TENTATIVE)) {
				*ret = a->cidr;
				r = 0;
			}
		}
		free(v);
		if (r <= 0)
			break;
		if (want && !seen) {
			r = -EADDRNOTAVAIL; /* removed while we waited */
			break;
		}
		left = end - now_ms();
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		r = lj_nl_wait(nl, (int)left, wake_cb, NULL);
		if (r < 0 && r != -ENOBUFS)
			break;
	}
	lj_nl_close(nl);
	return r;
}

/* --- arp-notify: link in the target; from then on the kernel announces (gratuitous ARP) each
 *     IPv4 address of the link when the link comes up or its MAC is set. Nothing to undo: the
 *     link goes with its way's undo. */

static int arp_notify_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	struct lj_nl *nl = lj_ctx_nl(ctx, s->where);

	return lj_ctx_nl_error(ctx, nl, lj_link_set_arp_notify(nl, s->link, true));
}

static void arp_notify_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char pre[LJ_SHQ_MAX + 32], key[64];

	snprintf(key, sizeof(key), "net/ipv4/conf/%s/arp_notify", s->link);
	fprintf(f, "%s ", in_target(ctx, pre, sizeof(pre)));
	lj_sysctl_describe_write(f, key, "1");
	fputc('\n', f);
}

const struct lj_step_type lj_step_arp_notify = {
	.id = "arp-notify",
	.apply = arp_notify_apply,
	.describe = arp_notify_describe,
};

/* --- announce: cidr on link. IPv4: gratuitous ARP at once, or by the kernel
 *     (LJ_STEP_F_KERNEL_ANNOUNCE; peer: the host end of the link's veth). IPv6: after DAD
 *     (settle), an unsolicited NA; u32 = DAD timeout in seconds; mac (has_mac): the link's */

/*
 * An announcement as the link comes up would not reliably get past a bridge: the bridge
 * enables the port of the veth's host end only once it sees the port's carrier, which the
 * kernel reports from a work item run after the request that brought the link up (linkwatch;
 * Linux 6.18: 2 of 8 such announcements were lost here). So through a veth arp_notify is set
 * only after the link came up (ways/addressing.c), and this is the one announcement, each
 * copied to every port of the bridge. An RTM_GETLINK of the host end runs that pending work
 * for it at once (rtnl_getlink syncs linkwatch since Linux 6.8): the port forwards. Then
 * setting the link's MAC to the one it has is a hardware address change to the kernel, which
 * announces every IPv4 address of the link. No packet socket, whose close waits for an RCU
 * grace period. A bridge port that does not forward yet (an older kernel, STP) is waited for
 * (wait_port_forwards).
 */
static int kernel_announce_again(struct lj_ctx *ctx, const struct lj_step *s)
{
	struct lj_link host;
	uint8_t mac[LJ_MAC_LEN];
	int r;

	r = wait_port_forwards(ctx, s->peer, &host);
	if (r < 0)
		return r;
	if (s->has_mac) {
		memcpy(mac, s->mac, LJ_MAC_LEN);
	} else {
		/* as the lookup of its ifindex saw it (the address step's): the record's MAC */
		r = lj_ctx_mac(ctx, LJ_TARGET, s->link, mac);
		if (r == -ENODATA)
			return -EOPNOTSUPP;
		if (r < 0)
			return lj_ctx_nl_error(ctx, ctx->target, r);
	}
	return lj_ctx_nl_error(ctx, ctx->target, lj_link_set_mac(ctx->target, s->link, mac));
}

static int announce_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	char ip[LJ_IP_STRLEN];
	int r;

	if (s->cidr.ip.family != AF_INET)
		return 0;
	if (s->flags & LJ_STEP_F_KERNEL_ANNOUNCE)
		r = s->peer[0] ? kernel_announce_again(ctx, s) : 0;
	else
		r = lj_arp_announce(ctx->target_fd, s->link, &s->cidr.ip, NULL);
	if (r < 0)
		lj_ctx_detail(ctx, "gratuitous ARP for %s: %s",
			      lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip)), strerror(-r));
	return r;
}

static int announce_settle(struct lj_ctx *ctx, struct lj_step *s, json_t *info)
{
	char ip[LJ_IP_STRLEN];
	struct lj_cidr got;
	int ifindex, r;

	if (s->cidr.ip.family != AF_INET6)
		return 0;
	lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip));
	ifindex = lj_ctx_ifindex(ctx, LJ_TARGET, s->link);
	if (ifindex < 0)
		return ifindex;
	r = wait_ipv6(ctx, ifindex, &s->cidr, (int)(s->u32 ? s->u32 : 10) * 1000, &got);
	if (r == -EADDRINUSE) {
		lj_ctx_detail(ctx,
			      "duplicate address detection failed: %s is already in use on "
			      "the LAN",
			      ip);
		return r;
	}
	if (r < 0) {
		lj_ctx_detail(ctx, "%s did not become usable (duplicate address detection): %s", ip,
			      strerror(-r));
		return r;
	}
	r = lj_ndisc_announce(ctx->target_fd, ifindex, &s->cidr.ip.v6);
	if (r < 0)
		lj_ctx_detail(ctx, "unsolicited neighbour advertisement for %s: %s", ip,
			      strerror(-r));
	return r;
}

/* Only IPv6 waits (for DAD); an IPv4 announcement is done in apply. */
static bool announce_settles(const struct lj_step *s)
{
	return s->cidr.ip.family == AF_INET6;
}

static void announce_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char ip[LJ_IP_STRLEN], pre[LJ_SHQ_MAX + 32];

	lj_ip_to_string(&s->cidr.ip, ip, sizeof(ip));
	if (s->cidr.ip.family == AF_INET)
		fprintf(f, "%s busybox arping -q -U -c 1 -I %s %s   # gratuitous ARP%s\n",
			in_target(ctx, pre, sizeof(pre)), LJ_SHQ(s->link), ip,
			s->flags & LJ_STEP_F_KERNEL_ANNOUNCE
				? " (lanjoin has the kernel send it: arp_notify)"
				: "");
	else
		fprintf(f,
			"# wait until %s is no longer tentative (DAD), then send an "
			"unsolicited neighbour advertisement\n",
			ip);
}

/* Again, later (watch: the carrier came back): the address is past DAD by now. */
static int announce_again(struct lj_ctx *ctx, const struct lj_step *s)
{
	int ifindex;

	if (s->cidr.ip.family == AF_INET)
		return lj_arp_announce(ctx->target_fd, s->link, &s->cidr.ip, NULL);
	ifindex = lj_ctx_ifindex(ctx, LJ_TARGET, s->link);
	if (ifindex < 0)
		return ifindex;
	return lj_ndisc_announce(ctx->target_fd, ifindex, &s->cidr.ip.v6);
}

const struct lj_step_type lj_step_announce = {
	.id = "announce",
	.apply = announce_apply,
	.describe = announce_describe,
	.settle = announce_settle,
	.settles = announce_settles,
	.announce = announce_again,
};

/* --- slaac: wait (settle) for an address from router advertisements on link; u32 = timeout s */

static int slaac_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	return 0;
}

static void add_address(json_t *info, const char *addr)
{
	json_t *a = json_object_get(info, "addresses");

	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(info, "addresses", a);
	}
	json_array_append_new(a, json_string(addr));
}

static int slaac_settle(struct lj_ctx *ctx, struct lj_step *s, json_t *info)
{
	unsigned timeout = s->u32 ? s->u32 : 10;
	char buf[LJ_CIDR_STRLEN];
	struct lj_cidr got;
	int ifindex, r;

	ifindex = lj_ctx_ifindex(ctx, LJ_TARGET, s->link);
	if (ifindex < 0)
		return ifindex;
	r = wait_ipv6(ctx, ifindex, NULL, (int)timeout * 1000, &got);
	if (r == -ETIMEDOUT) {
		lj_ctx_detail(ctx, "no router advertisement gave '%s' an address within %u s",
			      s->link, timeout);
		return r;
	}
	if (r < 0) {
		lj_ctx_detail(ctx, "waiting for a SLAAC address on '%s': %s", s->link,
			      strerror(-r));
		return r;
	}
	lj_cidr_to_string(&got, buf, sizeof(buf));
	add_address(info, buf);
	json_object_set_new(info, "slaac", json_string(buf));
	/* Best effort: the kernel has already announced itself through DAD. */
	lj_ndisc_announce(ctx->target_fd, ifindex, &got.ip.v6);
	return 0;
}

static void slaac_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f, "# wait for an IPv6 address from router advertisements on %s (past DAD)\n",
		LJ_SHQ(s->link));
}

const struct lj_step_type lj_step_slaac = {
	.id = "slaac",
	.apply = slaac_apply,
	.describe = slaac_describe,
	.settle = slaac_settle,
};

/* --- dhcp: link = ifname in the target; u32 = lease timeout in seconds; i64 = supervisor PID;
 *     text = "BASE\tCLIENT\tCLIENT_PATH\tHOSTNAME\tWATCH\tSTART" (START once started) */

#define DHCP_FIELDS 6

/* The notification sockets of the clients this process started (DHCPv4 and DHCPv6 of one
 * attach), until settle is done. */
static struct {
	int64_t pid;
	int fd;
} pending[4] = {{0, -1}, {0, -1}, {0, -1}, {0, -1}};

static void pending_close(int64_t pid)
{
	for (size_t i = 0; i < ARRAY_SIZE(pending); i++)
		if (pending[i].fd >= 0 && pending[i].pid == pid) {
			close(pending[i].fd);
			pending[i].fd = -1;
			pending[i].pid = 0;
		}
}

/* The notification fd of supervisor pid, or -1. */
static int pending_fd(int64_t pid)
{
	for (size_t i = 0; i < ARRAY_SIZE(pending); i++)
		if (pending[i].fd >= 0 && pending[i].pid == pid)
			return pending[i].fd;
	return -1;
}

static void pending_add(int64_t pid, int fd)
{
	size_t i;

	pending_close(pid);
	for (i = 0; i < ARRAY_SIZE(pending) && pending[i].fd >= 0; i++)
		;
	if (i == ARRAY_SIZE(pending)) {
		/* Full (never with one attach at a time): the oldest goes. */
		i = 0;
		close(pending[0].fd);
	}
	pending[i].pid = pid;
	pending[i].fd = fd;
}

/* Split a copy of s->text into fields (pointers into buf). */
static int dhcp_fields(const struct lj_step *s, char *buf, size_t size, char *f[DHCP_FIELDS])
{
	char *p;
	size_t n = 0;

	if (!s->text || strlen(s->text) >= size)
		return -EBADMSG;
	snprintf(buf, size, "%s", s->text);
	for (p = buf; n < DHCP_FIELDS; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n + 1 < DHCP_FIELDS - 1)
		return -EBADMSG;
	for (n++; n < DHCP_FIELDS; n++)
		f[n] = (char *)"";
	return 0;
}

static int dhcp_apply(struct lj_ctx *ctx, struct lj_step *s)
{
	char buf[PATH_MAX * 3], *f[DHCP_FIELDS], *text;
	struct lj_dhcp_start_opts o = {0};
	uint64_t start;
	pid_t pid;
	int notify, r;

	if (dhcp_fields(s, buf, sizeof(buf), f) < 0 || lj_dhcp_kind_parse(f[1], &o.kind) < 0)
		return -EINVAL;
	o.base = f[0];
	o.client_path = f[2];
	o.hostname = f[3];
	o.watch = f[4];
	o.no_default_route = s->flags & LJ_STEP_F_NO_DEFAULT;
	o.v6 = s->type == &lj_step_dhcp6;
	o.ifname = s->link;
	o.netns_fd = ctx->target_fd;
	if (ctx->tgt)
		o.netns_id = ctx->tgt->id;
	r = lj_dhcp_start(&o, &pid, &start, &notify);
	if (r < 0) {
		lj_ctx_detail(ctx, "cannot start %s: %s", f[1], strerror(-r));
		return r;
	}
	if (asprintf(&text, "%s\t%s\t%s\t%s\t%s\t%" PRIu64, f[0], f[1], f[2], f[3], f[4], start) <
	    0) {
		close(notify);
		lj_dhcp_stop(pid, start, 3000);
		lj_dhcp_remove_files(o.base);
		return -ENOMEM;
	}
	free(s->text);
	s->text = text;
	s->i64 = pid;
	pending_add(pid, notify);
	return 0;
}

static int dhcp_undo(struct lj_ctx *ctx, const struct lj_step *s)
{
	char buf[PATH_MAX * 3], *f[DHCP_FIELDS];
	uint64_t start = 0;
	int r;

	pending_close(s->i64);
	if (dhcp_fields(s, buf, sizeof(buf), f) < 0)
		return -EBADMSG;
	if (s->i64 <= 0 || s->i64 > INT_MAX) {
		/* Not recorded: never started, or attach was killed right after starting it. */
		pid_t pid;

		if (lj_dhcp_supervisor_of(f[0], &pid, &start) < 0) {
			lj_dhcp_remove_files(f[0]);
			return 0;
		}
		r = lj_dhcp_stop(pid, start, 3000);
		if (r < 0) {
			lj_ctx_detail(ctx, "cannot stop the DHCP client (supervisor PID %d): %s",
				      (int)pid, strerror(-r));
			return r;
		}
		lj_dhcp_remove_files(f[0]);
		return 0;
	}
	if (*f[5] && sscanf(f[5], "%" SCNu64, &start) != 1)
		return -EBADMSG;
	r = lj_dhcp_stop((pid_t)s->i64, start, 3000);
	if (r < 0) {
		lj_ctx_detail(ctx, "cannot stop the DHCP client (supervisor PID %" PRId64 "): %s",
			      s->i64, strerror(-r));
		return r;
	}
	lj_dhcp_remove_files(f[0]);
	return 0;
}

static int dhcp_settle(struct lj_ctx *ctx, struct lj_step *s, json_t *info)
{
	char buf[PATH_MAX * 3], *f[DHCP_FIELDS], why[256] = "", a[LJ_CIDR_STRLEN];
	struct lj_dhcp_lease l;
	json_t *d, *dns;
	unsigned timeout = s->u32 ? s->u32 : 10;
	bool v6 = s->type == &lj_step_dhcp6;
	int r;

	if (dhcp_fields(s, buf, sizeof(buf), f) < 0)
		return -EINVAL;
	if (pending_fd(s->i64) < 0)
		return -EBADF;
	r = lj_dhcp_wait(pending_fd(s->i64), (pid_t)s->i64, (int)timeout * 1000, &l, why,
			 sizeof(why));
	pending_close(s->i64);
	if (r == -ETIMEDOUT) {
		/* Nothing from the hook: udhcpc and dhcpcd decline conflicts without running it. */
		if (strncmp(why, "no DHCP server", 14) == 0)
			lj_dhcp_log_declined(f[0], why, sizeof(why));
		lj_ctx_detail(ctx, "no DHCP%s lease for '%s' within %u s%s%s", v6 ? "v6" : "",
			      s->link, timeout, why[0] ? ": " : "", why);
		return r;
	}
	if (r < 0) {
		lj_dhcp_log_tail(f[0], why, sizeof(why));
		if (!why[0])
			snprintf(why, sizeof(why), "it exited");
		lj_ctx_detail(ctx, "the DHCP client %s stopped: %s", f[1], why);
		return r;
	}
	lj_cidr_to_string(&l.addr, a, sizeof(a));
	add_address(info, a);
	d = json_object();
	json_object_set_new(d, "client", json_string(f[1]));
	json_object_set_new(d, "pid", json_integer(s->i64));
	json_object_set_new(d, "address", json_string(a));
	if (l.router.family == AF_INET) {
		lj_ip_to_string(&l.router, a, sizeof(a));
		json_object_set_new(d, "router", json_string(a));
		json_object_set_new(info, "gateway", json_string(a));
	}
	dns = json_array();
	for (size_t i = 0; i < l.n_dns; i++)
		json_array_append_new(dns, json_string(lj_ip_to_string(&l.dns[i], a, sizeof(a))));
	json_object_set_new(d, "dns", dns);
	json_object_set_new(d, "lease_seconds", json_integer(l.lease_s));
	if (f[3][0])
		json_object_set_new(d, "hostname", json_string(f[3]));
	json_object_set_new(info, v6 ? "dhcp6" : "dhcp", d);
	return 0;
}

static void dhcp_describe(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	char buf[PATH_MAX * 3], *fl[DHCP_FIELDS];

	if (dhcp_fields(s, buf, sizeof(buf), fl) < 0)
		return;
	fprintf(f,
		"# run %s%s on %s in the target, supervised by lanjoin, with lanjoin as its "
		"script; wait up to %u s for the lease\n",
		fl[1], s->type == &lj_step_dhcp6 ? " -6" : "", LJ_SHQ(s->link),
		s->u32 ? s->u32 : 10);
}

static void dhcp_describe_undo(const struct lj_ctx *ctx, const struct lj_step *s, FILE *f)
{
	fprintf(f,
		"kill %" PRId64 "   # lanjoin's DHCP supervisor: stops the client, which "
		"releases the lease\n",
		s->i64);
}

/* The address of the lease the record keeps (info.dhcp.address) is still on the link. */
static int dhcp_lease_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
			     size_t size)
{
	const char *a = json_string_value(
		json_object_get(json_object_get(v->rec->info, "dhcp"), "address"));
	const struct lj_link *l;
	struct lj_cidr c;

	if (!a || !v->target || lj_parse_cidr(a, true, &c) < 0)
		return 0; /* no lease recorded (yet) */
	l = lj_status_need_link(v, LJ_TARGET, s->link, false, why, size);
	if (!l)
		return LJ_VERIFY_DRIFTED;
	if (lj_status_has_addr(v->target, l->ifindex, &c))
		return 0;
	snprintf(why, size, "the DHCP lease's address %s is missing on %s in the target", a,
		 s->link);
	return LJ_VERIFY_DRIFTED;
}

/* The DHCP supervisor started for the link still runs (its recorded PID and start time), and
 * the leased address is on the link. */
static int dhcp_verify(const struct lj_status_view *v, const struct lj_step *s, char *why,
		       size_t size)
{
	char buf[PATH_MAX * 3], *f[DHCP_FIELDS];
	uint64_t start = 0;

	(void)v;
	if (dhcp_fields(s, buf, sizeof(buf), f) < 0 || s->i64 <= 0 || s->i64 > INT_MAX ||
	    (*f[5] && sscanf(f[5], "%" SCNu64, &start) != 1))
		return -EBADMSG;
	if (!lj_proc_alive((pid_t)s->i64, start)) {
		snprintf(why, size, "the DHCP supervisor of %s (PID %" PRId64 ") is not running",
			 s->link, s->i64);
		return LJ_VERIFY_DRIFTED;
	}
	return dhcp_lease_verify(v, s, why, size);
}

const struct lj_step_type lj_step_dhcp = {
	.id = "dhcp",
	.verify = dhcp_verify,
	.save_after = true, /* the supervisor's PID and start time */
	.apply = dhcp_apply,
	.undo = dhcp_undo,
	.describe = dhcp_describe,
	.describe_undo = dhcp_describe_undo,
	.settle = dhcp_settle,
};

/* --- dhcp6: as dhcp, for stateful DHCPv6 (dhcpcd -6; BASE ends in "-6") */
const struct lj_step_type lj_step_dhcp6 = {
	.id = "dhcp6",
	.verify = dhcp_verify,
	.save_after = true,
	.apply = dhcp_apply,
	.undo = dhcp_undo,
	.describe = dhcp_describe,
	.describe_undo = dhcp_describe_undo,
	.settle = dhcp_settle,
};
