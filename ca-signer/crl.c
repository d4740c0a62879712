/*
 * crl.c: signing and publishing complete and delta CRLs (RFC 5280 v2, 5.2.4).
 *
 * A complete CRL holds every revoked or held certificate that has not expired (RFC 5280
 * lets an entry leave after its certificate expires), each with its reason code (omitted
 * for unspecified, as 5.3.1 recommends) and invalidity date when known. A delta CRL holds
 * every unexpired certificate whose status changed after its base (the last complete CRL
 * published as a base): revoked and held ones as in a complete CRL, released ones with
 * removeFromCRL. Both carry the authority key identifier and a CRL number from one
 * sequence, committed to signer.db before anything is written, so a number is never
 * reused; a delta carries the critical Delta CRL Indicator naming its base, a complete CRL
 * the Freshest CRL pointer to the deltas. Files are replaced atomically.
 *
 * Nothing that has not changed is encoded again: each entry's DER is made once, when its
 * status changes (crl_entry_der, stored in signer.db beside the status), and a CRL is the
 * concatenation of those entries inside a TBSCertList assembled here, signed once with
 * EVP_DigestSign. Entries revoked before the cache existed are encoded on the first
 * CRL that needs them and stored then.
 */
#include "signer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pem.h"
#include "serial.h"
#include "util.h"

/* A growing DER buffer. */
struct crl_buf {
	uint8_t *p;
	size_t len, cap;
};

static void crl_put(struct crl_buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 4096;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

/* A tag and a DER length. */
static void crl_put_tl(struct crl_buf *b, uint8_t tag, size_t len)
{
	uint8_t h[10];
	int n = 0, k = 0;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else {
		for (size_t v = len; v; v >>= 8)
			k++;
		h[n++] = (uint8_t)(0x80 | k);
		for (int i = k - 1; i >= 0; i--)
			h[n++] = (uint8_t)(len >> (8 * i));
	}
	crl_put(b, h, (size_t)n);
}

int crl_entry_der(const char *serial, int reason, int64_t at, int64_t invalidity,
    uint8_t **der, size_t *len)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *sn = serial_from_hex(serial);
	ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)at);
	ASN1_ENUMERATED *code = NULL;
	ASN1_GENERALIZEDTIME *inv = NULL;
	unsigned char *out = NULL;
	int n, rc = -1;

	*der = NULL;
	*len = 0;
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
	if ((n = i2d_X509_REVOKED(r, &out)) <= 0)
		goto out;
	*der = xmalloc((size_t)n);
	memcpy(*der, out, (size_t)n);
	*len = (size_t)n;
	rc = 0;
out:
	if (rc < 0)
		log_err("cannot encode the CRL entry of certificate %s", serial);
	ERR_clear_error();
	OPENSSL_free(out);
	X509_REVOKED_free(r);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(code);
	ASN1_GENERALIZEDTIME_free(inv);
	return rc;
}

/* An entry encoded during this publication, to be cached once the listing is over. */
struct crl_heal {
	char serial[SIGNER_SERIAL_LEN];
	uint8_t *der;
	size_t len;
};

struct crl_fill {
	struct crl_buf entries;
	long count;
	struct crl_heal *heal;
	size_t nheal, capheal;
};

static int crl_add_row(void *arg, const struct store_crl_row *row)
{
	struct crl_fill *f = arg;
	struct crl_heal *h;

	if (row->entry && row->entry_len > 0) {
		crl_put(&f->entries, row->entry, row->entry_len);
		f->count++;
		return 0;
	}
	if (f->nheal == f->capheal) {
		f->capheal = f->capheal * 2 + 64;
		f->heal = xrealloc(f->heal, f->capheal * sizeof *f->heal);
	}
	h = &f->heal[f->nheal];
	snprintf(h->serial, sizeof h->serial, "%s", row->serial);
	/* A released certificate without a cached entry is a removeFromCRL entry. */
	if (crl_entry_der(row->serial, strcmp(row->status, "valid") == 0 ?
	    SIGNER_REASON_REMOVE_FROM_CRL : row->reason, row->revoked_at, row->invalidity_date,
	    &h->der, &h->len) < 0)
		return -1;
	f->nheal++;
	crl_put(&f->entries, h->der, h->len);
	f->count++;
	return 0;
}

