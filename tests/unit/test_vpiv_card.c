/*
 * test_vpiv_card.c: the virtual PIV card driven directly, APDU by APDU, without pcscd:
 * the APDU layer (chaining, 61 xx, status words), SELECT, data objects, PIN and PUK
 * counters, management-key authentication (both flows, 3DES and AES), key generation
 * and use with each PIN policy, persistence across a restart, injected faults, and keys
 * taken from a pool made before the run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "../fixtures/vpiv/card.h"
#include "log.h"
#include "util.h"

static const uint8_t default_mgm[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};

struct fx {
	char dir[64];
	char path[96];
	vpiv_card_t *card;
	uint8_t resp[VPIV_MAX_RESPONSE];
	size_t rlen;		/* response data length, without SW */
};

static vpiv_card_t *fx_open(struct fx *f, int blank)
{
	struct vpiv_opts o = { .state_path = f->path, .serial = 4242, .have_serial = 1,
		.blank = blank };
	return card_new(&o);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/vpiv-unit.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/card.state", f->dir);
	f->card = fx_open(f, 0);
	*state = f;
	return f->card ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	card_destroy(&f->card);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Send raw bytes; returns the SW, the data is in f->resp / f->rlen. */
static uint16_t raw(struct fx *f, const uint8_t *apdu, size_t len)
{
	size_t n = card_apdu(f->card, apdu, len, f->resp);
	assert_true(n >= 2);
	f->rlen = n - 2;
	return (uint16_t)(f->resp[n - 2] << 8 | f->resp[n - 1]);
}

/* Send an APDU written in hex (spaces ignored). */
static uint16_t hx(struct fx *f, const char *hex)
{
	uint8_t buf[1024];
	char clean[2100];
	size_t j = 0;
	int n;

	for (const char *p = hex; *p; p++)
		if (*p != ' ')
			clean[j++] = *p;
	clean[j] = '\0';
	n = hex_decode(clean, buf, sizeof buf);
	assert_true(n >= 4);
	return raw(f, buf, (size_t)n);
}

/* Send an APDU and follow 61 xx with GET RESPONSE; the whole answer goes to OUT. */
static uint16_t hx_all(struct fx *f, const uint8_t *apdu, size_t len, uint8_t *out, size_t *outlen)
{
	static const uint8_t get_response[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };
	uint16_t sw = raw(f, apdu, len);

	*outlen = 0;
	for (;;) {
		memcpy(out + *outlen, f->resp, f->rlen);
		*outlen += f->rlen;
		if ((sw & 0xFF00) != 0x6100)
			return sw;
		sw = raw(f, get_response, sizeof get_response);
	}
}

static void des3(const uint8_t *key, int enc, const uint8_t *in, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n;
	assert_int_equal(EVP_CipherInit_ex(ctx, EVP_des_ede3_ecb(), NULL, key, NULL, enc), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_CipherUpdate(ctx, out, &n, in, 8), 1);
	EVP_CIPHER_CTX_free(ctx);
}

/* Mutual authentication with the 3DES management key KEY; returns the final SW. */
static uint16_t mgm_auth(struct fx *f, const uint8_t *key)
{
	uint8_t witness[8], apdu[32] = { 0x00, 0x87, 0x03, 0x9B, 0x16, 0x7C, 0x14, 0x80, 0x08 };
	uint8_t challenge[8] = { 9, 8, 7, 6, 5, 4, 3, 2 }, expect[8];

	assert_int_equal(hx(f, "00 87 03 9B 04 7C 02 80 00"), 0x9000);
	assert_int_equal(f->rlen, 12);
	assert_memory_equal(f->resp, "\x7C\x0A\x80\x08", 4);
	des3(key, 0, f->resp + 4, witness);
	memcpy(apdu + 9, witness, 8);
	apdu[17] = 0x81;
	apdu[18] = 0x08;
	memcpy(apdu + 19, challenge, 8);
	uint16_t sw = raw(f, apdu, 27);
	if (sw != 0x9000)
		return sw;
	des3(key, 1, challenge, expect);
	assert_int_equal(f->rlen, 12);
	assert_memory_equal(f->resp + 4, expect, 8);
	return sw;
}

static void verify_pin(struct fx *f)
{
	assert_int_equal(hx(f, "00 20 00 80 08 31 32 33 34 35 36 FF FF"), 0x9000);
}

static void test_select_and_basics(void **state)
{
	struct fx *f = *state;
	static const uint8_t apt[] = { 0x61, 0x11, 0x4F, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01,
		0x00, 0x79, 0x07, 0x4F, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08 };

	assert_int_equal(hx(f, "00 A4 04 00 05 A0 00 00 03 08"), 0x9000);
	assert_int_equal(f->rlen, sizeof apt);
	assert_memory_equal(f->resp, apt, sizeof apt);
	assert_int_equal(hx(f, "00 A4 04 00 0B A0 00 00 03 08 00 00 10 00 01 00 00"), 0x9000);
	assert_memory_equal(f->resp, apt, sizeof apt);
	assert_int_equal(hx(f, "00 A4 04 00 07 D2 76 00 01 24 01 02"), 0x6A82);
	assert_int_equal(hx(f, "00 12 00 00"), 0x6D00);
	assert_int_equal(hx(f, "80 CB 3F FF 05 5C 03 5F C1 02"), 0x6E00);
	assert_int_equal(hx(f, "00 CB 3F 00 05 5C 03 5F C1 02"), 0x6A86);
	assert_int_equal(hx(f, "00 CB 3F FF 05 5C 03 5F C1 02"), 0x6A82);
	assert_int_equal(hx(f, "00 CB 3F FF 09 5C 03 5F C1 02"), 0x6700);
	assert_int_equal(hx(f, "00 CB 3F FF 03 5C 01 7E"), 0x9000);
	assert_int_equal(f->resp[0], 0x7E);
	assert_int_equal(hx(f, "00 FD 00 00 00"), 0x9000);
	assert_int_equal(f->rlen, 3);
	assert_int_equal(hx(f, "00 F8 00 00 00"), 0x9000);
	assert_memory_equal(f->resp, "\x00\x00\x10\x92", 4);
	assert_int_equal(card_serial(f->card), 4242);
}

static void test_pin_counters(void **state)
{
	struct fx *f = *state;

	assert_int_equal(hx(f, "00 20 00 80"), 0x63C3);
	assert_int_equal(hx(f, "00 20 00 80 06 31 32 33 34 35 36"), 0x6700);
	assert_int_equal(hx(f, "00 20 00 80 08 30 30 30 30 30 30 FF FF"), 0x63C2);
	verify_pin(f);	/* the right PIN resets the counter */
	assert_int_equal(hx(f, "00 20 00 80"), 0x9000);
	assert_int_equal(hx(f, "00 20 FF 80"), 0x9000);
	assert_int_equal(hx(f, "00 20 00 80"), 0x63C3);
	for (int left = 2; left >= 1; left--)
		assert_int_equal(hx(f, "00 20 00 80 08 30 30 30 30 30 30 FF FF"), 0x63C0 | left);
	assert_int_equal(hx(f, "00 20 00 80 08 30 30 30 30 30 30 FF FF"), 0x6983);
	assert_int_equal(hx(f, "00 20 00 80 08 31 32 33 34 35 36 FF FF"), 0x6983);
	assert_int_equal(hx(f, "00 20 00 80"), 0x6983);
	/* RESET RETRY COUNTER: PUK || new PIN; a malformed new PIN is refused. */
	assert_int_equal(hx(f, "00 2C 00 80 10 31 32 33 34 35 36 37 38 31 32 FF FF FF FF FF FF"), 0x6A80);
	assert_int_equal(hx(f, "00 2C 00 80 10 30 30 30 30 30 30 30 30 36 35 34 33 32 31 FF FF"), 0x63C2);
	assert_int_equal(hx(f, "00 2C 00 80 10 31 32 33 34 35 36 37 38 36 35 34 33 32 31 FF FF"), 0x9000);
	assert_int_equal(hx(f, "00 20 00 80 08 36 35 34 33 32 31 FF FF"), 0x9000);
	/* CHANGE REFERENCE DATA for the PIN, then back. */
	assert_int_equal(hx(f, "00 24 00 80 10 36 35 34 33 32 31 FF FF 31 32 33 34 35 36 FF FF"), 0x9000);
	verify_pin(f);
	/* YubiKey RESET needs both PIN and PUK blocked. */
	assert_int_equal(hx(f, "00 FB 00 00"), 0x6985);
}

static void test_reset_when_blocked(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 3; i++)
		hx(f, "00 20 00 80 08 30 30 30 30 30 30 FF FF");
	for (int i = 0; i < 3; i++)
		hx(f, "00 24 00 81 10 30 30 30 30 30 30 30 30 31 31 31 31 31 31 31 31");
	assert_int_equal(hx(f, "00 24 00 81 10 31 32 33 34 35 36 37 38 31 31 31 31 31 31 31 31"), 0x6983);
	assert_int_equal(hx(f, "00 FB 00 00"), 0x9000);
	assert_int_equal(hx(f, "00 20 00 80"), 0x63C3);
	verify_pin(f);
}

