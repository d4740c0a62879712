/*
 * digest.h: SHA-2 digests of a buffer for the issuance path, through the digests' own
 * functions. In OpenSSL 3 the one-shot SHA256(), SHA384() and SHA512() go through
 * EVP_Q_digest, which looks the digest up in the provider's store on every call (1 % of
 * the signer's CPU time in a profile of issuance, at four digests a certificate); the
 * SHA256_Init family computes the same bytes without any look-up.
 */
#ifndef RA_SIGNER_DIGEST_H
#define RA_SIGNER_DIGEST_H

#include <stddef.h>

#include <openssl/sha.h>

/* SHA-256 of D (N bytes) into OUT (32 bytes). 0/-1. */
static inline int digest_sha256(const void *d, size_t n, unsigned char *out)
{
	SHA256_CTX c;

	return SHA256_Init(&c) && SHA256_Update(&c, d, n) && SHA256_Final(out, &c) ? 0 : -1;
}

/* SHA-384 of D into OUT (48 bytes). 0/-1. */
static inline int digest_sha384(const void *d, size_t n, unsigned char *out)
{
	SHA512_CTX c;

	return SHA384_Init(&c) && SHA384_Update(&c, d, n) && SHA384_Final(out, &c) ? 0 : -1;
}

/* SHA-512 of D into OUT (64 bytes). 0/-1. */
static inline int digest_sha512(const void *d, size_t n, unsigned char *out)
{
	SHA512_CTX c;

	return SHA512_Init(&c) && SHA512_Update(&c, d, n) && SHA512_Final(out, &c) ? 0 : -1;
}

#endif
