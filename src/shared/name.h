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
