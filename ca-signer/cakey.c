/*
 * cakey.c: loading the CA private key (see cakey.h).
 *
 * Two sources: an encrypted PEM file (PKCS#8 or traditional; a key in clear is refused,
 * since no secret is kept at rest in clear) whose passphrase comes from
 * signer.key_passphrase_file or, when that is empty, from the terminal; or a PKCS#11
 * token through OpenSSL's pkcs11 ENGINE (libp11), with the user PIN from
 * signer.pkcs11_pin_file or the terminal. Every copy of a passphrase or PIN this file
 * makes is wiped with OPENSSL_cleanse as soon as it has been handed over. The key must
 * match the CA certificate, or the signer would issue certificates no one can verify.
 */
#include "cakey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ui.h>

#include "log.h"
#include "util.h"

#define CAKEY_SECRET_MAX 1024

struct cakey {
	EVP_PKEY *pkey;
	ENGINE *engine;		/* NULL for a PEM key */
};

/* The last OpenSSL error as text, for logs (OpenSSL's errors carry no secrets). */
static const char *cakey_ssl_error(void)
{
	static char buf[256];
	unsigned long e = ERR_peek_last_error();

	if (!e)
		return "no detail";
	ERR_error_string_n(e, buf, sizeof buf);
	return buf;
}

/* A CFG_PATH that is set: NULL when the value is empty (made absolute, it names a folder). */
static char *cakey_path(const config_t *cfg, const char *key)
{
	char *p = config_path(cfg, key);
	struct stat sb;

	if (p && *p && !(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)))
		return p;
	free(p);
	return NULL;
}

/*
 * Read a secret into BUF (NUL-terminated, without the final newline): from PATH, or from
 * the terminal with PROMPT when PATH is NULL. 0/-1.
 */
