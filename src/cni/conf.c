/* SPDX-License-Identifier: MIT */
/* CNI environment and network configuration: read, validate, map onto lj_attach_opts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cni/cni.h"
#include "lib/core/target.h"
#include "lib/core/way.h"
#include "shared/macro.h"

#define CONTAINER_ID_MAX 256
#define CNI_ARGS_MAX 4096
#define PATH_ENV_MAX 4096

int lj_cni_fail(struct lj_cni_err *err, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	err->details[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(err->details, sizeof(err->details), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* --- versions -------------------------------------------------------------------------- */

static const char *const versions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

long lj_cni_version_num(const char *s)
{
	long part[3] = {0};
	int i = 0;

	if (!s || !*s)
		return -1;
	for (const char *p = s; i < 3; i++) {
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9') {
			part[i] = part[i] * 10 + (*p - '0');
			if (part[i] > 999)
				return -1;
			p++;
		}
		if (i < 2 && *p++ != '.')
			return -1;
		if (i == 2 && *p)
			return -1;
	}
	return part[0] * 1000000 + part[1] * 1000 + part[2];
}

bool lj_cni_version_supported(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(versions); i++)
		if (strcmp(s, versions[i]) == 0)
			return true;
	return false;
}

json_t *lj_cni_versions_json(void)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < ARRAY_SIZE(versions); i++)
		json_array_append_new(a, json_string(versions[i]));
	return a;
}

/* --- environment ----------------------------------------------------------------------- */

static bool id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONTAINER_ID_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') ||
		      (p != s && (*p == '_' || *p == '.' || *p == '-'))))
			return false;
	return true;
}

