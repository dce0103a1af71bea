/* SPDX-License-Identifier: MIT */
/* lanjoin list [--json] */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/spec.h"
#include "lib/core/state.h"
#include "lib/core/handed.h"
#include "lib/kernel/netns.h"
#include "lib/ways/handoff.h"

static const char usage[] =
	"Usage: lanjoin list [--json]\n"
	"Show what lanjoin has attached from this network namespace (records belong to the\n"
	"namespace lanjoin ran in); says how many were attached from other namespaces, and "
	"where.\n"
	"A persistent spec without an attachment is listed too, as status shows it: waiting\n"
	"(its target does not run), missing (it runs: reconcile attaches it) or elsewhere\n"
	"(attached from another network namespace, named: run lanjoin there).\n"
	"A Docker plugin endpoint's TARGET is its container's name when lanjoin's engine\n"
	"lists it (--json: container), else Docker's sandbox key; its IFNAME the name in\n"
	"the container; its HOST-SIDE a macvlan network's host shim.\n"
	"Exit status 1 when a record could not be read (named on stderr; with --json also as\n"
	"lanjoin/unreadable/v1 objects after the attachments), after listing the others.\n";

/* The records, for record_attached. */
struct list_records {
	const struct lj_record *recs;
	size_t n;
};

/* Has one of the records an attachment of t as ifname (cli_spec_unattached's question)? */
static bool record_attached(const char *t, const char *ifname, void *data)
{
	const struct list_records *l = data;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->recs[i].target_spec, t) == 0 &&
		    strcmp(l->recs[i].ifname, ifname) == 0)
			return true;
	return false;
}

/* Where spec s attaches through (its bridge, parent or uplink), or NULL. */
static const char *spec_via(const json_t *s)
{
	const char *via = json_string_value(json_object_get(s, "bridge"));

	if (!via)
		via = json_string_value(json_object_get(s, "parent"));
	if (!via)
		via = json_string_value(json_object_get(s, "uplink"));
	return via;
}

/* The addresses spec s asks for: its --ip list, or the nat way's --address (a new array). */
static json_t *spec_addresses(const json_t *s)
{
	const json_t *ip = json_object_get(s, "ip");
	const char *address = json_string_value(json_object_get(s, "address"));

	if (json_is_array(ip))
		return json_deep_copy(ip);
	if (json_is_string(ip))
		return json_pack("[O]", ip);
	return address ? json_pack("[s]", address) : json_array();
}

/* Where record rec attaches through (its bridge, parent or uplink), or NULL. */
static const char *record_via(const struct lj_record *rec)
{
	return spec_via(rec->info);
}

/*
 * An unattached persistent spec x (cli_spec_unattached) as list --json gives an attachment:
 * status "waiting", "missing" or "elsewhere" (then "where": the namespace's place), what
 * the spec asks where a record would say what was done.
 */
static json_t *spec_json(const json_t *x)
{
	const json_t *s = json_object_get(x, "spec");
	const char *via = spec_via(s), *mac = json_string_value(json_object_get(s, "mac"));

	const json_t *id = json_object_get(s, "container-id"); /* the container it follows */
	json_t *o = json_pack(
		"{s:s, s:{s:O, s:n, s:n, s:n, s:O}, s:O, s:O, s:O, s:n, s:o, s:o, s:o, "
		"s:n, s:{}, s:O, s:b}",
		"schema", LJ_SCHEMA_ATTACHMENT, "target", "spec", json_object_get(x, "target"),
		"kind", "name", "pid", "container_id", id ? id : json_null(), "ifname",
		json_object_get(x, "ifname"), "way", json_object_get(x, "way"), "status",
		json_object_get(x, "status"), "host_ifname", "via",
		via ? json_string(via) : json_null(), "mac", mac ? json_string(mac) : json_null(),
		"addresses", spec_addresses(s), "created", "info", "spec", s, "persistent", true);

	/* attached from another network namespace: its place */
	if (o && json_object_get(x, "where"))
		json_object_set(o, "where", json_object_get(x, "where"));
	return o;
}

/* The widths of the table's first five columns (TARGET ... VIA). */
struct widths {
	int w[5];
};