static int cakey_secret(const char *path, const char *prompt, char *buf, size_t cap)
{
	char *data = NULL;
	size_t len = 0;
	struct stat sb;
	int rc = -1;

	if (!path) {
		if (EVP_read_pw_string(buf, (int)cap, prompt, 0) != 0) {
			log_err("cannot read the %s from the terminal", prompt);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (stat(path, &sb) == 0 && (sb.st_mode & 077))
		log_warn("%s can be read by group or others; it should be mode 0600", path);
	data = file_read(path, &len);
	if (!data) {
		log_err("cannot read %s", path);
		goto out;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len == 0 || len >= cap || memchr(data, '\0', len)) {
		log_err("%s must hold one line of 1..%zu characters", path, cap - 1);
		goto out;
	}
	memcpy(buf, data, len);
	buf[len] = '\0';
	rc = 0;
out:
	if (data) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
	return rc;
}

static int cakey_load_pem(cakey_t *k, const config_t *cfg)
{
	char *path = cakey_path(cfg, "signer.key");
	char *passfile = cakey_path(cfg, "signer.key_passphrase_file");
	char pass[CAKEY_SECRET_MAX];
	char *pem = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int rc = -1;

	memset(pass, 0, sizeof pass);
	if (!path) {
		log_err("signer.key is not set");
		goto out;
	}
	pem = file_read(path, &len);
	if (!pem) {
		log_err("cannot read the CA key %s", path);
		goto out;
	}
	if (!strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----") &&
	    !strstr(pem, "Proc-Type: 4,ENCRYPTED")) {
		log_err("the CA key %s is not encrypted; keep it as an encrypted PEM file "
		    "(e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc)", path);
		goto out;
	}
	if (cakey_secret(passfile, "CA key passphrase:", pass, sizeof pass) < 0)
		goto out;
	bio = BIO_new_mem_buf(pem, (int)len);
	/* With no callback, OpenSSL takes the last argument as the passphrase itself. */
	k->pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, pass) : NULL;
	if (!k->pkey) {
		log_err("cannot decrypt the CA key %s: wrong passphrase or damaged file (%s)", path,
		    cakey_ssl_error());
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(pass, sizeof pass);
	if (pem) {
		OPENSSL_cleanse(pem, len);
		free(pem);
	}
	BIO_free(bio);
	free(path);
	free(passfile);
	ERR_clear_error();
	return rc;
}

static int cakey_load_token(cakey_t *k, const config_t *cfg)
{
	const char *module = config_str(cfg, "signer.pkcs11_module");
	const char *uri = config_str(cfg, "signer.pkcs11_uri");
	char *pinfile = cakey_path(cfg, "signer.pkcs11_pin_file");
	char pin[CAKEY_SECRET_MAX];
	int inited = 0, rc = -1;

	memset(pin, 0, sizeof pin);
	if (strncmp(uri, "pkcs11:", 7) != 0) {
		log_err("signer.pkcs11_uri must be a pkcs11: URI naming the CA key");
		goto out;
	}
	ENGINE_load_builtin_engines();
	k->engine = ENGINE_by_id("pkcs11");
	if (!k->engine) {
		log_err("the pkcs11 OpenSSL engine is not available (Debian package "
		    "libengine-pkcs11-openssl): %s", cakey_ssl_error());
		goto out;
	}
	if (!ENGINE_ctrl_cmd_string(k->engine, "MODULE_PATH", module, 0)) {
		log_err("pkcs11 engine refuses module %s: %s", module, cakey_ssl_error());
		goto out;
	}
	if (cakey_secret(pinfile, "CA token PIN:", pin, sizeof pin) < 0)
		goto out;
	if (!ENGINE_ctrl_cmd_string(k->engine, "PIN", pin, 0)) {
		log_err("pkcs11 engine refuses the PIN setting: %s", cakey_ssl_error());
		goto out;
	}
	if (!ENGINE_init(k->engine)) {
		log_err("cannot initialise the pkcs11 engine with %s: %s", module, cakey_ssl_error());
		goto out;
	}
	inited = 1;
	k->pkey = ENGINE_load_private_key(k->engine, uri, NULL, NULL);
	if (!k->pkey) {
		log_err("cannot load the CA key %s from the token (wrong PIN, or no such key): %s",
		    uri, cakey_ssl_error());
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(pin, sizeof pin);
	if (rc < 0 && k->engine) {
		if (inited)
			ENGINE_finish(k->engine);
		ENGINE_free(k->engine);
		k->engine = NULL;
	} else if (k->engine) {
		/* The functional reference from ENGINE_init keeps it alive; drop the structural one. */
		ENGINE_free(k->engine);
	}
	free(pinfile);
	ERR_clear_error();
	return rc;
}

cakey_t *cakey_new(const config_t *cfg, X509 *ca_cert)
{
	cakey_t *k = xcalloc(1, sizeof *k);
	int token = *config_str(cfg, "signer.pkcs11_module") != '\0';

	if ((token ? cakey_load_token(k, cfg) : cakey_load_pem(k, cfg)) < 0)
		goto fail;
	if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_RSA) {
		log_err("the CA key is not an RSA key");
		goto fail;
	}
	if (X509_check_private_key(ca_cert, k->pkey) != 1) {
		log_err("the CA key does not match the CA certificate (signer.cert)");
		ERR_clear_error();
		goto fail;
	}
	log_info("CA key loaded from %s (RSA %d bits)", token ? "the PKCS#11 token" : "PEM file",
	    EVP_PKEY_get_bits(k->pkey));
	return k;
fail:
	cakey_destroy(&k);
	return NULL;
}

void cakey_destroy(cakey_t **kp)
{
	cakey_t *k;

	if (!kp || !*kp)
		return;
	k = *kp;
	EVP_PKEY_free(k->pkey);
	if (k->engine)
		ENGINE_finish(k->engine);
	free(k);
	*kp = NULL;
}

EVP_PKEY *cakey_pkey(const cakey_t *k) { return k->pkey; }
int cakey_is_token(const cakey_t *k) { return k->engine != NULL; }
