/* SPDX-License-Identifier: MIT */
#include "lib/ways/uplink-users.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/kernel/proc.h"
#include "shared/macro.h"

int lj_uplink_claim(struct lj_state *st, const struct lj_record *rec, bool explicit)
{
	json_t *claims, *kept, *c;
	uint64_t start = 0;
	size_t i;
	int r;

	if (!rec->info)
		return -EINVAL;
	if (explicit) {
		if (json_is_true(json_object_get(rec->info, "explicit")))
			return 0;
		if (json_object_set_new(rec->info, "explicit", json_true()) < 0)
			return -ENOMEM;
		return lj_state_save(st, rec);
	}
	r = lj_proc_start_time(getpid(), &start);
	if (r < 0)
		return r;
	kept = json_array();
	if (!kept)
		return -ENOMEM;
	claims = json_object_get(rec->info, "claims");
	json_array_foreach(claims, i, c)
	{
		json_int_t pid = json_integer_value(json_object_get(c, "pid"));
		json_int_t st0 = json_integer_value(json_object_get(c, "start"));

		if (pid > 0 && pid != getpid() && lj_proc_alive((pid_t)pid, (uint64_t)st0))
			json_array_append(kept, c);
	}
	if (json_array_append_new(kept, json_pack("{s:I, s:I}", "pid", (json_int_t)getpid(),
						  "start", (json_int_t)start)) < 0) {
		json_decref(kept);
		return -ENOMEM;
	}
	if (json_object_set_new(rec->info, "claims", kept) < 0) /* takes kept, also on failure */
		return -ENOMEM;
	return lj_state_save(st, rec);
}

int lj_uplink_in_use(struct lj_state *st, const struct lj_record *rec, char *buf, size_t size)
{
	const json_t *claims = json_object_get(rec->info, "claims"), *c;
	struct lj_state *att = NULL;
	struct lj_record *others = NULL;
	size_t i, n = 0;
	int r;

	if (json_is_true(json_object_get(rec->info, "explicit"))) {
		snprintf(buf, size, "'lanjoin uplink adopt %s %s' asked for it meanwhile",
			 rec->ifname, rec->host_ifname);
		return 1;
	}
	json_array_foreach(claims, i, c)
	{
		json_int_t pid = json_integer_value(json_object_get(c, "pid"));
		json_int_t start = json_integer_value(json_object_get(c, "start"));

		if (pid > 0 && pid != getpid() && lj_proc_alive((pid_t)pid, (uint64_t)start)) {
			snprintf(buf, size, "another lanjoin (PID %lld) attaches to it",
				 (long long)pid);
			return 1;
		}
	}
	r = lj_state_open_sibling(st, "attachments", &att);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = lj_state_list_info(att, "bridge", rec->ifname, &others, &n);
	lj_state_close(att);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		const char *b = json_string_value(json_object_get(others[i].info, "bridge"));

		if (b && strcmp(b, rec->ifname) == 0) {
			snprintf(buf, size, "an attachment is on it (%s as '%s')",
				 others[i].target_name, others[i].ifname);
			lj_records_free(others, n);
			return 1;
		}
	}
	lj_records_free(others, n);
	return 0;
}
