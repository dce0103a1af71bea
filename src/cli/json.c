/* SPDX-License-Identifier: MIT */
/*
 * The machine output (--json) of every command, in one place: the documented, versioned
 * objects of doc/json.md, built from the library's structs and facts. The state record's own
 * format (undo plan, namespace cookies, owner) stays private: only the fields listed here are
 * ever printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/spec.h"
#include "lib/core/state.h"
#include "lib/ways/uplink.h"

/* Copy the members of from named in keys (NULL-terminated) that are there into to. */
static void copy_keys(json_t *to, const json_t *from, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(from, *keys);
		if (v)
			json_object_set_new(to, *keys, json_deep_copy(v));
	}
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

json_t *lj_json_attachment(const struct lj_record *rec)
{
	/* The way-specific facts of doc/json.md ("info"); anything else in the record is private.
	 */
	static const char *const info_keys[] = {
		"bridge",
		"bridge_created",
		"ovsdb",
		"datapath_type",
		"vlan", /* bridge, ovs */
		"parent",
		"mode",
		"host_shim",
		"host_shim_address",
		"host_shim_created",
		"host_routes", /* macvlan */
		"uplink",
		"address",
		"to",
		"to_network",
		"private",
		"host_address",
		"container_address",
		"publish",
		"firewall_chain",
		"nft_chains", /* nat */
		"next_hops",  /* routed */
		"gateway",
		"dhcp",
		"dhcp_client",
		"dhcp6",
		"dhcp6_client",
		"slaac", /* addressing */
		"replaced_default_routes",
		"source_routed", /* the target's own network */
		"cni",		 /* CNI mode */
		"docker",	 /* lanjoin docker-plugin */
		NULL,
	};
	const json_t *ri = rec->info;
	const char *via = json_string_value(json_object_get(ri, "bridge"));
	json_t *o = json_object(), *t = json_object(), *info = json_object(), *addrs;

	if (!o || !t || !info) {
		json_decref(o);
		json_decref(t);
		json_decref(info);
		return NULL;
	}
	if (!via)
		via = json_string_value(json_object_get(ri, "parent"));
	if (!via)
		via = json_string_value(json_object_get(ri, "uplink"));
	json_object_set_new(t, "spec", json_string(rec->target_spec));
	json_object_set_new(t, "kind", json_string(lj_target_kind_str(rec->target_kind)));
	json_object_set_new(t, "name", json_string(rec->target_name));
	json_object_set_new(t, "pid",
			    rec->target_pid > 0 ? json_integer(rec->target_pid) : json_null());
	json_object_set_new(t, "container_id", str_or_null(rec->container_id));
	addrs = json_object_get(ri, "addresses");
	copy_keys(info, ri, info_keys);

	json_object_set_new(o, "schema", json_string(LJ_SCHEMA_ATTACHMENT));
	json_object_set_new(o, "target", t);
	json_object_set_new(o, "ifname", json_string(rec->ifname));
	json_object_set_new(o, "way", json_string(rec->way));
	json_object_set_new(o, "status", json_string(rec->status));
	json_object_set_new(o, "host_ifname", str_or_null(rec->host_ifname));
	json_object_set_new(o, "via", str_or_null(via));
	json_object_set_new(o, "mac", str_or_null(json_string_value(json_object_get(ri, "mac"))));
	json_object_set_new(o, "addresses",
			    json_is_array(addrs) ? json_deep_copy(addrs) : json_array());
	json_object_set_new(o, "created", json_integer(rec->created));
	json_object_set_new(o, "info", info);
	json_object_set_new(o, "spec", rec->spec ? json_deep_copy(rec->spec) : json_null());
	json_object_set_new(o, "persistent", json_boolean(lj_json_persistent(rec)));
	return o;
}

json_t *lj_json_attachments(const struct lj_record *recs, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, lj_json_attachment(&recs[i]));
	return a;
}

json_t *lj_json_removed(const char *schema, const char *key, const struct lj_result *res)
{
	const json_t *notes = json_object_get(res->json, "notes");

	return json_pack("{s:s, s:o, s:o}", "schema", schema, key,
			 lj_json_attachments(res->records, res->n_records), "notes",
			 json_is_array(notes) ? json_deep_copy(notes) : json_array());
}

json_t *lj_json_uplink(const json_t *facts, const char *status)
{
	static const char *const keys[] = {"bridge",	"uplink", "kind",  "mac", "mtu",
					   "addresses", "routes", "probe", NULL};
	const json_t *st = json_object_get(facts, "status");
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "schema", json_string(LJ_SCHEMA_UPLINK));
	copy_keys(o, facts, keys);
	json_object_set_new(o, "status",
			    json_string(status		     ? status
					: json_is_string(st) ? json_string_value(st)
							     : "adopted"));
	json_object_set_new(o, "dhcp", json_boolean(json_is_true(json_object_get(facts, "dhcp"))));
	if (!json_object_get(o, "addresses"))
		json_object_set_new(o, "addresses", json_array());
	if (!json_object_get(o, "routes"))
		json_object_set_new(o, "routes", json_array());
	if (!json_object_get(o, "probe"))
		json_object_set_new(o, "probe", json_null());
	json_object_set_new(o, "link_local", lj_json_link_local(json_object_get(o, "addresses")));
	return o;
}

