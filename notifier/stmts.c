/*
 * stmts.c: SQL statements prepared once per run and kept, for the statements the send
 * loop runs for every notice. Parsing them again for each notice was a quarter of the
 * notifier's CPU.
 *
 * Rules: a statement is known by its SQL text; notifier_stmt hands it back reset with its
 * bindings cleared; the caller ends with notifier_stmt_done right after reading its rows,
 * never later, since a statement that is not reset keeps a read snapshot of the WAL open
 * and the WAL could then never start over. All are finalized before ra.db is closed.
 */
#include "notifier.h"

#include <string.h>

#include "db.h"
#include "log.h"

sqlite3_stmt *notifier_stmt(struct notifier *n, const char *sql)
{
	for (int i = 0; i < n->nstmts; i++)
		if (n->stmts[i].sql == sql || strcmp(n->stmts[i].sql, sql) == 0)
			return n->stmts[i].st;
	if (n->nstmts == NOTIFIER_STMTS)
		fatal("notifier: more than %d kept statements", NOTIFIER_STMTS);
	n->stmts[n->nstmts].sql = sql;
	n->stmts[n->nstmts].st = db_prepare(n->db, sql);
	return n->stmts[n->nstmts++].st;
}

void notifier_stmt_done(sqlite3_stmt *q)
{
	if (!q)
		return;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

void notifier_stmts_destroy(struct notifier *n)
{
	for (int i = 0; i < n->nstmts; i++)
		sqlite3_finalize(n->stmts[i].st);
	n->nstmts = 0;
}
