/* SPDX-License-Identifier: MIT */
/* lanjoin status [TARGET] [--json]: is each attachment still what its record says? */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/spec.h"
#include "lib/core/handed.h"
#include "lib/core/state.h"
#include "lib/core/status.h"
#include "lib/core/target.h"

static const char usage[] =
	"Usage: lanjoin status [TARGET] [--json] [--engine-socket PATH]\n"
	"Check each attachment (of TARGET, or all) against the kernel, read only: ok, drifted\n"
	"(says what differs from the record), target-gone, target-restarted (the container\n"
	"runs in a new namespace), or settling (its attach still runs, waiting for a DHCP\n"
	"lease or DAD: not checked). Exit status 0 when all are ok (without TARGET, also\n"
	"when there are none), 3 when none is worse than settling but one is (not ready\n"
	"yet, nothing wrong: ask again), 1 otherwise (also for a TARGET with no\n"
	"attachment), 2 on bad usage. TARGET finds attachments as detach does: by the target\n"
	"given at attach, its container's ID (renamed since) or its network namespace (a\n"
	"container that shares another's, network mode container:NAME, shows that one's).\n"
	"A persistent spec without an attachment shows as waiting (its target does not run:\n"
	"not a failure), missing (it runs: exit 1; reconcile attaches it) or elsewhere\n"
	"(attached from another network namespace, named: not checked, as its record). A\n"
	"record that could not be read is named (on stderr; --json: \"unreadable\") and is\n"
	"exit 1 too.\n"
	"Attachments made from other network namespaces are named, not checked (after the\n"
	"table; --json: on stderr); when they are all there is, exit 1.\n"
	"The Docker plugin's endpoints are found by their container's name, ID or PID too;\n"
	"their IFNAME is the name Docker gave them in the container (--json:\n"
	"container_ifname), their TARGET their container's name when the engine lists\n"
	"them (--json: container), else Docker's sandbox key.\n";

/* The status document: {"schema", "ok", "settling", "attachments": [...]}. */
static json_t *status_json(const struct lj_status_entry *e, size_t n, bool all_ok, size_t settling,
			   char (*ifnames)[IFNAMSIZ], char (*containers)[LJ_ENGINE_NAME_MAX])
{
	json_t *o = json_object(), *a = json_array();

	for (size_t i = 0; i < n; i++) {
		const struct lj_record *rec = &e[i].rec;
		json_t *x = json_object();

		json_object_set_new(x, "target", json_string(rec->target_spec));
		json_object_set_new(x, "ifname", json_string(rec->ifname));
		if (lj_record_handed(rec)) { /* a Docker plugin endpoint: Docker's names */
			json_object_set_new(x, "container_ifname",
					    ifnames[i][0] ? json_string(ifnames[i]) : json_null());
			json_object_set_new(x, "container",
					    containers && containers[i][0]
						    ? json_string(containers[i])
						    : json_null());
		}
		json_object_set_new(x, "way", json_string(rec->way));
		json_object_set_new(x, "host_ifname",
				    rec->host_ifname[0] ? json_string(rec->host_ifname)
							: json_null());
		json_object_set_new(x, "status", json_string(lj_status_kind_str(e[i].kind)));
		json_object_set_new(x, "what", e[i].what[0] ? json_string(e[i].what) : json_null());
		if (e[i].warning[0]) /* only when there is one: the usual entry keeps its keys */
			json_object_set_new(x, "warning", json_string(e[i].warning));
		json_object_set_new(x, "unchecked_steps", json_integer((json_int_t)e[i].unchecked));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "schema", json_string(LJ_SCHEMA_STATUS));
	json_object_set_new(o, "ok", json_boolean(all_ok));
	json_object_set_new(o, "settling", json_integer((json_int_t)settling));
	json_object_set_new(o, "attachments", a);
	return o;
}

/* The TARGET column of rec's row (i of the table): an uplink adoption is the host's ("host"),
 * not the path of the namespace it was made from; a Docker plugin endpoint is its container's
 * when the engine named it (containers[i]), else its sandbox's. */
static const char *row_target(const struct lj_record *rec, char (*containers)[LJ_ENGINE_NAME_MAX],
			      size_t i)
{
	if (containers && containers[i][0])
		return containers[i];
	return strncmp(rec->way, "uplink", 6) == 0 ? "host" : rec->target_spec;
}