static void test_mgm_auth_and_objects(void **state)
{
	struct fx *f = *state;
	uint8_t wrong[24] = { 0 }, apdu[600], out[700];
	size_t n, outlen;

	assert_int_equal(hx(f, "00 DB 3F FF 08 5C 03 5F C1 02 53 01 AA"), 0x6982);
	assert_int_equal(mgm_auth(f, wrong), 0x6982);
	/* A half-done exchange is forgotten after a failure. */
	assert_int_equal(hx(f, "00 87 03 9B 16 7C 14 80 08 00 00 00 00 00 00 00 00 81 08 00 00 00 00 00 00 00 00"), 0x6982);
	assert_int_equal(mgm_auth(f, default_mgm), 0x9000);
	assert_int_equal(hx(f, "00 DB 3F FF 08 5C 03 5F C1 02 53 01 AA"), 0x9000);
	assert_int_equal(hx(f, "00 CB 3F FF 05 5C 03 5F C1 02"), 0x9000);
	assert_int_equal(f->rlen, 3);
	assert_memory_equal(f->resp, "\x53\x01\xAA", 3);
	assert_int_equal(hx(f, "00 DB 3F FF 08 5C 03 5F C1 99 53 01 AA"), 0x6A80);
	/* Printed information: written with the management key, read only with the PIN. */
	assert_int_equal(hx(f, "00 DB 3F FF 08 5C 03 5F C1 09 53 01 CC"), 0x9000);
	assert_int_equal(hx(f, "00 CB 3F FF 05 5C 03 5F C1 09"), 0x6982);
	verify_pin(f);
	assert_int_equal(hx(f, "00 CB 3F FF 05 5C 03 5F C1 09"), 0x9000);

	/* A 500-byte object: written with command chaining, read back through 61 xx. */
	n = 0;
	memcpy(apdu, "\x5C\x03\x5F\xC1\x05\x53\x82\x01\xF4", 9);
	for (int i = 0; i < 500; i++)
		apdu[9 + i] = (uint8_t)i;
	n = 509;
	uint8_t c1[5 + 255] = { 0x10, 0xDB, 0x3F, 0xFF, 0xFF }, c2[5 + 255] = { 0x00, 0xDB, 0x3F, 0xFF };
	memcpy(c1 + 5, apdu, 255);
	assert_int_equal(raw(f, c1, sizeof c1), 0x9000);
	c2[4] = (uint8_t)(n - 255);
	memcpy(c2 + 5, apdu + 255, n - 255);
	assert_int_equal(raw(f, c2, 5 + n - 255), 0x9000);
	static const uint8_t get[] = { 0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x05, 0x00 };
	assert_int_equal(hx_all(f, get, sizeof get, out, &outlen), 0x9000);
	assert_int_equal(outlen, 504);
	assert_memory_equal(out, "\x53\x82\x01\xF4", 4);
	assert_memory_equal(out + 4, apdu + 9, 500);
	/* A short Le gets a short answer and the rest through GET RESPONSE. */
	static const uint8_t get_short[] = { 0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x05, 0x08 };
	assert_int_equal(raw(f, get_short, sizeof get_short), 0x6100);
	assert_int_equal(f->rlen, 8);
	/* Empty 53 deletes. */
	assert_int_equal(hx(f, "00 DB 3F FF 07 5C 03 5F C1 05 53 00"), 0x9000);
	assert_int_equal(hx(f, "00 CB 3F FF 05 5C 03 5F C1 05"), 0x6A82);

	/* The state survives a restart; the security state does not. */
	card_destroy(&f->card);
	f->card = fx_open(f, 0);
	assert_non_null(f->card);
	assert_int_equal(hx(f, "00 CB 3F FF 05 5C 03 5F C1 02"), 0x9000);
	assert_int_equal(hx(f, "00 DB 3F FF 08 5C 03 5F C1 02 53 01 BB"), 0x6982);
	/* --blank wipes it back to factory, keeping the serial. */
	card_destroy(&f->card);
	f->card = fx_open(f, 1);
	assert_int_equal(hx(f, "00 CB 3F FF 05 5C 03 5F C1 02"), 0x6A82);
	assert_int_equal(card_serial(f->card), 4242);
}

