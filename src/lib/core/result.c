/* SPDX-License-Identifier: MIT */
#include "lib/core/result.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/ctx.h"
#include "lib/core/interrupt.h"

int lj_bad_input(struct lj_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	res->bad_input = true;
	return -EINVAL;
}

int lj_fail(struct lj_result *res, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	return r;
}

void lj_result_append(struct lj_result *res, const char *fmt, ...)
{
	size_t len = strlen(res->message);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->message + len, sizeof(res->message) - len, fmt, ap);
	va_end(ap);
}

void lj_result_done(struct lj_result *res)
{
	json_decref(res->json);
	res->json = NULL;
	lj_records_free(res->records, res->n_records);
	res->records = NULL;
	res->n_records = 0;
	lj_plan_free(&res->dry_plan);
	lj_ctx_free(res->dry_ctx);
	res->dry_ctx = NULL;
	free(res->dry_text);
	res->dry_text = NULL;
}

void lj_result_note(struct lj_result *res, const char *fmt, ...)
{
	json_t *notes;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!res->json)
		res->json = json_object();
	if (!json_is_object(res->json))
		return;
	notes = json_object_get(res->json, "notes");
	if (!notes) {
		notes = json_array();
		json_object_set_new(res->json, "notes", notes);
	}
	json_array_append_new(notes, json_string(buf));
}

void lj_result_add_record(struct lj_result *res, const struct lj_record *rec)
{
	struct lj_record *a = realloc(res->records, (res->n_records + 1) * sizeof(*a));

	if (!a)
		return;
	res->records = a;
	a[res->n_records] = *rec;
	a[res->n_records].plan = (struct lj_plan){0};
	a[res->n_records].info = rec->info ? json_deep_copy(rec->info) : NULL;
	a[res->n_records].spec = rec->spec ? json_deep_copy(rec->spec) : NULL;
	res->n_records++;
}

void lj_result_dry_plan(struct lj_result *res, const struct lj_ctx *ctx, const struct lj_plan *p,
			bool undo, const char *header_fmt, ...)
{
	size_t old = res->dry_text ? strlen(res->dry_text) : 0, size = 0;
	char *buf = NULL;
	va_list ap;
	FILE *f;

	f = open_memstream(&buf, &size);
	if (!f)
		return;
	if (old)
		fwrite(res->dry_text, 1, old, f);
	fputc('#', f);
	fputc(' ', f);
	va_start(ap, header_fmt);
	vfprintf(f, header_fmt, ap);
	va_end(ap);
	fputc('\n', f);
	lj_plan_describe(ctx, p, undo, f);
	if (fclose(f) != 0) {
		free(buf);
		return;
	}
	free(res->dry_text);
	res->dry_text = buf;
}

int lj_result_state_failed(struct lj_result *res, int r)
{
	if (r != -EINTR || !lj_interrupted())
		return lj_fail(res, r, "Failed to open the state directory %s: %s", lj_state_dir(),
			       lj_state_strerror(r));
	res->interrupted = lj_interrupted();
	res->lock_interrupted = true;
	snprintf(res->message, sizeof(res->message),
		 "Interrupted (%s) while waiting for the state lock %s/lock: nothing was changed",
		 lj_interrupt_name(res->interrupted), lj_state_dir());
	return r;
}
