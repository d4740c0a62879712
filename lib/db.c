/*
 * db.c: see db.h. Migrations run in order, each in its own transaction, and bump
 * PRAGMA user_version in that same transaction, so a crash mid-migration leaves the
 * database at the previous version.
 */
#include "db.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int db_migrate(sqlite3 *db)
{
	int have = (int)db_int(db, "PRAGMA user_version", "");

	if (have > db_nmigrations) {
		log_err("ra.db is at schema version %d, newer than this program (%d)", have, db_nmigrations);
		return -1;
	}
	for (int v = have; v < db_nmigrations; v++) {
		char pragma[64];
		if (db_begin(db) < 0)
			return -1;
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
		if (db_exec(db, db_migrations[v]) < 0 || db_exec(db, pragma) < 0) {
			db_rollback(db);
			log_err("migration %d failed", v + 1);
			return -1;
		}
		if (db_commit(db) < 0)
			return -1;
		log_debug("ra.db migrated to version %d", v + 1);
	}
	return 0;
}

sqlite3 *db_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_err("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db, 30000);
	if (db_exec(db, "PRAGMA journal_mode = WAL") < 0 ||
	    db_exec(db, "PRAGMA synchronous = FULL") < 0 ||
	    db_exec(db, "PRAGMA foreign_keys = ON") < 0 ||
	    db_migrate(db) < 0)
		goto fail;
	return db;
fail:
	sqlite3_close(db);
	return NULL;
}

sqlite3 *db_open_readonly(const char *path)
{
	sqlite3 *db = NULL;
	int64_t have;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_err("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db, 30000);
	have = db_int(db, "PRAGMA user_version", "");
	if (have < 1 || have > db_nmigrations) {
		log_err("%s is not a ledger this program reads (schema version %lld)", path, (long long)have);
		goto fail;
	}
	return db;
fail:
	sqlite3_close(db);
	return NULL;
}

void db_close(sqlite3 **db)
{
	if (!db || !*db)
		return;
	sqlite3_close_v2(*db);
	*db = NULL;
}

int db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_err("sqlite: %s (in: %.80s)", msg ? msg : sqlite3_errmsg(db), sql);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int db_begin(sqlite3 *db) { return db_exec(db, "BEGIN IMMEDIATE"); }
int db_commit(sqlite3 *db) { return db_exec(db, "COMMIT"); }

void db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fatal("internal: cannot prepare '%.120s': %s", sql, sqlite3_errmsg(db));
	return st;
}

int64_t db_int(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	va_list ap;
	int64_t v = -1;

	va_start(ap, fmt);
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 'i')
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
	}
	va_end(ap);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}
