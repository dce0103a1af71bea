/* SPDX-License-Identifier: MIT */
/*
 * CNI input: any bytes on stdin must be refused with a spec code or parsed for every command;
 * any JSON an IPAM plugin answers must be refused or validated; a parsed request's result
 * serialises in its version.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lj_cni_env env = {0};
	struct lj_cni_err err;
	struct lj_cni_conf c;
	struct lj_cni_ipam ip;
	json_t *j;
	char v[16];

	lj_cni_peek_version((const char *)data, size, v);
	for (int cmd = LJ_CNI_ADD; cmd <= LJ_CNI_GC; cmd++) {
		int r = lj_cni_conf_parse((const char *)data, size, (enum lj_cni_cmd)cmd, &env, &c,
					  &err);
		if (r == 0) {
			lj_cni_conf_free(&c);
			continue;
		}
		if (r != 1 && r != 2 && r != 6 && r != 7)
			abort();
	}
	j = json_loadb((const char *)data, size, 0, NULL);
	if (j && lj_cni_ipam_parse(j, &ip, &err) == 0) {
		struct lj_cni_result res = {0};
		for (size_t i = 0; i < ip.n_ips; i++) {
			res.ips[i].addr = ip.ips[i];
			res.ips[i].gw = ip.ip_gw[i];
			res.ips[i].iface = 0;
		}
		res.n_ips = ip.n_ips;
		memcpy(res.routes, ip.routes, ip.n_routes * sizeof(ip.routes[0]));
		res.n_routes = ip.n_routes;
		res.dns = ip.dns;
		json_decref(lj_cni_result_json(&res, "0.4.0"));
		json_decref(lj_cni_result_json(&res, "1.1.0"));
		lj_cni_ipam_free(&ip);
	}
	json_decref(j);
	return 0;
}
