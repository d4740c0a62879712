/*
 * job_revoke.c: revocation. Two ways in:
 *   - an approved revocation form (paper, dual control; form_approve dispatches here):
 *     every certificate of the form's account that is valid or on hold and not expired is
 *     revoked with the form's reason (affiliationChanged, superseded or keyCompromise) and
 *     the event date as invalidity date when the form gives one;
 *   - the RA's own bulk revocation (job kind "revoke", ra-ctl revoke --serials-file), for
 *     a compromised batch of cards: listed serials, one reason. ra-ctl sends a long list
 *     as several jobs so each stays well inside its lease.
 * The signer is asked in prepare, ra.db written in apply (cert_status.c keeps them agreeing).
 */
#include "db.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <string.h>

/* The reasons a revocation may carry here: RFC 5280 names, as the signer takes them. */
static const char *const revoke_reasons[] = {
	"unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation",
	"privilegeWithdrawn",
};

static int reason_ok(const char *r)
{
	for (size_t i = 0; i < ARRAY_LEN(revoke_reasons); i++)
		if (strcmp(r, revoke_reasons[i]) == 0)
			return 1;
	return 0;
}

/* The stored form SERIAL's content. NULL after job_fail(). */
static json_t *form_content_of(struct job_ctx *ctx, const char *serial)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "SELECT content FROM forms WHERE serial = ?");
	json_t *j = NULL;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		j = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	if (!j)
		job_refuse(ctx, JT_NOT_STORED, serial);
	return j;
}

int revocation_prepare(struct job_ctx *ctx, const char *serial)
{
	json_t *form = form_content_of(ctx, serial), *serials = NULL, *done, *refused;
	const char *account, *reason, *event;
	time_t invalidity = 0;
	int rc = -1;

	if (!form)
		return -1;
	account = json_string_value(json_object_get(form, "account"));
	reason = json_string_value(json_object_get(form, "reason"));
	event = json_string_value(json_object_get(form, "event_date"));
	if (!account) {
		job_refuse(ctx, JT_REVOKE_NO_ACCOUNT, serial);
		goto out;
	}
	if (!reason || !reason_ok(reason)) {
		job_refuse(ctx, JT_REVOKE_NO_REASON, serial);
		goto out;
	}
	if (event && (time_parse(event, &invalidity) < 0 || invalidity > ra_now())) {
		job_refuse(ctx, JT_REVOKE_EVENT_DATE, serial, event);
		goto out;
	}
	if (!(serials = cert_status_select(ctx, account, "'valid','held'", 1)))
		goto out;
	if (json_array_size(serials) == 0) {
		job_refuse(ctx, JT_NOTHING_TO_REVOKE, account);
		goto out;
	}
	done = json_array();
	refused = json_array();
	json_object_set_new(ctx->scratch, "revoked", done);
	json_object_set_new(ctx->scratch, "refused", refused);
	if (cert_status_signer(ctx, serials, "revoke", reason, (int64_t)invalidity, done, refused) < 0)
		goto out;
	if (json_array_size(done) == 0) {
		job_refuse(ctx, JT_SIGNER_REFUSED_REVOKE,
		    json_string_value(json_object_get(json_array_get(refused, 0), "error")));
		goto out;
	}
	json_object_set_new(ctx->scratch, "account", json_string(account));
	json_object_set_new(ctx->scratch, "reason", json_string(reason));
	rc = 0;
out:
	json_decref(serials);
	json_decref(form);
	return rc;
}

int revocation_apply(struct job_ctx *ctx, const char *serial, json_t **result)
{
	json_t *done = json_object_get(ctx->scratch, "revoked");
	const char *reason = json_string_value(json_object_get(ctx->scratch, "reason"));

	if (!done || !reason)
		return job_fail(ctx, 1, "internal: revocation of form %s was not prepared", serial);
	if (cert_status_record(ctx, done, "revoked", reason) < 0)
		return -1;
	*result = json_pack("{s:s,s:O,s:s,s:O,s:O}", "form", serial, "account",
	    json_object_get(ctx->scratch, "account"), "reason", reason, "revoked", done,
	    "refused", json_object_get(ctx->scratch, "refused"));
	return 0;
}

int job_revoke_prepare(struct job_ctx *ctx)
{
	json_t *serials = json_object_get(ctx->payload, "serials"), *s, *known, *done, *refused;
	const char *reason = job_str(ctx, ctx->payload, "reason");
	size_t i;
	int rc;

	if (!reason)
		return -1;
	if (!reason_ok(reason))
		return job_refuse(ctx, JT_REVOKE_BAD_REASON, reason);
	if (!json_is_array(serials) || json_array_size(serials) == 0)
		return job_refuse(ctx, JT_REVOKE_NO_SERIALS);
	known = json_array();
	json_object_set_new(ctx->scratch, "unknown", json_array());
	json_object_set_new(ctx->scratch, "skipped", json_array());
	json_array_foreach(serials, i, s) {
		const char *serial = json_string_value(s);
		const char *bucket = "unknown";
		int64_t valid;
		if (!serial)
			continue;
		valid = db_int(ctx->db, "SELECT status <> 'revoked' FROM certificates WHERE serial = ?", "s", serial);
		if (valid == 1)
			bucket = NULL;
		else if (valid == 0)
			bucket = "skipped";
		if (bucket)
			json_array_append_new(json_object_get(ctx->scratch, bucket), json_string(serial));
		else
			json_array_append_new(known, json_string(serial));
	}
	done = json_array();
	refused = json_array();
	json_object_set_new(ctx->scratch, "revoked", done);
	json_object_set_new(ctx->scratch, "refused", refused);
	rc = cert_status_signer(ctx, known, "revoke", reason, 0, done, refused);
	json_decref(known);
	return rc;
}

int job_revoke_apply(struct job_ctx *ctx, json_t **result)
{
	const char *reason = job_str(ctx, ctx->payload, "reason");
	json_t *done = json_object_get(ctx->scratch, "revoked");

	if (!reason || !done)
		return job_fail(ctx, 1, "internal: revoke was not prepared");
	if (cert_status_record(ctx, done, "revoked", reason) < 0)
		return -1;
	*result = json_pack("{s:s,s:I,s:O,s:O,s:O}", "reason", reason, "count", (json_int_t)json_array_size(done),
	    "unknown", json_object_get(ctx->scratch, "unknown"), "skipped", json_object_get(ctx->scratch, "skipped"),
	    "refused", json_object_get(ctx->scratch, "refused"));
	return 0;
}
