/*
 * csr.c: a PKCS#10 request signed by the card.
 *
 * OpenSSL has no hook for "sign with a key I do not hold" short of an engine or provider,
 * so the request is assembled by hand: set the subject, public key and signature
 * algorithm, encode the CertificationRequestInfo, hash it, have the card sign the hash,
 * and install the signature. The result is checked with X509_REQ_verify, so a card that
 * signs with the wrong key is caught here and not at the CA.
 */
#include "csr.h"

#include <openssl/objects.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The signature AlgorithmIdentifier for PUB with SHA-256. */
static X509_ALGOR *csr_sig_alg(EVP_PKEY *pub)
{
	X509_ALGOR *a = X509_ALGOR_new();
	int ok = 0;

	if (!a)
		return NULL;
	if (piv_alg_of(pub) == PIV_ALG_RSA2048)
		ok = X509_ALGOR_set0(a, OBJ_nid2obj(NID_sha256WithRSAEncryption), V_ASN1_NULL, NULL);
	else if (piv_alg_of(pub) == PIV_ALG_ECCP256)
		ok = X509_ALGOR_set0(a, OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL);
	if (!ok) {
		X509_ALGOR_free(a);
		return NULL;
	}
	return a;
}

piv_rc csr_build(piv_t *p, uint8_t slot, EVP_PKEY *pub, const char *common_name, X509_REQ **out)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	X509_ALGOR *alg = csr_sig_alg(pub);
	ASN1_BIT_STRING *bits = NULL;
	uint8_t *tbs = NULL, *sig = NULL, digest[SHA256_DIGEST_LENGTH];
	size_t siglen = 0;
	int tbslen;
	piv_rc rc = PIV_E_CRYPTO;

	*out = NULL;
	if (!common_name || !*common_name) {
		rc = PIV_E_ARG;
		goto out;
	}
	if (!req || !name || !alg || !X509_REQ_set_version(req, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name,
		-1, -1, 0) ||
	    !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, pub) ||
	    !X509_REQ_set1_signature_algo(req, alg))
		goto out;
	tbslen = i2d_re_X509_REQ_tbs(req, &tbs);
	if (tbslen <= 0 || !SHA256(tbs, (size_t)tbslen, digest))
		goto out;
	rc = piv_sign_digest(p, slot, pub, NID_sha256, digest, sizeof digest, &sig, &siglen);
	if (rc != PIV_OK)
		goto out;
	rc = PIV_E_CRYPTO;
	bits = ASN1_BIT_STRING_new();
	if (!bits || !ASN1_BIT_STRING_set(bits, sig, (int)siglen))
		goto out;
	/* A signature is a whole number of bytes: say "no unused bits". */
	bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	X509_REQ_set0_signature(req, bits);
	bits = NULL;
	if (X509_REQ_verify(req, pub) != 1) {
		log_err("%s: the card's signature on the %02X request does not verify", piv_reader(p),
		    slot);
		rc = PIV_E_VERIFY;
		goto out;
	}
	*out = req;
	req = NULL;
	rc = PIV_OK;
out:
	X509_REQ_free(req);
	X509_NAME_free(name);
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(bits);
	OPENSSL_free(tbs);
	free(sig);
	return rc;
}

int csr_der(X509_REQ *req, uint8_t **der, size_t *len)
{
	int n;

	*der = NULL;
	n = i2d_X509_REQ(req, der);
	if (n <= 0)
		return -1;
	*len = (size_t)n;
	return 0;
}
