/* SPDX-License-Identifier: MIT */
/* Deterministic names for host-side objects: never a counter, always a hash of the owner. */
#pragma once

#include <net/if.h>
#include <stdint.h>

/* 64-bit FNV-1a of a NUL-terminated string. */
uint64_t lj_hash64(const char *s);

/*
 * Write "<prefix><12 hex digits of lj_hash64(key)>" into ret (IFNAMSIZ bytes).
 * prefix must be at most 3 bytes so the name fits in 15. Returns 0 or -EINVAL.
 */
int lj_name_hashed(const char *prefix, const char *key, char ret[IFNAMSIZ]);

/*
 * A stable MAC for a name (e.g. a container name), so that DHCP servers give it the same
 * lease every time: 6 bytes of a hash of "lanjoin-mac:" + name, with the locally-administered
 * bit set and the multicast bit clear. Returns 0, or -EINVAL for an empty name, one longer
 * than 255 bytes or with control characters.
 */
int lj_mac_from_name(const char *name, uint8_t ret[6]);

/*
 * A random MAC from getrandom(): locally administered, unicast. For a bridge lanjoin creates,
 * so that its address is set (pinned) rather than taken from its lowest port. Returns 0 or
 * -errno (getrandom's, e.g. -EAGAIN before the entropy pool is ready).
 */
int lj_mac_random(uint8_t ret[6]);
