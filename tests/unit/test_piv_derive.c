/*
 * test_piv_derive.c: per-card secret derivation (fixed vectors, so a change of label or
 * algorithm that would orphan every issued card fails here) and subscriber PIN rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "derive.h"
#include "util.h"

/* Checked against an independent HKDF-SHA256 (RFC 5869) implementation. */
#define VEC_AES "e2e68ed00b58ccee1d4adf95fb625a93"
#define VEC_3DES "fe51d3436becf4fe3b29bc165d862a5837f8208f3d94c4a2"
#define VEC_PUK "17649645"

static derive_t *fixed(void)
{
	uint8_t key[32];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	return derive_new_mem(key, sizeof key);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	hex_encode(b, n, out);
}

static void test_vectors(void **state)
{
	derive_t *d = fixed();
	uint8_t k[DERIVE_MGM_MAX];
	char h[2 * DERIVE_MGM_MAX + 1], puk[9];
	size_t len;

	(void)state;
	assert_non_null(d);
	assert_int_equal(derive_mgm_key(d, 12345678, DERIVE_MGM_AES128, k, &len), 0);
	assert_int_equal(len, 16);
	hex(k, len, h);
	assert_string_equal(h, VEC_AES);
	assert_int_equal(derive_mgm_key(d, 12345678, DERIVE_MGM_3DES, k, &len), 0);
	assert_int_equal(len, 24);
	hex(k, len, h);
	assert_string_equal(h, VEC_3DES);
	assert_int_equal(derive_puk(d, 12345678, puk), 0);
	assert_string_equal(puk, VEC_PUK);
	/* Version 1 is the PUK personalization sets: the same as before versions existed. */
	assert_int_equal(derive_puk_version(d, 12345678, 1, puk), 0);
	assert_string_equal(puk, VEC_PUK);
	derive_destroy(&d);
	assert_null(d);
}

static void test_stable_and_distinct(void **state)
{
	derive_t *d = fixed(), *d2 = fixed();
	uint8_t a[DERIVE_MGM_MAX], b[DERIVE_MGM_MAX];
	char p1[9], p2[9];
	size_t la, lb;

	(void)state;
	derive_mgm_key(d, 1, DERIVE_MGM_AES128, a, &la);
	derive_mgm_key(d2, 1, DERIVE_MGM_AES128, b, &lb);
	assert_memory_equal(a, b, 16);
	derive_mgm_key(d, 2, DERIVE_MGM_AES128, b, &lb);
	assert_memory_not_equal(a, b, 16);
	/* labels keep the 3DES and AES keys apart */
	derive_mgm_key(d, 1, DERIVE_MGM_3DES, b, &lb);
	assert_memory_not_equal(a, b, 16);
	derive_puk(d, 1, p1);
	derive_puk(d, 2, p2);
	assert_string_not_equal(p1, p2);
	assert_int_equal(strlen(p1), 8);
	assert_int_equal(strspn(p1, "0123456789"), 8);
	/* each PUK version of one card is another PUK */
	derive_puk_version(d, 1, 2, p2);
	assert_string_not_equal(p1, p2);
	assert_int_equal(strspn(p2, "0123456789"), 8);
	assert_int_equal(derive_puk_version(d, 1, 0, p2), -1);
	/* 3DES parity is odd in every byte */
	for (size_t i = 0; i < 24; i++)
		assert_int_equal(__builtin_popcount(b[i]) & 1, 1);
	derive_destroy(&d);
	derive_destroy(&d2);
}

static void test_files(void **state)
{
	char path[] = "/tmp/derive-test-XXXXXX";
	int fd = mkstemp(path);
	derive_t *d, *ref = fixed();
	uint8_t a[16], b[16];
	size_t l;
	const char *hexkey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, hexkey, strlen(hexkey)), (ssize_t)strlen(hexkey));
	close(fd);
	d = derive_new(path);
	assert_non_null(d);
	derive_mgm_key(d, 7, DERIVE_MGM_AES128, a, &l);
	derive_mgm_key(ref, 7, DERIVE_MGM_AES128, b, &l);
	assert_memory_equal(a, b, 16);
	derive_destroy(&d);
	/* too short */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "short", 5), 5);
	close(fd);
	assert_null(derive_new(path));
	unlink(path);
	assert_null(derive_new(path));
	derive_destroy(&ref);
	derive_destroy(&d);	/* NULL is fine */
}

/* ra-cardkey's challenges: the same for one card and request, else another; never the
 * management key itself. */
static void test_challenge(void **state)
{
	derive_t *d = fixed();
	uint8_t a[16], b[16], k[DERIVE_MGM_MAX];
	size_t lk;

	(void)state;
	assert_int_equal(derive_challenge(d, 1, "41", a, 16), 0);
	assert_int_equal(derive_challenge(d, 1, "41", b, 16), 0);
	assert_memory_equal(a, b, 16);
	assert_int_equal(derive_challenge(d, 1, "42", b, 16), 0);
	assert_memory_not_equal(a, b, 16);
	assert_int_equal(derive_challenge(d, 2, "41", b, 16), 0);
	assert_memory_not_equal(a, b, 16);
	derive_mgm_key(d, 1, DERIVE_MGM_AES128, k, &lk);
	assert_memory_not_equal(a, k, 16);
	assert_int_equal(derive_challenge(d, 1, "", a, 16), -1);
	assert_int_equal(derive_challenge(d, 1, NULL, a, 16), -1);
	assert_int_equal(derive_challenge(d, 1, "41", a, 0), -1);
	derive_destroy(&d);
}

static void test_pin_rules(void **state)
{
	(void)state;
	assert_true(derive_pin_acceptable("305917"));
	assert_true(derive_pin_acceptable("30591742"));
	assert_false(derive_pin_acceptable("111111"));
	assert_false(derive_pin_acceptable("123456"));
	assert_false(derive_pin_acceptable("87654321"));
	assert_false(derive_pin_acceptable("12345"));
	assert_false(derive_pin_acceptable("123456789"));
	assert_false(derive_pin_acceptable("12a456"));
	assert_false(derive_pin_acceptable(""));
	assert_false(derive_pin_acceptable(NULL));
}

static void test_pin_generate(void **state)
{
	char pin[9];
	int counts[10] = { 0 };

	(void)state;
	for (int len = 6; len <= 8; len++) {
		for (int i = 0; i < 2000; i++) {
			assert_int_equal(derive_pin_generate(len, pin), 0);
			assert_int_equal((int)strlen(pin), len);
			assert_true(derive_pin_acceptable(pin));
			for (int j = 0; j < len; j++)
				counts[pin[j] - '0']++;
		}
	}
	/* 42000 digits: each digit near 4200; a modulo bias or a stuck digit would show */
	for (int i = 0; i < 10; i++)
		assert_true(counts[i] > 3600 && counts[i] < 4800);
	assert_int_equal(derive_pin_generate(5, pin), -1);
	assert_int_equal(derive_pin_generate(9, pin), -1);
}

static void test_alg_parse(void **state)
{
	(void)state;
	assert_int_equal(derive_mgm_alg_parse("aes128"), DERIVE_MGM_AES128);
	assert_int_equal(derive_mgm_alg_parse("3des"), DERIVE_MGM_3DES);
	assert_int_equal(derive_mgm_alg_parse("aes"), -1);
	assert_int_equal(derive_mgm_len(DERIVE_MGM_AES128), 16);
	assert_int_equal(derive_mgm_len(DERIVE_MGM_3DES), 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_stable_and_distinct),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_pin_rules),
		cmocka_unit_test(test_pin_generate),
		cmocka_unit_test(test_alg_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
