/*
 * officer.c: officers' software credentials, the bytes they sign and the check of a
 * signature (see officer.h). Shared by the producers (which sign) and the workers (which
 * verify); the registry lookup and the role rule are the workers' (workers/officer_check.c).
 *
 * Rules: private keys and passphrases are wiped after use; the signed bytes are built in
 * one function, officer_signed_bytes(), for both sides; a signature is only ever checked
 * after its certificate chained to the officer CA at the RA's time.
 */
#include "officer.h"
#include "b64.h"
#include "jobs.h"
#include "pem.h"
#include "secret_read.h"
#include "log.h"
#include "util.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OFFICER_SIG_LABEL "ra-officer-signature/1"

struct officer_cred {
	X509 *cert;
	EVP_PKEY *key;		/* a software credential's key; NULL for a device's */
	char *id;
	officer_sign_fn sign;	/* a device's key */
	void (*close)(void *ctx);
	void *ctx;
};

officer_cred_t *(*officer_card_opener)(const char *reader, const char *pin);

static const struct {
	const char *name;
	int role;
} officer_roles[] = {
	{ "clerk", ROLE_CLERK }, { "supervisor", ROLE_SUPERVISOR },
	{ "operator", ROLE_OPERATOR }, { "admin", ROLE_ADMIN },
};

/* Which roles may sign which job kind: the roles column of the one table of kinds
 * (JOB_KINDS, lib/jobs.h), read here without linking the ledger's code. */
static const struct {
	const char *kind;
	int roles;
} officer_actions[] = {
#define X(name, producers, roles, help) { #name, roles },
	JOB_KINDS(X)
#undef X
};

int officer_role_parse(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_LEN(officer_roles); i++)
		if (strcmp(officer_roles[i].name, name) == 0)
			return officer_roles[i].role;
	return 0;
}

const char *officer_role_name(int role)
{
	for (size_t i = 0; i < ARRAY_LEN(officer_roles); i++)
		if (officer_roles[i].role == role)
			return officer_roles[i].name;
	return "?";
}

int officer_kind_roles(const char *kind)
{
	for (size_t i = 0; kind && i < ARRAY_LEN(officer_actions); i++)
		if (strcmp(officer_actions[i].kind, kind) == 0)
			return officer_actions[i].roles;
	return 0;
}

const char *officer_roles_text(int roles)
{
	static char buf[64];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(officer_roles); i++)
		if (roles & officer_roles[i].role)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? " or " : "", officer_roles[i].name);
	return buf;
}

int officer_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > 32)
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

void officer_secret_free(char *s)
{
	secret_read_free(s);
}

char *officer_passphrase(const char *file, const char *prompt)
{
	char *p;
	FILE *f;
	int no_tty;

	if (file) {
		if (!(f = fopen(file, "r"))) {
			log_err("cannot read the passphrase file %s", file);
			return NULL;
		}
		p = secret_read(f, NULL, NULL);
		fclose(f);
		return p;
	}
	if (!(p = secret_read_tty(prompt, &no_tty)) && no_tty)
		log_err("no terminal to ask the passphrase on (use --passphrase-file)");
	return p;
}

char *officer_cert_cn(X509 *cert)
{
	X509_NAME *n = X509_get_subject_name(cert);
	int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	char *out;

	if (i < 0 || ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i))) < 0)
		return NULL;
	out = xstrdup((const char *)utf8);
	OPENSSL_free(utf8);
	return out;
}

void officer_cert_serial(X509 *cert, char out[41])
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(cert);
	int n = ASN1_STRING_length(s);
	const unsigned char *d = ASN1_STRING_get0_data(s);

	if (n > 20)
		n = 20;
	hex_encode(d, (size_t)n, out);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
}

officer_cred_t *officer_cred_load(const char *path, const char *passphrase)
{
	officer_cred_t *c = calloc(1, sizeof *c);
	BIO *b = NULL;

	if (!c)
		return NULL;
	if (!(b = BIO_new_file(path, "r")) || !(c->cert = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		log_err("%s: no officer certificate in it", path);
		goto fail;
	}
	BIO_free(b);
	if (!(b = BIO_new_file(path, "r")) ||
	    !(c->key = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)passphrase))) {
		log_err("%s: cannot open the officer's private key (wrong passphrase?)", path);
		goto fail;
	}
	if (X509_check_private_key(c->cert, c->key) != 1) {
		log_err("%s: the private key does not belong to the certificate", path);
		goto fail;
	}
	if (!(c->id = officer_cert_cn(c->cert))) {
		log_err("%s: the certificate names no officer (CN)", path);
		goto fail;
	}
	BIO_free(b);
	ERR_clear_error();
	return c;
fail:
	BIO_free(b);
	ERR_clear_error();
	officer_cred_destroy(&c);
	return NULL;
}

