/*
 * csr_check.c: certificate requests from job payloads, PEM to DER and the worker's own
 * check (see csr_check.h). The signer checks everything again (it trusts nobody); this
 * only keeps a pair from being half issued when one of its requests is plainly bad.
 * Nothing here trusts a length or a label it has not measured.
 */
#include "csr_check.h"
#include "util.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

uint8_t *csr_check_pem(const char *pem, long *len)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	uint8_t *out = NULL;

	if (b && PEM_read_bio(b, &name, &header, &data, len) == 1 && *len > 0 &&
	    (strcmp(name, "CERTIFICATE REQUEST") == 0 || strcmp(name, "NEW CERTIFICATE REQUEST") == 0)) {
		out = xmalloc((size_t)*len);
		memcpy(out, data, (size_t)*len);
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(b);
	return out;
}

int csr_check_der(const uint8_t *der, long len, long long min_bits, char *err, size_t errlen)
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, len);
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
