/* SPDX-License-Identifier: MIT */
#include "shared/parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

size_t lj_ip_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int lj_parse_ip(const char *s, struct lj_ip *ret)
{
	struct lj_ip ip = {0};

	if (!s || !*s || strlen(s) >= INET6_ADDRSTRLEN)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &ip.v4) == 1)
		ip.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &ip.v6) == 1)
		ip.family = AF_INET6;
	else
		return -EINVAL;
	*ret = ip;
	return 0;
}

int lj_parse_cidr(const char *s, bool require_prefix, struct lj_cidr *ret)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct lj_cidr c = {0};
	uint64_t len;
	char *slash;
	int r;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	else if (require_prefix)
		return -EINVAL;
	r = lj_parse_ip(buf, &c.ip);
	if (r < 0)
		return r;
	if (slash) {
		r = lj_parse_uint(slash + 1, 0, c.ip.family == AF_INET ? 32 : 128, &len);
		if (r < 0)
			return r;
		c.prefixlen = (uint8_t)len;
	} else {
		c.prefixlen = c.ip.family == AF_INET ? 32 : 128;
	}
	*ret = c;
	return 0;
}

int lj_parse_route(const char *s, struct lj_route_spec *ret)
{
	char buf[2 * INET6_ADDRSTRLEN + 8];
	struct lj_route_spec rs = {0};
	char *at;
	int r;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		r = lj_parse_ip(at + 1, &rs.via);
		if (r < 0)
			return r;
	}
	if (strcmp(buf, "default") == 0) {
		/* "default" needs a gateway to know its family. */
		if (!at)
			return -EINVAL;
		rs.dst.ip.family = rs.via.family;
		rs.dst.prefixlen = 0;
	} else {
		r = lj_parse_cidr(buf, true, &rs.dst);
		if (r < 0)
			return r;
		/* A route destination is a network: host bits must be clear. */
		struct lj_cidr net = rs.dst;
		size_t n = lj_ip_len(net.ip.family);
		for (size_t i = 0; i < n; i++) {
			unsigned bit = (unsigned)i * 8;
			uint8_t mask = bit >= net.prefixlen ? 0
				       : net.prefixlen - bit >= 8
					       ? 0xff
					       : (uint8_t)(0xff << (8 - (net.prefixlen - bit)));
			if (net.ip.bytes[i] & ~mask)
				return -EINVAL;
		}
	}
	if (at && rs.via.family != rs.dst.ip.family)
		return -EINVAL;
	*ret = rs;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int lj_parse_mac(const char *s, uint8_t ret[LJ_MAC_LEN])
{
	uint8_t mac[LJ_MAC_LEN];
	bool nonzero = false;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < LJ_MAC_LEN; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < LJ_MAC_LEN - 1 && s[3 * i + 2] != ':' && s[3 * i + 2] != '-')
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		nonzero |= mac[i] != 0;
	}
	if (!nonzero || (mac[0] & 1))
		return -EINVAL;
	memcpy(ret, mac, LJ_MAC_LEN);
	return 0;
}

bool lj_ifname_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	/* "all" and "default" are taken in /proc/sys/net/ipv{4,6}/conf; '%' is a kernel template */
	if (strcmp(s, "all") == 0 || strcmp(s, "default") == 0)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || *p == '%' || !isgraph((unsigned char)*p))
			return false;
	return true;
}

int lj_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s || strlen(s) > 20)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