/* An unattached persistent spec x as a row of the table. */
static void spec_row(const json_t *x, const struct widths *c)
{
	const json_t *s = json_object_get(x, "spec"), *a;
	const char *via = spec_via(s), *way = json_string_value(json_object_get(x, "way"));
	bool waiting = strcmp(json_string_value(json_object_get(x, "status")), "waiting") == 0;
	const char *where = json_string_value(json_object_get(x, "where"));
	json_t *ip = spec_addresses(s);
	size_t k;

	printf("%-*s %-*s %-*s %-*s %-*s ", c->w[0],
	       json_string_value(json_object_get(x, "target")), c->w[1],
	       json_string_value(json_object_get(x, "ifname")), c->w[2], way ? way : "-", c->w[3],
	       "-", c->w[4], via ? via : "-");
	json_array_foreach(ip, k, a) printf("%s%s", k ? "," : "", json_string_value(a));
	if (!json_array_size(ip))
		printf("-");
	json_decref(ip);
	if (where)
		printf(" (persistent spec, attached from network namespace %s: run 'lanjoin list' "
		       "there)\n",
		       where);
	else if (json_object_get(x, "unknown"))
		printf(" (persistent spec, waiting: whether its target runs is not known: %s)\n",
		       json_string_value(json_object_get(x, "unknown")));
	else
		printf(waiting ? " (persistent spec, waiting: its target does not run; attached "
				 "when it does)\n"
			       : " (persistent spec, missing: its target runs unattached; "
				 "reconcile attaches it)\n");
}

void cli_handoff_ifnames(const void *recs, size_t n, size_t stride, char (*ret)[IFNAMSIZ])
{
	struct lj_handoff_names names;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		ret[i][0] = '\0';
		any |= lj_record_handed(
			(const struct lj_record *)((const char *)recs + i * stride));
	}
	if (!any || lj_handoff_names_read(&names) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		lj_handoff_ifname(&names,
				  (const struct lj_record *)((const char *)recs + i * stride),
				  ret[i]);
	lj_handoff_names_free(&names);
}

void cli_handoff_containers(const void *recs, size_t n, size_t stride,
			    char (*ret)[LJ_ENGINE_NAME_MAX])
{
	struct lj_engine_endpoint *eps = NULL;
	size_t n_eps = 0;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		ret[i][0] = '\0';
		any |= lj_record_handed(
			(const struct lj_record *)((const char *)recs + i * stride));
	}
	if (!any || lj_engine_list_endpoints(&eps, &n_eps, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct lj_record *rec =
			(const struct lj_record *)((const char *)recs + i * stride);
		const char *eid = json_string_value(
			json_object_get(json_object_get(rec->info, "docker"), "endpoint"));

		for (size_t k = 0; eid && lj_record_handed(rec) && k < n_eps; k++)
			if (strcmp(eps[k].endpoint_id, eid) == 0)
				snprintf(ret[i], sizeof(ret[i]), "%s", eps[k].container);
	}
	free(eps);
}

size_t cli_say_foreign(struct lj_state *st, const char *cmd, FILE *f)
{
	struct lj_netns_index *idx = NULL;
	struct lj_record *recs = NULL;
	size_t n = 0, gone = 0;

	if (lj_state_list_foreign(st, &recs, &n) < 0 || n == 0)
		goto out;
	lj_netns_index_new(&idx);
	fprintf(f,
		"%zu attachment%s lanjoin made from other network namespaces (run 'lanjoin %s' "
		"there):",
		n, n == 1 ? "" : "s", cmd);
	for (size_t i = 0; i < n; i++) {
		char where[256];
		int fd;

		if (idx && lj_netns_find(idx, &recs[i].host_netns, recs[i].host_netns_cookie, &fd,
					 where, sizeof(where)) == 0) {
			close(fd);
			fprintf(f, "\n  %s %s (%s way), from %s", recs[i].target_spec,
				recs[i].ifname, recs[i].way, where);
		} else {
			gone++;
		}
	}
	if (gone)
		fprintf(f,
			"\n  %zu from network namespaces that no longer exist ('lanjoin gc' drops "
			"them)",
			gone);
	fputc('\n', f);
out:
	lj_netns_index_free(idx);
	lj_records_free(recs, n);
	return n;
}