bool lj_json_is_link_local(const char *cidr)
{
	char ip[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (!cidr || snprintf(ip, sizeof(ip), "%s", cidr) >= (int)sizeof(ip))
		return false;
	ip[strcspn(ip, "/")] = '\0';
	return inet_pton(AF_INET6, ip, &a) == 1 && IN6_IS_ADDR_LINKLOCAL(&a);
}

json_t *lj_json_link_local(const json_t *addresses)
{
	json_t *a = json_array(), *v;
	size_t i;

	json_array_foreach(addresses, i, v) if (lj_json_is_link_local(json_string_value(v)))
		json_array_append(a, v);
	return a;
}

json_t *lj_json_shim(const json_t *facts)
{
	static const char *const keys[] = {"parent", "name", "address", "status", NULL};
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "schema", json_string(LJ_SCHEMA_SHIM));
	copy_keys(o, facts, keys);
	if (!json_object_get(o, "address"))
		json_object_set_new(o, "address", json_null());
	return o;
}

bool lj_json_persistent(const struct lj_record *rec)
{
	const char *t = json_string_value(json_object_get(rec->spec, "target"));

	return cli_spec_stored(t ? t : rec->target_spec, rec->ifname);
}

void lj_print_attach_json(const struct lj_result *res)
{
	json_t *o = res->n_records ? lj_json_attachment(&res->records[0]) : NULL;
	const json_t *up = json_object_get(res->json, "adopted_uplink");

	if (o && res->unchanged)
		json_object_set_new(o, "unchanged", json_true());
	if (o && json_is_string(up))
		json_object_set_new(o, "adopted_uplink", json_deep_copy(up));
	lj_print_json(o);
}

json_t *lj_json_uplink_named(const char *bridge, const char *status)
{
	json_t *a = NULL, *v, *o = NULL;
	size_t i;

	if (lj_uplink_list(&a, NULL) == 0)
		json_array_foreach(
			a, i,
			v) if (json_is_string(json_object_get(v, "bridge")) &&
			       strcmp(json_string_value(json_object_get(v, "bridge")), bridge) == 0)
		{
			o = lj_json_uplink(v, status);
			break;
		}
	json_decref(a);
	if (!o) {
		/* nothing (left) adopted under that name */
		json_t *f = json_pack("{s:s}", "bridge", bridge);
		o = lj_json_uplink(f, status ? status : "none");
		json_decref(f);
	}
	return o;
}

json_t *lj_json_uplinks(size_t *ret_bad)
{
	json_t *a = NULL, *v, *out = json_array();
	size_t i;

	if (lj_uplink_list(&a, ret_bad) < 0 || !out) {
		json_decref(out);
		return NULL;
	}
	json_array_foreach(a, i, v) json_array_append_new(out, lj_json_uplink(v, NULL));
	json_decref(a);
	return out;
}

/* Why a record file could not be read, for people and for "error". */
static const char *unreadable_why(int error)
{
	return error == -EBADMSG ? "malformed, truncated, a symlink or not lanjoin's"
				 : strerror(-error);
}

size_t lj_json_unreadable(const char *sub, size_t bad, bool warning, json_t **ret_json)
{
	struct lj_state_unreadable *v = NULL;
	struct lj_state *st = NULL;
	char names[600] = "";
	json_t *a = json_array();
	size_t n = 0, len = 0;
	int r;

	if (ret_json)
		*ret_json = a;
	else
		json_decref(a);
	if (!bad)
		return 0;
	r = lj_state_open_sub(sub, false, &st);
	if (r == 0)
		r = lj_state_list_unreadable(st, &v, &n);
	lj_state_close(st);
	if (r < 0 || n == 0) {
		/* gone meanwhile, or the directory cannot be read again: the count says it */
		lj_err("%s%zu file%s in %s/%s could not be read (%s), left alone",
		       warning ? "warning: " : "", bad, bad == 1 ? "" : "s", lj_state_dir(), sub,
		       unreadable_why(r < 0 ? r : -EBADMSG));
		return bad;
	}
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		int k;

		snprintf(path, sizeof(path), "%s/%s/%s", lj_state_dir(), sub, v[i].name);
		if (ret_json)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "schema",
							   LJ_SCHEMA_UNREADABLE, "file", path,
							   "error", v[i].why));
		if (len >= sizeof(names) - 1)
			continue;
		k = snprintf(names + len, sizeof(names) - len, "%s%s (%s)", i ? ", " : "",
			     v[i].name, v[i].why);
		len = k < 0 ? sizeof(names) : len + (size_t)k;
	}
	lj_err("%s%zu file%s in %s/%s could not be read, left alone: %s%s; if one was %s, undo "
	       "what it did by hand, then remove it",
	       warning ? "warning: " : "", n, n == 1 ? "" : "s", lj_state_dir(), sub, names,
	       len >= sizeof(names) - 1 ? "..." : "",
	       strcmp(sub, "uplinks") == 0 ? "an uplink adoption's" : "an attachment's");
	free(v);
	return n;
}
