/*
 * signer_int.h: the signer object as the files of ca-signer/ share it. Not for callers
 * outside ca-signer/ (they use signer.h). One signer owns one CA certificate, one key,
 * one profile and one signer.db connection, parsed or opened once at start-up and reused
 * for every request: the issuance rate is bounded by the RSA signature, nothing else.
 */
#ifndef RA_SIGNER_INT_H
#define RA_SIGNER_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cakey.h"
#include "pool.h"
#include "profile.h"
#include "signer.h"
#include "store.h"

struct signer {
	X509 *ca_cert;
	cakey_t *key;
	pool_t *pool;		/* signing threads; NULL: sign on the caller's thread */
	profile_t *profile;
	store_t *store;
	const EVP_MD *md;	/* fetched once: SHA-256 for certificates and CRLs */
	char *crl_dir;
	int crl_fd;		/* crl_dir, opened at start-up: CRLs are written through it */
	int crl_hours;
	int in_batch;
};

/* Request ids are printable ASCII, 1..127 bytes: they come from the RA's job ids. 0/-1. */
int signer_check_request_id(const char *id, char err[SIGNER_ERR_LEN]);

#endif
