/*
 * queue_ledger.c: the queue's side of the ledger. Each operation is one short transaction
 * that commits before ra-queue answers anyone, so an acknowledged job is on disk and a
 * lease handed out is recorded before the worker hears of it.
 */
#include "queue.h"
#include "audit.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "util.h"

#include <string.h>

int64_t ledger_submit(sqlite3 *db, const char *kind, const char *idem, const char *payload,
    const char *who)
{
	int existed;
	int64_t id;

	if (db_begin(db) < 0)
		return -1;
	id = job_insert(db, kind, idem, payload, who, 0, &existed);
	if (id < 0 || db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	if (existed)
		log_debug("SUBMIT %s with a known key: job %lld", kind, (long long)id);
	return id;
}

void lease_clear(struct lease *l)
{
	free(l->kind);
	free(l->payload);
	memset(l, 0, sizeof *l);
}

int ledger_lease(sqlite3 *db, int (*accept)(const char *kind, void *arg), void *arg,
    const char *worker, int64_t lease_ms, struct lease *l)
{
	sqlite3_stmt *st;
	int64_t now = clock_wall_ms();
	int rc = 0;

	memset(l, 0, sizeof *l);
	if (db_begin(db) < 0)
		return -1;
	st = db_prepare(db, "SELECT id, kind, payload FROM jobs WHERE state = 'queued'"
	    " AND not_before_ms <= ? ORDER BY id LIMIT 64");
	sqlite3_bind_int64(st, 1, now);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		if (!accept(kind, arg))
			continue;
		l->id = sqlite3_column_int64(st, 0);
		l->kind = xstrdup(kind);
		l->payload = xstrdup((const char *)sqlite3_column_text(st, 2));
		break;
	}
	sqlite3_finalize(st);
	if (!l->id)
		goto out;
	st = db_prepare(db, "UPDATE jobs SET state = 'leased', lease_token = lease_token + 1,"
	    " attempts = attempts + 1, lease_until_ms = ?, worker = ?, updated_at = ? WHERE id = ?"
	    " RETURNING lease_token, attempts");
	sqlite3_bind_int64(st, 1, now + lease_ms);
	sqlite3_bind_text(st, 2, worker, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ra_now());
	sqlite3_bind_int64(st, 4, l->id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		l->token = sqlite3_column_int64(st, 0);
		l->attempt = sqlite3_column_int64(st, 1);
		rc = 1;
	} else {
		rc = -1;
	}
	sqlite3_finalize(st);
out:
	if (rc < 0 || db_commit(db) < 0) {
		db_rollback(db);
		lease_clear(l);
		return -1;
	}
	if (rc == 0)
		lease_clear(l);
	return rc;
}

/* Put job ID back in the queue or park it; inside a transaction. A parked job's result is
 * {"error": ERROR} with DETAIL's members (a refusal's code and Chinese words) if any. */
static int ledger_requeue(sqlite3 *db, int64_t id, int retry, const char *error, const json_t *detail,
    int max_attempts, int64_t backoff_ms)
{
	int64_t attempts = db_int(db, "SELECT attempts FROM jobs WHERE id = ?", "i", id);
	int wait = retry == JOB_RETRY_WAIT, park = !retry || (!wait && attempts >= max_attempts);
	sqlite3_stmt *st;
	char obj[32];
	int rc;

	if (park) {
		json_t *res = json_pack("{s:s}", "error", error);
		const char *k;
		json_t *v;
		if (json_is_object(detail))
			json_object_foreach((json_t *)detail, k, v)
				if (strcmp(k, "error") != 0 && json_is_string(v))
					json_object_set(res, k, v);
		char *text = json_dumps(res, JSON_COMPACT);
		st = db_prepare(db, "UPDATE jobs SET state = 'failed', error = ?, result = ?,"
		    " lease_until_ms = NULL, updated_at = ?, finished_ms = ? WHERE id = ?");
		sqlite3_bind_text(st, 1, error, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, ra_now());
		sqlite3_bind_int64(st, 4, clock_wall_ms());
		sqlite3_bind_int64(st, 5, id);
		free(text);
		json_decref(res);
	} else {
		int shift = attempts > 1 ? (int)(attempts - 1) : 0;
		int64_t delay = wait ? (backoff_ms << 5 < 60000 ? backoff_ms << 5 : 60000) :
		    backoff_ms << (shift > 10 ? 10 : shift);
		/* a wait for a service that is down is not the job's failure: its attempt is given back */
		st = db_prepare(db, "UPDATE jobs SET state = 'queued', error = ?, lease_until_ms = NULL,"
		    " not_before_ms = ?, updated_at = ?, attempts = attempts - ? WHERE id = ?");
		sqlite3_bind_text(st, 1, error, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, clock_wall_ms() + delay);
		sqlite3_bind_int64(st, 3, ra_now());
		sqlite3_bind_int64(st, 4, wait);
		sqlite3_bind_int64(st, 5, id);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || (park && job_redact_secrets(db, id) < 0))
		return -1;
	snprintf(obj, sizeof obj, "job:%lld", (long long)id);
	if (park)
		log_warn("job %lld parked as failed after %lld attempt(s): %s", (long long)id,
		    (long long)attempts, error);
	else if (wait)
		log_info("job %lld will wait for what it needs (%s); not counted as a failed attempt",
		    (long long)id, error);
	else
		log_info("job %lld will be retried (attempt %lld failed: %s)", (long long)id,
		    (long long)attempts, error);
	return audit_append(db, "ra-queue", park ? "job.failed" : "job.retry", obj, "leased",
	    park ? "failed" : "queued");
}