officer_cred_t *officer_cred_external(X509 *cert, officer_sign_fn sign, void (*close)(void *ctx), void *ctx)
{
	officer_cred_t *c = xcalloc(1, sizeof *c);

	c->cert = cert;
	c->sign = sign;
	c->close = close;
	c->ctx = ctx;
	if (!(c->id = officer_cert_cn(cert))) {
		log_err("the card's certificate names no officer (CN)");
		officer_cred_destroy(&c);
	}
	return c;
}

void officer_cred_destroy(officer_cred_t **c)
{
	if (!c || !*c)
		return;
	if ((*c)->close)
		(*c)->close((*c)->ctx);
	X509_free((*c)->cert);
	EVP_PKEY_free((*c)->key);
	free((*c)->id);
	free(*c);
	*c = NULL;
}

const char *officer_cred_id(const officer_cred_t *c)
{
	return c->id;
}

char *officer_cred_path(const config_t *cfg, const char *id, const char *file)
{
	char *dir, *path;

	if (file)
		return xstrdup(file);
	dir = config_path(cfg, "officers.credentials_dir");
	path = xasprintf("%s/%s.pem", dir, id);
	free(dir);
	return path;
}

officer_cred_t *officer_cred_open(const config_t *cfg, const char *id, const char *file,
    const char *passfile)
{
	char *path, *pass, *prompt;
	officer_cred_t *c = NULL;

	if (!officer_id_valid(id)) {
		fprintf(stderr, "'%s' is not an officer id (1 to 32 of a-z 0-9 . _ -)\n", id ? id : "");
		return NULL;
	}
	path = officer_cred_path(cfg, id, file);
	prompt = xasprintf(strncmp(path, "card:", 5) == 0 ? "PIN of officer %s's card: " : "passphrase of officer %s: ", id);
	if (!(pass = officer_passphrase(passfile, prompt))) {
		fprintf(stderr, "no passphrase for officer %s's credential\n", id);
		goto out;
	}
	if (strncmp(path, "card:", 5) == 0) {
		if (!officer_card_opener)
			fprintf(stderr, "this program cannot use officer cards\n");
		else if (!(c = officer_card_opener(path + 5, pass)))
			fprintf(stderr, "cannot use officer %s's card in %s\n", id, path + 5);
		if (!c)
			goto out;
	} else if (!(c = officer_cred_load(path, pass))) {
		fprintf(stderr, "cannot open officer %s's credential %s\n", id, path);
		goto out;
	}
	if (strcmp(c->id, id) != 0) {
		fprintf(stderr, "the credential %s is officer %s's, not %s's\n", path, c->id, id);
		officer_cred_destroy(&c);
	}
out:
	officer_secret_free(pass);
	free(prompt);
	free(path);
	return c;
}

/* Append LEN bytes of P to BUF (at *N, of size CAP) with their 4-byte big-endian length. */
static void put_part(unsigned char **buf, size_t *n, size_t *cap, const void *p, size_t len)
{
	if (*n + 4 + len > *cap) {
		*cap = (*n + 4 + len) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	(*buf)[(*n)++] = (unsigned char)(len >> 24);
	(*buf)[(*n)++] = (unsigned char)(len >> 16);
	(*buf)[(*n)++] = (unsigned char)(len >> 8);
	(*buf)[(*n)++] = (unsigned char)len;
	memcpy(*buf + *n, p, len);
	*n += len;
}

/* The bytes an officer signs for a job (see officer.h). Caller frees; NULL on failure. */
static unsigned char *officer_signed_bytes(const char *kind, const char *idem, const json_t *payload, size_t *len)
{
	json_t *copy = json_deep_copy(payload);
	unsigned char md[32], *buf = NULL;
	unsigned int mdlen = 0;
	size_t n = 0, cap = 0;
	char *text;

	if (!copy)
		return NULL;
	json_object_del(copy, OFFICER_SIG_MEMBER);
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (!text || !EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL)) {
		free(text);
		return NULL;
	}
	free(text);
	put_part(&buf, &n, &cap, OFFICER_SIG_LABEL, strlen(OFFICER_SIG_LABEL));
	put_part(&buf, &n, &cap, kind, strlen(kind));
	put_part(&buf, &n, &cap, idem, strlen(idem));
	put_part(&buf, &n, &cap, md, mdlen);
	*len = n;
	return buf;
}

