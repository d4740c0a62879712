/*
 * test_signer_issue.c: issuance by the CA signer, end to end against a throw-away CA:
 * a good CSR gives a certificate that verifies (with OpenSSL's API and `openssl verify`)
 * and follows the profile whatever the CSR asks; every bad request is refused with a
 * reason; request ids are idempotent; a public key is certified once (never for a second
 * subscriber, the other usage or a renewal); serials are unique and random; group commit;
 * key loading refusals. Every certificate needs its own key, so most tests make fresh ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "../../ca-signer/signer.h"
#include "test_signer_fixture.h"
#include "util.h"

struct t {
	char *dir;
	config_t *cfg;
	signer_t *s;
	X509 *ca;
	EVP_PKEY *k1, *k2;
	uint8_t *csr1, *csr2;
	size_t csr1_len, csr2_len;
	int seq;
};

static int setup(void **state)
{
	struct t *t = xcalloc(1, sizeof *t);

	*state = t;

	log_init("test_signer_issue", LV_ERR);
	t->dir = fx_tmpdir();
	if (!t->dir || fx_make_ca(t->dir) < 0)
		return -1;
	t->cfg = fx_config(t->dir, NULL);
	if (!t->cfg || !(t->s = signer_new(t->cfg)))
		return -1;
	char *p = xasprintf("%s/ca.pem", t->dir);
	t->ca = fx_load_cert(p);
	free(p);
	t->k1 = fx_rsa(2048, 65537);
	t->k2 = fx_rsa(2048, 65537);
	t->csr1 = fx_csr(t->k1, NULL, &t->csr1_len);
	t->csr2 = fx_csr(t->k2, NULL, &t->csr2_len);
	*state = t;
	return t->ca && t->csr1 && t->csr2 ? 0 : -1;
}

static int teardown(void **state)
{
	struct t *t = *state;

	signer_destroy(&t->s);
	config_destroy(&t->cfg);
	X509_free(t->ca);
	EVP_PKEY_free(t->k1);
	EVP_PKEY_free(t->k2);
	free(t->csr1);
	free(t->csr2);
	fx_rmdir(t->dir);
	free(t);
	return 0;
}

static struct sign_request req_for(struct t *t, char *idbuf, const uint8_t *csr, size_t len,
    const char *usage)
{
	struct sign_request r = {
		.request_id = idbuf, .usage = usage, .csr_der = csr, .csr_len = len,
		.subject_name = "王小明 Wang Hsiao-ming", .subject_serial = "A123456789",
		.email = "wang@example.gov.tw",
	};
	sprintf(idbuf, "job-%d", ++t->seq);
	return r;
}

/* A CSR for a new RSA-2048 key (caller frees). */
static uint8_t *fresh_csr(size_t *len)
{
	EVP_PKEY *k = fx_rsa(2048, 65537);
	uint8_t *csr = fx_csr(k, NULL, len);

	EVP_PKEY_free(k);
	assert_non_null(csr);
	return csr;
}

static int has_ext_bit(ASN1_BIT_STRING *ku, int bit) { return ASN1_BIT_STRING_get_bit(ku, bit); }