static void crl_fill_clear(struct crl_fill *f)
{
	for (size_t i = 0; i < f->nheal; i++)
		free(f->heal[i].der);
	free(f->heal);
	free(f->entries.p);
	memset(f, 0, sizeof *f);
}

/* The crlExtensions of this CRL, DER (a SEQUENCE OF Extension). */
static int crl_extensions(signer_t *s, enum signer_crl_kind kind, long long number,
    long long base, struct crl_buf *out)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new(), *bnum = ASN1_INTEGER_new();
	const X509_EXTENSION *fresh = profile_freshest_crl(s->profile);
	unsigned char *der = NULL;
	int n = -1;

	if (!akid || !num || !bnum ||
	    !(akid->keyid = ASN1_OCTET_STRING_dup(profile_ca_keyid(s->profile))) ||
	    !ASN1_INTEGER_set_int64(num, number) || !ASN1_INTEGER_set_int64(bnum, base) ||
	    X509V3_add1_i2d(&exts, NID_authority_key_identifier, akid, 0, 0) <= 0 ||
	    X509V3_add1_i2d(&exts, NID_crl_number, num, 0, 0) <= 0)
		goto out;
	if (kind == SIGNER_CRL_DELTA &&
	    X509V3_add1_i2d(&exts, NID_delta_crl, bnum, 1, 0) <= 0)
		goto out;
	if (kind != SIGNER_CRL_DELTA && fresh &&
	    !X509v3_add_ext(&exts, (X509_EXTENSION *)fresh, -1))
		goto out;
	if ((n = i2d_X509_EXTENSIONS(exts, &der)) > 0)
		crl_put(out, der, (size_t)n);
out:
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(num);
	ASN1_INTEGER_free(bnum);
	return n > 0 ? 0 : -1;
}

/*
 * The signature AlgorithmIdentifier for CTX, as the key's provider states it (it also
 * covers EC and RSA-PSS), or, for a key behind an engine (PKCS#11), the usual one for the
 * key type and digest.
 */
static int crl_sig_alg(signer_t *s, EVP_PKEY_CTX *pctx, struct crl_buf *out)
{
	unsigned char aid[256];
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, aid, sizeof aid),
		OSSL_PARAM_END
	};
	EVP_PKEY *pkey = cakey_pkey(s->key);
	X509_ALGOR *alg = NULL;
	unsigned char *der = NULL;
	int signid, n = -1;

	if (EVP_PKEY_CTX_get_params(pctx, params) > 0 && OSSL_PARAM_modified(&params[0]) &&
	    params[0].return_size > 0) {
		crl_put(out, aid, params[0].return_size);
		return 0;
	}
	ERR_clear_error();
	if (!OBJ_find_sigid_by_algs(&signid, EVP_MD_get_type(s->md), EVP_PKEY_get_base_id(pkey)) ||
	    !(alg = X509_ALGOR_new()) ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(signid),
	    EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) ||
	    (n = i2d_X509_ALGOR(alg, &der)) <= 0)
		n = -1;
	else
		crl_put(out, der, (size_t)n);
	OPENSSL_free(der);
	X509_ALGOR_free(alg);
	return n > 0 ? 0 : -1;
}

static void crl_put_der_time(struct crl_buf *b, time_t t)
{
	ASN1_TIME *at = ASN1_TIME_set(NULL, t);
	unsigned char *der = NULL;
	int n = at ? i2d_ASN1_TIME(at, &der) : -1;

	if (n > 0)
		crl_put(b, der, (size_t)n);
	OPENSSL_free(der);
	ASN1_TIME_free(at);
}

