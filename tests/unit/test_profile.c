/*
 * test_profile.c: the certificate profile's rules on their own: subject attribute checks
 * (UTF-8, length, control characters, PrintableString), e-mail addresses, usages, serial
 * text, and the lint refusing certificates that break the profile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/x509v3.h>

#include "../../ca-signer/lint.h"
#include "../../ca-signer/profile.h"
#include "../../ca-signer/serial.h"
#include "log.h"
#include "test_signer_fixture.h"
#include "util.h"

struct t {
	char *dir;
	config_t *cfg;
	X509 *ca;
	profile_t *p;
	EVP_PKEY *key, *other;
	unsigned char *kder, *oder;	/* their RSAPublicKey DER */
	int klen, olen;
};

static int setup(void **state)
{
	struct t *t = xcalloc(1, sizeof *t);

	*state = t;
	char err[SIGNER_ERR_LEN];

	log_init("test_profile", LV_ERR);
	t->dir = fx_tmpdir();
	if (!t->dir || fx_make_ca(t->dir) < 0 || !(t->cfg = fx_config(t->dir, NULL)))
		return -1;
	char *path = xasprintf("%s/ca.pem", t->dir);
	t->ca = fx_load_cert(path);
	free(path);
	if (!t->ca || !(t->p = profile_new(t->cfg, t->ca, err))) {
		fprintf(stderr, "profile: %s\n", err);
		return -1;
	}
	t->key = fx_rsa(2048, 65537);
	t->other = fx_rsa(2048, 65537);
	t->klen = i2d_PublicKey(t->key, &t->kder);
	t->olen = i2d_PublicKey(t->other, &t->oder);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	profile_destroy(&t->p);
	X509_free(t->ca);
	EVP_PKEY_free(t->key);
	EVP_PKEY_free(t->other);
	OPENSSL_free(t->kder);
	OPENSSL_free(t->oder);
	config_destroy(&t->cfg);
	fx_rmdir(t->dir);
	free(t);
	return 0;
}

static void test_names(void **state)
{
	char err[SIGNER_ERR_LEN], s64[200] = "", s65[200] = "";
	(void)state;

	for (int i = 0; i < 64; i++)
		strcat(s64, "陳");	/* 64 characters, 192 bytes: characters are counted */
	strcpy(s65, s64);
	strcat(s65, "x");
	assert_int_equal(profile_check_name("n", "Chen Mei-ling", 0, err), 0);
	assert_int_equal(profile_check_name("n", s64, 0, err), 0);
	assert_int_equal(profile_check_name("n", s65, 0, err), -1);
	assert_non_null(strstr(err, "at most 64"));
	assert_int_equal(profile_check_name("n", "", 0, err), -1);
	assert_int_equal(profile_check_name("n", NULL, 0, err), -1);
	assert_int_equal(profile_check_name("n", "a\tb", 0, err), -1);
	assert_int_equal(profile_check_name("n", "a\x1b[31m", 0, err), -1);
	assert_int_equal(profile_check_name("n", "\xc2\x9b", 0, err), -1);	/* C1 CSI */
	assert_int_equal(profile_check_name("n", "\xff", 0, err), -1);
	assert_int_equal(profile_check_name("n", "\xe0\x80\x80", 0, err), -1);	/* overlong */
	assert_int_equal(profile_check_name("n", "\xf4\x90\x80\x80", 0, err), -1);	/* > U+10FFFF */
	assert_int_equal(profile_check_name("n", "\xf0\x9f\x98\x80", 0, err), 0);	/* emoji: valid */
	assert_int_equal(profile_check_name("sn", "A123456789", 1, err), 0);
	assert_int_equal(profile_check_name("sn", "acct-42/7", 1, err), 0);
	assert_int_equal(profile_check_name("sn", "陳", 1, err), -1);
	assert_int_equal(profile_check_name("sn", "a@b", 1, err), -1);
}

