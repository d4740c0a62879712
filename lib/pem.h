/*
 * pem.h: PEM text to and from DER, certificates from PEM, and names as text: the one
 * place the project turns OpenSSL's memory BIOs into C strings. Every string or buffer
 * returned is malloc'd (free() it) and NULL on failure; nothing here logs.
 */
#ifndef RA_PEM_H
#define RA_PEM_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* DER as PEM text with LABEL ("CERTIFICATE", "CERTIFICATE REQUEST", "X509 CRL"), NUL-terminated. */
char *pem_encode(const char *label, const uint8_t *der, size_t len);
/* The DER of the first PEM block of TEXT labelled LABEL ("CERTIFICATE REQUEST" also
 * accepts "NEW CERTIFICATE REQUEST"); *len gets its length. */
uint8_t *pem_decode(const char *text, const char *label, size_t *len);
/* The certificate of PEM TEXT (X509_free() it), or NULL. */
X509 *pem_cert(const char *text);
/* X as PEM text. */
char *pem_cert_text(X509 *x);
/* A name as RFC 2253 text with UTF-8 kept readable (names are Traditional Chinese). */
char *pem_name_text(const X509_NAME *name);

#endif
