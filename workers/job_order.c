/*
 * job_order.c: card orders at the card station. A blank card claims the next approved
 * order (order_claim, idempotent by card serial: a station that crashed and asks again
 * for the same card gets the same order); a finished card is recorded against its order
 * with its sealed PIN for the PIN sheet (card_done); a card that failed half way gives its
 * order back and has any certificate it received revoked (card_fail), so no certificate
 * stays valid for a card that was not finished.
 *
 * A station killed after finishing a card may have its card_done land late (still in the
 * socket or queued when the station is run again), while the rerun gives the same order
 * back to wipe the card. The ledger settles which one wins, never the station's view:
 *   - card_done finishes the order only if it still holds the pair of its own issue job
 *     (payload issue_job) for that card; otherwise the pair was given back meanwhile and
 *     the late card_done completes as stale, changing nothing;
 *   - card_fail finds a finished order and completes as "finished", revoking nothing
 *     (its prepare looks before asking the signer), so the rerun leaves the card alone;
 *   - a card_fail of the order that was dispatched and not completed may have revoked at
 *     the signer already: card_done waits for it (not counted as an attempt), so a card is
 *     never recorded finished with certificates the signer has revoked.
 */
#include "b64.h"
#include "db.h"
#include "jobs.h"
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
	order = db_int(ctx->db, "SELECT id FROM orders WHERE card_serial = ? AND state = 'personalized'"
	    " ORDER BY id DESC LIMIT 1", "s", card);
	if (order > 0) {
		/* An answer too: the card is finished; the station sets it aside (wipe first). */
		*result = json_pack("{s:b,s:I}", "card_personalized", 1, "order", (json_int_t)order);
		return 0;
	}
	order = db_int(ctx->db, "SELECT id FROM orders WHERE state = 'approved' ORDER BY id LIMIT 1", "");
	if (order < 0) {
		/* Nothing to claim is an answer, not a failure: a station with more blank cards
		 * than waiting orders asks for each card and leaves the rest in their readers. */
		*result = json_pack("{s:b}", "none_waiting", 1);
		return 0;
	}
	if (order_set(ctx, order, "approved", "claimed", card, station) < 0)
		return -1;
	*result = order_row(ctx->db, order);
	return 0;
}

/* Whether a card_fail of ORDER was dispatched and is not completed (it may have revoked
 * at the signer already). */
static int order_give_back_pending(sqlite3 *db, int64_t order)
{
	return db_int(db, "SELECT 1 FROM jobs WHERE kind = 'card_fail' AND state IN ('queued','leased')"
	    " AND lease_token > 0 AND json_extract(payload, '$.order') = ? LIMIT 1", "i", order) == 1;
}

/* How many unrevoked certificates of ORDER the issue job ISSUE stored. */
static int64_t order_pair_of(sqlite3 *db, int64_t order, int64_t issue)
{
	return db_int(db, "SELECT count(*) FROM certificates WHERE order_id = ? AND job_id = ? AND"
	    " status <> 'revoked'", "ii", order, issue);
}

int job_card_done_apply(struct job_ctx *ctx, json_t **result)
{
	int64_t order = job_int(ctx, ctx->payload, "order");
	int64_t issue = order < 0 ? -1 : job_int(ctx, ctx->payload, "issue_job");
	const char *card = job_str(ctx, ctx->payload, "card_serial");
	const char *pin_b64 = job_str(ctx, ctx->payload, "sealed_pin");
	const char *owner, *state;
	json_t *row;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int rc = -1;

	if (order < 0 || issue < 0 || !card || !pin_b64)
		return -1;
	if (!(row = order_row(ctx->db, order)))
		return job_refuse(ctx, JT_NO_ORDER, (long long)order);
	owner = json_string_value(json_object_get(row, "card_serial"));
	state = json_string_value(json_object_get(row, "state"));
	if (owner && strcmp(owner, card) == 0 && strcmp(state, "personalized") == 0) {
		*result = json_incref(row);
		rc = 0;
		goto out;
	}
	if (order_give_back_pending(ctx->db, order)) {
		job_fail(ctx, JOB_RETRY_WAIT, "card order %lld is being given back; waiting for that first",
		    (long long)order);
		goto out;
	}
	if (!owner || strcmp(owner, card) != 0 || strcmp(state, "issued") != 0 ||
	    order_pair_of(ctx->db, order, issue) != 2) {
		/* The pair this card got was given back (a later run wiped the card): nothing to record. */
		log_warn("job %lld: card %s finished order %lld with the pair of job %lld, given back since"
		    " (order now %s): stale, nothing recorded", (long long)ctx->id, card, (long long)order,
		    (long long)issue, state);
		*result = json_pack("{s:I,s:s,s:I,s:b}", "order", (json_int_t)order, "card_serial", card,
		    "issue_job", (json_int_t)issue, "stale", 1);
		rc = 0;
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

	const char *card = job_str(ctx, ctx->payload, "card_serial");

	if (order < 0 || !card) {
		json_decref(revoked);
		return -1;
	}
	/* A finished order, or one that is not this card's, is left alone (apply says so):
	 * nothing is revoked for it. */
	if (db_int(ctx->db, "SELECT 1 FROM orders WHERE id = ? AND card_serial = ? AND state <> 'personalized'",
	    "is", order, card) != 1) {
		json_object_set_new(ctx->scratch, "revoked", revoked);
		return 0;
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
		/* Given back already (an earlier give-back of a killed run landed first). */
		log_info("card %s: order %lld is not this card's (any more); nothing to give back", card,
		    (long long)order);
		json_decref(row);
		*result = json_pack("{s:I,s:b,s:[]}", "order", (json_int_t)order, "not_held", 1, "revoked");
		return 0;
	}
	if (strcmp(json_string_value(json_object_get(row, "state")), "personalized") == 0 &&
	    json_array_size(revoked) == 0) {
		/* The card was finished (its card_done landed first): it keeps its order. */
		log_info("card %s: order %lld is finished; not given back", card, (long long)order);
		json_decref(row);
		*result = json_pack("{s:I,s:b,s:[]}", "order", (json_int_t)order, "finished", 1, "revoked");
		return 0;
	}
	if (strcmp(json_string_value(json_object_get(row, "state")), "personalized") == 0) {
		json_decref(row);
		return job_fail(ctx, 0, "card order %lld was finished while its certificates were revoked",
		    (long long)order);
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
