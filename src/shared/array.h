/* SPDX-License-Identifier: MIT */
/* A growable array of fixed-size elements: the one place that grows buffers by doubling. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Append the size bytes at elem to the array *v of *n elements (capacity *cap), growing it
 * by doubling (first 16). *v is the caller's (free it). Returns 0 or -ENOMEM, leaving the
 * array as it was on failure.
 */
static inline int lj_array_append(void *v, size_t *n, size_t *cap, size_t size, const void *elem)
{
	void **pv = v;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *nv = realloc(*pv, ncap * size);
		if (!nv)
			return -ENOMEM;
		*pv = nv;
		*cap = ncap;
	}
	memcpy((char *)*pv + *n * size, elem, size);
	(*n)++;
	return 0;
}
