/*
 * job_order.c: card orders at the card station. A blank card claims the next approved
 * order (order_claim, idempotent by card serial: a station that crashed and asks again
 * for the same card gets the same order); a finished card is recorded against its order
 * with its sealed PIN for the PIN sheet (card_done); a card that failed half way gives its
 * order back and has any certificate it received revoked (card_fail), so no certificate
 * stays valid for a card that was not finished.
 */
#include "b64.h"
#include "db.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <string.h>

static json_t *order_row(sqlite3 *db, int64_t order)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT o.id, o.state, o.card_serial, a.id, s.name, s.id"
	    " FROM orders o JOIN subscribers s ON s.id = o.subscriber_id"
	    " JOIN accounts a ON a.subscriber_id = s.id WHERE o.id = ?");
	json_t *j = NULL;
	sqlite3_bind_int64(st, 1, order);
	if (sqlite3_step(st) == SQLITE_ROW)
		j = json_pack("{s:I,s:s,s:s?,s:s,s:s,s:I}", "order", (json_int_t)sqlite3_column_int64(st, 0),
		    "state", sqlite3_column_text(st, 1), "card_serial", sqlite3_column_text(st, 2),
		    "account", sqlite3_column_text(st, 3), "name", sqlite3_column_text(st, 4),
		    "subscriber", (json_int_t)sqlite3_column_int64(st, 5));
	sqlite3_finalize(st);
	return j;
}

static int order_set(struct job_ctx *ctx, int64_t order, const char *from, const char *to,
    const char *card, const char *station)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "UPDATE orders SET state = ?, card_serial = ?, station = ?,"
	    " updated_at = ? WHERE id = ?");
	char object[40];
	sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, card, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, station, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ra_now());
	sqlite3_bind_int64(st, 5, order);
	sqlite3_step(st);
	sqlite3_finalize(st);
	snprintf(object, sizeof object, "order:%lld", (long long)order);
	return job_audit(ctx, "order.state", object, from, to);
}

int job_order_claim_apply(struct job_ctx *ctx, json_t **result)
{
	const char *station = job_str(ctx, ctx->payload, "station");
	const char *card = job_str(ctx, ctx->payload, "card_serial");
	int64_t order;

	if (!station || !card)
		return -1;
	order = db_int(ctx->db, "SELECT id FROM orders WHERE card_serial = ? AND state IN ('claimed','issued')",
	    "s", card);
	if (order > 0) {
		*result = order_row(ctx->db, order);
		return 0;
	}
	if (db_int(ctx->db, "SELECT 1 FROM orders WHERE card_serial = ? AND state = 'personalized'", "s", card) == 1)
		return job_refuse(ctx, JT_CARD_PERSONALIZED, card);
	order = db_int(ctx->db, "SELECT id FROM orders WHERE state = 'approved' ORDER BY id LIMIT 1", "");
	if (order < 0)
		return job_refuse(ctx, JT_NO_ORDER_WAITING);
	if (order_set(ctx, order, "approved", "claimed", card, station) < 0)
		return -1;
	*result = order_row(ctx->db, order);
	return 0;
}

int job_card_done_apply(struct job_ctx *ctx, json_t **result)
{
	int64_t order = job_int(ctx, ctx->payload, "order");
	const char *card = job_str(ctx, ctx->payload, "card_serial");
	const char *pin_b64 = job_str(ctx, ctx->payload, "sealed_pin");
	json_t *row;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int rc = -1;

	if (order < 0 || !card || !pin_b64)
		return -1;
	if (!(row = order_row(ctx->db, order)))
		return job_refuse(ctx, JT_NO_ORDER, (long long)order);
	if (!json_string_value(json_object_get(row, "card_serial")) ||
	    strcmp(json_string_value(json_object_get(row, "card_serial")), card) != 0) {
		job_refuse(ctx, JT_ORDER_OTHER_CARD, (long long)order, card);
		goto out;
	}
	if (strcmp(json_string_value(json_object_get(row, "state")), "personalized") == 0) {
		*result = json_incref(row);
		rc = 0;
		goto out;
	}
	if (strcmp(json_string_value(json_object_get(row, "state")), "issued") != 0) {
		job_refuse(ctx, JT_ORDER_NO_CERTS, (long long)order);
		goto out;
	}
	if (b64_decode(pin_b64, &sealed, &sealed_len) < 0 || sealed_len < 61) {
		job_refuse(ctx, JT_SEALED_PIN);
		goto out;
	}
	if (order_set(ctx, order, "issued", "personalized", card,
	    json_string_value(json_object_get(ctx->payload, "station"))) < 0)
		goto out;
	{
		/* Personalization set the card's first PUK (a wiped card may come back). */
		sqlite3_stmt *st = db_prepare(ctx->db, "DELETE FROM card_puk WHERE card_serial = ?");
		sqlite3_bind_text(st, 1, card, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			job_fail(ctx, 1, "cannot reset the card's PUK version: %s", sqlite3_errmsg(ctx->db));
			goto out;
		}
		sqlite3_finalize(st);
	}
	if (sheet_queue(ctx, "pin", json_integer_value(json_object_get(row, "subscriber")),
	    json_string_value(json_object_get(row, "account")), order, "personalization", "post",
	    sealed, sealed_len) < 0)
		goto out;
	json_object_set_new(row, "state", json_string("personalized"));
	*result = json_incref(row);
	rc = 0;
out:
	free(sealed);
	json_decref(row);
	return rc;
}

