/* SPDX-License-Identifier: MIT */
/* Attachment specs: canonical JSON from options and back, and the spec directory. */
#include "cli/spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/core/spec-store.h"
#include "lib/core/state.h"
#include "lib/core/target.h"
#include "lib/core/way.h"
#include "lib/foreign/engine.h"
#include "shared/macro.h"
#include "shared/name.h"

/* the hex digits of a container ID as `docker ps` shows it */
#define SHORT_ID_LEN 12

#define SPEC_MAX_SIZE (1 << 20)

/* The options given more than once (arrays in a spec). */
static bool repeatable(const char *name)
{
	return strcmp(name, "ip") == 0 || strcmp(name, "gateway") == 0 ||
	       strcmp(name, "route") == 0 || strcmp(name, "publish") == 0;
}

/* The options whose value is a number (integers in a spec). */
static bool numeric(const char *name)
{
	return strcmp(name, "vlan") == 0 || strcmp(name, "mtu") == 0 ||
	       strcmp(name, "dhcp-timeout") == 0;
}

json_t *cli_spec_new(enum lj_way way, const char *target, const char *ifname)
{
	json_t *s = json_object();

	if (!s)
		return NULL;
	json_object_set_new(s, "way", json_string(lj_way_name(way)));
	if (target)
		json_object_set_new(s, "target", json_string(target));
	if (ifname && *ifname)
		json_object_set_new(s, "ifname", json_string(ifname));
	return s;
}

void cli_default_ifname(struct lj_attach_opts *o, json_t *spec, struct lj_target *t)
{
	if (o->ifname[0])
		return;
	/* a container is looked at for an attachment made as eth1 by an earlier lanjoin */
	if (t->kind == LJ_TARGET_CONTAINER && lj_target_open_ns(t) < 0)
		lj_target_close(t); /* lj_attach says why */
	snprintf(o->ifname, sizeof(o->ifname), "%s",
		 lj_default_ifname(o->target, t->netns_fd >= 0 ? t : NULL));
	if (spec)
		json_object_set_new(spec, "ifname", json_string(o->ifname));
}

/* The canonical text of value for option name (addresses as printed, MACs lower case). */
static json_t *canonical(const char *name, const char *value)
{
	char buf[192];
	struct lj_cidr c;
	struct lj_ip ip;
	struct lj_route_spec rt;
	struct lj_publish p;
	uint8_t mac[6];
	uint64_t n;

	if (!value)
		return json_true();
	if (numeric(name) && lj_parse_uint(value, 0, UINT32_MAX, &n) == 0)
		return json_integer((json_int_t)n);
	if ((strcmp(name, "ip") == 0 || strcmp(name, "host-shim") == 0 ||
	     strcmp(name, "address") == 0 || strcmp(name, "private") == 0) &&
	    lj_parse_cidr(value, true, &c) == 0)
		return json_string(lj_cidr_to_string(&c, buf, sizeof(buf)));
	if ((strcmp(name, "gateway") == 0 || strcmp(name, "to") == 0) &&
	    lj_parse_ip(value, &ip) == 0)
		return json_string(lj_ip_to_string(&ip, buf, sizeof(buf)));
	/* --to podman[:NETWORK] is --to docker[:NETWORK]: the container's engine either way */
	if (strcmp(name, "to") == 0 && strncmp(value, "podman", 6) == 0 &&
	    (value[6] == '\0' || value[6] == ':')) {
		snprintf(buf, sizeof(buf), "docker%s", value + 6);
		return json_string(buf);
	}
	if (strcmp(name, "mac") == 0 && lj_parse_mac(value, mac) == 0)
		return json_string(lj_mac_to_string(mac, buf, sizeof(buf)));
	if (strcmp(name, "route") == 0 && lj_parse_route(value, &rt) == 0) {
		char via[LJ_IP_STRLEN];
		int k = snprintf(buf, sizeof(buf), "%s",
				 lj_cidr_to_string(&rt.dst, buf + 64, sizeof(buf) - 64));
		if (rt.via.family != AF_UNSPEC && k > 0 && (size_t)k < 64)
			snprintf(buf + k, 64 - (size_t)k, "@%s",
				 lj_ip_to_string(&rt.via, via, sizeof(via)));
		return json_string(buf);
	}
	if (strcmp(name, "publish") == 0 && lj_parse_publish(value, &p) == 0) {
		snprintf(buf, sizeof(buf), "%s/%u:%u", p.proto == IPPROTO_UDP ? "udp" : "tcp",
			 p.port, p.cport);
		return json_string(buf);
	}
	return json_string(value);
}

