/*
 * fuzz_template.c: libFuzzer target for the mail and sheet template language of
 * ra-notifier ({{name}} fields, escaped for HTML): a template file edited by an operator
 * is outside input. Expansion must end with text or an error, never a fault.
 */
#include "../../notifier/template.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *out, *err = NULL;
	template_vars_t *v = template_vars_new();

	memcpy(text, data, size);
	text[size] = '\0';
	template_vars_set(v, "name", "陳怡君 <a&b>");
	template_vars_set(v, "account", "u12345678");
	template_vars_set(v, "expiry", "2027-03-05");
	for (int html = 0; html < 2; html++) {
		out = template_expand(text, v, html, &err);
		free(out);
		free(err);
		err = NULL;
	}
	template_vars_destroy(&v);
	free(text);
	return 0;
}
