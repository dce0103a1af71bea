/* SPDX-License-Identifier: MIT */
#include "lib/kernel/ethtool.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/kernel/netns.h"
#include "shared/macro.h"
#include "shared/parse.h"

/* A datagram socket in netns_fd: SIOCETHTOOL acts on the namespace of the socket. */
static int socket_in(int netns_fd, int *ret)
{
	int orig = -1, fd, r;

	if (netns_fd >= 0) {
		r = lj_netns_enter(netns_fd, &orig);
		if (r < 0)
			return r;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = fd < 0 ? lj_negerrno() : 0;
	if (orig >= 0)
		lj_netns_leave(orig);
	if (r < 0)
		return r;
	*ret = fd;
	return 0;
}

static int ethtool(int netns_fd, const char *ifname, struct ethtool_value *ev)
{
	_cleanup_close_ int fd = -1;
	struct ifreq ifr;
	int r;

	if (!lj_ifname_valid(ifname))
		return -EINVAL;
	r = socket_in(netns_fd, &fd);
	if (r < 0)
		return r;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return lj_negerrno();
	return 0;
}

int lj_ethtool_set_tx_csum(int netns_fd, const char *ifname, bool on)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_STXCSUM, .data = on};

	return ethtool(netns_fd, ifname, &ev);
}

int lj_ethtool_get_tx_csum(int netns_fd, const char *ifname)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_GTXCSUM};
	int r = ethtool(netns_fd, ifname, &ev);

	return r < 0 ? r : ev.data != 0;
}
