/*
 * test_signer_crl.c: certificate status changes and CRLs against a throw-away CA:
 * revoke / hold / release rules and their idempotency by request id, the CRL's contents
 * (reasons, invalidity dates, CRL number, AKI) checked with OpenSSL's API and with
 * `openssl crl -verify` and `openssl verify -crl_check`, delta CRLs with
 * `openssl verify -crl_check -use_deltas`, a CRL of 100,000 entries, and
 * expiry (the clock moved forward, never slept on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include <cmocka.h>

#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "../../ca-signer/signer.h"
#include "log.h"
#include "test_signer_fixture.h"
#include "util.h"

enum { NCERT = 6 };

struct t {
	char *dir;
	config_t *cfg;
	signer_t *s;
	EVP_PKEY *key;
	uint8_t *csr;
	size_t csr_len;
	char serial[NCERT][SIGNER_SERIAL_LEN];
	time_t t0;
	int seq;
};

static int setup(void **state)
{
	struct t *t = xcalloc(1, sizeof *t);

	*state = t;
	log_init("test_signer_crl", LV_ERR);
	t->dir = fx_tmpdir();
	if (!t->dir || fx_make_ca(t->dir) < 0 || !(t->cfg = fx_config(t->dir, NULL)) ||
	    !(t->s = signer_new(t->cfg)))
		return -1;
	t->t0 = ra_now();
	for (int i = 0; i < NCERT; i++) {
		char id[32], sn[16];
		struct sign_result res;
		/* every certificate needs its own key */
		EVP_PKEY_free(t->key);
		free(t->csr);
		t->key = fx_rsa(2048, 65537);
		t->csr = fx_csr(t->key, NULL, &t->csr_len);
		snprintf(id, sizeof id, "issue-%d", i);
		snprintf(sn, sizeof sn, "ACCT%04d", i);
		struct sign_request r = { .request_id = id, .usage = "signature", .csr_der = t->csr,
			.csr_len = t->csr_len, .subject_name = "Test Subscriber", .subject_serial = sn };
		if (signer_issue(t->s, &r, &res) < 0)
			return -1;
		strcpy(t->serial[i], res.serial);
		char *pem = xasprintf("%s/cert%d.pem", t->dir, i);
		fx_write_pem(pem, res.der, res.der_len);
		free(pem);
		signer_result_clear(&res);
	}
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	signer_destroy(&t->s);
	config_destroy(&t->cfg);
	EVP_PKEY_free(t->key);
	free(t->csr);
	fx_rmdir(t->dir);
	free(t);
	return 0;
}

static void expect_refused(int rc, const char *err, const char *what)
{
	if (rc != -1 || !strstr(err, what))
		fail_msg("expected a refusal with \"%s\", got rc %d \"%s\"", what, rc, err);
}

static enum signer_cert_state state_of(struct t *t, int i, int *reason)
{
	struct signer_cert_status st;
	char err[SIGNER_ERR_LEN];
	assert_int_equal(signer_status(t->s, t->serial[i], &st, err), 0);
	if (reason)
		*reason = st.reason;
	return st.state;
}

/*
 * cert 0: held then released (valid, not listed); cert 1: revoked keyCompromise with an
 * invalidity date; cert 2: held (listed as certificateHold); cert 3: held then revoked
 * superseded; cert 4: revoked unspecified; cert 5: untouched.
 */
