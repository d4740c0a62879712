/*
 * store.c: signer.db (see store.h).
 *
 * The signer is the only writer, so one connection with statements prepared at open is
 * enough. synchronous=FULL: a certificate reported as issued must survive a power cut;
 * the cost is paid once per group commit, not once per certificate. The CRL query uses a
 * partial index over the (few) certificates that are not valid, so publishing does not
 * scan the whole table.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "util.h"

#define STORE_SCHEMA_VERSION 1

static const char store_schema[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	"  key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta VALUES ('schema_version', 1), ('crl_number', 0);"
	"CREATE TABLE IF NOT EXISTS certs ("
	"  id INTEGER PRIMARY KEY,"
	"  request_id TEXT NOT NULL UNIQUE,"
	"  serial TEXT NOT NULL UNIQUE,"
	"  usage TEXT NOT NULL CHECK (usage IN ('signature', 'encryption')),"
	"  subject TEXT NOT NULL,"
	"  csr_sha256 BLOB NOT NULL,"
	"  req_sha256 BLOB NOT NULL,"
	"  not_before INTEGER NOT NULL,"
	"  not_after INTEGER NOT NULL,"
	"  der BLOB NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked', 'held')),"
	"  reason INTEGER,"
	"  revoked_at INTEGER,"
	"  invalidity_date INTEGER);"
	"CREATE INDEX IF NOT EXISTS certs_listed ON certs(status, not_after)"
	"  WHERE status != 'valid';"
	"CREATE TABLE IF NOT EXISTS journal ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  at INTEGER NOT NULL,"
	"  request_id TEXT,"
	"  action TEXT NOT NULL CHECK (action IN ('issue', 'revoke', 'hold', 'release', 'crl')),"
	"  serial TEXT,"
	"  reason INTEGER,"
	"  detail TEXT);"
	"CREATE UNIQUE INDEX IF NOT EXISTS journal_change ON journal(request_id, serial)"
	"  WHERE action IN ('revoke', 'hold', 'release');"
	"CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal"
	"  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal"
	"  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;";

enum {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_SP, Q_SP_RELEASE, Q_SP_UNDO,
	Q_BY_REQUEST, Q_BY_SERIAL, Q_SERIAL_EXISTS, Q_INSERT, Q_SET_STATUS, Q_JOURNAL,
	Q_CHANGE, Q_CRL_INC, Q_CRL_GET, Q_CRL_LIST, Q_COUNT
};

#define CERT_COLS "request_id, serial, usage, status, reason, revoked_at, invalidity_date," \
	" not_before, not_after, csr_sha256, req_sha256, der"

static const char *const store_sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SP] = "SAVEPOINT req",
	[Q_SP_RELEASE] = "RELEASE req",
	[Q_SP_UNDO] = "ROLLBACK TO req",
	[Q_BY_REQUEST] = "SELECT " CERT_COLS " FROM certs WHERE request_id = ?",
	[Q_BY_SERIAL] = "SELECT " CERT_COLS " FROM certs WHERE serial = ?",
	[Q_SERIAL_EXISTS] = "SELECT 1 FROM certs WHERE serial = ?",
	[Q_INSERT] = "INSERT INTO certs (request_id, serial, usage, subject, csr_sha256,"
		" req_sha256, not_before, not_after, der) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[Q_SET_STATUS] = "UPDATE certs SET status = ?, reason = ?, revoked_at = ?,"
		" invalidity_date = ? WHERE serial = ?",
	[Q_JOURNAL] = "INSERT INTO journal (at, request_id, action, serial, reason, detail)"
		" VALUES (?, ?, ?, ?, ?, ?)",
	[Q_CHANGE] = "SELECT action, reason FROM journal WHERE request_id = ? AND serial = ?"
		" AND action IN ('revoke', 'hold', 'release')",
	[Q_CRL_INC] = "UPDATE meta SET value = value + 1 WHERE key = 'crl_number'",
	[Q_CRL_GET] = "SELECT value FROM meta WHERE key = 'crl_number'",
	[Q_CRL_LIST] = "SELECT serial, reason, revoked_at, invalidity_date FROM certs"
		" WHERE status != 'valid' AND not_after > ?",
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *q[Q_COUNT];
};

static void store_fail(store_t *st, const char *what)
{
	log_err("signer database %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

store_t *store_open(const char *path)
{
	store_t *st = xcalloc(1, sizeof *st);
	char *errmsg = NULL;
	long long version;
	sqlite3_stmt *v = NULL;

	st->path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_fail(st, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	if (sqlite3_exec(st->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	    "PRAGMA foreign_keys = ON;", NULL, NULL, &errmsg) != SQLITE_OK ||
	    sqlite3_exec(st->db, store_schema, NULL, NULL, &errmsg) != SQLITE_OK) {
		log_err("signer database %s: cannot set up the schema: %s", path,
		    errmsg ? errmsg : "?");
		sqlite3_free(errmsg);
		goto fail;
	}
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'schema_version'",
	    -1, &v, NULL) != SQLITE_OK || sqlite3_step(v) != SQLITE_ROW) {
		store_fail(st, "cannot read the schema version");
		sqlite3_finalize(v);
		goto fail;
	}
	version = sqlite3_column_int64(v, 0);
	sqlite3_finalize(v);
	if (version != STORE_SCHEMA_VERSION) {
		log_err("signer database %s has schema version %lld; this signer knows %d",
		    path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	for (int i = 0; i < Q_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &st->q[i], NULL) != SQLITE_OK) {
			store_fail(st, store_sql[i]);
			goto fail;
		}
	}
	return st;
fail:
	store_close(&st);
	return NULL;
}

void store_close(store_t **stp)
{
	store_t *st;

	if (!stp || !*stp)
		return;
	st = *stp;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(st->q[i]);
	if (st->db)
		sqlite3_close(st->db);
	free(st->path);
	free(st);
	*stp = NULL;
}

/* Run a statement that returns no row. */
static int store_exec(store_t *st, int q)
{
	int rc = sqlite3_step(st->q[q]);
	sqlite3_reset(st->q[q]);
	if (rc != SQLITE_DONE) {
		store_fail(st, store_sql[q]);
		return -1;
	}
	return 0;
}

