/*
 * test_seal.c: a sealed secret opens only with the sheet private key, and any change to
 * the box is detected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "seal.h"
#include "util.h"

static char dir[] = "/tmp/ra-test-seal-XXXXXX";
static EVP_PKEY *pub, *priv;

static int setup(void **state)
{
	(void)state;
	char *k, *p, *pass;
	if (!mkdtemp(dir))
		return -1;
	k = xasprintf("%s/s.key", dir);
	p = xasprintf("%s/s.pub", dir);
	pass = xasprintf("%s/s.pass", dir);
	file_write_atomic(pass, "correct horse\n", 14, 0600);
	if (seal_keygen(k, pass, p) < 0)
		return -1;
	pub = seal_load_public(p);
	priv = seal_load_private(k, pass);
	free(k);
	free(p);
	free(pass);
	return pub && priv ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf %s", dir);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	return 0;
}

static void seal_and_open(void **state)
{
	(void)state;
	uint8_t *box, *msg;
	size_t boxlen, len;
	assert_int_equal(seal_box(pub, (const uint8_t *)"Xy7k9Pq2Wm4d", 12, &box, &boxlen), 0);
	assert_int_equal(boxlen, 1 + 32 + 12 + 12 + 16);
	assert_null(memmem(box, boxlen, "Xy7k9Pq2Wm4d", 12));
	assert_int_equal(seal_open(priv, box, boxlen, &msg, &len), 0);
	assert_int_equal(len, 12);
	assert_string_equal((char *)msg, "Xy7k9Pq2Wm4d");
	free(msg);
	free(box);
}

static void two_seals_differ(void **state)
{
	(void)state;
	uint8_t *b1, *b2;
	size_t n1, n2;
	seal_box(pub, (const uint8_t *)"123456", 6, &b1, &n1);
	seal_box(pub, (const uint8_t *)"123456", 6, &b2, &n2);
	assert_int_equal(n1, n2);
	assert_memory_not_equal(b1, b2, n1);
	free(b1);
	free(b2);
}

static void tampering_detected(void **state)
{
	(void)state;
	uint8_t *box, *msg = NULL;
	size_t boxlen, len;
	seal_box(pub, (const uint8_t *)"123456", 6, &box, &boxlen);
	for (size_t i = 0; i < boxlen; i++) {
		box[i] ^= 0x01;
		assert_int_equal(seal_open(priv, box, boxlen, &msg, &len), -1);
		box[i] ^= 0x01;
	}
	assert_int_equal(seal_open(priv, box, boxlen - 1, &msg, &len), -1);
	assert_int_equal(seal_open(priv, box, 10, &msg, &len), -1);
	free(box);
}

static void wrong_key_refused(void **state)
{
	(void)state;
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	uint8_t *box, *msg = NULL;
	size_t boxlen, len;
	seal_box(pub, (const uint8_t *)"123456", 6, &box, &boxlen);
	assert_int_equal(seal_open(other, box, boxlen, &msg, &len), -1);
	free(box);
	EVP_PKEY_free(other);
}

static void wrong_passphrase_refused(void **state)
{
	(void)state;
	char *k = xasprintf("%s/s.key", dir), *pass = xasprintf("%s/bad.pass", dir);
	file_write_atomic(pass, "wrong\n", 6, 0600);
	assert_null(seal_load_private(k, pass));
	free(k);
	free(pass);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seal_and_open),
		cmocka_unit_test(two_seals_differ),
		cmocka_unit_test(tampering_detected),
		cmocka_unit_test(wrong_key_refused),
		cmocka_unit_test(wrong_passphrase_refused),
	};
	log_init("test_seal", LV_ERR + 0);
	log_set_level(LV_ERR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
