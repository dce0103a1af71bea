/* SPDX-License-Identifier: MIT */
/* lanjoin status [TARGET] [--json]: is each attachment still what its record says? */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/spec.h"
#include "lib/core/status.h"
#include "lib/core/target.h"

static const char usage[] =
	"Usage: lanjoin status [TARGET] [--json] [--engine-socket PATH]\n"
	"Check each attachment (of TARGET, or all) against the kernel, read only: ok, drifted\n"
	"(says what differs from the record), target-gone, or target-restarted (the container\n"
	"runs in a new namespace). Exit status 0 when all are ok (without TARGET, also when\n"
	"there are none), 1 otherwise (also for a TARGET with no attachment), 2 on bad usage.\n"
	"A persistent spec without an attachment shows as waiting (its target does not run:\n"
	"not a failure) or missing (it runs: exit 1; reconcile attaches it).\n";

/* The status document: {"schema", "ok", "attachments": [...]}. */
static json_t *status_json(const struct lj_status_entry *e, size_t n, bool all_ok)
{
	json_t *o = json_object(), *a = json_array();

	for (size_t i = 0; i < n; i++) {
		const struct lj_record *rec = &e[i].rec;
		json_t *x = json_object();

		json_object_set_new(x, "target", json_string(rec->target_spec));
		json_object_set_new(x, "ifname", json_string(rec->ifname));
		json_object_set_new(x, "way", json_string(rec->way));
		json_object_set_new(x, "host_ifname",
				    rec->host_ifname[0] ? json_string(rec->host_ifname)
							: json_null());
		json_object_set_new(x, "status", json_string(lj_status_kind_str(e[i].kind)));
		json_object_set_new(x, "what", e[i].what[0] ? json_string(e[i].what) : json_null());
		json_object_set_new(x, "unchecked_steps", json_integer((json_int_t)e[i].unchecked));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "schema", json_string(LJ_SCHEMA_STATUS));
	json_object_set_new(o, "ok", json_boolean(all_ok));
	json_object_set_new(o, "attachments", a);
	return o;
}

/*
 * The persistent specs (of target, NULL: all) without an attachment in e: each as
 * {"target", "ifname", "status": "waiting"} (its target does not run: attached when it does)
 * or "missing" (it runs: reconcile attaches it; *all_ok false). A new array.
 */
static json_t *unattached_specs(const char *target, const struct lj_status_entry *e, size_t n,
				bool *all_ok)
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
		bool runs = false, seen = false;

		if (!ifn)
			ifn = "eth1";
		if (!t || (target && strcmp(t, target) != 0))
			continue;
		for (size_t k = 0; k < n && !seen; k++)
			seen = strcmp(e[k].rec.target_spec, t) == 0 &&
			       strcmp(e[k].rec.ifname, ifn) == 0;
		if (seen)
			continue;
		if (lj_target_parse(t, &tg) == 0 && lj_target_open(&tg) == 0) {
			runs = true;
			lj_target_close(&tg);
		}
		if (runs)
			*all_ok = false;
		json_array_append_new(out,
				      json_pack("{s:s, s:s, s:O, s:s}", "target", t, "ifname", ifn,
						"way", json_object_get(s, "way") ?: json_null(),
						"status", runs ? "missing" : "waiting"));
	}
	json_decref(specs);
	return out;
}

int lj_cmd_status(int argc, char **argv)
{
	struct lj_status_entry *e = NULL;
	const char *target = NULL;
	struct lj_result res;
	bool json = false, all_ok = true;
	json_t *specs, *x;
	size_t n = 0, k;
	int r;

	r = lj_cli_target_args(argc, argv, usage, &target, &json);
	if (r >= 0)
		return r;
	r = lj_status(target, &e, &n, &res);
	lj_warn_bad_records(&res);
	if (r < 0) {
		int code = lj_report_failure(&res, r);

		lj_result_done(&res);
		return code;
	}
	for (size_t i = 0; i < n; i++)
		if (e[i].kind != LJ_STATUS_OK)
			all_ok = false;
	specs = unattached_specs(target, e, n, &all_ok);
	if (target && n == 0 && json_array_size(specs) == 0) {
		/* a misspelt TARGET must not read as "all ok" */
		all_ok = false;
		fprintf(stderr,
			"lanjoin: no attachment of %s ('lanjoin list' shows what is attached)\n",
			target);
	}
	if (json) {
		json_t *doc = status_json(e, n, all_ok);

		json_array_foreach(specs, k, x) json_array_append_new(
			json_object_get(doc, "attachments"),
			json_pack("{s:O, s:O, s:O, s:n, s:O, s:s, s:i}", "target",
				  json_object_get(x, "target"), "ifname",
				  json_object_get(x, "ifname"), "way", json_object_get(x, "way"),
				  "host_ifname", "status", json_object_get(x, "status"), "what",
				  "persistent spec, no attachment", "unchecked_steps", 0));
		lj_print_json(doc);
	} else {
		printf("%-24s %-8s %-8s %-16s %s\n", "TARGET", "IFNAME", "WAY", "STATUS", "WHAT");
		for (size_t i = 0; i < n; i++)
			printf("%-24s %-8s %-8s %-16s %s\n", e[i].rec.target_spec, e[i].rec.ifname,
			       e[i].rec.way, lj_status_kind_str(e[i].kind),
			       e[i].what[0] ? e[i].what : "-");
		json_array_foreach(specs, k, x)
		{
			bool waiting = strcmp(json_string_value(json_object_get(x, "status")),
					      "waiting") == 0;
			printf("%-24s %-8s %-8s %-16s %s\n",
			       json_string_value(json_object_get(x, "target")),
			       json_string_value(json_object_get(x, "ifname")), "-",
			       json_string_value(json_object_get(x, "status")),
			       waiting ? "persistent spec; its target does not run (attached when "
					 "it "
					 "does)"
				       : "persistent spec; its target runs unattached (reconcile "
					 "attaches "
					 "it)");
		}
	}
	json_decref(specs);
	lj_status_free(e, n);
	lj_result_done(&res);
	return all_ok ? LJ_EXIT_OK : LJ_EXIT_FAILED;
}
