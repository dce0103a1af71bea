/* SPDX-License-Identifier: MIT */
/* lanjoin apply FILE|DIR...: attach what spec files declare (idempotent). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/spec.h"
#include "lib/core/detach.h"
#include "lib/core/target.h"

static const char usage[] =
	"Usage: lanjoin apply FILE|DIR... [--engine-socket PATH]\n"
	"Attach what the spec files declare (a directory: its *.json files). A spec is a JSON\n"
	"object whose members are attach's long options: {\"way\": \"bridge\", \"target\":\n"
	"\"web\", \"bridge\": \"br-em1\", \"ip\": [\"198.51.100.117/24\"], \"persist\": true}.\n"
	"Types are strict: a flag true or false, a repeatable option (ip, gateway, route,\n"
	"publish) an array of strings, a number (mtu, vlan, dhcp-timeout) an integer, any other\n"
	"member a string.\n"
	"All files are checked first: a bad one (or two for one target and ifname) changes\n"
	"nothing (exit 2, naming the file and field). An attachment already made as asked is\n"
	"left alone. Each spec is its own change: one that fails is rolled back alone, the\n"
	"others stay attached (a last line names both). Exit status: 0 all attached, 1 some\n"
	"failed (or were refused while others were attached), 2 bad input and nothing\n"
	"changed (a file invalid, or a spec refused, e.g. already attached otherwise).\n"
	"Directories without any *.json file: nothing to do, exit 0.\n"
	"A persistent spec (\"persist\": true) of a container that exists but is stopped is\n"
	"stored and waits (exit 0): reconcile or watch attaches it when it runs.\n";

struct item {
	char *file;
	json_t *spec;  /* as read (o's strings point into it) */
	json_t *canon; /* canonical */
	struct lj_attach_opts o;
	struct cli_attach_flags f;
	char key[LJ_TARGET_SPEC_MAX + 8]; /* the target's identity (target_key) */
	bool attached;			  /* attached by this apply, or already as asked */
};

/*
 * The identity of target for finding two specs of one: its namespace's ("ns:DEV:INO") if it
 * can be opened now (netns:NAME and /run/netns/NAME are one), else "spec:" and the text.
 */
static void target_key(const char *target, char *ret)
{
	struct lj_target t;

	if (lj_target_parse(target, &t) == 0 && lj_target_open(&t) == 0) {
		snprintf(ret, LJ_TARGET_SPEC_MAX + 8, "%s", t.key);
		lj_target_close(&t);
		return;
	}
	snprintf(ret, LJ_TARGET_SPEC_MAX + 8, "spec:%s", target);
}

/* The interface name of item's spec (its file's key; cli_spec_to_opts gives o the default). */
static const char *spec_ifname(const struct item *it)
{
	const char *n = json_string_value(json_object_get(it->canon, "ifname"));

	return n ? n : it->o.ifname;
}

/* Roll back the attachment of o just made (its spec could not be stored; o->ifname is set:
 * cli_spec_to_opts gives it the default). */
static void unattach(const struct lj_attach_opts *o)
{
	struct lj_result dres;

	if (lj_detach(o->target, o->ifname, 0, &dres) < 0)
		lj_err("Rolling back the attachment of %s failed too: %s", o->target, dres.message);
	lj_result_done(&dres);
}

static int add_file(struct item **items, size_t *n, const char *path)
{
	struct item *a = realloc(*items, (*n + 1) * sizeof(**items));

	if (!a)
		return -ENOMEM;
	*items = a;
	memset(&a[*n], 0, sizeof(a[*n]));
	a[*n].file = strdup(path);
	if (!a[*n].file)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int json_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

/* path: a file, or a directory whose *.json files are added in name order. */
static int add_path(struct item **items, size_t *n, const char *path)
{
	struct dirent **names = NULL;
	struct stat s;
	int k, r = 0;

	if (stat(path, &s) < 0) {
		lj_err("%s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!S_ISDIR(s.st_mode))
		return add_file(items, n, path);
	k = scandir(path, &names, json_name, alphasort);
	if (k < 0) {
		lj_err("%s: %s", path, strerror(errno));
		return -EINVAL;
	}
	for (int i = 0; i < k; i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
			 names[i]->d_name);
		if (r == 0)
			r = add_file(items, n, p);
		free(names[i]);
	}
	free(names);
	return r;
}

/* Each spec is its own change: after a failure, say which ones stay attached and which not. */
static void report_partial(const struct item *items, size_t n)
{
	char ok[2048] = "", not [2048] = "";

	for (size_t i = 0; i < n; i++) {
		char *b = items[i].attached ? ok : not ;
		size_t len = strlen(b);

		snprintf(b + len, sizeof(ok) - len, "%s%s", len ? ", " : "", items[i].file);
	}
	lj_err("Not attached: %s. Attached (left as they are: each spec is its own change, "
	       "rolled back alone): %s",
	       not, ok);
}

static void items_free(struct item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].file);
		json_decref(items[i].spec);
		json_decref(items[i].canon);
	}
	free(items);
}

