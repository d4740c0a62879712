/*
 * account_guard.c: failure counters for what is not an account row, kept in the ledger
 * (table auth_failures) in the transaction of the job that failed.
 *
 *   - "account:<id>" for an account id that does not exist: a password tried against it
 *     counts, answers and locks exactly as it would for a real account, so the answers
 *     never tell which account ids exist (account enumeration);
 *   - "source:<producer>/<tag>" for where a request came from, as the online producer
 *     saw it (payload member "source", e.g. the client address the website saw): after
 *     accounts.source_free_failures wrong passwords from one source, each further try
 *     must wait accounts.source_wait_s * 2^(n - free) seconds (at most
 *     accounts.source_max_wait_s) after the last failure; a source quiet for accounts.source_forget_s starts again from zero. A
 *     success does not clear it (one's own account would reset a guessing run).
 * A payload without "source" (a staffed card station) is not counted by source.
 */
#include "db.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <ctype.h>
#include <string.h>

#define GUARD_SOURCE_MAX 64

/* Failures of SUBJECT still remembered, and when the last was; 0 if none or forgotten. */
static int64_t guard_count(struct job_ctx *ctx, const char *subject, int64_t *last_at)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "SELECT failures, last_at FROM auth_failures WHERE subject = ?");
	int64_t n = 0;

	*last_at = 0;
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		*last_at = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (strncmp(subject, "source:", 7) == 0 && ra_now() - *last_at > config_int(ctx->cfg, "accounts.source_forget_s"))
		n = 0;
	return n;
}

int64_t guard_failures(struct job_ctx *ctx, const char *subject)
{
	int64_t last_at;
	return guard_count(ctx, subject, &last_at);
}

int guard_fail(struct job_ctx *ctx, const char *subject)
{
	int64_t n = guard_failures(ctx, subject) + 1;
	sqlite3_stmt *st = db_prepare(ctx->db, "INSERT INTO auth_failures (subject, failures, last_at) VALUES (?, ?, ?)"
	    " ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at");
	int rc;

	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, n);
	sqlite3_bind_int64(st, 3, ra_now());
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc < 0)
		job_fail(ctx, 1, "cannot count a failure: %s", sqlite3_errmsg(ctx->db));
	return rc;
}

int64_t guard_wait(struct job_ctx *ctx, const char *source)
{
	int64_t last_at, n = guard_count(ctx, source, &last_at);
	int64_t free_n = config_int(ctx->cfg, "accounts.source_free_failures");
	int64_t max = config_int(ctx->cfg, "accounts.source_max_wait_s"), wait, left;

	if (n < free_n)
		return 0;
	wait = n - free_n >= 20 ? max : config_int(ctx->cfg, "accounts.source_wait_s") << (n - free_n);
	if (wait > max)
		wait = max;
	left = last_at + wait - ra_now();
	return left > 0 ? left : 0;
}

int guard_source(struct job_ctx *ctx, char **subject)
{
	json_t *v = json_object_get(ctx->payload, "source");
	const char *tag = json_string_value(v);
	char *by = NULL;
	size_t n;

	*subject = NULL;
	if (!v)
		return 0;
	n = tag ? strlen(tag) : 0;
	if (n == 0 || n > GUARD_SOURCE_MAX)
		return job_fail(ctx, 0, "source must be a text of 1 to %d characters", GUARD_SOURCE_MAX);
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)tag[i]))
			return job_fail(ctx, 0, "source may hold only visible ASCII characters");
	{
		sqlite3_stmt *st = db_prepare(ctx->db, "SELECT submitted_by FROM jobs WHERE id = ?");
		sqlite3_bind_int64(st, 1, ctx->id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			by = xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	/* Scoped by the producer: a source named by one producer is not another's. */
	*subject = xasprintf("source:%s/%s", by ? by : "", tag);
	free(by);
	return 0;
}