static void test_email_usage(void **state)
{
	char err[SIGNER_ERR_LEN];
	(void)state;

	assert_int_equal(profile_check_email("a.b+c@example.gov.tw", err), 0);
	assert_int_equal(profile_check_email("a@localhost", err), -1);
	assert_int_equal(profile_check_email("@example.tw", err), -1);
	assert_int_equal(profile_check_email("a@-x.tw", err), -1);
	assert_int_equal(profile_check_email("a@x..tw", err), -1);
	assert_int_equal(profile_check_email("a@x.tw.", err), -1);
	assert_int_equal(profile_check_email("a,b@x.tw", err), -1);
	assert_int_equal(profile_check_email("陳@x.tw", err), -1);
	assert_int_equal(profile_usage_parse("signature"), PROFILE_SIGNATURE);
	assert_int_equal(profile_usage_parse("encryption"), PROFILE_ENCRYPTION);
	assert_int_equal(profile_usage_parse("Signature"), -1);
	assert_int_equal(profile_usage_parse(NULL), -1);
}

static void test_serial_text(void **state)
{
	char out[SIGNER_SERIAL_LEN], err[SIGNER_ERR_LEN];
	ASN1_INTEGER *ai;
	(void)state;

	assert_int_equal(serial_canonical("0x0A:BC", out, err), 0);
	assert_string_equal(out, "0abc");
	assert_int_equal(serial_canonical("abc", out, err), 0);
	assert_string_equal(out, "0abc");
	assert_int_equal(serial_canonical("00007f01", out, err), 0);
	assert_string_equal(out, "7f01");
	assert_int_equal(serial_canonical("0", out, err), -1);
	assert_int_equal(serial_canonical("xyz", out, err), -1);
	assert_int_equal(serial_canonical("", out, err), -1);
	assert_int_equal(serial_canonical("112233445566778899aabbccddeeff0011223344ff", out, err), -1);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(serial_random(&ai, out), 0);
		assert_int_equal(ASN1_STRING_type(ai), V_ASN1_INTEGER);
		assert_true(ASN1_STRING_length(ai) <= 16);
		char again[SIGNER_SERIAL_LEN];
		assert_int_equal(serial_canonical(out, again, err), 0);
		assert_string_equal(out, again);
		ASN1_INTEGER *back = serial_from_hex(out);
		assert_int_equal(ASN1_INTEGER_cmp(ai, back), 0);
		ASN1_INTEGER_free(back);
		ASN1_INTEGER_free(ai);
	}
}

static int hex_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Serials come from a store of random bytes kept by each thread: no byte is used twice,
 * and a forked child never draws what its parent draws next. */
static void test_serial_store(void **state)
{
	(void)state;
	enum { N = 3000 };
	char (*all)[SIGNER_SERIAL_LEN] = calloc(N, SIGNER_SERIAL_LEN), mine[SIGNER_SERIAL_LEN];
	char child[SIGNER_SERIAL_LEN] = "";
	ASN1_INTEGER *ai;
	int fd[2], status;
	pid_t pid;

	assert_non_null(all);
	for (int i = 0; i < N; i++) {	/* many kilobytes of the store, each serial once */
		assert_int_equal(serial_random(&ai, all[i]), 0);
		ASN1_INTEGER_free(ai);
	}
	qsort(all, N, SIGNER_SERIAL_LEN, hex_cmp);
	for (int i = 1; i < N; i++)
		if (strcmp(all[i - 1], all[i]) == 0)
			fail_msg("serial %s drawn twice", all[i]);
	free(all);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char hex[SIGNER_SERIAL_LEN];
		int ok = serial_random(&ai, hex) == 0 &&
		    write(fd[1], hex, sizeof hex) == (ssize_t)sizeof hex;
		_exit(ok ? 0 : 1);
	}
	close(fd[1]);
	assert_int_equal(serial_random(&ai, mine), 0);
	ASN1_INTEGER_free(ai);
	assert_int_equal(read(fd[0], child, sizeof child), (ssize_t)sizeof child);
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (strcmp(mine, child) == 0)
		fail_msg("a forked child drew its parent's next serial %s", mine);
}

static X509 *build(struct t *t, enum profile_usage u)
{
	char err[SIGNER_ERR_LEN], hex[SIGNER_SERIAL_LEN];
	ASN1_INTEGER *sn;
	assert_int_equal(serial_random(&sn, hex), 0);
	X509 *x = profile_build(t->p, u, t->kder, (size_t)t->klen, "Lin Chih-wei", "B987654321", "lin@example.tw",
	    sn, ra_now(), err);
	ASN1_INTEGER_free(sn);
	assert_non_null(x);
	return x;
}

