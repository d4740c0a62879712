/*
 * ctl_cert.c: the development certificates `ra-ctl init` makes (the CA, the OCSP
 * responder, the officer CA and each officer's certificate): random 127-bit serials, the
 * one clock (a deployment made under RA_NOW matches its signer), extensions from config
 * text. Production sites replace these with their own.
 */
#include "ctl.h"
#include "util.h"

#include <openssl/rand.h>
#include <openssl/x509v3.h>

X509 *ctl_dev_cert(EVP_PKEY *key, const char *o, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
    long years, const struct ctl_ext *exts, size_t n)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;
	uint8_t serial[16];
	BIGNUM *bn;
	int ok = 1;

	X509_set_version(cert, 2);
	if (RAND_bytes(serial, sizeof serial) != 1)
		ok = 0;		/* no certificate with a predictable serial */
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	{
		time_t now = ra_now();	/* the one clock, like the signer's */
		X509_time_adj(X509_getm_notBefore(cert), -3600, &now);
		X509_time_adj(X509_getm_notAfter(cert), (long)years * 366 * 24 * 3600, &now);
	}
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const unsigned char *)"TW", -1, -1, 0);
	if (o)
		X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)o, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(cert, name);
	X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(cert, key);
	X509V3_set_ctx(&v3, issuer ? issuer : cert, cert, NULL, NULL, 0);
	for (size_t i = 0; i < n && ok; i++) {
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, exts[i].nid, exts[i].value);
		ok = ext != NULL;
		if (ext)
			X509_add_ext(cert, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (!ok || !X509_sign(cert, issuer_key, EVP_sha256())) {
		X509_free(cert);
		cert = NULL;
	}
	X509_NAME_free(name);
	return cert;
}
