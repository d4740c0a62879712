/*
 * issue.c: signer_issue, signer_issue_many and the jobs behind them (signer_issue_start,
 * signer_issue_finish), from workers' requests to stored, signed certificates.
 *
 * Three phases per job. First, in signer_issue_start, on the main thread: check each
 * request's own fields and look its request id up (a request seen before, in signer.db,
 * earlier in the same job or in an earlier job still on its way, is answered with the
 * certificate already issued, never signed twice); then look its public key up (by the
 * SHA-256 of its SubjectPublicKeyInfo): a key certified once, for any request, subscriber
 * or usage, or held by a job on its way, is never certified again, so one key cannot serve
 * two subscribers, both usages, or a renewal. Second, queued to the signing threads:
 * parse the CSR and check proof of possession, draw a serial, build from the profile,
 * lint, sign. The caller meanwhile does what it likes (the daemon stores and answers the
 * batch before, and receives the next). Third, in signer_issue_finish, on the main thread
 * again, jobs in the order they started: store each certificate and its journal row under
 * one savepoint, so that a failure leaves nothing behind even in the middle of a batch. A
 * serial collision (astronomically unlikely, but the UNIQUE constraint is what
 * guarantees uniqueness) draws a new serial and signs again.
 *
 * A request that repeats one of an earlier job on its way is looked up again in signer.db
 * when its own job finishes: the earlier job has been stored by then (jobs finish in
 * order), and if it failed the request is refused and may simply be asked again.
 */
#include "signer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "csr.h"
#include "digest.h"
#include "lint.h"
#include "log.h"
#include "pem.h"
#include "serial.h"
#include "util.h"

#define ISSUE_SERIAL_TRIES 4

enum item_state {
	ITEM_ANSWERED,	/* refused, or answered from signer.db */
	ITEM_FRESH,	/* to be signed */
	ITEM_REPEAT,	/* same request id as an earlier item of this job */
	ITEM_LATER,	/* same request as an item of an earlier job on its way: look up */
};

struct issue_item {
	const struct sign_request *req;
	struct sign_result *res;
	enum item_state state;
	size_t first;			/* ITEM_REPEAT: the earlier item */
	int usage;
	uint8_t csr_sha[32], req_sha[32];
	uint8_t key_sha[32];		/* SPKI digest, when key_ok */
	int key_ok;
	/* filled by the signing phase */
	int signed_ok;
	char *subject;
	int stored;			/* by the batch's fast path */
};

struct signer_job {
	signer_t *s;
	struct issue_item *items;
	size_t n;
	time_t now;
	pool_job_t *signing;
	struct signer_job *next;	/* the next job started */
};

void signer_result_clear(struct sign_result *res)
{
	if (!res)
		return;
	free(res->der);
	memset(res, 0, sizeof *res);
}

/* Length-prefixed, so that ("ab","c") and ("a","bc") differ. */
static void issue_hash_field(SHA256_CTX *ctx, const void *data, size_t len)
{
	uint8_t n[8];

	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)(len >> (56 - 8 * i));
	SHA256_Update(ctx, n, sizeof n);
	if (len)
		SHA256_Update(ctx, data, len);
}

/* SHA-256 with its own functions (digest.h): through EVP, or OpenSSL 3's one-shot
 * SHA256(), the digest is looked up in the provider's store every time. */