bool cli_attached_elsewhere(const char *target, const char *ifname, char *where, size_t size)
{
	struct lj_netns_index *idx = NULL;
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	size_t n = 0;
	bool found = false;

	if (lj_state_open_read("attachments", &st) < 0 ||
	    lj_state_list_foreign(st, &recs, &n) < 0 || n == 0)
		goto out;
	lj_netns_index_new(&idx);
	for (size_t i = 0; i < n && !found && idx; i++) {
		int fd;

		if (strcmp(recs[i].target_spec, target) != 0 || strcmp(recs[i].ifname, ifname) != 0)
			continue;
		if (lj_netns_find(idx, &recs[i].host_netns, recs[i].host_netns_cookie, &fd, where,
				  size) == 0) {
			close(fd);
			found = true;
		}
	}
out:
	lj_netns_index_free(idx);
	lj_records_free(recs, n);
	lj_state_close(st);
	return found;
}

bool cli_spec_mark_elsewhere(json_t *specs)
{
	bool missing = false;
	size_t i;
	json_t *x;

	json_array_foreach(specs, i, x)
	{
		const char *status = json_string_value(json_object_get(x, "status"));
		char where[256];

		if (!status || strcmp(status, "missing") != 0)
			continue;
		if (cli_attached_elsewhere(json_string_value(json_object_get(x, "target")),
					   json_string_value(json_object_get(x, "ifname")), where,
					   sizeof(where))) {
			json_object_set_new(x, "status", json_string("elsewhere"));
			json_object_set_new(x, "where", json_string(where));
		} else {
			missing = true;
		}
	}
	return missing;
}

/* The TARGET column of rec (i of the list): a Docker plugin endpoint's container when the
 * engine named it (containers[i]), else the record's target (an endpoint's: its sandbox). */
static const char *list_target(const struct lj_record *rec, char (*containers)[LJ_ENGINE_NAME_MAX],
			       size_t i)
{
	return containers && containers[i][0] ? containers[i] : rec->target_spec;
}

/* The HOST-SIDE column of rec: its host link, or a Docker plugin macvlan endpoint's host
 * shim (the network's, through which the host reaches it), else "-". */
static const char *host_side(const struct lj_record *rec)
{
	const char *shim = json_string_value(json_object_get(rec->info, "host_shim"));

	if (rec->host_ifname[0])
		return rec->host_ifname;
	return lj_record_handed(rec) && shim ? shim : "-";
}

