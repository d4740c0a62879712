/*
 * responder.c: OCSP answers from the signer's published status (see responder.h).
 *
 * The kept answers live in an open-addressing table keyed by the CertID's hash algorithm
 * and the serial; nothing is ever removed one by one: a full table is emptied and fills
 * again. An answer is reused only for a request of exactly one certificate without a
 * nonce to echo, whose CertID names this CA with that hash algorithm, so the bytes served
 * are the bytes a fresh signature would cover but for producedAt.
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

/* A kept answer. len 0: empty slot. */
struct kept {
	uint8_t len, hash;		/* serial length; 0 SHA-1, 1 SHA-256 CertID */
	uint8_t sn[SERIAL_MAX];
	int status, reason;
	time_t revoked_at, next_update, signed_at;
	uint8_t *der;
	size_t der_len;
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
	size_t max;
	long refresh;
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

static void kept_clear(ocsp_responder_t *r)
{
	for (size_t i = 0; i < r->cap; i++)
		free(r->kept[i].der);
	free(r->kept);
	r->kept = NULL;
	r->cap = r->count = r->cursor = 0;
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

/* Which of our CertIDs CID's issuer matches: 0 SHA-1, 1 SHA-256, -1 neither. */
static int ours(ocsp_responder_t *r, OCSP_CERTID *cid)
{
	for (int i = 0; i < 2; i++)
		if (OCSP_id_issuer_cmp(r->ours[i], cid) == 0)
			return i;
	return -1;
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
	if (!a->this_update)	/* another issuer: the times of what we know */
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
	free(k->der);
	k->der = der;
	k->der_len = len;
	k->status = got.status;
	k->reason = got.reason;
	k->revoked_at = got.revoked_at;
	k->next_update = got.next_update;
	k->signed_at = ra_now();
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
	if (kept_fresh(r, k, &a, ra_now()))
		return k;
	return kept_sign(r, k) == 0 ? k : NULL;
}

uint8_t *ocsp_responder_answer(ocsp_responder_t *r, const uint8_t *req_der, size_t len, size_t *outlen)
{
	const unsigned char *p = req_der;
	OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	OCSP_BASICRESP *bs = NULL;
	const struct kept *k;
	struct ocsp_status_answer a;
	uint8_t *out = NULL;
	int n, nl, echo;

	if (!req || p != req_der + len || (n = OCSP_request_onereq_count(req)) <= 0) {
		out = status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, outlen);
		goto out;
	}
	if (ocsp_status_refresh(r->status) < 0) {
		out = status_only(OCSP_RESPONSE_STATUS_TRYLATER, outlen);
		goto out;
	}
	nl = nonce_len(req);
	echo = nl >= NONCE_MIN && nl <= NONCE_MAX;
	if (n == 1 && !echo &&
	    (k = kept_answer(r, OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0))))) {
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
	/* First what was signed already: again if its status changed or it used half its life. */
	for (size_t seen = 0; seen < r->cap && done < budget; seen++) {
		struct kept *k = &r->kept[r->cursor];
		struct ocsp_status_answer a;

		r->cursor = (r->cursor + 1) & (r->cap - 1);
		if (!k->len || ocsp_status_lookup(r->status, k->sn, k->len, &a) < 0)
			continue;
		if (kept_fresh(r, k, &a, now + r->refresh / 2))
			continue;
		if (kept_sign(r, k) == 0)
			done++;
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
