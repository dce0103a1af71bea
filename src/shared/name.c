/* SPDX-License-Identifier: MIT */
#include "shared/name.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t lj_hash64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int lj_name_hashed(const char *prefix, const char *key, char ret[IFNAMSIZ])
{
	if (!prefix || !key || strlen(prefix) > 3)
		return -EINVAL;
	/* 48 bits of the hash: 12 hex digits. */
	snprintf(ret, IFNAMSIZ, "%s%012" PRIx64, prefix, lj_hash64(key) >> 16);
	return 0;
}