int lj_cmd_list(int argc, char **argv)
{
	struct lj_record *recs = NULL;
	struct lj_state *st = NULL;
	size_t n = 0, bad = 0, j;
	bool json = false, missing = false;
	char(*ifnames)[IFNAMSIZ] = NULL;
	char(*containers)[LJ_ENGINE_NAME_MAX] = NULL;
	json_t *specs, *x;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return LJ_EXIT_OK;
		} else if (argv[i][0] == '-') {
			return lj_usage_error(usage, "Unknown option '%s'", argv[i]);
		} else {
			return lj_usage_error(usage, "Unexpected argument '%s'", argv[i]);
		}
	}
	r = lj_state_open_read("attachments", &st);
	if (r == 0)
		r = lj_state_list(st, &recs, &n, &bad);
	else if (r == -ENOENT)
		r = 0; /* nothing ever recorded: no attachments, and nothing is created */
	if (r < 0) {
		lj_state_close(st);
		lj_err("Failed to read the state directory %s: %s", lj_state_dir(),
		       lj_state_strerror(r));
		return LJ_EXIT_FAILED;
	}
	specs = cli_spec_unattached(NULL, record_attached,
				    &(struct list_records){.recs = recs, .n = n}, &missing);
	missing = cli_spec_mark_elsewhere(specs);
	/* the Docker plugin's endpoints by the name Docker gave them in the container */
	ifnames = calloc(n ? n : 1, sizeof(*ifnames));
	if (!ifnames) {
		lj_err("Out of memory");
		lj_records_free(recs, n);
		lj_state_close(st);
		json_decref(specs);
		return LJ_EXIT_FAILED;
	}
	cli_handoff_ifnames(recs, n, sizeof(*recs), ifnames);
	/* and by their container's name, when the engine lists them */
	containers = calloc(n ? n : 1, sizeof(*containers));
	if (containers)
		cli_handoff_containers(recs, n, sizeof(*recs), containers);
	if (json) {
		json_t *a = lj_json_attachments(recs, n), *u = NULL;

		for (size_t i = 0; i < n; i++)
			if (lj_record_handed(&recs[i])) {
				json_t *o = json_array_get(a, i);

				json_object_set_new(o, "container_ifname",
						    ifnames[i][0] ? json_string(ifnames[i])
								  : json_null());
				json_object_set_new(o, "container",
						    containers && containers[i][0]
							    ? json_string(containers[i])
							    : json_null());
			}

		json_array_foreach(specs, j, x) json_array_append_new(a, spec_json(x));
		/* then the records that could not be read: named, not left out in silence */
		bad = lj_json_unreadable("attachments", bad, false, &u);
		json_array_extend(a, u);
		json_decref(u);
		lj_print_json(a);
	} else {
		/* columns as wide as their longest entry (a Docker sandbox path as TARGET) */
		struct widths c = {{24, 8, 8, 15, 16}};
		for (size_t i = 0; i < n; i++) {
			c.w[0] = lj_max_width(c.w[0], list_target(&recs[i], containers, i));
			c.w[1] = lj_max_width(c.w[1], ifnames[i][0] ? ifnames[i] : recs[i].ifname);
			c.w[2] = lj_max_width(c.w[2], recs[i].way);
			c.w[3] = lj_max_width(c.w[3], host_side(&recs[i]));
			c.w[4] = lj_max_width(c.w[4], record_via(&recs[i]));
		}
		json_array_foreach(specs, j, x)
		{
			const json_t *s = json_object_get(x, "spec");
			c.w[0] = lj_max_width(c.w[0],
					      json_string_value(json_object_get(x, "target")));
			c.w[1] = lj_max_width(c.w[1],
					      json_string_value(json_object_get(x, "ifname")));
			c.w[4] = lj_max_width(c.w[4], spec_via(s));
		}
		printf("%-*s %-*s %-*s %-*s %-*s %s\n", c.w[0], "TARGET", c.w[1], "IFNAME", c.w[2],
		       "WAY", c.w[3], "HOST-SIDE", c.w[4], "VIA", "ADDRESSES");
		for (size_t i = 0; i < n; i++) {
			const struct lj_record *rec = &recs[i];
			json_t *addrs = json_object_get(rec->info, "addresses"), *a;
			const char *via = record_via(rec);
			size_t k;

			printf("%-*s %-*s %-*s %-*s %-*s ", c.w[0], list_target(rec, containers, i),
			       c.w[1], ifnames[i][0] ? ifnames[i] : rec->ifname, c.w[2], rec->way,
			       c.w[3], host_side(rec), c.w[4], via ? via : "-");
			json_array_foreach(addrs, k, a)
				printf("%s%s", k ? "," : "", json_string_value(a));
			if (!json_array_size(addrs))
				printf("-");
			if (lj_record_settling_live(rec))
				printf(" (settling: attach PID %" PRId64
				       " waits for its addresses)",
				       rec->owner_pid);
			else if (strcmp(rec->status, "detaching") == 0)
				printf(" (detaching: interrupted, run 'lanjoin detach' or "
				       "'lanjoin gc')");
			else if (strcmp(rec->status, "attached") != 0)
				printf(" (%s: interrupted, run 'lanjoin gc')", rec->status);
			if (lj_json_persistent(rec))
				printf(" (persistent)");
			putchar('\n');
		}
		json_array_foreach(specs, j, x) spec_row(x, &c);
	}
	json_decref(specs);
	/* On stdout after the table; with --json on stderr, so that stdout stays one value. */
	if (st)
		cli_say_foreign(st, "list", json ? stderr : stdout);
	lj_state_close(st);
	if (!json)
		bad = lj_json_unreadable("attachments", bad, false, NULL);
	lj_records_free(recs, n);
	free(ifnames);
	free(containers);
	/* like status: an attachment that cannot be read needs someone's attention */
	return bad ? LJ_EXIT_FAILED : LJ_EXIT_OK;
}