static void test_status_rules(void **state)
{
	struct t *t = *state;
	char err[SIGNER_ERR_LEN];
	int reason;
	time_t now = ra_now();

	assert_int_equal(signer_hold(t->s, "hold-0", t->serial[0], err), 0);
	assert_int_equal(state_of(t, 0, &reason), SIGNER_CERT_HELD);
	assert_int_equal(reason, SIGNER_REASON_CERTIFICATE_HOLD);
	assert_int_equal(signer_hold(t->s, "hold-0", t->serial[0], err), 0);	/* repeat: fine */
	expect_refused(signer_hold(t->s, "hold-0b", t->serial[0], err), err, "already on hold");
	expect_refused(signer_release(t->s, "hold-0", t->serial[0], err), err, "already used to hold");
	assert_int_equal(signer_release(t->s, "release-0", t->serial[0], err), 0);
	assert_int_equal(state_of(t, 0, &reason), SIGNER_CERT_VALID);
	assert_int_equal(reason, -1);
	assert_int_equal(signer_release(t->s, "release-0", t->serial[0], err), 0);	/* repeat */
	expect_refused(signer_release(t->s, "release-0b", t->serial[0], err), err, "not on hold");

	assert_int_equal(signer_revoke(t->s, "revoke-1", t->serial[1],
	    SIGNER_REASON_KEY_COMPROMISE, now - 3600, err), 0);
	assert_int_equal(state_of(t, 1, &reason), SIGNER_CERT_REVOKED);
	assert_int_equal(reason, SIGNER_REASON_KEY_COMPROMISE);
	assert_int_equal(signer_revoke(t->s, "revoke-1", t->serial[1],
	    SIGNER_REASON_KEY_COMPROMISE, now - 3600, err), 0);	/* repeat */
	expect_refused(signer_revoke(t->s, "revoke-1", t->serial[1], SIGNER_REASON_SUPERSEDED,
	    0, err), err, "already used");
	expect_refused(signer_revoke(t->s, "revoke-1b", t->serial[1], SIGNER_REASON_SUPERSEDED,
	    0, err), err, "already revoked");
	expect_refused(signer_hold(t->s, "hold-1", t->serial[1], err), err, "already revoked");
	expect_refused(signer_release(t->s, "release-1", t->serial[1], err), err, "already revoked");

	assert_int_equal(signer_hold(t->s, "hold-2", t->serial[2], err), 0);

	assert_int_equal(signer_hold(t->s, "hold-3", t->serial[3], err), 0);
	assert_int_equal(signer_revoke(t->s, "revoke-3", t->serial[3], SIGNER_REASON_SUPERSEDED,
	    0, err), 0);
	assert_int_equal(state_of(t, 3, &reason), SIGNER_CERT_REVOKED);
	assert_int_equal(reason, SIGNER_REASON_SUPERSEDED);

	assert_int_equal(signer_revoke(t->s, "revoke-4", t->serial[4], SIGNER_REASON_UNSPECIFIED,
	    0, err), 0);

	/* Refusals that change nothing. */
	expect_refused(signer_revoke(t->s, "r-5a", t->serial[5], SIGNER_REASON_CERTIFICATE_HOLD,
	    0, err), err, "not allowed");
	expect_refused(signer_revoke(t->s, "r-5b", t->serial[5], SIGNER_REASON_REMOVE_FROM_CRL,
	    0, err), err, "not allowed");
	expect_refused(signer_revoke(t->s, "r-5c", t->serial[5], 7, 0, err), err, "not allowed");
	expect_refused(signer_revoke(t->s, "r-5d", t->serial[5], 11, 0, err), err, "not allowed");
	expect_refused(signer_revoke(t->s, "r-5e", t->serial[5], SIGNER_REASON_KEY_COMPROMISE,
	    now + 86400, err), err, "future");
	expect_refused(signer_revoke(t->s, "r-5g", "7f00112233", 1, 0, err), err, "no certificate");
	expect_refused(signer_revoke(t->s, "r-5h", "not hex", 1, 0, err), err, "not hex");
	expect_refused(signer_hold(t->s, "", t->serial[5], err), err, "request id");
	assert_int_equal(state_of(t, 5, NULL), SIGNER_CERT_VALID);

	/* Serials are found whatever their case or separators. */
	char upper[SIGNER_SERIAL_LEN];
	for (size_t i = 0; i <= strlen(t->serial[1]); i++)
		upper[i] = (char)toupper((unsigned char)t->serial[1][i]);
	struct signer_cert_status st;
	assert_int_equal(signer_status(t->s, upper, &st, err), 0);
	assert_int_equal(st.state, SIGNER_CERT_REVOKED);
	assert_true(st.invalidity_date == now - 3600);
	assert_int_equal(signer_status(t->s, "01", &st, err), 0);
	assert_int_equal(st.state, SIGNER_CERT_UNKNOWN);

	assert_string_equal(signer_reason_name(1), "keyCompromise");
	assert_int_equal(signer_reason_parse("superseded"), 4);
	assert_int_equal(signer_reason_parse("6"), 6);
	assert_int_equal(signer_reason_parse("7"), -1);
	assert_int_equal(signer_reason_parse("bogus"), -1);
}

