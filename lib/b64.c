/*
 * b64.c: see b64.h. OpenSSL's block coder, with the padding accounted for exactly and
 * anything but the base64 alphabet refused.
 */
#include "b64.h"
#include "util.h"

#include <openssl/evp.h>
#include <string.h>

char *b64_encode(const uint8_t *in, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

int b64_decode(const char *in, uint8_t **out, size_t *len)
{
	size_t n = strlen(in), pad = 0;
	uint8_t *buf;
	int r;

	if (n % 4 || strspn(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
		return -1;
	if (n && in[n - 1] == '=')
		pad++;
	if (n > 1 && in[n - 2] == '=')
		pad++;
	buf = xmalloc(n / 4 * 3 + 1);
	r = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
	if (r < 0 || (size_t)r < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = (size_t)r - pad;
	return 0;
}
