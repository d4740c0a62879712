/*
 * job_issue.c: a card order's two certificates (signature, encryption) from its two
 * certificate requests.
 *
 * prepare: checks the order and asks ca-signer for both certificates (issue_pair.c: both
 * requests checked first, request ids "job<ID>.<usage>", the first withdrawn if the
 * second fails): a retried or taken-over job gets the very same certificates back, never
 * a second pair. apply: stores them and moves the order to "issued", in the transaction
 * that completes the job, or withdraws them if the order was given back meanwhile.
 */
#include "b64.h"
#include "db.h"
#include "log.h"
#include "pem.h"
#include "util.h"
#include "officer.h"
#include "worker.h"

#include <openssl/x509.h>
#include <string.h>

/*
 * Only these members may appear: anything else (a validity, key usages, a CA flag) is
 * something the request has no say in, and asking for it is refused, not ignored.
 */
static int issue_members_ok(struct job_ctx *ctx)
{
	static const char *const allowed[] = { "order", "card_serial", "sign_csr", "enc_csr", "station",
		OFFICER_SIG_MEMBER };
	const char *key;
	json_t *v;

	json_object_foreach(ctx->payload, key, v) {
		size_t i;
		for (i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (i == sizeof allowed / sizeof allowed[0])
			return job_refuse(ctx, JT_ISSUE_FIELD, key);
	}
	return 0;
}

int job_issue_prepare(struct job_ctx *ctx)
{
	int64_t order = job_int(ctx, ctx->payload, "order");
	const char *card = json_string_value(json_object_get(ctx->payload, "card_serial"));
	sqlite3_stmt *st;
	json_t *subject = NULL, *certs = NULL;
	char *state = NULL, *claimed_by = NULL;
	int rc = -1;

	if (order < 0 || issue_members_ok(ctx) < 0)
		goto out;
	st = db_prepare(ctx->db, "SELECT o.state, o.card_serial, s.name, s.email, a.id FROM orders o"
	    " JOIN subscribers s ON s.id = o.subscriber_id JOIN accounts a ON a.subscriber_id = s.id"
	    " WHERE o.id = ?");
	sqlite3_bind_int64(st, 1, order);
	if (sqlite3_step(st) == SQLITE_ROW) {
		state = xstrdup((const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			claimed_by = xstrdup((const char *)sqlite3_column_text(st, 1));
		subject = json_pack("{s:s,s:s,s:s}", "name", sqlite3_column_text(st, 2),
		    "email", sqlite3_column_text(st, 3), "account", sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	if (!state) {
		job_refuse(ctx, JT_NO_ORDER, (long long)order);
		goto out;
	}
	if (strcmp(state, "approved") != 0 && strcmp(state, "claimed") != 0) {
		job_refuse(ctx, JT_ISSUE_ORDER_STATE,
		    (long long)order, state);
		goto out;
	}
	if (claimed_by && (!card || strcmp(card, claimed_by) != 0)) {
		job_refuse(ctx, JT_ISSUE_OTHER_CARD, (long long)order,
		    claimed_by);
		goto out;
	}
	/* A card's job that ran late (it waited for the signer) after the station gave the
	 * order back: nothing is asked of the signer for a card that no longer holds it. */
	if (card && !claimed_by) {
		job_refuse(ctx, JT_ISSUE_GIVEN_BACK,
		    (long long)order, card);
		goto out;
	}
	/* Both requests are checked before the signer sees either (issue_pair.c). */
	if (!(certs = issue_pair_sign(ctx, subject)))
		goto out;
	json_object_set(ctx->scratch, "certs", certs);
	rc = 0;
out:
	json_decref(certs);
	json_decref(subject);
	free(state);
	free(claimed_by);
	return rc;
}

json_t *issue_store(struct job_ctx *ctx, int64_t order, json_t *certs)
{
	json_t *c, *out = json_array();
	char object[64];
	size_t i;

	json_array_foreach(certs, i, c) {
		sqlite3_stmt *st = db_prepare(ctx->db, "INSERT INTO certificates (serial, subscriber_id, order_id,"
		    " usage, subject, not_before, not_after, request_id, job_id, pem, created_at)"
		    " SELECT ?, subscriber_id, id, ?, ?, ?, ?, ?, ?, ?, ? FROM orders WHERE id = ?");
		int rc;
		sqlite3_bind_text(st, 1, json_string_value(json_object_get(c, "serial")), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, json_string_value(json_object_get(c, "usage")), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, json_string_value(json_object_get(c, "subject")), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, json_integer_value(json_object_get(c, "not_before")));
		sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(c, "not_after")));
		sqlite3_bind_text(st, 6, json_string_value(json_object_get(c, "request_id")), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, ctx->id);
		sqlite3_bind_text(st, 8, json_string_value(json_object_get(c, "pem")), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, ra_now());
		sqlite3_bind_int64(st, 10, order);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		snprintf(object, sizeof object, "cert:%s", json_string_value(json_object_get(c, "serial")));
		if (rc != SQLITE_DONE) {
			job_fail(ctx, 1, "cannot store certificate %s: %s", object + 5, sqlite3_errmsg(ctx->db));
			json_decref(out);
			return NULL;
		}
		if (job_audit(ctx, "cert.issued", object, NULL, "valid") < 0) {
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, json_pack("{s:O,s:O,s:O,s:O}", "usage", json_object_get(c, "usage"),
		    "serial", json_object_get(c, "serial"), "pem", json_object_get(c, "pem"),
		    "not_after", json_object_get(c, "not_after")));
	}
	return out;
}

int job_issue_apply(struct job_ctx *ctx, json_t **result)
{
	int64_t order = job_int(ctx, ctx->payload, "order");
	const char *card = json_string_value(json_object_get(ctx->payload, "card_serial"));
	json_t *certs = json_object_get(ctx->scratch, "certs"), *out;
	char object[64];

	/* Still the same order for the same card (or none): a card given back meanwhile
	 * (card_fail) must not receive certificates through a late job. */
	{
		sqlite3_stmt *st = db_prepare(ctx->db, "SELECT 1 FROM orders WHERE id = ? AND"
		    " state IN ('approved','claimed') AND card_serial IS ?");
		int same;
		sqlite3_bind_int64(st, 1, order);
		if (card)
			sqlite3_bind_text(st, 2, card, -1, SQLITE_STATIC);
		same = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (!same) {
			job_refuse(ctx, JT_ISSUE_CHANGED, (long long)order);
			issue_withdraw(ctx, certs);
			return -1;
		}
	}
	if (!(out = issue_store(ctx, order, certs)))
		return -1;
	{
		sqlite3_stmt *st = db_prepare(ctx->db, "UPDATE orders SET state = 'issued', updated_at = ? WHERE id = ?");
		sqlite3_bind_int64(st, 1, ra_now());
		sqlite3_bind_int64(st, 2, order);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	snprintf(object, sizeof object, "order:%lld", (long long)order);
	if (job_audit(ctx, "order.issued", object, "approved", "issued") < 0) {
		json_decref(out);
		return -1;
	}
	*result = json_pack("{s:I,s:o}", "order", (json_int_t)order, "certs", out);
	return 0;
}
