/*
 * cert_status.c: certificate status changes as the lifecycle jobs share them: which
 * certificates of an account qualify, asking ca-signer to change them, and recording the
 * change in ra.db.
 *
 * Rules: the signer is asked first (in a job's prepare phase), with request ids derived
 * from the job id, so a retried or taken-over job repeats exactly the same requests and
 * the signer answers them without a second change. ra.db is written only in the job's
 * transaction, and only for the serials the signer confirmed: whatever happens half way,
 * a job leaves ra.db's certificates.status and the signer's state agreeing once it is done.
 */
#include "db.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <string.h>

json_t *cert_status_select(struct job_ctx *ctx, const char *account, const char *statuses, int unexpired)
{
	char *sql;
	sqlite3_stmt *st;
	json_t *out;

	if (db_int(ctx->db, "SELECT 1 FROM accounts WHERE id = ?", "s", account) != 1) {
		job_refuse(ctx, JT_NO_ACCOUNT, account);
		return NULL;
	}
	/* STATUSES is one of our constants, never the payload's text. */
	sql = xasprintf("SELECT c.serial FROM certificates c JOIN accounts a ON a.subscriber_id = c.subscriber_id"
	    " WHERE a.id = ? AND c.status IN (%s) AND (? = 0 OR c.not_after > ?) ORDER BY c.created_at, c.usage",
	    statuses);
	st = db_prepare(ctx->db, sql);
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, unexpired);
	sqlite3_bind_int64(st, 3, ra_now());
	out = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(out, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	free(sql);
	return out;
}

int cert_status_signer(struct job_ctx *ctx, json_t *serials, const char *action, const char *reason,
    int64_t invalidity, json_t *done, json_t *refused)
{
	return cert_status_signer_until(ctx, serials, action, reason, invalidity, 0, done, refused, NULL);
}

int cert_status_signer_until(struct job_ctx *ctx, json_t *serials, const char *action, const char *reason,
    int64_t invalidity, int64_t deadline, json_t *done, json_t *refused, json_t *rest)
{
	json_t *s;
	size_t i;

	json_array_foreach(serials, i, s) {
		const char *serial = json_string_value(s);
		char request_id[128];
		json_t *ans;

		/* Past the deadline, what is left goes back to the caller (one serial at least is
		 * asked, so every job moves the list on). */
		if (deadline && rest && i > 0 && mono_ms() >= deadline) {
			for (; i < json_array_size(serials); i++)
				json_array_append(rest, json_array_get(serials, i));
			break;
		}

		snprintf(request_id, sizeof request_id, "job%lld.%s.%s", (long long)ctx->id, action, serial);
		ans = signer_client_status(ctx, request_id, serial, action, reason, invalidity);
		if (ans) {
			json_array_append_new(done, json_string(serial));
			json_decref(ans);
		} else if (ctx->retry) {
			return -1;
		} else {
			json_array_append_new(refused, json_pack("{s:s,s:s}", "serial", serial, "error", ctx->error));
			job_error_clear(ctx);
		}
	}
	/* The signer publishes on its own after a change (debounced); asking now only shortens
	 * the wait, so a failure here is not the job's failure. */
	if (json_array_size(done) > 0 && signer_client_crl(ctx) < 0) {
		log_warn("job %lld: the CRL was not published now; the signer will on its next run", (long long)ctx->id);
		job_error_clear(ctx);
		ctx->retry = 0;
	}
	return 0;
}

int cert_status_record(struct job_ctx *ctx, json_t *done, const char *status, const char *reason)
{
	json_t *s;
	size_t i;

	json_array_foreach(done, i, s) {
		const char *serial = json_string_value(s);
		char object[64], *before = NULL;
		sqlite3_stmt *st = db_prepare(ctx->db, "SELECT status FROM certificates WHERE serial = ?");
		int rc;

		sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			before = xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (!before)
			return job_refuse(ctx, JT_CERT_NOT_IN_LEDGER, serial);
		st = db_prepare(ctx->db, "UPDATE certificates SET status = ?, reason = ? WHERE serial = ?");
		sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
		if (reason)
			sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, serial, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		snprintf(object, sizeof object, "cert:%s", serial);
		if (rc != SQLITE_DONE) {
			free(before);
			return job_fail(ctx, 1, "cannot record certificate %s: %s", serial, sqlite3_errmsg(ctx->db));
		}
		rc = job_audit(ctx, strcmp(status, "revoked") == 0 ? "cert.revoked" :
		    strcmp(status, "held") == 0 ? "cert.held" : "cert.released", object, before, status);
		free(before);
		if (rc < 0)
			return -1;
	}
	return 0;
}