static int issue_digests(const struct sign_request *req, uint8_t csr_sha[32], uint8_t req_sha[32])
{
	SHA256_CTX ctx;
	const char *email = req->email ? req->email : "";

	if (digest_sha256(req->csr_der, req->csr_len, csr_sha) < 0 || !SHA256_Init(&ctx))
		return -1;
	issue_hash_field(&ctx, req->usage, strlen(req->usage));
	issue_hash_field(&ctx, req->csr_der, req->csr_len);
	issue_hash_field(&ctx, req->subject_name, strlen(req->subject_name));
	issue_hash_field(&ctx, req->subject_serial, strlen(req->subject_serial));
	issue_hash_field(&ctx, email, strlen(email));
	return SHA256_Final(req_sha, &ctx) ? 0 : -1;
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

/* Is a request with this id the same request? 0, or -1 with the reason in ERR. */
static int issue_same(const char *usage, const uint8_t csr_sha[32], const uint8_t req_sha[32],
    const struct issue_item *it, char *err)
{
	const char *id = it->req->request_id;

	if (strcmp(usage, it->req->usage) != 0) {
		snprintf(err, SIGNER_ERR_LEN, "request id %s was already used for a %s certificate, "
		    "not %s", id, usage, it->req->usage);
		return -1;
	}
	if (memcmp(csr_sha, it->csr_sha, 32) != 0) {
		snprintf(err, SIGNER_ERR_LEN, "request id %s was already used with a different CSR", id);
		return -1;
	}
	if (memcmp(req_sha, it->req_sha, 32) != 0) {
		snprintf(err, SIGNER_ERR_LEN, "request id %s was already used with a different "
		    "subject or e-mail address", id);
		return -1;
	}
	return 0;
}

/* The TBSCertificate signed with the CA key: *SIG (malloc'd, *SIG_LEN bytes). 0/-1. */
static int issue_sign_tbs(signer_t *s, const uint8_t *tbs, size_t len, uint8_t **sig,
    size_t *sig_len)
{
	EVP_MD_CTX *ctx;
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int n = 0;
	int ok;

	*sig = NULL;
	*sig_len = 0;
	if (s->sign_rsa) {
		*sig = xmalloc((size_t)RSA_size(s->sign_rsa));
		ok = digest_sha256(tbs, len, md) == 0 && RSA_sign(NID_sha256, md, sizeof md, *sig, &n,
		    (RSA *)s->sign_rsa) == 1;
		*sig_len = n;
	} else {
		ctx = EVP_MD_CTX_new();
		ok = ctx && EVP_DigestSignInit(ctx, NULL, s->md, NULL, cakey_pkey(s->key)) > 0 &&
		    EVP_DigestSign(ctx, NULL, sig_len, tbs, len) > 0;
		if (ok) {
			*sig = xmalloc(*sig_len);
			ok = EVP_DigestSign(ctx, *sig, sig_len, tbs, len) > 0;
		}
		EVP_MD_CTX_free(ctx);
	}
	if (!ok) {
		free(*sig);
		*sig = NULL;
	}
	return ok ? 0 : -1;
}

/*
 * Phase two, for one item, on any thread: CSR, serial, build, lint, sign. Touches only the
 * item, the read-only profile and the CA key.
 *
 * The TBSCertificate comes from the profile's template (profile_tbs); the lint reads those
 * very bytes (lint_der), decoded into objects of their own for each certificate (never an
 * X509 that held another certificate: OpenSSL caches what it has read of a certificate's
 * extensions there), and only then does the CA key sign them.
 */
static void issue_sign_one(signer_t *s, struct issue_item *it, time_t now)
{
	struct sign_result *res = it->res;
	struct csr csr;
	ASN1_INTEGER *serial = NULL;
	X509_NAME *subject = NULL;
	uint8_t *tbs = NULL, *sig = NULL;
	size_t tbs_len = 0, sig_len = 0;

	memset(&csr, 0, sizeof csr);
	if (csr_parse(it->req->csr_der, it->req->csr_len, profile_min_bits(s->profile),
	    profile_max_bits(s->profile), &csr, res->error) < 0)
		goto out;
	if (serial_random(&serial, res->serial) < 0) {
		snprintf(res->error, sizeof res->error, "cannot draw a random serial number");
		goto out;
	}
	if (profile_tbs(s->profile, it->usage, s->sig_alg, s->sig_alg_len, csr.key_der,
	    csr.key_len, it->req->subject_name, it->req->subject_serial, it->req->email, serial,
	    now, &tbs, &tbs_len, res->error) < 0)
		goto out;
	if (tbs_len + s->sig_alg_len + 4096 >= 0x10000) {	/* room for a signature */
		snprintf(res->error, sizeof res->error, "the certificate would be too long");
		goto out;
	}
	if (lint_der(s->profile, tbs, tbs_len, s->sig_alg, s->sig_alg_len, it->usage,
	    csr.key_der, csr.key_len, &subject, res->error) < 0) {
		log_err("request %s refused by the certificate lint: %s", it->req->request_id,
		    res->error);
		goto out;
	}
	if (issue_sign_tbs(s, tbs, tbs_len, &sig, &sig_len) < 0) {
		snprintf(res->error, sizeof res->error, "the CA key failed to sign");
		log_err("request %s: signing failed", it->req->request_id);
		goto out;
	}
	res->der = profile_cert(tbs, tbs_len, s->sig_alg, s->sig_alg_len, sig, sig_len, &res->der_len);
	res->not_after = now + (time_t)profile_validity_days(s->profile) * 86400;
	free(it->subject);
	it->subject = pem_name_text(subject);	/* for signer.db: RFC 2253, UTF-8 kept as is */
	if (!it->subject)
		it->subject = xstrdup("");
	it->signed_ok = 1;
out:
	ERR_clear_error();
	if (!it->signed_ok)
		res->serial[0] = '\0';
	X509_NAME_free(subject);
	ASN1_INTEGER_free(serial);
	free(tbs);
	free(sig);
	csr_clear(&csr);
}

static void issue_sign_fn(void *arg, size_t i)
{
	struct signer_job *j = arg;

	if (j->items[i].state == ITEM_FRESH)
		issue_sign_one(j->s, &j->items[i], j->now);
}

/* The row of a signed certificate, as signer.db stores it. */
static void issue_row(const struct issue_item *it, time_t now, struct store_cert *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->request_id, sizeof c->request_id, "%s", it->req->request_id);
	snprintf(c->serial, sizeof c->serial, "%s", it->res->serial);
	snprintf(c->usage, sizeof c->usage, "%s", profile_usage_name(it->usage));
	c->subject = it->subject;
	memcpy(c->csr_sha256, it->csr_sha, 32);
	memcpy(c->req_sha256, it->req_sha, 32);
	memcpy(c->spki_sha256, it->key_sha, 32);
	c->account = it->req->subject_serial;
	c->not_before = now;
	c->not_after = it->res->not_after;
	c->der = it->res->der;
	c->der_len = it->res->der_len;
}

