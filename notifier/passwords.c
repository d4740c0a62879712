/*
 * passwords.c: confirmations after a password reset (a paper form, approved) and after a
 * website password change, so a subscriber learns at once of a change made without them.
 *
 * The source is the audit chain itself: every new password is an audit row
 * "account.password_set" written in the transaction that set it, its after value saying
 * why ("reset", "change"; "resume" comes with the resume confirmation already). Each run
 * reads the rows after its cursor (notifier_cursor "password", a range on the primary
 * key), records one notice per row (topic "audit:ID", so it is mailed once however often
 * the command runs) and moves the cursor, all in one transaction. The cursor starts at
 * the head of the audit chain when the ledger is upgraded (lib/schema.c, migration 16):
 * passwords set before are not news. A subscriber without an
 * e-mail address gets no mail; the sheet itself is the confirmation then.
 */
#include "notifier.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "log.h"

static const char password_events_sql[] =
    "SELECT a.id, a.after, s.id, s.email FROM audit a "
    "JOIN accounts ac ON ac.id = substr(a.object, 9) "
    "JOIN subscribers s ON s.id = ac.subscriber_id "
    "WHERE a.id > ?1 AND a.action = 'account.password_set' AND a.object LIKE 'account:%' "
    "ORDER BY a.id";

int passwords_plan(struct notifier *n, int *planned)
{
	sqlite3_stmt *q = db_prepare(n->db, password_events_sql);
	int64_t cursor = ledger_cursor(n, "password");
	int rc = -1, r;

	if (!n->dry_run && db_begin(n->db) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, cursor);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0);
		const char *why = (const char *)sqlite3_column_text(q, 1);
		int64_t sub = sqlite3_column_int64(q, 2);
		const char *email = (const char *)sqlite3_column_text(q, 3);
		const char *kind = !why ? NULL : strcmp(why, "reset") == 0 ? "password_reset" :
		    strcmp(why, "change") == 0 ? "password_change" : NULL;
		char topic[48];

		cursor = id;
		if (!kind || !email || !*email)
			continue;
		if (n->dry_run) {
			printf("%s\tsubscriber %lld\t%s\taudit %lld\n", kind, (long long)sub, email,
			    (long long)id);
			continue;
		}
		snprintf(topic, sizeof topic, "audit:%lld", (long long)id);
		int64_t notice = ledger_add(n, sub, kind, topic, email);
		if (notice < 0)
			goto out;
		if (notice > 0)
			(*planned)++;
	}
	if (r != SQLITE_DONE) {
		log_err("password events: %s", sqlite3_errmsg(n->db));
		goto out;
	}
	if (!n->dry_run && (ledger_cursor_move(n, "password", cursor) < 0 || db_commit(n->db) < 0))
		goto out;
	rc = 0;
out:
	if (rc < 0 && !n->dry_run)
		db_rollback(n->db);
	sqlite3_finalize(q);
	return rc;
}