static bool path_valid(const char *s)
{
	if (s[0] != '/' || strlen(s) >= LJ_TARGET_SPEC_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* CNI_ARGS: "K=V;K=V". Unknown keys are ignored (IgnoreUnknown or not); MAC is used. */
static int parse_cni_args(const char *s, struct lj_cni_env *env, struct lj_cni_err *err)
{
	char buf[CNI_ARGS_MAX + 1], *save = NULL;

	if (strlen(s) > CNI_ARGS_MAX)
		return lj_cni_fail(err, LJ_CNI_E_ENV, "invalid CNI_ARGS", "longer than %d bytes",
				   CNI_ARGS_MAX);
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *pair = strtok_r(buf, ";", &save); pair; pair = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(pair, '=');

		if (!eq || eq == pair || strchr(eq + 1, '='))
			return lj_cni_fail(err, LJ_CNI_E_ENV, "invalid CNI_ARGS",
					   "'%.64s' is not KEY=VALUE", pair);
		*eq = '\0';
		if (strcmp(pair, "MAC") == 0) {
			if (lj_parse_mac(eq + 1, env->args_mac) < 0)
				return lj_cni_fail(err, LJ_CNI_E_ENV, "invalid CNI_ARGS",
						   "MAC '%.32s' is not a unicast MAC address",
						   eq + 1);
			env->has_args_mac = true;
		}
	}
	return 0;
}

int lj_cni_env_parse(struct lj_cni_env *ret, struct lj_cni_err *err)
{
	static const struct {
		const char *name;
		enum lj_cni_cmd cmd;
	} cmds[] = {
		{"ADD", LJ_CNI_ADD},	     {"DEL", LJ_CNI_DEL},	{"CHECK", LJ_CNI_CHECK},
		{"VERSION", LJ_CNI_VERSION}, {"STATUS", LJ_CNI_STATUS}, {"GC", LJ_CNI_GC},
	};
	struct lj_cni_env env = {0};
	const char *cmd = getenv("CNI_COMMAND"), *v;
	char missing[128] = "";
	bool found = false, attachment;

	for (size_t i = 0; cmd && i < ARRAY_SIZE(cmds); i++)
		if (strcmp(cmd, cmds[i].name) == 0) {
			env.cmd = cmds[i].cmd;
			found = true;
		}
	if (!found) {
		/* libcni recognises exactly this text ("unknown CNI_COMMAND: VERSION"). */
		lj_cni_fail(err, LJ_CNI_E_ENV, "", NULL);
		snprintf(err->msg, sizeof(err->msg), "unknown CNI_COMMAND: %.32s", cmd ? cmd : "");
		return LJ_CNI_E_ENV;
	}
	if (env.cmd == LJ_CNI_VERSION) {
		*ret = env;
		return 0;
	}
	attachment = env.cmd == LJ_CNI_ADD || env.cmd == LJ_CNI_DEL || env.cmd == LJ_CNI_CHECK;

	env.container_id = getenv("CNI_CONTAINERID");
	env.netns = getenv("CNI_NETNS");
	env.ifname = getenv("CNI_IFNAME");
	env.path = getenv("CNI_PATH");
	if (attachment) {
		if (!env.container_id || !*env.container_id)
			strcat(missing, ",CNI_CONTAINERID");
		if (env.cmd != LJ_CNI_DEL && (!env.netns || !*env.netns))
			strcat(missing, ",CNI_NETNS");
		if (!env.ifname || !*env.ifname)
			strcat(missing, ",CNI_IFNAME");
	}
	if (env.cmd != LJ_CNI_STATUS && (!env.path || !*env.path))
		strcat(missing, ",CNI_PATH");
	if (missing[0])
		return lj_cni_fail(err, LJ_CNI_E_ENV, "required env variables missing", "[%s]",
				   missing + 1);
	if (!env.path)
		env.path = "";
	if (!env.netns)
		env.netns = "";
	if (strlen(env.path) > PATH_ENV_MAX)
		return lj_cni_fail(err, LJ_CNI_E_ENV, "invalid CNI_PATH", "longer than %d bytes",
				   PATH_ENV_MAX);
	if (attachment) {
		if (!id_valid(env.container_id))
			return lj_cni_fail(err, LJ_CNI_E_ENV, "invalid CNI_CONTAINERID",
					   "'%.64s' must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$ and be "
					   "at most %d bytes",
					   env.container_id, CONTAINER_ID_MAX);
		if (!lj_ifname_valid(env.ifname))
			return lj_cni_fail(err, LJ_CNI_E_ENV, "invalid CNI_IFNAME",
					   "'%.32s': " LJ_IFNAME_RULE, env.ifname);
		if (env.netns[0] && !path_valid(env.netns))
			return lj_cni_fail(err, LJ_CNI_E_ENV, "invalid CNI_NETNS",
					   "'%.64s' is not an absolute path of at most %d bytes",
					   env.netns, LJ_TARGET_SPEC_MAX - 1);
		v = getenv("CNI_ARGS");
		if (v && *v) {
			int r = parse_cni_args(v, &env, err);
			if (r)
				return r;
		}
	}
	*ret = env;
	return 0;
}

/* --- configuration helpers ------------------------------------------------------------- */

static int bad(struct lj_cni_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct lj_cni_err *err, const char *fmt, ...)
{
	va_list ap;

	err->code = LJ_CNI_E_CONFIG;
	snprintf(err->msg, sizeof(err->msg), "invalid network configuration");
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return LJ_CNI_E_CONFIG;
}

static int unsupported(struct lj_cni_err *err, const char *key, const char *why)
{
	return lj_cni_fail(err, LJ_CNI_E_UNSUPPORTED,
			   "unsupported field in the network configuration", "\"%s\": %s", key,
			   why);
}

/*
 * Members: 0 absent, 1 present (*ret set), -1 invalid (err set, err->code is the answer).
 * Strings: no NULs, shorter than max bytes.
 */
static int get_str(const json_t *o, const char *key, size_t max, const char **ret,
		   struct lj_cni_err *err)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return -!!bad(err, "\"%s\" must be a string", key);
	if (json_string_length(v) >= max || strlen(json_string_value(v)) != json_string_length(v))
		return -!!bad(err, "\"%s\" must be a string shorter than %zu bytes", key, max);
	*ret = json_string_value(v);
	return 1;
}