/* Phase three: store one signed certificate. 0, 1 on a serial collision, -1 with error. */
static int issue_store_one(signer_t *s, struct issue_item *it, time_t now)
{
	struct store_cert c;
	int rc, sp;

	issue_row(it, now, &c);
	if (!it->key_ok) {
		snprintf(it->res->error, sizeof it->res->error, "cannot read the CSR's public key");
		return -1;
	}
	sp = store_sp_begin(s->store) == 0;
	rc = sp ? store_cert_insert(s->store, &c) : -1;
	if (rc == 2) {		/* the phase-one lookup makes this unreachable; the key stays once */
		snprintf(it->res->error, sizeof it->res->error, "this public key is already "
		    "certified: every certificate needs its own key pair");
		rc = -1;
	} else if (rc == 0 && store_journal(s->store, now, c.request_id, "issue", c.serial, -1,
	    c.usage) < 0)
		rc = -1;
	if (sp && store_sp_end(s->store, rc == 0) < 0)
		rc = -1;
	if (rc < 0 && !it->res->error[0])
		snprintf(it->res->error, sizeof it->res->error, "signer database error");
	return rc;
}

/* Why a key certified before (certificate SERIAL, for ACCOUNT and USAGE) is refused now. */
static void issue_key_taken(const struct issue_item *it, const char *serial, const char *account,
    const char *usage)
{
	const char *why;

	if (strcmp(account, it->req->subject_serial) != 0)
		why = "for another subscriber";
	else if (strcmp(usage, profile_usage_name(it->usage)) != 0)
		why = strcmp(usage, "signature") == 0 ? "for the signature usage" :
		    "for the encryption usage";
	else
		why = "for this subscriber and usage (a renewal or a new card needs new keys)";
	snprintf(it->res->error, sizeof it->res->error, "this public key is already certified %s: "
	    "certificate %s; every certificate needs its own key pair", why, serial);
}

