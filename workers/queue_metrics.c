/*
 * queue_metrics.c: what ra-queue tells Prometheus, read from the ledger it owns.
 *
 * The ledger is the truth, so most figures are read from it each time the file is
 * written (every metrics.interval_ms): jobs by kind and state, the queue's depth and its
 * oldest queued job's age, attempts, certificates issued and revoked, notices by state,
 * locked accounts and lockouts. Only what the ledger does not keep is counted in memory:
 * leases that expired, and the workers connected now. Counters read from the ledger only
 * grow (rows are never deleted), so Prometheus's rate() works on them across restarts too.
 * Lockouts are the audit trail's account.locked rows; the audit trail only grows long,
 * so each write reads the rows added since the last one (the first reads it all).
 */
#include "queue.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"

#include <string.h>

metrics_t *queue_metrics_new(void)
{
	metrics_t *m = metrics_new();

	metrics_declare(m, "ra_jobs", METRIC_GAUGE, "Jobs in the ledger by kind and state.", NULL, 0);
	metrics_declare(m, "ra_queue_depth", METRIC_GAUGE, "Jobs queued (waiting for a worker or a retry).", NULL, 0);
	metrics_declare(m, "ra_queue_oldest_age_seconds", METRIC_GAUGE,
	    "Age of the oldest queued job (0 when none is queued).", NULL, 0);
	metrics_declare(m, "ra_job_attempts_total", METRIC_COUNTER, "Attempts made at jobs, by kind.", NULL, 0);
	metrics_declare(m, "ra_lease_expiries_total", METRIC_COUNTER,
	    "Leases that expired before their worker answered (since ra-queue started).", NULL, 0);
	metrics_declare(m, "ra_workers", METRIC_GAUGE, "Workers connected to ra-queue, by state.", NULL, 0);
	metrics_declare(m, "ra_certificates_issued_total", METRIC_COUNTER, "Certificates the RA received from ca-signer.", NULL, 0);
	metrics_declare(m, "ra_certificates_revoked_total", METRIC_COUNTER, "Certificate revocations recorded in the ledger.", NULL, 0);
	metrics_declare(m, "ra_certificates", METRIC_GAUGE, "Certificates by status now.", NULL, 0);
	metrics_declare(m, "ra_notices", METRIC_GAUGE,
	    "Notices by kind and state: sent, deferred (failed, to be retried), pending, undeliverable.", NULL, 0);
	metrics_declare(m, "ra_accounts_locked", METRIC_GAUGE, "Website accounts locked after wrong passwords.", NULL, 0);
	metrics_declare(m, "ra_account_lockouts_total", METRIC_COUNTER,
	    "Website accounts locked by wrong passwords, ever (the audit trail's account.locked).", NULL, 0);
	metrics_declare(m, "ra_card_unlocks_total", METRIC_COUNTER,
	    "Card PIN unlocks by step: requested (a station brought a card with a blocked PIN and"
	    " the website password was right), released (the card proved itself; its PUK went to"
	    " the station sealed), refused (the card's proof failed), completed (the PUK was used"
	    " and replaced on the card).", NULL, 0);
	metrics_declare(m, "ra_metrics_written_timestamp_seconds", METRIC_GAUGE,
	    "When a program last wrote its metrics file.", NULL, 0);
	return m;
}

