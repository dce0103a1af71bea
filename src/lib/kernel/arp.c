/* SPDX-License-Identifier: MIT */
#include "lib/kernel/arp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/kernel/netns.h"
#include "shared/macro.h"

/* A packet socket for ARP, opened in netns_fd (-1: here). The socket keeps its namespace. */
static int arp_socket(int netns_fd)
{
	int orig = -1, fd, r = 0;

	if (netns_fd >= 0) {
		r = lj_netns_enter(netns_fd, &orig);
		if (r < 0)
			return r;
	}
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0)
		r = lj_negerrno();
	if (orig >= 0)
		lj_netns_leave(orig);
	return fd >= 0 ? fd : r;
}

/*
 * The children send_close_off_path() started and nobody has waited for yet. A short-lived
 * lanjoin leaves them to init; a long-running one (watch, the Docker plugin) would collect
 * one zombie per announcement, so each new child reaps the ones that have exited, and
 * lj_arp_reap() lets such a process do it now and then. Waited for by PID only: the process's
 * other children are not touched.
 */
static pid_t children[16];
static size_t n_children;

void lj_arp_reap(void)
{
	size_t k = 0;

	for (size_t i = 0; i < n_children; i++)
		if (waitpid(children[i], NULL, WNOHANG) == 0)
			children[k++] = children[i]; /* still running */
	n_children = k;
}

static void remember_child(pid_t pid)
{
	lj_arp_reap();
	if (n_children == ARRAY_SIZE(children)) {
		/* the oldest one has had the longest to close its socket: wait for it */
		while (waitpid(children[0], NULL, 0) < 0 && errno == EINTR)
			;
		memmove(children, children + 1, (n_children - 1) * sizeof(children[0]));
		n_children--;
	}
	children[n_children++] = pid;
}

/*
 * Send pkt (if not NULL) to `to` through packet socket fd, then close fd, without waiting for
 * either. packet_release() ends in synchronize_net(), an RCU grace period (10-20 ms here, more
 * than the rest of an attach); and a broadcast on a bridge is delivered to every port inside
 * the sendto() call. A child does both: it sends, waits on a pipe until this process has
 * dropped its own reference to the socket, closes it and exits. It is not waited for (that
 * would cost a second fork to avoid a zombie): a short-lived lanjoin exits and init (or the
 * caller's subreaper) reaps the child; a long-running one reaps it later (remember_child).
 * Takes fd. If the fork fails, both happen here.
 * Returns 0, or the sendto error when it was sent here.
 */