static void test_set_mgm_aes_external(void **state)
{
	struct fx *f = *state;
	uint8_t key[16], apdu[64] = { 0x00, 0xFF, 0xFF, 0xFF, 0x13, 0x08, 0x9B, 0x10 };
	uint8_t chal[16], resp[16];
	EVP_CIPHER_CTX *ctx;
	int n;

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)(0x40 + i);
	memcpy(apdu + 8, key, 16);
	assert_int_equal(raw(f, apdu, 24), 0x6982);
	assert_int_equal(mgm_auth(f, default_mgm), 0x9000);
	assert_int_equal(raw(f, apdu, 24), 0x9000);
	card_reset(f->card);
	/* The old algorithm is now refused. */
	assert_int_equal(hx(f, "00 87 03 9B 04 7C 02 80 00"), 0x6A80);
	/* External authenticate: challenge in clear, host answers it encrypted. */
	assert_int_equal(hx(f, "00 87 08 9B 04 7C 02 81 00"), 0x9000);
	assert_int_equal(f->rlen, 20);
	memcpy(chal, f->resp + 4, 16);
	ctx = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	EVP_EncryptUpdate(ctx, resp, &n, chal, 16);
	EVP_CIPHER_CTX_free(ctx);
	memcpy(apdu, "\x00\x87\x08\x9B\x14\x7C\x12\x82\x10", 9);
	memcpy(apdu + 9, resp, 16);
	assert_int_equal(raw(f, apdu, 25), 0x9000);
	assert_int_equal(hx(f, "00 DB 3F FF 08 5C 03 5F C1 02 53 01 AA"), 0x9000);
}

