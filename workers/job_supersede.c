/*
 * job_supersede.c: one person, one live registration.
 *
 * A registration is live while its subscriber has a certificate valid or on hold and not
 * expired, or a card order not yet finished (approved, claimed, issued). A new
 * registration with the same ID number (national ID, resident certificate number or UBN)
 * is refused while another is live, at keying and again at approval, unless:
 *   - the form names the live registration's account under "supersedes" (the applicant
 *     asked for it on paper), and
 *   - the approving supervisor says so explicitly (ra-intake approve --supersede, the
 *     payload's "supersede": true, covered by the officer's signature).
 * Then, in the approval itself, the old certificates are revoked as superseded (at the
 * signer in prepare, in ra.db in apply, as cert_status.c does for every revocation), the
 * old unfinished card orders are cancelled, and the audit says which account the new
 * registration superseded.
 */
#include "db.h"
#include "form.h"
#include "util.h"
#include "worker.h"

#include <string.h>

/* The ID number a registration form registers under. (Its own subscriber, once approved,
 * is not another registration: a form keyed again is "the same", not a duplicate.) */
static const char *form_id_number(const form_t *f)
{
	return form_get(f, "national_id") ? form_get(f, "national_id") : form_get(f, "ubn");
}

char *supersede_live_account(struct job_ctx *ctx, const form_t *f)
{
	const char *id = form_id_number(f);
	sqlite3_stmt *st;
	char *account = NULL;

	if (!id || form_get_kind(f) != FORM_REGISTRATION)
		return NULL;
	st = db_prepare(ctx->db, "SELECT a.id FROM subscribers s JOIN accounts a ON a.subscriber_id = s.id"
	    " WHERE s.id_number = ?1 AND s.form_serial <> ?3 AND (EXISTS (SELECT 1 FROM certificates c WHERE c.subscriber_id = s.id"
	    "   AND c.status IN ('valid','held') AND c.not_after > ?2)"
	    " OR EXISTS (SELECT 1 FROM orders o WHERE o.subscriber_id = s.id"
	    "   AND o.state IN ('approved','claimed','issued')))"
	    " ORDER BY s.id DESC LIMIT 1");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ra_now());
	sqlite3_bind_text(st, 3, form_get(f, "serial") ? form_get(f, "serial") : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		account = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return account;
}

int supersede_check(struct job_ctx *ctx, const form_t *f, const char *serial, int at_approval)
{
	char *live = supersede_live_account(ctx, f);
	const char *named = form_get(f, "supersedes");
	int rc = 0;

	if (!live)
		return 0;
	if (!named || strcmp(named, live) != 0)
		rc = job_refuse(ctx, JT_LIVE_REGISTRATION, serial, form_id_number(f), live);
	else if (at_approval && !json_is_true(json_object_get(ctx->payload, "supersede")))
		rc = job_refuse(ctx, JT_NEEDS_SUPERSEDE, serial, live);
	free(live);
	return rc;
}

int supersede_prepare(struct job_ctx *ctx, const form_t *f)
{
	char *live = supersede_live_account(ctx, f);
	json_t *serials = NULL, *done, *refused;
	int rc = -1;

	if (!live)
		return 0;
	if (!(serials = cert_status_select(ctx, live, "'valid','held'", 1)))
		goto out;
	done = json_array();
	refused = json_array();
	json_object_set_new(ctx->scratch, "superseded", done);
	json_object_set_new(ctx->scratch, "superseded_account", json_string(live));
	json_object_set_new(ctx->scratch, "supersede_refused", refused);
	if (cert_status_signer(ctx, serials, "revoke", "superseded", 0, done, refused) < 0)
		goto out;
	if (json_array_size(refused) > 0) {
		job_refuse(ctx, JT_SIGNER_REFUSED_SUPERSEDE, live,
		    json_string_value(json_object_get(json_array_get(refused, 0), "error")));
		goto out;
	}
	rc = 0;
out:
	json_decref(serials);
	free(live);
	return rc;
}

int supersede_apply(struct job_ctx *ctx, const char *serial, json_t *result)
{
	const char *account = json_string_value(json_object_get(ctx->scratch, "superseded_account"));
	json_t *done = json_object_get(ctx->scratch, "superseded");
	sqlite3_stmt *st;
	char object[48];
	int rc;

	if (!account)
		return 0;
	if (cert_status_record(ctx, done, "revoked", "superseded") < 0)
		return -1;
	st = db_prepare(ctx->db, "UPDATE orders SET state = 'cancelled', updated_at = ?1 WHERE state IN"
	    " ('approved','claimed','issued') AND subscriber_id = (SELECT subscriber_id FROM accounts WHERE id = ?2)");
	sqlite3_bind_int64(st, 1, ra_now());
	sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc < 0)
		return job_fail(ctx, 1, "cannot cancel the orders of account %s: %s", account, sqlite3_errmsg(ctx->db));
	snprintf(object, sizeof object, "account:%s", account);
	if (job_audit(ctx, "registration.superseded", object, NULL, serial) < 0)
		return -1;
	json_object_set(result, "superseded", json_object_get(ctx->scratch, "superseded_account"));
	json_object_set(result, "revoked", done);
	return 0;
}
