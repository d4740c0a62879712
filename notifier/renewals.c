/*
 * renewals.c: the daily renewal scan.
 *
 * A certificate is due for a notice of KIND when it is valid, its not_after falls within
 * the notice window, no newer valid certificate of the same subscriber and usage exists
 * (it has been renewed), and no notice of KIND has covered it yet (notice_certificates,
 * primary key (serial, kind)). Due certificates are grouped per subscriber: the
 * signature and encryption certificates of one card go out in one mail.
 *
 * The query names its index (INDEXED BY certificates_expiry): the scan must stay a
 * range search on not_after as the table grows, and SQLite refuses to run the statement
 * rather than fall back to a table scan.
 *
 * The second notice (renewal2, second_notice_days before expiry) goes only to
 * certificates whose first notice went out at least a day before, so one run never sends
 * both.
 */
#include "notifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "util.h"

static const char due_sql[] =
    "SELECT c.serial, c.subscriber_id, c.not_after, s.email, s.name "
    "FROM certificates c INDEXED BY certificates_expiry "
    "JOIN subscribers s ON s.id = c.subscriber_id "
    "WHERE c.not_after > ?1 AND c.not_after <= ?2 AND c.status = 'valid' "
    "  AND NOT EXISTS (SELECT 1 FROM certificates r WHERE r.subscriber_id = c.subscriber_id "
    "        AND r.usage = c.usage AND r.status = 'valid' AND r.not_after > c.not_after) "
    "  AND NOT EXISTS (SELECT 1 FROM notice_certificates nc WHERE nc.serial = c.serial AND nc.kind = ?3) "
    "  AND (?3 = 'renewal' OR EXISTS (SELECT 1 FROM notice_certificates f "
    "        JOIN notices fn ON fn.id = f.notice_id WHERE f.serial = c.serial "
    "        AND f.kind = 'renewal' AND fn.state = 'sent' AND fn.sent_at <= ?1 - 86400)) "
    "ORDER BY c.subscriber_id, c.not_after, c.serial";

/*
 * Record one notice per subscriber for the due certificates of KIND, all in one
 * transaction. In a dry run, print them instead.
 */
static int renewals_plan(struct notifier *n, const char *kind, long days, int *planned)
{
	sqlite3_stmt *q = db_prepare(n->db, due_sql);
	sqlite3_stmt *link = db_prepare(n->db,
	    "INSERT OR IGNORE INTO notice_certificates (notice_id, serial, kind) VALUES (?, ?, ?)");
	int64_t cur_sub = -1, notice = 0;
	int rc = -1;
	char date[16];

	if (!n->dry_run && db_begin(n->db) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, (int64_t)n->now);
	sqlite3_bind_int64(q, 2, (int64_t)n->now + (int64_t)days * 86400);
	sqlite3_bind_text(q, 3, kind, -1, SQLITE_STATIC);
	for (int r; (r = sqlite3_step(q)) != SQLITE_DONE;) {
		if (r != SQLITE_ROW) {
			log_err("renewal scan: %s", sqlite3_errmsg(n->db));
			goto out;
		}
		const char *serial = (const char *)sqlite3_column_text(q, 0);
		int64_t sub = sqlite3_column_int64(q, 1);
		time_t na = (time_t)sqlite3_column_int64(q, 2);
		const char *email = (const char *)sqlite3_column_text(q, 3);
		if (n->dry_run) {
			printf("%s\tsubscriber %lld\t%s\tcertificate %s\texpires %s\n", kind,
			    (long long)sub, email, serial, compose_date(na, date, sizeof date));
			if (sub != cur_sub)
				(*planned)++;
			cur_sub = sub;
			continue;
		}
		if (sub != cur_sub) {
			/* the topic is the earliest expiry among the certificates of this mail */
			char *topic = xasprintf("expiry:%lld", (long long)na);
			notice = ledger_add(n, sub, kind, topic, email);
			free(topic);
			if (notice < 0)
				goto out;
			cur_sub = sub;
			if (notice > 0)
				(*planned)++;
		}
		if (notice == 0)
			continue;	/* an earlier run recorded this mail already */
		sqlite3_reset(link);
		sqlite3_bind_int64(link, 1, notice);
		sqlite3_bind_text(link, 2, serial, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(link, 3, kind, -1, SQLITE_STATIC);
		if (sqlite3_step(link) != SQLITE_DONE) {
			log_err("renewal scan: %s", sqlite3_errmsg(n->db));
			goto out;
		}
	}
	if (!n->dry_run && db_commit(n->db) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && !n->dry_run)
		db_rollback(n->db);
	sqlite3_finalize(q);
	sqlite3_finalize(link);
	return rc;
}

int renewals_run(struct notifier *n)
{
	static const char *const kinds[] = { "renewal", "renewal2", NULL };
	struct run_stats st = { 0 };
	long second = (long)config_int(n->cfg, "notifier.second_notice_days");
	int planned = 0, rc;

	if (renewals_plan(n, "renewal", (long)config_int(n->cfg, "notifier.notice_days"), &planned) < 0 ||
	    (second > 0 && renewals_plan(n, "renewal2", second, &planned) < 0))
		return -1;
	if (n->dry_run) {
		printf("%d notice(s) would be sent\n", planned);
		return 0;
	}
	log_info("renewal scan: %d new notice(s)", planned);
	ledger_send_due(n, kinds, &st);
	log_info("renewals: %d sent, %d failed, %d undeliverable, %d left for the next run", st.sent, st.failed,
	    st.undeliverable, st.left);
	rc = st.failed || st.undeliverable || st.left ? 1 : 0;
	if (ledger_summary(n, "renewals", &st) < 0)
		rc = 1;
	stats_clear(&st);
	return rc;
}