/*
 * TBSCertList = SEQUENCE { version v2, signature, issuer, thisUpdate, nextUpdate,
 * revokedCertificates SEQUENCE OF (absent when empty), [0] EXPLICIT crlExtensions },
 * signed into CertificateList = SEQUENCE { tbs, signatureAlgorithm, BIT STRING }.
 */
static int crl_assemble(signer_t *s, const struct crl_buf *entries, const struct crl_buf *exts,
    time_t now, time_t next, struct crl_buf *out)
{
	static const uint8_t v2[] = { 0x02, 0x01, 0x01 };
	struct crl_buf body = { 0 }, tbs = { 0 }, alg = { 0 }, sig = { 0 };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *issuer = NULL;
	size_t siglen = 0;
	int n, rc = -1;

	if (!ctx || EVP_DigestSignInit(ctx, &pctx, s->md, NULL, cakey_pkey(s->key)) <= 0 ||
	    crl_sig_alg(s, pctx, &alg) < 0 ||
	    (n = i2d_X509_NAME(X509_get_subject_name(s->ca_cert), &issuer)) <= 0)
		goto out;
	crl_put(&body, v2, sizeof v2);
	crl_put(&body, alg.p, alg.len);
	crl_put(&body, issuer, (size_t)n);
	crl_put_der_time(&body, now);
	crl_put_der_time(&body, next);
	if (entries->len) {
		crl_put_tl(&body, 0x30, entries->len);
		crl_put(&body, entries->p, entries->len);
	}
	crl_put_tl(&body, 0xa0, exts->len);
	crl_put(&body, exts->p, exts->len);
	crl_put_tl(&tbs, 0x30, body.len);
	crl_put(&tbs, body.p, body.len);
	if (EVP_DigestSign(ctx, NULL, &siglen, tbs.p, tbs.len) <= 0)
		goto out;
	sig.p = xmalloc(siglen + 1);
	sig.p[0] = 0;	/* the BIT STRING's count of unused bits */
	if (EVP_DigestSign(ctx, sig.p + 1, &siglen, tbs.p, tbs.len) <= 0)
		goto out;
	sig.len = siglen + 1;
	/* Reuse BODY for the CertificateList's contents. */
	body.len = 0;
	crl_put(&body, tbs.p, tbs.len);
	crl_put(&body, alg.p, alg.len);
	crl_put_tl(&body, 0x03, sig.len);
	crl_put(&body, sig.p, sig.len);
	crl_put_tl(out, 0x30, body.len);
	crl_put(out, body.p, body.len);
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_free(issuer);
	EVP_MD_CTX_free(ctx);
	free(body.p);
	free(tbs.p);
	free(alg.p);
	free(sig.p);
	return rc;
}

/* Write DER and PEM atomically into crl_dir as NAME and NAME.pem. */
static int crl_write(signer_t *s, const char *name, const struct crl_buf *der,
    char err[SIGNER_ERR_LEN])
{
	char *name_pem = xasprintf("%s.pem", name);
	char *pem = NULL;
	int rc = -1;

	/* through the folder opened at start-up: the only place besides signer.db's folder
	 * where ca-signer's sandbox lets it write */
	if (!(pem = pem_encode("X509 CRL", der->p, der->len))) {
		snprintf(err, SIGNER_ERR_LEN, "cannot encode the CRL");
		goto out;
	}
	if (file_write_at(s->crl_fd, name, der->p, der->len, 0644) < 0 ||
	    file_write_at(s->crl_fd, name_pem, pem, strlen(pem), 0644) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot write the CRL into %s", s->crl_dir);
		goto out;
	}
	rc = 0;
out:
	free(pem);
	free(name_pem);
	return rc;
}

static const char *const crl_kind_names[] = { "base", "complete", "delta" };

