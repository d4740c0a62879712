/*
 * ctl_init.c: `ra-ctl init DIR`, a fresh single-host deployment for development, tests
 * and the demo: ra.yaml, the CURVE key pairs and allowlists, the notifier's sheet key,
 * the workers' sealing key, the cards' master key, a development CA (RSA 3072, encrypted PEM with a random
 * passphrase in a 0600 file) and an empty ledger. Production sites replace the CA with
 * their own (or a PKCS#11 token) and keep the rest.
 */
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "seal.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const ctl_clients[] = { "intake", "self", "station", "ctl" };

static const char ctl_yaml[] =
	"# RA deployment made by ra-ctl init. Every key is documented by `ra-ctl config`.\n"
	"# Relative paths hang from `home` (this file's folder).\n"
	"home: .\n"
	"log_level: info\n"
	"queue:\n"
	"  db: ra.db\n"
	"  endpoint: ipc://run/queue.sock\n"
	"  worker_endpoint: ipc://run/workers.sock\n"
	"signer:\n"
	"  endpoint: ipc://run/signer.sock\n"
	"  db: signer/signer.db\n"
	"  key: signer/ca.key\n"
	"  key_passphrase_file: signer/ca.pass\n"
	"  cert: signer/ca.pem\n"
	"  crl_dir: crl\n";

/* Write a random secret of N bytes as hex into PATH (mode 0600). */
static int write_secret(const char *path, size_t n)
{
	uint8_t r[64];
	char hex[129];
	int rc;
	RAND_bytes(r, (int)n);
	hex_encode(r, n, hex);
	hex[2 * n] = '\n';
	rc = file_write_atomic(path, hex, 2 * n + 1, 0600);
	OPENSSL_cleanse(r, sizeof r);
	OPENSSL_cleanse(hex, sizeof hex);
	return rc;
}

static int make_curve(const char *path)
{
	zcert_t *c = zcert_new();
	int rc = zcert_save(c, path);
	char *secret = xasprintf("%s_secret", path);
	chmod(secret, 0600);
	free(secret);
	zcert_destroy(&c);
	return rc;
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return -1;
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return 0;
}

static int make_ca(const char *dir, int bits)
{
	char *keyp = xasprintf("%s/signer/ca.key", dir), *passp = xasprintf("%s/signer/ca.pass", dir);
	char *certp = xasprintf("%s/signer/ca.pem", dir), *pass = NULL;
	EVP_PKEY *key = EVP_RSA_gen((unsigned)bits);
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();
	FILE *f = NULL;
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	int rc = -1;

	if (!key || write_secret(passp, 24) < 0 || !(pass = file_read(passp, NULL)))
		goto out;
	pass[strcspn(pass, "\n")] = '\0';
	X509_set_version(cert, 2);
	RAND_bytes(serial, sizeof serial);
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 366 * 24 * 3600);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const unsigned char *)"TW", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"Intellectual Property Office e-Filing", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"RA Development CA (not for production)", -1, -1, 0);
	X509_set_subject_name(cert, name);
	X509_set_issuer_name(cert, name);
	X509_set_pubkey(cert, key);
	if (add_ext(cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(cert, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(cert, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(cert, NID_authority_key_identifier, "keyid:always") < 0)
		goto out;
	if (!X509_sign(cert, key, EVP_sha256()))
		goto out;
	if (!(f = fopen(keyp, "w")) || fchmod(fileno(f), 0600) < 0 ||
	    !PEM_write_PrivateKey(f, key, EVP_aes_256_cbc(), NULL, 0, NULL, pass))
		goto out;
	fclose(f);
	if (!(f = fopen(certp, "w")) || !PEM_write_X509(f, cert))
		goto out;
	rc = 0;
out:
	if (f)
		fclose(f);
	if (pass) {
		OPENSSL_cleanse(pass, strlen(pass));
		free(pass);
	}
	BN_free(bn);
	X509_NAME_free(name);
	X509_free(cert);
	EVP_PKEY_free(key);
	free(keyp); free(passp); free(certp);
	return rc;
}

/*
 * The OCSP responder's own key and certificate (id-kp-OCSPSigning, ocsp-nocheck), issued
 * by the development CA: ra-ocsp signs answers with it and never holds the CA key.
 */
static int make_ocsp_responder(const char *dir)
{
	char *cakeyp = xasprintf("%s/signer/ca.key", dir), *capassp = xasprintf("%s/signer/ca.pass", dir);
	char *cacertp = xasprintf("%s/signer/ca.pem", dir), *keyp = xasprintf("%s/keys/ocsp.key", dir);
	char *passp = xasprintf("%s/keys/ocsp.pass", dir), *certp = xasprintf("%s/keys/ocsp.pem", dir);
	char *capass = NULL, *pass = NULL;
	EVP_PKEY *cakey = NULL, *key = EVP_EC_gen("P-256");
	X509 *ca = NULL, *cert = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;
	FILE *f = NULL;
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	int rc = -1;

	if (!key || !(capass = file_read(capassp, NULL)) || write_secret(passp, 24) < 0 || !(pass = file_read(passp, NULL)))
		goto out;
	capass[strcspn(capass, "\n")] = '\0';
	pass[strcspn(pass, "\n")] = '\0';
	if (!(f = fopen(cakeyp, "r")) || !(cakey = PEM_read_PrivateKey(f, NULL, NULL, capass)))
		goto out;
	fclose(f);
	if (!(f = fopen(cacertp, "r")) || !(ca = PEM_read_X509(f, NULL, NULL, NULL)))
		goto out;
	fclose(f);
	f = NULL;
	X509_set_version(cert, 2);
	RAND_bytes(serial, sizeof serial);
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 2L * 366 * 24 * 3600);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const unsigned char *)"TW", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"RA Development OCSP Responder (not for production)", -1, -1, 0);
	X509_set_subject_name(cert, name);
	X509_set_issuer_name(cert, X509_get_subject_name(ca));
	X509_set_pubkey(cert, key);
	X509V3_set_ctx(&v3, ca, cert, NULL, NULL, 0);
	{
		static const struct { int nid; const char *value; } exts[] = {
			{ NID_basic_constraints, "critical,CA:FALSE" }, { NID_key_usage, "critical,digitalSignature" },
			{ NID_ext_key_usage, "critical,OCSPSigning" }, { NID_id_pkix_OCSP_noCheck, "ignored" },
			{ NID_subject_key_identifier, "hash" }, { NID_authority_key_identifier, "keyid:always" },
		};
		for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
			X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, exts[i].nid, exts[i].value);
			if (!ext)
				goto out;
			X509_add_ext(cert, ext, -1);
			X509_EXTENSION_free(ext);
		}
	}
	if (!X509_sign(cert, cakey, EVP_sha256()))
		goto out;
	if (!(f = fopen(keyp, "w")) || fchmod(fileno(f), 0600) < 0 ||
	    !PEM_write_PrivateKey(f, key, EVP_aes_256_cbc(), NULL, 0, NULL, pass))
		goto out;
	fclose(f);
	if (!(f = fopen(certp, "w")) || !PEM_write_X509(f, cert))
		goto out;
	rc = 0;