static int get_uint(const json_t *o, const char *key, uint64_t min, uint64_t max, uint32_t *ret,
		    struct lj_cni_err *err)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
	    json_integer_value(v) > (json_int_t)max)
		return -!!bad(err, "\"%s\" must be an integer from %llu to %llu", key,
			      (unsigned long long)min, (unsigned long long)max);
	*ret = (uint32_t)json_integer_value(v);
	return 1;
}

static int get_bool(const json_t *o, const char *key, bool *ret, struct lj_cni_err *err)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return -!!bad(err, "\"%s\" must be true or false", key);
	*ret = json_is_true(v);
	return 1;
}

static int get_ifname(const json_t *o, const char *key, char ret[IFNAMSIZ], struct lj_cni_err *err)
{
	const char *s;
	int r = get_str(o, key, 64, &s, err);

	if (r <= 0)
		return r;
	if (!lj_ifname_valid(s))
		return -!!bad(err,
			      "\"%s\": '%s' is not a valid interface name (" LJ_IFNAME_RULE ")",
			      key, s);
	snprintf(ret, IFNAMSIZ, "%s", s);
	return 1;
}

static int get_cidr(const json_t *o, const char *key, struct lj_cidr *ret, struct lj_cni_err *err)
{
	const char *s;
	int r = get_str(o, key, 64, &s, err);

	if (r <= 0)
		return r;
	if (lj_parse_cidr(s, true, ret) < 0)
		return -!!bad(err, "\"%s\": '%s' is not ADDRESS/PREFIX", key, s);
	return 1;
}

static bool plugin_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return false;
	return true;
}

/* Keys lanjoin reads that only some ways take, each with the spec option it sets (the way
 * table says which ways take it). */
static const struct {
	const char *key;
	enum lj_spec_opt spec;
} way_keys[] = {
	{"bridge", LJ_OPT_BRIDGE},    {"uplink", LJ_OPT_UPLINK},
	{"vlan", LJ_OPT_VLAN},	      {"ovsdb", LJ_OPT_OVSDB},
	{"master", LJ_OPT_PARENT},    {"parent", LJ_OPT_PARENT},
	{"macvlanMode", LJ_OPT_MODE}, {"hostShim", LJ_OPT_HOST_SHIM},
	{"address", LJ_OPT_ADDRESS},  {"private", LJ_OPT_PRIVATE},
	{"publish", LJ_OPT_PUBLISH},  {"conflictCheck", LJ_OPT_ADDRESSING},
	{"force", LJ_OPT_MODE}, /* macvlan: passthru on the host's uplink */
};

/* The order the messages name the modes (ways) in. */
static const enum lj_way mode_order[] = {LJ_WAY_BRIDGE, LJ_WAY_MACVLAN, LJ_WAY_OVS, LJ_WAY_NAT,
					 LJ_WAY_ROUTED};

/* Features of the reference plugins lanjoin does not have: refused unless false. */
static const char *const reference_only[] = {
	"isGateway", "isDefaultGateway", "ipMasq", "hairpinMode", "promiscMode", "forceAddress",
};

