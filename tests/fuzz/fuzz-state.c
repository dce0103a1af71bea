/* SPDX-License-Identifier: MIT */
/* State records: any bytes in a record file must be rejected or round-trip cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lj_record rec, back;
	char *text;
	json_t *j;

	if (lj_record_parse((const char *)data, size, "0123456789ab", &rec) != 0)
		return 0;
	/* An accepted record serialises and parses back to the same record. */
	j = lj_record_to_json(&rec);
	text = j ? json_dumps(j, 0) : NULL;
	if (!text || lj_record_parse(text, strlen(text), "0123456789ab", &back) != 0)
		abort();
	json_t *k = lj_record_to_json(&back);
	if (!json_equal(j, k))
		abort();
	json_decref(k);
	lj_record_free(&back);
	free(text);
	json_decref(j);
	lj_record_free(&rec);
	return 0;
}
