/* SPDX-License-Identifier: MIT */
/* lanjoin pid TARGET; lanjoin ip TARGET [--json]: the seed's docker-pid and docker-ip. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "lib/foreign/engine.h"
#include "lib/kernel/netns.h"
#include "lib/core/handed.h"
#include "lib/core/state.h"
#include "lib/core/target.h"
#include "shared/macro.h"

int lj_cli_engine_socket(const char *v)
{
	if (lj_engine_set_socket(v) < 0) {
		lj_err("Invalid --engine-socket '%s': expected an absolute path shorter than %d "
		       "bytes",
		       v, LJ_ENGINE_SOCKET_MAX);
		return -1;
	}
	return 0;
}

/* Parse "CMD TARGET [--json] [--engine-socket PATH]"; returns the target or NULL (printed). */
static const char *parse_args(int argc, char **argv, const char *usage, bool allow_json, bool *json,
			      int *ret_code)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"engine-socket", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	*ret_code = LJ_EXIT_USAGE;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (!allow_json) {
				lj_usage_error(usage, "Unknown option '--json'");
				return NULL;
			}
			*json = true;
			break;
		case 'S':
			if (lj_cli_engine_socket(optarg) < 0)
				return NULL;
			break;
		case 'h':
			printf("%s", usage);
			*ret_code = LJ_EXIT_OK;
			return NULL;
		default:
			lj_getopt_error(c, argc, argv, usage);
			return NULL;
		}
	}
	if (optind == argc)
		lj_usage_error(usage, "Missing %s",
			       strstr(usage, "CONTAINER") ? "CONTAINER" : "TARGET");
	else if (optind < argc - 1)
		lj_usage_error(usage, "Unexpected argument '%s'", argv[optind + 1]);
	else
		return argv[optind];
	return NULL;
}

/* Inspect the container target names; prints the error. Returns an exit code. */
static int inspect(const struct lj_target *t, struct lj_engine_container *c)
{
	struct lj_engine_err err = {""};
	int r;

	r = lj_engine_inspect(t->name, c, &err);
	if (r < 0) {
		lj_err("%s", err.msg[0] ? err.msg : strerror(-r));
		return r == -ENOMEM ? LJ_EXIT_FAILED : LJ_EXIT_USAGE;
	}
	return LJ_EXIT_OK;
}

static void print_pid(const char *spec, int64_t pid, bool json)
{
	if (json)
		lj_print_json(json_pack("{s:s, s:s, s:I}", "schema", LJ_SCHEMA_PID, "target", spec,
					"pid", (json_int_t)pid));
	else
		printf("%d\n", (int)pid);
}

int lj_cmd_pid(int argc, char **argv)
{
	static const char usage[] = "Usage: lanjoin pid TARGET [--json] [--engine-socket PATH]\n"
				    "Print the PID of a running container (name, ID or unique ID "
				    "prefix) or of pid:N.\n";
	_cleanup_free_ struct lj_engine_container *c = NULL;
	struct lj_target t;
	bool json = false;
	const char *spec;
	int code, fd;

	spec = parse_args(argc, argv, usage, true, &json, &code);
	if (!spec)
		return code;
	if (lj_target_parse(spec, &t) < 0) {
		lj_err("Invalid target '%s': expected a container name, pid:N, netns:NAME or a "
		       "path",
		       spec);
		return LJ_EXIT_USAGE;
	}
	if (t.kind == LJ_TARGET_PID) {
		int r = lj_netns_open_pid(t.pid, &fd);
		if (r == -ESRCH || r == -ENOENT) {
			lj_err("No such process %d", (int)t.pid);
			return LJ_EXIT_USAGE;
		}
		if (r < 0) {
			lj_err("Failed to open the network namespace of process %d: %s", (int)t.pid,
			       strerror(-r));
			return LJ_EXIT_FAILED;
		}
		close(fd);
		print_pid(spec, t.pid, json);
		return LJ_EXIT_OK;
	}
	if (t.kind != LJ_TARGET_CONTAINER) {
		lj_err("Target %s has no PID: only containers and pid:N have one", spec);
		return LJ_EXIT_USAGE;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return LJ_EXIT_FAILED;
	code = inspect(&t, c);
	if (code != LJ_EXIT_OK)
		return code;
	if (!c->running) {
		lj_err("Container '%s' is not running (status %s)", c->name,
		       c->status[0] ? c->status : "unknown");
		return LJ_EXIT_USAGE;
	}
	print_pid(spec, c->pid, json);
	return LJ_EXIT_OK;
}

static json_t *net_to_json(const struct lj_engine_net *n)
{
	char buf[LJ_CIDR_STRLEN];
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(n->name));
	if (n->ipv4.ip.family)
		json_object_set_new(o, "ipv4",
				    json_string(lj_cidr_to_string(&n->ipv4, buf, sizeof(buf))));
	if (n->ipv6.ip.family)
		json_object_set_new(o, "ipv6",
				    json_string(lj_cidr_to_string(&n->ipv6, buf, sizeof(buf))));
	if (n->gateway.family)
		json_object_set_new(o, "gateway",
				    json_string(lj_ip_to_string(&n->gateway, buf, sizeof(buf))));
	if (n->gateway6.family)
		json_object_set_new(o, "gateway6",
				    json_string(lj_ip_to_string(&n->gateway6, buf, sizeof(buf))));
	if (n->has_mac)
		json_object_set_new(o, "mac",
				    json_string(lj_mac_to_string(n->mac, buf, sizeof(buf))));
	return o;
}

