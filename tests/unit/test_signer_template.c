/*
 * test_signer_template.c: the certificate template (profile_tbs) against the long way
 * (profile_build, an X509 built field by field, signed with X509_sign). For the same
 * fields both must give the same TBSCertificate, byte for byte, and so (PKCS#1 v1.5 being
 * deterministic) the same signed certificate: both usages, with and without an e-mail
 * address, names in and out of ASCII and at their longest, serials with and without a
 * leading zero octet, validity in UTCTime and across 2050 in GeneralizedTime, and a
 * profile without the optional pointers. Then a certificate the signer issues is rebuilt
 * the long way from its own fields, and must come out identical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "../../ca-signer/lint.h"
#include "../../ca-signer/profile.h"
#include "../../ca-signer/signer.h"
#include "test_signer_fixture.h"
#include "util.h"

struct t {
	char *dir;
	config_t *cfg, *bare_cfg;
	profile_t *p, *bare;	/* bare: no CRL, Freshest CRL, AIA or CPS */
	X509 *ca;
	EVP_PKEY *cakey, *k;
	uint8_t *kder;		/* the subject key's RSAPublicKey */
	int klen;
};

static int setup(void **state)
{
	struct t *t = xcalloc(1, sizeof *t);
	char err[SIGNER_ERR_LEN] = "";
	char *path;
	FILE *f;

	*state = t;
	log_init("test_signer_template", LV_ERR);
	t->dir = fx_tmpdir();
	if (!t->dir || fx_make_ca(t->dir) < 0)
		return -1;
	path = xasprintf("%s/ca.pem", t->dir);
	t->ca = fx_load_cert(path);
	free(path);
	path = xasprintf("%s/ca.key", t->dir);
	f = fopen(path, "r");
	free(path);
	if (!f)
		return -1;
	t->cakey = PEM_read_PrivateKey(f, NULL, NULL, (void *)FX_PASSPHRASE);
	fclose(f);
	t->cfg = fx_config(t->dir, NULL);
	if (!t->ca || !t->cakey || !t->cfg || !(t->p = profile_new(t->cfg, t->ca, err)))
		return -1;
	t->bare_cfg = fx_config(t->dir, "  crl_url: \"\"\n  delta_crl_url: \"\"\n  ocsp_url: \"\"\n"
	    "  ca_issuers_url: \"\"\n  cps_url: \"\"\n");
	if (!t->bare_cfg || !(t->bare = profile_new(t->bare_cfg, t->ca, err)))
		return -1;
	t->k = fx_rsa(2048, 65537);
	t->klen = i2d_RSAPublicKey(EVP_PKEY_get0_RSA(t->k), &t->kder);
	return t->k && t->klen > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct t *t = *state;

	profile_destroy(&t->p);
	profile_destroy(&t->bare);
	config_destroy(&t->cfg);
	config_destroy(&t->bare_cfg);
	X509_free(t->ca);
	EVP_PKEY_free(t->cakey);
	EVP_PKEY_free(t->k);
	OPENSSL_free(t->kder);
	fx_rmdir(t->dir);
	free(t);
	return 0;
}

static ASN1_INTEGER *serial_of(const unsigned char *b, size_t n)
{
	BIGNUM *bn = BN_bin2bn(b, (int)n, NULL);
	ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);

	BN_free(bn);
	assert_non_null(ai);
	return ai;
}

/*
 * The certificate built both ways from the same fields: same TBSCertificate, and the same
 * signed certificate once the template's is signed with the same key.
 */
