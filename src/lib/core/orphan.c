/* SPDX-License-Identifier: MIT */
#include "lib/core/orphan.h"

#include <errno.h>
#include <string.h>

#include "lib/core/target.h"
#include "lib/kernel/link.h"
#include "lib/kernel/netlink.h"

/* Hashed names: a prefix of at most 3 characters and 12 hex digits (shared/name.h). */
#define HASH_DIGITS 12

/* Whether name is what lj_target_host_ifname gives the open target t as ifname. */
static bool host_name_of(const struct lj_target *t, const char *ifname, const char *name)
{
	char prefix[4], want[IFNAMSIZ];
	size_t n = strlen(name);

	if (n <= HASH_DIGITS || n - HASH_DIGITS >= sizeof(prefix))
		return false;
	memcpy(prefix, name, n - HASH_DIGITS);
	prefix[n - HASH_DIGITS] = '\0';
	lj_target_host_ifname(t, prefix, ifname, want);
	return strcmp(want, name) == 0;
}

int lj_orphan_veth_remove(const char *netns_path, const char *ifname, const char *host_name)
{
	struct lj_nl *host = NULL, *cont = NULL;
	struct lj_link l, peer;
	struct lj_target t;
	int r;

	if (!netns_path || !*netns_path || !ifname || !host_name ||
	    lj_target_parse(netns_path, &t) < 0 || t.kind != LJ_TARGET_PATH)
		return -ENOENT;
	r = lj_nl_open(-1, &host);
	if (r < 0)
		return r;
	r = lj_link_get(host, host_name, &l);
	if (r == -ENODEV || (r == 0 && strcmp(l.kind, "veth") != 0))
		r = -ENOENT;
	if (r == 0 && lj_target_open(&t) < 0)
		r = -ENOENT;
	if (r == 0 && !host_name_of(&t, ifname, host_name))
		r = -ENOENT;
	if (r == 0 && lj_nl_open(t.netns_fd, &cont) == 0 && lj_link_get(cont, ifname, &peer) == 0 &&
	    strcmp(peer.kind, "veth") == 0 && peer.parent == l.ifindex &&
	    l.parent == peer.ifindex) {
		r = lj_link_del(host, host_name);
		r = r == 0 || r == -ENODEV ? 1 : r;
	}
	lj_nl_close(cont);
	lj_nl_close(host);
	lj_target_close(&t);
	return r;
}
