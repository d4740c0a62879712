/*
 * responder.c: OCSP answers from the signer's published status (see responder.h).
 *
 * The kept answers live in an open-addressing table keyed by the CertID's hash algorithm
 * and the serial; nothing is ever removed one by one: a full table is emptied and fills
 * again. An answer is reused only for a request of exactly one certificate without a
 * nonce to echo, whose CertID names this CA with that hash algorithm, so the bytes served
 * are the bytes a fresh signature would cover but for producedAt.
 *
 * A second table maps the exact bytes of such a request to its kept answer, so that a
 * request asked again (relying parties ask the same few bytes over and over) is answered
 * without being decoded: the same bytes decode to the same CertID, so the mapping can
 * never be wrong, and the answer is served only while the status knowledge it was checked
 * against has not changed (ocsp_status_generation) and it is as fresh as above.
 *
 * A request about a certificate of another CA is answered "unauthorized" (RFC 6960 2.3,
 * RFC 5019 2.2.3: the responder has no authoritative record of it), unsigned.
 */
#include "responder.h"
#include "log.h"
#include "status.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIAL_MAX 20
#define NONCE_MIN 16	/* RFC 8954 2.1: echo 16..32 octets */
#define NONCE_MAX 32
#define BYREQ_MAX_LEN 128	/* longest request kept by its bytes (one CertID, no nonce: ~85) */
#define BYREQ_MAX 32768		/* requests kept by their bytes; a full table is emptied */

/* A kept answer. len 0: empty slot. */
struct kept {
	uint8_t len, hash;		/* serial length; 0 SHA-1, 1 SHA-256 CertID */
	uint8_t sn[SERIAL_MAX];
	int status, reason;
	time_t revoked_at, next_update, signed_at;
	unsigned long gen;		/* the status generation it was last checked against */
	uint8_t *der;
	size_t der_len;
	void *handle;			/* what the wrapper made of it (owns der), or NULL */
};

/* A request's exact bytes and the kept answer they ask for. len 0: empty slot. */
struct byreq {
	uint8_t len, hash, sn_len;
	uint8_t sn[SERIAL_MAX];
	uint8_t b[BYREQ_MAX_LEN];
};

struct ocsp_responder {
	X509 *ca, *cert;
	EVP_PKEY *key;
	ocsp_status_t *status;
	OCSP_CERTID *ours[2];		/* this CA's CertID for SHA-1 and SHA-256 (serial 1) */
	const EVP_MD *mds[2];
	struct kept *kept;
	size_t cap, count, cursor;
	size_t issued_cursor;		/* where pre-signing walks the issued list */
	unsigned long walked_gen;	/* the status generation of the last whole walk */
	time_t walk_due;		/* when a kept answer then walked comes to half its life */
	size_t max;
	long refresh;
	struct byreq *byreq;
	size_t byreq_cap, byreq_count;
	ocsp_wrap_fn wrap;
	ocsp_unwrap_fn unwrap;
	void *wrap_arg;
};

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!x)
		log_err("cannot read the certificate %s", path);
	return x;
}

static EVP_PKEY *load_key(const char *path, const char *passfile)
{
	char *pass = file_read(passfile, NULL);
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = NULL;

	if (pass)
		pass[strcspn(pass, "\n")] = '\0';
	if (f)
		k = PEM_read_PrivateKey(f, NULL, NULL, pass ? pass : (char *)"");
	if (f)
		fclose(f);
	if (pass) {
		OPENSSL_cleanse(pass, strlen(pass));
		free(pass);
	}
	if (!k)
		log_err("cannot read the OCSP key %s (or its passphrase)", path);
	return k;
}

