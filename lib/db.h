/*
 * db.h: the ledger (ra.db): opening, migrations, transactions and the job table.
 *
 * ra.db is opened by ra-queue, the workers and the notifier on the RA host, never by a
 * producer. WAL mode, a busy timeout, foreign keys on. Every change of state is made
 * inside db_begin()/db_commit() (BEGIN IMMEDIATE, so writers queue instead of failing
 * half way); a job's effects and its completion commit in the same transaction.
 */
#ifndef RA_DB_H
#define RA_DB_H

#include <sqlite3.h>
#include <stdint.h>

extern const char *const db_migrations[];
extern const int db_nmigrations;

/* Open (creating if needed) and migrate. NULL on failure (logged). */
sqlite3 *db_open(const char *path);
/* Open an existing ledger only to read it (ra-ctl audit verify): never created, never
 * migrated, never written. NULL on failure (logged). */
sqlite3 *db_open_readonly(const char *path);
void db_close(sqlite3 **db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. 0/-1 (logged). */
int db_begin(sqlite3 *db);
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);
/* Run SQL with no result rows. 0/-1 (logged). */
int db_exec(sqlite3 *db, const char *sql);
/* Prepare or fatal(): statements in the code are constants, so failure is a bug. */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql);
/* One integer from a query with bound text/int args given as a format; -1 if no row. */
int64_t db_int(sqlite3 *db, const char *sql, const char *fmt, ...);

#endif
