/* SPDX-License-Identifier: MIT */
/* The CNI result: one internal model, serialised in the version the request asked for. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cni/cni.h"

json_t *lj_cni_result_json(const struct lj_cni_result *r, const char *version)
{
	long ver = lj_cni_version_num(version);
	bool v1 = ver >= lj_cni_version_num("1.0.0");  /* no ips[].version */
	bool v11 = ver >= lj_cni_version_num("1.1.0"); /* interfaces[].mtu */
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
			json_object_set_new(
				e, "version",
				json_string(r->ips[i].addr.ip.family == AF_INET ? "4" : "6"));
		json_object_set_new(
			e, "address",
			json_string(lj_cidr_to_string(&r->ips[i].addr, buf, sizeof(buf))));
		if (r->ips[i].gw.family != AF_UNSPEC)
			json_object_set_new(
				e, "gateway",
				json_string(lj_ip_to_string(&r->ips[i].gw, buf, sizeof(buf))));
		if (r->ips[i].iface >= 0)
			json_object_set_new(e, "interface", json_integer(r->ips[i].iface));
		json_array_append_new(ips, e);
	}
	json_object_set_new(o, "ips", ips);
	for (size_t i = 0; i < r->n_routes; i++) {
		json_t *e = json_object();
		json_object_set_new(
			e, "dst",
			json_string(lj_cidr_to_string(&r->routes[i].dst, buf, sizeof(buf))));
		if (r->routes[i].via.family != AF_UNSPEC)
			json_object_set_new(
				e, "gw",
				json_string(lj_ip_to_string(&r->routes[i].via, buf, sizeof(buf))));
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

/* --- prevResult ------------------------------------------------------------------------ */

static int undecodable(struct lj_cni_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int undecodable(struct lj_cni_err *err, const char *fmt, ...)
{
	va_list ap;

	err->code = LJ_CNI_E_DECODE;
	snprintf(err->msg, sizeof(err->msg), "failed to decode prevResult");
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return LJ_CNI_E_DECODE;
}

/* Member key of o: absent, or of the JSON type t. */
static bool opt_type(const json_t *o, const char *key, json_type t)
{
	const json_t *v = json_object_get(o, key);

	return !v || json_typeof(v) == t;
}

/* Member key of o: absent, or a string without NULs shorter than max bytes. */
static bool opt_str(const json_t *o, const char *key, size_t max)
{
	const json_t *v = json_object_get(o, key);

	return !v || (json_is_string(v) && json_string_length(v) < max &&
		      strlen(json_string_value(v)) == json_string_length(v));
}

/* Member key of o: absent or a string that parses with kind (0 address, 1 CIDR). */
static bool opt_addr(const json_t *o, const char *key, int kind)
{
	const json_t *v = json_object_get(o, key);
	struct lj_cidr c;

	if (!v)
		return true;
	if (!opt_str(o, key, 64))
		return false;
	return kind == 0 ? lj_parse_ip(json_string_value(v), &c.ip) == 0
			 : lj_parse_cidr(json_string_value(v), true, &c) == 0;
}

int lj_cni_prev_result_check(const json_t *prev, struct lj_cni_err *err)
{
	static const char *const ints[] = {"mtu", "advmss", "priority", "table", "scope"};
	static const char *const lists[] = {"nameservers", "search", "options"};
	const json_t *ifs, *ips, *rts, *dns, *v, *x;
	size_t i, k;

	if (!json_is_object(prev))
		return undecodable(err, "\"prevResult\" must be an object");
	if (!opt_str(prev, "cniVersion", 16))
		return undecodable(err, "prevResult.cniVersion must be a string");
	ifs = json_object_get(prev, "interfaces");
	ips = json_object_get(prev, "ips");
	rts = json_object_get(prev, "routes");
	dns = json_object_get(prev, "dns");
	if ((ifs && !json_is_array(ifs)) || (ips && !json_is_array(ips)) ||
	    (rts && !json_is_array(rts)))
		return undecodable(err, "prevResult.%s must be an array",
				   ifs && !json_is_array(ifs)	? "interfaces"
				   : ips && !json_is_array(ips) ? "ips"
								: "routes");
	if (dns && !json_is_object(dns))
		return undecodable(err, "prevResult.dns must be an object");
	json_array_foreach(ifs, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));

		if (!json_is_object(v) || !opt_str(v, "name", 64) || !name || !*name)
			return undecodable(err, "prevResult.interfaces[%zu] needs a \"name\"", i);
		if (!opt_str(v, "mac", 64) || !opt_str(v, "sandbox", 4096) ||
		    !opt_str(v, "socketPath", 4096) || !opt_str(v, "pciID", 64) ||
		    !opt_type(v, "mtu", JSON_INTEGER))
			return undecodable(err,
					   "prevResult.interfaces[%zu]: \"mac\", \"sandbox\", "
					   "\"socketPath\", \"pciID\" are strings, \"mtu\" an "
					   "integer",
					   i);
	}
	json_array_foreach(ips, i, v)
	{
		const json_t *idx = json_object_get(v, "interface");
		const char *ver = json_string_value(json_object_get(v, "version"));

		if (!json_is_object(v) || !json_object_get(v, "address") ||
		    !opt_addr(v, "address", 1))
			return undecodable(err,
					   "prevResult.ips[%zu].address must be ADDRESS/PREFIX", i);
		if (!opt_addr(v, "gateway", 0))
			return undecodable(err, "prevResult.ips[%zu].gateway must be an address",
					   i);
		if (idx && (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
			    (size_t)json_integer_value(idx) >= json_array_size(ifs)))
			return undecodable(err,
					   "prevResult.ips[%zu].interface must index "
					   "prevResult.interfaces",
					   i);
		if (!opt_str(v, "version", 2) ||
		    (ver && strcmp(ver, "4") != 0 && strcmp(ver, "6") != 0))
			return undecodable(err,
					   "prevResult.ips[%zu].version must be \"4\" or \"6\"", i);
	}
	json_array_foreach(rts, i, v)
	{
		if (!json_is_object(v) || !json_object_get(v, "dst") || !opt_addr(v, "dst", 1))
			return undecodable(err, "prevResult.routes[%zu].dst must be a CIDR", i);
		if (!opt_addr(v, "gw", 0))
			return undecodable(err, "prevResult.routes[%zu].gw must be an address", i);
		for (k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
			if (!opt_type(v, ints[k], JSON_INTEGER))
				return undecodable(err,
						   "prevResult.routes[%zu].%s must be an "
						   "integer",
						   i, ints[k]);
	}
	if (!opt_str(dns, "domain", 256))
		return undecodable(err, "prevResult.dns.domain must be a string");
	for (k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		const json_t *a = json_object_get(dns, lists[k]);

		if (a && !json_is_array(a))
			return undecodable(err, "prevResult.dns.%s must be an array", lists[k]);
		json_array_foreach(a, i, x) if (!json_is_string(x)) return undecodable(
			err, "prevResult.dns.%s[%zu] must be a string", lists[k], i);
	}
	return 0;
}