/* Run SQL whose rows are (label..., value) and set NAME from them. 0/-1. */
static int from_query(metrics_t *m, sqlite3 *db, const char *name, const char *sql,
    const char *l1, const char *l2)
{
	sqlite3_stmt *st = NULL;
	int rc;

	metrics_clear(m, name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_err("metrics %s: %s", name, sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);
		double v = sqlite3_column_double(st, n - 1);
		const char *a = n > 1 ? (const char *)sqlite3_column_text(st, 0) : NULL;
		const char *b = n > 2 ? (const char *)sqlite3_column_text(st, 1) : NULL;
		if (l2)
			metrics_set(m, name, v, l1, a, l2, b, NULL);
		else if (l1)
			metrics_set(m, name, v, l1, a, NULL);
		else
			metrics_set(m, name, v, NULL);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		log_err("metrics %s: %s", name, sqlite3_errmsg(db));
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Lockouts, ever: the account.locked rows of the audit trail up to its last row now,
 * added to those counted before (audit ids only grow; rows are never deleted). 0/-1. */
static int lockouts(metrics_t *m, sqlite3 *db)
{
	static int64_t counted_to = 0;	/* audit rows up to this id are in the counter (one set: ra-queue's) */
	int64_t last = 0, n = 0;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM audit", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto out;
	last = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE id > ? AND id <= ? AND action = 'account.locked'",
	    -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, counted_to);
	sqlite3_bind_int64(st, 2, last);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	n = sqlite3_column_int64(st, 0);
	metrics_add(m, "ra_account_lockouts_total", (double)n, NULL);
	counted_to = last;
	rc = 0;
out:
	if (rc < 0)
		log_err("metrics ra_account_lockouts_total: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* The card PIN unlocks' steps, from their jobs (card_challenge for an unlock, card_unlock,
 * card_puk); every step present, 0 until it happens. 0/-1. */
static int card_unlocks(metrics_t *m, sqlite3 *db)
{
	static const char *const steps[] = { "requested", "released", "refused", "completed" };
	int rc = from_query(m, db, "ra_card_unlocks_total",
	    "SELECT CASE kind WHEN 'card_challenge' THEN 'requested' WHEN 'card_puk' THEN 'completed'"
	    "  ELSE CASE state WHEN 'done' THEN 'released' ELSE 'refused' END END AS step, count(*)"
	    " FROM jobs WHERE (kind = 'card_challenge' AND state = 'done'"
	    "  AND json_extract(payload, '$.purpose') = 'unlock')"
	    " OR (kind = 'card_unlock' AND state IN ('done', 'failed')) OR (kind = 'card_puk' AND state = 'done')"
	    " GROUP BY step", "step", NULL);

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (metrics_get(m, "ra_card_unlocks_total", "step", steps[i], NULL) == 0)
			metrics_set(m, "ra_card_unlocks_total", 0, "step", steps[i], NULL);
	return rc;
}

int queue_metrics_collect(metrics_t *m, sqlite3 *db, int workers, int idle)
{
	char sql[160];
	int rc = 0;

	rc |= from_query(m, db, "ra_jobs", "SELECT kind, state, count(*) FROM jobs GROUP BY kind, state", "kind", "state");
	rc |= from_query(m, db, "ra_queue_depth", "SELECT count(*) FROM jobs WHERE state = 'queued'", NULL, NULL);
	snprintf(sql, sizeof sql, "SELECT coalesce(max(%lld - min(created_at), 0), 0) FROM jobs WHERE state = 'queued'",
	    (long long)ra_now());
	rc |= from_query(m, db, "ra_queue_oldest_age_seconds", sql, NULL, NULL);
	rc |= from_query(m, db, "ra_job_attempts_total", "SELECT kind, sum(attempts) FROM jobs GROUP BY kind", "kind", NULL);
	rc |= from_query(m, db, "ra_certificates_issued_total", "SELECT count(*) FROM certificates", NULL, NULL);
	rc |= from_query(m, db, "ra_certificates_revoked_total",
	    "SELECT count(*) FROM status_events WHERE status = 'revoked'", NULL, NULL);
	rc |= from_query(m, db, "ra_certificates", "SELECT status, count(*) FROM certificates GROUP BY status", "status", NULL);
	rc |= from_query(m, db, "ra_notices",
	    "SELECT kind, CASE WHEN state = 'pending' AND attempts > 0 THEN 'deferred' ELSE state END AS s, count(*)"
	    " FROM notices GROUP BY kind, s", "kind", "state");
	rc |= from_query(m, db, "ra_accounts_locked", "SELECT count(*) FROM accounts WHERE locked <> 0", NULL, NULL);
	rc |= lockouts(m, db);
	rc |= card_unlocks(m, db);
	metrics_set(m, "ra_workers", idle, "state", "idle", NULL);
	metrics_set(m, "ra_workers", workers - idle, "state", "busy", NULL);
	metrics_set(m, "ra_metrics_written_timestamp_seconds", (double)ra_now(), "program", "ra-queue", NULL);
	return rc ? -1 : 0;
}
