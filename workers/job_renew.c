/*
 * job_renew.c: renewal of an account's certificates from new certificate requests (new
 * keys), for the same subscriber and card. Asked by the subscriber online (`renew`, from
 * ra-self, always with the website password: the lockout rule applies) or at the counter
 * (`counter_renew`, from ra-ctl renew, signed by a supervisor and verified by
 * officer_check() before this runs). The two are different kinds so that no payload
 * member can turn a subscriber's request into an officer's.
 *
 * The window (renewal.window_days, 30 by default) runs from that many days before the
 * current certificates expire until they expire: before it the answer gives the date it
 * opens; after expiry only a new registration helps. Certificates on hold must be resumed
 * first; revoked ones cannot be renewed. The old certificates stay valid until they
 * expire. The job makes a renewal card order and an `issue` job for it (a child job, in
 * this transaction): issuing stays in one place, job_issue.c, with its signer idempotency.
 */
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <string.h>

/* Whether TEXT holds a PEM certificate request (the signer checks the rest). */
static int looks_like_csr(const char *text)
{
	return text && (strstr(text, "-----BEGIN CERTIFICATE REQUEST-----") ||
	    strstr(text, "-----BEGIN NEW CERTIFICATE REQUEST-----"));
}

/* Renewal orders whose issue job failed for good (the signer refused a request) are dead:
 * cancel them, so they neither block nor count as a renewal. 0/-1 (ctx->error). */
static int renew_cancel_failed(struct job_ctx *ctx, int64_t sub)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "SELECT o.id FROM orders o JOIN jobs j ON j.kind = 'issue'"
	    " AND json_extract(j.payload, '$.order') = o.id WHERE o.subscriber_id = ? AND o.purpose = 'renewal'"
	    " AND o.state = 'claimed' AND j.state = 'failed'");
	json_t *dead = json_array(), *v;
	size_t i;
	int rc = 0;

	sqlite3_bind_int64(st, 1, sub);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(dead, json_integer(sqlite3_column_int64(st, 0)));
	sqlite3_finalize(st);
	json_array_foreach(dead, i, v) {
		char object[40];
		st = db_prepare(ctx->db, "UPDATE orders SET state = 'cancelled', updated_at = ? WHERE id = ?");
		sqlite3_bind_int64(st, 1, ra_now());
		sqlite3_bind_int64(st, 2, json_integer_value(v));
		sqlite3_step(st);
		sqlite3_finalize(st);
		snprintf(object, sizeof object, "order:%lld", (long long)json_integer_value(v));
		if ((rc = job_audit(ctx, "order.state", object, "claimed", "cancelled")) < 0)
			break;
	}
	json_decref(dead);
	return rc;
}

/* The window's verdict for ACCOUNT: NULL if renewal may go on (*sub, *card set), else a refusal. */
static json_t *renew_window(struct job_ctx *ctx, const char *account, int64_t *sub, char **card)
{
	int64_t window = config_int(ctx->cfg, "renewal.window_days") * 86400, now = ra_now(), na, held, pending;
	char when[24];
	sqlite3_stmt *st;

	*sub = db_int(ctx->db, "SELECT subscriber_id FROM accounts WHERE id = ?", "s", account);
	*card = NULL;
	na = db_int(ctx->db, "SELECT max(not_after) FROM certificates WHERE subscriber_id = ? AND status <> 'revoked'",
	    "i", *sub);
	if (na < 0) {
		if (db_int(ctx->db, "SELECT count(*) FROM certificates WHERE subscriber_id = ?", "i", *sub) > 0)
			return account_refuse("revoked", xstrdup("the certificates are revoked: register again"),
			    xstrdup("憑證已廢止：請重新申請註冊"));
		return account_refuse("no_certificate", xstrdup("no certificate has been issued to this account yet"),
		    xstrdup("此帳號尚未簽發憑證"));
	}
	time_format((time_t)na, when, sizeof when);
	if (now >= na)
		return account_refuse("expired", xasprintf("the certificates expired on %.10s: renewal is no longer"
		    " possible; register again", when), xasprintf("憑證已於 %.10s 到期，無法展期：請重新申請註冊", when));
	if (now < na - window) {
		time_format((time_t)(na - window), when, sizeof when);
		return account_refuse("too_early", xasprintf("renewal opens on %.10s (%lld days before the"
		    " certificates expire)", when, (long long)(window / 86400)),
		    xasprintf("展期申請自 %.10s 起受理（憑證到期前 %lld 天）", when, (long long)(window / 86400)));
	}
	held = db_int(ctx->db, "SELECT count(*) FROM certificates WHERE subscriber_id = ? AND not_after = ?"
	    " AND status = 'held'", "ii", *sub, na);
	if (held > 0)
		return account_refuse("held", xstrdup("the certificates are on hold: file a resume form first"),
		    xstrdup("憑證停用中：請先申請復用"));
	pending = db_int(ctx->db, "SELECT o.id FROM orders o JOIN jobs j ON j.kind = 'issue'"
	    " AND json_extract(j.payload, '$.order') = o.id WHERE o.subscriber_id = ? AND o.purpose = 'renewal'"
	    " AND o.state = 'claimed' AND j.state IN ('queued','leased')", "i", *sub);
	if (pending > 0)
		return account_refuse("pending", xasprintf("a renewal is already under way (card order %lld)",
		    (long long)pending), xasprintf("已有展期申請處理中（製卡單 %lld）", (long long)pending));
	st = db_prepare(ctx->db, "SELECT o.card_serial FROM certificates c JOIN orders o ON o.id = c.order_id"
	    " WHERE c.subscriber_id = ? AND c.not_after = ? AND o.card_serial IS NOT NULL LIMIT 1");
	sqlite3_bind_int64(st, 1, *sub);
	sqlite3_bind_int64(st, 2, na);
	if (sqlite3_step(st) == SQLITE_ROW)
		*card = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return NULL;
}

