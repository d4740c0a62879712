/*
 * store.c: signer.db (see store.h).
 *
 * signer.db is created with mode 0600 (it holds every certificate's request and the
 * journal; its folder is the signer's alone).
 * The signer is the only writer, so one connection with statements prepared at open is
 * enough. A certificate reported as issued must survive a power cut: every commit is
 * followed by an fdatasync of the WAL (store_sync), which is what synchronous=FULL does
 * in WAL mode; SQLite runs with synchronous=NORMAL so that the signer can do that sync
 * itself, on another thread, while it signs the next batch (store_commit_nosync, then
 * store_sync before answering). Checkpoints keep NORMAL's own syncs. The CRL query uses a
 * partial index over the (few) certificates that are not valid, so publishing does not
 * scan the whole table; a delta CRL reads the rows whose status changed after its base
 * through another partial index (changed_seq). Each status change stores the entry's DER
 * as the CRL will carry it (crl_entry), so a CRL is assembled without re-encoding.
 *
 * Schema changes are positional migrations (store_migrations): version N+1 is
 * store_migrations[N - 1] applied to version N, each in its own transaction.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "util.h"


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
	/* One row per certified public key: a key is certified once, for one request. */
	"CREATE TABLE IF NOT EXISTS cert_keys ("
	"  spki_sha256 BLOB PRIMARY KEY,"
	"  serial TEXT NOT NULL UNIQUE REFERENCES certs(serial),"
	"  account TEXT NOT NULL);"
	"CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal"
	"  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal"
	"  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;";

/* store_migrations[i] takes signer.db from version i + 1 to i + 2. Append only. */
static const char *const store_migrations[] = {
	/* 2: the cached CRL entry and the change sequence for delta CRLs. */
	"ALTER TABLE certs ADD COLUMN crl_entry BLOB;"
	"ALTER TABLE certs ADD COLUMN changed_seq INTEGER;"
	"CREATE INDEX certs_changed ON certs(changed_seq) WHERE changed_seq IS NOT NULL;"
	"INSERT INTO meta VALUES ('change_seq', 0), ('base_crl_number', 0),"
	"  ('base_change_seq', 0);",
};
#define STORE_SCHEMA_VERSION ((int)ARRAY_LEN(store_migrations) + 1)

enum {
	Q_BEGIN, Q_READ, Q_COMMIT, Q_ROLLBACK, Q_SP, Q_SP_RELEASE, Q_SP_UNDO,
	Q_BY_REQUEST, Q_BY_SERIAL, Q_SERIAL_EXISTS, Q_INSERT, Q_SET_STATUS, Q_JOURNAL,
	Q_CHANGE, Q_CRL_INC, Q_CRL_GET, Q_CRL_LIST, Q_DELTA_LIST, Q_ENTRY_SET, Q_SEQ_INC,
	Q_META_GET, Q_META_SET, Q_ISSUED, Q_KEY_FIND, Q_KEY_INSERT, Q_KEY_MISSING,
	Q_ROWS_SP, Q_ROWS_RELEASE, Q_ROWS_UNDO, Q_COUNT
};

#define CERT_COLS "request_id, serial, usage, status, reason, revoked_at, invalidity_date," \
	" not_before, not_after, csr_sha256, req_sha256, der"