int store_begin(store_t *st) { return store_exec(st, Q_BEGIN); }
int store_commit(store_t *st) { return store_exec(st, Q_COMMIT); }

int store_rollback(store_t *st)
{
	if (sqlite3_get_autocommit(st->db))
		return 0;	/* SQLite already rolled back (e.g. after a failed COMMIT) */
	return store_exec(st, Q_ROLLBACK);
}

int store_sp_begin(store_t *st) { return store_exec(st, Q_SP); }

int store_sp_end(store_t *st, int ok)
{
	if (!ok && store_exec(st, Q_SP_UNDO) < 0)
		return -1;
	return store_exec(st, Q_SP_RELEASE);
}

static void store_copy_text(char *dst, size_t cap, sqlite3_stmt *q, int col)
{
	const char *t = (const char *)sqlite3_column_text(q, col);
	snprintf(dst, cap, "%s", t ? t : "");
}

static int64_t store_int_or(sqlite3_stmt *q, int col, int64_t none)
{
	return sqlite3_column_type(q, col) == SQLITE_NULL ? none : sqlite3_column_int64(q, col);
}

static void store_copy_blob(uint8_t *dst, size_t cap, sqlite3_stmt *q, int col)
{
	size_t n = (size_t)sqlite3_column_bytes(q, col);
	memset(dst, 0, cap);
	memcpy(dst, sqlite3_column_blob(q, col), n < cap ? n : cap);
}

static int store_cert_get(store_t *st, int qi, const char *key, struct store_cert *c,
    int want_der)
{
	sqlite3_stmt *q = st->q[qi];
	int rc;

	memset(c, 0, sizeof *c);
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		rc = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		store_fail(st, "cannot read a certificate");
		rc = -1;
		goto out;
	}
	store_copy_text(c->request_id, sizeof c->request_id, q, 0);
	store_copy_text(c->serial, sizeof c->serial, q, 1);
	store_copy_text(c->usage, sizeof c->usage, q, 2);
	store_copy_text(c->status, sizeof c->status, q, 3);
	c->reason = (int)store_int_or(q, 4, -1);
	c->revoked_at = store_int_or(q, 5, 0);
	c->invalidity_date = store_int_or(q, 6, 0);
	c->not_before = sqlite3_column_int64(q, 7);
	c->not_after = sqlite3_column_int64(q, 8);
	store_copy_blob(c->csr_sha256, sizeof c->csr_sha256, q, 9);
	store_copy_blob(c->req_sha256, sizeof c->req_sha256, q, 10);
	if (want_der) {
		c->der_len = (size_t)sqlite3_column_bytes(q, 11);
		c->der = xmalloc(c->der_len);
		memcpy(c->der, sqlite3_column_blob(q, 11), c->der_len);
	}
	rc = 1;
out:
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

int store_cert_by_request(store_t *st, const char *request_id, struct store_cert *c, int want_der)
{
	return store_cert_get(st, Q_BY_REQUEST, request_id, c, want_der);
}

int store_cert_by_serial(store_t *st, const char *serial, struct store_cert *c, int want_der)
{
	return store_cert_get(st, Q_BY_SERIAL, serial, c, want_der);
}

