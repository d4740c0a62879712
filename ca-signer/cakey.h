/*
 * cakey.h: loading the CA private key, from an encrypted PEM file or a PKCS#11 token.
 *
 * The key never leaves this object: callers get an EVP_PKEY handle to sign with. A
 * passphrase or PIN is read from its file (or the terminal), used once and wiped.
 */
#ifndef RA_CAKEY_H
#define RA_CAKEY_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"

typedef struct cakey cakey_t;

/*
 * Load the key named by the signer.* keys of CFG and check that it belongs to CA_CERT.
 * NULL on failure, the reason logged.
 */
cakey_t *cakey_new(const config_t *cfg, X509 *ca_cert);
/* Release the key (and the token session); accepts NULL and clears the pointer. */
void cakey_destroy(cakey_t **k);
/* The signing handle, owned by the cakey. */
EVP_PKEY *cakey_pkey(const cakey_t *k);
/* 1 when the key lives in a PKCS#11 token. */
int cakey_is_token(const cakey_t *k);

#endif