/* The renewal order (state claimed: no blank card can take it) and its issue job. */
static int renew_order(struct job_ctx *ctx, int64_t sub, const char *card, json_t *result)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "INSERT INTO orders (subscriber_id, form_serial, purpose, state,"
	    " card_serial, station, created_at, updated_at) SELECT id, form_serial, 'renewal', 'claimed', ?,"
	    " 'renewal', ?, ? FROM subscribers WHERE id = ?");
	json_t *payload;
	char *text, idem[48], object[40];
	int64_t order, issue;
	int existed;

	if (card)
		sqlite3_bind_text(st, 1, card, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ra_now());
	sqlite3_bind_int64(st, 3, ra_now());
	sqlite3_bind_int64(st, 4, sub);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return job_fail(ctx, 1, "cannot create the renewal order: %s", sqlite3_errmsg(ctx->db));
	}
	sqlite3_finalize(st);
	order = sqlite3_last_insert_rowid(ctx->db);
	snprintf(object, sizeof object, "order:%lld", (long long)order);
	if (job_audit(ctx, "order.created", object, NULL, "renewal") < 0)
		return -1;
	payload = json_pack("{s:I,s:s?,s:O,s:O}", "order", (json_int_t)order, "card_serial", card,
	    "sign_csr", json_object_get(ctx->payload, "sign_csr"), "enc_csr", json_object_get(ctx->payload, "enc_csr"));
	text = json_dumps(payload, JSON_COMPACT);
	snprintf(idem, sizeof idem, "renew:job%lld", (long long)ctx->id);
	issue = job_insert(ctx->db, "issue", idem, text, ctx->actor, ctx->id, &existed);
	free(text);
	json_decref(payload);
	if (issue < 0)
		return job_fail(ctx, 1, "cannot queue the renewal's issue job");
	json_object_set_new(result, "order", json_integer(order));
	json_object_set_new(result, "issue_job", json_integer(issue));
	return 0;
}

/* Renew ACCOUNT's certificates from the payload's requests; SEALED is the subscriber's
 * password (sealed, checked with the lockout rule) or NULL when a verified officer asks. */
static int renew_run(struct job_ctx *ctx, const char *account, const char *sealed, json_t **result)
{
	char *card = NULL;
	int64_t sub;
	int ok;

	if (!looks_like_csr(json_string_value(json_object_get(ctx->payload, "sign_csr"))) ||
	    !looks_like_csr(json_string_value(json_object_get(ctx->payload, "enc_csr"))))
		return job_refuse(ctx, JT_RENEW_CSRS, ctx->kind);
	if (sealed) {
		if ((ok = account_check(ctx, account, sealed, result)) < 0)
			return -1;
		if (ok == 0)
			return job_redact(ctx->db, ctx->id, "password");
	} else if (db_int(ctx->db, "SELECT 1 FROM accounts WHERE id = ?", "s", account) != 1) {
		return job_refuse(ctx, JT_NO_ACCOUNT, account);
	}
	sub = db_int(ctx->db, "SELECT subscriber_id FROM accounts WHERE id = ?", "s", account);
	if (renew_cancel_failed(ctx, sub) < 0)
		return -1;
	if ((*result = renew_window(ctx, account, &sub, &card)) == NULL) {
		*result = json_pack("{s:b,s:s}", "ok", 1, "account", account);
		if (renew_order(ctx, sub, card, *result) < 0) {
			free(card);
			return -1;
		}
	}
	free(card);
	return sealed ? job_redact(ctx->db, ctx->id, "password") : 0;
}

/* The subscriber online: the website password, always; no payload member replaces it. */
int job_renew_apply(struct job_ctx *ctx, json_t **result)
{
	const char *account = job_str(ctx, ctx->payload, "account");
	const char *sealed = json_string_value(json_object_get(ctx->payload, "password"));

	if (!account)
		return -1;
	if (!sealed || !*sealed)
		return job_refuse(ctx, JT_RENEW_NEEDS_PASSWORD);
	return renew_run(ctx, account, sealed, result);
}

/* At the counter: a supervisor's verified signature (officer_check) stands for the password. */
int job_counter_renew_apply(struct job_ctx *ctx, json_t **result)
{
	const char *account = job_str(ctx, ctx->payload, "account");

	if (!account)
		return -1;
	if (!ctx->officer[0])
		return job_refuse(ctx, JT_COUNTER_RENEW_OFFICER);
	return renew_run(ctx, account, NULL, result);
}
