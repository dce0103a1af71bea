/* SPDX-License-Identifier: MIT */
/*
 * Step types of a link handed to a container engine (lib/ways/handoff.h): made in lanjoin's
 * own namespace for the engine to move into its sandbox, rename and address (Docker's network
 * drivers). Both act on the host alone, and neither judges a link its own by its name alone:
 * apply records the ifindex it got, and until then the MAC given in the creating request marks
 * the link (neither saves the record right after it: the ifindex is saved with the next save,
 * at the latest the commit).
 */
#pragma once

#include "lib/core/plan.h"

/*
 * handoff-veth: link = the host end (a port of master when set, a Linux bridge), peer = the
 * end handed over, created in lanjoin's namespace too; mac = the peer's MAC (required: the
 * mark), mtu, peer_mtu. i64 = the host end's ifindex, u32 = master's ifindex (apply). Undo
 * deletes the host end (and so both ends, wherever the peer is by then).
 */
extern const struct lj_step_type lj_step_handoff_veth;

/*
 * handoff-macvlan: link = the macvlan handed over, made in lanjoin's namespace on parent
 * master; u32 = MACVLAN_MODE_*, mtu, mac (required: the mark). i64 = its ifindex (apply).
 * Undo deletes it once the engine has moved it back (gone with the sandbox is done too).
 */
extern const struct lj_step_type lj_step_handoff_macvlan;

struct lj_record;
struct lj_link;

/*
 * The name the engine gave rec's handed link in its sandbox (Docker: "eth0", "eth1"...),
 * found among others, the links of the namespaces lanjoin's knows by a number
 * (lj_link_other_links), by the record: the veth end with the recorded MAC whose peer is the
 * recorded host end (its ifindex), or the macvlan with the recorded MAC on the parent (its
 * ifindex among host, lanjoin's own links). True with ret set; false when rec is no handed
 * link or it is in none of them (gone, not moved yet).
 */
bool lj_handoff_ifname_in(const struct lj_record *rec, const struct lj_link *host, size_t n_host,
			  const struct lj_link *others, size_t n_others, char ret[IFNAMSIZ]);
