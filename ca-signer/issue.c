/*
 * issue.c: signer_issue, from a worker's request to a stored, signed certificate.
 *
 * Order of work: check the request's own fields; look the request id up (a request seen
 * before is answered from signer.db, never signed twice); parse the CSR and check proof of
 * possession; draw a serial; build from the profile; lint; sign; store the certificate and
 * its journal row under one savepoint, so that a failure leaves nothing behind even in the
 * middle of a batch. A serial collision (astronomically unlikely, but the UNIQUE
 * constraint is what guarantees uniqueness) draws a new serial and signs again.
 */
#include "signer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "csr.h"
#include "lint.h"
#include "log.h"
#include "serial.h"
#include "util.h"

#define ISSUE_SERIAL_TRIES 4

void signer_result_clear(struct sign_result *res)
{
	if (!res)
		return;
	free(res->der);
	memset(res, 0, sizeof *res);
}

/* Length-prefixed, so that ("ab","c") and ("a","bc") differ. */
static void issue_hash_field(EVP_MD_CTX *ctx, const void *data, size_t len)
{
	uint8_t n[8];

	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)(len >> (56 - 8 * i));
	EVP_DigestUpdate(ctx, n, sizeof n);
	if (len)
		EVP_DigestUpdate(ctx, data, len);
}

