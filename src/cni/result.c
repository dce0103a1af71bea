/* SPDX-License-Identifier: MIT */
/* The CNI result: one internal model, serialised in the version the request asked for. */
#include <stdio.h>
#include <string.h>

#include "cni/cni.h"

json_t *lj_cni_result_json(const struct lj_cni_result *r, const char *version)
{
	long ver = lj_cni_version_num(version);
	bool v1 = ver >= lj_cni_version_num("1.0.0");     /* no ips[].version */
	bool v11 = ver >= lj_cni_version_num("1.1.0");    /* interfaces[].mtu */
	json_t *o = json_object(), *ifs = json_array(), *ips = json_array(), *rts = json_array();
	char buf[LJ_CIDR_STRLEN];

	if (!o || !ifs || !ips || !rts) {
		json_decref(o);
		json_decref(ifs);
		json_decref(ips);
		json_decref(rts);
		return NULL;
	}
	json_object_set_new(o, "cniVersion", json_string(version));
	for (size_t i = 0; i < r->n_ifaces; i++) {
		json_t *e = json_pack("{ss}", "name", r->ifaces[i].name);
		if (r->ifaces[i].mac[0])
			json_object_set_new(e, "mac", json_string(r->ifaces[i].mac));
		if (v11 && r->ifaces[i].mtu)
			json_object_set_new(e, "mtu", json_integer(r->ifaces[i].mtu));
		if (r->ifaces[i].sandbox)
			json_object_set_new(e, "sandbox", json_string(r->ifaces[i].sandbox));
		json_array_append_new(ifs, e);
	}
	json_object_set_new(o, "interfaces", ifs);
	for (size_t i = 0; i < r->n_ips; i++) {
		json_t *e = json_object();
		if (!v1)
			json_object_set_new(e, "version",
					    json_string(r->ips[i].addr.ip.family == AF_INET ? "4" : "6"));
		json_object_set_new(e, "address",
				    json_string(lj_cidr_to_string(&r->ips[i].addr, buf, sizeof(buf))));
		if (r->ips[i].gw.family != AF_UNSPEC)
			json_object_set_new(e, "gateway",
					    json_string(lj_ip_to_string(&r->ips[i].gw, buf, sizeof(buf))));
		if (r->ips[i].iface >= 0)
			json_object_set_new(e, "interface", json_integer(r->ips[i].iface));
		json_array_append_new(ips, e);
	}
	json_object_set_new(o, "ips", ips);
	for (size_t i = 0; i < r->n_routes; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "dst",
				    json_string(lj_cidr_to_string(&r->routes[i].dst, buf, sizeof(buf))));
		if (r->routes[i].via.family != AF_UNSPEC)
			json_object_set_new(e, "gw", json_string(lj_ip_to_string(&r->routes[i].via,
										  buf, sizeof(buf))));
		json_array_append_new(rts, e);
	}
	json_object_set_new(o, "routes", rts);
	json_object_set_new(o, "dns", r->dns ? json_incref(r->dns) : json_object());
	return o;
}

void lj_cni_print(json_t *j)
{
	if (!j)
		return;
	json_dumpf(j, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(j);
}