int cli_spec_add(json_t *spec, const char *name, const char *value)
{
	json_t *v = canonical(name, value), *a;

	if (!v)
		return -ENOMEM;
	if (!repeatable(name))
		return json_object_set_new(spec, name, v) < 0 ? -ENOMEM : 0;
	a = json_object_get(spec, name);
	if (!a) {
		a = json_array();
		if (!a || json_object_set_new(spec, name, a) < 0) {
			json_decref(v);
			return -ENOMEM;
		}
	}
	return json_array_append_new(a, v) < 0 ? -ENOMEM : 0;
}

/* The JSON type of v, as an error names it. */
static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a fractional number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/*
 * One value of option name as the option's text into buf (a spec's types are strict: a
 * number is a JSON integer, any other value a string), or NULL with the error printed (the
 * error prefix names file and field; what: "" or "member N: " of an array).
 */
static const char *member_text(const char *name, const char *what, const json_t *v, char *buf,
			       size_t size)
{
	if (numeric(name)) {
		if (json_is_integer(v)) {
			snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			return buf;
		}
		lj_err("%sexpected a number (a JSON integer, e.g. 1400, not \"1400\"), not %s",
		       what, type_name(v));
		return NULL;
	}
	if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
		return json_string_value(v);
	lj_err("%sexpected a string, not %s", what,
	       json_is_string(v) ? "one with a NUL character" : type_name(v));
	return NULL;
}

int cli_spec_to_opts(json_t *spec, const char *file, struct lj_attach_opts *o,
		     struct cli_attach_flags *f, json_t **ret_canon)
{
	char prefix[600], buf[32];
	json_t *canon = NULL, *v;
	const char *way, *target, *k;
	struct lj_target t;
	int r = -EINVAL;

	memset(o, 0, sizeof(*o));
	memset(f, 0, sizeof(*f));
	if (!json_is_object(spec)) {
		lj_err("%s: expected a JSON object", file);
		return -EINVAL;
	}
	v = json_object_get(spec, "way");
	way = json_string_value(v);
	if (!way || lj_way_find(way, &o->way) < 0) {
		char ways[64];
		lj_way_names_text(ways, sizeof(ways), ", ", " or ", NULL, 0);
		lj_err("%s: field 'way': %s%s (expected a string: %s)", file,
		       way ? "unknown way"
		       : v ? "not a string but "
			   : "missing",
		       way || !v ? "" : type_name(v), ways);
		return -EINVAL;
	}
	v = json_object_get(spec, "target");
	target = json_string_value(v);
	if (!target || lj_target_parse(target, &t) < 0) {
		lj_err("%s: field 'target': %s%s", file,
		       target ? "expected a container name, netns:NAME or a netns path"
		       : v    ? "expected a string, not "
			      : "missing (expected a string: a container name, netns:NAME or a "
				"netns path)",
		       target || !v ? "" : type_name(v));
		return -EINVAL;
	}
	if (t.kind == LJ_TARGET_PID) {
		lj_err("%s: field 'target': a PID is no lasting identity: name a container, "
		       "netns:NAME or a netns path",
		       file);
		return -EINVAL;
	}
	o->target = target;
	canon = cli_spec_new(o->way, target, NULL);
	if (!canon)
		return -ENOMEM;
	json_object_foreach(spec, k, v)
	{
		int flag;
		size_t i;
		json_t *e;

		if (strcmp(k, "way") == 0 || strcmp(k, "target") == 0)
			continue;
		if (strcmp(k, "container-id") == 0) {
			/* written by lanjoin beside a container's name: not part of what is
			 * asked (cli_spec_open_target follows it) */
			const char *id = json_string_value(v);

			if (t.kind != LJ_TARGET_CONTAINER || !id ||
			    strlen(id) != LJ_ENGINE_ID_LEN ||
			    strspn(id, "0123456789abcdef") != LJ_ENGINE_ID_LEN) {
				lj_err("%s: field 'container-id': expected the 64 hex digits of a "
				       "container's ID, beside a container target",
				       file);
				goto out;
			}
			continue;
		}
		flag = cli_attach_option_is_flag(k);
		snprintf(prefix, sizeof(prefix), "%s: field '%s': ", file, k);
		if (flag == -EPERM) {
			lj_err_prefix(NULL);
			lj_err("%s: '%s' is not a spec field: --%s is an option of the command, "
			       "not part of what a spec attaches",
			       file, k, k);
			goto out;
		}
		if (flag < 0) {
			lj_err_prefix(NULL); /* an earlier field's, which says it already */
			lj_err("%s: unknown field '%s' (a spec's fields are attach's long options)",
			       file, k);
			goto out;
		}
		lj_err_prefix(prefix);
		if (flag) {
			if (!json_is_boolean(v)) {
				lj_err("expected true or false, not %s", type_name(v));
				goto out;
			}
			if (json_is_true(v) && cli_attach_option(k, NULL, o, f, canon) < 0)
				goto out;
			continue;
		}
		if (repeatable(k)) {
			if (!json_is_array(v)) {
				/* documented as an array: a lone string is no guess either */
				lj_err("expected an array of strings (a repeatable option: "
				       "[\"...\"], even for one), not %s",
				       type_name(v));
				goto out;
			}
			json_array_foreach(v, i, e)
			{
				char what[32];
				const char *s;

				snprintf(what, sizeof(what), "member %zu: ", i + 1);
				s = member_text(k, what, e, buf, sizeof(buf));
				if (!s || cli_attach_option(k, s, o, f, canon) < 0)
					goto out;
			}
			continue;
		}
		const char *s = member_text(k, "", v, buf, sizeof(buf));
		if (!s || cli_attach_option(k, s, o, f, canon) < 0)
			goto out;
	}
	snprintf(prefix, sizeof(prefix), "%s: ", file);
	lj_err_prefix(prefix);
	if (cli_attach_check(o) < 0)
		goto out;
	cli_default_ifname(o, canon, &t);
	lj_target_close(&t);
	/* the derived MAC is used but not part of what is asked (cli_spec_save stores it) */
	if (f->persist && !o->has_mac) {
		const char *ifn = json_string_value(json_object_get(canon, "ifname"));

		cli_spec_mac(target, ifn, o->mac);
		o->has_mac = true;
	}
	r = 0;
	if (ret_canon)
		*ret_canon = json_incref(canon);
out:
	lj_err_prefix(NULL);
	json_decref(canon);
	return r;
}