static X509_CRL *read_crl_file(struct t *t, const char *name)
{
	size_t len;
	char *path = xasprintf("%s/crl/%s", t->dir, name);
	char *der = file_read(path, &len);
	const unsigned char *p = (const unsigned char *)der;
	X509_CRL *crl = der ? d2i_X509_CRL(NULL, &p, (long)len) : NULL;
	free(der);
	free(path);
	return crl;
}

static X509_CRL *read_crl(struct t *t)
{
	return read_crl_file(t, "ra.crl");
}

static long crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	long v = n ? ASN1_INTEGER_get(n) : -1;
	ASN1_INTEGER_free(n);
	return v;
}

/* The entry for SERIAL: its reason (-1: no reason code) and invalidity date (0: none). */
static int crl_entry(X509_CRL *crl, const char *serial, int *reason, time_t *inv)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
		char *hex = BN_bn2hex(bn);
		int match = strcasecmp(hex, serial) == 0;
		OPENSSL_free(hex);
		BN_free(bn);
		if (!match)
			continue;
		ASN1_ENUMERATED *code = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
		*reason = code ? (int)ASN1_ENUMERATED_get(code) : -1;
		ASN1_ENUMERATED_free(code);
		ASN1_GENERALIZEDTIME *g = X509_REVOKED_get_ext_d2i(r, NID_invalidity_date, NULL, NULL);
		*inv = 0;
		if (g) {
			struct tm tm;
			ASN1_TIME_to_tm(g, &tm);
			*inv = timegm(&tm);
			ASN1_GENERALIZEDTIME_free(g);
		}
		return 1;
	}
	return 0;
}

static void test_crl_publish(void **state)
{
	struct t *t = *state;
	char err[SIGNER_ERR_LEN];
	int reason;
	time_t inv;

	assert_int_equal(signer_crl_number(t->s), 0);
	assert_int_equal(signer_crl_publish(t->s, SIGNER_CRL_COMPLETE, err), 0);
	assert_int_equal(signer_crl_number(t->s), 1);
	X509_CRL *crl = read_crl(t);
	assert_non_null(crl);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(crl_number(crl), 1);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 4);
	assert_false(crl_entry(crl, t->serial[0], &reason, &inv));	/* released */
	assert_true(crl_entry(crl, t->serial[1], &reason, &inv));
	assert_int_equal(reason, SIGNER_REASON_KEY_COMPROMISE);
	assert_true(inv > 0);
	assert_true(crl_entry(crl, t->serial[2], &reason, &inv));
	assert_int_equal(reason, SIGNER_REASON_CERTIFICATE_HOLD);
	assert_int_equal(inv, 0);
	assert_true(crl_entry(crl, t->serial[3], &reason, &inv));
	assert_int_equal(reason, SIGNER_REASON_SUPERSEDED);
	assert_true(crl_entry(crl, t->serial[4], &reason, &inv));
	assert_int_equal(reason, -1);	/* unspecified: no reason code, per RFC 5280 */
	assert_false(crl_entry(crl, t->serial[5], &reason, &inv));
	AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	assert_non_null(akid);
	AUTHORITY_KEYID_free(akid);
	int days, secs;
	ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl));
	assert_int_equal(days * 86400 + secs, 24 * 3600);
	X509_CRL_free(crl);

	/* Outside checks: the CRL's signature, then certificates against it. */
	assert_int_equal(fx_run("cd '%s' && openssl crl -in crl/ra.crl -inform DER -CAfile ca.pem "
	    "-noout 2>&1 | grep -q 'verify OK'", t->dir), 0);
	assert_int_equal(fx_run("cd '%s' && openssl crl -in crl/ra.crl.pem -CAfile ca.pem "
	    "-noout 2>&1 | grep -q 'verify OK'", t->dir), 0);
	for (int i = 0; i < NCERT; i++) {
		int listed = i >= 1 && i <= 4;
		int rc = fx_run("cd '%s' && openssl verify -crl_check -CAfile ca.pem -CRLfile "
		    "crl/ra.crl.pem cert%d.pem >verify.out 2>&1", t->dir, i);
		if (listed != (rc != 0))
			fail_msg("openssl verify -crl_check on certificate %d: exit %d", i, rc);
		if (listed)
			assert_int_equal(fx_run("grep -q 'certificate revoked' '%s/verify.out'", t->dir), 0);
	}

	/* Next CRL: the number goes up; a released hold leaves it. */
	assert_int_equal(signer_release(t->s, "release-2", t->serial[2], err), 0);
	assert_int_equal(signer_crl_publish(t->s, SIGNER_CRL_COMPLETE, err), 0);
	crl = read_crl(t);
	assert_int_equal(crl_number(crl), 2);
	assert_false(crl_entry(crl, t->serial[2], &reason, &inv));
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 3);
	X509_CRL_free(crl);
}

