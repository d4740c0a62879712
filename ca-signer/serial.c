/*
 * serial.c: random serial numbers and their one text form (see serial.h).
 *
 * Uniqueness is the database's job (UNIQUE constraint, the caller retries); this file
 * only makes serials unpredictable, so that no one can precompute a certificate's
 * to-be-signed bytes.
 */
#include "serial.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "util.h"

/*
 * Random bytes for serials, drawn from OpenSSL's generator a kilobyte at a time: each
 * RAND_bytes call costs a few microseconds however short (locks, the DRBG's cipher set up
 * anew), as much as the serial's whole share of issuance otherwise. Each thread has its own
 * store; a forked child drops what it inherited (a serial drawn in both would repeat).
 */
#define SERIAL_STORE (SERIAL_BYTES * 64)

static _Thread_local unsigned char serial_store[SERIAL_STORE];
static _Thread_local size_t serial_left;
static _Thread_local unsigned serial_gen;
static unsigned serial_forks;	/* bumped in every forked child */
static pthread_once_t serial_once = PTHREAD_ONCE_INIT;

static void serial_forked(void)
{
	__atomic_add_fetch(&serial_forks, 1, __ATOMIC_RELAXED);
}

static void serial_atfork(void)
{
	pthread_atfork(NULL, NULL, serial_forked);
}

static int serial_bytes(unsigned char *b, size_t n)
{
	unsigned gen;

	pthread_once(&serial_once, serial_atfork);
	gen = __atomic_load_n(&serial_forks, __ATOMIC_RELAXED);
	if (gen != serial_gen) {
		OPENSSL_cleanse(serial_store, sizeof serial_store);
		serial_left = 0;
		serial_gen = gen;
	}
	if (serial_left < n) {
		if (RAND_bytes(serial_store, sizeof serial_store) != 1)
			return -1;
		serial_left = sizeof serial_store;
	}
	serial_left -= n;
	memcpy(b, serial_store + serial_left, n);
	OPENSSL_cleanse(serial_store + serial_left, n);	/* each byte used once */
	return 0;
}

int serial_random(ASN1_INTEGER **out, char hex[SIGNER_SERIAL_LEN])
{
	unsigned char b[SERIAL_BYTES];
	BIGNUM *bn = NULL;
	int rc = -1;

	*out = NULL;
	do {
		if (serial_bytes(b, sizeof b) < 0)
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
