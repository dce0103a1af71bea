/* SPDX-License-Identifier: MIT */
#include "shared/name.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

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

int lj_mac_from_name(const char *name, uint8_t ret[6])
{
	char key[300];
	uint64_t h;

	if (!name || !*name || strlen(name) > 255)
		return -EINVAL;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	snprintf(key, sizeof(key), "lanjoin-mac:%s", name);
	h = lj_hash64(key);
	for (int i = 0; i < 6; i++)
		ret[i] = (uint8_t)(h >> (56 - 8 * i));
	ret[0] = (uint8_t)((ret[0] & 0xfc) | 0x02); /* unicast, locally administered */
	return 0;
}

int lj_mac_random(uint8_t ret[6])
{
	uint8_t b[6];
	ssize_t n = getrandom(b, sizeof(b), 0);

	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(b))
		return -EAGAIN;
	b[0] = (uint8_t)((b[0] & 0xfc) | 0x02); /* unicast, locally administered */
	memcpy(ret, b, sizeof(b));
	return 0;
}
