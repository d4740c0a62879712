/*
 * csr.c: PKCS#10 parsing and proof of possession (see csr.h).
 *
 * The DER must be one complete CertificationRequest and nothing else: trailing bytes are
 * refused rather than ignored, so that two different byte strings never pass as the same
 * request. Key checks happen before the signature check so that a weak or foreign key is
 * reported as such.
 */
#include "csr.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>

void csr_clear(struct csr *c)
{
	if (!c)
		return;
	X509_REQ_free(c->req);
	memset(c, 0, sizeof *c);
}

/* RSA with exponent 65537 and an acceptable size. */
static int csr_check_key(EVP_PKEY *pub, int min_bits, int max_bits, struct csr *out,
    char err[SIGNER_ERR_LEN])
{
	BIGNUM *e = NULL;
	int rc = -1;

	if (!pub) {
		snprintf(err, SIGNER_ERR_LEN, "CSR public key cannot be decoded");
		goto out;
	}
	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
		snprintf(err, SIGNER_ERR_LEN, "CSR key is %s, not RSA: only RSA keys are certified",
		    OBJ_nid2sn(EVP_PKEY_get_base_id(pub)));
		goto out;
	}
	out->bits = EVP_PKEY_get_bits(pub);
	if (out->bits < min_bits) {
		snprintf(err, SIGNER_ERR_LEN, "CSR RSA key has %d bits; at least %d are required",
		    out->bits, min_bits);
		goto out;
	}
	if (out->bits > max_bits) {
		snprintf(err, SIGNER_ERR_LEN, "CSR RSA key has %d bits; at most %d are accepted",
		    out->bits, max_bits);
		goto out;
	}
	if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) != 1 || !BN_is_word(e, 65537)) {
		snprintf(err, SIGNER_ERR_LEN, "CSR RSA public exponent is not 65537");
		goto out;
	}
	rc = 0;
out:
	BN_free(e);
	return rc;
}

/* The self-signature must use SHA-256 or stronger: SHA-1 proofs are forgeable in principle. */
static int csr_check_sigalg(X509_REQ *req, char err[SIGNER_ERR_LEN])
{
	int nid = X509_REQ_get_signature_nid(req);

	switch (nid) {
	case NID_sha256WithRSAEncryption:
	case NID_sha384WithRSAEncryption:
	case NID_sha512WithRSAEncryption:
		return 0;
	default:
		snprintf(err, SIGNER_ERR_LEN, "CSR is signed with %s; SHA-256 or stronger with "
		    "RSA is required", nid == NID_undef ? "an unknown algorithm" : OBJ_nid2ln(nid));
		return -1;
	}
}

int csr_parse(const uint8_t *der, size_t len, int min_bits, int max_bits, struct csr *out,
    char err[SIGNER_ERR_LEN])
{
	const unsigned char *p = der;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (!der || len == 0) {
		snprintf(err, SIGNER_ERR_LEN, "no CSR given");
		goto out;
	}
	if (len > CSR_MAX_LEN) {
		snprintf(err, SIGNER_ERR_LEN, "CSR is %zu bytes; at most %d are accepted", len,
		    CSR_MAX_LEN);
		goto out;
	}
	out->req = d2i_X509_REQ(NULL, &p, (long)len);
	if (!out->req) {
		snprintf(err, SIGNER_ERR_LEN, "CSR is not a valid DER PKCS#10 request");
		goto out;
	}
	if ((size_t)(p - der) != len) {
		snprintf(err, SIGNER_ERR_LEN, "CSR has %zu trailing bytes after the request",
		    len - (size_t)(p - der));
		goto out;
	}
	out->pub = X509_REQ_get0_pubkey(out->req);
	if (csr_check_key(out->pub, min_bits, max_bits, out, err) < 0)
		goto out;
	if (csr_check_sigalg(out->req, err) < 0)
		goto out;
	if (X509_REQ_verify(out->req, out->pub) != 1) {
		snprintf(err, SIGNER_ERR_LEN, "CSR signature does not verify with its own key "
		    "(no proof of possession)");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	if (rc < 0)
		csr_clear(out);
	return rc;
}
