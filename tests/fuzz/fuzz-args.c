/* SPDX-License-Identifier: MIT */
/* Every command-line parser: CIDR, route, MAC, ifname, --publish, numbers, TARGET. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/target.h"
#include "shared/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[512], out[128];
	struct lj_cidr c;
	struct lj_route_spec r;
	struct lj_publish p;
	struct lj_target t;
	uint8_t mac[LJ_MAC_LEN];
	uint64_t v;

	if (size == 0 || size >= sizeof(buf))
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	switch (data[0] % 7) {
	case 0:
		if (lj_parse_cidr(buf, data[0] & 0x80, &c) == 0) {
			lj_cidr_to_string(&c, out, sizeof(out));
			/* what we print we must parse back to the same thing */
			struct lj_cidr back;
			if (lj_parse_cidr(out, true, &back) != 0 || back.prefixlen != c.prefixlen ||
			    !lj_ip_equal(&back.ip, &c.ip))
				abort();
		}
		break;
	case 1:
		if (lj_parse_route(buf, &r) == 0 && r.via.family != AF_UNSPEC &&
		    r.via.family != r.dst.ip.family)
			abort();
		break;
	case 2:
		if (lj_parse_mac(buf, mac) == 0) {
			lj_mac_to_string(mac, out, sizeof(out));
			if (mac[0] & 1)
				abort();
		}
		break;
	case 3:
		if (lj_ifname_valid(buf) && strlen(buf) >= IFNAMSIZ)
			abort();
		break;
	case 4:
		if (lj_parse_publish(buf, &p) == 0 && (p.port == 0 || p.cport == 0))
			abort();
		break;
	case 5:
		lj_parse_uint(buf, 0, UINT64_MAX, &v);
		break;
	case 6:
		/* parse only: nothing is opened */
		if (lj_target_parse(buf, &t) == 0 && t.netns_fd != -1)
			abort();
		break;
	}
	return 0;
}