int officer_sign(const officer_cred_t *c, const char *kind, const char *idem, json_t *payload)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *tbs = NULL, *sig = NULL;
	size_t tbslen = 0, siglen = 0;
	char *pem = NULL, *sig64 = NULL;
	int rc = -1;

	if (!md || !idem || !*idem || !(tbs = officer_signed_bytes(kind, idem, payload, &tbslen)))
		goto out;
	if (c->sign) {
		unsigned char d[32];
		unsigned int dlen = 0;
		if (!EVP_Digest(tbs, tbslen, d, &dlen, EVP_sha256(), NULL) || c->sign(c->ctx, d, &sig, &siglen) < 0)
			goto out;
	} else {
		if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, c->key) != 1 ||
		    EVP_DigestSign(md, NULL, &siglen, tbs, tbslen) != 1)
			goto out;
		sig = xmalloc(siglen);
		if (EVP_DigestSign(md, sig, &siglen, tbs, tbslen) != 1)
			goto out;
	}
	if (!(pem = pem_cert_text(c->cert)))
		goto out;
	sig64 = b64_encode(sig, siglen);
	json_object_set_new(payload, OFFICER_SIG_MEMBER, json_pack("{s:i,s:s,s:s}", "v", 1, "cert", pem, "sig", sig64));
	rc = 0;
out:
	if (rc < 0)
		log_err("cannot sign the %s job as officer %s", kind, c->id);
	EVP_MD_CTX_free(md);
	free(pem);
	free(tbs);
	free(sig);
	free(sig64);
	return rc;
}

char *officer_idem_new(const char *prefix)
{
	uint8_t r[16];
	char hex[33];

	if (RAND_bytes(r, sizeof r) != 1)
		fatal("no randomness for an idempotency key");
	hex_encode(r, sizeof r, hex);
	return xasprintf("%s:%s", prefix, hex);
}

int officer_cred_write(const char *path, X509 *cert, EVP_PKEY *key, const char *passphrase)
{
	FILE *f = NULL;
	int rc = -1;

	unlink(path);
	if (!(f = fopen(path, "wx")) || fchmod(fileno(f), 0600) < 0)
		goto out;
	if (!PEM_write_X509(f, cert) ||
	    !PEM_write_PKCS8PrivateKey(f, key, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)passphrase))
		goto out;
	rc = 0;
out:
	if (f && fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		log_err("cannot write the officer credential %s", path);
	return rc;
}

X509_STORE *officer_ca_store(const char *ca_cert_path)
{
	X509_STORE *s = X509_STORE_new();
	FILE *f = fopen(ca_cert_path, "r");
	X509 *ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	if (!s || !ca || X509_STORE_add_cert(s, ca) != 1) {
		log_err("cannot load the officer CA certificate %s", ca_cert_path);
		X509_STORE_free(s);
		s = NULL;
	}
	X509_free(ca);
	return s;
}

static X509 *refuse(char *err, size_t errlen, X509 *cert, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static X509 *refuse(char *err, size_t errlen, X509 *cert, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	X509_free(cert);
	ERR_clear_error();
	return NULL;
}

X509 *officer_sig_verify(X509_STORE *store, const char *kind, const char *idem, const json_t *payload,
    char *err, size_t errlen)
{
	json_t *s = json_object_get(payload, OFFICER_SIG_MEMBER);
	const char *pem = json_string_value(json_object_get(s, "cert"));
	const char *sig64 = json_string_value(json_object_get(s, "sig"));
	X509_STORE_CTX *sctx;
	X509 *cert = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0, tbslen = 0;
	unsigned char *tbs;
	EVP_MD_CTX *md;
	int ok, verr;

	if (!s)
		return refuse(err, errlen, NULL, "a %s job must be signed by an officer (no %s)", kind, OFFICER_SIG_MEMBER);
	if (json_integer_value(json_object_get(s, "v")) != 1 || !pem || !sig64)
		return refuse(err, errlen, NULL, "the officer signature is malformed (v 1, cert, sig)");
	if (!idem || !*idem)
		return refuse(err, errlen, NULL, "a signed job needs an idempotency key");
	if (!(cert = pem_cert(pem)))
		return refuse(err, errlen, NULL, "the officer certificate is not readable");
	sctx = X509_STORE_CTX_new();
	if (!sctx || X509_STORE_CTX_init(sctx, store, cert, NULL) != 1) {
		X509_STORE_CTX_free(sctx);
		return refuse(err, errlen, cert, "cannot check the officer certificate");
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(sctx), ra_now());
	ok = X509_verify_cert(sctx);
	verr = X509_STORE_CTX_get_error(sctx);
	X509_STORE_CTX_free(sctx);
	if (ok != 1)
		return refuse(err, errlen, cert, "the officer certificate is refused: %s (not from the officer CA,"
		    " or not valid now)", X509_verify_cert_error_string(verr));
	if (b64_decode(sig64, &sig, &siglen) < 0)
		return refuse(err, errlen, cert, "the officer signature is not base64");
	if (!(tbs = officer_signed_bytes(kind, idem, payload, &tbslen))) {
		free(sig);
		return refuse(err, errlen, cert, "cannot compute what the officer signed");
	}
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, tbs, tbslen) == 1;
	EVP_MD_CTX_free(md);
	free(sig);
	free(tbs);
	if (!ok)
		return refuse(err, errlen, cert, "the officer signature does not match this %s job", kind);
	ERR_clear_error();
	return cert;
}
