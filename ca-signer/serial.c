/*
 * serial.c: random serial numbers and their one text form (see serial.h).
 *
 * Uniqueness is the database's job (UNIQUE constraint, the caller retries); this file
 * only makes serials unpredictable, so that no one can precompute a certificate's
 * to-be-signed bytes.
 */
#include "serial.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "util.h"

int serial_random(ASN1_INTEGER **out, char hex[SIGNER_SERIAL_LEN])
{
	unsigned char b[SERIAL_BYTES];
	BIGNUM *bn = NULL;
	int rc = -1;

	*out = NULL;
	do {
		if (RAND_bytes(b, sizeof b) != 1)
			goto out;
		b[0] &= 0x7f;	/* positive, so DER needs no leading zero octet */
	} while (b[0] == 0 && memcmp(b, b + 1, sizeof b - 1) == 0);
	bn = BN_bin2bn(b, sizeof b, NULL);
	if (!bn || !(*out = BN_to_ASN1_INTEGER(bn, NULL)))
		goto out;
	if (serial_to_hex(*out, hex) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		ASN1_INTEGER_free(*out);
		*out = NULL;
	}
	BN_free(bn);
	return rc;
}

int serial_to_hex(const ASN1_INTEGER *ai, char hex[SIGNER_SERIAL_LEN])
{
	const unsigned char *d = ASN1_STRING_get0_data(ai);
	int n = ASN1_STRING_length(ai);

	if (ASN1_STRING_type(ai) != V_ASN1_INTEGER || n <= 0 || n > 20)
		return -1;
	while (n > 1 && d[0] == 0) {	/* magnitude bytes: drop redundant zeros */
		d++;
		n--;
	}
	hex_encode(d, (size_t)n, hex);
	return 0;
}

int serial_canonical(const char *in, char out[SIGNER_SERIAL_LEN], char err[SIGNER_ERR_LEN])
{
	char digits[64];
	size_t n = 0;
	uint8_t bytes[21];
	char padded[66];
	const char *p;
	int nb;

	if (!in || !*in) {
		snprintf(err, SIGNER_ERR_LEN, "no serial number given");
		return -1;
	}
	p = in;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p) || n + 1 >= sizeof digits) {
			snprintf(err, SIGNER_ERR_LEN, "serial number is not hex of at most 20 octets");
			return -1;
		}
		digits[n++] = (char)tolower((unsigned char)*p);
	}
	digits[n] = '\0';
	p = digits;
	while (*p == '0' && p[1])
		p++;
	/* An odd count of digits gets a leading zero so that it parses as whole octets. */
	snprintf(padded, sizeof padded, "%s%s", strlen(p) % 2 ? "0" : "", p);
	nb = hex_decode(padded, bytes, 20);
	if (nb <= 0) {
		snprintf(err, SIGNER_ERR_LEN, "serial number is not hex of at most 20 octets");
		return -1;
	}
	if (nb == 1 && bytes[0] == 0) {
		snprintf(err, SIGNER_ERR_LEN, "serial number zero is never issued");
		return -1;
	}
	hex_encode(bytes, (size_t)nb, out);
	return 0;
}

ASN1_INTEGER *serial_from_hex(const char *hex)
{
	uint8_t b[20];
	int n = hex_decode(hex, b, sizeof b);
	BIGNUM *bn;
	ASN1_INTEGER *ai;

	if (n <= 0 || !(bn = BN_bin2bn(b, n, NULL)))
		return NULL;
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return ai;
}