out:
	if (f)
		fclose(f);
	if (capass) {
		OPENSSL_cleanse(capass, strlen(capass));
		free(capass);
	}
	if (pass) {
		OPENSSL_cleanse(pass, strlen(pass));
		free(pass);
	}
	BN_free(bn);
	X509_NAME_free(name);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	free(cakeyp); free(capassp); free(cacertp); free(keyp); free(passp); free(certp);
	return rc;
}

int ctl_init(const char *dir, int force, int ca_bits)
{
	char *p;
	sqlite3 *db;
	int rc = -1;

	umask(077);
	p = xasprintf("%s/ra.yaml", dir);
	if (access(p, F_OK) == 0 && !force) {
		log_err("%s already holds a deployment (use --force to replace it)", dir);
		free(p);
		return -1;
	}
	free(p);
	static const char *const subdirs[] = { "keys/clients", "keys/workers", "signer", "run", "log", "crl",
					       "outbox", "sheets" };
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		p = xasprintf("%s/%s", dir, subdirs[i]);
		if (mkdir_p(p, 0700) < 0) {
			log_err("cannot create %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	p = xasprintf("%s/ra.yaml", dir);
	if (file_write_atomic(p, ctl_yaml, sizeof ctl_yaml - 1, 0600) < 0)
		goto out;
	free(p);
	p = NULL;
#define KEY(fmt, ...) do { p = xasprintf(fmt, __VA_ARGS__); if (make_curve(p) < 0) goto out; free(p); p = NULL; } while (0)
	KEY("%s/keys/queue.cert", dir);
	KEY("%s/keys/signer.cert", dir);
	KEY("%s/keys/workers/worker.cert", dir);
	for (size_t i = 0; i < sizeof ctl_clients / sizeof ctl_clients[0]; i++)
		KEY("%s/keys/clients/%s.cert", dir, ctl_clients[i]);
#undef KEY
	{
		char *priv = xasprintf("%s/keys/sheets.key", dir), *pass = xasprintf("%s/keys/sheets.pass", dir);
		char *pub = xasprintf("%s/keys/sheets.pub", dir), *master = xasprintf("%s/keys/card-master.key", dir);
		int r = write_secret(pass, 24) < 0 || seal_keygen(priv, pass, pub) < 0 || write_secret(master, 32) < 0;
		free(priv); free(pass); free(pub); free(master);
		if (r)
			goto out;
	}
	{
		/* The workers' own sealing key: subscribers' passwords travel to them sealed. */
		char *priv = xasprintf("%s/keys/worker-seal.key", dir), *pass = xasprintf("%s/keys/worker-seal.pass", dir);
		char *pub = xasprintf("%s/keys/worker-seal.pub", dir);
		int r = write_secret(pass, 24) < 0 || seal_keygen(priv, pass, pub) < 0;
		free(priv); free(pass); free(pub);
		if (r)
			goto out;
	}
	if (make_ca(dir, ca_bits) < 0) {
		log_err("cannot make the development CA");
		goto out;
	}
	if (make_ocsp_responder(dir) < 0) {
		log_err("cannot make the OCSP responder's certificate");
		goto out;
	}
	p = xasprintf("%s/ra.db", dir);
	if (!(db = db_open(p)))
		goto out;
	db_close(&db);
	rc = 0;
out:
	if (rc < 0)
		log_err("init of %s failed", dir);
	free(p);
	return rc;
}
