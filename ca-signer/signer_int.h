/*
 * signer_int.h: the signer object as the files of ca-signer/ share it. Not for callers
 * outside ca-signer/ (they use signer.h). One signer owns one CA certificate, one key,
 * one profile and one signer.db connection, parsed or opened once at start-up and reused
 * for every request: the issuance rate is bounded by the RSA signature, nothing else.
 */
#ifndef RA_SIGNER_INT_H
#define RA_SIGNER_INT_H

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cakey.h"
#include "durable.h"
#include "pool.h"
#include "profile.h"
#include "signer.h"
#include "store.h"

struct signer {
	X509 *ca_cert;
	cakey_t *key;
	pool_t *pool;		/* signing threads; NULL: sign on the caller's thread */
	struct signer_job *jobs, *jobs_tail;	/* started, not finished: oldest first */
	profile_t *profile;
	store_t *store;
	durable_t *durable;	/* syncs batches off the main thread; NULL: in line */
	const EVP_MD *md;	/* fetched once: SHA-256 for certificates and CRLs */
	uint8_t *sig_alg;	/* the certificates' signature AlgorithmIdentifier, DER */
	size_t sig_alg_len;
	const RSA *sign_rsa;	/* the CA key, to sign certificates with directly; NULL: EVP */
	char *crl_dir;
	int crl_fd;		/* crl_dir, opened at start-up: CRLs are written through it */
	int crl_hours;
	int delta_minutes;
	int in_batch;
	int issued_fd;		/* ra.issued, open for appending; -1: not published */
	char *pending;		/* serial lines issued in the open transaction */
	size_t pending_len, pending_cap;
};

/* Request ids are printable ASCII, 1..127 bytes: they come from the RA's job ids. 0/-1. */
int signer_check_request_id(const char *id, char err[SIGNER_ERR_LEN]);

/*
 * The DER of one CRL entry (revokedCertificates element) for SERIAL: REASON (omitted when
 * <= 0), time AT, invalidity date (0: none). Made once per status change and stored in
 * signer.db, so that CRLs never encode an entry again. 0 and *der malloc'd, or -1.
 */
int crl_entry_der(const char *serial, int reason, int64_t at, int64_t invalidity,
    uint8_t **der, size_t *len);

/* Remember SERIAL, issued in the open transaction, for the issued list. */
void issued_note(signer_t *s, const char *serial);
/* The transaction ended: append the remembered serials if COMMITTED, forget them. */
void issued_flush(signer_t *s, int committed);

#endif