static int parse_way(const json_t *root, struct lj_cni_conf *c, struct lj_cni_err *err)
{
	struct lj_attach_opts *o = &c->opts;
	const char *s = NULL;
	char names[64];
	int r;

	r = get_str(root, "mode", 16, &s, err);
	if (r < 0)
		return err->code;
	lj_way_names_text(names, sizeof(names), ", ", " or ", mode_order, ARRAY_SIZE(mode_order));
	if (r == 0)
		return bad(err, "\"mode\" is required: %s", names);
	if (lj_way_find(s, &o->way) < 0)
		return bad(err, "\"mode\": '%s' is not %s", s, names);
	c->way = o->way;

	for (size_t i = 0; i < ARRAY_SIZE(way_keys); i++)
		if (json_object_get(root, way_keys[i].key) &&
		    !lj_way_takes(c->way, way_keys[i].spec))
			return unsupported(err, way_keys[i].key, "does not apply to this mode");
	for (size_t i = 0; i < ARRAY_SIZE(reference_only); i++) {
		const json_t *v = json_object_get(root, reference_only[i]);
		if (v && !json_is_false(v))
			return unsupported(err, reference_only[i], "lanjoin does not implement it");
	}

	if ((r = get_uint(root, "mtu", 68, 65535, &o->mtu, err)) < 0)
		return err->code;
	/*
	 * The IPAM plugin is the authority on addresses here; an ARP probe of each address
	 * (about 40 ms) is only done when asked for, as the reference plugins never probe.
	 */
	{
		bool check = false;
		if (get_bool(root, "conflictCheck", &check, err) < 0)
			return err->code;
		o->no_conflict_check = !check;
	}

	/* CNI's bridge plugin creates a missing bridge by design (default cni0): so do we. */
	o->create_bridge = true;
	switch (c->way) {
	case LJ_WAY_BRIDGE:
		if ((r = get_ifname(root, "bridge", o->bridge, err)) < 0)
			return err->code;
		if (r == 0)
			snprintf(o->bridge, sizeof(o->bridge), "cni0");
		if ((r = get_ifname(root, "uplink", o->uplink, err)) < 0)
			return err->code;
		break;
	case LJ_WAY_OVS:
		if ((r = get_ifname(root, "bridge", o->bridge, err)) < 0)
			return err->code;
		if (r == 0)
			return bad(err, "mode ovs needs \"bridge\"");
		if ((r = get_uint(root, "vlan", 1, 4094, &o->vlan, err)) < 0)
			return err->code;
		if ((r = get_str(root, "ovsdb", 256, &o->ovsdb, err)) < 0)
			return err->code;
		if (r && (strncmp(o->ovsdb, "unix:/", 6) != 0))
			return bad(err, "\"ovsdb\": '%s' is not unix:/PATH", o->ovsdb);
		break;
	case LJ_WAY_MACVLAN:
	case LJ_WAY_ROUTED: {
		char parent[IFNAMSIZ] = "";
		if ((r = get_ifname(root, "master", o->parent, err)) < 0)
			return err->code;
		if ((r = get_ifname(root, "parent", parent, err)) < 0)
			return err->code;
		if (r && o->parent[0] && strcmp(parent, o->parent) != 0)
			return bad(err, "\"master\" and \"parent\" name different links");
		if (r)
			snprintf(o->parent, sizeof(o->parent), "%s", parent);
		if (!o->parent[0])
			return bad(err, "mode %s needs \"master\" (or \"parent\")",
				   lj_way_name(c->way));
		if (c->way == LJ_WAY_ROUTED)
			break;
		if ((r = get_str(root, "macvlanMode", 16, &s, err)) < 0)
			return err->code;
		if (r && lj_way_mode_find(LJ_WAY_MACVLAN, s, &o->macvlan_mode) < 0)
			return bad(err, "\"macvlanMode\": '%s' is not %s", s,
				   lj_way_modes_text(LJ_WAY_MACVLAN, names, sizeof(names), ", ",
						     " or "));
		if ((r = get_cidr(root, "hostShim", &o->host_shim, err)) < 0)
			return err->code;
		if (get_bool(root, "force", &o->force, err) < 0)
			return err->code;
		break;
	}
	case LJ_WAY_NAT: {
		const json_t *pub = json_object_get(root, "publish"), *v;
		size_t i;

		if ((r = get_ifname(root, "uplink", o->uplink, err)) < 0)
			return err->code;
		if (r == 0)
			return bad(err, "mode nat needs \"uplink\"");
		if ((r = get_cidr(root, "address", &o->address, err)) < 0)
			return err->code;
		c->has_address = r == 1;
		if (c->has_address && o->address.ip.family != AF_INET)
			return bad(err, "\"address\": the nat mode claims an IPv4 address");
		if ((r = get_cidr(root, "private", &o->private_net, err)) < 0)
			return err->code;
		if (r && o->private_net.ip.family != AF_INET)
			return bad(err, "\"private\": the nat mode's private side is IPv4");
		if (pub && !json_is_array(pub))
			return bad(err,
				   "\"publish\" must be an array of \"[tcp|udp/]PORT[:CPORT]\"");
		if (json_array_size(pub) > LJ_CNI_MAX_PORTS)
			return bad(err, "\"publish\": at most %d ports", LJ_CNI_MAX_PORTS);
		json_array_foreach(pub, i, v)
		{
			struct lj_publish *p = &o->publish[o->n_publish];
			if (!json_is_string(v) || json_string_length(v) > 32 ||
			    lj_parse_publish(json_string_value(v), p) < 0)
				return bad(err,
					   "\"publish\"[%zu] is not \"[tcp|udp/]PORT[:CPORT]\" "
					   "with ports 1-65535",
					   i);
			o->n_publish++;
		}
		break;
	}
	}
	return 0;
}