/* Build an RSA public key from the 7F49 answer. */
static EVP_PKEY *rsa_from_7f49(const uint8_t *p, size_t len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pk = NULL;
	BIGNUM *nb, *eb;

	/* 7F 49 82 01 09 81 82 01 00 <256> 82 03 <3> */
	assert_true(len == 5 + 4 + 256 + 5);
	assert_memory_equal(p, "\x7F\x49\x82\x01\x09\x81\x82\x01\x00", 9);
	nb = BN_bin2bn(p + 9, 256, NULL);
	eb = BN_bin2bn(p + 9 + 256 + 2, 3, NULL);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, nb);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, eb);
	params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_fromdata_init(ctx);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(nb);
	BN_free(eb);
	return pk;
}

static void test_generate_and_sign_rsa(void **state)
{
	struct fx *f = *state;
	static const uint8_t gen[] = { 0x00, 0x47, 0x00, 0x9C, 0x05, 0xAC, 0x03, 0x80, 0x01, 0x07 };
	uint8_t out[1024], block[256], apdu[300], sig[1024];
	size_t outlen, siglen;
	EVP_PKEY *pub;
	EVP_PKEY_CTX *ctx;
	uint8_t rec[256];
	size_t reclen = sizeof rec;

	assert_int_equal(raw(f, gen, sizeof gen), 0x6982);
	assert_int_equal(mgm_auth(f, default_mgm), 0x9000);
	assert_int_equal(hx(f, "00 47 00 9C 05 AC 03 80 01 42"), 0x6A80);
	assert_int_equal(hx(f, "00 47 00 55 05 AC 03 80 01 07"), 0x6A86);
	assert_int_equal(hx_all(f, gen, sizeof gen, out, &outlen), 0x9000);
	pub = rsa_from_7f49(out, outlen);

	/* A raw block: 00 01 FF.. 00 <data>. Sent with chaining: 7C 82 01 06 82 00 81 82 01 00 <256>. */
	memset(block, 0xFF, sizeof block);
	block[0] = 0x00;
	block[1] = 0x01;
	block[200] = 0x00;
	memset(block + 201, 0x5A, 55);
	memcpy(apdu, "\x7C\x82\x01\x06\x82\x00\x81\x82\x01\x00", 10);
	memcpy(apdu + 10, block, 256);
	uint8_t c1[5 + 200] = { 0x10, 0x87, 0x07, 0x9C, 200 }, c2[5 + 66 + 1] = { 0x00, 0x87, 0x07, 0x9C, 66 };
	memcpy(c1 + 5, apdu, 200);
	memcpy(c2 + 5, apdu + 200, 66);
	/* PIN always: nothing without VERIFY just before. */
	assert_int_equal(raw(f, c1, sizeof c1), 0x9000);
	assert_int_equal(raw(f, c2, 5 + 66), 0x6982);
	verify_pin(f);
	assert_int_equal(raw(f, c1, sizeof c1), 0x9000);
	assert_int_equal(hx_all(f, c2, 5 + 66 + 1, sig, &siglen), 0x9000);
	assert_int_equal(siglen, 4 + 4 + 256);
	assert_memory_equal(sig, "\x7C\x82\x01\x04\x82\x82\x01\x00", 8);
	/* The public key undoes it. */
	ctx = EVP_PKEY_CTX_new(pub, NULL);
	EVP_PKEY_verify_recover_init(ctx);
	EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING);
	assert_int_equal(EVP_PKEY_verify_recover(ctx, rec, &reclen, sig + 8, 256), 1);
	assert_memory_equal(rec, block, 256);
	EVP_PKEY_CTX_free(ctx);
	/* ...and the VERIFY was used up. */
	assert_int_equal(raw(f, c1, sizeof c1), 0x9000);
	assert_int_equal(raw(f, c2, 5 + 66), 0x6982);
	EVP_PKEY_free(pub);

	/* The key survives a restart. */
	card_destroy(&f->card);
	f->card = fx_open(f, 0);
	verify_pin(f);
	assert_int_equal(raw(f, c1, sizeof c1), 0x9000);
	assert_int_equal(raw(f, c2, 5 + 66), 0x6108);
}