int cli_attach_parse_to(const char *v, struct lj_attach_opts *o)
{
	size_t n = strcspn(v, ":");

	/* docker[:NETWORK], podman[:NETWORK]: the container's engine (whichever it is) */
	if (n == 6 && (strncmp(v, "docker", n) == 0 || strncmp(v, "podman", n) == 0)) {
		if (v[n] == ':' && !lj_engine_network_name_valid(v + n + 1)) {
			lj_err("Invalid --to '%s': expected an engine network's name after '%.*s:'",
			       v, (int)n, v);
			return -1;
		}
		o->to_engine = true;
		o->to_network = v[n] == ':' ? v + n + 1 : NULL;
		return 0;
	}
	if (lj_parse_ip(v, &o->to) < 0) {
		lj_err("Invalid --to '%s': expected an address, 'docker' or 'docker:NETWORK'", v);
		return -1;
	}
	return 0;
}

const char *cli_attach_live_network(const struct lj_result *res)
{
	return res->n_records
		       ? json_string_value(json_object_get(res->records[0].info, "to_network"))
		       : NULL;
}

const uint8_t *cli_attach_live_mac(const struct lj_result *res, const uint8_t *mac)
{
	static uint8_t v[LJ_MAC_LEN];
	const char *m;

	if (res->unchanged && res->n_records) {
		m = json_string_value(json_object_get(res->records[0].info, "mac"));
		if (m && lj_parse_mac(m, v) == 0)
			return v;
	}
	return mac;
}

void cli_attach_say_stored(struct lj_result *res)
{
	static const char nothing[] = ": nothing to do";
	size_t n = strlen(res->message), k = sizeof(nothing) - 1;

	if (n >= k && strcmp(res->message + n - k, nothing) == 0)
		res->message[n - k] = '\0';
	lj_result_append(res, ": its spec is now stored in %s (persistent)", cli_spec_dir());
}

void cli_spec_mac(const char *target, const char *ifname, uint8_t ret[6])
{
	char key[LJ_TARGET_SPEC_MAX + 32];

	snprintf(key, sizeof(key), "spec:%s/%s", target, ifname);
	lj_mac_from_name(key, ret);
}

const char *cli_spec_dir(void)
{
	return lj_spec_dir();
}

const char *cli_spec_strerror(int r)
{
	if (r == -EDESTADDRREQ)
		return "LANJOIN_SPEC_DIR must be an absolute path";
	return lj_state_strerror(r);
}