/* runtimeConfig.portMappings → the nat way's published ports. */
static int parse_port_mappings(const json_t *pm, struct lj_cni_conf *c, struct lj_cni_err *err)
{
	struct lj_attach_opts *o = &c->opts;
	const json_t *m;
	size_t i;

	if (!json_is_array(pm))
		return bad(err, "runtimeConfig.portMappings must be an array");
	if (json_array_size(pm) == 0)
		return 0;
	if (c->way != LJ_WAY_NAT)
		return unsupported(err, "runtimeConfig.portMappings",
				   "port mappings need mode nat "
				   "(or a portmap plugin after lanjoin in the list)");
	json_array_foreach(pm, i, m)
	{
		uint32_t host = 0, cont = 0;
		const char *proto = "tcp", *hip = NULL;
		struct lj_publish p;
		int r;

		if (!json_is_object(m))
			return bad(err, "runtimeConfig.portMappings[%zu] must be an object", i);
		if ((r = get_uint(m, "hostPort", 1, 65535, &host, err)) < 0)
			return err->code;
		if ((r = get_uint(m, "containerPort", 1, 65535, &cont, err)) < 0)
			return err->code;
		if (!host || !cont)
			return bad(err,
				   "runtimeConfig.portMappings[%zu] needs hostPort and "
				   "containerPort",
				   i);
		if ((r = get_str(m, "protocol", 16, &proto, err)) < 0)
			return err->code;
		if (strcasecmp(proto, "tcp") == 0 || !*proto)
			p.proto = IPPROTO_TCP;
		else if (strcasecmp(proto, "udp") == 0)
			p.proto = IPPROTO_UDP;
		else
			return unsupported(err, "runtimeConfig.portMappings",
					   "only tcp and udp can be published");
		if ((r = get_str(m, "hostIP", 64, &hip, err)) < 0)
			return err->code;
		if (hip && *hip) {
			struct lj_ip ip;
			if (lj_parse_ip(hip, &ip) < 0)
				return bad(err,
					   "runtimeConfig.portMappings[%zu].hostIP '%s' is not "
					   "an address",
					   i, hip);
			if (c->has_address && !lj_ip_equal(&ip, &o->address.ip))
				return unsupported(err, "runtimeConfig.portMappings",
						   "hostIP must be the network's \"address\"");
			if (c->n_pm_host_ips < LJ_CNI_MAX_PORTS)
				c->pm_host_ips[c->n_pm_host_ips++] = ip;
		}
		p.port = (uint16_t)host;
		p.cport = (uint16_t)cont;
		for (size_t k = 0; k < o->n_publish; k++)
			if (o->publish[k].proto == p.proto && o->publish[k].port == p.port)
				return bad(err, "port %s/%u is published twice",
					   p.proto == IPPROTO_UDP ? "udp" : "tcp", p.port);
		if (o->n_publish == LJ_MAX_PUBLISH)
			return bad(err, "at most %d published ports", LJ_MAX_PUBLISH);
		o->publish[o->n_publish++] = p;
	}
	return 0;
}

