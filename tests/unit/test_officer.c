/*
 * test_officer.c: an officer's signature verifies for exactly the job it was made for
 * (kind, idempotency key, payload), only with a certificate from the officer CA that is
 * valid at the RA's time, and a credential opens only with its passphrase.
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

#include <openssl/x509v3.h>

#include "log.h"
#include "officer.h"
#include "util.h"

static char dir[] = "/tmp/ra-test-officer-XXXXXX";
static X509_STORE *store, *other_store;
static officer_cred_t *clerk, *stranger;

/* A certificate for KEY named CN, by ISSUER/IKEY (NULL: self-signed CA), valid DAYS from now. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, long days)
{
	X509 *c = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), issuer ? 1001 : 1);
	X509_gmtime_adj(X509_getm_notBefore(c), -60);
	X509_gmtime_adj(X509_getm_notAfter(c), days * 86400);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(c, n);
	X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(c, key);
	X509V3_set_ctx(&v3, issuer ? issuer : c, c, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
	X509_add_ext(c, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(c, issuer ? ikey : key, EVP_sha256());
	X509_NAME_free(n);
	return c;
}

/* A CA (into *STORE) and a credential for ID under "passphrase one" at DIR/FILE. */
static officer_cred_t *make_officer(const char *id, const char *file, X509_STORE **st)
{
	EVP_PKEY *cakey = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
	X509 *ca = make_cert(cakey, "Test Officer CA", NULL, NULL, 3650);
	X509 *cert = make_cert(key, id, ca, cakey, 365);
	char *path = xasprintf("%s/%s", dir, file);
	officer_cred_t *c = NULL;

	*st = X509_STORE_new();
	X509_STORE_add_cert(*st, ca);
	if (officer_cred_write(path, cert, key, "passphrase one") == 0)
		c = officer_cred_load(path, "passphrase one");
	free(path);
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
	return c;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	clerk = make_officer("clerk01", "clerk01.pem", &store);
	stranger = make_officer("sup01", "rogue.pem", &other_store);
	return clerk && stranger ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf %s", dir);
	officer_cred_destroy(&clerk);
	officer_cred_destroy(&stranger);
	X509_STORE_free(store);
	X509_STORE_free(other_store);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	return 0;
}

static json_t *signed_payload(officer_cred_t *c, const char *kind, const char *idem)
{
	json_t *p = json_pack("{s:s,s:[i,i]}", "serial", "R2026-000001", "list", 1, 2);
	assert_int_equal(officer_sign(c, kind, idem, p), 0);
	return p;
}

static void verifies(X509_STORE *s, const char *kind, const char *idem, json_t *p, int want)
{
	char err[256] = "";
	X509 *cert = officer_sig_verify(s, kind, idem, p, err, sizeof err);
	if (want && !cert)
		fail_msg("refused: %s", err);
	if (!want && cert)
		fail_msg("accepted");
	if (!want)
		assert_true(err[0] != '\0');
	X509_free(cert);
}

static void test_roundtrip(void **state)
{
	(void)state;
	json_t *p = signed_payload(clerk, "form_approve", "form_approve:abc");
	char *cn;

	assert_string_equal(officer_cred_id(clerk), "clerk01");
	verifies(store, "form_approve", "form_approve:abc", p, 1);
	/* Key order in the payload does not matter: the digest is over sorted keys. */
	json_t *q = json_pack("{s:[i,i],s:s,s:O}", "list", 1, 2, "serial", "R2026-000001",
	    OFFICER_SIG_MEMBER, json_object_get(p, OFFICER_SIG_MEMBER));
	verifies(store, "form_approve", "form_approve:abc", q, 1);
	X509 *cert = officer_sig_verify(store, "form_approve", "form_approve:abc", p, (char[8]){ 0 }, 8);
	assert_non_null(cert);
	cn = officer_cert_cn(cert);
	assert_string_equal(cn, "clerk01");
	free(cn);
	X509_free(cert);
	json_decref(p);
	json_decref(q);
}

static void test_other_job(void **state)
{
	(void)state;
	json_t *p = signed_payload(clerk, "form_key", "k1");

	verifies(store, "form_verify", "k1", p, 0);	/* another kind */
	verifies(store, "form_key", "k2", p, 0);	/* another idempotency key */
	json_object_set_new(p, "officer", json_string("sup01"));	/* a name added */
	verifies(store, "form_key", "k1", p, 0);
	json_object_del(p, "officer");
	verifies(store, "form_key", "k1", p, 1);
	json_object_set_new(p, "serial", json_string("R2026-000002"));	/* other content */
	verifies(store, "form_key", "k1", p, 0);
	json_object_del(p, OFFICER_SIG_MEMBER);	/* no signature */
	verifies(store, "form_key", "k1", p, 0);
	json_decref(p);
}

static void test_other_ca_and_time(void **state)
{
	(void)state;
	json_t *p = signed_payload(stranger, "form_approve", "a1");

	verifies(store, "form_approve", "a1", p, 0);	/* not from the officer CA */
	verifies(other_store, "form_approve", "a1", p, 1);
	json_decref(p);
	p = signed_payload(clerk, "form_approve", "a1");
	assert_int_equal(clock_set("2040-01-01"), 0);	/* the certificate has expired */
	verifies(store, "form_approve", "a1", p, 0);
	char now[32];
	assert_int_equal(clock_set(time_format(time(NULL), now, sizeof now)), 0);
	json_decref(p);
}

static void test_passphrase(void **state)
{
	(void)state;
	char *path = xasprintf("%s/clerk01.pem", dir);
	officer_cred_t *c = officer_cred_load(path, "passphrase two");

	assert_null(c);
	assert_true(officer_id_valid("clerk01"));
	assert_false(officer_id_valid("Clerk01"));
	assert_false(officer_id_valid(""));
	assert_int_equal(officer_kind_roles("form_approve"), ROLE_SUPERVISOR);
	assert_int_equal(officer_kind_roles("login"), 0);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_other_job),
		cmocka_unit_test(test_other_ca_and_time),
		cmocka_unit_test(test_passphrase),
	};
	log_init("test_officer", LV_ERR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
