/* SPDX-License-Identifier: MIT */
/*
 * lj-bench-arp: when does an address answer on the LAN again? (bench/watch.sh)
 *
 *   lj-bench-arp IFACE IP MAC [INTERVAL_US]
 *
 * Sends an ARP request for IP every INTERVAL_US microseconds (default 1000) out of IFACE,
 * unicast to MAC (RFC 1122's unicast poll: only the container's macvlan receives it). For each
 * reply that follows at least three requests without one, it prints "RESUMED SILENT UNANSWERED
 * MAC": when the reply came and when the first unanswered request was sent (CLOCK_REALTIME
 * seconds, the clock of the engine's event timestamps), and how many requests went unanswered.
 * Counting requests, not time, keeps a probe that was not scheduled for a while (a loaded
 * machine) from seeing an outage. Runs until killed. Bench-only, not installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t ns_of(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ether_arp req = {0}, rep;
	struct sockaddr_ll to = {0};
	struct in_addr target, own;
	struct ifreq ifr = {0};
	uint8_t dst[6];
	long interval_us = 1000;
	int64_t next_send, silent_since = 0;
	long unanswered = 0;
	int fd;

	if (argc < 4 || argc > 5 || strlen(argv[1]) >= IFNAMSIZ ||
	    inet_pton(AF_INET, argv[2], &target) != 1 || parse_mac(argv[3], dst) < 0 ||
	    (argc == 5 && (interval_us = strtol(argv[4], NULL, 10)) < 100)) {
		fprintf(stderr, "usage: lj-bench-arp IFACE IPV4 MAC [INTERVAL_US >= 100]\n");
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0) {
		perror("lj-bench-arp: socket");
		return 1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		perror("lj-bench-arp: SIOCGIFINDEX");
		return 1;
	}
	to.sll_family = AF_PACKET;
	to.sll_protocol = htons(ETH_P_ARP);
	to.sll_ifindex = ifr.ifr_ifindex;
	to.sll_halen = 6;
	memcpy(to.sll_addr, dst, 6);
	if (bind(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("lj-bench-arp: bind/SIOCGIFHWADDR");
		return 1;
	}
	memcpy(req.arp_sha, ifr.ifr_hwaddr.sa_data, 6);
	ifr.ifr_addr.sa_family = AF_INET;
	if (ioctl(fd, SIOCGIFADDR, &ifr) < 0) {
		perror("lj-bench-arp: SIOCGIFADDR");
		return 1;
	}
	own = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	req.arp_hrd = htons(ARPHRD_ETHER);
	req.arp_pro = htons(ETH_P_IP);
	req.arp_hln = 6;
	req.arp_pln = 4;
	req.arp_op = htons(ARPOP_REQUEST);
	memcpy(req.arp_spa, &own, 4);
	memcpy(req.arp_tpa, &target, 4);
	setvbuf(stdout, NULL, _IOLBF, 0);

	next_send = ns_of(CLOCK_MONOTONIC);
	for (;;) {
		int64_t now = ns_of(CLOCK_MONOTONIC);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int wait_ms;
		ssize_t n;

		if (now >= next_send) {
			if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to)) <
				    0 &&
			    errno != ENOBUFS && errno != ENETDOWN) {
				perror("lj-bench-arp: sendto");
				return 1;
			}
			if (unanswered++ == 0)
				silent_since = ns_of(CLOCK_REALTIME);
			next_send = now + interval_us * 1000;
		}
		wait_ms = (int)((next_send - now + 999999) / 1000000);
		if (poll(&p, 1, wait_ms) <= 0)
			continue;
		n = recv(fd, &rep, sizeof(rep), 0);
		if (n < (ssize_t)sizeof(rep) || rep.arp_op != htons(ARPOP_REPLY) ||
		    memcmp(rep.arp_spa, &target, 4) != 0)
			continue;
		now = ns_of(CLOCK_REALTIME);
		if (unanswered >= 3)
			printf("%lld.%09lld %lld.%09lld %ld %02x:%02x:%02x:%02x:%02x:%02x\n",
			       (long long)(now / 1000000000), (long long)(now % 1000000000),
			       (long long)(silent_since / 1000000000),
			       (long long)(silent_since % 1000000000), unanswered, rep.arp_sha[0],
			       rep.arp_sha[1], rep.arp_sha[2], rep.arp_sha[3], rep.arp_sha[4],
			       rep.arp_sha[5]);
		unanswered = 0;
	}
}
