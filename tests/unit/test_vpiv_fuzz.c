/*
 * test_vpiv_fuzz.c: the virtual card must survive whatever a host sends. Many APDUs,
 * random but shaped like real ones (known instructions, plausible lengths, TLV-looking
 * bodies, chaining, GET RESPONSE), go to a card that has keys, a management-key session
 * and a verified PIN (renewed now and then); every answer must be a well-formed response. Deterministic (fixed seed), so a
 * failure can be replayed; run it under `make asan` to catch memory errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../fixtures/vpiv/card.h"
#include "log.h"
#include "util.h"

#define FUZZ_ROUNDS 20000

static uint32_t fuzz_state = 0x12345678;

/* xorshift32: the same sequence on every run. */
static uint32_t fuzz_rand(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 17;
	fuzz_state ^= fuzz_state << 5;
	return fuzz_state;
}

static size_t fuzz_apdu(uint8_t *a)
{
	static const uint8_t ins[] = { 0xA4, 0xCB, 0xDB, 0x20, 0x24, 0x2C, 0x87, 0x47, 0xFD,
		0xF8, 0xFF, 0xFB, 0xFA, 0xF7, 0xC0, 0x00 };
	static const uint8_t tags[] = { 0x5C, 0x53, 0x7C, 0x80, 0x81, 0x82, 0x85, 0xAC, 0xAA };
	size_t lc, n;

	a[0] = (fuzz_rand() % 8 == 0) ? 0x10 : (fuzz_rand() % 32 == 0 ? (uint8_t)fuzz_rand() : 0x00);
	a[1] = ins[fuzz_rand() % sizeof ins];
	if (a[1] == 0x00)
		a[1] = (uint8_t)fuzz_rand();
	a[2] = fuzz_rand() % 4 == 0 ? (uint8_t)fuzz_rand() : (fuzz_rand() % 2 ? 0x00 : 0x3F);
	a[3] = fuzz_rand() % 2 ? (uint8_t)(0x9A + fuzz_rand() % 5) : (uint8_t)fuzz_rand();
	switch (fuzz_rand() % 5) {
	case 0:
		return 4 + fuzz_rand() % 4;	/* header only, or a broken length */
	case 1:
		lc = 0x100 + fuzz_rand() % 600;	/* extended */
		a[4] = 0;
		a[5] = (uint8_t)(lc >> 8);
		a[6] = (uint8_t)lc;
		n = 7;
		break;
	default:
		lc = 1 + fuzz_rand() % 255;
		a[4] = (uint8_t)lc;
		n = 5;
		break;
	}
	for (size_t i = 0; i < lc; i++) {
		/* Mostly TLV-like: a known tag, then a length that may or may not be true. */
		if (fuzz_rand() % 3 == 0 && i + 2 < lc) {
			a[n + i] = tags[fuzz_rand() % sizeof tags];
			a[n + i + 1] = (uint8_t)(fuzz_rand() % 2 ? lc - i - 2 : fuzz_rand());
			i++;
		} else {
			a[n + i] = (uint8_t)fuzz_rand();
		}
	}
	n += lc;
	if (fuzz_rand() % 3 == 0)
		a[n++] = (uint8_t)fuzz_rand();	/* Le, or one byte too many */
	if (fuzz_rand() % 7 == 0)
		n -= fuzz_rand() % n;	/* truncated */
	return n < 1 ? 1 : n;
}

static uint16_t fuzz_send(vpiv_card_t *card, const uint8_t *a, size_t n, uint8_t *r, size_t *rlen)
{
	size_t m = card_apdu(card, a, n, r);
	*rlen = m - 2;
	return (uint16_t)(r[m - 2] << 8 | r[m - 1]);
}

/*
 * Give the card what opens its deeper paths: a management-key session (mutual
 * authentication with the factory 3DES key) and a verified PIN.
 */
static void fuzz_login(vpiv_card_t *card, uint8_t *r)
{
	static const uint8_t key[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
		1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t ask[] = { 0x00, 0x87, 0x03, 0x9B, 0x04, 0x7C, 0x02, 0x80, 0x00 };
	static const uint8_t pin[] = { 0x00, 0x20, 0x00, 0x80, 0x08, '1', '2', '3', '4', '5', '6',
		0xFF, 0xFF };
	uint8_t a[27] = { 0x00, 0x87, 0x03, 0x9B, 0x16, 0x7C, 0x14, 0x80, 0x08 };
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t rlen;
	int n;

	if (fuzz_send(card, ask, sizeof ask, r, &rlen) != 0x9000)
		goto out;	/* e.g. a fuzzed SET MANAGEMENT KEY changed it: fine */
	EVP_DecryptInit_ex(ctx, EVP_des_ede3_ecb(), NULL, key, NULL);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	EVP_DecryptUpdate(ctx, a + 9, &n, r + 4, 8);
	a[17] = 0x81;
	a[18] = 0x08;
	memset(a + 19, 0x55, 8);
	fuzz_send(card, a, sizeof a, r, &rlen);
	fuzz_send(card, pin, sizeof pin, r, &rlen);
out:
	EVP_CIPHER_CTX_free(ctx);
}

static void test_random_apdus(void **state)
{
	char dir[] = "/tmp/vpiv-fuzz.XXXXXX", path[64];
	struct vpiv_opts o = { .serial = 1, .have_serial = 1 };
	uint8_t *a = xmalloc(1024), *r = xmalloc(VPIV_MAX_RESPONSE);
	vpiv_card_t *card;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/card.state", dir);
	o.state_path = path;
	card = card_new(&o);
	assert_non_null(card);
	{
		/* Keys to use: P-256 in 9A and 9E (fast to make), with a session to make them. */
		static const uint8_t gen9a[] = { 0x00, 0x47, 0x00, 0x9A, 0x05, 0xAC, 0x03, 0x80, 0x01, 0x11 };
		static const uint8_t gen9e[] = { 0x00, 0x47, 0x00, 0x9E, 0x05, 0xAC, 0x03, 0x80, 0x01, 0x11 };
		size_t rlen;
		fuzz_login(card, r);
		assert_int_equal(fuzz_send(card, gen9a, sizeof gen9a, r, &rlen), 0x9000);
		assert_int_equal(fuzz_send(card, gen9e, sizeof gen9e, r, &rlen), 0x9000);
	}
	for (int i = 0; i < FUZZ_ROUNDS; i++) {
		size_t n = fuzz_apdu(a), m;
		if (i % 1000 == 0) {
			card_reset(card);
			fuzz_login(card, r);
		}
		m = card_apdu(card, a, n, r);
		assert_true(m >= 2 && m <= VPIV_MAX_RESPONSE);
		/* Data only with 90 00 or 61 xx. */
		if (m > 2)
			assert_true(r[m - 2] == 0x90 || r[m - 2] == 0x61);
	}
	card_destroy(&card);
	/* The state file written along the way still loads. */
	o.have_serial = 0;
	card = card_new(&o);
	assert_non_null(card);
	card_destroy(&card);
	unlink(path);
	rmdir(dir);
	free(a);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_apdus),
	};
	log_init("test_vpiv_fuzz", LV_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
