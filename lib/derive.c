/*
 * derive.c: HKDF-SHA256 (RFC 5869) derivations of per-card secrets, and PIN generation.
 *
 * Inputs: IKM = the master key, salt = a fixed project label, info = a per-secret label,
 * a NUL, and the serial in decimal. Distinct labels make the management key and the PUK
 * independent even though both come from the same master key and serial. Changing a label
 * changes every card's secrets, so the labels carry a version and must never be edited.
 *
 * Digits are drawn by rejection: bytes of 250 and above are dropped, the rest taken
 * modulo 10, so each digit is exactly uniform. The derived stream is long enough that a
 * shortfall would need more than 40 of 64 bytes rejected (odds below 2^-150); should it
 * happen, derivation fails rather than bias.
 */
#include "derive.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/des.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define MASTER_MIN 32
#define MASTER_MAX 256

static const char derive_salt[] = "ra card secrets salt v1";
static const char label_mgm_3des[] = "ra card management key 3des v1";
static const char label_mgm_aes[] = "ra card management key aes128 v1";
static const char label_puk[] = "ra card puk v1";
static const char label_challenge[] = "ra card challenge v1";

struct derive {
	uint8_t key[MASTER_MAX];
	size_t len;
};

derive_t *derive_new_mem(const uint8_t *key, size_t len)
{
	derive_t *d;

	if (!key || len < MASTER_MIN || len > MASTER_MAX) {
		log_err("card master key must be %d to %d bytes", MASTER_MIN, MASTER_MAX);
		return NULL;
	}
	d = xcalloc(1, sizeof *d);
	memcpy(d->key, key, len);
	d->len = len;
	return d;
}

/* If TEXT (LEN bytes) is hex digits with optional surrounding whitespace, decode into OUT. */
static int derive_hex(const char *text, size_t len, uint8_t *out, size_t cap, size_t *olen)
{
	char buf[2 * MASTER_MAX + 1];
	size_t a = 0, b = len;
	int n;

	while (a < b && isspace((unsigned char)text[a]))
		a++;
	while (b > a && isspace((unsigned char)text[b - 1]))
		b--;
	if (b - a < 2 * MASTER_MIN || b - a > 2 * MASTER_MAX)
		return -1;
	for (size_t i = a; i < b; i++)
		if (!isxdigit((unsigned char)text[i]))
			return -1;
	memcpy(buf, text + a, b - a);
	buf[b - a] = '\0';
	n = hex_decode(buf, out, cap);
	OPENSSL_cleanse(buf, sizeof buf);
	if (n < 0)
		return -1;
	*olen = (size_t)n;
	return 0;
}

derive_t *derive_new(const char *path)
{
	uint8_t key[MASTER_MAX];
	size_t flen = 0, klen = 0;
	char *text;
	derive_t *d = NULL;

	text = file_read(path, &flen);
	if (!text) {
		log_err("card master key %s: cannot read", path);
		return NULL;
	}
	if (derive_hex(text, flen, key, sizeof key, &klen) == 0) {
		d = derive_new_mem(key, klen);
	} else if (flen >= MASTER_MIN && flen <= MASTER_MAX) {
		d = derive_new_mem((const uint8_t *)text, flen);
	} else {
		log_err("card master key %s: need 64+ hex digits or 32..256 raw bytes", path);
	}
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(text, flen);
	free(text);
	return d;
}

void derive_destroy(derive_t **dp)
{
	if (!dp || !*dp)
		return;
	OPENSSL_cleanse(*dp, sizeof **dp);
	free(*dp);
	*dp = NULL;
}

int derive_mgm_alg_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "3des") == 0)
		return DERIVE_MGM_3DES;
	if (strcmp(s, "aes128") == 0)
		return DERIVE_MGM_AES128;
	return -1;
}

size_t derive_mgm_len(enum derive_mgm_alg alg)
{
	return alg == DERIVE_MGM_AES128 ? 16 : 24;
}

/* HKDF-SHA256(master, salt, LABEL || 0 || decimal serial) -> OUT[OLEN]. 0/-1. */
static int derive_hkdf(const derive_t *d, const char *label, uint32_t serial, uint8_t *out,
    size_t olen)
{
	char info[96];
	int n, ret = -1;
	EVP_PKEY_CTX *ctx = NULL;

	n = snprintf(info, sizeof info, "%s%c%u", label, 0, serial);
	if (n < 0 || (size_t)n >= sizeof info)
		goto out;
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_salt(ctx, (const unsigned char *)derive_salt,
		(int)strlen(derive_salt)) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(ctx, d->key, (int)d->len) <= 0 ||
	    EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)info, n) <= 0 ||
	    EVP_PKEY_derive(ctx, out, &olen) <= 0) {
		log_err("HKDF derivation failed");
		goto out;
	}
	ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

