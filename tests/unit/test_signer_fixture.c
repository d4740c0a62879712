/*
 * test_signer_fixture.c: the throw-away CA and request helpers for the signer's unit tests
 * (see test_signer_fixture.h). The CA is made with the `openssl` command, as an operator
 * would, so the tests also show that such a CA works with the signer.
 */
#include "test_signer_fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "util.h"

char *fx_tmpdir(void)
{
	char *d = xstrdup("/tmp/ra-signer-test.XXXXXX");
	if (!mkdtemp(d)) {
		free(d);
		return NULL;
	}
	return d;
}

void fx_rmdir(char *dir)
{
	if (!dir)
		return;
	if (!getenv("KEEP_TMP"))
		fx_run("rm -rf '%s'", dir);
	free(dir);
}

int fx_run(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return rc;
}

int fx_make_ca(const char *dir)
{
	return fx_run("cd '%s' && umask 077 && printf '%%s\\n' '" FX_PASSPHRASE "' > ca.pass && "
	    "openssl req -x509 -newkey rsa:2048 -sha256 -days 3650 -keyout ca.key "
	    "-passout file:ca.pass -out ca.pem -subj '/C=TW/O=Test RA/CN=Test Issuing CA' "
	    "-addext 'basicConstraints=critical,CA:TRUE' "
	    "-addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null", dir) == 0 ? 0 : -1;
}

config_t *fx_config(const char *dir, const char *extra)
{
	static const char *const defaults[][2] = {
		{ "db", "signer.db" }, { "cert", "ca.pem" }, { "key", "ca.key" },
		{ "key_passphrase_file", "ca.pass" }, { "crl_dir", "crl" },
		{ "ocsp_url", "http://ocsp.test.example/" },
	};
	char *path = xasprintf("%s/ra.yaml", dir);
	char *errors = NULL;
	FILE *f = fopen(path, "w");
	config_t *cfg;

	if (!f)
		abort();
	fprintf(f, "home: %s\nlog_level: error\nsigner:\n", dir);
	/* A key given in EXTRA replaces the default line: YAML keys must be unique. */
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		char *probe = xasprintf("  %s:", defaults[i][0]);
		if (!extra || !strstr(extra, probe))
			fprintf(f, "  %s: %s\n", defaults[i][0], defaults[i][1]);
		free(probe);
	}
	fprintf(f, "%s", extra ? extra : "");
	fclose(f);
	cfg = config_load(path, &errors);
	if (!cfg)
		fprintf(stderr, "config errors:\n%s", errors);
	free(errors);
	free(path);
	return cfg;
}

EVP_PKEY *fx_rsa(int bits, unsigned long e)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;
	BIGNUM *bn = BN_new();

	BN_set_word(bn, e);
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, bn) <= 0 || EVP_PKEY_keygen(ctx, &k) <= 0)
		k = NULL;
	EVP_PKEY_CTX_free(ctx);
	BN_free(bn);
	return k;
}

EVP_PKEY *fx_ec(void)
{
	return EVP_EC_gen("P-256");
}

uint8_t *fx_csr(EVP_PKEY *key, const struct fx_csr_opts *o, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	int n;

	X509_REQ_set_version(req, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)(o && o->cn ? o->cn : "requested name"), -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, key);
	if (o && o->ask_ca) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		X509V3_CTX ctx;
		X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
		if (o->ask_ca == 1) {
			sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
			    "critical,CA:TRUE"));
			sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
			    "critical,keyCertSign,cRLSign"));
		}
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
		    "DNS:evil.example"));
		/* Ten years, as far as a CSR can ask for a validity: privateKeyUsagePeriod. */
		PKEY_USAGE_PERIOD *period = PKEY_USAGE_PERIOD_new();
		period->notBefore = ASN1_GENERALIZEDTIME_set(NULL, time(NULL));
		period->notAfter = ASN1_GENERALIZEDTIME_set(NULL, time(NULL) + 3650L * 86400);
		sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_private_key_usage_period, 0, period));
		PKEY_USAGE_PERIOD_free(period);
		X509_REQ_add_extensions(req, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	X509_REQ_sign(req, key, o && o->md ? o->md : EVP_sha256());
	n = i2d_X509_REQ(req, &der);
	X509_NAME_free(name);
	X509_REQ_free(req);
	if (n <= 0)
		return NULL;
	*len = (size_t)n;
	uint8_t *out = xmalloc(*len);
	memcpy(out, der, *len);
	OPENSSL_free(der);
	return out;
}

X509 *fx_x509(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	return d2i_X509(NULL, &p, (long)len);
}

X509 *fx_load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return x;
}

int fx_write_pem(const char *path, const uint8_t *der, size_t len)
{
	X509 *x = fx_x509(der, len);
	FILE *f = fopen(path, "w");
	int ok = x && f && PEM_write_X509(f, x);

	if (f)
		fclose(f);
	X509_free(x);
	return ok ? 0 : -1;
}
