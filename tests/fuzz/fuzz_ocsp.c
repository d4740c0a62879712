/*
 * fuzz_ocsp.c: libFuzzer target for ra-ocsp's request parsing: the DER body of an HTTP
 * POST (or the decoded path of a GET) from any relying party, answered from the CRL by
 * ocsp_responder_answer(). The responder is real: at start-up a throw-away CA, a
 * delegated responder certificate and an empty CRL are made in a temp folder.
 */
#include "../../ocsp/responder.h"
#include "config.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ocsp_responder_t *responder;
static char dir[] = "/tmp/ra-fuzz-ocsp.XXXXXX";

static void cleanup(void)
{
	static const char *const files[] = { "ca.pem", "ocsp.pem", "ocsp.key", "ocsp.pass", "ra.crl", "ra.yaml" };
	char path[256];
	ocsp_responder_destroy(&responder);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, const char *cn, int ca)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, ca ? NID_basic_constraints : NID_ext_key_usage,
	    ca ? "critical,CA:TRUE" : "OCSPSigning");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(x, signer, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	if (x)
		PEM_write_X509(f, x);
	else
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[256];
	EVP_PKEY *cakey = EVP_EC_gen("P-256"), *rkey = EVP_EC_gen("P-256");
	X509 *ca, *rc;
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	unsigned char *der = NULL;
	int len;
	FILE *f;
	config_t *cfg;
	char *errors = NULL;

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir) || !cakey || !rkey)
		abort();
	atexit(cleanup);
	ca = make_cert(cakey, cakey, NULL, "Fuzz CA", 1);
	rc = make_cert(rkey, cakey, ca, "Fuzz OCSP", 0);
	snprintf(path, sizeof path, "%s/ca.pem", dir); write_pem(path, ca, NULL);
	snprintf(path, sizeof path, "%s/ocsp.pem", dir); write_pem(path, rc, NULL);
	snprintf(path, sizeof path, "%s/ocsp.key", dir); write_pem(path, NULL, rkey);
	snprintf(path, sizeof path, "%s/ocsp.pass", dir);
	if ((f = fopen(path, "w")))
		fclose(f);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
	X509_gmtime_adj(t, 0);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	X509_CRL_sign(crl, cakey, EVP_sha256());
	len = i2d_X509_CRL(crl, &der);
	snprintf(path, sizeof path, "%s/ra.crl", dir);
	if (len <= 0 || !(f = fopen(path, "wb")))
		abort();
	fwrite(der, 1, (size_t)len, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/ra.yaml", dir);
	if (!(f = fopen(path, "w")))
		abort();
	fprintf(f, "signer:\n  cert: ca.pem\n  crl_dir: .\nocsp:\n  cert: ocsp.pem\n  key: ocsp.key\n"
	    "  key_passphrase_file: ocsp.pass\n");
	fclose(f);
	if (!(cfg = config_load(path, &errors)) || !(responder = ocsp_responder_new(cfg))) {
		fprintf(stderr, "fuzz_ocsp: no responder: %s\n", errors ? errors : "");
		abort();
	}
	config_destroy(&cfg);
	OPENSSL_free(der);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	X509_free(ca);
	X509_free(rc);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(rkey);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	uint8_t *out = ocsp_responder_answer(responder, data, size, NULL, &n);
	free(out);
	return 0;
}
