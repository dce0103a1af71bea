/* SPDX-License-Identifier: MIT */
/*
 * What lanjoin watch reads from outside: an engine's event line (JSON from a socket lanjoin
 * does not control) and netlink notifications. Any bytes must be rejected or give an event
 * whose fields are each valid.
 */
#include <libmnl/libmnl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/foreign/engine-events.h"
#include "lib/kernel/monitor.h"
#include "lib/kernel/netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lj_engine_event e;
	struct lj_link_event le;
	struct lj_nft_event ne;
	uint32_t buf[1024];
	const struct nlmsghdr *nlh;
	int len;

	if (lj_engine_event_parse((const char *)data, size, &e) == 1) {
		if (strlen(e.id) != LJ_ENGINE_ID_LEN ||
		    (e.name[0] && !lj_engine_name_valid(e.name)))
			abort();
	}
	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	len = (int)size;
	for (nlh = (const struct nlmsghdr *)buf; lj_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		if (lj_monitor_parse_link(nlh, &le) == 1 && le.link.ifindex <= 0)
			abort();
		if (lj_monitor_parse_nft(nlh, &ne) == 1 && strlen(ne.table) >= LJ_NFT_TABLE_MAX)
			abort();
	}
	return 0;
}