int derive_mgm_key(const derive_t *d, uint32_t serial, enum derive_mgm_alg alg, uint8_t *out,
    size_t *len)
{
	uint8_t buf[DERIVE_MGM_MAX];
	size_t klen = derive_mgm_len(alg);
	int ret = -1;

	if (derive_hkdf(d, alg == DERIVE_MGM_AES128 ? label_mgm_aes : label_mgm_3des, serial, buf,
		klen) < 0)
		goto out;
	if (alg == DERIVE_MGM_3DES) {
		/* Odd parity, as DES keys are written; equal parts would make 3DES single DES. */
		for (int i = 0; i < 3; i++)
			DES_set_odd_parity((DES_cblock *)(buf + 8 * i));
		if (CRYPTO_memcmp(buf, buf + 8, 8) == 0 || CRYPTO_memcmp(buf + 8, buf + 16, 8) == 0 ||
		    CRYPTO_memcmp(buf, buf + 16, 8) == 0) {
			log_err("derived 3DES key for serial %u is degenerate", serial);
			goto out;
		}
	}
	memcpy(out, buf, klen);
	*len = klen;
	ret = 0;
out:
	OPENSSL_cleanse(buf, sizeof buf);
	return ret;
}

/* Fill OUT with N uniform digits taken from the bytes of SRC by rejection. 0/-1. */
static int derive_digits(const uint8_t *src, size_t slen, char *out, size_t n)
{
	size_t got = 0;

	for (size_t i = 0; i < slen && got < n; i++)
		if (src[i] < 250)
			out[got++] = (char)('0' + src[i] % 10);
	out[got] = '\0';
	return got == n ? 0 : -1;
}

int derive_puk(const derive_t *d, uint32_t serial, char out[DERIVE_PUK_LEN + 1])
{
	return derive_puk_version(d, serial, 1, out);
}

int derive_puk_version(const derive_t *d, uint32_t serial, int64_t version, char out[DERIVE_PUK_LEN + 1])
{
	uint8_t buf[64];
	char label[64];
	int ret = -1;

	if (version < 1)
		return -1;
	/* Version 1 keeps the original label, so cards personalized before keep their PUK. */
	if (version == 1)
		snprintf(label, sizeof label, "%s", label_puk);
	else
		snprintf(label, sizeof label, "%s version %lld", label_puk, (long long)version);
	if (derive_hkdf(d, label, serial, buf, sizeof buf) < 0)
		goto out;
	if (derive_digits(buf, sizeof buf, out, DERIVE_PUK_LEN) < 0) {
		OPENSSL_cleanse(out, DERIVE_PUK_LEN + 1);
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(buf, sizeof buf);
	return ret;
}

int derive_challenge(const derive_t *d, uint32_t serial, const char *rid, uint8_t *out, size_t len)
{
	char label[64];
	int n;

	if (!rid || !*rid || len == 0 || len > 32)
		return -1;
	n = snprintf(label, sizeof label, "%s request %s", label_challenge, rid);
	if (n < 0 || (size_t)n >= sizeof label)
		return -1;
	return derive_hkdf(d, label, serial, out, len);
}

int derive_pin_acceptable(const char *pin)
{
	size_t n = pin ? strlen(pin) : 0;
	int same = 1, up = 1, down = 1;

	if (n < DERIVE_PIN_MIN || n > DERIVE_PIN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return 0;
	for (size_t i = 1; i < n; i++) {
		same &= pin[i] == pin[0];
		up &= pin[i] == pin[i - 1] + 1;
		down &= pin[i] == pin[i - 1] - 1;
	}
	return !(same || up || down);
}

int derive_pin_generate(int len, char *out)
{
	uint8_t buf[64];
	int ret = -1;

	if (len < DERIVE_PIN_MIN || len > DERIVE_PIN_MAX)
		return -1;
	/* Rejected PINs are rare (a few in a million): draw again until one is acceptable. */
	for (int tries = 0; tries < 100; tries++) {
		if (RAND_bytes(buf, sizeof buf) != 1) {
			log_err("RAND_bytes failed");
			goto out;
		}
		if (derive_digits(buf, sizeof buf, out, (size_t)len) == 0 && derive_pin_acceptable(out)) {
			ret = 0;
			goto out;
		}
	}
	OPENSSL_cleanse(out, (size_t)len + 1);
out:
	OPENSSL_cleanse(buf, sizeof buf);
	return ret;
}