static void same_both_ways(struct t *t, const profile_t *p, enum profile_usage u,
    const uint8_t *key, size_t key_len, const char *cn, const char *sn, const char *email,
    const ASN1_INTEGER *serial, time_t now)
{
	char err[SIGNER_ERR_LEN] = "";
	X509 *x = profile_build(p, u, key, key_len, cn, sn, email, serial, now, err);
	unsigned char *old_tbs = NULL, *old_der = NULL, *alg = NULL, *sig = NULL;
	const ASN1_BIT_STRING *old_sig;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0, sig_len = 0;
	int old_tbs_len, old_der_len, alg_len;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_non_null(x);
	assert_true(X509_sign(x, t->cakey, EVP_sha256()) > 0);
	old_tbs_len = i2d_re_X509_tbs(x, &old_tbs);
	old_der_len = i2d_X509(x, &old_der);
	alg_len = i2d_X509_ALGOR((X509_ALGOR *)X509_get0_tbs_sigalg(x), &alg);
	assert_true(old_tbs_len > 0 && old_der_len > 0 && alg_len > 0);

	assert_int_equal(profile_tbs(p, u, alg, (size_t)alg_len, key, key_len, cn, sn, email,
	    serial, now, &tbs, &tbs_len, err), 0);
	assert_int_equal(tbs_len, (size_t)old_tbs_len);
	assert_memory_equal(tbs, old_tbs, tbs_len);

	/* Signed with the same key: the same signature, so the same certificate. */
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, t->cakey), 1);
	assert_int_equal(EVP_DigestSign(ctx, NULL, &sig_len, tbs, tbs_len), 1);
	sig = xmalloc(sig_len);
	assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, tbs, tbs_len), 1);
	X509_get0_signature(&old_sig, NULL, x);
	assert_int_equal(sig_len, (size_t)ASN1_STRING_length(old_sig));
	assert_memory_equal(sig, ASN1_STRING_get0_data(old_sig), sig_len);

	EVP_MD_CTX_free(ctx);
	free(sig);
	free(tbs);
	OPENSSL_free(alg);
	OPENSSL_free(old_tbs);
	OPENSSL_free(old_der);
	X509_free(x);
}

static void test_template_matches_builder(void **state)
{
	struct t *t = *state;
	static const unsigned char top_set[16] = { 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15 };
	static const unsigned char small[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0x12, 0x34 };
	static const unsigned char top_clear[16] = { 0x7f, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99,
	    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00 };
	const char *long_cn = "林林林林林林林林林林林林林林林林林林林林林林林林林林林林林林林林"
	    "林林林林林林林林林林林林林林林林林林林林林林林林林林林林林林林林";	/* 64 */
	const char *long_sn = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz-.";
	const char *long_mail = "a.very.long.local.part.for.a.test.address.of.sixty-four.chars@"
	    "sub1.sub2.sub3.sub4.sub5.sub6.sub7.sub8.example.gov.tw";
	ASN1_INTEGER *sns[3] = { serial_of(top_set, 16), serial_of(small, 16),
	    serial_of(top_clear, 16) };
	/* 2 December 2026; 4 July 2049, whose end of validity falls in 2050 (GeneralizedTime). */
	time_t nows[2] = { 1796170000, 2508998400 };

	for (int u = 0; u < 2; u++)
		for (int i = 0; i < 3; i++)
			for (int n = 0; n < 2; n++) {
				same_both_ways(t, t->p, (enum profile_usage)u, t->kder, (size_t)t->klen,
				    "王小明 Wang Hsiao-ming", "A123456789", "wang@example.gov.tw",
				    sns[i], nows[n]);
				same_both_ways(t, t->p, (enum profile_usage)u, t->kder, (size_t)t->klen,
				    "Lin", "B9", NULL, sns[i], nows[n]);
				same_both_ways(t, t->bare, (enum profile_usage)u, t->kder,
				    (size_t)t->klen, "Chen Mei-ling", "C1", "", sns[i], nows[n]);
			}
	same_both_ways(t, t->p, PROFILE_SIGNATURE, t->kder, (size_t)t->klen, long_cn, long_sn,
	    long_mail, sns[0], nows[0]);
	same_both_ways(t, t->bare, PROFILE_ENCRYPTION, t->kder, (size_t)t->klen, long_cn, long_sn,
	    long_mail, sns[2], nows[1]);
	for (int i = 0; i < 3; i++)
		ASN1_INTEGER_free(sns[i]);
}

