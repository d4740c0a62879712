/*
 * serial.h: certificate serial numbers.
 *
 * A serial is 16 random bytes from the OpenSSL DRBG with the top bit cleared (so it is
 * positive and its DER form stays within 16 octets) and never zero: 127 bits of entropy,
 * well above the 64 bits the CA/Browser Forum asks for. Serials are written as lower-case
 * hex without a leading zero octet, the one form stored and compared.
 */
#ifndef RA_SERIAL_H
#define RA_SERIAL_H

#include <openssl/asn1.h>

#include "signer.h"

#define SERIAL_BYTES 16

/* A fresh random serial: *out (caller frees) and its canonical hex. 0/-1. */
int serial_random(ASN1_INTEGER **out, char hex[SIGNER_SERIAL_LEN]);
/* Canonical hex of a positive ASN1_INTEGER of at most 20 octets. 0/-1. */
int serial_to_hex(const ASN1_INTEGER *ai, char hex[SIGNER_SERIAL_LEN]);
/*
 * Canonicalise serial text given by a caller (hex, either case, optional "0x" and ":"
 * separators). 0, or -1 with err saying why.
 */
int serial_canonical(const char *in, char out[SIGNER_SERIAL_LEN], char err[SIGNER_ERR_LEN]);
/* The ASN1_INTEGER for canonical hex (caller frees); NULL on error. */
ASN1_INTEGER *serial_from_hex(const char *hex);

#endif