int ledger_fail(sqlite3 *db, int64_t id, int64_t token, int retry, const char *error,
    const json_t *detail, int max_attempts, int64_t backoff_ms)
{
	int rc = 0;
	if (db_begin(db) < 0)
		return -1;
	if (db_int(db, "SELECT 1 FROM jobs WHERE id = ? AND lease_token = ? AND state = 'leased'",
	    "ii", id, token) == 1)
		rc = ledger_requeue(db, id, retry, error, detail, max_attempts, backoff_ms);
	else
		log_info("ignored FAILED for job %lld: its lease was taken over", (long long)id);
	if (rc < 0 || db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

int ledger_expire(sqlite3 *db, int max_attempts, void (*expired)(int64_t, const char *, void *), void *arg)
{
	sqlite3_stmt *st;
	int64_t ids[256];
	char *workers[256];
	int n = 0, rc = 0;

	if (db_begin(db) < 0)
		return -1;
	st = db_prepare(db, "SELECT id, worker FROM jobs WHERE state = 'leased' AND lease_until_ms < ? LIMIT 256");
	sqlite3_bind_int64(st, 1, clock_wall_ms());
	while (sqlite3_step(st) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(st, 0);
		workers[n] = xstrdup(sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
		n++;
	}
	sqlite3_finalize(st);
	for (int i = 0; i < n && rc == 0; i++)
		rc = ledger_requeue(db, ids[i], 1, "lease expired (worker presumed dead)", NULL, max_attempts, 0);
	if (rc < 0 || db_commit(db) < 0) {
		db_rollback(db);
		n = -1;
	}
	for (int i = 0; i < (n > 0 ? n : 0); i++) {
		log_warn("lease of job %lld expired (worker %s); dispatching it again", (long long)ids[i], workers[i]);
		expired(ids[i], workers[i], arg);
	}
	for (int i = 0; i < (n > 0 ? n : 0); i++)
		free(workers[i]);
	return n;
}

int ledger_clock_check(sqlite3 *db, int64_t lease_ms, int64_t max_wait_ms)
{
	int64_t now = clock_wall_ms();
	sqlite3_stmt *st;
	int n = 0;

	if (db_begin(db) < 0)
		return -1;
	st = db_prepare(db, "UPDATE jobs SET lease_until_ms = ?1 + ?2 WHERE state = 'leased' AND lease_until_ms > ?1 + ?2");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, lease_ms);
	sqlite3_step(st);
	sqlite3_finalize(st);
	n += sqlite3_changes(db);
	st = db_prepare(db, "UPDATE jobs SET not_before_ms = ?1 + ?2 WHERE state = 'queued' AND not_before_ms > ?1 + ?2");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, max_wait_ms);
	sqlite3_step(st);
	sqlite3_finalize(st);
	n += sqlite3_changes(db);
	if (db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	if (n > 0)
		log_warn("the clock went back: %d lease(s) or retry time(s) cut to the configured length", n);
	return n;
}

int ledger_state(sqlite3 *db, int64_t id, const char **state, json_t **result)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT state, result FROM jobs WHERE id = ?");
	static const char *const names[] = { "queued", "leased", "done", "failed" };
	int rc = -1;

	sqlite3_bind_int64(st, 1, id);
	*result = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		for (int i = 0; i < 4; i++)
			if (strcmp(s, names[i]) == 0)
				*state = names[i];
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			*result = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int64_t ledger_next_ready_ms(sqlite3 *db)
{
	return db_int(db, "SELECT min(not_before_ms) FROM jobs WHERE state = 'queued'", "");
}