/* The fresh item among the first N of ITEMS with the key KEY_SHA, or NULL. */
static const struct issue_item *issue_key_among(const struct issue_item *items, size_t n,
    const uint8_t key_sha[32])
{
	for (size_t j = 0; j < n; j++)
		if (items[j].state == ITEM_FRESH && items[j].key_ok &&
		    memcmp(items[j].key_sha, key_sha, 32) == 0)
			return &items[j];
	return NULL;
}

/* The fresh item among the first N of ITEMS with REQUEST_ID, or NULL. */
static const struct issue_item *issue_id_among(const struct issue_item *items, size_t n,
    const char *request_id)
{
	for (size_t j = 0; j < n; j++)
		if (items[j].state == ITEM_FRESH && strcmp(items[j].req->request_id, request_id) == 0)
			return &items[j];
	return NULL;
}

/*
 * A new request's key: refuse it (0 is never returned then) when signer.db, an earlier
 * job on its way or an earlier item of this job already has it. A CSR whose key cannot
 * even be read goes on to be refused, with its reason, by csr_parse. 0 fresh, -1 refused.
 */
static int issue_key_fresh(signer_t *s, struct issue_item *items, size_t i)
{
	struct issue_item *it = &items[i];
	const struct issue_item *other;
	struct store_key_use u;
	int found;

	if (csr_key_sha256(it->req->csr_der, it->req->csr_len, it->key_sha) < 0)
		return 0;
	it->key_ok = 1;
	if ((other = issue_key_among(items, i, it->key_sha))) {
		issue_key_taken(it, "(being issued in the same batch)", other->req->subject_serial,
		    profile_usage_name(other->usage));
		return -1;
	}
	for (const struct signer_job *j = s->jobs; j; j = j->next) {
		if ((other = issue_key_among(j->items, j->n, it->key_sha))) {
			issue_key_taken(it, "(being issued in an earlier batch)",
			    other->req->subject_serial, profile_usage_name(other->usage));
			return -1;
		}
	}
	found = store_key_find(s->store, it->key_sha, &u);
	if (found < 0) {
		snprintf(it->res->error, sizeof it->res->error, "signer database error");
		return -1;
	}
	if (found) {
		issue_key_taken(it, u.serial, u.account, u.usage);
		return -1;
	}
	return 0;
}

/*
 * Look a request up in signer.db (on the main thread): answer it with the certificate
 * already issued for its id, or refuse it if the id was used for another request. When
 * there is none: with LATE (an item whose earlier job is stored by now) refuse it, as that
 * job failed to issue it; else mark it fresh if its key is too.
 */
static void issue_lookup(signer_t *s, struct issue_item *items, size_t i, int late)
{
	struct issue_item *it = &items[i];
	struct sign_result *res = it->res;
	struct store_cert prev;
	int found;

	it->state = ITEM_ANSWERED;
	found = store_cert_by_request(s->store, it->req->request_id, &prev, 1);
	if (found < 0) {
		snprintf(res->error, sizeof res->error, "signer database error");
		return;
	}
	if (!found && late) {
		snprintf(res->error, sizeof res->error, "request id %s was being issued in an "
		    "earlier batch, which failed: ask again", it->req->request_id);
		return;
	}
	if (!found) {
		if (issue_key_fresh(s, items, i) == 0)
			it->state = ITEM_FRESH;
		return;
	}
	if (issue_same(prev.usage, prev.csr_sha256, prev.req_sha256, it, res->error) == 0) {
		res->der = prev.der;
		res->der_len = prev.der_len;
		prev.der = NULL;
		snprintf(res->serial, sizeof res->serial, "%s", prev.serial);
		res->not_after = (time_t)prev.not_after;
		res->repeated = 1;
	}
	free(prev.der);
}