ocsp_responder_t *ocsp_responder_new(const config_t *cfg)
{
	ocsp_responder_t *r = xcalloc(1, sizeof *r);
	char *ca = config_path(cfg, "signer.cert"), *cert = config_path(cfg, "ocsp.cert");
	char *key = config_path(cfg, "ocsp.key"), *pass = config_path(cfg, "ocsp.key_passphrase_file");
	char *dir = config_path(cfg, "signer.crl_dir");

	r->max = (size_t)config_int(cfg, "ocsp.cache_entries");
	r->refresh = (long)config_int(cfg, "ocsp.refresh_seconds");
	r->ca = load_cert(ca);
	r->cert = load_cert(cert);
	r->key = load_key(key, pass);
	if (r->cert && r->key && !X509_check_private_key(r->cert, r->key)) {
		log_err("%s does not belong to the key %s", cert, key);
		EVP_PKEY_free(r->key);
		r->key = NULL;
	}
	if (r->ca && r->cert && X509_check_issued(r->ca, r->cert) != X509_V_OK) {
		log_err("%s was not issued by the CA %s: relying parties would refuse its answers", cert, ca);
		X509_free(r->cert);
		r->cert = NULL;
	}
	if (r->ca) {
		r->mds[0] = EVP_sha1();
		r->mds[1] = EVP_sha256();
		r->ours[0] = OCSP_cert_to_id(r->mds[0], NULL, r->ca);
		r->ours[1] = OCSP_cert_to_id(r->mds[1], NULL, r->ca);
		r->status = ocsp_status_new(dir, r->ca);
	}
	free(ca); free(cert); free(key); free(pass); free(dir);
	if (!r->ca || !r->cert || !r->key || !r->ours[0] || !r->ours[1])
		ocsp_responder_destroy(&r);
	return r;
}

/* Let K's signed bytes go (to the wrapper when it holds them). */
static void kept_release(ocsp_responder_t *r, struct kept *k)
{
	if (k->handle)
		r->unwrap(r->wrap_arg, k->handle);
	else
		free(k->der);
	k->handle = NULL;
	k->der = NULL;
	k->der_len = 0;
}

static void kept_clear(ocsp_responder_t *r)
{
	for (size_t i = 0; i < r->cap; i++)
		kept_release(r, &r->kept[i]);
	free(r->kept);
	r->kept = NULL;
	r->cap = r->count = r->cursor = 0;
	free(r->byreq);
	r->byreq = NULL;
	r->byreq_cap = r->byreq_count = 0;
}

void ocsp_responder_set_wrap(ocsp_responder_t *r, ocsp_wrap_fn wrap, ocsp_unwrap_fn unwrap, void *arg)
{
	kept_clear(r);
	r->wrap = wrap;
	r->unwrap = unwrap;
	r->wrap_arg = arg;
}

void ocsp_responder_destroy(ocsp_responder_t **pr)
{
	ocsp_responder_t *r = pr ? *pr : NULL;
	if (!r)
		return;
	kept_clear(r);
	ocsp_status_destroy(&r->status);
	OCSP_CERTID_free(r->ours[0]);
	OCSP_CERTID_free(r->ours[1]);
	X509_free(r->ca);
	X509_free(r->cert);
	EVP_PKEY_free(r->key);
	free(r);
	*pr = NULL;
}

static uint8_t *response_der(OCSP_RESPONSE *resp, size_t *outlen)
{
	unsigned char *der = NULL;
	int n = i2d_OCSP_RESPONSE(resp, &der);
	uint8_t *out;

	if (n <= 0)
		fatal("cannot encode an OCSP response");
	out = xmalloc((size_t)n);
	memcpy(out, der, (size_t)n);
	OPENSSL_free(der);
	*outlen = (size_t)n;
	return out;
}

static uint8_t *status_only(int status, size_t *outlen)
{
	OCSP_RESPONSE *resp = OCSP_response_create(status, NULL);
	uint8_t *out = response_der(resp, outlen);
	OCSP_RESPONSE_free(resp);
	return out;
}

/* The serial's magnitude bytes, as ca-signer writes them (no leading zero octets). */
static int serial_bytes(const ASN1_INTEGER *serial, uint8_t sn[SERIAL_MAX], size_t *len)
{
	const unsigned char *d = ASN1_STRING_get0_data(serial);
	int n = ASN1_STRING_length(serial);

	if (ASN1_STRING_type(serial) != V_ASN1_INTEGER)
		return -1;
	while (n > 1 && d[0] == 0) {
		d++;
		n--;
	}
	if (n <= 0 || n > SERIAL_MAX)
		return -1;
	memcpy(sn, d, (size_t)n);
	*len = (size_t)n;
	return 0;
}

