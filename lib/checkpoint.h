/*
 * checkpoint.h: what an audit checkpoint signature covers, for the signer that makes it
 * and for `ra-ctl audit verify` that checks it.
 *
 * A checkpoint says "the audit chain had ROWS rows and its last hash was HEAD at time AT",
 * signed by ca-signer with the CA key (RSA or EC, SHA-256). The signed text is versioned
 * and starts with a fixed ASCII label, so it can never be mistaken for a certificate or
 * CRL (whose DER starts with 0x30). The writers of ra.db hold no key that can make one:
 * a rewritten, recomputed or cut chain no longer matches the checkpoints signed before.
 */
#ifndef RA_CHECKPOINT_H
#define RA_CHECKPOINT_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define CHECKPOINT_HEAD_LEN 64	/* lower-case hex of a SHA-256 */

/* The text a checkpoint signature covers. Caller frees. */
char *checkpoint_text(int64_t rows, const char *head, int64_t at);
/* 1 if HEAD is CHECKPOINT_HEAD_LEN lower-case hex digits, else 0. */
int checkpoint_head_ok(const char *head);
/* 1 if SIG is PUB's signature over checkpoint_text(ROWS, HEAD, AT), else 0. */
int checkpoint_verify(EVP_PKEY *pub, int64_t rows, const char *head, int64_t at, const uint8_t *sig,
    size_t sig_len);

#endif