static void test_issue_good(void **state)
{
	struct t *t = *state;
	struct sign_result res;
	char id[32];
	struct sign_request r = req_for(t, id, t->csr1, t->csr1_len, "signature");
	time_t now = ra_now();

	assert_int_equal(signer_issue(t->s, &r, &res), 0);
	assert_int_equal(res.repeated, 0);
	assert_true(strlen(res.serial) >= 16);
	X509 *x = fx_x509(res.der, res.der_len);
	assert_non_null(x);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(t->ca)), 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), t->k1), 1);
	assert_int_equal(X509_check_issued(t->ca, x), X509_V_OK);

	/* Validity: 365 days from now. */
	int days, secs;
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
	assert_int_equal(days, 365);
	assert_int_equal(secs, 0);
	assert_true(llabs((long long)(res.not_after - (now + 365 * 86400))) <= 5);

	/* Subject from the profile and the request. */
	char buf[256];
	X509_NAME *subj = X509_get_subject_name(x);
	assert_true(X509_NAME_get_text_by_NID(subj, NID_countryName, buf, sizeof buf) > 0);
	assert_string_equal(buf, "TW");
	assert_true(X509_NAME_get_text_by_NID(subj, NID_serialNumber, buf, sizeof buf) > 0);
	assert_string_equal(buf, "A123456789");
	X509_NAME_ENTRY *cn = X509_NAME_get_entry(subj, X509_NAME_get_index_by_NID(subj, NID_commonName, -1));
	ASN1_STRING *cnv = X509_NAME_ENTRY_get_data(cn);
	assert_int_equal(ASN1_STRING_type(cnv), V_ASN1_UTF8STRING);
	assert_memory_equal(ASN1_STRING_get0_data(cnv), "王小明 Wang Hsiao-ming", ASN1_STRING_length(cnv));

	/* Extensions for the signature usage. */
	int crit;
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	assert_non_null(ku);
	assert_int_equal(crit, 1);
	assert_true(has_ext_bit(ku, 0) && has_ext_bit(ku, 1) && !has_ext_bit(ku, 2));
	ASN1_BIT_STRING_free(ku);
	assert_true(X509_get_extended_key_usage(x) == (XKU_SMIME | XKU_SSL_CLIENT));
	GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(san);
	assert_int_equal(sk_GENERAL_NAME_num(san), 1);
	assert_int_equal(sk_GENERAL_NAME_value(san, 0)->type, GEN_EMAIL);
	GENERAL_NAMES_free(san);
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(t->ca)), 0);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_true(X509_get_ext_by_NID(x, NID_certificate_policies, -1) >= 0);
	assert_true(X509_get_ext_by_NID(x, NID_crl_distribution_points, -1) >= 0);
	assert_true(X509_get_ext_by_NID(x, NID_info_access, -1) >= 0);
	assert_int_equal(X509_check_ca(x), 0);

	/* An outside verifier agrees. */
	char *pem = xasprintf("%s/good.pem", t->dir);
	assert_int_equal(fx_write_pem(pem, res.der, res.der_len), 0);
	assert_int_equal(fx_run("openssl verify -CAfile '%s/ca.pem' -purpose smimesign '%s' "
	    ">/dev/null 2>&1", t->dir, pem), 0);
	/* The policy carries the CPS address as a qualifier, as openssl prints it. */
	assert_int_equal(fx_run("openssl x509 -in '%s' -noout -text | grep -A3 "
	    "'Certificate Policies' | grep -q 'CPS: http://ra.example.gov.tw/cps'", pem), 0);
	free(pem);
	X509_free(x);
	signer_result_clear(&res);
}

static void test_issue_encryption(void **state)
{
	struct t *t = *state;
	struct sign_result res;
	char id[32];
	struct sign_request r = req_for(t, id, t->csr2, t->csr2_len, "encryption");

	r.email = NULL;
	assert_int_equal(signer_issue(t->s, &r, &res), 0);
	X509 *x = fx_x509(res.der, res.der_len);
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	assert_true(!has_ext_bit(ku, 0) && !has_ext_bit(ku, 1) && has_ext_bit(ku, 2) &&
	    has_ext_bit(ku, 3));
	ASN1_BIT_STRING_free(ku);
	assert_true(X509_get_extended_key_usage(x) == XKU_SMIME);
	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	X509_free(x);
	signer_result_clear(&res);
}

/* A CSR asking to be a CA (CA:TRUE, keyCertSign) is refused with a reason, nothing stored. */
static void test_csr_asking_ca_refused(void **state)
{
	struct t *t = *state;
	struct fx_csr_opts o = { .cn = "Evil CA", .ask_ca = 1 };
	size_t len;
	EVP_PKEY *k = fx_rsa(2048, 65537);
	uint8_t *csr = fx_csr(k, &o, &len);
	struct sign_result res;
	char id[32];
	struct sign_request r = req_for(t, id, csr, len, "signature");

	assert_int_equal(signer_issue(t->s, &r, &res), -1);
	assert_non_null(strstr(res.error, "CA:TRUE"));
	assert_non_null(strstr(res.error, "out of profile"));
	assert_null(res.der);
	EVP_PKEY_free(k);
	free(csr);
	signer_result_clear(&res);
}

/* A CSR asking for a DNS name, ten years (privateKeyUsagePeriod), another CN and SHA-384:
 * none of it is copied. */
static void test_csr_requests_ignored(void **state)
{
	struct t *t = *state;
	struct fx_csr_opts o = { .cn = "Evil CA", .ask_ca = 2, .md = EVP_sha384() };
	size_t len;
	EVP_PKEY *k = fx_rsa(2048, 65537);
	uint8_t *csr = fx_csr(k, &o, &len);
	struct sign_result res;
	char id[32];
	struct sign_request r = req_for(t, id, csr, len, "signature");
	const unsigned char *p = csr;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
	STACK_OF(X509_EXTENSION) *asked = X509_REQ_get_extensions(req);
	assert_int_equal(sk_X509_EXTENSION_num(asked), 2);	/* the CSR does ask */
	sk_X509_EXTENSION_pop_free(asked, X509_EXTENSION_free);
	X509_REQ_free(req);

	assert_int_equal(signer_issue(t->s, &r, &res), 0);
	X509 *x = fx_x509(res.der, res.der_len);
	int crit = 0;
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(bc->ca, 0);
	assert_int_equal(crit, 1);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_check_ca(x), 0);
	assert_false(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
	int days, secs;
	ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x));
	assert_int_equal(days, 365);
	GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_int_equal(sk_GENERAL_NAME_value(san, 0)->type, GEN_EMAIL);
	assert_int_equal(sk_GENERAL_NAME_num(san), 1);
	GENERAL_NAMES_free(san);
	char buf[128];
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf);
	assert_string_not_equal(buf, "Evil CA");
	assert_int_equal(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
	assert_int_equal(X509_get_ext_by_NID(x, NID_private_key_usage_period, -1), -1);
	X509_free(x);
	EVP_PKEY_free(k);
	free(csr);
	signer_result_clear(&res);
}

