/* SPDX-License-Identifier: MIT */
/*
 * Attachments lanjoin made but has no record of (the state directory was lost): what can still
 * be proven ours from the kernel alone, for a front end's cleanup (CNI DEL without a record).
 */
#pragma once

/*
 * Delete host link host_name if it is the host end of the veth pair lanjoin made for the
 * attachment of the namespace at netns_path as ifname: its name is exactly the one
 * lj_target_host_ifname gives that attachment (under the name's own prefix: nothing is
 * guessed from a name's shape) and it is still a veth paired with ifname there (both ends
 * name each other). With the namespace gone its veth pairs went with it: what has the name
 * now is not ours. Returns 1 (deleted), 0 (the name is that attachment's, but the link is not
 * paired with ifname in the namespace: left alone), -ENOENT when host_name is no candidate
 * (no such veth, the namespace is gone or netns_path is empty, another name) or -errno.
 */
int lj_orphan_veth_remove(const char *netns_path, const char *ifname, const char *host_name);
