/*
 * signer.c: start-up and shut-down of the signer (see signer.h): the CA certificate, the
 * key, the profile and signer.db are each loaded once here and reused for every request.
 * Every start-up problem is logged before giving up, so that an operator fixes them all
 * in one go.
 */
#include "signer_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "util.h"

static X509 *signer_load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f) {
		log_err("cannot open the CA certificate %s", path);
		return NULL;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x) {
		log_err("%s is not a PEM certificate", path);
		ERR_clear_error();
		return NULL;
	}
	if (X509_check_ca(x) < 1) {
		log_err("%s is not a CA certificate (basicConstraints CA:TRUE is missing)", path);
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The database folder must exist; the signer creates it (private) if needed. */
static store_t *signer_open_store(const config_t *cfg)
{
	char *path = config_path(cfg, "signer.db");
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	store_t *st = NULL;

	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700) < 0) {
			log_err("cannot create %s", dir);
			goto out;
		}
	}
	st = store_open(path);
out:
	free(dir);
	free(path);
	return st;
}

/* A stored certificate's key digest (SHA-256 of its SubjectPublicKeyInfo, the same bytes
 * csr_key_sha256 digests) and its subscriber's account (the serialNumber attribute). */
static int signer_key_of_cert(const uint8_t *der, size_t len, uint8_t sha[32], char account[64])
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	unsigned char *spki = NULL;
	int n = x ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki) : -1;
	int rc = -1;

	account[0] = '\0';
	if (n > 0 && EVP_Digest(spki, (size_t)n, sha, NULL, EVP_sha256(), NULL) == 1 &&
	    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_serialNumber, account, 64) > 0)
		rc = 0;
	OPENSSL_free(spki);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/*
 * Signing threads: one per online core, at most 8. The caller's thread does not sign: it
 * stores, commits and answers one batch while these sign the next, and its share of a
 * core is whatever that work takes. One core, or a token key, signs on the caller's
 * thread: a PKCS#11 session serialises operations anyway.
 */
static int signer_threads(const cakey_t *key)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cakey_is_token(key) || cpus <= 1)
		return 0;
	return cpus > 8 ? 8 : (int)cpus;
}

/*
 * The signature AlgorithmIdentifier the CA key signs certificates with, as its provider
 * states it (as X509_sign would write it), or, for a key behind an engine (PKCS#11), the
 * usual one for its type and the digest (as crl.c does for CRLs). And how to sign: an RSA
 * key in memory signs with RSA_sign directly (PKCS#1 v1.5 is deterministic: the same
 * bytes as through EVP, without handing the key to a provider for every certificate);
 * any other key through EVP_DigestSign.
 */
static int signer_sig_init(signer_t *s)
{
	unsigned char aid[256];
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, aid, sizeof aid),
		OSSL_PARAM_END
	};
	EVP_PKEY *pkey = cakey_pkey(s->key);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	X509_ALGOR *alg = NULL;
	unsigned char *der = NULL;
	int signid, n = -1;

	free(s->sig_alg);
	s->sig_alg = NULL;
	if (!ctx || EVP_DigestSignInit(ctx, &pctx, s->md, NULL, pkey) <= 0)
		goto out;
	if (EVP_PKEY_CTX_get_params(pctx, params) > 0 && OSSL_PARAM_modified(&params[0]) &&
	    params[0].return_size > 0 && params[0].return_size <= sizeof aid) {
		s->sig_alg = xmalloc(params[0].return_size);
		memcpy(s->sig_alg, aid, params[0].return_size);
		s->sig_alg_len = params[0].return_size;
		n = (int)s->sig_alg_len;
		goto out;
	}
	ERR_clear_error();
	if (!OBJ_find_sigid_by_algs(&signid, EVP_MD_get_type(s->md), EVP_PKEY_get_base_id(pkey)) ||
	    !(alg = X509_ALGOR_new()) ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(signid),
	    EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) ||
	    (n = i2d_X509_ALGOR(alg, &der)) <= 0) {
		n = -1;
		goto out;
	}
	s->sig_alg = xmalloc((size_t)n);
	memcpy(s->sig_alg, der, (size_t)n);
	s->sig_alg_len = (size_t)n;
out:
	s->sign_rsa = NULL;
	if (n > 0 && !cakey_is_token(s->key) && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA &&
	    EVP_MD_get_type(s->md) == NID_sha256)
		s->sign_rsa = EVP_PKEY_get0_RSA(pkey);
	OPENSSL_free(der);
	X509_ALGOR_free(alg);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return n > 0 ? 0 : -1;
}

