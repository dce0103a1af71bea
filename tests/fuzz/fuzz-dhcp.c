/* SPDX-License-Identifier: MIT */
/*
 * The DHCP hook's inputs. Its environment carries the lease options a DHCP server sent, i.e.
 * bytes from the network: input = a kind byte, then "NAME=VALUE" lines. A lease that is
 * accepted must be a usable unicast IPv4 address, and must survive the trip through the
 * notification message the hook sends to attach. With the kind byte's top bit set, the input
 * is a notification message body instead (lj_dhcp_lease_msg_parse).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/foreign/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 64

struct env {
	char *name[MAX_LINES];
	char *value[MAX_LINES];
	size_t n;
};

static const char *lookup(const char *name, void *data)
{
	const struct env *e = data;

	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->name[i], name) == 0)
			return e->value[i];
	return NULL;
}

static bool same_lease(const struct lj_dhcp_lease *a, const struct lj_dhcp_lease *b)
{
	if (!lj_ip_equal(&a->addr.ip, &b->addr.ip) || a->addr.prefixlen != b->addr.prefixlen ||
	    a->lease_s != b->lease_s || a->n_dns != b->n_dns ||
	    (a->router.family == AF_INET) != (b->router.family == AF_INET) ||
	    (a->router.family == AF_INET && !lj_ip_equal(&a->router, &b->router)))
		return false;
	for (size_t i = 0; i < a->n_dns; i++)
		if (!lj_ip_equal(&a->dns[i], &b->dns[i]))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum lj_dhcp_kind kinds[] = {LJ_DHCP_UDHCPC, LJ_DHCP_DHCLIENT, LJ_DHCP_DHCPCD};
	struct lj_dhcp_lease l, back;
	struct env e = {0};
	char buf[4096], msg[1024], why[256];
	char *line, *save = NULL;
	uint32_t a;

	if (size == 0 || size > sizeof(buf))
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	if (data[0] & 0x80) {
		if (lj_dhcp_lease_msg_parse(buf, &l) == 0 && l.n_dns > 4)
			abort();
		return 0;
	}
	for (line = strtok_r(buf, "\n", &save); line && e.n < MAX_LINES;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		e.name[e.n] = line;
		e.value[e.n++] = eq + 1;
	}
	if (lj_dhcp_lease_from_env(kinds[data[0] % 3], lookup, &e, &l, why, sizeof(why)) != 0) {
		if (!why[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	/* What is accepted is a usable unicast IPv4 address with a sane prefix. */
	a = ntohl(l.addr.ip.v4.s_addr);
	if (l.addr.ip.family != AF_INET || l.addr.prefixlen < 1 || l.addr.prefixlen > 32 ||
	    a == 0 || a == 0xffffffffu || (a >> 28) == 0xe || (a >> 24) == 127 || l.n_dns > 4 ||
	    (l.router.family != AF_INET && l.router.family != AF_UNSPEC))
		abort();
	/* ... and reaches attach unchanged through the notification message. */
	lj_dhcp_lease_msg_format(&l, msg, sizeof(msg));
	if (lj_dhcp_lease_msg_parse(msg, &back) != 0 || !same_lease(&l, &back))
		abort();
	return 0;
}