/* Target and ifname of a spec (its file's key). */
static int spec_key(const json_t *spec, const char **target, const char **ifname)
{
	*target = json_string_value(json_object_get(spec, "target"));
	*ifname = json_string_value(json_object_get(spec, "ifname"));
	if (!*ifname)
		*ifname = LJ_DEFAULT_IFNAME; /* a stored spec names it (cli_spec_list) */
	return *target ? 0 : -EINVAL;
}

int cli_spec_dir_make(void)
{
	_cleanup_close_ int dir = -1;

	return lj_state_make_dir(cli_spec_dir(), &dir);
}

int cli_spec_save(const json_t *spec, const uint8_t *mac, const char *network,
		  const char *container_id)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int dir = -1, fd = -1;
	const char *target, *ifname, *to = json_string_value(json_object_get(spec, "to"));
	char name[LJ_SPEC_NAME_SIZE], tmp[40], m[LJ_MAC_STRLEN], net[LJ_ENGINE_NET_NAME_MAX + 8];
	json_t *c;
	size_t len, off = 0;
	int r = 0;

	if (spec_key(spec, &target, &ifname) < 0)
		return -EINVAL;
	r = lj_state_make_dir(cli_spec_dir(), &dir);
	if (r < 0)
		return r;
	c = json_deep_copy(spec);
	if (!c)
		return -ENOMEM;
	if (mac && !json_object_get(spec, "mac"))
		r = json_object_set_new(c, "mac", json_string(lj_mac_to_string(mac, m, sizeof(m))));
	/* the engine network lanjoin took the address from (no --to, or --to docker): a
	 * restart or a reboot forwards to the address there, not on a network joined since */
	if (network && (!to || strcmp(to, "docker") == 0 || strcmp(to, "podman") == 0)) {
		snprintf(net, sizeof(net), "%s:%s", to ? to : "docker", network);
		r |= json_object_set_new(c, "to", json_string(net));
	}
	/* the container it was attached to: a rename is followed (cli_spec_open_target) */
	if (container_id && *container_id)
		r |= json_object_set_new(c, "container-id", json_string(container_id));
	if (r == 0)
		text = json_dumps(c, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(c);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	lj_spec_file_name(target, ifname, name);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return lj_negerrno();
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = lj_negerrno();
			unlinkat(dir, tmp, 0);
			return r;
		}
		off += (size_t)n;
	}
	/* a spec outlives reboots (unlike a record): it must be on disk before it counts */
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0 || renameat(dir, tmp, dir, name) < 0) {
		r = errno ? lj_negerrno() : -EIO;
		unlinkat(dir, tmp, 0);
		return r;
	}
	fsync(dir);
	return 0;
}

int cli_spec_remove(const char *target, const char *ifname)
{
	return lj_spec_remove(target, ifname);
}

const char *cli_spec_container_id(const struct lj_result *res)
{
	return json_string_value(
		json_object_get(json_object_get(res->json, "target"), "container_id"));
}

void cli_note_id_prefix(const struct lj_result *res)
{
	const json_t *t = json_object_get(res->json, "target");
	const char *spec = json_string_value(json_object_get(t, "spec"));
	const char *name = json_string_value(json_object_get(t, "name"));
	const char *id = cli_spec_container_id(res);

	if (res->unchanged || !spec || !name || !id || strcmp(spec, name) == 0 ||
	    strlen(spec) >= SHORT_ID_LEN || strncmp(id, spec, strlen(spec)) != 0)
		return;
	fprintf(stderr,
		"lanjoin: note: no container is named '%s': taken as an ID prefix, of container "
		"%s (%.*s)\n",
		spec, name, SHORT_ID_LEN, id);
}

int cli_spec_open_target(const json_t *spec, struct lj_target *ret)
{
	const char *t = json_string_value(json_object_get(spec, "target"));
	const char *id = json_string_value(json_object_get(spec, "container-id"));
	int r;

	ret->netns_fd = -1;
	ret->error[0] = '\0';
	if (!t)
		return -EINVAL;
	r = lj_target_parse(t, ret);
	if (r < 0)
		return r;
	if (ret->kind == LJ_TARGET_CONTAINER && id && *id) {
		r = lj_target_reopen(t, id, 0, ret);
		if (r != -ENOENT)
			return r; /* that container (running or not), or no answer */
		lj_target_close(ret);
		if (strncmp(id, t, strlen(t)) == 0)
			return -ENOENT; /* named by its ID: another one with that prefix is not it
					 */
		r = lj_target_parse(t, ret); /* gone: the container of that name, if any */
		if (r < 0)
			return r;
	}
	return lj_target_open(ret);
}