/* Whether CID names this CA as issuer: 0 with SHA-1 hashes, 1 with SHA-256 (the two
 * whose answers are kept), 2 with another hash algorithm we know, -1 not this CA (or a
 * hash algorithm we cannot compute, so cannot tell). */
static int ours(ocsp_responder_t *r, OCSP_CERTID *cid)
{
	ASN1_OBJECT *alg = NULL;
	const EVP_MD *md;
	OCSP_CERTID *id;
	int match;

	for (int i = 0; i < 2; i++)
		if (OCSP_id_issuer_cmp(r->ours[i], cid) == 0)
			return i;
	if (!OCSP_id_get0_info(NULL, &alg, NULL, NULL, cid) || !(md = EVP_get_digestbyobj(alg)) ||
	    !(id = OCSP_cert_to_id(md, NULL, r->ca)))
		return -1;
	match = OCSP_id_issuer_cmp(id, cid) == 0;
	OCSP_CERTID_free(id);
	return match ? 2 : -1;
}

/* Add the status of one requested certificate to BS; *A gets the answer. 0/-1. */
static int answer_one(ocsp_responder_t *r, OCSP_BASICRESP *bs, OCSP_CERTID *cid,
    struct ocsp_status_answer *a)
{
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *rev = NULL, *tu = NULL, *nu = NULL;
	uint8_t sn[SERIAL_MAX];
	size_t len;
	int rc = -1;

	if (!OCSP_id_get0_info(NULL, NULL, NULL, &serial, cid))
		return -1;
	memset(a, 0, sizeof *a);
	a->status = V_OCSP_CERTSTATUS_UNKNOWN;
	if (ours(r, cid) >= 0 && serial_bytes(serial, sn, &len) == 0 &&
	    ocsp_status_lookup(r->status, sn, len, a) < 0)
		return -1;
	if (!a->this_update)	/* no CRL answer: the times of what we know */
		ocsp_status_times(r->status, &a->this_update, &a->next_update);
	tu = ASN1_TIME_set(NULL, a->this_update);
	nu = ASN1_TIME_set(NULL, a->next_update);
	if (a->status == V_OCSP_CERTSTATUS_REVOKED)
		rev = ASN1_GENERALIZEDTIME_set(NULL, a->revoked_at);
	if (tu && nu && OCSP_basic_add1_status(bs, cid, a->status,
	    a->status == V_OCSP_CERTSTATUS_REVOKED ? a->reason : -1, rev, tu, nu))
		rc = 0;
	ASN1_TIME_free(rev);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	return rc;
}

/* The nonce extension's value length (the inner OCTET STRING), or -1 when absent. */
static int nonce_len(OCSP_REQUEST *req)
{
	int idx = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1);
	ASN1_OCTET_STRING *v;
	const unsigned char *p;
	ASN1_OCTET_STRING *inner;
	int n;

	if (idx < 0)
		return -1;
	v = X509_EXTENSION_get_data(OCSP_REQUEST_get_ext(req, idx));
	p = ASN1_STRING_get0_data(v);
	inner = d2i_ASN1_OCTET_STRING(NULL, &p, ASN1_STRING_length(v));
	n = inner ? ASN1_STRING_length(inner) : ASN1_STRING_length(v);
	ASN1_OCTET_STRING_free(inner);
	ERR_clear_error();
	return n;
}

