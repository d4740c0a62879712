/*
 * job_revoke.c: revocation. Two ways in:
 *   - an approved revocation form (paper, dual control; form_approve dispatches here):
 *     every certificate of the form's account that is valid or on hold and not expired is
 *     revoked with the form's reason (affiliationChanged, superseded or keyCompromise) and
 *     the event date as invalidity date when the form gives one;
 *   - the RA's own bulk revocation (job kind "revoke", ra-ctl revoke --serials-file), for
 *     a compromised batch of cards: listed serials, one reason. ra-ctl sends a long list
 *     as several jobs, and a job never outlasts its lease however slow the signer is: it
 *     stops asking the signer in time to commit (lease_budget below), records what was
 *     revoked and leaves the rest to a follow-on revoke job it creates in the same
 *     transaction (its result names it as "continued"; ra-ctl follows the chain).
 * The signer is asked in prepare, ra.db written in apply (cert_status.c keeps them agreeing).
 */
#include "clock.h"
#include "db.h"
#include "jobs.h"
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

/* When to stop beginning signer calls: the lease (counted from when the job arrived, not
 * from this loop: the officer check and the lookups before it spent some of it already),
 * less one call that may take the whole worker.signer_timeout_ms, the CRL request after the
 * last, and a call's worth of margin for the commit. The loader's lease rule (lib/config.c)
 * keeps this after the start. */
static int64_t lease_budget(const struct job_ctx *ctx)
{
	int64_t call = config_int(ctx->cfg, "worker.signer_timeout_ms");
	return ctx->started_ms + config_int(ctx->cfg, "queue.lease_ms") - 3 * call;
}

/* The serials not reached go on as a revoke job of their own, made by this one (its actor
 * asked for them; officer_check.c trusts a job's parent). Its id, 0 if nothing is left, or -1. */
static int64_t revoke_continue(struct job_ctx *ctx, const char *reason)
{
	json_t *rest = json_object_get(ctx->scratch, "rest"), *payload;
	char idem[64], *text;
	int64_t id;
	int existed;

	if (!rest || json_array_size(rest) == 0)
		return 0;
	payload = json_pack("{s:O,s:s}", "serials", rest, "reason", reason);
	text = json_dumps(payload, JSON_COMPACT);
	snprintf(idem, sizeof idem, "revoke-rest:job%lld", (long long)ctx->id);
	id = job_insert(ctx->db, "revoke", idem, text, ctx->actor, ctx->id, &existed);
	free(text);
	json_decref(payload);
	if (id < 0)
		return job_fail(ctx, 1, "cannot queue the rest of the revocation");
	log_info("job %lld: %zu serial(s) left for job %lld (the lease would not cover them)",
	    (long long)ctx->id, json_array_size(rest), (long long)id);
	return id;
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
	json_object_set_new(ctx->scratch, "rest", json_array());
	rc = cert_status_signer_until(ctx, known, "revoke", reason, 0, lease_budget(ctx), done, refused,
	    json_object_get(ctx->scratch, "rest"));
	json_decref(known);
	return rc;
}

int job_revoke_apply(struct job_ctx *ctx, json_t **result)
{
	const char *reason = job_str(ctx, ctx->payload, "reason");
	json_t *done = json_object_get(ctx->scratch, "revoked");
	int64_t next;

	if (!reason || !done)
		return job_fail(ctx, 1, "internal: revoke was not prepared");
	if (cert_status_record(ctx, done, "revoked", reason) < 0 || (next = revoke_continue(ctx, reason)) < 0)
		return -1;
	*result = json_pack("{s:s,s:I,s:O,s:O,s:O}", "reason", reason, "count", (json_int_t)json_array_size(done),
	    "unknown", json_object_get(ctx->scratch, "unknown"), "skipped", json_object_get(ctx->scratch, "skipped"),
	    "refused", json_object_get(ctx->scratch, "refused"));
	if (next > 0)
		json_object_set_new(*result, "continued", json_integer(next));
	return 0;
}
