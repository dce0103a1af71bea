/* SPDX-License-Identifier: MIT */
/*
 * Comparing specs (canonical JSON objects, src/cli/spec.h): what of a recorded spec is
 * compared with the spec asked, and which members differ.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * What of spec s is compared with the spec asked (both canonical; a missing "ifname" is
 * default_ifname): see spec-view.c. A new reference (NULL: out of memory).
 */
json_t *lj_spec_view(const json_t *s, const json_t *asked, const char *default_ifname);

/* The members of spec a and b that differ (either side may lack them), as "ip, gateway",
 * into buf (size bytes). */
void lj_spec_diff(const json_t *a, const json_t *b, char *buf, size_t size);

/* Does a spec's "to" value to name an engine network ("docker:NETWORK", "podman:...")? */
bool lj_spec_to_names_network(const char *to);

/* Is a spec's "to" value to the engine's own choice (none, "docker", "podman")? */
bool lj_spec_to_unnamed(const char *to);