/* Other key sizes: the SubjectPublicKeyInfo's lengths change with them. */
static void test_template_key_sizes(void **state)
{
	struct t *t = *state;
	static const unsigned char b[16] = { 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
	    14, 15 };
	ASN1_INTEGER *sn = serial_of(b, 16);
	int bits[] = { 1024, 3072, 4096 };

	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		EVP_PKEY *k = fx_rsa(bits[i], 65537);
		unsigned char *der = NULL;
		int len = i2d_RSAPublicKey(EVP_PKEY_get0_RSA(k), &der);

		assert_true(len > 0);
		same_both_ways(t, t->p, PROFILE_ENCRYPTION, der, (size_t)len, "Wu", "D4",
		    "wu@example.tw", sn, 1796170000);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
	ASN1_INTEGER_free(sn);
}

/*
 * A certificate the signer issued, rebuilt the long way from its own serial, time, subject
 * and key, then signed with X509_sign: the very same bytes. And an outside verifier
 * accepts it.
 */
static void test_issued_is_builder_certificate(void **state)
{
	struct t *t = *state;
	signer_t *s = signer_new(t->cfg);
	EVP_PKEY *k = fx_rsa(2048, 65537);
	size_t csr_len = 0;
	uint8_t *csr = fx_csr(k, NULL, &csr_len);
	const char *usages[2] = { "signature", "encryption" };

	assert_non_null(s);
	for (int u = 0; u < 2; u++) {
		EVP_PKEY *uk = u ? fx_rsa(2048, 65537) : NULL;
		size_t ucsr_len = 0;
		uint8_t *ucsr = u ? fx_csr(uk, NULL, &ucsr_len) : NULL;
		char id[16], err[SIGNER_ERR_LEN] = "", cn[256], sn[256];
		struct sign_request r = {
			.request_id = id, .usage = usages[u], .csr_der = u ? ucsr : csr,
			.csr_len = u ? ucsr_len : csr_len, .subject_name = "王小明 Wang Hsiao-ming",
			.subject_serial = "A123456789", .email = u ? NULL : "wang@example.gov.tw",
		};
		struct sign_result res;
		X509 *x, *y;
		struct tm tm;
		const unsigned char *key;
		int key_len;
		unsigned char *der = NULL;
		int der_len;

		snprintf(id, sizeof id, "tpl-%d", u);
		assert_int_equal(signer_issue(s, &r, &res), 0);
		x = fx_x509(res.der, res.der_len);
		assert_non_null(x);
		assert_int_equal(X509_verify(x, X509_get0_pubkey(t->ca)), 1);
		assert_int_equal(ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm), 1);
		assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
		    sizeof cn) > 0);
		assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_serialNumber,
		    sn, sizeof sn) > 0);
		assert_int_equal(X509_PUBKEY_get0_param(NULL, &key, &key_len, NULL,
		    X509_get_X509_PUBKEY(x)), 1);
		y = profile_build(t->p, (enum profile_usage)u, key, (size_t)key_len, cn, sn,
		    r.email, X509_get0_serialNumber(x), timegm(&tm), err);
		assert_non_null(y);
		assert_true(X509_sign(y, t->cakey, EVP_sha256()) > 0);
		der_len = i2d_X509(y, &der);
		assert_int_equal((size_t)der_len, res.der_len);
		assert_memory_equal(der, res.der, res.der_len);

		char *pem = xasprintf("%s/tpl-%d.pem", t->dir, u);
		assert_int_equal(fx_write_pem(pem, res.der, res.der_len), 0);
		assert_int_equal(fx_run("openssl verify -CAfile '%s/ca.pem' -purpose %s '%s' "
		    ">/dev/null 2>&1", t->dir, u ? "smimeencrypt" : "smimesign", pem), 0);
		assert_int_equal(fx_run("openssl x509 -in '%s' -noout -text >/dev/null 2>&1", pem), 0);
		free(pem);
		OPENSSL_free(der);
		X509_free(x);
		X509_free(y);
		signer_result_clear(&res);
		free(ucsr);
		EVP_PKEY_free(uk);
	}
	free(csr);
	EVP_PKEY_free(k);
	signer_destroy(&s);
}