/* Sign BS into a successful response (echoing REQ's nonce when ECHO). NULL on failure. */
static uint8_t *sign_response(ocsp_responder_t *r, OCSP_BASICRESP *bs, OCSP_REQUEST *req,
    int echo, size_t *outlen)
{
	OCSP_RESPONSE *resp;
	uint8_t *out;

	if (echo && OCSP_copy_nonce(bs, req) <= 0)
		return NULL;
	if (!OCSP_basic_sign(bs, r->cert, r->key, EVP_sha256(), NULL, 0)) {
		log_err("cannot sign an OCSP response");
		ERR_clear_error();
		return NULL;
	}
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	out = response_der(resp, outlen);
	OCSP_RESPONSE_free(resp);
	return out;
}

static struct kept *kept_find(ocsp_responder_t *r, int hash, const uint8_t *sn, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)hash;
	size_t i;

	for (size_t k = 0; k < len; k++)
		h = (h ^ sn[k]) * 1099511628211ULL;
	i = (size_t)h & (r->cap - 1);
	while (r->kept[i].len && (r->kept[i].hash != hash || r->kept[i].len != len ||
	    memcmp(r->kept[i].sn, sn, len) != 0))
		i = (i + 1) & (r->cap - 1);
	return &r->kept[i];
}

static int kept_fresh(const ocsp_responder_t *r, const struct kept *k,
    const struct ocsp_status_answer *a, time_t now)
{
	return k->der && k->status == a->status && k->reason == a->reason &&
	    k->revoked_at == a->revoked_at && now < k->next_update &&
	    now - k->signed_at < r->refresh;
}

/* Sign the answer for one (hash, serial) into K. 0/-1. */
static int kept_sign(ocsp_responder_t *r, struct kept *k)
{
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	OCSP_CERTID *cid = NULL;
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	struct ocsp_status_answer got;
	uint8_t *der = NULL;
	size_t len = 0;

	if (serial && ASN1_STRING_set(serial, k->sn, k->len) &&
	    (cid = OCSP_cert_id_new(r->mds[k->hash], X509_get_subject_name(r->ca),
	    X509_get0_pubkey_bitstr(r->ca), serial)) && bs &&
	    answer_one(r, bs, cid, &got) == 0)
		der = sign_response(r, bs, NULL, 0, &len);
	ASN1_INTEGER_free(serial);
	OCSP_CERTID_free(cid);
	OCSP_BASICRESP_free(bs);
	if (!der)
		return -1;
	kept_release(r, k);
	k->der = der;
	k->der_len = len;
	k->status = got.status;
	k->reason = got.reason;
	k->revoked_at = got.revoked_at;
	k->next_update = got.next_update;
	k->signed_at = ra_now();
	k->gen = ocsp_status_generation(r->status);
	if (r->wrap) {
		struct ocsp_kept_info info = { .status = k->status, .produced_at = k->signed_at,
		    .next_update = k->next_update, .served_until = k->signed_at + r->refresh };
		k->handle = r->wrap(r->wrap_arg, der, len, &info);
	}
	return 0;
}

/* The slot for (HASH, serial), made if there is room; NULL when the table is full. */
static struct kept *kept_slot(ocsp_responder_t *r, int hash, const uint8_t *sn, size_t len)
{
	struct kept *k;

	if ((r->count + 1) * 2 > r->cap) {
		struct kept *old = r->kept;
		size_t ocap = r->cap;
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->kept = xcalloc(r->cap, sizeof *r->kept);
		for (size_t i = 0; i < ocap; i++)
			if (old[i].len)
				*kept_find(r, old[i].hash, old[i].sn, old[i].len) = old[i];
		free(old);
		r->cursor = 0;
	}
	k = kept_find(r, hash, sn, len);
	if (!k->len) {
		if (r->count >= r->max)
			return NULL;
		k->len = (uint8_t)len;
		k->hash = (uint8_t)hash;
		memcpy(k->sn, sn, len);
		r->count++;
	}
	return k;
}

