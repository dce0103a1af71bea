/* SPDX-License-Identifier: MIT */
/*
 * Parsers for untrusted text: addresses, CIDRs, MACs, interface names, routes, numbers.
 * They know nothing about networking state; every one returns 0 or -EINVAL and writes its
 * out-parameter only on success.
 */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LJ_MAC_LEN 6

/* An IPv4 or IPv6 address. family is AF_INET or AF_INET6; AF_UNSPEC means "none". */
struct lj_ip {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

/* An address with a prefix length, e.g. 198.51.100.117/24. */
struct lj_cidr {
	struct lj_ip ip;
	uint8_t prefixlen;
};

/* A route: destination CIDR and an optional gateway (via.family == AF_UNSPEC when absent). */
struct lj_route_spec {
	struct lj_cidr dst;
	struct lj_ip via;
};

/* Length in bytes of an address of this family (4 or 16), 0 for others. */
size_t lj_ip_len(int family);

/* Parse a bare IPv4/IPv6 address. */
int lj_parse_ip(const char *s, struct lj_ip *ret);

/*
 * Parse "ADDR/LEN". With require_prefix false a bare address gets /32 or /128.
 * Host bits may be set (it is an interface address, not a network).
 */
int lj_parse_cidr(const char *s, bool require_prefix, struct lj_cidr *ret);

/* Parse "default" or "CIDR" optionally followed by "@VIA" (VIA of the same family). */
int lj_parse_route(const char *s, struct lj_route_spec *ret);

/* Parse a MAC "aa:bb:cc:dd:ee:ff" (or '-' separated). Rejects multicast and all-zero. */
int lj_parse_mac(const char *s, uint8_t ret[LJ_MAC_LEN]);

/*
 * Validate a Linux interface name: 1..15 bytes, not "." or "..", "all" or "default", no '/',
 * ':', '%' or whitespace, printable ASCII only. Returns true if valid.
 */
bool lj_ifname_valid(const char *s);

/* lj_ifname_valid's rule, for printf formats (its '%' is "%%"): every front end says the same. Any
 * other name the kernel takes works ("e$(id)", "a=b", "em1.5"), in the real attach as in its dry
 * run. */
#define LJ_IFNAME_RULE                                                                             \
	"1-15 printable ASCII bytes, no '/', ':', '%%' or whitespace, not '.', '..', 'all' or "    \
	"'default'"

/* Parse a decimal unsigned integer within [min, max]. */
int lj_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* Format helpers: write into buf (size bytes), return buf. Never fail on valid input. */
const char *lj_ip_to_string(const struct lj_ip *ip, char *buf, size_t size);
const char *lj_cidr_to_string(const struct lj_cidr *c, char *buf, size_t size);
const char *lj_mac_to_string(const uint8_t mac[LJ_MAC_LEN], char *buf, size_t size);

/* True if both addresses are of the same family and equal. */
bool lj_ip_equal(const struct lj_ip *a, const struct lj_ip *b);

/* True if ip lies inside the network of c (same family, first c->prefixlen bits equal). */
bool lj_cidr_contains(const struct lj_cidr *c, const struct lj_ip *ip);

#define LJ_IP_STRLEN INET6_ADDRSTRLEN
#define LJ_CIDR_STRLEN (INET6_ADDRSTRLEN + 4)
#define LJ_MAC_STRLEN 18

/* A published port for the nat way: "[tcp|udp/]PORT[:CPORT]". proto is IPPROTO_TCP/UDP. */
struct lj_publish {
	uint8_t proto;
	uint16_t port;	/* on the LAN address */
	uint16_t cport; /* in the container (= port when not given) */
};

/* Parse a --publish value. Ports 1..65535; protocol defaults to tcp. */
int lj_parse_publish(const char *s, struct lj_publish *ret);

/*
 * Why ip (with prefixlen, 0 = no subnet to check) cannot be a host's unicast address, or
 * NULL if it can: unspecified, loopback, multicast, limited broadcast, IPv4-mapped, or the
 * network or broadcast address of its own IPv4 subnet (prefixes up to /30), or the IPv6
 * subnet-router anycast address (host bits all zero, prefixes up to /126).
 */
const char *lj_ip_unicast_problem(const struct lj_ip *ip, uint8_t prefixlen);

/* Whether ip is an IPv6 link-local address (fe80::/10). */
bool lj_ip_link_local(const struct lj_ip *ip);

/* Why an IPv6 link-local address is refused as a container's --ip (every way, CNI, specs):
 * the kernel gives every IPv6 link its own, and a second one names no LAN address. */
#define LJ_LINK_LOCAL_WHY                                                                          \
	"a link-local address (fe80::/10): the kernel gives every interface its own; give a "      \
	"global or unique local (fd00::/8) address"
