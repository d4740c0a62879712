/*
 * request.c: the OCSP request in a GET's URL (see request.h).
 *
 * Rules: the URL is bounded before it is copied, every escape is "%" and two hex digits
 * (a short or bad one refuses the request), and the base64 must be whole quads; the
 * length given back never counts the padding.
 */
#include "request.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* "%2B" and friends back to bytes, in place; -1 on a bad escape. */
static int ocsp_request_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			char hex[3] = { s[1], s[1] ? s[2] : '\0', '\0' };
			uint8_t v;

			if (hex_decode(hex, &v, 1) != 1)
				return -1;
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

uint8_t *ocsp_request_from_url(const char *url, size_t *len)
{
	const char *slash = strrchr(url, '/');
	char *b64;
	size_t n, pad;
	uint8_t *der = NULL;
	int out;

	if (!slash || strlen(slash + 1) > 4 * OCSP_MAX_REQUEST)
		return NULL;
	b64 = xstrdup(slash + 1);
	if (ocsp_request_unescape(b64) < 0 || (n = strlen(b64)) == 0 || n % 4 != 0 || n > 2 * OCSP_MAX_REQUEST)
		goto out;
	pad = (size_t)(b64[n - 1] == '=') + (b64[n - 2] == '=');
	der = xmalloc(n);
	/* EVP_DecodeBlock counts the padding as zero bytes (and trims blanks around). */
	if ((out = EVP_DecodeBlock(der, (unsigned char *)b64, (int)n)) < 0 || (size_t)out < pad) {
		free(der);
		der = NULL;
		goto out;
	}
	*len = (size_t)out - pad;
out:
	free(b64);
	return der;
}
