/*
 * job_dispatch.c: where a personalized card went (job kind card_dispatch, signed by the
 * officer who hands it over or posts it). The payload names the order, or the card's serial
 * (the card station, holding the card, reads it off the card).
 *
 * A card order's dispatch state lives on the order (orders.dispatch, with the tracking
 * number and the time), so `ra-ctl orders` and the counter's search read it where they
 * read the order, and every step is an audit row "card.dispatch" (the day's report counts
 * them). The steps:
 *   counter   handed over at the counter (first dispatch, or after a return);
 *   mailed    posted, with the tracking number (first dispatch, or mailed again);
 *   returned  the post brought a mailed card back undelivered;
 *   set_aside returned and withdrawn in one step: both certificates of the card are
 *             revoked (cessationOfOperation: the RA withdraws a card nobody received)
 *             and the card is kept out of circulation; nothing follows that.
 * The checks run in prepare too, before the signer is asked to revoke anything, so a
 * refused step revokes nothing.
 */
#include "db.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <string.h>

#define DISPATCH_REVOKE_REASON "cessationOfOperation"

/* A tracking number: 4..40 letters, digits and '-'. */
static int tracking_ok(const char *t)
{
	size_t n = t ? strlen(t) : 0;

	if (n < 4 || n > 40)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= 'a' && t[i] <= 'z') || t[i] == '-'))
			return 0;
	return 1;
}

/*
 * The order the payload names: "order" (its id), or "card" (the serial of a personalized
 * card, as the card station reads it off the card in its reader). -1 after job_refuse().
 */
static int64_t dispatch_order(struct job_ctx *ctx)
{
	const char *card = json_string_value(json_object_get(ctx->payload, "card"));
	int64_t order;

	if (!card)
		return job_int(ctx, ctx->payload, "order");
	order = db_int(ctx->db, "SELECT id FROM orders WHERE card_serial = ? AND state = 'personalized'"
	    " ORDER BY id DESC LIMIT 1", "s", card);
	if (order <= 0) {
		job_refuse(ctx, JT_NO_CARD, card);
		return -1;
	}
	return order;
}

/*
 * Check the payload against the order: the order exists and its card is personalized,
 * and the step follows the current dispatch state. Sets *to (the new state) and *from
 * (the current one, malloc'd, "" for none). 0, or -1 after job_fail().
 */