/*
 * lint_der, which issuance runs on the bytes it signs, passes a template's TBSCertificate
 * and refuses it altered: another usage or key than asked, another signature algorithm,
 * an issuer that is not the CA's subject byte for byte, a trailing byte, a truncation.
 */
static void test_lint_der(void **state)
{
	struct t *t = *state;
	static const unsigned char b[16] = { 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
	    14, 15 };
	static const uint8_t sha384_rsa[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
	    0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00 };
	static const uint8_t sha256_rsa[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
	    0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 };
	ASN1_INTEGER *sn = serial_of(b, 16);
	EVP_PKEY *other = fx_rsa(2048, 65537);
	unsigned char *oder = NULL;
	int olen = i2d_RSAPublicKey(EVP_PKEY_get0_RSA(other), &oder);
	char err[SIGNER_ERR_LEN] = "", text[256];
	uint8_t *tbs = NULL, *bad;
	size_t len = 0;
	X509_NAME *subject = NULL;
	unsigned char *issuer = NULL;
	int ilen = i2d_X509_NAME(X509_get_subject_name(t->ca), &issuer);

	assert_int_equal(profile_tbs(t->p, PROFILE_SIGNATURE, sha256_rsa, sizeof sha256_rsa,
	    t->kder, (size_t)t->klen, "王小明", "A1", "wang@example.gov.tw", sn, 1796170000, &tbs,
	    &len, err), 0);
	assert_int_equal(lint_der(t->p, tbs, len, sha256_rsa, sizeof sha256_rsa,
	    PROFILE_SIGNATURE, t->kder, (size_t)t->klen, &subject, err), 0);
	assert_non_null(subject);
	assert_true(X509_NAME_get_text_by_NID(subject, NID_serialNumber, text, sizeof text) > 0);
	assert_string_equal(text, "A1");
	X509_NAME_free(subject);

	assert_int_equal(lint_der(t->p, tbs, len, sha256_rsa, sizeof sha256_rsa,
	    PROFILE_ENCRYPTION, t->kder, (size_t)t->klen, NULL, err), -1);
	assert_non_null(strstr(err, "keyUsage"));
	assert_int_equal(lint_der(t->p, tbs, len, sha256_rsa, sizeof sha256_rsa,
	    PROFILE_SIGNATURE, oder, (size_t)olen, NULL, err), -1);
	assert_non_null(strstr(err, "CSR's key"));
	assert_int_equal(lint_der(t->p, tbs, len, sha384_rsa, sizeof sha384_rsa,
	    PROFILE_SIGNATURE, t->kder, (size_t)t->klen, NULL, err), -1);
	assert_non_null(strstr(err, "signature algorithm"));

	bad = xmalloc(len + 1);
	memcpy(bad, tbs, len);
	bad[len] = 0;
	assert_int_equal(lint_der(t->p, bad, len + 1, sha256_rsa, sizeof sha256_rsa,
	    PROFILE_SIGNATURE, t->kder, (size_t)t->klen, NULL, err), -1);
	assert_int_equal(lint_der(t->p, bad, len - 1, sha256_rsa, sizeof sha256_rsa,
	    PROFILE_SIGNATURE, t->kder, (size_t)t->klen, NULL, err), -1);
	/* the issuer's last byte changed (its place found by its bytes) */
	assert_true(ilen > 0);
	for (size_t i = 0; i + (size_t)ilen <= len; i++)
		if (memcmp(bad + i, issuer, (size_t)ilen) == 0) {
			bad[i + (size_t)ilen - 1] ^= 0x01;
			break;
		}
	assert_int_equal(lint_der(t->p, bad, len, sha256_rsa, sizeof sha256_rsa,
	    PROFILE_SIGNATURE, t->kder, (size_t)t->klen, NULL, err), -1);
	assert_non_null(strstr(err, "issuer"));

	free(bad);
	free(tbs);
	OPENSSL_free(issuer);
	OPENSSL_free(oder);
	EVP_PKEY_free(other);
	ASN1_INTEGER_free(sn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_matches_builder),
		cmocka_unit_test(test_template_key_sizes),
		cmocka_unit_test(test_lint_der),
		cmocka_unit_test(test_issued_is_builder_certificate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