static int issue_digests(const struct sign_request *req, uint8_t csr_sha[32], uint8_t req_sha[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const char *email = req->email ? req->email : "";
	int ok;

	ok = ctx && EVP_Digest(req->csr_der, req->csr_len, csr_sha, NULL, EVP_sha256(), NULL) &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	if (ok) {
		issue_hash_field(ctx, req->usage, strlen(req->usage));
		issue_hash_field(ctx, req->csr_der, req->csr_len);
		issue_hash_field(ctx, req->subject_name, strlen(req->subject_name));
		issue_hash_field(ctx, req->subject_serial, strlen(req->subject_serial));
		issue_hash_field(ctx, email, strlen(email));
		ok = EVP_DigestFinal_ex(ctx, req_sha, NULL);
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* The request's own fields, before any lookup or parsing. */
static int issue_check_request(const struct sign_request *req, int *usage, char *err)
{
	if (signer_check_request_id(req->request_id, err) < 0)
		return -1;
	*usage = profile_usage_parse(req->usage);
	if (*usage < 0) {
		snprintf(err, SIGNER_ERR_LEN, "unknown usage \"%.32s\": use signature or encryption",
		    req->usage ? req->usage : "");
		return -1;
	}
	if (profile_check_name("subject name", req->subject_name, 0, err) < 0 ||
	    profile_check_name("subject serial number", req->subject_serial, 1, err) < 0)
		return -1;
	if (req->email && *req->email && profile_check_email(req->email, err) < 0)
		return -1;
	if (!req->csr_der || req->csr_len == 0) {
		snprintf(err, SIGNER_ERR_LEN, "no CSR given");
		return -1;
	}
	return 0;
}

/* Answer a request id seen before: the same certificate, or an error if the request differs. */
static int issue_repeat(const struct store_cert *c, const struct sign_request *req,
    const uint8_t csr_sha[32], const uint8_t req_sha[32], struct sign_result *res)
{
	if (strcmp(c->usage, req->usage) != 0) {
		snprintf(res->error, sizeof res->error, "request id %s was already used for a %s "
		    "certificate, not %s", req->request_id, c->usage, req->usage);
		return -1;
	}
	if (memcmp(c->csr_sha256, csr_sha, 32) != 0) {
		snprintf(res->error, sizeof res->error, "request id %s was already used with a "
		    "different CSR", req->request_id);
		return -1;
	}
	if (memcmp(c->req_sha256, req_sha, 32) != 0) {
		snprintf(res->error, sizeof res->error, "request id %s was already used with a "
		    "different subject or e-mail address", req->request_id);
		return -1;
	}
	res->der = c->der;
	res->der_len = c->der_len;
	snprintf(res->serial, sizeof res->serial, "%s", c->serial);
	res->not_after = (time_t)c->not_after;
	res->repeated = 1;
	return 0;
}

/* The subject as one line of text for signer.db (RFC 2253, UTF-8 kept as is). */
static char *issue_subject_text(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *text = NULL, *data;
	long n;

	if (b && X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(b, &data);
		text = xmalloc((size_t)n + 1);
		memcpy(text, data, (size_t)n);
		text[n] = '\0';
	}
	BIO_free(b);
	return text ? text : xstrdup("");
}

/* Build, lint, sign, store. 0, 1 on a serial collision (try again), -1 with err. */
static int issue_once(signer_t *s, const struct sign_request *req, enum profile_usage usage,
    const struct csr *csr, const uint8_t csr_sha[32], const uint8_t req_sha[32], time_t now,
    struct sign_result *res)
{
	ASN1_INTEGER *serial = NULL;
	X509 *x = NULL;
	struct store_cert c;
	unsigned char *der = NULL, *p;
	char *subject = NULL;
	int len, rc = -1, taken;

	memset(&c, 0, sizeof c);
	if (serial_random(&serial, c.serial) < 0) {
		snprintf(res->error, sizeof res->error, "cannot draw a random serial number");
		goto out;
	}
	taken = store_serial_exists(s->store, c.serial);
	if (taken != 0) {
		rc = taken > 0 ? 1 : -1;
		if (rc < 0)
			snprintf(res->error, sizeof res->error, "signer database error");
		goto out;
	}
	x = profile_build(s->profile, usage, csr->pub, req->subject_name, req->subject_serial,
	    req->email, serial, now, res->error);
	if (!x)
		goto out;
	if (lint_tbs(s->profile, x, usage, csr->pub, res->error) < 0) {
		log_err("request %s refused by the certificate lint: %s", req->request_id, res->error);
		goto out;
	}
	if (X509_sign(x, cakey_pkey(s->key), s->md) <= 0) {
		snprintf(res->error, sizeof res->error, "the CA key failed to sign");
		log_err("request %s: signing failed", req->request_id);
		goto out;
	}
	len = i2d_X509(x, NULL);
	if (len <= 0) {
		snprintf(res->error, sizeof res->error, "cannot encode the certificate");
		goto out;
	}
	der = p = xmalloc((size_t)len);
	i2d_X509(x, &p);
	subject = issue_subject_text(x);
	snprintf(c.request_id, sizeof c.request_id, "%s", req->request_id);
	snprintf(c.usage, sizeof c.usage, "%s", profile_usage_name(usage));
	c.subject = subject;
	memcpy(c.csr_sha256, csr_sha, 32);
	memcpy(c.req_sha256, req_sha, 32);
	c.not_before = now;
	c.not_after = now + (time_t)profile_validity_days(s->profile) * 86400;
	c.der = der;
	c.der_len = (size_t)len;
	rc = store_cert_insert(s->store, &c);
	if (rc == 0 && store_journal(s->store, now, req->request_id, "issue", c.serial, -1,
	    c.usage) < 0)
		rc = -1;
	if (rc < 0) {
		snprintf(res->error, sizeof res->error, "signer database error");
		goto out;
	}
	if (rc == 0) {
		res->der = der;
		res->der_len = (size_t)len;
		der = NULL;
		snprintf(res->serial, sizeof res->serial, "%s", c.serial);
		res->not_after = (time_t)c.not_after;
	}
out:
	ERR_clear_error();
	free(der);
	free(subject);
	X509_free(x);
	ASN1_INTEGER_free(serial);
	return rc;
}

int signer_issue(signer_t *s, const struct sign_request *req, struct sign_result *res)
{
	uint8_t csr_sha[32], req_sha[32];
	struct store_cert prev;
	struct csr csr;
	int usage, found, rc = -1, sp = 0;
	time_t now = ra_now();

	memset(res, 0, sizeof *res);
	memset(&csr, 0, sizeof csr);
	memset(&prev, 0, sizeof prev);
	if (issue_check_request(req, &usage, res->error) < 0)
		goto out;
	if (issue_digests(req, csr_sha, req_sha) < 0) {
		snprintf(res->error, sizeof res->error, "cannot hash the request");
		goto out;
	}
	if (store_sp_begin(s->store) < 0) {
		snprintf(res->error, sizeof res->error, "signer database error");
		goto out;
	}
	sp = 1;
	found = store_cert_by_request(s->store, req->request_id, &prev, 1);
	if (found < 0) {
		snprintf(res->error, sizeof res->error, "signer database error");
		goto out;
	}
	if (found) {
		rc = issue_repeat(&prev, req, csr_sha, req_sha, res);
		if (rc == 0)
			prev.der = NULL;	/* now owned by res */
		goto out;
	}
	if (csr_parse(req->csr_der, req->csr_len, profile_min_bits(s->profile),
	    profile_max_bits(s->profile), &csr, res->error) < 0)
		goto out;
	for (int i = 0; i < ISSUE_SERIAL_TRIES; i++) {
		rc = issue_once(s, req, usage, &csr, csr_sha, req_sha, now, res);
		if (rc != 1)
			break;
		log_warn("serial collision for request %s; drawing another", req->request_id);
	}
	if (rc == 1) {
		snprintf(res->error, sizeof res->error, "no free serial number after %d tries",
		    ISSUE_SERIAL_TRIES);
		rc = -1;
	}
out:
	if (sp && store_sp_end(s->store, rc == 0) < 0 && rc == 0) {
		signer_result_clear(res);
		snprintf(res->error, sizeof res->error, "signer database error");
		rc = -1;
	}
	if (rc == 0)
		log_info("request %s: %s certificate %s%s", req->request_id, req->usage,
		    res->serial, res->repeated ? " (already issued)" : " issued");
	else
		log_info("request %s refused: %s", req->request_id ? req->request_id : "(none)",
		    res->error);
	free(prev.der);
	csr_clear(&csr);
	return rc;
}
