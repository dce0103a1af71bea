/* SPDX-License-Identifier: MIT */
/* Looking up the way table (lib/core/way.h); the rows are the ways layer's. */
#include "lib/core/way.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shared/macro.h"

const struct lj_way_ops *lj_way_get(enum lj_way w)
{
	return (unsigned)w < LJ_WAY_COUNT ? lj_way_table[w] : NULL;
}

const char *lj_way_name(enum lj_way w)
{
	const struct lj_way_ops *ops = lj_way_get(w);

	return ops ? ops->name : "?";
}

int lj_way_find(const char *name, enum lj_way *ret)
{
	for (size_t i = 0; i < LJ_WAY_COUNT; i++)
		if (strcmp(name, lj_way_table[i]->name) == 0) {
			*ret = lj_way_table[i]->way;
			return 0;
		}
	return -ENOENT;
}

bool lj_way_takes(enum lj_way w, enum lj_spec_opt opt)
{
	const struct lj_way_ops *ops = lj_way_get(w);

	return ops && (ops->opts & (1u << opt));
}

int lj_way_check(const struct lj_attach_opts *o, struct lj_result *res)
{
	const struct lj_way_ops *ops = lj_way_get(o->way);

	if (!ops)
		return lj_bad_input(res, "Unknown way %d", (int)o->way);
	return ops->check ? ops->check(o, res) : 0;
}

/* Join names[0..n) (NULL entries skipped) with sep, the last one with last, into buf. */
static const char *join(char *buf, size_t size, const char *sep, const char *last,
			const char *const *names, size_t n)
{
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++) {
		const char *s = i == 0 ? "" : i + 1 == n ? last : sep;
		int k = snprintf(buf + len, size - len, "%s%s", s, names[i]);
		if (k < 0)
			break;
		len += (size_t)k;
	}
	return buf;
}

const char *lj_way_names_text(char *buf, size_t size, const char *sep, const char *last,
			      const enum lj_way *order, size_t n)
{
	const char *names[LJ_WAY_COUNT];

	if (!order)
		n = LJ_WAY_COUNT;
	if (n > LJ_WAY_COUNT)
		n = LJ_WAY_COUNT;
	for (size_t i = 0; i < n; i++)
		names[i] = lj_way_name(order ? order[i] : (enum lj_way)i);
	return join(buf, size, sep, last, names, n);
}

int lj_way_mode_find(enum lj_way w, const char *name, uint32_t *ret)
{
	const struct lj_way_ops *ops = lj_way_get(w);

	for (size_t i = 0; ops && i < ops->n_modes; i++)
		if (strcmp(name, ops->modes[i].name) == 0) {
			*ret = ops->modes[i].value;
			return 0;
		}
	return -ENOENT;
}

const char *lj_way_mode_name(enum lj_way w, uint32_t value)
{
	const struct lj_way_ops *ops = lj_way_get(w);

	if (!ops || !ops->n_modes)
		return "?";
	for (size_t i = 0; i < ops->n_modes; i++)
		if (ops->modes[i].value == value)
			return ops->modes[i].name;
	return ops->modes[0].name;
}

const char *lj_way_modes_text(enum lj_way w, char *buf, size_t size, const char *sep,
			      const char *last)
{
	const struct lj_way_ops *ops = lj_way_get(w);
	const char *names[16];
	size_t n = 0;

	for (size_t i = 0; ops && i < ops->n_modes && n < ARRAY_SIZE(names); i++)
		names[n++] = ops->modes[i].name;
	return join(buf, size, sep, last, names, n);
}
