/* SPDX-License-Identifier: MIT */
/*
 * The MAC address the Docker plugin gives an endpoint when Docker gives none (driver.c's
 * CreateEndpoint).
 */
#include <stdio.h>

#include "plugin/plugin.h"
#include "shared/name.h"
#include "shared/parse.h"

void lj_plugin_default_mac(const json_t *net, const char *nid, const char *eid, const char *a4,
			   const char *a6, uint8_t mac[LJ_MAC_LEN])
{
	/*
	 * Stable for the address (as Docker's macvlan driver): a restarted container with the
	 * same --ip has the same MAC, and so has one on a network created again (compose down;
	 * up), so the LAN's ARP caches stay right. The address without its prefix length, and
	 * the link the LAN is on (the same address on another LAN is another host), not the
	 * network's ID.
	 */
	const char *a = a4 && a4[0] ? a4 : a6;
	const json_t *parent = json_object_get(net, "parent");
	const char *lan = json_string_value(parent ? parent : json_object_get(net, "bridge"));
	char ip[LJ_IP_STRLEN], key[256];
	struct lj_cidr c;

	if (a && a[0] && lj_parse_cidr(a, true, &c) == 0)
		snprintf(key, sizeof(key), "docker:%s:%s", lan ? lan : "",
			 lj_ip_to_string(&c.ip, ip, sizeof(ip)));
	else
		snprintf(key, sizeof(key), "docker:%.12s:%s", nid, eid);
	lj_mac_from_name(key, mac);
}