static int parse_ips(const json_t *a, const char *what, struct lj_cni_conf *c,
		     struct lj_cni_err *err)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(a))
		return bad(err, "%s must be an array of addresses", what);
	if (json_array_size(a) > LJ_MAX_IPS)
		return bad(err, "%s: at most %d addresses", what, LJ_MAX_IPS);
	c->n_rt_ips = 0;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) > 64 ||
		    lj_parse_cidr(json_string_value(v), false, &c->rt_ips[c->n_rt_ips]) < 0)
			return bad(err, "%s[%zu] is not an address (ADDRESS[/PREFIX])", what, i);
		if (lj_ip_link_local(&c->rt_ips[c->n_rt_ips].ip))
			return bad(err, "%s[%zu] is " LJ_LINK_LOCAL_WHY, what, i);
		c->n_rt_ips++;
	}
	return 0;
}

/* Whether the plugin declared capability name (all count when "capabilities" is absent). */
static bool capable(const json_t *root, const char *name)
{
	const json_t *caps = json_object_get(root, "capabilities");

	if (!caps)
		return true;
	return json_is_true(json_object_get(caps, name));
}

static int parse_runtime(const json_t *root, const struct lj_cni_env *env, struct lj_cni_conf *c,
			 struct lj_cni_err *err)
{
	const json_t *rc = json_object_get(root, "runtimeConfig");
	const json_t *args = json_object_get(root, "args"), *acni = NULL, *v;
	const json_t *caps = json_object_get(root, "capabilities");
	struct lj_attach_opts *o = &c->opts;
	const char *s;
	int r;

	if (caps && !json_is_object(caps))
		return bad(err, "\"capabilities\" must be an object");
	if (rc && !json_is_object(rc))
		return bad(err, "\"runtimeConfig\" must be an object");
	if (args && !json_is_object(args))
		return bad(err, "\"args\" must be an object");
	if (args) {
		acni = json_object_get(args, "cni");
		if (acni && !json_is_object(acni))
			return bad(err, "\"args\".\"cni\" must be an object");
	}

	/* MAC: CNI_ARGS < args.cni.mac < runtimeConfig.mac */
	if (env && env->has_args_mac) {
		memcpy(o->mac, env->args_mac, LJ_MAC_LEN);
		o->has_mac = true;
	}
	if ((r = get_str(acni, "mac", 32, &s, err)) < 0)
		return err->code;
	if (r) {
		if (lj_parse_mac(s, o->mac) < 0)
			return bad(err, "args.cni.mac '%s' is not a unicast MAC address", s);
		o->has_mac = true;
	}
	if (rc && capable(root, "mac")) {
		if ((r = get_str(rc, "mac", 32, &s, err)) < 0)
			return err->code;
		if (r) {
			if (lj_parse_mac(s, o->mac) < 0)
				return bad(err,
					   "runtimeConfig.mac '%s' is not a unicast MAC "
					   "address",
					   s);
			o->has_mac = true;
		}
	}

	/* Static addresses (used when there is no IPAM; an IPAM plugin reads them itself) */
	if (acni && (v = json_object_get(acni, "ips")) &&
	    (r = parse_ips(v, "args.cni.ips", c, err)))
		return r;
	if (rc && capable(root, "ips") && (v = json_object_get(rc, "ips")) &&
	    (r = parse_ips(v, "runtimeConfig.ips", c, err)))
		return r;