/*
 * Phase one for one item, on the main thread: refuse it, answer it from signer.db, mark it
 * as a repeat of an earlier item of this job or of an earlier job on its way, or mark it
 * fresh (to be signed).
 */
static void issue_prepare(signer_t *s, struct issue_item *items, size_t i)
{
	struct issue_item *it = &items[i];
	struct sign_result *res = it->res;
	const struct issue_item *other;

	it->state = ITEM_ANSWERED;
	if (issue_check_request(it->req, &it->usage, res->error) < 0)
		return;
	if (issue_digests(it->req, it->csr_sha, it->req_sha) < 0) {
		snprintf(res->error, sizeof res->error, "cannot hash the request");
		return;
	}
	if ((other = issue_id_among(items, i, it->req->request_id))) {
		if (issue_same(other->req->usage, other->csr_sha, other->req_sha, it,
		    res->error) == 0) {
			it->state = ITEM_REPEAT;
			it->first = (size_t)(other - items);
		}
		return;
	}
	for (const struct signer_job *j = s->jobs; j; j = j->next) {
		if ((other = issue_id_among(j->items, j->n, it->req->request_id))) {
			if (issue_same(other->req->usage, other->csr_sha, other->req_sha, it,
			    res->error) == 0)
				it->state = ITEM_LATER;
			return;
		}
	}
	issue_lookup(s, items, i, 0);
}

/*
 * Phase three for the whole job at once: every signed certificate with its key and
 * journal rows in a few multi-row statements, all or none. When anything conflicts (a
 * serial drawn twice) or fails, nothing of it stays and each item goes the one-by-one way
 * (issue_finish), which finds which and deals with it.
 */
static void issue_store_fast(signer_t *s, signer_job_t *j)
{
	struct store_cert *rows = xcalloc(j->n ? j->n : 1, sizeof *rows);
	size_t n = 0;

	for (size_t i = 0; i < j->n; i++) {
		struct issue_item *it = &j->items[i];
		if (it->state == ITEM_FRESH && it->signed_ok && it->key_ok)
			issue_row(it, j->now, &rows[n++]);
	}
	if (n > 1 && store_issue_rows(s->store, rows, n, j->now) == 0) {
		for (size_t i = 0; i < j->n; i++) {
			struct issue_item *it = &j->items[i];
			if (it->state == ITEM_FRESH && it->signed_ok && it->key_ok) {
				it->stored = 1;
				issued_note(s, it->res->serial);
			}
		}
	}
	free(rows);
}

/* Phase three for one item, with the serial-collision retry. */
static void issue_finish(signer_t *s, struct issue_item *it, time_t now)
{
	int rc = -1;

	for (int tries = 0; it->signed_ok && tries < ISSUE_SERIAL_TRIES; tries++) {
		rc = issue_store_one(s, it, now);
		if (rc != 1)
			break;
		log_warn("serial collision for request %s; drawing another", it->req->request_id);
		free(it->res->der);
		it->res->der = NULL;
		it->signed_ok = 0;
		issue_sign_one(s, it, now);
		rc = -1;
	}
	if (rc == 1 || (rc < 0 && it->signed_ok && !it->res->error[0]))
		snprintf(it->res->error, sizeof it->res->error, "no free serial number after %d "
		    "tries", ISSUE_SERIAL_TRIES);
	if (rc == 0)
		issued_note(s, it->res->serial);
	if (rc != 0) {
		free(it->res->der);
		it->res->der = NULL;
		it->res->der_len = 0;
		it->res->serial[0] = '\0';
		it->res->not_after = 0;
	}
}

static void issue_log(const struct issue_item *it)
{
	const struct sign_result *res = it->res;

	if (res->der)
		log_info("request %s: %s certificate %s%s", it->req->request_id, it->req->usage,
		    res->serial, res->repeated ? " (already issued)" : " issued");
	else
		log_info("request %s refused: %s", it->req->request_id ? it->req->request_id :
		    "(none)", res->error);
}

signer_job_t *signer_issue_start(signer_t *s, const struct sign_request *reqs,
    struct sign_result *res, size_t n)
{
	signer_job_t *j = xcalloc(1, sizeof *j);
	int rd;

