/* SPDX-License-Identifier: MIT */
/* The few ethtool settings lanjoin changes, through the SIOCETHTOOL ioctl (never by exec). */
#pragma once

#include <stdbool.h>

/*
 * Turn TX checksum offload of link ifname on or off (what `ethtool -K IFNAME tx on|off`
 * does: ETHTOOL_STXCSUM; the kernel then also drops the offloads that depend on it, like TSO).
 * The link is looked up in network namespace netns_fd (borrowed; -1 = the caller's): the
 * ioctl goes through a socket created there, and the thread is back in its own namespace
 * before this returns. Errors: -ENODEV (no such link), -EOPNOTSUPP, other -errno.
 */
int lj_ethtool_set_tx_csum(int netns_fd, const char *ifname, bool on);

/* Read whether TX checksum offload of ifname (in netns_fd, -1 = own) is on: 1, 0 or -errno. */
int lj_ethtool_get_tx_csum(int netns_fd, const char *ifname);
