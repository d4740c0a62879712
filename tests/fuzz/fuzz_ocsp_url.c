/*
 * fuzz_ocsp_url.c: libFuzzer target for the part of an HTTP request head ra-ocsp reads
 * itself: the URL of a GET (RFC 6960 A.1), unescaped and base64-decoded into the DER
 * request by ocsp_request_from_url() (ocsp/request.c). libmicrohttpd hands the URL over
 * NUL-terminated with its escapes kept; the DER that comes out is fuzz_ocsp's business.
 * No input may fault or leak, and the DER is never longer than the base64 allows.
 */
#include "../../ocsp/request.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1);
	uint8_t *der;
	size_t len = 0;

	if (!url)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	der = ocsp_request_from_url(url, &len);
	if (der && (len > OCSP_MAX_REQUEST * 3 / 2 || len > 3 * (strlen(url) / 4)))
		abort();
	free(der);
	free(url);
	return 0;
}
