/* SPDX-License-Identifier: MIT */
#include "lib/arp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/netns.h"
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
 * Close a packet socket without waiting for it. packet_release() ends in synchronize_net(),
 * an RCU grace period (10-20 ms here, more than the rest of an attach). A grandchild holds
 * the last reference and pays for it: it waits on a pipe until this process and the child
 * have dropped theirs, then closes the socket and exits (init reaps it). If a fork fails,
 * the close is simply synchronous.
 */
static void close_off_path(int fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		close(fd);
		return;
	}
	pid = fork();
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0) {
			int lo = fd < p[0] ? fd : p[0], hi = fd < p[0] ? p[0] : fd;
			char c;

			/* Keep nothing else open (pipes, the state lock) past the parent. */
			if (lo > 0)
				close_range(0, (unsigned)lo - 1, 0);
			if (hi > lo + 1)
				close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
			close_range((unsigned)hi + 1, ~0u, 0);
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
			close(fd);
			_exit(0);
		}
		close(fd);
		close(p[1]);
		_exit(0);
	}
	close(p[0]);
	close(fd);
	close(p[1]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

int lj_arp_announce(int netns_fd, const char *ifname, const struct lj_ip *ip, const uint8_t *mac)
{
	_cleanup_close_ int fd = -1;
	struct ether_arp arp;
	int r = 0;
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
	if (sendto(fd, &arp, sizeof(arp), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		r = lj_negerrno();
	close_off_path(TAKE_FD(fd));
	return r;
}