/* Revoke (at the signer) every valid certificate the failed card's order received. */
int job_card_fail_prepare(struct job_ctx *ctx)
{
	int64_t order = job_int(ctx, ctx->payload, "order");
	sqlite3_stmt *st;
	json_t *revoked = json_array();
	int rc = 0;

	if (order < 0 || !job_str(ctx, ctx->payload, "card_serial")) {
		json_decref(revoked);
		return -1;
	}
	st = db_prepare(ctx->db, "SELECT serial FROM certificates WHERE order_id = ? AND status <> 'revoked'");
	sqlite3_bind_int64(st, 1, order);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char *serial = (const char *)sqlite3_column_text(st, 0);
		char request_id[96];
		json_t *ans;
		snprintf(request_id, sizeof request_id, "job%lld.revoke.%s", (long long)ctx->id, serial);
		ans = signer_client_status(ctx, request_id, serial, "revoke", "cessationOfOperation", 0);
		if (!ans)
			rc = -1;
		else
			json_array_append_new(revoked, json_string(serial));
		json_decref(ans);
	}
	sqlite3_finalize(st);
	if (rc == 0 && json_array_size(revoked) > 0 && signer_client_crl(ctx) < 0)
		log_warn("job %lld: CRL not published now; it will be on the next change", (long long)ctx->id);
	json_object_set_new(ctx->scratch, "revoked", revoked);
	return rc;
}

int job_card_fail_apply(struct job_ctx *ctx, json_t **result)
{
	int64_t order = job_int(ctx, ctx->payload, "order");
	const char *card = job_str(ctx, ctx->payload, "card_serial");
	const char *why = json_string_value(json_object_get(ctx->payload, "reason"));
	json_t *revoked = json_object_get(ctx->scratch, "revoked"), *s, *row;
	size_t i;
	int rc = -1;

	if (!(row = order_row(ctx->db, order)))
		return job_refuse(ctx, JT_NO_ORDER, (long long)order);
	if (!json_string_value(json_object_get(row, "card_serial")) ||
	    strcmp(json_string_value(json_object_get(row, "card_serial")), card) != 0) {
		json_decref(row);
		return job_refuse(ctx, JT_ORDER_OTHER_CARD, (long long)order, card);
	}
	if (strcmp(json_string_value(json_object_get(row, "state")), "personalized") == 0) {
		json_decref(row);
		return job_refuse(ctx, JT_ORDER_FINISHED, (long long)order);
	}
	json_array_foreach(revoked, i, s) {
		sqlite3_stmt *st = db_prepare(ctx->db, "UPDATE certificates SET status = 'revoked',"
		    " reason = 'cessationOfOperation' WHERE serial = ?");
		char object[64];
		sqlite3_bind_text(st, 1, json_string_value(s), -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
		snprintf(object, sizeof object, "cert:%s", json_string_value(s));
		if (job_audit(ctx, "cert.revoked", object, "valid", "revoked") < 0)
			goto out;
	}
	if (order_set(ctx, order, json_string_value(json_object_get(row, "state")), "approved", NULL, NULL) < 0)
		goto out;
	log_info("card %s failed (%s); order %lld is waiting for another card", card, why ? why : "no reason given",
	    (long long)order);
	*result = json_pack("{s:I,s:O}", "order", (json_int_t)order, "revoked", revoked);
	rc = 0;
out:
	json_decref(row);
	return rc;
}