/* The status entries, for entry_attached. */
struct status_entries {
	const struct lj_status_entry *e;
	size_t n;
};

/* Has one of the entries an attachment of t as ifname (cli_spec_unattached's question)? */
static bool entry_attached(const char *t, const char *ifname, void *data)
{
	const struct status_entries *se = data;

	for (size_t k = 0; k < se->n; k++)
		if (strcmp(se->e[k].rec.target_spec, t) == 0 &&
		    strcmp(se->e[k].rec.ifname, ifname) == 0)
			return true;
	return false;
}

int lj_cmd_status(int argc, char **argv)
{
	struct lj_status_entry *e = NULL;
	char(*ifnames)[IFNAMSIZ] = NULL;
	char(*containers)[LJ_ENGINE_NAME_MAX] = NULL;
	const char *target = NULL;
	struct lj_result res;
	bool json = false, all_ok = true, missing = false;
	size_t settling = 0, elsewhere = 0, elsewhere_specs = 0, note_size = 0;
	char *note = NULL;
	json_t *specs, *x, *unreadable = NULL, *u = NULL;
	size_t n = 0, k;
	int r;

	r = lj_cli_target_args(argc, argv, usage, &target, &json);
	if (r >= 0)
		return r;
	r = lj_status(target, &e, &n, &res);
	if (r < 0) {
		int code = lj_report_failure(&res, r);

		lj_result_done(&res);
		return code;
	}
	ifnames = calloc(n ? n : 1, sizeof(*ifnames));
	if (!ifnames) {
		lj_status_free(e, n);
		lj_result_done(&res);
		lj_err("Out of memory");
		return LJ_EXIT_FAILED;
	}
	/* the Docker plugin's endpoints by the name Docker gave them in the container */
	cli_handoff_ifnames(e, n, sizeof(*e), ifnames);
	/* and by their container's name, when the engine lists them */
	containers = calloc(n ? n : 1, sizeof(*containers));
	if (containers)
		cli_handoff_containers(e, n, sizeof(*e), containers);
	/* a record that cannot be read could be any attachment's, TARGET's too: not ok */
	if (lj_json_unreadable("attachments", res.bad_records, false, &unreadable))
		all_ok = false;
	if (lj_json_unreadable("uplinks", res.bad_uplinks, false, &u)) /* adoptions */
		all_ok = false;
	json_array_extend(unreadable, u);
	json_decref(u);
	for (size_t i = 0; i < n; i++) {
		if (e[i].kind == LJ_STATUS_SETTLING)
			settling++; /* an attach still at work: no failure, but not ready */
		else if (e[i].kind != LJ_STATUS_OK)
			all_ok = false;
	}
	specs = cli_spec_unattached(target, entry_attached,
				    &(struct status_entries){.e = e, .n = n}, &missing);
	missing = cli_spec_mark_elsewhere(specs);
	if (missing)
		all_ok = false;
	/* records made from other namespaces are not checked here: say so (as list does), and
	 * when none is checked here, do not claim all is ok */
	{
		struct lj_state *st = NULL;

		FILE *m = open_memstream(&note, &note_size);

		if (m && lj_state_open_read("attachments", &st) == 0)
			elsewhere = cli_say_foreign(st, "status", m);
		lj_state_close(st);
		if (m)
			fclose(m);
	}
	json_array_foreach(specs, k, x) if (json_object_get(x, "where")) elsewhere_specs++;
	/* a spec attached from another namespace is not checked here either */
	if ((elsewhere || elsewhere_specs) && n == 0 && json_array_size(specs) == elsewhere_specs)
		all_ok = false;
	if (target && n == 0 && json_array_size(specs) == 0) {
		/* a misspelt TARGET must not read as "all ok" */
		all_ok = false;
		fprintf(stderr,
			"lanjoin: no attachment of %s ('lanjoin list' shows what is attached)\n",
			target);
	}
	if (json) {
		json_t *doc = status_json(e, n, all_ok, settling, ifnames, containers);

		json_object_set(doc, "unreadable", unreadable);
		json_array_foreach(specs, k, x)
		{
			json_t *row = json_pack(
				"{s:O, s:O, s:O, s:n, s:O, s:s, s:i}", "target",
				json_object_get(x, "target"), "ifname",
				json_object_get(x, "ifname"), "way", json_object_get(x, "way"),
				"host_ifname", "status", json_object_get(x, "status"), "what",
				json_object_get(x, "unknown")
					? json_string_value(json_object_get(x, "unknown"))
				: json_object_get(x, "where")
					? "persistent spec, attached from another network namespace"
					: "persistent spec, no attachment",
				"unchecked_steps", 0);

			/* attached from another network namespace: its place */
			if (row && json_object_get(x, "where"))
				json_object_set(row, "where", json_object_get(x, "where"));
			json_array_append_new(json_object_get(doc, "attachments"), row);
		}
		lj_print_json(doc);
	} else {
		/* columns as wide as their longest entry (a Docker sandbox path as TARGET) */
		int wt = 24, wi = 8, ww = 8;
		for (size_t i = 0; i < n; i++) {
			wt = lj_max_width(wt, row_target(&e[i].rec, containers, i));
			wi = lj_max_width(wi, ifnames[i][0] ? ifnames[i] : e[i].rec.ifname);
			ww = lj_max_width(ww, e[i].rec.way);
		}
		json_array_foreach(specs, k, x)
		{
			wt = lj_max_width(wt, json_string_value(json_object_get(x, "target")));
			wi = lj_max_width(wi, json_string_value(json_object_get(x, "ifname")));
			ww = lj_max_width(ww, json_string_value(json_object_get(x, "way")));
		}
		if (!target || n || json_array_size(specs)) /* else only the error, on stderr */
			printf("%-*s %-*s %-*s %-16s %s\n", wt, "TARGET", wi, "IFNAME", ww, "WAY",
			       "STATUS", "WHAT");
		for (size_t i = 0; i < n; i++)
			printf("%-*s %-*s %-*s %-16s %s%s%s\n", wt,
			       row_target(&e[i].rec, containers, i), wi,
			       ifnames[i][0] ? ifnames[i] : e[i].rec.ifname, ww, e[i].rec.way,
			       lj_status_kind_str(e[i].kind),
			       e[i].what[0]	 ? e[i].what
			       : e[i].warning[0] ? ""
						 : "-",
			       !e[i].warning[0] ? ""
			       : e[i].what[0]	? "; warning: "
						: "warning: ",
			       e[i].warning);
		json_array_foreach(specs, k, x)
		{
			const char *where = json_string_value(json_object_get(x, "where"));
			const char *way = json_string_value(json_object_get(x, "way"));
			bool waiting = strcmp(json_string_value(json_object_get(x, "status")),
					      "waiting") == 0;
			const char *unknown = json_string_value(json_object_get(x, "unknown"));

			printf("%-*s %-*s %-*s %-16s %s%s%s\n", wt,
			       json_string_value(json_object_get(x, "target")), wi,
			       json_string_value(json_object_get(x, "ifname")), ww, way ? way : "-",
			       json_string_value(json_object_get(x, "status")),
			       where	 ? "persistent spec; attached from network namespace "
			       : unknown ? "persistent spec; whether its target runs is not known: "
			       : waiting
				       ? "persistent spec; its target does not run (attached when "
					 "it does)"
				       : "persistent spec; its target runs unattached (reconcile "
					 "attaches it)",
			       where	 ? where
			       : unknown ? unknown
					 : "",
			       where ? " (run 'lanjoin status' there)" : "");
		}
	}
	/* on stdout after the table; with --json on stderr, so that stdout stays one value */
	if (note && note[0])
		fputs(note, json ? stderr : stdout);
	free(note);
	if (all_ok && settling && !json)
		fprintf(stderr,
			"lanjoin: %zu attachment%s still settling (%s attach runs: a DHCP lease or "
			"DAD); exit status 3, not ready yet\n",
			settling, settling == 1 ? "" : "s", settling == 1 ? "its" : "their");
	json_decref(specs);
	json_decref(unreadable);
	free(ifnames);
	free(containers);
	lj_status_free(e, n);
	lj_result_done(&res);
	return !all_ok ? LJ_EXIT_FAILED : settling ? LJ_EXIT_SETTLING : LJ_EXIT_OK;
}