int cli_spec_retarget(const char *target, const char *ifname, const char *new_target,
		      const char *container_id)
{
	char name[LJ_SPEC_NAME_SIZE], path[4096];
	json_t *j = NULL, *other = NULL;
	json_error_t err;
	int r;

	lj_spec_file_name(target, ifname, name);
	snprintf(path, sizeof(path), "%s/%s", cli_spec_dir(), name);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(j)) {
		json_decref(j);
		return access(path, F_OK) < 0 ? -ENOENT : -EBADMSG;
	}
	if (strcmp(target, new_target) != 0) {
		/* another spec under the new name (of a container that had it before) is not
		 * overwritten */
		lj_spec_file_name(new_target, ifname, name);
		snprintf(path, sizeof(path), "%s/%s", cli_spec_dir(), name);
		other = json_load_file(path, 0, &err);
		if (other || access(path, F_OK) == 0) {
			const char *id = json_string_value(json_object_get(other, "container-id"));
			bool ours = id && container_id && strcmp(id, container_id) == 0;

			json_decref(other);
			if (!ours) {
				json_decref(j);
				return -EEXIST;
			}
		}
	}
	if (json_object_set_new(j, "target", json_string(new_target)) < 0 ||
	    (container_id &&
	     json_object_set_new(j, "container-id", json_string(container_id)) < 0)) {
		json_decref(j);
		return -ENOMEM;
	}
	r = cli_spec_save(j, NULL, NULL, NULL);
	json_decref(j);
	if (r == 0 && strcmp(target, new_target) != 0) {
		r = cli_spec_remove(target, ifname);
		if (r == -ENOENT)
			r = 0;
	}
	return r;
}

bool cli_spec_stored(const char *target, const char *ifname)
{
	char name[LJ_SPEC_NAME_SIZE], path[4096];

	lj_spec_file_name(target, ifname, name);
	snprintf(path, sizeof(path), "%s/%s", cli_spec_dir(), name);
	return access(path, F_OK) == 0;
}

/*
 * A persistent spec whose container exists but does not run: store it. 1 when stored; 0 when
 * the target runs or is no stopped container; -EEXIST when another spec of it is stored and
 * not replace; else -errno of cli_spec_save.
 */
static int store_waiting(const json_t *spec, const uint8_t *mac, bool replace)
{
	char name[LJ_SPEC_NAME_SIZE], path[4096];
	const char *target, *ifname, *to;
	struct lj_target t;
	json_t *old;
	int r;

	if (spec_key(spec, &target, &ifname) < 0 || lj_target_parse(target, &t) < 0)
		return 0;
	r = lj_target_open(&t);
	if (r == 0)
		lj_target_close(&t);
	if (r != -ESRCH || t.kind != LJ_TARGET_CONTAINER)
		return 0; /* it runs, or is not there at all: attach says which */
	lj_spec_file_name(target, ifname, name);
	snprintf(path, sizeof(path), "%s/%s", cli_spec_dir(), name);
	old = json_load_file(path, 0, NULL);
	if (old && !json_object_get(spec, "mac"))
		json_object_del(old, "mac");  /* the one derived when it was stored */
	json_object_del(old, "container-id"); /* which container it follows: not asked */
	to = old ? json_string_value(json_object_get(old, "to")) : NULL;
	if (to && !json_object_get(spec, "to") && strncmp(to, "docker:", 7) == 0)
		json_object_del(old, "to"); /* nat: the engine network derived when stored */
	r = old && !replace && !json_equal(old, spec) ? -EEXIST : 0;
	json_decref(old);
	if (r < 0)
		return r;
	r = cli_spec_save(spec, mac, NULL, t.container_id); /* no engine network: not running */
	return r < 0 ? r : 1;
}

