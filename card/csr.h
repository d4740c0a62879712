/*
 * csr.h: PKCS#10 certificate requests for keys that never leave the card.
 *
 * OpenSSL builds the request around the slot's public key; the card signs the request's
 * to-be-signed encoding, which is the proof of possession the CA checks.
 */
#ifndef CS_CSR_H
#define CS_CSR_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "piv.h"

/*
 * Build and card-sign a request for SLOT holding the key PUB, subject CN=COMMON_NAME,
 * SHA-256. The PIN must be verified just before (slot 9C asks for it on every signature).
 * The signature is checked against PUB before *out is set.
 */
piv_rc csr_build(piv_t *p, uint8_t slot, EVP_PKEY *pub, const char *common_name, X509_REQ **out);
/* DER of REQ into *der (OPENSSL_malloc'd). 0/-1. */
int csr_der(X509_REQ *req, uint8_t **der, size_t *len);

#endif
