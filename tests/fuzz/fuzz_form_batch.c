/*
 * fuzz_form_batch.c: the shared body of the batch-reader fuzz targets (see
 * fuzz_form_batch.h). It knows no reader: each target passes its own.
 */
#include "fuzz_form_batch.h"
#include "form.h"

#include <stdlib.h>

int fuzz_form_batch(const uint8_t *data, size_t size, fuzz_form_reader read)
{
	char *err = NULL;
	form_batch_t *b = read((const char *)data, size, FORM_REGISTRATION, &err);

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