static void expect_lint(struct t *t, X509 *x, enum profile_usage u, int other_key,
    const char *what)
{
	char err[SIGNER_ERR_LEN] = "";
	int rc = other_key ? lint_tbs(t->p, x, u, t->oder, (size_t)t->olen, err) :
	    lint_tbs(t->p, x, u, t->kder, (size_t)t->klen, err);
	if (rc != -1 || !strstr(err, what))
		fail_msg("lint did not refuse with \"%s\" (got \"%s\")", what, err);
	X509_free(x);
}

static void replace_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	int i = X509_get_ext_by_NID(x, nid, -1);
	if (i >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, i));
	if (value) {
		X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
}

static void test_lint(void **state)
{
	struct t *t = *state;
	char err[SIGNER_ERR_LEN];
	X509 *x;

	x = build(t, PROFILE_SIGNATURE);
	assert_int_equal(lint_tbs(t->p, x, PROFILE_SIGNATURE, t->kder, (size_t)t->klen, err), 0);
	X509_free(x);
	x = build(t, PROFILE_ENCRYPTION);
	assert_int_equal(lint_tbs(t->p, x, PROFILE_ENCRYPTION, t->kder, (size_t)t->klen, err), 0);
	X509_free(x);

	expect_lint(t, build(t, PROFILE_SIGNATURE), PROFILE_ENCRYPTION, 0, "keyUsage");
	expect_lint(t, build(t, PROFILE_SIGNATURE), PROFILE_SIGNATURE, 1, "CSR's key");

	x = build(t, PROFILE_SIGNATURE);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "validity");

	x = build(t, PROFILE_SIGNATURE);
	replace_ext(x, NID_basic_constraints, "critical,CA:TRUE");
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "basicConstraints");

	x = build(t, PROFILE_SIGNATURE);
	replace_ext(x, NID_basic_constraints, "CA:FALSE");
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "basicConstraints");

	x = build(t, PROFILE_SIGNATURE);
	replace_ext(x, NID_key_usage, NULL);
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "keyUsage");

	x = build(t, PROFILE_SIGNATURE);
	replace_ext(x, NID_key_usage, "critical,digitalSignature,nonRepudiation,keyCertSign");
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "keyUsage");

	x = build(t, PROFILE_SIGNATURE);
	replace_ext(x, NID_ext_key_usage, "emailProtection,serverAuth");
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "extendedKeyUsage");

	x = build(t, PROFILE_SIGNATURE);
	replace_ext(x, NID_authority_key_identifier, NULL);
	{
		AUTHORITY_KEYID *ak = AUTHORITY_KEYID_new();
		ak->keyid = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(ak->keyid, (const unsigned char *)"0123456789abcdefghij", 20);
		X509_add1_ext_i2d(x, NID_authority_key_identifier, ak, 0, X509V3_ADD_APPEND);
		AUTHORITY_KEYID_free(ak);
	}
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "authorityKeyIdentifier");

	x = build(t, PROFILE_SIGNATURE);
	replace_ext(x, NID_netscape_comment, "hello");
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "not in the profile");

	x = build(t, PROFILE_SIGNATURE);
	{
		ASN1_INTEGER *neg = ASN1_INTEGER_new();
		ASN1_INTEGER_set(neg, -5);
		X509_set_serialNumber(x, neg);
		ASN1_INTEGER_free(neg);
	}
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "serial");

	x = build(t, PROFILE_SIGNATURE);
	{
		ASN1_INTEGER *zero = ASN1_INTEGER_new();
		ASN1_INTEGER_set(zero, 0);
		X509_set_serialNumber(x, zero);
		ASN1_INTEGER_free(zero);
	}
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "serial");

	x = build(t, PROFILE_SIGNATURE);
	{
		X509_NAME *empty = X509_NAME_new();
		X509_set_subject_name(x, empty);
		X509_NAME_free(empty);
	}
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "subject");

	x = build(t, PROFILE_SIGNATURE);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	expect_lint(t, x, PROFILE_SIGNATURE, 0, "issuer");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_email_usage),
		cmocka_unit_test(test_serial_text),
		cmocka_unit_test(test_serial_store),
		cmocka_unit_test(test_lint),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