static void test_generate_and_sign_ec(void **state)
{
	struct fx *f = *state;
	static const uint8_t gen[] = { 0x00, 0x47, 0x00, 0x9A, 0x05, 0xAC, 0x03, 0x80, 0x01, 0x11 };
	uint8_t out[256], hash[32], apdu[64] = { 0x00, 0x87, 0x11, 0x9A, 0x26, 0x7C, 0x24, 0x82,
		0x00, 0x81, 0x20 };
	size_t outlen;
	EVP_PKEY *pub = NULL;
	EVP_PKEY_CTX *ctx;
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params;

	assert_int_equal(mgm_auth(f, default_mgm), 0x9000);
	assert_int_equal(hx_all(f, gen, sizeof gen, out, &outlen), 0x9000);
	assert_int_equal(outlen, 3 + 2 + 65);
	assert_memory_equal(out, "\x7F\x49\x43\x86\x41\x04", 6);
	bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, out + 5, 65);
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY_fromdata_init(ctx);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);

	memset(hash, 0x33, sizeof hash);
	memcpy(apdu + 11, hash, 32);
	/* 9A: PIN once per session. */
	assert_int_equal(raw(f, apdu, 43), 0x6982);
	verify_pin(f);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(raw(f, apdu, 43), 0x9000);
		assert_memory_equal(f->resp, "\x7C", 1);
		ctx = EVP_PKEY_CTX_new(pub, NULL);
		EVP_PKEY_verify_init(ctx);
		assert_int_equal(EVP_PKEY_verify(ctx, f->resp + 4, f->rlen - 4, hash, 32), 1);
		EVP_PKEY_CTX_free(ctx);
	}
	/* A reset ends the session. */
	card_reset(f->card);
	assert_int_equal(raw(f, apdu, 43), 0x6982);
	/* A retired key-management slot works the same way. */
	static const uint8_t gen95[] = { 0x00, 0x47, 0x00, 0x95, 0x05, 0xAC, 0x03, 0x80, 0x01, 0x11 };
	assert_int_equal(mgm_auth(f, default_mgm), 0x9000);
	assert_int_equal(raw(f, gen95, sizeof gen95), 0x9000);
	assert_int_equal(hx(f, "00 47 00 96 05 AC 03 80 01 11"), 0x6A86);
	apdu[3] = 0x95;
	assert_int_equal(raw(f, apdu, 43), 0x6982);
	verify_pin(f);
	assert_int_equal(raw(f, apdu, 43), 0x9000);
	apdu[3] = 0x9A;
	/* Wrong algorithm for the slot. */
	verify_pin(f);
	apdu[2] = 0x07;
	assert_int_equal(raw(f, apdu, 43), 0x6A80);
	EVP_PKEY_free(pub);
}

