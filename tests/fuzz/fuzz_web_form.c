/*
 * fuzz_web_form.c: libFuzzer target for the form bodies ra-web reads from any browser
 * (web/http.c: application/x-www-form-urlencoded, percent and plus decoding by MHD,
 * duplicate names and text that is not UTF-8 refused), then every field read and the
 * form wiped, as the page handlers do.
 */
#include "../../web/web.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_req r = { 0 };
	const char *k;
	json_t *v;

	if (size > WEB_MAX_BODY)
		return 0;
	r.body = malloc(size + 1);
	memcpy(r.body, data, size);
	r.body[size] = '\0';
	r.body_len = size;
	if (http_parse_form(&r) == 0) {
		json_object_foreach(r.form, k, v)
			(void)strlen(http_field(&r, k));
		(void)http_equal(http_field(&r, "csrf"), "0123456789abcdef");
	}
	http_wipe(&r);
	return 0;
}
