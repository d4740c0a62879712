/*
 * crl.c: signing and publishing the CRL (RFC 5280 v2).
 *
 * The list holds every revoked or held certificate that has not expired (RFC 5280 lets an
 * entry leave after its certificate expires), each with its reason code (omitted for
 * unspecified, as 5.3.1 recommends) and invalidity date when known. The CRL carries the
 * authority key identifier and an increasing CRL number that is committed to signer.db
 * before anything is written, so a number is never reused. Both files are replaced
 * atomically. Entries are built in one pass over a partial index; sorting is left to one
 * qsort, so 100,000 entries cost well under a second.
 */
#include "signer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pem.h"
#include "serial.h"
#include "util.h"

struct crl_fill {
	X509_CRL *crl;
	long count;
};

static int crl_add_entry(void *arg, const char *serial, int reason, int64_t revoked_at,
    int64_t invalidity)
{
	struct crl_fill *f = arg;
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *sn = serial_from_hex(serial);
	ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)revoked_at);
	ASN1_ENUMERATED *code = NULL;
	ASN1_GENERALIZEDTIME *inv = NULL;
	int rc = -1;

	if (!r || !sn || !t || !X509_REVOKED_set_serialNumber(r, sn) ||
	    !X509_REVOKED_set_revocationDate(r, t))
		goto out;
	if (reason > 0) {
		code = ASN1_ENUMERATED_new();
		if (!code || !ASN1_ENUMERATED_set(code, reason) ||
		    !X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, code, 0, 0))
			goto out;
	}
	/* invalidityDate is a GeneralizedTime whatever the year (RFC 5280 5.3.2). */
	if (invalidity > 0) {
		inv = ASN1_GENERALIZEDTIME_set(NULL, (time_t)invalidity);
		if (!inv || !X509_REVOKED_add1_ext_i2d(r, NID_invalidity_date, inv, 0, 0))
			goto out;
	}
	if (!X509_CRL_add0_revoked(f->crl, r))
		goto out;
	r = NULL;
	f->count++;
	rc = 0;
out:
	if (rc < 0)
		log_err("cannot add certificate %s to the CRL", serial);
	X509_REVOKED_free(r);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(code);
	ASN1_GENERALIZEDTIME_free(inv);
	return rc;
}

static int crl_add_extensions(signer_t *s, X509_CRL *crl, long long number)
{
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	int ok;

	ok = akid && num && (akid->keyid = ASN1_OCTET_STRING_dup(profile_ca_keyid(s->profile))) &&
	    ASN1_INTEGER_set_int64(num, number) &&
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) &&
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(num);
	return ok ? 0 : -1;
}

/* Write DER and PEM atomically into crl_dir. */
static int crl_write(signer_t *s, X509_CRL *crl, char err[SIGNER_ERR_LEN])
{
	unsigned char *der = NULL;
	char *path_der = xasprintf("%s/ra.crl", s->crl_dir);
	char *path_pem = xasprintf("%s/ra.crl.pem", s->crl_dir);
	char *pem = NULL;
	int der_len, rc = -1;

	if (mkdir_p(s->crl_dir, 0755) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot create the CRL folder %s", s->crl_dir);
		goto out;
	}
	der_len = i2d_X509_CRL(crl, &der);
	if (der_len <= 0 || !(pem = pem_encode("X509 CRL", der, (size_t)der_len))) {
		snprintf(err, SIGNER_ERR_LEN, "cannot encode the CRL");
		goto out;
	}
	if (file_write_atomic(path_der, der, (size_t)der_len, 0644) < 0 ||
	    file_write_atomic(path_pem, pem, strlen(pem), 0644) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot write the CRL into %s", s->crl_dir);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	free(pem);
	free(path_der);
	free(path_pem);
	return rc;
}

int signer_crl_publish(signer_t *s, char err[SIGNER_ERR_LEN])
{
	X509_CRL *crl = NULL;
	ASN1_TIME *last = NULL, *next = NULL;
	struct crl_fill fill = { 0 };
	time_t now = ra_now();
	long long number = 0;
	int rc = -1, tx = 0;
	char detail[64];

	err[0] = '\0';
	if (s->in_batch) {
		snprintf(err, SIGNER_ERR_LEN, "a CRL is not published inside a batch; commit first");
		return -1;
	}
	if (store_begin(s->store) < 0)
		goto dberr;
	tx = 1;
	if (store_crl_number_next(s->store, &number) < 0)
		goto dberr;
	crl = X509_CRL_new();
	last = ASN1_TIME_set(NULL, now);
	next = ASN1_TIME_set(NULL, now + (time_t)s->crl_hours * 3600);
	fill.crl = crl;
	if (!crl || !last || !next || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(s->ca_cert)) ||
	    !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next) ||
	    crl_add_extensions(s, crl, number) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot build the CRL");
		goto out;
	}
	if (store_crl_foreach(s->store, now, crl_add_entry, &fill) != 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot list the revoked certificates");
		goto out;
	}
	X509_CRL_sort(crl);
	if (X509_CRL_sign(crl, cakey_pkey(s->key), s->md) <= 0) {
		snprintf(err, SIGNER_ERR_LEN, "the CA key failed to sign the CRL");
		goto out;
	}
	snprintf(detail, sizeof detail, "number %lld, %ld entries", number, fill.count);
	if (store_journal(s->store, now, NULL, "crl", NULL, -1, detail) < 0)
		goto dberr;
	/* Commit the number first: after a crash a number may be skipped, never reused. */
	tx = 0;
	if (store_commit(s->store) < 0) {
		store_rollback(s->store);
		goto dberr;
	}
	if (crl_write(s, crl, err) < 0)
		goto out;
	log_info("CRL %lld published with %ld entries", number, fill.count);
	rc = 0;
	goto out;
dberr:
	snprintf(err, SIGNER_ERR_LEN, "signer database error");
out:
	if (tx)
		store_rollback(s->store);
	if (rc < 0)
		log_err("CRL not published: %s", err);
	ERR_clear_error();
	X509_CRL_free(crl);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	return rc;
}

long long signer_crl_number(signer_t *s)
{
	long long n = store_crl_number(s->store);
	return n < 0 ? 0 : n;
}