/*
 * openssl verify -crl_check -use_deltas of certificate I with base.pem + the delta: 0 ok.
 * -extended_crl as well: without it OpenSSL 3.0 may take a delta CRL for the complete
 * one (its CRL scoring skips the "no deltas here" check then) and judge by the delta
 * alone, which accepts a certificate the base revoked.
 */
static int verify_with_delta(struct t *t, int i)
{
	return fx_run("cd '%s' && cat base.pem crl/ra-delta.crl.pem > both.pem && openssl verify "
	    "-crl_check -extended_crl -use_deltas -CAfile ca.pem -CRLfile both.pem cert%d.pem "
	    ">verify.out 2>&1", t->dir, i);
}

/*
 * Delta CRLs (RFC 5280 5.2.4): a base, then changes after it. Before the base cert 0 is
 * held; after it cert 2 is revoked and cert 0 released. The delta names its base
 * (critical Delta CRL Indicator), lists exactly those two (cert 0 as removeFromCRL), and
 * openssl verify -use_deltas combines the old base with the delta.
 */
static void test_delta(void **state)
{
	struct t *t = *state;
	char err[SIGNER_ERR_LEN];
	int reason, crit;
	time_t inv;

	assert_true(signer_crl_deltas(t->s));
	assert_int_equal(signer_hold(t->s, "hold-0-again", t->serial[0], err), 0);
	assert_int_equal(signer_crl_publish(t->s, SIGNER_CRL_BASE, err), 0);
	long base = signer_crl_number(t->s);
	assert_int_equal(fx_run("cd '%s' && cp crl/ra.crl.pem base.pem", t->dir), 0);
	X509_CRL *crl = read_crl(t);
	X509_EXTENSION *fresh = X509_CRL_get_ext(crl, X509_CRL_get_ext_by_NID(crl, NID_freshest_crl, -1));
	assert_non_null(fresh);	/* the base points to the deltas */
	assert_true(crl_entry(crl, t->serial[0], &reason, &inv));
	X509_CRL_free(crl);

	/* An empty delta right after the base. */
	assert_int_equal(signer_crl_publish(t->s, SIGNER_CRL_DELTA, err), 0);
	crl = read_crl_file(t, "ra-delta.crl");
	assert_non_null(crl);
	assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0);
	X509_CRL_free(crl);
	assert_int_equal(verify_with_delta(t, 2), 0);

	assert_int_equal(signer_revoke(t->s, "revoke-2", t->serial[2], SIGNER_REASON_KEY_COMPROMISE,
	    0, err), 0);
	assert_int_equal(signer_release(t->s, "release-0-again", t->serial[0], err), 0);
	assert_int_equal(signer_crl_publish(t->s, SIGNER_CRL_DELTA, err), 0);
	crl = read_crl_file(t, "ra-delta.crl");
	assert_non_null(crl);
	assert_int_equal(crl_number(crl), signer_crl_number(t->s));
	ASN1_INTEGER *bn = X509_CRL_get_ext_d2i(crl, NID_delta_crl, &crit, NULL);
	assert_non_null(bn);
	assert_int_equal(ASN1_INTEGER_get(bn), base);
	assert_int_equal(crit, 1);
	ASN1_INTEGER_free(bn);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
	assert_true(crl_entry(crl, t->serial[2], &reason, &inv));
	assert_int_equal(reason, SIGNER_REASON_KEY_COMPROMISE);
	assert_true(crl_entry(crl, t->serial[0], &reason, &inv));
	assert_int_equal(reason, SIGNER_REASON_REMOVE_FROM_CRL);
	int days, secs;
	ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl));
	assert_int_equal(days * 86400 + secs, 60 * 60);	/* signer.delta_next_update_minutes */
	X509_CRL_free(crl);
	assert_int_equal(fx_run("cd '%s' && openssl crl -in crl/ra-delta.crl -inform DER -CAfile ca.pem "
	    "-noout 2>&1 | grep -q 'verify OK'", t->dir), 0);

	/* The old base alone still says cert 0 is held and cert 2 good; with the delta, the
	 * truth: 2 revoked, 0 good again; 1 (revoked in the base) stays revoked. */
	assert_int_equal(fx_run("cd '%s' && openssl verify -crl_check -CAfile ca.pem -CRLfile base.pem "
	    "cert2.pem >/dev/null 2>&1", t->dir), 0);
	assert_int_not_equal(verify_with_delta(t, 2), 0);
	assert_int_equal(fx_run("grep -q 'certificate revoked' '%s/verify.out'", t->dir), 0);
	assert_int_equal(verify_with_delta(t, 0), 0);
	assert_int_not_equal(verify_with_delta(t, 1), 0);

	/* A complete CRL between deltas does not move the base. */
	assert_int_equal(signer_crl_publish(t->s, SIGNER_CRL_COMPLETE, err), 0);
	assert_int_equal(signer_crl_publish(t->s, SIGNER_CRL_DELTA, err), 0);
	crl = read_crl_file(t, "ra-delta.crl");
	bn = X509_CRL_get_ext_d2i(crl, NID_delta_crl, &crit, NULL);
	assert_int_equal(ASN1_INTEGER_get(bn), base);
	ASN1_INTEGER_free(bn);
	X509_CRL_free(crl);
}