int signer_crl_publish(signer_t *s, enum signer_crl_kind kind, char err[SIGNER_ERR_LEN])
{
	struct crl_fill fill = { 0 };
	struct crl_buf exts = { 0 }, der = { 0 };
	time_t now = ra_now(), next;
	long long number = 0, base = 0, base_seq = 0, seq = 0;
	int rc = -1, tx = 0;
	char detail[96];

	err[0] = '\0';
	if (s->in_batch) {
		snprintf(err, SIGNER_ERR_LEN, "a CRL is not published inside a batch; commit first");
		return -1;
	}
	if (kind == SIGNER_CRL_DELTA && !signer_crl_deltas(s)) {
		snprintf(err, SIGNER_ERR_LEN, "delta CRLs are off (signer.delta_crl_url is empty)");
		return -1;
	}
	if (store_begin(s->store) < 0)
		goto dberr;
	tx = 1;
	if (store_crl_number_next(s->store, &number) < 0 ||
	    store_meta_get(s->store, "base_crl_number", &base) < 0 ||
	    store_meta_get(s->store, "base_change_seq", &base_seq) < 0 ||
	    store_meta_get(s->store, "change_seq", &seq) < 0)
		goto dberr;
	if (kind == SIGNER_CRL_DELTA && base == 0) {
		snprintf(err, SIGNER_ERR_LEN, "no base CRL was published yet");
		goto out;
	}
	if (kind == SIGNER_CRL_COMPLETE && base == 0)
		kind = SIGNER_CRL_BASE;
	if (kind == SIGNER_CRL_BASE && (store_meta_set(s->store, "base_crl_number", number) < 0 ||
	    store_meta_set(s->store, "base_change_seq", seq) < 0))
		goto dberr;
	next = now + (kind == SIGNER_CRL_DELTA ? (time_t)s->delta_minutes * 60 :
	    (time_t)s->crl_hours * 3600);
	if ((kind == SIGNER_CRL_DELTA ?
	    store_delta_foreach(s->store, base_seq, now, crl_add_row, &fill) :
	    store_crl_foreach(s->store, now, crl_add_row, &fill)) != 0) {
		snprintf(err, SIGNER_ERR_LEN, "cannot list the revoked certificates");
		goto out;
	}
	for (size_t i = 0; i < fill.nheal; i++)
		if (store_crl_entry_set(s->store, fill.heal[i].serial, fill.heal[i].der,
		    fill.heal[i].len) < 0)
			goto dberr;
	if (crl_extensions(s, kind, number, base, &exts) < 0 ||
	    crl_assemble(s, &fill.entries, &exts, now, next, &der) < 0) {
		snprintf(err, SIGNER_ERR_LEN, "the CA key failed to sign the CRL");
		goto out;
	}
	if (kind == SIGNER_CRL_DELTA)
		snprintf(detail, sizeof detail, "delta number %lld on base %lld, %ld entries",
		    number, base, fill.count);
	else
		snprintf(detail, sizeof detail, "%s number %lld, %ld entries", crl_kind_names[kind],
		    number, fill.count);
	if (store_journal(s->store, now, NULL, "crl", NULL, -1, detail) < 0)
		goto dberr;
	/* Commit the number first: after a crash a number may be skipped, never reused. */
	tx = 0;
	if (store_commit(s->store) < 0) {
		store_rollback(s->store);
		goto dberr;
	}
	if (crl_write(s, kind == SIGNER_CRL_DELTA ? "ra-delta.crl" : "ra.crl", &der, err) < 0)
		goto out;
	log_info("CRL %s", detail);
	rc = 0;
	goto out;
dberr:
	snprintf(err, SIGNER_ERR_LEN, "signer database error");
out:
	if (tx)
		store_rollback(s->store);
	if (rc < 0)
		log_err("CRL not published: %s", err);
	crl_fill_clear(&fill);
	free(exts.p);
	free(der.p);
	return rc;
}

int signer_crl_deltas(const signer_t *s)
{
	return profile_freshest_crl(s->profile) != NULL;
}

long long signer_crl_number(signer_t *s)
{
	long long n = store_crl_number(s->store);
	return n < 0 ? 0 : n;
}
