/*
 * responder.c: OCSP answers from the published CRL (see responder.h).
 */
#include "responder.h"
#include "log.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ocsp_responder {
	X509 *ca, *cert;
	EVP_PKEY *key;
	char *crl_path;
	X509_CRL *crl;
	struct stat crl_st;	/* of the file the CRL was read from: reload when it changes */
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

	r->crl_path = xasprintf("%s/ra.crl", dir);
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
	free(ca); free(cert); free(key); free(pass); free(dir);
	if (!r->ca || !r->cert || !r->key)
		ocsp_responder_destroy(&r);
	return r;
}

void ocsp_responder_destroy(ocsp_responder_t **pr)
{
	ocsp_responder_t *r = pr ? *pr : NULL;
	if (!r)
		return;
	X509_free(r->ca);
	X509_free(r->cert);
	EVP_PKEY_free(r->key);
	X509_CRL_free(r->crl);
	free(r->crl_path);
	free(r);
	*pr = NULL;
}

/* The current CRL, read again if the file changed; NULL if there is none we can trust. */
static X509_CRL *current_crl(ocsp_responder_t *r)
{
	struct stat st;
	const unsigned char *p;
	X509_CRL *crl;
	EVP_PKEY *capub;
	size_t len;
	char *der;

	if (stat(r->crl_path, &st) < 0)
		return r->crl;
	if (r->crl && st.st_ino == r->crl_st.st_ino && st.st_size == r->crl_st.st_size &&
	    st.st_mtim.tv_sec == r->crl_st.st_mtim.tv_sec && st.st_mtim.tv_nsec == r->crl_st.st_mtim.tv_nsec)
		return r->crl;
	if (!(der = file_read(r->crl_path, &len)))
		return r->crl;
	p = (const unsigned char *)der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	free(der);
	capub = X509_get0_pubkey(r->ca);
	/* Published atomically by the signer, so a CRL that does not verify is not half-written:
	 * it is not ours, and the last good one stays. */
	if (!crl || X509_CRL_verify(crl, capub) != 1 ||
	    X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(r->ca)) != 0) {
		log_err("%s is not a CRL signed by this CA; keeping the previous one", r->crl_path);
		X509_CRL_free(crl);
		return r->crl;
	}
	X509_CRL_free(r->crl);
	r->crl = crl;
	r->crl_st = st;
	log_info("CRL loaded: %d entries", sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)));
	return r->crl;
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

/* Add the status of one requested certificate to BS. 0/-1. */
static int answer_one(ocsp_responder_t *r, X509_CRL *crl, OCSP_BASICRESP *bs, OCSP_CERTID *cid)
{
	ASN1_OBJECT *md_oid = NULL;
	ASN1_INTEGER *serial = NULL;
	const EVP_MD *md;
	OCSP_CERTID *ours = NULL;
	X509_REVOKED *rev = NULL;
	const ASN1_TIME *this_upd = X509_CRL_get0_lastUpdate(crl), *next_upd = X509_CRL_get0_nextUpdate(crl);
	int status = V_OCSP_CERTSTATUS_UNKNOWN, reason = -1, rc = -1;
	const ASN1_TIME *revtime = NULL;

	if (!OCSP_id_get0_info(NULL, &md_oid, NULL, &serial, cid) || !(md = EVP_get_digestbyobj(md_oid)))
		return -1;
	/* The issuer hashes with the request's own algorithm, so SHA-1 and SHA-256 ids both match. */
	if ((ours = OCSP_cert_to_id(md, NULL, r->ca)) != NULL && OCSP_id_issuer_cmp(ours, cid) == 0) {
		if (X509_CRL_get0_by_serial(crl, &rev, serial) == 1) {
			ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
			status = V_OCSP_CERTSTATUS_REVOKED;
			revtime = X509_REVOKED_get0_revocationDate(rev);
			reason = e ? (int)ASN1_ENUMERATED_get(e) : OCSP_REVOKED_STATUS_UNSPECIFIED;
			ASN1_ENUMERATED_free(e);
		} else {
			status = V_OCSP_CERTSTATUS_GOOD;
		}
	}
	if (OCSP_basic_add1_status(bs, cid, status, reason, (ASN1_TIME *)revtime, (ASN1_TIME *)this_upd,
	    (ASN1_TIME *)next_upd))
		rc = 0;
	OCSP_CERTID_free(ours);
	return rc;
}

uint8_t *ocsp_responder_answer(ocsp_responder_t *r, const uint8_t *req_der, size_t len, size_t *outlen)
{
	const unsigned char *p = req_der;
	OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	X509_CRL *crl;
	uint8_t *out = NULL;
	int n;

	if (!req || p != req_der + len || (n = OCSP_request_onereq_count(req)) <= 0) {
		out = status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, outlen);
		goto out;
	}
	if (!(crl = current_crl(r))) {
		out = status_only(OCSP_RESPONSE_STATUS_TRYLATER, outlen);
		goto out;
	}
	bs = OCSP_BASICRESP_new();
	for (int i = 0; i < n; i++) {
		if (answer_one(r, crl, bs, OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i))) < 0) {
			out = status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, outlen);
			goto out;
		}
	}
	OCSP_copy_nonce(bs, req);
	if (!OCSP_basic_sign(bs, r->cert, r->key, EVP_sha256(), NULL, 0)) {
		log_err("cannot sign an OCSP response");
		out = status_only(OCSP_RESPONSE_STATUS_INTERNALERROR, outlen);
		goto out;
	}
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	out = response_der(resp, outlen);
out:
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_REQUEST_free(req);
	return out;
}