int lj_cmd_apply(int argc, char **argv)
{
	struct item *items = NULL;
	size_t n = 0, failed = 0, bad = 0, changed = 0;
	bool persist = false, named = false;
	int code = LJ_EXIT_USAGE, r, k;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			items_free(items, n);
			return LJ_EXIT_OK;
		}
		if (strcmp(argv[i], "--engine-socket") == 0) {
			if (i + 1 == argc || lj_cli_engine_socket(argv[++i]) < 0)
				goto out;
			continue;
		}
		if (argv[i][0] == '-') {
			items_free(items, n);
			return lj_usage_error(usage, "Unknown option '%s'", argv[i]);
		}
		if (add_path(&items, &n, argv[i]) < 0)
			goto out;
		named = true;
	}
	if (n == 0 && !named) {
		items_free(items, n);
		return lj_usage_error(usage, "Missing FILE");
	}
	if (n == 0) { /* directories without specs (a boot script's empty spec directory) */
		printf("Nothing to apply: no *.json file in the directories named\n");
		items_free(items, n);
		return LJ_EXIT_OK;
	}
	/* every file first: a bad one changes nothing */
	for (size_t i = 0; i < n; i++) {
		if (cli_spec_load(items[i].file, &items[i].spec) < 0 ||
		    cli_spec_to_opts(items[i].spec, items[i].file, &items[i].o, &items[i].f,
				     &items[i].canon) < 0)
			goto out;
		if (cli_attach_idle_option(&items[i].o)) {
			lj_err("%s: field 'mtu': %s", items[i].file,
			       cli_attach_idle_option(&items[i].o));
			goto out;
		}
		items[i].o.spec = items[i].canon;
		target_key(items[i].o.target, items[i].key);
		for (size_t j = 0; j < i; j++) {
			json_t *a = items[i].canon, *b = items[j].canon;
			if (strcmp(items[i].key, items[j].key) == 0 &&
			    json_equal(json_object_get(a, "ifname"),
				       json_object_get(b, "ifname"))) {
				lj_err("%s: field 'target': %s as '%s' is declared by %s too%s",
				       items[i].file, items[i].o.target,
				       json_string_value(json_object_get(a, "ifname")),
				       items[j].file,
				       strcmp(items[i].o.target, items[j].o.target)
					       ? " (the same namespace)"
					       : "");
				goto out;
			}
		}
		persist |= items[i].f.persist;
	}
	/* where specs go must exist before anything is changed */
	if (persist && (r = cli_spec_dir_make()) < 0) {
		lj_err("Failed to create the spec directory %s: %s", cli_spec_dir(),
		       cli_spec_strerror(r));
		code = LJ_EXIT_FAILED;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct lj_result res;
		char prefix[4200];

		/* persistent, of a container that exists but is stopped: stored, waiting */
		snprintf(prefix, sizeof(prefix), "%s: ", items[i].file);
		if (items[i].f.persist && cli_spec_wait(items[i].canon, items[i].o.mac,
							items[i].f.replace, prefix, false, &k)) {
			items[i].attached = k == LJ_EXIT_OK;
			bad += k == LJ_EXIT_USAGE;
			failed += k == LJ_EXIT_FAILED;
			fflush(stdout);
			continue;
		}
		r = lj_attach(&items[i].o, &res);
		items[i].attached = r >= 0;

		if (r < 0) {
			lj_err_prefix(prefix);
			k = lj_report_failure(&res, r);
			lj_err_prefix(NULL);
			if (k == LJ_EXIT_USAGE)
				bad++;
			else if (k != LJ_EXIT_OK)
				failed++;
		} else {
			/* an attachment already as asked keeps its MAC: the stored spec says it;
			 * and its line says the spec is now stored, if it was not */
			bool stored = res.unchanged &&
				      cli_spec_stored(items[i].o.target, spec_ifname(&items[i]));

			if (items[i].f.persist &&
			    (r = cli_spec_save(items[i].canon,
					       cli_attach_live_mac(&res, items[i].o.mac),
					       cli_attach_live_network(&res),
					       cli_spec_container_id(&res))) < 0) {
				lj_err("%s: failed to store its spec in %s: %s", items[i].file,
				       cli_spec_dir(), cli_spec_strerror(r));
				if (!res.unchanged)
					unattach(&items[i].o);
				items[i].attached = false;
				failed++;
				lj_result_done(&res);
				continue;
			}
			changed += !res.unchanged;
			if (res.unchanged && items[i].f.persist && !stored)
				cli_attach_say_stored(&res);
			if (res.unchanged)
				printf("%s: %s\n", items[i].file, res.message);
			else
				printf("%s: attached %s as %s (%s way)\n", items[i].file,
				       items[i].o.target,
				       json_string_value(json_object_get(items[i].canon, "ifname")),
				       lj_way_name(items[i].o.way));
		}
		lj_result_done(&res);
		fflush(stdout); /* each file's line in order with the errors on stderr */
	}
	if ((failed || bad) && failed + bad < n)
		report_partial(items, n);
	/* 2 only when a refused spec is all there is: another one changed the host */
	code = failed || (bad && changed) ? LJ_EXIT_FAILED : bad ? LJ_EXIT_USAGE : LJ_EXIT_OK;
out:
	items_free(items, n);
	return code;
}