static const char *const store_sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_READ] = "BEGIN",
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
		" invalidity_date = ?, crl_entry = ?,"
		" changed_seq = (SELECT value FROM meta WHERE key = 'change_seq') WHERE serial = ?",
	[Q_JOURNAL] = "INSERT INTO journal (at, request_id, action, serial, reason, detail)"
		" VALUES (?, ?, ?, ?, ?, ?)",
	[Q_CHANGE] = "SELECT action, reason FROM journal WHERE request_id = ? AND serial = ?"
		" AND action IN ('revoke', 'hold', 'release')",
	[Q_CRL_INC] = "UPDATE meta SET value = value + 1 WHERE key = 'crl_number'",
	[Q_CRL_GET] = "SELECT value FROM meta WHERE key = 'crl_number'",
	[Q_CRL_LIST] = "SELECT serial, status, reason, revoked_at, invalidity_date, crl_entry"
		" FROM certs WHERE status != 'valid' AND not_after > ?",
	[Q_DELTA_LIST] = "SELECT serial, status, reason, revoked_at, invalidity_date, crl_entry"
		" FROM certs WHERE changed_seq > ? AND not_after > ?",
	[Q_ENTRY_SET] = "UPDATE certs SET crl_entry = ? WHERE serial = ?",
	[Q_SEQ_INC] = "UPDATE meta SET value = value + 1 WHERE key = 'change_seq'",
	[Q_META_GET] = "SELECT value FROM meta WHERE key = ?",
	[Q_META_SET] = "UPDATE meta SET value = ? WHERE key = ?",
	[Q_ISSUED] = "SELECT serial FROM certs",
	[Q_KEY_FIND] = "SELECT c.request_id, c.serial, c.usage, k.account FROM cert_keys k"
		" JOIN certs c ON c.serial = k.serial WHERE k.spki_sha256 = ?",
	[Q_KEY_INSERT] = "INSERT INTO cert_keys (spki_sha256, serial, account) VALUES (?, ?, ?)",
	[Q_KEY_MISSING] = "SELECT serial, der FROM certs WHERE serial NOT IN"
		" (SELECT serial FROM cert_keys) ORDER BY id",
	[Q_ROWS_SP] = "SAVEPOINT rows",
	[Q_ROWS_RELEASE] = "RELEASE rows",
	[Q_ROWS_UNDO] = "ROLLBACK TO rows",
};

/*
 * store_issue_rows: the certificates of a batch in three statements (certificates, key
 * rows, journal rows), up to STORE_ROWS a statement, each size prepared the first time it
 * is needed and kept. One statement of many rows costs SQLite far less than as many of one
 * row, and the journal's AUTOINCREMENT counter is written once a statement, not once a
 * row.
 */
#define STORE_ROWS 64
enum { ROWS_CERTS, ROWS_KEYS, ROWS_JOURNAL, ROWS_KINDS };
static const char *const store_rows_head[ROWS_KINDS] = {
	[ROWS_CERTS] = "INSERT INTO certs (request_id, serial, usage, subject, csr_sha256,"
		" req_sha256, not_before, not_after, der) VALUES ",
	[ROWS_KEYS] = "INSERT INTO cert_keys (spki_sha256, serial, account) VALUES ",
	[ROWS_JOURNAL] = "INSERT INTO journal (at, request_id, action, serial, reason, detail)"
		" VALUES ",
};
static const char *const store_rows_one[ROWS_KINDS] = {
	[ROWS_CERTS] = "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ROWS_KEYS] = "(?, ?, ?)",
	[ROWS_JOURNAL] = "(?, ?, 'issue', ?, NULL, ?)",
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *q[Q_COUNT];
	char *wal_path;
	int wal_fd;		/* the WAL, for store_sync; -1: not open yet */
	pthread_mutex_t wal_mu;	/* store_sync runs on the syncing thread too */
	sqlite3_stmt *rows[ROWS_KINDS][STORE_ROWS + 1];	/* [kind][rows]: store_issue_rows */
};

