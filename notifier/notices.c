/*
 * notices.c: confirmation mails for revocation, suspension (hold) and resume.
 *
 * The notifier does not listen to the workers: it compares each live certificate's
 * status with the last status its subscriber was told about (table notice_status,
 * 'valid' when absent) and mails the difference. valid -> held is a suspension,
 * held -> valid a resume, anything -> revoked a revocation. The comparison and the
 * ledger rows commit together, so an event is mailed once however often the command
 * runs; a hold lifted before the notifier ran is, rightly, no news.
 *
 * Only certificates not yet expired are looked at, through the not_after index.
 * The same run sends the pending sheet mails (kind sheet), which sheets_run() records.
 */
#include "notifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "util.h"

static const char changed_sql[] =
    "SELECT c.serial, c.subscriber_id, c.status, s.email, "
    "  CASE WHEN c.status = 'revoked' THEN 'revocation' "
    "       WHEN c.status = 'held' THEN 'suspension' ELSE 'resume' END AS kind "
    "FROM certificates c INDEXED BY certificates_expiry "
    "JOIN subscribers s ON s.id = c.subscriber_id "
    "LEFT JOIN notice_status ns ON ns.serial = c.serial "
    "WHERE c.not_after > ?1 AND c.status <> coalesce(ns.status, 'valid') "
    "  AND coalesce(ns.status, 'valid') <> 'revoked' "
    "ORDER BY c.subscriber_id, kind, c.serial";

static int notices_plan(struct notifier *n, int *planned)
{
	sqlite3_stmt *q = db_prepare(n->db, changed_sql);
	sqlite3_stmt *told = db_prepare(n->db,
	    "INSERT INTO notice_status (serial, status, notice_id) VALUES (?, ?, ?) "
	    "ON CONFLICT (serial) DO UPDATE SET status = excluded.status, notice_id = excluded.notice_id");
	int64_t cur_sub = -1, notice = 0;
	char *cur_kind = NULL;
	int rc = -1;

	if (!n->dry_run && db_begin(n->db) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, (int64_t)n->now);
	for (int r; (r = sqlite3_step(q)) != SQLITE_DONE;) {
		if (r != SQLITE_ROW) {
			log_err("status scan: %s", sqlite3_errmsg(n->db));
			goto out;
		}
		const char *serial = (const char *)sqlite3_column_text(q, 0);
		int64_t sub = sqlite3_column_int64(q, 1);
		const char *status = (const char *)sqlite3_column_text(q, 2);
		const char *email = (const char *)sqlite3_column_text(q, 3);
		const char *kind = (const char *)sqlite3_column_text(q, 4);
		if (n->dry_run) {
			printf("%s\tsubscriber %lld\t%s\tcertificate %s\n", kind, (long long)sub, email, serial);
			continue;
		}
		if (sub != cur_sub || strcmp(kind, cur_kind) != 0) {
			/* a subscriber may be suspended, resumed and suspended again: number the events */
			int64_t seq = db_int(n->db, "SELECT count(*) FROM notices WHERE subscriber_id = ? "
			    "AND kind = ?", "is", sub, kind);
			char *topic = xasprintf("status:%s:%lld", serial, (long long)seq + 1);
			notice = ledger_add(n, sub, kind, topic, email);
			free(topic);
			if (notice <= 0)
				goto out;
			cur_sub = sub;
			free(cur_kind);
			cur_kind = xstrdup(kind);
			(*planned)++;
		}
		sqlite3_reset(told);
		sqlite3_bind_text(told, 1, serial, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(told, 2, status, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(told, 3, notice);
		if (sqlite3_step(told) != SQLITE_DONE) {
			log_err("status scan: %s", sqlite3_errmsg(n->db));
			goto out;
		}
	}
	if (!n->dry_run && db_commit(n->db) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && !n->dry_run)
		db_rollback(n->db);
	free(cur_kind);
	sqlite3_finalize(q);
	sqlite3_finalize(told);
	return rc;
}

int notices_run(struct notifier *n)
{
	static const char *const kinds[] = { "revocation", "suspension", "resume", "sheet", NULL };
	struct run_stats st = { 0 };
	int planned = 0, rc;

	if (notices_plan(n, &planned) < 0)
		return -1;
	if (n->dry_run)
		return 0;
	log_info("status scan: %d new confirmation(s)", planned);
	ledger_send_due(n, kinds, &st);
	log_info("notices: %d sent, %d failed, %d undeliverable", st.sent, st.failed, st.undeliverable);
	rc = st.failed || st.undeliverable ? 1 : 0;
	if ((st.sent || st.failed || st.undeliverable) && ledger_summary(n, "notices", &st) < 0)
		rc = 1;
	stats_clear(&st);
	return rc;
}
