/*
 * notices.c: confirmation mails for revocation, suspension (hold) and resume.
 *
 * The notifier does not listen to the workers: every change of a certificate's status
 * is a row of status_events, written by a trigger in the transaction that makes the
 * change (lib/schema.c, migration 4). Each run reads the events after its cursor
 * (notifier_cursor "status", a range on the primary key: the cost is what is new, not
 * the size of the ledger), groups each subscriber's consecutive events of one kind (the
 * two certificates of a card change together) into one notice, and moves the cursor,
 * all in one transaction (the cursor starts at the head of the events when the ledger is
 * upgraded, migration 16): an event is mailed once however often the command runs, and a
 * suspension lifted before the notifier ran is still confirmed, then its resume.
 * held -> a suspension, back to valid -> a resume, revoked -> a revocation. A revocation
 * with reason cessationOfOperation is the RA withdrawing a card that was never finished:
 * not the subscriber's news.
 *
 * passwords.c plans the password confirmations the same way. The same run sends the pending sheet mails (kind sheet), which sheets_run() records.
 */
#include "notifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "util.h"

static const char events_sql[] =
    "SELECT e.id, e.serial, e.status, coalesce(e.reason, ''), c.subscriber_id, s.email "
    "FROM status_events e "
    "JOIN certificates c ON c.serial = e.serial "
    "JOIN subscribers s ON s.id = c.subscriber_id "
    "WHERE e.id > ?1 ORDER BY e.id";

static const char *event_kind(const char *status)
{
	if (strcmp(status, "revoked") == 0)
		return "revocation";
	if (strcmp(status, "held") == 0)
		return "suspension";
	return "resume";
}

static int notices_plan(struct notifier *n, int *planned)
{
	sqlite3_stmt *q = db_prepare(n->db, events_sql);
	sqlite3_stmt *link = db_prepare(n->db, "INSERT INTO notice_events (event_id, notice_id) VALUES (?, ?)");
	int64_t cursor = ledger_cursor(n, "status");
	int64_t cur_sub = -1, notice = 0, last = -1;
	const char *cur_kind = "";
	int rc = -1;

	if (!n->dry_run && db_begin(n->db) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, cursor);
	for (int r; (r = sqlite3_step(q)) != SQLITE_DONE;) {
		if (r != SQLITE_ROW) {
			log_err("status events: %s", sqlite3_errmsg(n->db));
			goto out;
		}
		int64_t id = sqlite3_column_int64(q, 0);
		const char *serial = (const char *)sqlite3_column_text(q, 1);
		const char *kind = event_kind((const char *)sqlite3_column_text(q, 2));
		const char *reason = (const char *)sqlite3_column_text(q, 3);
		int64_t sub = sqlite3_column_int64(q, 4);
		const char *email = (const char *)sqlite3_column_text(q, 5);

		cursor = id;
		if (strcmp(kind, "revocation") == 0 && strcmp(reason, "cessationOfOperation") == 0)
			continue;
		if (n->dry_run) {
			printf("%s\tsubscriber %lld\t%s\tcertificate %s\n", kind, (long long)sub, email, serial);
			continue;
		}
		if (sub != cur_sub || strcmp(kind, cur_kind) != 0 || id != last + 1) {
			char topic[48];
			snprintf(topic, sizeof topic, "status:%lld", (long long)id);
			notice = ledger_add(n, sub, kind, topic, email);
			if (notice <= 0)
				goto out;
			cur_sub = sub;
			cur_kind = kind;
			(*planned)++;
		}
		last = id;
		sqlite3_reset(link);
		sqlite3_bind_int64(link, 1, id);
		sqlite3_bind_int64(link, 2, notice);
		if (sqlite3_step(link) != SQLITE_DONE) {
			log_err("status events: %s", sqlite3_errmsg(n->db));
			goto out;
		}
	}
	if (!n->dry_run && (ledger_cursor_move(n, "status", cursor) < 0 || db_commit(n->db) < 0))
		goto out;
	rc = 0;
out:
	if (rc < 0 && !n->dry_run)
		db_rollback(n->db);
	sqlite3_finalize(q);
	sqlite3_finalize(link);
	return rc;
}

int notices_run(struct notifier *n)
{
	static const char *const kinds[] = { "revocation", "suspension", "resume", "sheet",
		"password_reset", "password_change", NULL };
	struct run_stats st = { 0 };
	int planned = 0, rc;

	if (notices_plan(n, &planned) < 0 || passwords_plan(n, &planned) < 0)
		return -1;
	if (n->dry_run)
		return rejections_run(n);
	log_info("status scan: %d new confirmation(s)", planned);
	ledger_send_due(n, kinds, &st);
	log_info("notices: %d sent, %d failed, %d undeliverable, %d left for the next run", st.sent, st.failed,
	    st.undeliverable, st.left);
	rc = st.failed || st.undeliverable || st.left ? 1 : 0;
	if ((st.sent || st.failed || st.undeliverable) && ledger_summary(n, "notices", &st) < 0)
		rc = 1;
	stats_clear(&st);
	if (rejections_run(n) != 0)
		rc = 1;
	return rc;
}
