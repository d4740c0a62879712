/*
 * audit.h: the append-only audit chain in ra.db.
 *
 * Every state change of a form, job, account, order and certificate appends a row:
 * time, actor (officer or component), action, object, before/after (JSON or NULL), and
 * hash = SHA-256(prev_hash | at | actor | action | object | before | after). Rows are
 * appended inside the transaction that makes the change, so the chain and the state
 * never disagree. Triggers forbid UPDATE and DELETE; audit_verify() finds rows changed
 * behind the database's back.
 */
#ifndef RA_AUDIT_H
#define RA_AUDIT_H

#include <sqlite3.h>
#include <stdint.h>

/* Append one row (call inside a transaction). 0/-1. */
int audit_append(sqlite3 *db, const char *actor, const char *action, const char *object,
    const char *before, const char *after);
/* Recompute the chain. 0 if intact; else -1 and *bad_id = the first row that does not match. */
int audit_verify(sqlite3 *db, int64_t *bad_id, int64_t *rows);

#endif
