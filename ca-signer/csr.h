/*
 * csr.h: reading a subscriber's PKCS#10 certificate request.
 *
 * A CSR is trusted for two things only: its public key, and the proof that the requester
 * holds the matching private key (its self-signature). Everything else it carries
 * (subject, extensions, attributes) is ignored by design, so it is only checked to be
 * well-formed DER, never decoded into objects.
 */
#ifndef RA_CSR_H
#define RA_CSR_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "signer.h"

#define CSR_MAX_LEN 65536

struct csr {
	EVP_PKEY *pub;		/* the subject's key (RSA) */
	int bits;
	const uint8_t *key_der;	/* its RSAPublicKey (PKCS#1) DER, inside the caller's buffer */
	size_t key_len;
};

/*
 * Parse DER (exactly LEN bytes, no trailing data), require an RSA key of MIN_BITS..MAX_BITS
 * with exponent 65537 and a signature that verifies with it (SHA-256 or stronger). 0 and
 * *out filled (pointing into DER, which must outlive it), or -1 with err saying why.
 */
int csr_parse(const uint8_t *der, size_t len, int min_bits, int max_bits, struct csr *out,
    char err[SIGNER_ERR_LEN]);
/*
 * SHA-256 of the request's public key as a canonical DER SubjectPublicKeyInfo (re-encoded
 * from the RSA key, so two encodings of one key give one digest): the key's identity in
 * signer.db. Cheap (no signature check): run before signing. 0, or -1 when the request or
 * its key cannot be read (csr_parse then says why).
 */
int csr_key_sha256(const uint8_t *der, size_t len, uint8_t out[32]);
/* Free what csr_parse filled; accepts a zeroed struct. */
void csr_clear(struct csr *c);

#endif
