/* SPDX-License-Identifier: MIT */
/* The options of a lanjoin network (docker network create -o KEY=VALUE), checked. */
#include <errno.h>
#include <linux/if_link.h>
#include <string.h>

#include "plugin/plugin.h"
#include "shared/parse.h"

#define GENERIC "com.docker.network.generic"

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int lj_plugin_macvlan_mode(const char *s, uint32_t *ret)
{
	static const struct {
		const char *name;
		uint32_t mode;
	} modes[] = {
		{"bridge", MACVLAN_MODE_BRIDGE},
		{"private", MACVLAN_MODE_PRIVATE},
		{"vepa", MACVLAN_MODE_VEPA},
		{"passthru", MACVLAN_MODE_PASSTHRU},
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(s, modes[i].name) == 0) {
			*ret = modes[i].mode;
			return 0;
		}
	return -EINVAL;
}

/* The generic options a network takes, and the modes that take each (NULL: every mode). */
static const struct {
	const char *key;
	const char *modes[3];
} known_opts[] = {
	{"mode", {NULL}},
	{"bridge", {"bridge", "ovs"}},
	{"uplink", {"bridge"}},
	{"vlan", {"ovs"}},
	{"ovsdb", {"ovs"}},
	{"parent", {"macvlan"}},
	{"macvlan_mode", {"macvlan"}},
	{"host_shim", {"macvlan"}},
	{"force", {"macvlan"}},
	{"conflict_check", {NULL}},
};

#define KNOWN_OPTS                                                                                 \
	"mode, bridge, uplink, vlan, ovsdb, parent, macvlan_mode, host_shim, force, "              \
	"conflict_check"
#define MODES "bridge, ovs, macvlan"

/* Is option i for mode? */
static bool opt_for(size_t i, const char *mode)
{
	if (!known_opts[i].modes[0])
		return true;
	for (size_t k = 0; k < 3 && known_opts[i].modes[k]; k++)
		if (strcmp(known_opts[i].modes[k], mode) == 0)
			return true;
	return false;
}

json_t *lj_plugin_take_options(const json_t *req, json_t *net)
{
	const json_t *opts = json_object_get(req, "Options"), *gen, *v;
	const char *key, *mode, *s;
	struct lj_cidr c;
	uint64_t n;
	uint32_t m;

	if (opts && !json_is_object(opts) && !json_is_null(opts))
		return lj_plugin_error("Options is not an object");
	gen = json_object_get(opts, GENERIC);
	if (gen && !json_is_object(gen) && !json_is_null(gen))
		return lj_plugin_error("%s is not an object", GENERIC);
	mode = json_string_value(json_object_get(gen, "mode"));
	if (!mode)
		return lj_plugin_error("option mode is missing: -o mode=bridge|ovs|macvlan");
	if (strcmp(mode, "nat") == 0 || strcmp(mode, "routed") == 0)
		return lj_plugin_error(
			"mode '%s' is not served by the Docker plugin yet (" MODES ")", mode);
	if (strcmp(mode, "bridge") != 0 && strcmp(mode, "ovs") != 0 && strcmp(mode, "macvlan") != 0)
		return lj_plugin_error("unknown mode '%.64s' (" MODES ")", mode);
	json_object_foreach((json_t *)gen, key, v)
	{
		size_t i;

		for (i = 0; i < sizeof(known_opts) / sizeof(known_opts[0]); i++)
			if (strcmp(key, known_opts[i].key) == 0)
				break;
		if (i == sizeof(known_opts) / sizeof(known_opts[0]))
			return lj_plugin_error("unknown option '%.64s' (known: " KNOWN_OPTS ")",
					       key);
		if (!json_is_string(v))
			return lj_plugin_error("option '%s' is not a string", key);
		if (!opt_for(i, mode))
			return lj_plugin_error("option %s is not for mode=%s", key, mode);
		json_object_set(net, key, (json_t *)v);
	}
	s = str(net, "conflict_check");
	if (s && strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
		return lj_plugin_error("invalid conflict_check '%.64s': expected true or false", s);
	if (strcmp(mode, "bridge") == 0 || strcmp(mode, "ovs") == 0) {
		s = str(net, "bridge");
		if (!s)
			return lj_plugin_error("mode %s needs -o bridge=NAME", mode);
		if (!lj_ifname_valid(s) || s[0] == '-')
			return lj_plugin_error("invalid bridge name '%.64s'", s);
		s = str(net, "uplink");
		if (s && !lj_ifname_valid(s))
			return lj_plugin_error("invalid uplink name '%.64s'", s);
		s = str(net, "vlan");
		if (s && (lj_parse_uint(s, 1, 4094, &n) < 0))
			return lj_plugin_error("invalid VLAN tag '%.64s': expected 1-4094", s);
		s = str(net, "ovsdb");
		if (s && (strncmp(s, "unix:/", 6) != 0 || strlen(s) > 200))
			return lj_plugin_error("invalid ovsdb '%.64s': expected unix:/PATH", s);
		return NULL;
	}
	s = str(net, "parent");
	if (!s)
		return lj_plugin_error("mode macvlan needs -o parent=LINK");
	if (!lj_ifname_valid(s))
		return lj_plugin_error("invalid parent name '%.64s'", s);
	s = str(net, "macvlan_mode");
	if (s && lj_plugin_macvlan_mode(s, &m) < 0)
		return lj_plugin_error("invalid macvlan_mode '%.64s' (bridge, private, vepa, "
				       "passthru)",
				       s);
	if (!s)
		json_object_set_new(net, "macvlan_mode", json_string("bridge"));
	s = str(net, "force");
	if (s && strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
		return lj_plugin_error("invalid force '%.64s': expected true or false", s);
	s = str(net, "host_shim");
	if (s && lj_parse_cidr(s, true, &c) < 0)
		return lj_plugin_error("invalid host_shim '%.64s': expected ADDRESS/PREFIX", s);
	if (s && lj_ip_link_local(&c.ip))
		return lj_plugin_error("invalid host_shim '%.64s': " LJ_LINK_LOCAL_WHY, s);
	return NULL;
}
