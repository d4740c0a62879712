/*
 * store.h: signer.db, the signer's own SQLite database (WAL).
 *
 * Tables: `certs` (every certificate issued, with its request id, serial, usage, subject,
 * validity, DER, revocation state, the DER of its entry in CRLs and the sequence number of
 * its last status change), `cert_keys` (the SHA-256 of each certificate's
 * SubjectPublicKeyInfo, UNIQUE: a public key is certified once), `journal` (append-only: triggers refuse UPDATE and
 * DELETE; one row per signing, status change and CRL) and `meta` (schema version, CRL
 * number, the change sequence, the base of delta CRLs). The request id and the serial are UNIQUE, so a second certificate for one
 * request, or a repeated serial, cannot be stored. Statements are prepared once.
 */
#ifndef RA_STORE_H
#define RA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "signer.h"

typedef struct store store_t;

struct store_cert {
	char request_id[128];
	char serial[SIGNER_SERIAL_LEN];
	char usage[16];
	char status[16];		/* "valid", "revoked", "held" */
	const char *subject;		/* for inserts only */
	int reason;			/* -1: none */
	int64_t revoked_at, invalidity_date, not_before, not_after;
	uint8_t csr_sha256[32];
	uint8_t req_sha256[32];		/* digest of the whole request, for idempotency */
	uint8_t spki_sha256[32];	/* for inserts only: the certified key */
	const char *account;		/* for inserts only: the subscriber's account id */
	uint8_t *der;			/* malloc'd when read with want_der */
	size_t der_len;
};

/* Open (creating) PATH, WAL, schema in place. NULL and the reason logged. */
store_t *store_open(const char *path);
void store_close(store_t **st);

/* Transactions: BEGIN IMMEDIATE / COMMIT (and store_sync) / ROLLBACK. 0/-1. */
int store_begin(store_t *st);
int store_commit(store_t *st);
int store_rollback(store_t *st);
/* COMMIT without the sync: durable only once a store_sync that started after it returns. */
int store_commit_nosync(store_t *st);
/* Make every committed transaction durable (fdatasync of the WAL). Safe to call from a
 * thread other than the one using the database. 0/-1. */
int store_sync(store_t *st);
/* A read transaction around several look-ups, so that they see one state of signer.db
 * and take its locks once rather than once per statement (two fcntl calls each): 1 begun,
 * 0 when a transaction is already open (nothing to end), -1 on error. store_read_end
 * takes what store_read_begin returned. */
int store_read_begin(store_t *st);
void store_read_end(store_t *st, int begun);
/* A savepoint inside (or, alone, as) a transaction: one request's writes all or none. */
int store_sp_begin(store_t *st);
/* Release the savepoint (OK) or undo its writes (!OK); synced when it was the whole
 * transaction. 0/-1. */
int store_sp_end(store_t *st, int ok);

/* Look a certificate up. 1 found (*c filled; c->der malloc'd if WANT_DER), 0 none, -1. */
int store_cert_by_request(store_t *st, const char *request_id, struct store_cert *c, int want_der);
int store_cert_by_serial(store_t *st, const char *serial, struct store_cert *c, int want_der);
/* 1 if SERIAL is taken, 0 if free, -1 on error. */
int store_serial_exists(store_t *st, const char *serial);
/* Insert a new valid certificate and its key row. 0, 1 when its serial is already taken,
 * 2 when its key is already certified, -1 on error. */
int store_cert_insert(store_t *st, const struct store_cert *c);
/*
 * Insert N new valid certificates with their key rows and their journal rows ("issue", at
 * AT), all or none, in a few statements (the batch's fast path). 0 all stored, 1 none
 * because one conflicts (a serial or key taken: store them one by one to learn which), -1
 * error (none stored).
 */
int store_issue_rows(store_t *st, const struct store_cert *c, size_t n, int64_t at);
struct store_key_use {
	char request_id[128];
	char serial[SIGNER_SERIAL_LEN];
	char usage[16];
	char account[64];
};
/* The certificate issued for the key whose SPKI digest is SPKI_SHA256: 1 found (*u
 * filled), 0 none, -1 error. */
int store_key_find(store_t *st, const uint8_t spki_sha256[32], struct store_key_use *u);
/* Read a certificate's key digest and account from its DER. 0/-1. */
typedef int (*store_key_fn)(const uint8_t *der, size_t len, uint8_t spki_sha256[32],
    char account[64]);
/* Record the key of every certificate stored before keys were recorded (a signer.db from
 * an earlier version), in one transaction. 0/-1. */
int store_keys_backfill(store_t *st, store_key_fn fn);
/*
 * Set a certificate's status ("valid" clears reason and dates) with ENTRY, the DER of its
 * entry in the next CRL or delta CRL (a removeFromCRL entry for a release), and give it
 * the next change sequence number. 0/-1.
 */
int store_cert_set_status(store_t *st, const char *serial, const char *status, int reason,
    int64_t at, int64_t invalidity_date, const uint8_t *entry, size_t entry_len);

/* Append a journal row (REQUEST_ID, SERIAL may be NULL; REASON -1: none). 0/-1. */
int store_journal(store_t *st, int64_t at, const char *request_id, const char *action,
    const char *serial, int reason, const char *detail);
/*
 * The status change (revoke, hold, release) request REQUEST_ID made to SERIAL, if any:
 * 1 with ACTION and *REASON filled, 0 none, -1 error.
 */
int store_change_find(store_t *st, const char *request_id, const char *serial,
    char action[16], int *reason);

/* Increment and return the CRL number (in the current transaction). 0/-1. */
int store_crl_number_next(store_t *st, long long *n);
/* The last CRL number (0 none, -1 error). */
long long store_crl_number(store_t *st);
/* Record that an audit checkpoint of ROWS rows is signed (in the current transaction):
 * 1 done, 0 refused (a checkpoint of more rows was signed before), -1 error. */
int store_checkpoint_advance(store_t *st, int64_t rows);

/* One row for a CRL; the pointers hold only during the callback. */
struct store_crl_row {
	const char *serial, *status;
	int reason;			/* -1: none */
	int64_t revoked_at, invalidity_date;
	const uint8_t *entry;		/* the cached entry DER; NULL when not cached yet */
	size_t entry_len;
};
typedef int (*store_crl_fn)(void *arg, const struct store_crl_row *row);
/* Call FN for each revoked or held certificate whose not_after is after NOW. 0/-1 (or
 * FN's non-zero return). */
int store_crl_foreach(store_t *st, int64_t now, store_crl_fn fn, void *arg);
/* Call FN for each unexpired certificate whose status changed after change SINCE_SEQ
 * (released ones included). 0/-1 (or FN's non-zero return). */
int store_delta_foreach(store_t *st, long long since_seq, int64_t now, store_crl_fn fn,
    void *arg);
/* Cache the CRL entry of SERIAL (rows revoked before entries were cached). 0/-1. */
int store_crl_entry_set(store_t *st, const char *serial, const uint8_t *entry, size_t len);
/* meta values: "change_seq", "base_crl_number", "base_change_seq". 0/-1. */
int store_meta_get(store_t *st, const char *key, long long *value);
int store_meta_set(store_t *st, const char *key, long long value);
/* Call FN with the serial of every certificate ever issued. 0/-1 (or FN's return). */
int store_serials_foreach(store_t *st, int (*fn)(void *arg, const char *serial), void *arg);

#endif