int store_serial_exists(store_t *st, const char *serial)
{
	sqlite3_stmt *q = st->q[Q_SERIAL_EXISTS];
	int rc;

	sqlite3_bind_text(q, 1, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		rc = 1;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else {
		store_fail(st, "cannot look a serial up");
		rc = -1;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

int store_cert_insert(store_t *st, const struct store_cert *c)
{
	sqlite3_stmt *q = st->q[Q_INSERT];
	int rc;

	sqlite3_bind_text(q, 1, c->request_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, c->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, c->usage, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, c->subject, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 5, c->csr_sha256, sizeof c->csr_sha256, SQLITE_STATIC);
	sqlite3_bind_blob(q, 6, c->req_sha256, sizeof c->req_sha256, SQLITE_STATIC);
	sqlite3_bind_int64(q, 7, c->not_before);
	sqlite3_bind_int64(q, 8, c->not_after);
	sqlite3_bind_blob(q, 9, c->der, (int)c->der_len, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE &&
	    strstr(sqlite3_errmsg(st->db), "certs.serial"))
		rc = 1;
	else {
		store_fail(st, "cannot store a certificate");
		rc = -1;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

int store_cert_set_status(store_t *st, const char *serial, const char *status, int reason,
    int64_t at, int64_t invalidity_date)
{
	sqlite3_stmt *q = st->q[Q_SET_STATUS];
	int valid = strcmp(status, "valid") == 0;

	sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
	if (!valid && reason >= 0)
		sqlite3_bind_int(q, 2, reason);
	if (!valid)
		sqlite3_bind_int64(q, 3, at);
	if (!valid && invalidity_date > 0)
		sqlite3_bind_int64(q, 4, invalidity_date);
	sqlite3_bind_text(q, 5, serial, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE || sqlite3_changes(st->db) != 1) {
		store_fail(st, "cannot change a certificate's status");
		return -1;
	}
	return 0;
}

int store_journal(store_t *st, int64_t at, const char *request_id, const char *action,
    const char *serial, int reason, const char *detail)
{
	sqlite3_stmt *q = st->q[Q_JOURNAL];

	sqlite3_bind_int64(q, 1, at);
	if (request_id)
		sqlite3_bind_text(q, 2, request_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, action, -1, SQLITE_STATIC);
	if (serial)
		sqlite3_bind_text(q, 4, serial, -1, SQLITE_STATIC);
	if (reason >= 0)
		sqlite3_bind_int(q, 5, reason);
	if (detail)
		sqlite3_bind_text(q, 6, detail, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot append to the journal");
		return -1;
	}
	return 0;
}

int store_change_find(store_t *st, const char *request_id, const char *serial,
    char action[16], int *reason)
{
	sqlite3_stmt *q = st->q[Q_CHANGE];
	int rc;

	sqlite3_bind_text(q, 1, request_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		store_copy_text(action, 16, q, 0);
		*reason = (int)store_int_or(q, 1, -1);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		store_fail(st, "cannot read the journal");
		rc = -1;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

long long store_crl_number(store_t *st)
{
	sqlite3_stmt *q = st->q[Q_CRL_GET];
	long long n = -1;

	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	else
		store_fail(st, "cannot read the CRL number");
	sqlite3_reset(q);
	return n;
}

int store_crl_number_next(store_t *st, long long *n)
{
	if (store_exec(st, Q_CRL_INC) < 0)
		return -1;
	*n = store_crl_number(st);
	return *n > 0 ? 0 : -1;
}

int store_crl_foreach(store_t *st, int64_t now, store_crl_fn fn, void *arg)
{
	sqlite3_stmt *q = st->q[Q_CRL_LIST];
	int rc;

	sqlite3_bind_int64(q, 1, now);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int r = fn(arg, (const char *)sqlite3_column_text(q, 0),
		    (int)store_int_or(q, 1, -1), store_int_or(q, 2, 0), store_int_or(q, 3, 0));
		if (r != 0) {
			rc = r;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot list revoked certificates");
		rc = -1;
		goto out;
	}
	rc = 0;
out:
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

int store_checkpoint_advance(store_t *st, int64_t rows)
{
	sqlite3_stmt *q = NULL;
	int rc = -1;

	/* Rare (one per audit checkpoint): an ad-hoc statement, not one kept prepared. */
	if (sqlite3_exec(st->db, "INSERT OR IGNORE INTO meta VALUES ('checkpoint_rows', 0)", NULL, NULL,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(st->db, "UPDATE meta SET value = ?1 WHERE key ="
	    " 'checkpoint_rows' AND value <= ?1", -1, &q, NULL) != SQLITE_OK) {
		store_fail(st, "cannot record an audit checkpoint");
		goto out;
	}
	sqlite3_bind_int64(q, 1, rows);
	if (sqlite3_step(q) != SQLITE_DONE) {
		store_fail(st, "cannot record an audit checkpoint");
		goto out;
	}
	rc = sqlite3_changes(st->db) == 1;
out:
	sqlite3_finalize(q);
	return rc;
}