static void test_faults(void **state)
{
	struct fx *f = *state;

	assert_int_equal(card_add_fault(f->card, "sw:FD=6A88"), 0);
	assert_int_equal(card_add_fault(f->card, "sw:zz=1"), -1);
	assert_int_equal(card_add_fault(f->card, "bogus"), -1);
	assert_int_equal(hx(f, "00 FD 00 00 00"), 0x6A88);
	assert_int_equal(hx(f, "00 F8 00 00 00"), 0x9000);
	/* The count runs from the card's start: two APDUs so far. */
	assert_int_equal(card_add_fault(f->card, "after:3"), 0);
	assert_int_equal(hx(f, "00 F8 00 00 00"), 0x9000);
	assert_int_equal(hx(f, "00 F8 00 00 00"), 0x6F00);
	assert_int_equal(hx(f, "00 A4 04 00 05 A0 00 00 03 08"), 0x6F00);
}

/* Write a fresh P-256 key as PATH (PEM); its uncompressed public point goes to PUB. */
static void pool_key(const char *path, uint8_t pub[65])
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	FILE *fp = fopen(path, "w");
	size_t len;

	assert_non_null(k);
	assert_non_null(fp);
	assert_int_equal(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(fp);
	assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
	    pub, 65, &len), 1);
	assert_int_equal(len, 65);
	EVP_PKEY_free(k);
}

/* Keys made before the run: each used once, its file gone, then the card makes its own. */
static void test_key_pool(void **state)
{
	struct fx *f = *state;
	char pool[96], p1[128], p2[128], other[128];
	uint8_t pub1[65], pub2[65], out[256];
	uint8_t gen[] = { 0x00, 0x47, 0x00, 0x9A, 0x05, 0xAC, 0x03, 0x80, 0x01, 0x11 };
	static const uint8_t slots[] = { 0x9A, 0x9C, 0x9D };
	int got1 = 0, got2 = 0;
	size_t outlen;
	struct vpiv_opts o = { .state_path = f->path, .serial = 4242, .have_serial = 1,
		.key_pool = pool };

	snprintf(pool, sizeof pool, "%s/pool", f->dir);
	assert_int_equal(mkdir(pool, 0700), 0);
	snprintf(p1, sizeof p1, "%s/p256-1.pem", pool);
	snprintf(p2, sizeof p2, "%s/p256-2.pem", pool);
	snprintf(other, sizeof other, "%s/notes.txt", pool);
	pool_key(p1, pub1);
	pool_key(p2, pub2);
	FILE *fp = fopen(other, "w");
	assert_non_null(fp);
	fputs("not a key\n", fp);
	fclose(fp);
	card_destroy(&f->card);
	f->card = card_new(&o);
	assert_non_null(f->card);

	assert_int_equal(mgm_auth(f, default_mgm), 0x9000);
	for (size_t i = 0; i < sizeof slots; i++) {
		gen[3] = slots[i];
		assert_int_equal(hx_all(f, gen, sizeof gen, out, &outlen), 0x9000);
		assert_int_equal(outlen, 3 + 2 + 65);
		int is1 = memcmp(out + 5, pub1, 65) == 0, is2 = memcmp(out + 5, pub2, 65) == 0;
		got1 += is1;
		got2 += is2;
		/* the third finds the pool empty and makes a key of its own */
		if (i == 2)
			assert_false(is1 || is2);
	}
	assert_int_equal(got1, 1);
	assert_int_equal(got2, 1);
	/* each pooled key left the folder when taken; what is not a key stays */
	assert_int_equal(access(p1, F_OK), -1);
	assert_int_equal(access(p2, F_OK), -1);
	DIR *d = opendir(pool);
	struct dirent *e;
	int left = 0;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")))
			left++;
	closedir(d);
	assert_int_equal(left, 1);
	unlink(other);
	rmdir(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_select_and_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_when_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mgm_auth_and_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_mgm_aes_external, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_and_sign_rsa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_and_sign_ec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_pool, setup, teardown),
	};
	log_init("test_vpiv_card", LV_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