const char *lj_ip_to_string(const struct lj_ip *ip, char *buf, size_t size)
{
	if (!ip || !inet_ntop(ip->family, ip->bytes, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

const char *lj_cidr_to_string(const struct lj_cidr *c, char *buf, size_t size)
{
	char ip[LJ_IP_STRLEN];

	snprintf(buf, size, "%s/%u", lj_ip_to_string(&c->ip, ip, sizeof(ip)), c->prefixlen);
	return buf;
}

const char *lj_mac_to_string(const uint8_t mac[LJ_MAC_LEN], char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

bool lj_ip_equal(const struct lj_ip *a, const struct lj_ip *b)
{
	return a->family == b->family && a->family != AF_UNSPEC &&
	       memcmp(a->bytes, b->bytes, lj_ip_len(a->family)) == 0;
}

bool lj_cidr_contains(const struct lj_cidr *c, const struct lj_ip *ip)
{
	unsigned full, rest;

	if (c->ip.family != ip->family)
		return false;
	full = c->prefixlen / 8;
	rest = c->prefixlen % 8;
	if (memcmp(c->ip.bytes, ip->bytes, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((c->ip.bytes[full] & mask) != (ip->bytes[full] & mask))
			return false;
	}
	return true;
}

int lj_parse_publish(const char *s, struct lj_publish *ret)
{
	struct lj_publish p = {.proto = IPPROTO_TCP};
	char buf[32];
	char *port = buf, *colon, *slash;
	uint64_t v;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (strcmp(buf, "tcp") == 0)
			p.proto = IPPROTO_TCP;
		else if (strcmp(buf, "udp") == 0)
			p.proto = IPPROTO_UDP;
		else
			return -EINVAL;
		port = slash + 1;
	}
	colon = strchr(port, ':');
	if (colon)
		*colon = '\0';
	if (lj_parse_uint(port, 1, 65535, &v) < 0)
		return -EINVAL;
	p.port = p.cport = (uint16_t)v;
	if (colon) {
		if (lj_parse_uint(colon + 1, 1, 65535, &v) < 0)
			return -EINVAL;
		p.cport = (uint16_t)v;
	}
	*ret = p;
	return 0;
}

bool lj_ip_link_local(const struct lj_ip *ip)
{
	return ip->family == AF_INET6 && ip->bytes[0] == 0xfe && (ip->bytes[1] & 0xc0) == 0x80;
}

const char *lj_ip_unicast_problem(const struct lj_ip *ip, uint8_t prefixlen)
{
	if (ip->family == AF_INET) {
		uint32_t a = ntohl(ip->v4.s_addr);

		if ((a >> 24) == 0)
			return "an unspecified (0.0.0.0/8) address";
		if ((a >> 24) == 127)
			return "a loopback address";
		if ((a >> 28) == 0xe)
			return "a multicast address";
		if (a == 0xffffffffu)
			return "the limited broadcast address";
		if ((a >> 28) == 0xf)
			return "a reserved (240.0.0.0/4) address";
		if (prefixlen && prefixlen <= 30) {
			uint32_t host = ~0u >> prefixlen;
			if ((a & host) == 0)
				return "the network address of its subnet";
			if ((a & host) == host)
				return "the broadcast address of its subnet";
		}
		return NULL;
	}
	if (ip->family == AF_INET6) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		struct in6_addr any = IN6ADDR_ANY_INIT, lo = IN6ADDR_LOOPBACK_INIT;

		if (memcmp(&ip->v6, &any, 16) == 0)
			return "the unspecified address";
		if (memcmp(&ip->v6, &lo, 16) == 0)
			return "the loopback address";
		if (ip->bytes[0] == 0xff)
			return "a multicast address";
		if (memcmp(ip->bytes, mapped, 12) == 0)
			return "an IPv4-mapped address";
		/* RFC 4291 2.6.1: host bits all zero is the subnet-router anycast address (not on
		 * /127, RFC 6164, nor /128); the kernel's DAD refuses it. */
		if (prefixlen && prefixlen < 127) {
			bool zero = true;
			for (unsigned b = prefixlen; b < 128 && zero; b++)
				zero = !(ip->bytes[b / 8] & (0x80u >> (b % 8)));
			if (zero)
				return "the subnet-router anycast address of its subnet";
		}
		return NULL;
	}
	return "not an IP address";
}
