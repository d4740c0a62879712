/*
 * lint.h: the last check before the CA key signs a certificate.
 *
 * The lint reads the finished, unsigned certificate back field by field and checks it
 * against the profile, independently of the code that built it (issuance hands it the
 * very DER that will be signed): a bug in the builder
 * (or a profile change that went wrong) stops issuance instead of reaching a card.
 */
#ifndef RA_LINT_H
#define RA_LINT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "profile.h"
#include "signer.h"

/*
 * 0 when X (unsigned) is a correct subscriber certificate of profile P for USAGE holding
 * the CSR's key (CSR_KEY: its RSAPublicKey DER); -1 with err naming the first rule broken.
 */
int lint_tbs(const profile_t *p, X509 *x, enum profile_usage usage, const uint8_t *csr_key,
    size_t csr_key_len, char err[SIGNER_ERR_LEN]);

/*
 * The same rules on the DER TBSCertificate about to be signed (TBS, LEN bytes), decoded
 * here piece by piece into objects of its own (the SubjectPublicKeyInfo read as it
 * stands: OpenSSL's key decoder would cost a third of a signature), and its signature
 * field must be SIG_ALG. 0 and, with SUBJECT, the decoded subject name (caller frees), or
 * -1 with err naming the first rule broken.
 */
int lint_der(const profile_t *p, const uint8_t *tbs, size_t len, const uint8_t *sig_alg,
    size_t sig_alg_len, enum profile_usage usage, const uint8_t *csr_key, size_t csr_key_len,
    X509_NAME **subject, char err[SIGNER_ERR_LEN]);

#endif
