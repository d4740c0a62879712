/*
 * fuzz_form_yaml.c: libFuzzer target for forms keyed or mailed as YAML (ra-intake
 * register/import/verify --file). Whatever the bytes, parsing and then checking,
 * canonicalising and comparing every form read must neither fault nor leak.
 */
#include "form.h"
#include "form_batch.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *err = NULL;
	form_batch_t *b = form_batch_parse_yaml((const char *)data, size, FORM_REGISTRATION, &err);

	for (size_t i = 0; b && i < b->n; i++) {
		struct form_problem *p = NULL;
		const char **fields = NULL;
		form_t *f = b->items[i].form;
		char *canon;

		if (!f)
			continue;
		form_validate(f, &p);
		free(p);
		canon = form_canonical(f);
		free(canon);
		form_diff(f, b->items[0].form ? b->items[0].form : f, &fields);
		free(fields);
	}
	form_batch_destroy(&b);
	free(err);
	return 0;
}