/* Expiry, by moving the one clock 400 days on: no hold or release, the CRL drops them. */
static void test_expiry(void **state)
{
	struct t *t = *state;
	char err[SIGNER_ERR_LEN], when[32];
	struct signer_cert_status st;

	assert_int_equal(signer_hold(t->s, "hold-5", t->serial[5], err), 0);
	snprintf(when, sizeof when, "%lld", (long long)(t->t0 + 400L * 86400));
	assert_int_equal(clock_set(when), 0);
	expect_refused(signer_hold(t->s, "hold-0-late", t->serial[0], err), err, "expired");
	expect_refused(signer_release(t->s, "release-5-late", t->serial[5], err), err, "expired");
	assert_int_equal(signer_status(t->s, t->serial[0], &st, err), 0);
	assert_int_equal(st.expired, 1);
	assert_int_equal(signer_crl_publish(t->s, SIGNER_CRL_COMPLETE, err), 0);
	X509_CRL *crl = read_crl(t);
	assert_int_equal(crl_number(crl), signer_crl_number(t->s));
	assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0);	/* none: list omitted */
	X509_CRL_free(crl);
}

/* 100,000 revoked certificates (rows written straight into signer.db). */
static void test_crl_large(void **state)
{
	struct t *t = *state;
	char err[SIGNER_ERR_LEN], *path = xasprintf("%s/signer.db", t->dir);
	sqlite3 *db;
	long long now = (long long)ra_now();

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char *sql = sqlite3_mprintf(
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
	    "INSERT INTO certs (request_id, serial, usage, subject, csr_sha256, req_sha256, "
	    "not_before, not_after, der, status, reason, revoked_at) "
	    "SELECT 'bulk-' || i, printf('7e%%014x', i), 'signature', 'CN=bulk', zeroblob(32), "
	    "zeroblob(32), %lld, %lld, x'00', 'revoked', i %% 6, %lld FROM n", now - 10,
	    now + 86400 * 300, now - 5);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	sqlite3_close(db);
	free(path);

	assert_int_equal(signer_crl_publish(t->s, SIGNER_CRL_COMPLETE, err), 0);
	X509_CRL *crl = read_crl(t);
	assert_non_null(crl);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 100000);
	int reason;
	time_t inv;
	assert_true(crl_entry(crl, "7e00000000000007", &reason, &inv));
	assert_int_equal(reason, 1);
	X509_CRL_free(crl);
	assert_int_equal(fx_run("cd '%s' && openssl crl -in crl/ra.crl -inform DER -CAfile ca.pem "
	    "-noout 2>&1 | grep -q 'verify OK'", t->dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_rules),
		cmocka_unit_test(test_crl_publish),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_crl_large),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