/* Every truncation and every single-bit change of a good CSR is refused, none crashes. */
static void test_csr_mutations(void **state)
{
	struct t *t = *state;
	uint8_t *m = xmalloc(t->csr1_len);
	struct sign_result res;
	char id[32];
	struct sign_request r = req_for(t, id, m, t->csr1_len, "signature");

	for (size_t len = 0; len < t->csr1_len; len++) {
		memcpy(m, t->csr1, t->csr1_len);
		r.csr_len = len;
		if (signer_issue(t->s, &r, &res) != -1)
			fail_msg("CSR truncated to %zu bytes was accepted", len);
	}
	r.csr_len = t->csr1_len;
	for (size_t bit = 0; bit < t->csr1_len * 8; bit++) {
		memcpy(m, t->csr1, t->csr1_len);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (signer_issue(t->s, &r, &res) != -1)
			fail_msg("CSR with bit %zu flipped was accepted", bit);
	}
	free(m);
}

struct refusal {
	const char *name;
	const char *expect;	/* substring of the error */
};

/* One request changed in one way; each must be refused with the expected reason. */
static void test_refusals(void **state)
{
	struct t *t = *state;
	EVP_PKEY *small = fx_rsa(1024, 65537), *e3 = fx_rsa(2048, 3), *ec = fx_ec();
	EVP_PKEY *kr = fx_rsa(2048, 65537);	/* never certified: each refusal is its own */
	size_t n_small, n_e3, n_ec, n_sha1, n_good;
	uint8_t *good = fx_csr(kr, NULL, &n_good);
	uint8_t *c_small = fx_csr(small, NULL, &n_small), *c_e3 = fx_csr(e3, NULL, &n_e3);
	uint8_t *c_ec = fx_csr(ec, NULL, &n_ec);
	struct fx_csr_opts sha1 = { .md = EVP_sha1() };
	uint8_t *c_sha1 = fx_csr(kr, &sha1, &n_sha1);
	uint8_t *bad_sig = xmalloc(n_good), *trailing = xmalloc(n_good + 3);
	char longname[80];

	memcpy(bad_sig, good, n_good);
	bad_sig[n_good - 5] ^= 0x40;	/* inside the signature bits */
	memcpy(trailing, good, n_good);
	memcpy(trailing + n_good, "\0\0\0", 3);
	memset(longname, 'x', 65);
	longname[65] = '\0';

	struct {
		struct refusal r;
		const uint8_t *csr;
		size_t len;
		const char *usage, *cn, *sn, *email, *id;
	} cases[] = {
		{ { "wrong CSR signature", "proof of possession" }, .csr = bad_sig, .len = n_good },
		{ { "1024-bit key", "at least 2048" }, .csr = c_small, .len = n_small },
		{ { "exponent 3", "exponent" }, .csr = c_e3, .len = n_e3 },
		{ { "EC key", "not RSA" }, .csr = c_ec, .len = n_ec },
		{ { "SHA-1 CSR", "SHA-256 or stronger" }, .csr = c_sha1, .len = n_sha1 },
		{ { "truncated DER", "not a valid DER" }, .csr = good, .len = n_good - 10 },
		{ { "trailing bytes", "trailing bytes" }, .csr = trailing, .len = n_good + 3 },
		{ { "garbage", "not a valid DER" }, .csr = (const uint8_t *)"hello world", .len = 11 },
		{ { "empty CSR", "no CSR" }, .csr = good, .len = 0 },
		{ { "control char in CN", "control character" }, .cn = "Wang\nHsiao" },
		{ { "C1 control in CN", "control character" }, .cn = "Wang\xc2\x85" },
		{ { "DEL in CN", "control character" }, .cn = "Wang\x7f" },
		{ { "CN too long", "at most 64" }, .cn = longname },
		{ { "empty CN", "empty" }, .cn = "" },
		{ { "invalid UTF-8", "not valid UTF-8" }, .cn = "Wang \xe7\x8e" },
		{ { "overlong UTF-8", "not valid UTF-8" }, .cn = "\xc0\xaf" },
		{ { "surrogate UTF-8", "not valid UTF-8" }, .cn = "\xed\xa0\x80" },
		{ { "bad serialNumber", "may hold only" }, .sn = "A12345678*" },
		{ { "unknown usage", "unknown usage" }, .usage = "authentication" },
		{ { "no usage", "unknown usage" }, .usage = "" },
		{ { "bad email", "e-mail" }, .email = "wang@@example" },
		{ { "email with space", "e-mail" }, .email = "wang x@example.tw" },
		{ { "request id with space", "request id" }, .id = "job 1" },
		{ { "empty request id", "request id" }, .id = "" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char id[32];
		struct sign_result res;
		struct sign_request r = req_for(t, id, cases[i].csr ? cases[i].csr : good,
		    cases[i].csr ? cases[i].len : n_good, cases[i].usage ? cases[i].usage : "signature");
		if (cases[i].cn) r.subject_name = cases[i].cn;
		if (cases[i].sn) r.subject_serial = cases[i].sn;
		if (cases[i].email) r.email = cases[i].email;
		if (cases[i].id) r.request_id = cases[i].id;
		int rc = signer_issue(t->s, &r, &res);
		if (rc != -1 || !strstr(res.error, cases[i].r.expect))
			fail_msg("%s: rc %d, error \"%s\", expected \"%s\"", cases[i].r.name, rc,
			    res.error, cases[i].r.expect);
		assert_null(res.der);
		/* A refused request leaves nothing: the same id then works. */
		if (cases[i].id == NULL) {
			size_t n;
			uint8_t *fresh = fresh_csr(&n);
			struct sign_request ok = req_for(t, id, fresh, n, "signature");
			ok.request_id = r.request_id;
			assert_int_equal(signer_issue(t->s, &ok, &res), 0);
			assert_int_equal(res.repeated, 0);
			signer_result_clear(&res);
			free(fresh);
		}
	}
	EVP_PKEY_free(small);
	EVP_PKEY_free(e3);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(kr);
	free(good);
	free(c_small);
	free(c_e3);
	free(c_ec);
	free(c_sha1);
	free(bad_sig);
	free(trailing);
}

static void test_idempotent(void **state)
{
	struct t *t = *state;
	struct sign_result a, b, c;
	char id[32];
	size_t n;
	uint8_t *csr = fresh_csr(&n);
	struct sign_request r = req_for(t, id, csr, n, "signature");

	assert_int_equal(signer_issue(t->s, &r, &a), 0);
	assert_int_equal(signer_issue(t->s, &r, &b), 0);
	assert_int_equal(a.repeated, 0);
	assert_int_equal(b.repeated, 1);
	assert_string_equal(a.serial, b.serial);
	assert_int_equal(a.der_len, b.der_len);
	assert_memory_equal(a.der, b.der, a.der_len);
	assert_int_equal(a.not_after, b.not_after);

	struct sign_request other = r;
	other.csr_der = t->csr2;
	other.csr_len = t->csr2_len;
	assert_int_equal(signer_issue(t->s, &other, &c), -1);
	assert_non_null(strstr(c.error, "different CSR"));
	other = r;
	other.usage = "encryption";
	assert_int_equal(signer_issue(t->s, &other, &c), -1);
	assert_non_null(strstr(c.error, "signature certificate"));
	other = r;
	other.subject_name = "Someone Else";
	assert_int_equal(signer_issue(t->s, &other, &c), -1);
	assert_non_null(strstr(c.error, "different subject"));
	signer_result_clear(&a);
	signer_result_clear(&b);
	free(csr);
}

/* A batch signed on every core: fresh, refused, repeated in the call and from signer.db. */
static void test_issue_many(void **state)
{
	struct t *t = *state;
	enum { N = 24 };
	struct sign_request r[N];
	struct sign_result res[N];
	char ids[N][32], old_id[32];
	uint8_t *csr[N + 1];
	size_t len[N + 1];
	struct sign_result old;

	for (int i = 0; i <= N; i++)
		csr[i] = fresh_csr(&len[i]);
	struct sign_request o = req_for(t, old_id, csr[N], len[N], "encryption");
	assert_int_equal(signer_issue(t->s, &o, &old), 0);
	for (int i = 0; i < N; i++)
		r[i] = req_for(t, ids[i], csr[i], len[i], "signature");
	r[3].subject_name = "bad\x01name";		/* refused */
	r[5] = r[4];					/* same request again in the call */
	r[7] = r[6];
	r[7].csr_der = csr[8];				/* same id, different CSR */
	r[7].csr_len = len[8];
	r[9] = o;					/* issued before this call */

	assert_int_equal(signer_batch_begin(t->s), 0);
	assert_int_equal(signer_issue_many(t->s, r, res, N), 0);
	assert_int_equal(signer_batch_commit(t->s), 0);

	for (int i = 0; i < N; i++) {
		if (i == 3 || i == 7) {
			assert_null(res[i].der);
			assert_true(res[i].error[0] != '\0');
			continue;
		}
		if (!res[i].der)
			fail_msg("item %d refused: %s", i, res[i].error);
		X509 *x = fx_x509(res[i].der, res[i].der_len);
		assert_non_null(x);
		assert_int_equal(X509_verify(x, X509_get0_pubkey(t->ca)), 1);
		X509_free(x);
	}
	assert_non_null(strstr(res[3].error, "control character"));
	assert_non_null(strstr(res[7].error, "different CSR"));
	assert_int_equal(res[4].repeated, 0);
	assert_int_equal(res[5].repeated, 1);
	assert_string_equal(res[4].serial, res[5].serial);
	assert_memory_equal(res[4].der, res[5].der, res[4].der_len);
	assert_int_equal(res[9].repeated, 1);
	assert_string_equal(res[9].serial, old.serial);
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			if (res[i].der && res[j].der && j != 5 && j != 9)
				assert_string_not_equal(res[i].serial, res[j].serial);
	/* Every certificate of the batch is stored. */
	struct signer_cert_status st;
	char err[SIGNER_ERR_LEN];
	for (int i = 0; i < N; i++) {
		if (!res[i].der)
			continue;
		assert_int_equal(signer_status(t->s, res[i].serial, &st, err), 0);
		assert_int_not_equal(st.state, SIGNER_CERT_UNKNOWN);
		signer_result_clear(&res[i]);
	}
	signer_result_clear(&old);
	for (int i = 0; i <= N; i++)
		free(csr[i]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Many certificates in one group commit: distinct serials of >= 64 random bits. (Each
 * needs its own key; key generation bounds N.) */
static void test_serials_batch(void **state)
{
	struct t *t = *state;
	enum { N = 64 };
	char *serials[N];
	char id[32];

	assert_int_equal(signer_batch_begin(t->s), 0);
	assert_int_equal(signer_batch_begin(t->s), -1);	/* no nesting */
	for (int i = 0; i < N; i++) {
		struct sign_result res;
		size_t n;
		uint8_t *csr = fresh_csr(&n);
		struct sign_request r = req_for(t, id, csr, n, "signature");
		assert_int_equal(signer_issue(t->s, &r, &res), 0);
		free(csr);
		X509 *x = fx_x509(res.der, res.der_len);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
		assert_false(BN_is_negative(bn));
		assert_true(BN_num_bits(bn) >= 64);
		assert_true(BN_num_bits(bn) <= 127);
		BN_free(bn);
		X509_free(x);
		serials[i] = xstrdup(res.serial);
		signer_result_clear(&res);
	}
	assert_int_equal(signer_batch_commit(t->s), 0);
	qsort(serials, N, sizeof serials[0], cmp_str);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(serials[i - 1], serials[i]);
	struct signer_cert_status st;
	char err[SIGNER_ERR_LEN];
	assert_int_equal(signer_status(t->s, serials[7], &st, err), 0);
	assert_int_equal(st.state, SIGNER_CERT_VALID);
	for (int i = 0; i < N; i++)
		free(serials[i]);
}

/* A rolled-back batch stores nothing; a repeat inside a batch sees the batch's own work. */
static void test_batch_rollback(void **state)
{
	struct t *t = *state;
	struct sign_result a, b;
	char id[32], err[SIGNER_ERR_LEN];
	size_t n;
	uint8_t *csr = fresh_csr(&n);
	struct sign_request r = req_for(t, id, csr, n, "encryption");
	struct signer_cert_status st;

	assert_int_equal(signer_batch_begin(t->s), 0);
	assert_int_equal(signer_issue(t->s, &r, &a), 0);
	assert_int_equal(signer_issue(t->s, &r, &b), 0);
	assert_int_equal(b.repeated, 1);
	assert_string_equal(a.serial, b.serial);
	assert_int_equal(signer_crl_publish(t->s, SIGNER_CRL_COMPLETE, err), -1);	/* not inside a batch */
	assert_int_equal(signer_batch_rollback(t->s), 0);
	assert_int_equal(signer_status(t->s, a.serial, &st, err), 0);
	assert_int_equal(st.state, SIGNER_CERT_UNKNOWN);
	signer_result_clear(&b);
	assert_int_equal(signer_issue(t->s, &r, &b), 0);
	assert_int_equal(b.repeated, 0);
	assert_string_not_equal(a.serial, b.serial);
	assert_int_equal(signer_status(t->s, b.serial, &st, err), 0);
	assert_int_equal(st.state, SIGNER_CERT_VALID);
	assert_string_equal(st.usage, "encryption");
	assert_string_equal(st.request_id, id);
	signer_result_clear(&a);
	signer_result_clear(&b);
	free(csr);
}

/*
 * A batch committed without waiting for the disk (the daemon's path): it has a sync
 * ticket, the ticket settles as durable, a second batch's ticket is later, and the
 * certificates are in signer.db and on the issued list.
 */
static void test_batch_async(void **state)
{
	struct t *t = *state;
	struct sign_result a, b;
	char id[32], id2[32], err[SIGNER_ERR_LEN];
	size_t n1, n2;
	uint8_t *c1 = fresh_csr(&n1), *c2 = fresh_csr(&n2);	/* keys of their own */
	struct sign_request r = req_for(t, id, c1, n1, "signature");
	struct sign_request r2 = req_for(t, id2, c2, n2, "encryption");
	struct signer_cert_status st;
	uint64_t t1, t2;

	assert_int_equal(signer_issued_publish(t->s, err), 0);
	assert_int_equal(signer_batch_begin(t->s), 0);
	assert_int_equal(signer_issue(t->s, &r, &a), 0);
	assert_int_equal(signer_batch_commit_async(t->s, &t1), 0);
	assert_true(t1 > 0);
	assert_int_equal(signer_batch_begin(t->s), 0);
	assert_int_equal(signer_issue(t->s, &r2, &b), 0);
	assert_int_equal(signer_batch_commit_async(t->s, &t2), 0);
	assert_true(t2 > t1);
	assert_int_equal(signer_batch_durable(t->s, t2, 1), 1);
	assert_int_equal(signer_batch_durable(t->s, t1, 0), 1);	/* the later sync covers it */
	assert_int_equal(signer_status(t->s, a.serial, &st, err), 0);
	assert_int_equal(st.state, SIGNER_CERT_VALID);
	assert_int_equal(signer_status(t->s, b.serial, &st, err), 0);
	assert_int_equal(st.state, SIGNER_CERT_VALID);
	char *issued = xasprintf("grep -qx %s '%s/crl/ra.issued' && grep -qx %s '%s/crl/ra.issued'",
	    a.serial, t->dir, b.serial, t->dir);
	assert_int_equal(system(issued), 0);
	free(issued);
	signer_result_clear(&a);
	signer_result_clear(&b);
	free(c1);
	free(c2);
}

/*
 * Two jobs on their way at once (the daemon signs one batch while it stores the one
 * before): the second job's repeat of a request of the first gets the first's
 * certificate once both are finished, not a second one; its reuse of the first's key, or
 * of its request id for another request, is refused; and jobs finish in order, each in
 * its own transaction.
 */
static void test_jobs_overlap(void **state)
{
	struct t *t = *state;
	size_t n1, n2, n3;
	uint8_t *c1 = fresh_csr(&n1), *c2 = fresh_csr(&n2), *c3 = fresh_csr(&n3);
	char id1[32], id2[32], id3[32], id4[32], err[SIGNER_ERR_LEN];
	struct sign_request a[2], b[4];
	struct sign_result ra[2], rb[4];
	struct signer_cert_status st;

	a[0] = req_for(t, id1, c1, n1, "signature");
	a[1] = req_for(t, id2, c2, n2, "encryption");
	b[0] = a[0];					/* the same request again */
	b[1] = req_for(t, id3, c1, n1, "encryption");	/* the first's key, another request */
	b[2] = a[1];
	b[2].csr_der = c3;				/* the second's id, another CSR */
	b[2].csr_len = n3;
	b[3] = req_for(t, id4, c3, n3, "encryption");	/* fresh: b[2]'s key, but b[2] is refused */

	signer_job_t *ja = signer_issue_start(t->s, a, ra, 2);
	signer_job_t *jb = signer_issue_start(t->s, b, rb, 4);
	assert_int_equal(signer_issue_finish(t->s, &ja), 0);
	assert_null(ja);
	assert_int_equal(signer_issue_finish(t->s, &jb), 0);

	assert_non_null(ra[0].der);
	assert_non_null(ra[1].der);
	if (!rb[0].der)
		fail_msg("the repeat was refused: %s", rb[0].error);
	assert_int_equal(rb[0].repeated, 1);
	assert_string_equal(rb[0].serial, ra[0].serial);
	assert_memory_equal(rb[0].der, ra[0].der, ra[0].der_len);
	assert_null(rb[1].der);
	assert_non_null(strstr(rb[1].error, "earlier batch"));
	assert_null(rb[2].der);
	assert_non_null(strstr(rb[2].error, "different CSR"));
	if (!rb[3].der)
		fail_msg("the fresh request was refused: %s", rb[3].error);
	assert_int_equal(signer_status(t->s, rb[3].serial, &st, err), 0);
	assert_int_equal(st.state, SIGNER_CERT_VALID);
	assert_int_equal(fx_run("test \"$(sqlite3 '%s/signer.db' \"SELECT count(*) FROM certs WHERE "
	    "request_id IN ('%s', '%s', '%s')\")\" = 3", t->dir, id1, id2, id4), 0);
	for (int i = 0; i < 2; i++)
		signer_result_clear(&ra[i]);
	for (int i = 0; i < 4; i++)
		signer_result_clear(&rb[i]);
	free(c1);
	free(c2);
	free(c3);
}

/*
 * A batch is stored in a few statements of many rows, all or none; when one row
 * conflicts, nothing of those statements stays and every certificate is stored on its
 * own: here a row for one request id appears in signer.db while the job is being signed,
 * and that request alone is refused; the others are stored with their key and journal
 * rows, once each.
 */
static void test_rows_fallback(void **state)
{
	struct t *t = *state;
	enum { N = 3 };
	struct sign_request r[N];
	struct sign_result res[N];
	char ids[N][32];
	uint8_t *csr[N];
	size_t len[N];

	for (int i = 0; i < N; i++) {
		csr[i] = fresh_csr(&len[i]);
		r[i] = req_for(t, ids[i], csr[i], len[i], i % 2 ? "encryption" : "signature");
	}
	signer_job_t *j = signer_issue_start(t->s, r, res, N);
	assert_int_equal(fx_run("sqlite3 '%s/signer.db' \"INSERT INTO certs (request_id, serial, "
	    "usage, subject, csr_sha256, req_sha256, not_before, not_after, der) VALUES ('%s', "
	    "'7e57', 'signature', 'CN=x', x'00', x'00', 0, 0, x'00')\"", t->dir, ids[1]), 0);
	assert_int_equal(signer_issue_finish(t->s, &j), 0);
	assert_non_null(res[0].der);
	assert_null(res[1].der);
	assert_non_null(res[2].der);
	for (int i = 0; i < N; i += 2)
		assert_int_equal(fx_run("test \"$(sqlite3 '%s/signer.db' \"SELECT (SELECT count(*) FROM "
		    "certs WHERE request_id = '%s') || (SELECT count(*) FROM cert_keys WHERE serial = "
		    "'%s') || (SELECT count(*) FROM journal WHERE request_id = '%s' AND action = "
		    "'issue')\")\" = 111", t->dir, ids[i], res[i].serial, ids[i]), 0);
	/* the row put in its way has no key and no journal row: it goes, for the tests after */
	assert_int_equal(fx_run("sqlite3 '%s/signer.db' \"DELETE FROM certs WHERE serial = '7e57'\"",
	    t->dir), 0);
	for (int i = 0; i < N; i++) {
		signer_result_clear(&res[i]);
		free(csr[i]);
	}
}

/* The signer survives a restart: the same request id still returns the same certificate. */
static void test_reopen(void **state)
{
	struct t *t = *state;
	struct sign_result a, b;
	char id[32];
	size_t n;
	uint8_t *csr = fresh_csr(&n);
	struct sign_request r = req_for(t, id, csr, n, "signature");

	assert_int_equal(signer_issue(t->s, &r, &a), 0);
	signer_destroy(&t->s);
	assert_null(t->s);
	t->s = signer_new(t->cfg);
	assert_non_null(t->s);
	assert_int_equal(signer_issue(t->s, &r, &b), 0);
	assert_int_equal(b.repeated, 1);
	assert_string_equal(a.serial, b.serial);
	signer_result_clear(&a);
	signer_result_clear(&b);
	free(csr);
}

/* Issue REQ expecting a refusal that says WANT. */
static void expect_refused(struct t *t, struct sign_request *req, const char *want)
{
	struct sign_result res;

	if (signer_issue(t->s, req, &res) != -1 || !strstr(res.error, want))
		fail_msg("request %s: expected a refusal saying \"%s\", got \"%s\"",
		    req->request_id, want, res.der ? "a certificate" : res.error);
	assert_null(res.der);
}

/*
 * One public key, one certificate: the key of a signature certificate is refused for the
 * encryption usage, for another subscriber (even in a CSR that differs), and for a
 * renewal; the first request id still gets its certificate back; two requests with one
 * key in one batch get one certificate; a signer.db of an earlier version learns the keys
 * of its certificates at start-up.
 */
static void test_key_certified_once(void **state)
{
	struct t *t = *state;
	EVP_PKEY *k = fx_rsa(2048, 65537);
	struct fx_csr_opts other_cn = { .cn = "Someone else", .md = EVP_sha384() };
	size_t n, n2;
	uint8_t *csr = fx_csr(k, NULL, &n), *csr2 = fx_csr(k, &other_cn, &n2);
	struct sign_result first, again;
	char id[32], id2[32];
	struct sign_request r = req_for(t, id, csr, n, "signature"), x;

	assert_memory_not_equal(csr, csr2, n < n2 ? n : n2);
	assert_int_equal(signer_issue(t->s, &r, &first), 0);

	x = req_for(t, id2, csr, n, "encryption");
	expect_refused(t, &x, "already certified for the signature usage");
	expect_refused(t, &x, first.serial);
	x = req_for(t, id2, csr2, n2, "signature");
	x.subject_serial = "B223456789";
	x.subject_name = "陳大文";
	expect_refused(t, &x, "already certified for another subscriber");
	x = req_for(t, id2, csr2, n2, "signature");
	expect_refused(t, &x, "renewal or a new card needs new keys");

	assert_int_equal(signer_issue(t->s, &r, &again), 0);	/* idempotency still holds */
	assert_int_equal(again.repeated, 1);
	assert_string_equal(again.serial, first.serial);
	signer_result_clear(&again);

	/* One batch, one fresh key, two request ids: the first is issued, the second refused. */
	size_t nb;
	uint8_t *fresh = fresh_csr(&nb);
	struct sign_request two[2];
	struct sign_result res[2];
	char ids[2][32];
	two[0] = req_for(t, ids[0], fresh, nb, "signature");
	two[1] = req_for(t, ids[1], fresh, nb, "encryption");
	assert_int_equal(signer_batch_begin(t->s), 0);
	assert_int_equal(signer_issue_many(t->s, two, res, 2), 0);
	assert_int_equal(signer_batch_commit(t->s), 0);
	assert_non_null(res[0].der);
	assert_null(res[1].der);
	assert_non_null(strstr(res[1].error, "same batch"));
	signer_result_clear(&res[0]);
	free(fresh);

	/* An older signer.db has no key rows: the signer records them when it starts. */
	signer_destroy(&t->s);
	assert_int_equal(fx_run("sqlite3 '%s/signer.db' 'DELETE FROM cert_keys' && "
	    "test \"$(sqlite3 '%s/signer.db' 'SELECT count(*) FROM cert_keys')\" = 0", t->dir, t->dir), 0);
	assert_non_null(t->s = signer_new(t->cfg));
	assert_int_equal(fx_run("test \"$(sqlite3 '%s/signer.db' 'SELECT count(*) FROM cert_keys')\" = "
	    "\"$(sqlite3 '%s/signer.db' 'SELECT count(*) FROM certs')\"", t->dir, t->dir), 0);
	x = req_for(t, id2, csr, n, "encryption");
	expect_refused(t, &x, "already certified for the signature usage");
	x = req_for(t, id2, t->csr1, t->csr1_len, "encryption");	/* test_issue_good's key */
	expect_refused(t, &x, "already certified");

	signer_result_clear(&first);
	EVP_PKEY_free(k);
	free(csr);
	free(csr2);
}

/* Start-up refusals: wrong passphrase, a key in clear, a key of another CA, bad profile. */
static void test_key_refusals(void **state)
{
	struct t *t = *state;
	config_t *cfg;

	fx_run("cd '%s' && printf 'wrong\\n' > wrong.pass && "
	    "openssl pkey -in ca.key -passin file:ca.pass -out clear.key && "
	    "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem "
	    "-subj '/CN=Other CA' -addext basicConstraints=critical,CA:TRUE 2>/dev/null", t->dir);
	const char *bad[] = {
		"  key_passphrase_file: wrong.pass\n",
		"  key: clear.key\n",
		"  cert: other.pem\n",
		"  cert: missing.pem\n",
		"  policy_oid: not-an-oid\n",
		"  crl_url: http://a,b/\n",
		"  cps_url: ftp://ra.example.gov.tw/cps\n",
		"  subject_c: Taiwan\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char *dir = fx_tmpdir();
		fx_run("cp '%s'/ca.* '%s'/other.pem '%s'/clear.key '%s'/wrong.pass '%s'/", t->dir,
		    t->dir, t->dir, t->dir, dir);
		cfg = fx_config(dir, bad[i]);
		if (!cfg) {
			/* duplicate key in YAML: the loader refuses, which is a refusal too */
			fx_rmdir(dir);
			continue;
		}
		signer_t *s = signer_new(cfg);
		if (s)
			fail_msg("signer started with: %s", bad[i]);
		config_destroy(&cfg);
		fx_rmdir(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_good),
		cmocka_unit_test(test_issue_encryption),
		cmocka_unit_test(test_csr_asking_ca_refused),
		cmocka_unit_test(test_csr_requests_ignored),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_csr_mutations),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_serials_batch),
		cmocka_unit_test(test_issue_many),
		cmocka_unit_test(test_batch_rollback),
		cmocka_unit_test(test_batch_async),
		cmocka_unit_test(test_jobs_overlap),
		cmocka_unit_test(test_rows_fallback),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_key_certified_once),
		cmocka_unit_test(test_key_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
