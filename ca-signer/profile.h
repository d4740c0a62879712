/*
 * profile.h: the subscriber certificate profile, the one place that decides what goes
 * into a certificate.
 *
 * The profile comes from the signer's configuration (validity, key sizes, subject C and O,
 * policy, CRL and AIA URLs) and the CA certificate (issuer, key identifier). A request
 * contributes only checked subject fields, an optional e-mail address and the CSR's public
 * key. Everything constant in a certificate (the issuer name, the subject's C and O, every
 * extension but the subject key identifier and the e-mail address) is encoded once at
 * start-up, per usage, and each TBSCertificate is put together from those bytes and the
 * request's own parts (profile_tbs). profile_build makes the same certificate the long
 * way, as an X509 built field by field: the reference the template is tested against.
 */
#ifndef RA_PROFILE_H
#define RA_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "config.h"
#include "signer.h"

#define PROFILE_NAME_MAX 64	/* characters: X.520 ub-common-name, ub-serial-number */

enum profile_usage { PROFILE_SIGNATURE = 0, PROFILE_ENCRYPTION = 1 };

typedef struct profile profile_t;

/* "signature" -> PROFILE_SIGNATURE, "encryption" -> PROFILE_ENCRYPTION; -1 otherwise. */
int profile_usage_parse(const char *text);
const char *profile_usage_name(enum profile_usage u);

/*
 * Check a subject attribute: valid UTF-8, 1..64 characters, no control character (C0, DEL,
 * C1) and, with PRINTABLE set, only PrintableString characters. WHAT names the field in
 * the error. 0/-1.
 */
int profile_check_name(const char *what, const char *value, int printable,
    char err[SIGNER_ERR_LEN]);
/* Check an e-mail address for an rfc822Name (ASCII local@domain.tld, at most 254). 0/-1. */
int profile_check_email(const char *email, char err[SIGNER_ERR_LEN]);

/* Build the profile from CFG and the CA certificate (kept, reference counted). NULL and
 * err on a bad setting. */
profile_t *profile_new(const config_t *cfg, X509 *ca_cert, char err[SIGNER_ERR_LEN]);
void profile_destroy(profile_t **p);

int profile_validity_days(const profile_t *p);
/* The Freshest CRL extension (delta CRL pointer), or NULL when delta CRLs are off. */
const X509_EXTENSION *profile_freshest_crl(const profile_t *p);
int profile_min_bits(const profile_t *p);
int profile_max_bits(const profile_t *p);
X509 *profile_ca_cert(const profile_t *p);
/* The CA's key identifier: its subjectKeyIdentifier, or the RFC 5280 SHA-1 of its key. */
const ASN1_OCTET_STRING *profile_ca_keyid(const profile_t *p);

/*
 * The unsigned certificate for one request: serial SERIAL, valid from NOW for the
 * profile's days, subject C, O (profile) + CN, serialNumber (checked by the caller), the
 * RSA key whose RSAPublicKey (PKCS#1) DER is KEY, and the profile's extensions for USAGE
 * (+ SAN when EMAIL is not NULL or empty). NULL and err on failure.
 */
X509 *profile_build(const profile_t *p, enum profile_usage usage, const uint8_t *key,
    size_t key_len,
    const char *cn, const char *subject_serial, const char *email,
    const ASN1_INTEGER *serial, time_t now, char err[SIGNER_ERR_LEN]);

/* The Certificate DER of a signed TBS: TBS, SIG_ALG, the signature as a BIT STRING.
 * Malloc'd, *LEN bytes. */
uint8_t *profile_cert(const uint8_t *tbs, size_t tbs_len, const uint8_t *sig_alg,
    size_t sig_alg_len, const uint8_t *sig, size_t sig_len, size_t *len);

/*
 * The DER TBSCertificate of the certificate profile_build makes from the same arguments,
 * byte for byte, whose signature field is SIG_ALG (a DER AlgorithmIdentifier, the one the
 * CA key will sign with), from the template encoded at start-up. 0 and *OUT (malloc'd,
 * *OUT_LEN bytes), or -1 and err. The caller has checked CN, SUBJECT_SERIAL and EMAIL
 * (issue.c); KEY is the CSR's RSAPublicKey.
 */
int profile_tbs(const profile_t *p, enum profile_usage usage, const uint8_t *sig_alg,
    size_t sig_alg_len, const uint8_t *key, size_t key_len, const char *cn,
    const char *subject_serial, const char *email, const ASN1_INTEGER *serial, time_t now,
    uint8_t **out, size_t *out_len, char err[SIGNER_ERR_LEN]);

#endif