	if (rc && capable(root, "portMappings") && (v = json_object_get(rc, "portMappings")) &&
	    (r = parse_port_mappings(v, c, err)))
		return r;
	return 0;
}

static int parse_valid_list(const json_t *root, struct lj_cni_conf *c, struct lj_cni_err *err)
{
	const char *key = "cni.dev/valid-attachments";
	const json_t *a = json_object_get(root, key), *v;
	size_t i;

	if (!a) {
		key = "cni.dev/attachments";
		a = json_object_get(root, key);
	}
	if (!a)
		return bad(err,
			   "GC needs \"cni.dev/valid-attachments\" (or \"cni.dev/attachments\")");
	if (!json_is_array(a))
		return bad(err, "\"%s\" must be an array", key);
	json_array_foreach(a, i, v)
	{
		const char *id = NULL, *ifn = NULL;
		int r;

		if (!json_is_object(v))
			return bad(err, "\"%s\"[%zu] must be an object", key, i);
		if ((r = get_str(v, "containerID", CONTAINER_ID_MAX + 1, &id, err)) < 0 ||
		    (r = get_str(v, "ifname", 64, &ifn, err)) < 0)
			return err->code;
		if (!id || !ifn || !id_valid(id) || !lj_ifname_valid(ifn))
			return bad(err, "\"%s\"[%zu] needs a valid \"containerID\" and \"ifname\"",
				   key, i);
	}
	c->valid = (json_t *)a;
	return 0;
}

void lj_cni_peek_version(const char *buf, size_t size, char ret[16])
{
	json_t *root = size ? json_loadb(buf, size, 0, NULL) : NULL;
	const json_t *v = json_object_get(root, "cniVersion");

	ret[0] = '\0';
	if (json_is_string(v) && lj_cni_version_supported(json_string_value(v)))
		snprintf(ret, 16, "%s", json_string_value(v));
	json_decref(root);
}