/* The kept answer for one certificate, signed now if needed; NULL when not keepable. */
static const struct kept *kept_answer(ocsp_responder_t *r, OCSP_CERTID *cid)
{
	ASN1_INTEGER *serial = NULL;
	struct ocsp_status_answer a;
	uint8_t sn[SERIAL_MAX];
	size_t len;
	struct kept *k;
	int hash;

	if (r->max == 0 || !OCSP_id_get0_info(NULL, NULL, NULL, &serial, cid) ||
	    (hash = ours(r, cid)) < 0 || serial_bytes(serial, sn, &len) < 0 ||
	    ocsp_status_lookup(r->status, sn, len, &a) < 0 || !(k = kept_slot(r, hash, sn, len)))
		return NULL;
	if (kept_fresh(r, k, &a, ra_now())) {
		k->gen = ocsp_status_generation(r->status);
		return k;
	}
	return kept_sign(r, k) == 0 ? k : NULL;
}

static size_t byreq_hash(const uint8_t *b, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

/* The slot of the request bytes B[0..LEN) (an empty one when they are not kept). */
static struct byreq *byreq_find(ocsp_responder_t *r, const uint8_t *b, size_t len)
{
	size_t i = byreq_hash(b, len) & (r->byreq_cap - 1);

	while (r->byreq[i].len && (r->byreq[i].len != len || memcmp(r->byreq[i].b, b, len) != 0))
		i = (i + 1) & (r->byreq_cap - 1);
	return &r->byreq[i];
}

/* Remember that the request bytes B[0..LEN) ask for the kept answer K. */
static void byreq_put(ocsp_responder_t *r, const uint8_t *b, size_t len, const struct kept *k)
{
	struct byreq *e;

	if (len == 0 || len > BYREQ_MAX_LEN)
		return;
	if ((r->byreq_count + 1) * 2 > r->byreq_cap) {
		struct byreq *old = r->byreq;
		size_t ocap = r->byreq_cap;

		/* grows up to BYREQ_MAX entries, then starts again empty */
		r->byreq_cap = !ocap ? 256 : ocap >= 2 * BYREQ_MAX ? ocap : ocap * 2;
		r->byreq = xcalloc(r->byreq_cap, sizeof *r->byreq);
		r->byreq_count = 0;
		for (size_t i = 0; ocap < r->byreq_cap && i < ocap; i++)
			if (old[i].len) {
				*byreq_find(r, old[i].b, old[i].len) = old[i];
				r->byreq_count++;
			}
		free(old);
	}
	e = byreq_find(r, b, len);
	if (!e->len)
		r->byreq_count++;
	e->len = (uint8_t)len;
	e->hash = k->hash;
	e->sn_len = k->len;
	memcpy(e->sn, k->sn, k->len);
	memcpy(e->b, b, len);
}

/* The kept answer the request bytes were seen asking for, if it is still true. */
static struct kept *byreq_answer(ocsp_responder_t *r, const uint8_t *b, size_t len)
{
	struct byreq *e;
	struct kept *k;
	time_t now;

	if (!r->byreq || len == 0 || len > BYREQ_MAX_LEN || !(e = byreq_find(r, b, len))->len || !r->kept)
		return NULL;
	k = kept_find(r, e->hash, e->sn, e->sn_len);
	now = ra_now();
	if (!k->len || !k->der || k->gen != ocsp_status_generation(r->status) ||
	    now >= k->next_update || now - k->signed_at >= r->refresh)
		return NULL;
	return k;
}

/* Decode REQ; NULL (*bad set to the error status) when it is malformed or names a CA
 * other than this one. *echo: whether it carries a nonce to echo. */
static OCSP_REQUEST *request_decode(ocsp_responder_t *r, const uint8_t *der, size_t len,
    int *echo, int *bad)
{
	const unsigned char *p = der;
	OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	int n, nl;

	*bad = OCSP_RESPONSE_STATUS_MALFORMEDREQUEST;
	if (!req || p != der + len || (n = OCSP_request_onereq_count(req)) <= 0)
		goto bad;
	for (int i = 0; i < n; i++)
		if (ours(r, OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i))) < 0) {
			*bad = OCSP_RESPONSE_STATUS_UNAUTHORIZED;
			goto bad;
		}
	nl = nonce_len(req);
	*echo = nl >= NONCE_MIN && nl <= NONCE_MAX;
	return req;