signer_t *signer_new(const config_t *cfg)
{
	signer_t *s = xcalloc(1, sizeof *s);
	char *cert_path = config_path(cfg, "signer.cert");
	char err[SIGNER_ERR_LEN] = "";
	int ok = 1;

	s->issued_fd = -1;
	s->crl_dir = config_path(cfg, "signer.crl_dir");
	s->crl_fd = -1;
	if (mkdir_p(s->crl_dir, 0755) < 0 ||
	    (s->crl_fd = open(s->crl_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_err("cannot create or open the CRL folder %s: %s", s->crl_dir, strerror(errno));
		ok = 0;
	}
	s->crl_hours = (int)config_int(cfg, "signer.crl_next_update_hours");
	s->delta_minutes = (int)config_int(cfg, "signer.delta_next_update_minutes");
	s->md = EVP_sha256();
	s->ca_cert = signer_load_cert(cert_path);
	if (s->ca_cert) {
		if (!(s->key = cakey_new(cfg, s->ca_cert)))
			ok = 0;
		if (!(s->profile = profile_new(cfg, s->ca_cert, err))) {
			log_err("bad certificate profile: %s", err);
			ok = 0;
		}
		if (ok && signer_sig_init(s) < 0) {
			log_err("cannot find the CA key's certificate signature algorithm");
			ok = 0;
		}
	} else {
		ok = 0;
	}
	if (!(s->store = signer_open_store(cfg)) ||
	    store_keys_backfill(s->store, signer_key_of_cert) < 0)
		ok = 0;
	free(cert_path);
	if (!ok) {
		signer_destroy(&s);
		return NULL;
	}
	s->pool = pool_new(signer_threads(s->key));
	s->durable = durable_new(s->store);
	return s;
}

void signer_destroy(signer_t **sp)
{
	signer_t *s;

	if (!sp || !*sp)
		return;
	s = *sp;
	if (s->in_batch && s->store) {
		log_warn("signer closed inside a batch: the batch is discarded");
		store_rollback(s->store);
	}
	/* Callers finish every job first (the daemon does on shut-down); one left over is
	 * still signed to its end by the threads before they stop, and its memory left. */
	if (s->jobs)
		log_err("signer closed with issuance jobs unfinished: their requests are dropped");
	pool_destroy(&s->pool);
	durable_destroy(&s->durable);
	store_close(&s->store);
	profile_destroy(&s->profile);
	cakey_destroy(&s->key);
	X509_free(s->ca_cert);
	free(s->sig_alg);
	if (s->crl_fd >= 0)
		close(s->crl_fd);
	if (s->issued_fd >= 0)
		close(s->issued_fd);
	free(s->pending);
	free(s->crl_dir);
	free(s);
	*sp = NULL;
}

int signer_crl_fd(const signer_t *s)
{
	return s->crl_fd;
}

int signer_check_request_id(const char *id, char err[SIGNER_ERR_LEN])
{
	size_t n;

	if (!id || !*id) {
		snprintf(err, SIGNER_ERR_LEN, "no request id given");
		return -1;
	}
	n = strlen(id);
	if (n > 127) {
		snprintf(err, SIGNER_ERR_LEN, "request id is longer than 127 bytes");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (id[i] <= ' ' || id[i] >= 0x7f) {
			snprintf(err, SIGNER_ERR_LEN, "request id may hold only printable ASCII "
			    "without spaces");
			return -1;
		}
	}
	return 0;
}

int signer_batch_begin(signer_t *s)
{
	if (s->in_batch) {
		log_err("signer_batch_begin: a batch is already open");
		return -1;
	}
	if (store_begin(s->store) < 0)
		return -1;
	s->in_batch = 1;
	return 0;
}

int signer_batch_commit(signer_t *s)
{
	if (!s->in_batch) {
		log_err("signer_batch_commit: no batch is open");
		return -1;
	}
	s->in_batch = 0;
	if (store_commit(s->store) < 0) {
		log_err("the batch could not be committed: none of its certificates are stored");
		store_rollback(s->store);
		issued_flush(s, 0);
		return -1;
	}
	issued_flush(s, 1);
	return 0;
}

int signer_batch_commit_async(signer_t *s, uint64_t *ticket)
{
	*ticket = 0;
	if (!s->in_batch) {
		log_err("signer_batch_commit_async: no batch is open");
		return -1;
	}
	if (!s->durable)
		return signer_batch_commit(s);
	s->in_batch = 0;
	if (store_commit_nosync(s->store) < 0) {
		log_err("the batch could not be committed: none of its certificates are stored");
		store_rollback(s->store);
		issued_flush(s, 0);
		return -1;
	}
	issued_flush(s, 1);
	*ticket = durable_request(s->durable);
	return 0;
}

int signer_batch_durable(signer_t *s, uint64_t ticket, int wait)
{
	if (ticket == 0 || !s->durable)
		return 1;
	return durable_check(s->durable, ticket, wait);
}

void signer_set_notify(signer_t *s, void (*notify)(void *arg), void *arg)
{
	pool_set_notify(s->pool, notify, arg);
	durable_set_notify(s->durable, notify, arg);
}

int signer_batch_rollback(signer_t *s)
{
	if (!s->in_batch)
		return 0;
	s->in_batch = 0;
	issued_flush(s, 0);
	return store_rollback(s->store);
}
