/*
 * csr_check.h: the worker's look at a certificate request that arrives as PEM text in a
 * job payload (ra-ctl request-certs, ra-self renew, card-station), once lib/pem.c has
 * turned it into DER. Outside input: every byte is checked before the signer is asked.
 */
#ifndef RA_CSR_CHECK_H
#define RA_CSR_CHECK_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse DER as one PKCS#10 request with nothing after it, an RSA key of at least MIN_BITS
 * and a signature that verifies (proof of possession). 0, or -1 with the reason in ERR.
 */
int csr_check_der(const uint8_t *der, size_t len, long long min_bits, char *err, size_t errlen);

#endif
