/*
 * fuzz_form_json.c: libFuzzer target for a form as it travels in a job payload (the
 * form_key, form_verify and import jobs a worker reads): JSON text to form_from_json, then
 * the same checks the worker makes. No input may fault or leak.
 */
#include "form.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t e;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
	char *err = NULL, *canon;
	struct form_problem *p = NULL;
	form_t *f;
	json_t *back;

	if (!j)
		return 0;
	f = form_from_json(j, &err);
	if (f) {
		form_validate(f, &p);
		canon = form_canonical(f);
		back = form_to_json(f);
		free(canon);
		json_decref(back);
		free(p);
	}
	form_destroy(&f);
	free(err);
	json_decref(j);
	return 0;
}