/* Say what store_waiting did (r, not 0) for target as ifname; the exit status. */
static int say_waiting(int r, const char *prefix, const char *target, const char *ifname, bool json)
{
	if (r == -EEXIST) {
		lj_err("%s%s does not run, and another persistent spec of it as '%s' is stored in "
		       "%s: replace it to store this one",
		       prefix, target, ifname, cli_spec_dir());
		return LJ_EXIT_USAGE;
	}
	if (r < 0) {
		lj_err("%sFailed to store the spec in %s: %s", prefix, cli_spec_dir(),
		       cli_spec_strerror(r));
		return LJ_EXIT_FAILED;
	}
	if (json)
		lj_print_json(json_pack("{s:s, s:s, s:s, s:b}", "target", target, "ifname", ifname,
					"status", "waiting", "persistent", true));
	else
		printf("%s%s does not run: its spec is stored in %s (persistent), waiting: "
		       "'lanjoin reconcile' (or a running 'lanjoin watch') attaches it as '%s' "
		       "when "
		       "it runs\n",
		       prefix, target, cli_spec_dir(), ifname);
	return LJ_EXIT_OK;
}

bool cli_spec_wait(const json_t *spec, const uint8_t *mac, bool replace, const char *prefix,
		   bool json, int *ret_code)
{
	const char *target, *ifname;
	int r = store_waiting(spec, mac, replace);

	if (r == 0 || spec_key(spec, &target, &ifname) < 0)
		return false;
	*ret_code = say_waiting(r, prefix, target, ifname, json);
	return true;
}

int cli_spec_load(const char *path, json_t **ret)
{
	json_error_t err;
	struct stat s;
	json_t *j;

	if (stat(path, &s) < 0) {
		int r = lj_negerrno();
		lj_err("%s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(s.st_mode) || s.st_size > SPEC_MAX_SIZE) {
		lj_err("%s: not a regular file of at most 1 MiB", path);
		return -EINVAL;
	}
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		lj_err("%s: line %d, column %d: %s", path, err.line, err.column, err.text);
		return -EINVAL;
	}
	*ret = j;
	return 0;
}

static int cmp_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int json_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

int cli_spec_list(json_t **ret)
{
	_cleanup_close_ int dir = -1;
	struct dirent **names = NULL;
	json_t *a = json_array();
	int n, r;

	if (!a)
		return -ENOMEM;
	if (access(cli_spec_dir(), F_OK) < 0) {
		*ret = a;
		return 0;
	}
	r = lj_state_open_dir(cli_spec_dir(), &dir);
	if (r < 0) {
		json_decref(a);
		return r;
	}
	n = scandir(cli_spec_dir(), &names, json_file, cmp_name);
	for (int i = 0; i < n; i++) {
		char path[4096];
		json_t *j;
		json_error_t err;

		snprintf(path, sizeof(path), "%s/%s", cli_spec_dir(), names[i]->d_name);
		j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
		/* lanjoin stores a spec with its ifname; one without (written by hand) means what
		 * it meant before engine containers had their own default: eth1 */
		if (json_is_object(j) && !json_object_get(j, "ifname"))
			json_object_set_new(j, "ifname", json_string(LJ_DEFAULT_IFNAME));
		if (j)
			json_array_append_new(a, json_pack("{s:s, s:o}", "file", path, "spec", j));
		free(names[i]);
	}
	free(names);
	*ret = a;
	return 0;
}

json_t *cli_spec_unattached(const char *target,
			    bool (*attached)(const char *t, const char *ifname, void *data),
			    void *data, bool *missing)
{
	json_t *specs = NULL, *out = json_array(), *x;
	size_t i;

	if (!out || cli_spec_list(&specs) < 0)
		return out;
	json_array_foreach(specs, i, x)
	{
		json_t *s = json_object_get(x, "spec");
		const char *t = json_string_value(json_object_get(s, "target"));
		const char *ifn = json_string_value(json_object_get(s, "ifname"));
		struct lj_target tg;
		bool runs = false;
		int r = -EINVAL;

		if (!ifn)
			ifn = LJ_DEFAULT_IFNAME; /* not an object: see cli_spec_list */
		if (!t || (target && strcmp(t, target) != 0) || attached(t, ifn, data))
			continue;
		if ((r = cli_spec_open_target(s, &tg)) == 0) {
			runs = true;
			lj_target_close(&tg);
		}
		if (runs)
			*missing = true;
		json_t *row = json_pack("{s:s, s:s, s:O, s:O, s:s}", "target", t, "ifname", ifn,
					"way", json_object_get(s, "way") ?: json_null(), "spec", s,
					"status", runs ? "missing" : "waiting");
		/* the engine did not answer: whether the container runs is not known */
		if (row && r < 0 && r != -ENOENT && r != -ESRCH && tg.error[0])
			json_object_set_new(row, "unknown", json_string(tg.error));
		json_array_append_new(out, row);
	}
	json_decref(specs);
	return out;
}
