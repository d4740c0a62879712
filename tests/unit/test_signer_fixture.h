/*
 * test_signer_fixture.h: what the signer's unit tests share: a throw-away CA made with the
 * `openssl` command in a temp dir (encrypted PEM key, passphrase file), a config for it,
 * RSA/EC keys and CSRs built with OpenSSL's API.
 */
#ifndef TEST_SIGNER_FIXTURE_H
#define TEST_SIGNER_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"

#define FX_PASSPHRASE "correct horse battery staple"

struct fx_csr_opts {
	const char *cn;		/* subject CN the CSR asks for (ignored by the signer) */
	int ask_ca;		/* 1: ask for CA:TRUE, keyCertSign, a DNS name, ten years;
				 * 2: only the DNS name and the ten years */
	const EVP_MD *md;	/* NULL: SHA-256 */
};

/* A fresh temp dir (caller removes with fx_rmdir). */
char *fx_tmpdir(void);
void fx_rmdir(char *dir);
/* Run a shell command (printf format); its exit status. */
int fx_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Make DIR/ca.pem, DIR/ca.key (encrypted), DIR/ca.pass. 0/-1. */
int fx_make_ca(const char *dir);
/* Write DIR/ra.yaml for the CA in DIR plus EXTRA lines under "signer:" and load it. */
config_t *fx_config(const char *dir, const char *extra_signer_yaml);
EVP_PKEY *fx_rsa(int bits, unsigned long e);
EVP_PKEY *fx_ec(void);
/* A DER CSR for KEY (caller frees). */
uint8_t *fx_csr(EVP_PKEY *key, const struct fx_csr_opts *o, size_t *len);
/* Parse DER into an X509 (caller frees). */
X509 *fx_x509(const uint8_t *der, size_t len);
/* Load a PEM certificate. */
X509 *fx_load_cert(const char *path);
/* Write a DER certificate as PEM to PATH. 0/-1. */
int fx_write_pem(const char *path, const uint8_t *der, size_t len);

#endif
