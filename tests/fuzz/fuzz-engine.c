/* SPDX-License-Identifier: MIT */
/*
 * The engine's inspect answer and its list of containers (JSON from a socket lanjoin does not
 * control): any bytes must be rejected or give a container (endpoints) whose fields are each
 * valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/foreign/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lj_engine_container c;
	struct lj_engine_err err;
	struct lj_cidr a;

	struct lj_engine_endpoint *eps = NULL;
	size_t n_eps = 0;

	/* the list of containers' endpoints: each entry valid */
	if (lj_engine_parse_endpoints((const char *)data, size, &eps, &n_eps) == 0) {
		for (size_t i = 0; i < n_eps; i++)
			if (strlen(eps[i].endpoint_id) != LJ_ENGINE_ID_LEN ||
			    !lj_engine_name_valid(eps[i].container))
				abort();
		free(eps);
	}
	if (lj_engine_parse_inspect((const char *)data, size, &c, &err) != 0)
		return 0;
	if (strlen(c.id) != LJ_ENGINE_ID_LEN || !lj_engine_name_valid(c.name) ||
	    c.running != (c.pid > 0) || c.n_nets > LJ_ENGINE_MAX_NETS)
		abort();
	for (size_t i = 0; i < c.n_nets; i++) {
		const struct lj_engine_net *n = &c.nets[i];
		if (!n->name[0] || (n->ipv4.ip.family && n->ipv4.ip.family != AF_INET) ||
		    (n->ipv6.ip.family && n->ipv6.ip.family != AF_INET6) ||
		    n->ipv4.prefixlen > 32 || n->ipv6.prefixlen > 128)
			abort();
	}
	lj_engine_pick_address(&c, NULL, AF_INET, &a, &err);
	lj_engine_pick_address(&c, "bridge", AF_INET6, &a, &err);
	return 0;
}
