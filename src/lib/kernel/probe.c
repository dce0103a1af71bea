/* SPDX-License-Identifier: MIT */
#include "lib/kernel/probe.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/interrupt.h"
#include "lib/kernel/neigh-msg.h"
#include "shared/macro.h"

struct neigh_ctx {
	int ifindex;
	int found;
	uint16_t state;
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neigh_ctx *c = data;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return MNL_CB_OK;
	if (ndm->ndm_ifindex != c->ifindex)
		return MNL_CB_OK;
	c->found = 1;
	c->state = ndm->ndm_state;
	return MNL_CB_OK;
}

int lj_neigh_state(struct lj_nl *nl, int ifindex, const struct lj_ip *ip, uint16_t *ret)
{
	struct neigh_ctx c = {.ifindex = ifindex};
	int r;

	r = LJ_NL_SEND(nl, neigh_cb, &c, lj_neigh_msg, RTM_GETNEIGH, ifindex, ip);
	if (r < 0)
		return r;
	if (!c.found)
		return -ENOENT;
	*ret = c.state;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t inet_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int echo_send(int fd, int ifindex, const struct lj_ip *ip, uint16_t id, uint16_t seq)
{
	uint8_t pkt[16] = {0};
	struct sockaddr_storage ss = {0};
	socklen_t sl;

	if (ip->family == AF_INET) {
		struct icmphdr *h = (struct icmphdr *)pkt;
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		h->type = ICMP_ECHO;
		h->un.echo.id = htons(id);
		h->un.echo.sequence = htons(seq);
		h->checksum = inet_csum(pkt, sizeof(pkt));
		sin->sin_family = AF_INET;
		sin->sin_addr = ip->v4;
		sl = sizeof(*sin);
	} else {
		struct icmp6_hdr *h = (struct icmp6_hdr *)pkt;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		h->icmp6_type = ICMP6_ECHO_REQUEST;
		h->icmp6_id = htons(id);
		h->icmp6_seq = htons(seq);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = ip->v6;
		/* A link-local gateway (fe80::, from router advertisements) needs its link. */
		sin6->sin6_scope_id = (uint32_t)ifindex;
		sl = sizeof(*sin6);
	}
	if (sendto(fd, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0) {
		/* No neighbour yet, or a full queue: the next round tries again. */
		if (errno == EAGAIN || errno == EHOSTUNREACH || errno == ENETUNREACH ||
		    errno == ENOBUFS)
			return 0;
		return lj_negerrno();
	}
	return 0;
}

/* True if one datagram waiting on fd is an echo reply from ip with our id. */
static bool echo_recv(int fd, const struct lj_ip *ip, uint16_t id)
{
	uint8_t buf[512];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);

	if (n <= 0)
		return false;
	if (ip->family == AF_INET) {
		const struct iphdr *iph = (const struct iphdr *)buf;
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
		size_t hl;
		if ((size_t)n < sizeof(*iph) || ss.ss_family != AF_INET ||
		    sin->sin_addr.s_addr != ip->v4.s_addr)
			return false;
		hl = (size_t)iph->ihl * 4;
		if ((size_t)n < hl + sizeof(struct icmphdr))
			return false;
		const struct icmphdr *h = (const struct icmphdr *)(buf + hl);
		return h->type == ICMP_ECHOREPLY && ntohs(h->un.echo.id) == id;
	}
	const struct icmp6_hdr *h = (const struct icmp6_hdr *)buf;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	if ((size_t)n < sizeof(*h) || ss.ss_family != AF_INET6 ||
	    memcmp(&sin6->sin6_addr, &ip->v6, 16) != 0)
		return false;
	return h->icmp6_type == ICMP6_ECHO_REPLY && ntohs(h->icmp6_id) == id;
}

int lj_probe(struct lj_nl *nl, int ifindex, const char *ifname, const struct lj_ip *ip, bool onlink,
	     unsigned timeout_ms)
{
	_cleanup_close_ int fd = -1;
	int64_t deadline = now_ms() + timeout_ms, next_send = 0;
	uint16_t id = (uint16_t)(getpid() ^ (uintptr_t)&deadline), seq = 0;
	int r;

	if (ip->family == AF_INET)
		fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	else if (ip->family == AF_INET6)
		fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	else
		return -EAFNOSUPPORT;
	if (fd < 0)
		return lj_negerrno();
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0)
		return lj_negerrno();
	if (ip->family == AF_INET6) {
		struct icmp6_filter f;
		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}

	for (;;) {
		int64_t now = now_ms();
		/* the echo socket, and the front end's interrupt pipe (SIGINT/SIGTERM/SIGHUP) */
		struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN},
					{.fd = lj_interrupt_fd(), .events = POLLIN}};
		int wait;

		if (lj_interrupted())
			return -EINTR;
		if (onlink) {
			uint16_t state;
			if (lj_neigh_state(nl, ifindex, ip, &state) == 0 &&
			    (state & (NUD_REACHABLE | NUD_PERMANENT | NUD_NOARP)))
				return 0;
		}
		if (now >= deadline)
			return -ETIMEDOUT;
		if (now >= next_send) {
			r = echo_send(fd, ifindex, ip, id, ++seq);
			if (r < 0)
				return r;
			next_send = now + 200;
		}
		wait = (int)(deadline - now);
		if (wait > 20)
			wait = 20;
		if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, wait) > 0)
			while (pfd[0].revents & POLLIN) {
				if (echo_recv(fd, ip, id))
					return 0;
				if (poll(pfd, 1, 0) <= 0)
					break;
			}
	}
}
