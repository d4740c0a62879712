/*
 * job_resume.c: an approved resume form (paper, dual control) lifts the hold on the
 * account's certificates and gives the account a new website password, sealed for its
 * sheet (delivery from the form: counter, post or electronic); the account is unlocked.
 *
 * Refused, with nothing changed: when no certificate of the account is on hold (a revoked
 * certificate can never be resumed), or when a held certificate has expired (a hold is
 * lifted only before expiry; after it, only a new registration helps).
 */
#include "db.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <string.h>

/* The account named by resume form SERIAL; malloc'd, or NULL after job_fail(). */
static char *resume_account(struct job_ctx *ctx, const char *serial, char **delivery)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "SELECT json_extract(content, '$.account'),"
	    " json_extract(content, '$.delivery') FROM forms WHERE serial = ?");
	char *account = NULL;
	*delivery = NULL;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT &&
	    sqlite3_column_type(st, 1) == SQLITE_TEXT) {
		account = xstrdup((const char *)sqlite3_column_text(st, 0));
		*delivery = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (!account)
		job_refuse(ctx, JT_RESUME_NO_ACCOUNT, serial);
	return account;
}

int resume_prepare(struct job_ctx *ctx, const char *serial)
{
	char *delivery = NULL, *account = resume_account(ctx, serial, &delivery), when[24];
	json_t *held = NULL, *done, *refused;
	int64_t expired;
	int rc = -1;

	if (!account)
		return -1;
	expired = db_int(ctx->db, "SELECT min(c.not_after) FROM certificates c JOIN accounts a"
	    " ON a.subscriber_id = c.subscriber_id WHERE a.id = ? AND c.status = 'held' AND c.not_after <= ?",
	    "si", account, (int64_t)ra_now());
	if (expired > 0) {
		job_refuse(ctx, JT_RESUME_EXPIRED, account, time_format((time_t)expired, when, sizeof when));
		goto out;
	}
	if (!(held = cert_status_select(ctx, account, "'held'", 1)))
		goto out;
	if (json_array_size(held) == 0) {
		json_t *revoked = cert_status_select(ctx, account, "'revoked'", 0);
		if (json_array_size(revoked) > 0)
			job_refuse(ctx, JT_RESUME_REVOKED, account);
		else
			job_refuse(ctx, JT_RESUME_NOT_HELD, account);
		json_decref(revoked);
		goto out;
	}
	done = json_array();
	refused = json_array();
	json_object_set_new(ctx->scratch, "released", done);
	json_object_set_new(ctx->scratch, "refused", refused);
	if (cert_status_signer(ctx, held, "release", NULL, 0, done, refused) < 0)
		goto out;
	if (json_array_size(done) == 0) {
		job_refuse(ctx, JT_SIGNER_REFUSED_RELEASE,
		    json_string_value(json_object_get(json_array_get(refused, 0), "error")));
		goto out;
	}
	rc = register_prepare(ctx);
out:
	json_decref(held);
	free(account);
	free(delivery);
	return rc;
}

int resume_apply(struct job_ctx *ctx, const char *serial, json_t **result)
{
	char *delivery = NULL, *account = resume_account(ctx, serial, &delivery);
	json_t *done = json_object_get(ctx->scratch, "released");
	int rc = -1;

	if (!account)
		return -1;
	if (!done) {
		job_fail(ctx, 1, "internal: resume of form %s was not prepared", serial);
		goto out;
	}
	if (cert_status_record(ctx, done, "valid", NULL) < 0)
		goto out;
	*result = json_pack("{s:s,s:s,s:O,s:O}", "form", serial, "account", account, "released", done,
	    "refused", json_object_get(ctx->scratch, "refused"));
	rc = account_new_password(ctx, account, "resume", delivery, *result);
out:
	free(account);
	free(delivery);
	return rc;
}
