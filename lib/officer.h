/*
 * officer.h: officers' credentials and what they sign.
 *
 * Every officer action (keying, second keying, approval, bulk revocation, renewal at the
 * counter, card-station runs, the officer registry itself) is a job whose payload carries
 * "officer_sig": {"v": 1, "cert": PEM, "sig": base64}, a signature by the officer's own
 * key over exactly what is asked. The signed bytes are a versioned, length-prefixed
 * encoding (each part a 4-byte big-endian length, then its bytes) of:
 *
 *     "ra-officer-signature/1", the job kind, the job's idempotency key,
 *     SHA-256 of the payload without "officer_sig" (compact JSON, keys sorted)
 *
 * so a signature fits one job only: another kind, another key (a second job) or any other
 * content fails. A producer's CURVE key says which station or counter sent a job; only the
 * signature says which officer asked for it. The back office checks the certificate
 * against the officer CA (officers.ca_cert), its validity, the officer registry (ra.db:
 * enabled, role for the kind) and then the signature, before anything is applied.
 *
 * A credential is the officer's own PIV card (the key made on the card in slot 9C, the
 * certificate beside it, the PIN asked for each run: card-station/officer_card.c), named
 * "card:READER" wherever a credential file is asked for; or, for small sites and tests, a
 * PEM file holding the certificate and the private key (encrypted PKCS#8, the passphrase
 * is the officer's), kept by default in officers.credentials_dir/ID.pem.
 */
#ifndef RA_OFFICER_H
#define RA_OFFICER_H

#include <jansson.h>
#include <openssl/x509.h>

#include "config.h"
#include "jobs.h"

typedef struct officer_cred officer_cred_t;

/* The payload member holding the signature. */
#define OFFICER_SIG_MEMBER "officer_sig"

/* The role named NAME (clerk, supervisor, operator, admin), or 0. */
int officer_role_parse(const char *name);
const char *officer_role_name(int role);
/* The roles (bit set) that may sign a job of KIND (the roles column of lib/jobs.h's
 * JOB_KINDS); 0 if KIND is not an officer action or no kind. */
int officer_kind_roles(const char *kind);
/* The role names of ROLES as "clerk or supervisor" (static buffer). */
const char *officer_roles_text(int roles);
/* Whether ID is a valid officer id: 1 to 32 of a-z 0-9 . _ - (lower case). */
int officer_id_valid(const char *id);

/* A credential whose key never leaves its device: SIGN signs a SHA-256 DIGEST with the key
 * of CERT (ECDSA as DER, or RSA PKCS#1 v1.5), *sig malloc'd, 0/-1; CLOSE releases CTX.
 * Takes CERT. */
typedef int (*officer_sign_fn)(void *ctx, const unsigned char digest[32], unsigned char **sig, size_t *siglen);
officer_cred_t *officer_cred_external(X509 *cert, officer_sign_fn sign, void (*close)(void *ctx), void *ctx);
/* How a program that links the card code opens "card:READER" with PIN (set at start-up to
 * officer_card_open); NULL: this program has no card support. */
extern officer_cred_t *(*officer_card_opener)(const char *reader, const char *pin);

/* Load a credential file: the certificate and the private key sealed under PASSPHRASE.
 * NULL on failure (logged, with the reason: wrong passphrase, no certificate, mismatch). */
officer_cred_t *officer_cred_load(const char *path, const char *passphrase);
void officer_cred_destroy(officer_cred_t **c);
/* The officer id (the certificate's CN) of C. */
const char *officer_cred_id(const officer_cred_t *c);

/*
 * What a producer does for --officer ID [--credential FILE] [--passphrase-file F]: the
 * credential FILE (default officers.credentials_dir/ID.pem; "card:READER" for a card),
 * opened with the passphrase (a card's PIN) of F's first line or asked on the terminal.
 * The certificate must name ID. NULL with the reason on stderr.
 */
officer_cred_t *officer_cred_open(const config_t *cfg, const char *id, const char *file,
    const char *passfile);
/* The credential file of officer ID: FILE if not NULL, else officers.credentials_dir/ID.pem.
 * Caller frees. */
char *officer_cred_path(const config_t *cfg, const char *id, const char *file);
/* A passphrase: the first line of FILE, or asked on /dev/tty with PROMPT (no echo). NULL if
 * none. Free with officer_secret_free(). */
char *officer_passphrase(const char *file, const char *prompt);
void officer_secret_free(char *s);

/* Sign a job: add OFFICER_SIG_MEMBER to PAYLOAD for KIND with idempotency key IDEM. 0/-1. */
int officer_sign(const officer_cred_t *c, const char *kind, const char *idem, json_t *payload);
/* A fresh idempotency key "PREFIX:<32 random hex>" for a signed job that has no natural one.
 * Caller frees. */
char *officer_idem_new(const char *prefix);

/* Write a credential file PATH (mode 0600): CERT and KEY, the key encrypted (PKCS#8,
 * AES-256) under PASSPHRASE. 0/-1. */
int officer_cred_write(const char *path, X509 *cert, EVP_PKEY *key, const char *passphrase);

/* The officer CA's certificate as a trust store; NULL on failure (logged). */
X509_STORE *officer_ca_store(const char *ca_cert_path);
/*
 * Check the signature in PAYLOAD for KIND and IDEM: the certificate chains to the officer
 * CA in STORE and is valid now (ra_now()), and the signature is right. Returns the
 * certificate (caller frees) or NULL with ERR (ERRLEN) saying why.
 */
X509 *officer_sig_verify(X509_STORE *store, const char *kind, const char *idem, const json_t *payload,
    char *err, size_t errlen);
/* The certificate's serial as upper-case hex (no leading zeros but one byte at least). */
void officer_cert_serial(X509 *cert, char out[41]);
/* The certificate's CN, malloc'd, or NULL. */
char *officer_cert_cn(X509 *cert);

#endif