int lj_cni_conf_parse(const char *buf, size_t size, enum lj_cni_cmd cmd,
		      const struct lj_cni_env *env, struct lj_cni_conf *ret, struct lj_cni_err *err)
{
	struct lj_cni_conf c = {0};
	const json_t *v, *ipam;
	json_error_t jerr;
	const char *s;
	bool lenient;
	long ver;
	int r;

	c.raw = buf;
	c.raw_size = size;
	c.root = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!c.root)
		return lj_cni_fail(err, LJ_CNI_E_DECODE,
				   "failed to decode the network configuration",
				   "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(c.root)) {
		r = lj_cni_fail(err, LJ_CNI_E_DECODE, "failed to decode the network configuration",
				"it is not a JSON object");
		goto fail;
	}

	/* The version first, like the Go skel: a missing one is 0.1.0. */
	v = json_object_get(c.root, "cniVersion");
	if (v && !json_is_string(v)) {
		r = lj_cni_fail(err, LJ_CNI_E_DECODE, "failed to decode the network configuration",
				"\"cniVersion\" must be a string");
		goto fail;
	}
	s = v ? json_string_value(v) : "0.1.0";
	if (!lj_cni_version_supported(s)) {
		r = lj_cni_fail(
			err, LJ_CNI_E_VERSION, "incompatible CNI versions",
			"config is \"%.15s\", plugin supports [0.3.0 0.3.1 0.4.0 1.0.0 1.1.0]", s);
		goto fail;
	}
	snprintf(c.version, sizeof(c.version), "%s", s);
	ver = lj_cni_version_num(c.version);
	if (cmd == LJ_CNI_CHECK && ver < lj_cni_version_num("0.4.0")) {
		r = lj_cni_fail(err, LJ_CNI_E_VERSION, "incompatible CNI versions",
				"config version \"%s\" does not allow CHECK", c.version);
		goto fail;
	}
	if ((cmd == LJ_CNI_STATUS || cmd == LJ_CNI_GC) && ver < lj_cni_version_num("1.1.0")) {
		r = lj_cni_fail(err, LJ_CNI_E_VERSION, "incompatible CNI versions",
				"config version \"%s\" does not allow %s", c.version,
				cmd == LJ_CNI_GC ? "GC" : "STATUS");
		goto fail;
	}

	r = get_str(c.root, "name", sizeof(c.name), &s, err);
	if (r < 0) {
		r = err->code;
		goto fail;
	}
	if (r == 0 || !*s) {
		r = bad(err, "\"name\" is required");
		goto fail;
	}
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') ||
		      (p != s && (*p == '_' || *p == '.' || *p == '-')))) {
			r = bad(err, "\"name\" '%s' must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$", s);
			goto fail;
		}
	snprintf(c.name, sizeof(c.name), "%s", s);
	r = get_str(c.root, "type", 64, &s, err);
	if (r < 0) {
		r = err->code;
		goto fail;
	}

	/*
	 * DEL and GC need only the version, the name and the IPAM plugin: a runtime sends DEL
	 * after every failed ADD, also one that failed on this configuration, and a DEL that
	 * fails is retried forever. The rest is validated for ADD, CHECK and STATUS.
	 */
	lenient = cmd == LJ_CNI_DEL || cmd == LJ_CNI_GC;
	r = parse_way(c.root, &c, err);
	if (r && !lenient)
		goto fail;

	ipam = json_object_get(c.root, "ipam");
	if (ipam && !json_is_object(ipam)) {
		r = bad(err, "\"ipam\" must be an object");
		goto fail;
	}
	if (ipam) {
		r = get_str(ipam, "type", sizeof(c.ipam_type), &s, err);
		if (r < 0) {
			r = err->code;
			goto fail;
		}
		if (r == 1 && *s) {
			if (!plugin_name_valid(s)) {
				r = bad(err, "\"ipam\".\"type\" '%s' is not a plugin name", s);
				goto fail;
			}
			snprintf(c.ipam_type, sizeof(c.ipam_type), "%s", s);
			c.ipam_dhcp = strcmp(s, "dhcp") == 0;
		}
	}
	/* How long an IPAM plugin may take (seconds; lj_cni_delegate kills it then). */
	c.ipam_timeout = LJ_CNI_IPAM_TIMEOUT_DEFAULT;
	r = get_uint(c.root, "ipamTimeout", 1, 3600, &c.ipam_timeout, err);
	if (r < 0 && !lenient) {
		r = err->code;
		goto fail;
	}
	if (r < 0) {
		memset(err, 0, sizeof(*err));
		c.ipam_timeout = LJ_CNI_IPAM_TIMEOUT_DEFAULT;
	}
	if (c.ipam_dhcp && (c.way == LJ_WAY_NAT || c.way == LJ_WAY_ROUTED) && !lenient) {
		r = unsupported(err, "ipam",
				c.way == LJ_WAY_NAT
					? "the nat mode cannot take its address from dhcp"
					: "the routed mode cannot take its addresses from dhcp");
		goto fail;
	}
	v = json_object_get(c.root, "dns");
	if (v && !json_is_object(v) && !lenient) {
		r = bad(err, "\"dns\" must be an object");
		goto fail;
	}
	c.dns = json_is_object(v) ? (json_t *)v : NULL;
	v = json_object_get(c.root, "prevResult");
	if (v && !lenient && (r = lj_cni_prev_result_check(v, err)))
		goto fail;
	c.prev_result = json_is_object(v) ? (json_t *)v : NULL;

	r = parse_runtime(c.root, env, &c, err);
	if (r && !lenient)
		goto fail;
	r = 0;
	if (cmd == LJ_CNI_GC) {
		r = parse_valid_list(c.root, &c, err);
		if (r)
			goto fail;
	}
	*ret = c;
	return 0;
fail:
	json_decref(c.root);
	return r;
}

void lj_cni_conf_free(struct lj_cni_conf *c)
{
	json_decref(c->root);
	c->root = NULL;
}