	j->s = s;
	j->n = n;
	j->now = ra_now();
	j->items = xcalloc(n ? n : 1, sizeof *j->items);
	for (size_t i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof res[i]);
		j->items[i].req = &reqs[i];
		j->items[i].res = &res[i];
	}
	rd = store_read_begin(s->store);	/* the job's look-ups: one read transaction */
	for (size_t i = 0; i < n; i++)
		issue_prepare(s, j->items, i);
	store_read_end(s->store, rd);
	j->signing = pool_submit(s->pool, n, issue_sign_fn, j);
	if (s->jobs_tail)
		s->jobs_tail->next = j;
	else
		s->jobs = j;
	s->jobs_tail = j;
	return j;
}

int signer_issue_ready(signer_t *s, signer_job_t *j)
{
	return pool_job_done(s->pool, j->signing);
}

/* A repeat within the job gets a copy of its first item's answer. */
static void issue_copy_first(struct issue_item *it, const struct issue_item *first)
{
	if (!first->res->der) {
		snprintf(it->res->error, sizeof it->res->error, "%s", first->res->error);
		return;
	}
	it->res->der = xmalloc(first->res->der_len);
	memcpy(it->res->der, first->res->der, first->res->der_len);
	it->res->der_len = first->res->der_len;
	snprintf(it->res->serial, sizeof it->res->serial, "%s", first->res->serial);
	it->res->not_after = first->res->not_after;
	it->res->repeated = 1;
}

/* Take J, the oldest job, off the list of jobs on their way, once it is signed. */
static void issue_job_unlink(signer_t *s, signer_job_t *j)
{
	pool_job_wait(s->pool, &j->signing);
	s->jobs = j->next;
	if (!s->jobs)
		s->jobs_tail = NULL;
}

static void issue_job_free(signer_job_t *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->items[i].subject);
	free(j->items);
	free(j);
}

int signer_issue_finish(signer_t *s, signer_job_t **jp)
{
	signer_job_t *j = *jp;
	struct issue_item *items = j->items;
	size_t n = j->n;
	int own_tx = !s->in_batch, failed = 0;

	if (j != s->jobs)
		fatal("signer_issue_finish: jobs must finish in the order they started");
	issue_job_unlink(s, j);
	*jp = NULL;
	if (own_tx && store_begin(s->store) < 0) {
		for (size_t i = 0; i < n; i++) {
			signer_result_clear(items[i].res);
			snprintf(items[i].res->error, sizeof items[i].res->error,
			    "signer database error");
		}
		failed = 1;
		goto out;
	}
	issue_store_fast(s, j);
	for (size_t i = 0; i < n; i++)
		if (items[i].state == ITEM_FRESH && !items[i].stored)
			issue_finish(s, &items[i], j->now);
	for (size_t i = 0; i < n; i++) {
		if (items[i].state == ITEM_REPEAT)
			issue_copy_first(&items[i], &items[items[i].first]);
		else if (items[i].state == ITEM_LATER)
			issue_lookup(s, items, i, 1);
	}
	if (own_tx && store_commit(s->store) < 0) {
		store_rollback(s->store);
		for (size_t i = 0; i < n; i++) {
			signer_result_clear(items[i].res);
			snprintf(items[i].res->error, sizeof items[i].res->error,
			    "signer database error");
		}
		failed = 1;
	}
	if (own_tx)
		issued_flush(s, !failed);
out:
	for (size_t i = 0; i < n && !failed; i++)
		issue_log(&items[i]);
	issue_job_free(j);
	return failed ? -1 : 0;
}

int signer_issue_many(signer_t *s, const struct sign_request *reqs, struct sign_result *res,
    size_t n)
{
	signer_job_t *j = signer_issue_start(s, reqs, res, n);

	return signer_issue_finish(s, &j);
}

int signer_issue(signer_t *s, const struct sign_request *req, struct sign_result *res)
{
	if (signer_issue_many(s, req, res, 1) < 0 || !res->der)
		return -1;
	return 0;
}