static int send_close_off_path(int fd, const void *pkt, size_t len, const struct sockaddr_ll *to)
{
	int p[2], r = 0;
	pid_t pid = -1;

	if (pipe2(p, O_CLOEXEC) == 0) {
		pid = fork();
		if (pid < 0) {
			close(p[0]);
			close(p[1]);
		}
	}
	if (pid == 0) {
		int lo = fd < p[0] ? fd : p[0], hi = fd < p[0] ? p[0] : fd;
		char c;

		/* Keep nothing else open (the pipe's write end, the state lock) past the parent. */
		if (lo > 0)
			close_range(0, (unsigned)lo - 1, 0);
		if (hi > lo + 1)
			close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
		close_range((unsigned)hi + 1, ~0u, 0);
		if (pkt)
			(void)sendto(fd, pkt, len, 0, (const struct sockaddr *)to, sizeof(*to));
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		close(fd);
		_exit(0);
	}
	if (pid < 0 && pkt && sendto(fd, pkt, len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
		r = lj_negerrno();
	close(fd);
	if (pid > 0) {
		close(p[0]);
		close(p[1]);
		remember_child(pid);
	}
	return r;
}

int lj_arp_announce(int netns_fd, const char *ifname, const struct lj_ip *ip, const uint8_t *mac)
{
	_cleanup_close_ int fd = -1;
	struct ether_arp arp;
	struct sockaddr_ll sll;
	struct ifreq ifr;
	uint8_t hw[ETH_ALEN];

	if (ip->family != AF_INET)
		return -EAFNOSUPPORT;
	if (!ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	fd = arp_socket(netns_fd);
	if (fd < 0)
		return fd;

	/* Link lookups through the socket happen in the socket's namespace. */
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		return lj_negerrno();
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ARP);
	sll.sll_ifindex = ifr.ifr_ifindex;
	sll.sll_halen = ETH_ALEN;
	memset(sll.sll_addr, 0xff, ETH_ALEN);
	if (mac) {
		memcpy(hw, mac, ETH_ALEN);
	} else {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
			return lj_negerrno();
		if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
			return -EOPNOTSUPP;
		memcpy(hw, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	}

	memset(&arp, 0, sizeof(arp));
	arp.arp_hrd = htons(ARPHRD_ETHER);
	arp.arp_pro = htons(ETHERTYPE_IP);
	arp.arp_hln = ETH_ALEN;
	arp.arp_pln = 4;
	arp.arp_op = htons(ARPOP_REQUEST);
	memcpy(arp.arp_sha, hw, ETH_ALEN);
	memcpy(arp.arp_spa, &ip->v4, 4);
	memcpy(arp.arp_tpa, &ip->v4, 4);
	return send_close_off_path(TAKE_FD(fd), &arp, sizeof(arp), &sll);
}

/* An Ethernet/IPv4 ARP packet (RFC 826), as it is on the wire after the Ethernet header. */
struct arp_pkt {
	uint16_t htype, ptype;
	uint8_t hlen, plen;
	uint16_t op;
	uint8_t sha[ETH_ALEN];
	uint8_t spa[4];
	uint8_t tha[ETH_ALEN];
	uint8_t tpa[4];
} __attribute__((packed));

/* Open a socket inside netns_fd (or here if -1). Returns the fd or -errno. */
static int socket_in(int netns_fd, int domain, int type, int proto)
{
	int orig = -1, fd, r;

	if (netns_fd >= 0) {
		r = lj_netns_enter(netns_fd, &orig);
		if (r < 0)
			return r;
	}
	fd = socket(domain, type | SOCK_CLOEXEC, proto);
	r = fd < 0 ? lj_negerrno() : fd;
	if (netns_fd >= 0)
		lj_netns_leave(orig);
	return r;
}

/* The MAC and up-state of ifindex, through socket fd (which lives in its namespace). */
static int link_mac(int fd, int ifindex, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr = {.ifr_ifindex = ifindex};

	if (ioctl(fd, SIOCGIFNAME, &ifr) < 0)
		return lj_negerrno();
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return lj_negerrno();
	if (!(ifr.ifr_flags & IFF_UP))
		return -ENETDOWN;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return lj_negerrno();
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EAFNOSUPPORT;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

/* An ARP socket bound to ifindex (ARP frames only), with the link's MAC in mac. */
static int arp_socket_bound(int netns_fd, int ifindex, uint8_t mac[ETH_ALEN])
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = ifindex,
	};
	_cleanup_close_ int fd = -1;
	int r;

	fd = arp_socket(netns_fd);
	if (fd < 0)
		return fd;
	r = link_mac(fd, ifindex, mac);
	if (r < 0)
		return r;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return lj_negerrno();
	return TAKE_FD(fd);
}

static int arp_send(int fd, int ifindex, uint16_t op, const uint8_t sha[ETH_ALEN], const void *spa,
		    const void *tpa)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
		.sll_addr = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	};
	struct arp_pkt p = {
		.htype = htons(ARPHRD_ETHER),
		.ptype = htons(ETH_P_IP),
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = htons(op),
	};

	memcpy(p.sha, sha, ETH_ALEN);
	memcpy(p.spa, spa, 4);
	memcpy(p.tpa, tpa, 4);
	if (sendto(fd, &p, sizeof(p), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return lj_negerrno();
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Check one received frame for a conflict; fills ret_mac. */
static bool is_conflict(const struct arp_pkt *p, const struct sockaddr_ll *from,
			const uint8_t mac[ETH_ALEN], const struct in_addr *ip)
{
	static const uint8_t zero[4];

	if (from->sll_pkttype == PACKET_OUTGOING || p->htype != htons(ARPHRD_ETHER) ||
	    p->ptype != htons(ETH_P_IP) || p->hlen != ETH_ALEN || p->plen != 4)
		return false;
	if (memcmp(p->sha, mac, ETH_ALEN) == 0)
		return false;
	/* Someone uses ip (RFC 5227 §2.1.1: sender IP is ours)... */
	if (memcmp(p->spa, &ip->s_addr, 4) == 0)
		return true;
	/* ...or probes for it at the same time (sender 0, target ip, a request). */
	return p->op == htons(ARPOP_REQUEST) && memcmp(p->spa, zero, 4) == 0 &&
	       memcmp(p->tpa, &ip->s_addr, 4) == 0;
}

static int probe_on(int fd, int ifindex, const uint8_t mac[ETH_ALEN], const struct in_addr *ip,
		    unsigned probes, unsigned interval_ms, unsigned wait_ms,
		    uint8_t ret_mac[LJ_MAC_LEN])
{
	static const uint8_t zero[4];
	int64_t next_send, end;
	unsigned sent = 0;
	int r;

	if (probes == 0)
		probes = 1;
	next_send = now_ms();
	end = next_send + (int64_t)(probes - 1) * interval_ms + wait_ms;
	for (;;) {
		int64_t now = now_ms(), until;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		if (sent < probes && now >= next_send) {
			r = arp_send(fd, ifindex, ARPOP_REQUEST, mac, zero, &ip->s_addr);
			if (r < 0)
				return r;
			sent++;
			next_send += interval_ms;
			continue;
		}
		if (sent == probes && now >= end)
			return 0;
		until = sent < probes ? next_send : end;
		r = poll(&pfd, 1, (int)(until - now));
		if (r < 0 && errno != EINTR)
			return lj_negerrno();
		if (r <= 0)
			continue;
		for (;;) {
			struct sockaddr_ll from;
			socklen_t flen = sizeof(from);
			struct arp_pkt p;
			ssize_t n = recvfrom(fd, &p, sizeof(p), MSG_DONTWAIT,
					     (struct sockaddr *)&from, &flen);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return lj_negerrno();
			}
			if ((size_t)n < sizeof(p) || from.sll_ifindex != ifindex)
				continue;
			if (is_conflict(&p, &from, mac, ip)) {
				if (ret_mac)
					memcpy(ret_mac, p.sha, ETH_ALEN);
				return -EADDRINUSE;
			}
		}
	}
}

int lj_arp_probe(int netns_fd, int ifindex, const struct in_addr *ip, unsigned probes,
		 unsigned interval_ms, unsigned wait_ms, uint8_t ret_mac[LJ_MAC_LEN])
{
	uint8_t mac[ETH_ALEN];
	int fd, r;

	fd = arp_socket_bound(netns_fd, ifindex, mac);
	if (fd < 0)
		return fd;
	r = probe_on(fd, ifindex, mac, ip, probes, interval_ms, wait_ms, ret_mac);
	send_close_off_path(fd, NULL, 0, NULL);
	return r;
}

/* An unsolicited NA for ip from ifindex; from ip itself when bind_ip, else from an address the
 * kernel picks (the link's link-local). */
static int ndisc_announce(int netns_fd, int ifindex, const struct in6_addr *ip, bool bind_ip)
{
	struct {
		struct nd_neighbor_advert na;
		struct nd_opt_hdr opt;
		uint8_t mac[ETH_ALEN];
	} __attribute__((packed)) msg = {0};
	struct sockaddr_in6 src = {.sin6_family = AF_INET6, .sin6_addr = *ip};
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)ifindex};
	_cleanup_close_ int fd = -1;
	int hops = 255, r;

	fd = socket_in(netns_fd, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (fd < 0)
		return fd;
	r = link_mac(fd, ifindex, msg.mac);
	if (r < 0)
		return r;
	/* Neighbour discovery messages must arrive with hop limit 255 (RFC 4861 §7.1.2). */
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0)
		return lj_negerrno();
	if (IN6_IS_ADDR_LINKLOCAL(ip))
		src.sin6_scope_id = (uint32_t)ifindex;
	if (bind_ip && bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		return lj_negerrno();
	inet_pton(AF_INET6, "ff02::1", &dst.sin6_addr);
	msg.na.nd_na_type = ND_NEIGHBOR_ADVERT;
	msg.na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	msg.na.nd_na_target = *ip;
	msg.opt.nd_opt_type = ND_OPT_TARGET_LINKADDR;
	msg.opt.nd_opt_len = 1; /* in units of 8 bytes */
	/* The kernel fills in the ICMPv6 checksum of raw ICMPv6 sockets. */
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		return lj_negerrno();
	return 0;
}

int lj_ndisc_announce(int netns_fd, int ifindex, const struct in6_addr *ip)
{
	return ndisc_announce(netns_fd, ifindex, ip, true);
}

int lj_ndisc_announce_proxy(int netns_fd, int ifindex, const struct in6_addr *ip)
{
	return ndisc_announce(netns_fd, ifindex, ip, false);
}

/* The solicited-node multicast address of ip (RFC 4291 §2.7.1). */
static struct in6_addr solicited_node(const struct in6_addr *ip)
{
	struct in6_addr a;

	inet_pton(AF_INET6, "ff02::1:ff00:0", &a);
	memcpy(&a.s6_addr[13], &ip->s6_addr[13], 3);
	return a;
}

int lj_ndisc_probe(int netns_fd, int ifindex, const struct in6_addr *ip, unsigned probes,
		   unsigned interval_ms, unsigned wait_ms, uint8_t ret_mac[LJ_MAC_LEN])
{
	struct {
		struct nd_neighbor_solicit ns;
		struct nd_opt_hdr opt;
		uint8_t mac[ETH_ALEN];
	} __attribute__((packed)) msg = {0};
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)ifindex};
	struct ifreq ifr = {.ifr_ifindex = ifindex};
	struct icmp6_filter filter;
	_cleanup_close_ int fd = -1;
	int hops = 255, r;
	int64_t next_send, end;
	unsigned sent = 0;

	fd = socket_in(netns_fd, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (fd < 0)
		return fd;
	r = link_mac(fd, ifindex, msg.mac);
	if (r < 0)
		return r;
	if (ioctl(fd, SIOCGIFNAME, &ifr) < 0)
		return lj_negerrno();
	ICMP6_FILTER_SETBLOCKALL(&filter);
	ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &filter);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifr.ifr_name, strlen(ifr.ifr_name)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0)
		return lj_negerrno();
	dst.sin6_addr = solicited_node(ip);
	msg.ns.nd_ns_type = ND_NEIGHBOR_SOLICIT;
	msg.ns.nd_ns_target = *ip;
	msg.opt.nd_opt_type = ND_OPT_SOURCE_LINKADDR;
	msg.opt.nd_opt_len = 1;
	if (probes == 0)
		probes = 1;
	next_send = now_ms();
	end = next_send + (int64_t)(probes - 1) * interval_ms + wait_ms;
	for (;;) {
		int64_t now = now_ms(), until;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		if (sent < probes && now >= next_send) {
			/* From the link's link-local address (the kernel picks it): an ordinary
			 * solicitation, answered by the address's owner, if any. */
			if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&dst, sizeof(dst)) <
			    0)
				return lj_negerrno();
			sent++;
			next_send += interval_ms;
			continue;
		}
		if (sent == probes && now >= end)
			return 0;
		until = sent < probes ? next_send : end;
		r = poll(&pfd, 1, (int)(until - now));
		if (r < 0 && errno != EINTR)
			return lj_negerrno();
		if (r <= 0)
			continue;
		for (;;) {
			uint8_t buf[256];
			const struct nd_neighbor_advert *na = (const void *)buf;
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			size_t off = sizeof(*na);

			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return lj_negerrno();
			}
			if ((size_t)n < sizeof(*na) || na->nd_na_type != ND_NEIGHBOR_ADVERT ||
			    memcmp(&na->nd_na_target, ip, sizeof(*ip)) != 0)
				continue;
			if (ret_mac)
				memset(ret_mac, 0, LJ_MAC_LEN);
			/* The target link-layer address option, if any, names the holder. */
			while (ret_mac && off + 8 <= (size_t)n && buf[off + 1]) {
				if (buf[off] == ND_OPT_TARGET_LINKADDR) {
					memcpy(ret_mac, &buf[off + 2], ETH_ALEN);
					break;
				}
				off += (size_t)buf[off + 1] * 8;
			}
			return -EADDRINUSE;
		}
	}
}