bad:
	OCSP_REQUEST_free(req);
	return NULL;
}

uint8_t *ocsp_responder_answer(ocsp_responder_t *r, const uint8_t *req_der, size_t len,
    void **wrapped, size_t *outlen)
{
	OCSP_REQUEST *req = NULL;
	OCSP_BASICRESP *bs = NULL;
	struct kept *k;
	struct ocsp_status_answer a;
	uint8_t *out = NULL;
	int n, echo, bad, loaded = ocsp_status_refresh(r->status);

	if (wrapped)
		*wrapped = NULL;
	/* asked before, in these very bytes: no decoding */
	if (wrapped && r->wrap && loaded == 0 && (k = byreq_answer(r, req_der, len)) && k->handle) {
		*wrapped = k->handle;
		goto out;
	}
	if (!(req = request_decode(r, req_der, len, &echo, &bad))) {
		out = status_only(bad, outlen);
		goto out;
	}
	if (loaded < 0) {
		out = status_only(OCSP_RESPONSE_STATUS_TRYLATER, outlen);
		goto out;
	}
	n = OCSP_request_onereq_count(req);
	if (n == 1 && !echo &&
	    (k = (struct kept *)kept_answer(r, OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0))))) {
		if (wrapped && k->handle) {
			byreq_put(r, req_der, len, k);
			*wrapped = k->handle;
			goto out;
		}
		out = xmalloc(k->der_len);
		memcpy(out, k->der, k->der_len);
		*outlen = k->der_len;
		goto out;
	}
	bs = OCSP_BASICRESP_new();
	for (int i = 0; i < n; i++) {
		if (!bs || answer_one(r, bs, OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i)), &a) < 0) {
			out = status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, outlen);
			goto out;
		}
	}
	if (!(out = sign_response(r, bs, req, echo, outlen)))
		out = status_only(OCSP_RESPONSE_STATUS_INTERNALERROR, outlen);
out:
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	OCSP_REQUEST_free(req);
	return out;
}

int ocsp_responder_presign(ocsp_responder_t *r, int budget)
{
	time_t now = ra_now();
	uint8_t sn[SERIAL_MAX];
	size_t len;
	int done = 0;

	if (r->max == 0 || ocsp_status_refresh(r->status) < 0)
		return 0;
	/* First what was signed already: again if its status changed or it used half its life.
	 * A whole walk that found nothing more to do is not walked again until the status
	 * changes or the first answer comes to half its life: each look-up converts times, and
	 * glibc does that under one lock for all threads, so an idle thread's walks slowed the
	 * serving ones. */
	if (r->walked_gen != ocsp_status_generation(r->status) || now >= r->walk_due) {
		time_t due = now + r->refresh;
		size_t seen;

		for (seen = 0; seen < r->cap && done < budget; seen++) {
			struct kept *k = &r->kept[r->cursor];
			struct ocsp_status_answer a;

			r->cursor = (r->cursor + 1) & (r->cap - 1);
			if (!k->len || ocsp_status_lookup(r->status, k->sn, k->len, &a) < 0)
				continue;
			if (!kept_fresh(r, k, &a, now + r->refresh / 2) && kept_sign(r, k) == 0)
				done++;
			if (k->der && k->next_update - r->refresh / 2 < due)
				due = k->next_update - r->refresh / 2;
			if (k->der && k->signed_at + r->refresh / 2 < due)
				due = k->signed_at + r->refresh / 2;
		}
		if (seen == r->cap) {
			r->walked_gen = ocsp_status_generation(r->status);
			r->walk_due = due;
		}
	}
	/* Then every issued certificate not signed yet, with a SHA-1 CertID (what clients
	 * such as openssl ocsp send), until the table is full. */
	while (done < budget && r->count < r->max &&
	    ocsp_status_issued_next(r->status, &r->issued_cursor, sn, &len)) {
		struct kept *k = kept_slot(r, 0, sn, len);

		if (k && !k->der && kept_sign(r, k) == 0)
			done++;
	}
	return done;
}