/*
 * Append to addrs the addresses of the Docker plugin's endpoints of container c among recs (n):
 * recorded by their sandbox, not by the container (c's SandboxKey and endpoint IDs find them),
 * named as in the container when their link is found there. {"address", "ifname", "source":
 * "lanjoin", "way", "via", "on": "container", "network": the engine's name}.
 */
static void handed_addresses(const struct lj_engine_container *c, const struct lj_record *recs,
			     size_t n, json_t *addrs)
{
	struct lj_handed_owner *o = calloc(1, sizeof(*o));
	char(*ifnames)[IFNAMSIZ] = calloc(n ? n : 1, sizeof(*ifnames));

	if (!o || !ifnames)
		goto out;
	o->known = true;
	snprintf(o->container, sizeof(o->container), "%s", c->name);
	snprintf(o->sandbox_key, sizeof(o->sandbox_key), "%s", c->sandbox_key);
	memcpy(o->nets, c->nets, c->n_nets * sizeof(c->nets[0]));
	o->n_nets = c->n_nets;
	cli_handoff_ifnames(recs, n, sizeof(*recs), ifnames);
	for (size_t i = 0; i < n; i++) {
		const char *net, *via = json_string_value(json_object_get(recs[i].info, "bridge"));
		const json_t *a;
		size_t k;

		if (!lj_handed_owned(o, &recs[i], &net))
			continue;
		if (!via)
			via = json_string_value(json_object_get(recs[i].info, "parent"));
		json_array_foreach(json_object_get(recs[i].info, "addresses"), k, a)
			json_array_append_new(
				addrs,
				json_pack("{s:O, s:s, s:s, s:s, s:s?, s:s, s:s?}", "address", a,
					  "ifname", ifnames[i][0] ? ifnames[i] : recs[i].ifname,
					  "source", "lanjoin", "way", recs[i].way, "via", via, "on",
					  "container", "network", net));
	}
out:
	free(ifnames);
	free(o);
}

/*
 * The addresses lanjoin gave container c (its records of this namespace, and the Docker
 * plugin's endpoints of it), appended to addrs as {"address", "ifname", "source": "lanjoin",
 * "way", "via"}. Reads the state directory only if it exists (a look-up creates nothing); one
 * it cannot read is said once.
 */
static void lanjoin_addresses(const struct lj_engine_container *c, json_t *addrs)
{
	const char *id = c->id;
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	char path[4096];
	size_t n = 0;
	int r;

	snprintf(path, sizeof(path), "%s/attachments", lj_state_dir());
	if (lj_state_dir()[0] != '/' || access(path, F_OK) < 0)
		return;
	r = lj_state_open(false, &st);
	if (r == 0)
		r = lj_state_list(st, &recs, &n, NULL);
	lj_state_close(st);
	if (r < 0) {
		lj_err("warning: cannot read lanjoin's records in %s (%s): its addresses are not "
		       "shown",
		       lj_state_dir(), lj_state_strerror(r));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *info = recs[i].info, *a;
		const char *via = json_string_value(json_object_get(info, "bridge"));
		size_t k;

		if (strcmp(recs[i].container_id, id) != 0)
			continue;
		if (!via)
			via = json_string_value(json_object_get(info, "parent"));
		if (!via)
			via = json_string_value(json_object_get(info, "uplink"));
		/* nat's LAN address is on the host's uplink (via), translated to the container */
		bool on_host = strcmp(recs[i].way, "nat") == 0;
		const char *to = json_string_value(json_object_get(info, "to"));

		json_array_foreach(json_object_get(info, "addresses"), k, a) json_array_append_new(
			addrs,
			json_pack("{s:O, s:s, s:s, s:s, s:s?, s:s, s:s*}", "address", a, "ifname",
				  recs[i].ifname, "source", "lanjoin", "way", recs[i].way, "via",
				  via, "on", on_host ? "host" : "container", "to",
				  on_host ? to : NULL));
	}
	handed_addresses(c, recs, n, addrs);
	lj_records_free(recs, n);
}

/* Is ip (no prefix) on engine network net one of lanjoin's addresses in addrs (a Docker plugin
 * endpoint's, which the engine lists too)? Then it is printed once, as lanjoin's. */
static bool handed_address(const json_t *addrs, const char *net, const char *ip)
{
	size_t j, len = strlen(ip);
	const json_t *a;

	json_array_foreach(addrs, j, a)
	{
		const char *n = json_string_value(json_object_get(a, "network"));
		const char *addr = json_string_value(json_object_get(a, "address"));
		const char *src = json_string_value(json_object_get(a, "source"));

		if (src && strcmp(src, "lanjoin") == 0 && n && addr && strcmp(n, net) == 0 &&
		    strncmp(addr, ip, len) == 0 && (addr[len] == '/' || addr[len] == '\0'))
			return true;
	}
	return false;
}

