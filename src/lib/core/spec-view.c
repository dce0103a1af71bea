/* SPDX-License-Identifier: MIT */
/* Comparing an attachment's spec with the spec asked: is a live attachment already as asked? */
#include "lib/core/spec-view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_json_string(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a) ?: "",
		      json_string_value(*(json_t *const *)b) ?: "");
}

/*
 * Sort array a of strings in place (a repeated option's canonical values: a set for the
 * comparison, whatever order they were given in). 0 or -ENOMEM.
 */
static int sort_strings(json_t *a)
{
	size_t n = json_array_size(a);
	json_t **v;

	if (n < 2)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(*v), cmp_json_string);
	json_array_clear(a);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
	return 0;
}

/* Does a spec's "to" value to name an engine network ("docker:NETWORK", "podman:...")? */
bool lj_spec_to_names_network(const char *to)
{
	return to && (strncmp(to, "docker:", 7) == 0 || strncmp(to, "podman:", 7) == 0);
}

/* Is a spec's "to" value to the engine's choice (none, "docker", "podman")? */
bool lj_spec_to_unnamed(const char *to)
{
	return !to || strcmp(to, "docker") == 0 || strcmp(to, "podman") == 0;
}

/*
 * What of spec s is compared with the spec asked (both canonical): not "persist" (where the
 * spec is kept), "target" (how the namespace was named: the caller compares namespaces),
 * "create-bridge", "force" and the bridge way's "uplink" (how a missing bridge is made; a live
 * attachment's bridge is there); a MAC only when asked names one (else lanjoin derived it),
 * and so the engine network of the nat way's "to" (a stored spec names the one lanjoin took);
 * a missing ifname is default_ifname, a missing macvlan mode the default one; a repeated option
 * ("ip", "publish",
 * ...: an array) is a set, sorted here (the record keeps the order given). A new reference
 * (NULL: out of memory).
 */
json_t *lj_spec_view(const json_t *s, const json_t *asked, const char *default_ifname)
{
	json_t *v = json_deep_copy(s), *m;
	const char *k;

	if (!v)
		return NULL;
	json_object_foreach(v, k, m)
	{
		if (json_is_array(m) && sort_strings(m) < 0) {
			json_decref(v);
			return NULL;
		}
	}
	json_object_del(v, "persist");
	json_object_del(v, "create-bridge");
	json_object_del(v, "force");
	/* a live attachment of the very namespace asked for: a container by its name or its
	 * ID, a netns by name or path, is the same target */
	json_object_del(v, "target");
	if (strcmp(json_string_value(json_object_get(v, "way")) ?: "", "bridge") == 0)
		json_object_del(v, "uplink");
	if (!json_object_get(asked, "mac"))
		json_object_del(v, "mac");
	/* nat --to makes no interface: a MAC (a stored spec's, derived) names nothing */
	if (strcmp(json_string_value(json_object_get(v, "way")) ?: "", "nat") == 0 &&
	    json_object_get(v, "to"))
		json_object_del(v, "mac");
	const char *ato = json_string_value(json_object_get(asked, "to"));

	if (lj_spec_to_names_network(json_string_value(json_object_get(v, "to"))) &&
	    lj_spec_to_unnamed(ato)) {
		if (ato)
			json_object_set_new(v, "to", json_string(ato));
		else
			json_object_del(v, "to");
	}
	if (!json_object_get(v, "ifname"))
		json_object_set_new(v, "ifname", json_string(default_ifname));
	if (!json_object_get(v, "mode") &&
	    json_equal(json_object_get(v, "way"), json_object_get(asked, "way")) &&
	    strcmp(json_string_value(json_object_get(v, "way")) ?: "", "macvlan") == 0)
		json_object_set_new(v, "mode", json_string("bridge"));
	return v;
}

/* The members of spec a and b that differ (either side may lack them), as "ip, gateway". */
void lj_spec_diff(const json_t *a, const json_t *b, char *buf, size_t size)
{
	const json_t *side[2] = {a, b};
	const char *k;
	json_t *v;
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < 2; i++)
		json_object_foreach((json_t *)side[i], k, v)
		{
			if (i == 1 && json_object_get(a, k))
				continue; /* seen from a */
			if (json_equal(v, json_object_get(side[1 - i], k)))
				continue;
			len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
						len ? ", " : "", k);
			if (len >= size)
				return;
		}
}
