/*
 * csr_check.c: the worker's own check of a certificate request from a job payload
 * (see csr_check.h). The signer checks everything again (it trusts nobody); this
 * only keeps a pair from being half issued when one of its requests is plainly bad.
 * Nothing here trusts a length or a label it has not measured.
 */
#include "csr_check.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

int csr_check_der(const uint8_t *der, size_t len, long long min_bits, char *err, size_t errlen)
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
	EVP_PKEY *key = req ? X509_REQ_get0_pubkey(req) : NULL;
	int rc = -1;

	if (!req)
		snprintf(err, errlen, "is not a valid DER PKCS#10 request");
	else if (p != der + len)
		snprintf(err, errlen, "has %ld trailing bytes after the request", (long)(der + len - p));
	else if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
		snprintf(err, errlen, ": the key is not RSA (subscriber keys are RSA)");
	else if (EVP_PKEY_get_bits(key) < min_bits)
		snprintf(err, errlen, ": RSA %d bits is too small (at least %lld)", EVP_PKEY_get_bits(key), min_bits);
	else if (X509_REQ_verify(req, key) != 1)
		snprintf(err, errlen, ": the request's signature does not verify (no proof of possession)");
	else
		rc = 0;
	X509_REQ_free(req);
	return rc;
}