int lj_cmd_ip(int argc, char **argv)
{
	static const char usage[] =
		"Usage: lanjoin ip CONTAINER [--json] [--engine-socket PATH]\n"
		"Print the container's addresses on its engine networks, one per line, then the "
		"LAN\n"
		"addresses lanjoin gave it, marked as lanjoin's ('198.51.100.117/24 lan0 (lanjoin\n"
		"bridge br-em1)'; a nat address is on the host: '198.51.100.117/24 on the host's "
		"em1\n"
		"(lanjoin nat to lan0)'); a Docker plugin endpoint's once, with its network:\n"
		"198.51.100.131/24 eth0 (lanjoin macvlan em1, Docker network 'lan').\n"
		"With --json every engine network with its addresses,\n"
		"gateways and MAC, and \"addresses\": [{\"address\", \"ifname\", \"source\":\n"
		"\"engine\" or \"lanjoin\", \"way\", \"on\": \"container\" or \"host\", ...}].\n";
	_cleanup_free_ struct lj_engine_container *c = NULL;
	char buf[LJ_CIDR_STRLEN];
	json_t *addrs, *a;
	struct lj_target t;
	bool json = false;
	const char *spec;
	size_t j;
	int code;

	spec = parse_args(argc, argv, usage, true, &json, &code);
	if (!spec)
		return code;
	if (lj_target_parse(spec, &t) < 0 || t.kind != LJ_TARGET_CONTAINER) {
		lj_err("lanjoin ip needs a container name or ID, not '%s' (for a namespace: "
		       "ip -n NAME addr)",
		       spec);
		return LJ_EXIT_USAGE;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return LJ_EXIT_FAILED;
	code = inspect(&t, c);
	if (code != LJ_EXIT_OK)
		return code;
	addrs = json_array();
	for (size_t i = 0; i < c->n_nets; i++) {
		const struct lj_engine_net *nw = &c->nets[i];
		const struct lj_cidr *v[2] = {&nw->ipv4, &nw->ipv6};

		for (int k = 0; k < 2; k++)
			if (v[k]->ip.family)
				json_array_append_new(
					addrs, json_pack("{s:s, s:n, s:s, s:n, s:s}", "address",
							 lj_cidr_to_string(v[k], buf, sizeof(buf)),
							 "ifname", "source", "engine", "way",
							 "network", nw->name));
	}
	lanjoin_addresses(c, addrs);
	if (json) {
		json_t *o = json_object(), *nets = json_array();
		json_object_set_new(o, "schema", json_string(LJ_SCHEMA_CONTAINER));
		json_object_set_new(o, "addresses", addrs);
		json_object_set_new(o, "id", json_string(c->id));
		json_object_set_new(o, "name", json_string(c->name));
		json_object_set_new(o, "running", json_boolean(c->running));
		json_object_set_new(o, "pid", json_integer(c->pid));
		for (size_t i = 0; i < c->n_nets; i++)
			json_array_append_new(nets, net_to_json(&c->nets[i]));
		json_object_set_new(o, "networks", nets);
		lj_print_json(o);
		return LJ_EXIT_OK;
	}
	for (size_t i = 0; i < c->n_nets; i++) {
		const struct lj_cidr *v[2] = {&c->nets[i].ipv4, &c->nets[i].ipv6};

		for (int k = 0; k < 2; k++)
			if (v[k]->ip.family &&
			    !handed_address(addrs, c->nets[i].name,
					    lj_ip_to_string(&v[k]->ip, buf, sizeof(buf))))
				printf("%s\n", buf);
	}
	/* The engine's, as docker-ip printed them (bare); then lanjoin's, marked. */
	json_array_foreach(addrs, j, a)
	{
		const char *via = json_string_value(json_object_get(a, "via"));

		const char *to = json_string_value(json_object_get(a, "to"));

		if (strcmp(json_string_value(json_object_get(a, "source")), "lanjoin") != 0)
			continue;
		if (strcmp(json_string_value(json_object_get(a, "on")), "host") == 0) {
			/* not an interface of the container: the host's uplink holds it */
			printf("%s on the host's %s (lanjoin %s to %s)\n",
			       json_string_value(json_object_get(a, "address")), via ? via : "?",
			       json_string_value(json_object_get(a, "way")),
			       to ? to : json_string_value(json_object_get(a, "ifname")));
			continue;
		}
		const char *net = json_string_value(json_object_get(a, "network"));

		printf("%s %s (lanjoin %s%s%s%s%s%s)\n",
		       json_string_value(json_object_get(a, "address")),
		       json_string_value(json_object_get(a, "ifname")),
		       json_string_value(json_object_get(a, "way")), via ? " " : "", via ? via : "",
		       net ? ", Docker network '" : "", net ? net : "", net ? "'" : "");
	}
	json_decref(addrs);
	return LJ_EXIT_OK;
}