static int dispatch_check(struct job_ctx *ctx, int64_t order, const char **to, char **from)
{
	const char *how = job_str(ctx, ctx->payload, "how");
	const char *tracking = json_string_value(json_object_get(ctx->payload, "tracking"));
	int revoke = json_is_true(json_object_get(ctx->payload, "revoke"));
	sqlite3_stmt *st;
	char *state = NULL;
	int rc = -1;

	*from = NULL;
	if (!how)
		return -1;
	st = db_prepare(ctx->db, "SELECT state, coalesce(dispatch, '') FROM orders WHERE id = ?");
	sqlite3_bind_int64(st, 1, order);
	if (sqlite3_step(st) == SQLITE_ROW) {
		state = xstrdup((const char *)sqlite3_column_text(st, 0));
		*from = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (!state) {
		job_refuse(ctx, JT_NO_ORDER, (long long)order);
		goto out;
	}
	if (strcmp(state, "personalized") != 0) {
		job_refuse(ctx, JT_ORDER_NOT_PERSONALIZED, (long long)order, state);
		goto out;
	}
	if (strcmp(**from ? *from : "none", "set_aside") == 0) {
		job_refuse(ctx, JT_CARD_SET_ASIDE, (long long)order);
		goto out;
	}
	if (strcmp(how, "counter") == 0 || strcmp(how, "mail") == 0) {
		if (**from && strcmp(*from, "returned") != 0) {
			job_refuse(ctx, strcmp(*from, "counter") == 0 ? JT_CARD_ALREADY_COUNTER : JT_CARD_ALREADY_MAILED,
			    (long long)order);
			goto out;
		}
		if (strcmp(how, "mail") == 0 && !tracking_ok(tracking)) {
			job_refuse(ctx, JT_TRACKING);
			goto out;
		}
		if (revoke) {
			job_refuse(ctx, JT_REVOKE_ONLY_RETURNED);
			goto out;
		}
		*to = strcmp(how, "mail") == 0 ? "mailed" : "counter";
	} else if (strcmp(how, "returned") == 0) {
		if (strcmp(*from, "mailed") != 0) {
			job_refuse(ctx, JT_NOT_MAILED, (long long)order);
			goto out;
		}
		*to = revoke ? "set_aside" : "returned";
	} else {
		job_refuse(ctx, JT_DISPATCH_HOW, how);
		goto out;
	}
	rc = 0;
out:
	free(state);
	if (rc < 0) {
		free(*from);
		*from = NULL;
	}
	return rc;
}

int job_card_dispatch_prepare(struct job_ctx *ctx)
{
	int64_t order = dispatch_order(ctx);
	json_t *serials, *done, *refused;
	const char *to;
	char *from = NULL;
	sqlite3_stmt *st;
	int rc;

	if (order < 0 || dispatch_check(ctx, order, &to, &from) < 0)
		return -1;
	free(from);
	if (strcmp(to, "set_aside") != 0)
		return 0;
	serials = json_array();
	st = db_prepare(ctx->db, "SELECT serial FROM certificates WHERE order_id = ? "
	    "AND status IN ('valid','held') ORDER BY usage DESC");
	sqlite3_bind_int64(st, 1, order);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(serials, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	done = json_array();
	refused = json_array();
	json_object_set_new(ctx->scratch, "revoked", done);
	json_object_set_new(ctx->scratch, "refused", refused);
	rc = cert_status_signer(ctx, serials, "revoke", DISPATCH_REVOKE_REASON, 0, done, refused);
	json_decref(serials);
	if (rc == 0 && json_array_size(refused) > 0)
		return job_refuse(ctx, JT_SIGNER_REFUSED_REVOKE_ONE,
		    json_string_value(json_object_get(json_array_get(refused, 0), "serial")),
		    json_string_value(json_object_get(json_array_get(refused, 0), "error")));
	return rc;
}

int job_card_dispatch_apply(struct job_ctx *ctx, json_t **result)
{
	int64_t order = dispatch_order(ctx);
	const char *tracking = json_string_value(json_object_get(ctx->payload, "tracking"));
	json_t *done = json_object_get(ctx->scratch, "revoked");
	const char *to;
	char *from = NULL, object[40], *after = NULL;
	sqlite3_stmt *st;
	int rc = -1;

	if (order < 0 || dispatch_check(ctx, order, &to, &from) < 0)
		return -1;
	if (strcmp(to, "set_aside") == 0 &&
	    (!done || cert_status_record(ctx, done, "revoked", DISPATCH_REVOKE_REASON) < 0)) {
		if (!done)
			job_fail(ctx, 1, "internal: the revocation of order %lld was not prepared", (long long)order);
		goto out;
	}
	/* A return keeps the tracking number of the mailing it answers. */
	st = db_prepare(ctx->db, "UPDATE orders SET dispatch = ?1, "
	    "tracking = CASE WHEN ?1 = 'mailed' THEN ?2 WHEN ?1 = 'counter' THEN NULL ELSE tracking END, "
	    "dispatched_at = ?3, updated_at = ?3 WHERE id = ?4");
	sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tracking, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ra_now());
	sqlite3_bind_int64(st, 4, order);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		job_fail(ctx, 1, "cannot record the dispatch of order %lld: %s", (long long)order,
		    sqlite3_errmsg(ctx->db));
		goto out;
	}
	sqlite3_finalize(st);
	snprintf(object, sizeof object, "order:%lld", (long long)order);
	after = strcmp(to, "mailed") == 0 ? xasprintf("mailed %s", tracking) : xstrdup(to);
	if (job_audit(ctx, "card.dispatch", object, *from ? from : "none", after) < 0)
		goto out;
	*result = json_pack("{s:I,s:s,s:s?,s:O?}", "order", (json_int_t)order, "dispatch", to,
	    "tracking", strcmp(to, "counter") == 0 ? NULL : tracking, "revoked", done);
	st = db_prepare(ctx->db, "SELECT card_serial FROM orders WHERE id = ?");
	sqlite3_bind_int64(st, 1, order);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT)
		json_object_set_new(*result, "card", json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	rc = 0;
out:
	free(from);
	free(after);
	return rc;
}
