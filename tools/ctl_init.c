/*
 * ctl_init.c: `ra-ctl init DIR`, a fresh single-host deployment for development, tests
 * and the demo: ra.yaml, the CURVE key pairs and allowlists, the notifier's sheet key,
 * the workers' sealing key, the cards' master key (ra-cardkey's, and card-station's for
 * personalization), a development CA (RSA 3072 unless
 * --ca-bits says otherwise; encrypted PEM with a random passphrase in a 0600 file), the
 * OCSP responder's key and certificate, the officer CA and the first administrator's
 * credential (ctl_officer.c), and a ledger whose officer registry holds that
 * administrator. Production sites replace the CA with their own (or a PKCS#11 token) and
 * keep the rest.
 */
#include "ctl.h"
#include "db.h"
#include "jobs.h"
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
	"  crl_dir: crl\n"
	"cardkey:\n"
	"  endpoint: ipc://run/cardkey.sock\n";

/* Write a random secret of N bytes as hex into PATH (mode 0600). */
static int write_secret(const char *path, size_t n)
{
	uint8_t r[64];
	char hex[129];
	int rc;
	if (n > sizeof r || RAND_bytes(r, (int)n) != 1) {
		log_err("random generator failed: no secret for %s", path);
		return -1;
	}
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
	int rc = c ? zcert_save(c, path) : -1;
	zcert_destroy(&c);
	return rc;
}

/* An X25519 sealing key pair DIR/keys/NAME.{key,pub}, the private half encrypted with a
 * fresh passphrase in NAME.pass. 0/-1. */
static int make_seal_key(const char *dir, const char *name)
{
	char *priv = xasprintf("%s/keys/%s.key", dir, name), *pass = xasprintf("%s/keys/%s.pass", dir, name);
	char *pub = xasprintf("%s/keys/%s.pub", dir, name);
	int rc = write_secret(pass, 24) < 0 || seal_keygen(priv, pass, pub) < 0 ? -1 : 0;
	free(priv);
	free(pass);
	free(pub);
	return rc;
}

/* A passphrase file's first line; NULL if unreadable. Free with secret_free(). */
static char *read_secret(const char *path)
{
	char *s = file_read(path, NULL);
	if (s)
		s[strcspn(s, "\n")] = '\0';
	return s;
}

static void secret_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* Write KEY encrypted with a fresh passphrase (in PASSP, 0600) to KEYP, and CERT to CERTP. 0/-1. */
static int save_pair(const char *keyp, const char *passp, EVP_PKEY *key, const char *certp, X509 *cert)
{
	char *pass = NULL;
	FILE *f = NULL;
	int rc = -1;

	if (write_secret(passp, 24) < 0 || !(pass = read_secret(passp)))
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
	secret_free(pass);
	return rc;
}

static int make_ca(const char *dir, int bits)
{
	static const struct ctl_ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" }, { NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" }, { NID_authority_key_identifier, "keyid:always" },
	};
	char *keyp = xasprintf("%s/signer/ca.key", dir), *passp = xasprintf("%s/signer/ca.pass", dir);
	char *certp = xasprintf("%s/signer/ca.pem", dir);
	EVP_PKEY *key = EVP_RSA_gen((unsigned)bits);
	X509 *cert = key ? ctl_dev_cert(key, "Intellectual Property Office e-Filing",
	    "RA Development CA (not for production)", NULL, key, 10, exts, ARRAY_LEN(exts)) : NULL;
	int rc = cert ? save_pair(keyp, passp, key, certp, cert) : -1;

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
	static const struct ctl_ext exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" }, { NID_key_usage, "critical,digitalSignature" },
		{ NID_ext_key_usage, "critical,OCSPSigning" }, { NID_id_pkix_OCSP_noCheck, "ignored" },
		{ NID_subject_key_identifier, "hash" }, { NID_authority_key_identifier, "keyid:always" },
	};
	char *cakeyp = xasprintf("%s/signer/ca.key", dir), *capassp = xasprintf("%s/signer/ca.pass", dir);
	char *cacertp = xasprintf("%s/signer/ca.pem", dir), *keyp = xasprintf("%s/keys/ocsp.key", dir);
	char *passp = xasprintf("%s/keys/ocsp.pass", dir), *certp = xasprintf("%s/keys/ocsp.pem", dir);
	char *capass = read_secret(capassp);
	EVP_PKEY *cakey = NULL, *key = EVP_EC_gen("P-256");
	X509 *ca = NULL, *cert = NULL;
	FILE *f = NULL;
	int rc = -1;

	if (!key || !capass)
		goto out;
	if (!(f = fopen(cakeyp, "r")) || !(cakey = PEM_read_PrivateKey(f, NULL, NULL, capass)))
		goto out;
	fclose(f);
	if (!(f = fopen(cacertp, "r")) || !(ca = PEM_read_X509(f, NULL, NULL, NULL)))
		goto out;
	fclose(f);
	f = NULL;
	cert = ctl_dev_cert(key, NULL, "RA Development OCSP Responder (not for production)", ca, cakey, 2,
	    exts, ARRAY_LEN(exts));
	rc = cert ? save_pair(keyp, passp, key, certp, cert) : -1;
out:
	if (f)
		fclose(f);
	secret_free(capass);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	free(cakeyp); free(capassp); free(cacertp); free(keyp); free(passp); free(certp);
	return rc;
}

int ctl_init(const char *dir, int force, int ca_bits, const char *admin, const char *passfile)
{
	char *p, *pass = NULL;
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
	/* The first administrator's passphrase before anything is made: without it, nothing is. */
	if (!officer_id_valid(admin)) {
		log_err("'%s' is not an officer id (1 to 32 of a-z 0-9 . _ -)", admin);
		return -1;
	}
	p = xasprintf("administrator %s", admin);
	pass = ctl_new_passphrase(passfile, p);
	free(p);
	if (!pass)
		return -1;
	static const char *const subdirs[] = { "keys/clients", "keys/workers", "signer", "cardkey", "run", "log", "crl",
					       "outbox", "sheets", "officers" };
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		p = xasprintf("%s/%s", dir, subdirs[i]);
		if (mkdir_p(p, 0700) < 0) {
			log_err("cannot create %s: %s", p, strerror(errno));
			goto out;
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
	KEY("%s/keys/cardkey.cert", dir);
	KEY("%s/keys/workers/worker.cert", dir);
	for (int i = 0; i < PRODUCER_COUNT; i++)	/* one key pair per producer (lib/jobs.h) */
		KEY("%s/keys/clients/%s.cert", dir, job_producer_names[i]);
#undef KEY
	/* The notifier's sheet key (new passwords and PINs are sealed to it) and the workers'
	 * (subscribers' typed passwords travel to them sealed). */
	if (make_seal_key(dir, "sheets") < 0 || make_seal_key(dir, "worker-seal") < 0)
		goto out;
	p = xasprintf("%s/keys/card-master.key", dir);
	if (write_secret(p, 32) < 0)
		goto out;
	free(p);
	p = NULL;
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
	if (ctl_officer_bootstrap(dir, db, admin, pass) < 0) {
		log_err("cannot make the officer CA and the first administrator");
		db_close(&db);
		goto out;
	}
	db_close(&db);
	rc = 0;
out:
	if (rc < 0)
		log_err("init of %s failed", dir);
	officer_secret_free(pass);
	free(p);
	return rc;
}