static void store_fail(store_t *st, const char *what)
{
	log_err("signer database %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

/* Bring signer.db from VERSION to STORE_SCHEMA_VERSION, one transaction per step. 0/-1. */
static int store_migrate(store_t *st, long long version)
{
	for (long long v = version; v < STORE_SCHEMA_VERSION; v++) {
		char *sql = xasprintf("BEGIN IMMEDIATE; %s UPDATE meta SET value = %lld"
		    " WHERE key = 'schema_version'; COMMIT;", store_migrations[v - 1], v + 1);
		char *errmsg = NULL;
		int rc = sqlite3_exec(st->db, sql, NULL, NULL, &errmsg);

		free(sql);
		if (rc != SQLITE_OK) {
			log_err("signer database %s: cannot migrate to schema version %lld: %s",
			    st->path, v + 1, errmsg ? errmsg : "?");
			sqlite3_free(errmsg);
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		log_info("signer database %s: schema version %lld", st->path, v + 1);
	}
	return 0;
}

store_t *store_open(const char *path)
{
	store_t *st = xcalloc(1, sizeof *st);
	char *errmsg = NULL;
	long long version;
	sqlite3_stmt *v = NULL;
	int fd;

	st->path = xstrdup(path);
	/* Created private: SQLite gives its -wal and -shm files the database's mode. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_err("signer database %s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	st->wal_path = xasprintf("%s-wal", path);
	st->wal_fd = -1;
	pthread_mutex_init(&st->wal_mu, NULL);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_fail(st, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/*
	 * temp_store = MEMORY: the journal of a savepoint (one per certificate) goes to a
	 * temporary file once it outgrows its memory, and SQLite first looks for a temporary
	 * folder with access(2), which the sandbox does not allow: the signer was killed at
	 * about its 300th certificate into a fresh signer.db. Kept in memory, nothing of
	 * signer.db is ever written outside its folder.
	 */
	if (sqlite3_exec(st->db, "PRAGMA temp_store = MEMORY; PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", NULL, NULL, &errmsg) != SQLITE_OK ||
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
	if (version >= 1 && version < STORE_SCHEMA_VERSION && store_migrate(st, version) < 0)
		goto fail;
	if (version >= 1 && version < STORE_SCHEMA_VERSION)
		version = STORE_SCHEMA_VERSION;
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
	/* From here every commit is followed by store_sync (FULL's sync, done by us), so
	 * that a batch's sync can run beside the next batch's work. */
	if (sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, "cannot set synchronous");
		goto fail;
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
	for (int k = 0; k < ROWS_KINDS; k++)
		for (int n = 0; n <= STORE_ROWS; n++)
			sqlite3_finalize(st->rows[k][n]);
	if (st->db)
		sqlite3_close(st->db);
	if (st->wal_fd >= 0)
		close(st->wal_fd);
	pthread_mutex_destroy(&st->wal_mu);
	free(st->wal_path);
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
int store_commit_nosync(store_t *st) { return store_exec(st, Q_COMMIT); }

int store_commit(store_t *st)
{
	if (store_exec(st, Q_COMMIT) < 0)
		return -1;
	return store_sync(st);
}

int store_sync(store_t *st)
{
	struct stat a, b;
	int rc = -1;

	pthread_mutex_lock(&st->wal_mu);
	/* The WAL keeps its inode while the signer holds the database open; check anyway. */
	if (st->wal_fd >= 0 && (fstat(st->wal_fd, &a) < 0 || stat(st->wal_path, &b) < 0 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
		close(st->wal_fd);
		st->wal_fd = -1;
	}
	if (st->wal_fd < 0 && (st->wal_fd = open(st->wal_path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_err("signer database %s: cannot open the WAL to sync it: %s", st->path,
		    strerror(errno));
		goto out;
	}
	if (fdatasync(st->wal_fd) < 0) {
		log_err("signer database %s: cannot sync the WAL: %s", st->path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&st->wal_mu);
	return rc;
}

int store_rollback(store_t *st)
{
	if (sqlite3_get_autocommit(st->db))
		return 0;	/* SQLite already rolled back (e.g. after a failed COMMIT) */
	return store_exec(st, Q_ROLLBACK);
}

int store_read_begin(store_t *st)
{
	if (!sqlite3_get_autocommit(st->db))
		return 0;	/* inside a transaction already: its reads are consistent */
	return store_exec(st, Q_READ) < 0 ? -1 : 1;
}

void store_read_end(store_t *st, int begun)
{
	if (begun > 0 && store_exec(st, Q_COMMIT) < 0)
		store_rollback(st);
}

int store_sp_begin(store_t *st) { return store_exec(st, Q_SP); }

int store_sp_end(store_t *st, int ok)
{
	if (!ok && store_exec(st, Q_SP_UNDO) < 0)
		return -1;
	if (store_exec(st, Q_SP_RELEASE) < 0)
		return -1;
	/* Released outside a transaction, the savepoint was the transaction: it committed. */
	return ok && sqlite3_get_autocommit(st->db) ? store_sync(st) : 0;
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

/* The key row of a new certificate. 0, 2 when the key is already certified, -1. */
static int store_key_insert(store_t *st, const uint8_t spki_sha256[32], const char *serial,
    const char *account)
{
	sqlite3_stmt *q = st->q[Q_KEY_INSERT];
	int rc;

	sqlite3_bind_blob(q, 1, spki_sha256, 32, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, account ? account : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = 2;
	else {
		store_fail(st, "cannot store a certificate's key");
		rc = -1;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

int store_key_find(store_t *st, const uint8_t spki_sha256[32], struct store_key_use *u)
{
	sqlite3_stmt *q = st->q[Q_KEY_FIND];
	int rc;

	memset(u, 0, sizeof *u);
	sqlite3_bind_blob(q, 1, spki_sha256, 32, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		store_copy_text(u->request_id, sizeof u->request_id, q, 0);
		store_copy_text(u->serial, sizeof u->serial, q, 1);
		store_copy_text(u->usage, sizeof u->usage, q, 2);
		store_copy_text(u->account, sizeof u->account, q, 3);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		store_fail(st, "cannot look a key up");
		rc = -1;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

int store_keys_backfill(store_t *st, store_key_fn fn)
{
	sqlite3_stmt *q = st->q[Q_KEY_MISSING];
	struct { char serial[SIGNER_SERIAL_LEN]; uint8_t sha[32]; char account[64]; } *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			rows = xrealloc(rows, cap * sizeof *rows);
		}
		store_copy_text(rows[n].serial, sizeof rows[n].serial, q, 0);
		if (fn(sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1), rows[n].sha,
		    rows[n].account) == 0)
			n++;
		else
			log_warn("signer database %s: certificate %s: cannot read its key",
			    st->path, rows[n].serial);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot list certificates without a key row");
		rc = -1;
		goto out;
	}
	rc = 0;
	if (n == 0)
		goto out;
	if (store_begin(st) < 0) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		int r = store_key_insert(st, rows[i].sha, rows[i].serial, rows[i].account);
		if (r == 2)	/* certified twice before keys were recorded: keep the first */
			log_warn("signer database %s: certificate %s repeats an earlier "
			    "certificate's key", st->path, rows[i].serial);
		else if (r < 0)
			rc = -1;
	}
	if (rc == 0 && store_commit(st) == 0)
		log_info("signer database %s: recorded the keys of %zu earlier certificates",
		    st->path, n);
	else {
		store_rollback(st);
		rc = -1;
	}
out:
	free(rows);
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
		rc = store_key_insert(st, c->spki_sha256, c->serial, c->account);
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

/* The statement inserting N rows of KIND, prepared once. NULL on error (logged). */
static sqlite3_stmt *store_rows_stmt(store_t *st, int kind, size_t n)
{
	size_t one = strlen(store_rows_one[kind]);
	char *sql, *p;

	if (st->rows[kind][n])
		return st->rows[kind][n];
	p = sql = xmalloc(strlen(store_rows_head[kind]) + n * (one + 1) + 1);
	p += sprintf(p, "%s", store_rows_head[kind]);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? "," : "", store_rows_one[kind]);
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->rows[kind][n],
	    NULL) != SQLITE_OK) {
		store_fail(st, "cannot prepare a batch insert");
		st->rows[kind][n] = NULL;
	}
	free(sql);
	return st->rows[kind][n];
}

/* Bind row I of KIND (the certificate C) at its place in Q. */
static void store_rows_bind(sqlite3_stmt *q, int kind, size_t i, const struct store_cert *c,
    int64_t at)
{
	int b;

	switch (kind) {
	case ROWS_CERTS:
		b = (int)i * 9;
		sqlite3_bind_text(q, b + 1, c->request_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, b + 2, c->serial, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, b + 3, c->usage, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, b + 4, c->subject, -1, SQLITE_STATIC);
		sqlite3_bind_blob(q, b + 5, c->csr_sha256, sizeof c->csr_sha256, SQLITE_STATIC);
		sqlite3_bind_blob(q, b + 6, c->req_sha256, sizeof c->req_sha256, SQLITE_STATIC);
		sqlite3_bind_int64(q, b + 7, c->not_before);
		sqlite3_bind_int64(q, b + 8, c->not_after);
		sqlite3_bind_blob(q, b + 9, c->der, (int)c->der_len, SQLITE_STATIC);
		break;
	case ROWS_KEYS:
		b = (int)i * 3;
		sqlite3_bind_blob(q, b + 1, c->spki_sha256, 32, SQLITE_STATIC);
		sqlite3_bind_text(q, b + 2, c->serial, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, b + 3, c->account ? c->account : "", -1, SQLITE_STATIC);
		break;
	default:
		b = (int)i * 4;
		sqlite3_bind_int64(q, b + 1, at);
		sqlite3_bind_text(q, b + 2, c->request_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, b + 3, c->serial, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, b + 4, c->usage, -1, SQLITE_STATIC);
		break;
	}
}

int store_issue_rows(store_t *st, const struct store_cert *c, size_t n, int64_t at)
{
	int rc = 0;

	if (n == 0)
		return 0;
	if (store_exec(st, Q_ROWS_SP) < 0)
		return -1;
	for (size_t done = 0; done < n && rc == 0; done += STORE_ROWS) {
		size_t k = n - done < STORE_ROWS ? n - done : STORE_ROWS;
		for (int kind = 0; kind < ROWS_KINDS && rc == 0; kind++) {
			sqlite3_stmt *q = store_rows_stmt(st, kind, k);
			if (!q) {
				rc = -1;
				break;
			}
			for (size_t i = 0; i < k; i++)
				store_rows_bind(q, kind, i, &c[done + i], at);
			if (sqlite3_step(q) != SQLITE_DONE)
				rc = sqlite3_errcode(st->db) == SQLITE_CONSTRAINT ? 1 : -1;
			if (rc < 0)
				store_fail(st, "cannot store a batch of certificates");
			sqlite3_reset(q);
			sqlite3_clear_bindings(q);
		}
	}
	if (rc != 0 && store_exec(st, Q_ROWS_UNDO) < 0)
		rc = -1;
	if (store_exec(st, Q_ROWS_RELEASE) < 0)
		rc = -1;
	return rc;
}

int store_cert_set_status(store_t *st, const char *serial, const char *status, int reason,
    int64_t at, int64_t invalidity_date, const uint8_t *entry, size_t entry_len)
{
	sqlite3_stmt *q = st->q[Q_SET_STATUS];
	int valid = strcmp(status, "valid") == 0;

	if (store_exec(st, Q_SEQ_INC) < 0)
		return -1;
	sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
	if (!valid && reason >= 0)
		sqlite3_bind_int(q, 2, reason);
	if (!valid)
		sqlite3_bind_int64(q, 3, at);
	if (!valid && invalidity_date > 0)
		sqlite3_bind_int64(q, 4, invalidity_date);
	if (entry)
		sqlite3_bind_blob(q, 5, entry, (int)entry_len, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, serial, -1, SQLITE_STATIC);
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

static int store_rows(store_t *st, int qi, int64_t a, int64_t b, store_crl_fn fn, void *arg)
{
	sqlite3_stmt *q = st->q[qi];
	int rc;

	sqlite3_bind_int64(q, 1, a);
	if (sqlite3_bind_parameter_count(q) > 1)
		sqlite3_bind_int64(q, 2, b);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_crl_row row = {
			.serial = (const char *)sqlite3_column_text(q, 0),
			.status = (const char *)sqlite3_column_text(q, 1),
			.reason = (int)store_int_or(q, 2, -1),
			.revoked_at = store_int_or(q, 3, 0),
			.invalidity_date = store_int_or(q, 4, 0),
			.entry = sqlite3_column_blob(q, 5),
			.entry_len = (size_t)sqlite3_column_bytes(q, 5),
		};
		int r = fn(arg, &row);
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

int store_crl_foreach(store_t *st, int64_t now, store_crl_fn fn, void *arg)
{
	return store_rows(st, Q_CRL_LIST, now, 0, fn, arg);
}

int store_delta_foreach(store_t *st, long long since_seq, int64_t now, store_crl_fn fn,
    void *arg)
{
	return store_rows(st, Q_DELTA_LIST, since_seq, now, fn, arg);
}

int store_crl_entry_set(store_t *st, const char *serial, const uint8_t *entry, size_t len)
{
	sqlite3_stmt *q = st->q[Q_ENTRY_SET];

	sqlite3_bind_blob(q, 1, entry, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, serial, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot store a CRL entry");
		return -1;
	}
	return 0;
}

int store_meta_get(store_t *st, const char *key, long long *value)
{
	sqlite3_stmt *q = st->q[Q_META_GET];
	int rc;

	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(q, 0);
	else
		store_fail(st, "cannot read meta");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_meta_set(store_t *st, const char *key, long long value)
{
	sqlite3_stmt *q = st->q[Q_META_SET];

	sqlite3_bind_int64(q, 1, value);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE || sqlite3_changes(st->db) != 1) {
		store_fail(st, "cannot write meta");
		return -1;
	}
	return 0;
}

int store_serials_foreach(store_t *st, int (*fn)(void *arg, const char *serial), void *arg)
{
	sqlite3_stmt *q = st->q[Q_ISSUED];
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int r = fn(arg, (const char *)sqlite3_column_text(q, 0));
		if (r != 0) {
			rc = r;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot list the serials");
		rc = -1;
		goto out;
	}
	rc = 0;
out:
	sqlite3_reset(q);
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
