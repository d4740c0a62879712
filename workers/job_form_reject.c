/*
 * job_form_reject.c: a supervisor rejects a keyed form (form_reject): the form becomes
 * 'rejected', which approval refuses for good (job_form.c approves only 'verified'), and
 * a row of form_rejections says why and whom to tell.
 *
 * Rules: only a form still waiting (keyed or verified) can be rejected; the reason is a
 * code of the fixed list (lib/form_reject.c), "other" only with a note; the officer is
 * the verified signer (a supervisor, lib/officer.c), never the keyer of the form. The
 * applicant is told from the row: a registration's own contact data (an organization's
 * contact person, not its name), or, for a form about an account, the subscriber's. The
 * notifier sends the mail, or prints a letter when there is no e-mail.
 */
#include "db.h"
#include "form.h"
#include "form_reject.h"
#include "util.h"
#include "worker.h"

#include <string.h>

/* Whom to tell about rejected form SERIAL, written into its form_rejections row. */
static const char recipient_sql[] =
    "UPDATE form_rejections SET"
    " recipient = CASE WHEN f.kind = 'registration' THEN"
    "   coalesce(json_extract(f.content, '$.contact_person'), json_extract(f.content, '$.name'))"
    "   ELSE coalesce(s.contact_person, s.name) END,"
    " email = CASE WHEN f.kind = 'registration' THEN json_extract(f.content, '$.email') ELSE s.email END,"
    " postal_code = CASE WHEN f.kind = 'registration' THEN json_extract(f.content, '$.postal_code')"
    "   ELSE s.postal_code END,"
    " address = CASE WHEN f.kind = 'registration' THEN json_extract(f.content, '$.address') ELSE s.address END,"
    " language = coalesce(json_extract(f.content, '$.language'), s.language, 'zh-TW')"
    " FROM forms f LEFT JOIN accounts a ON a.id = json_extract(f.content, '$.account')"
    " LEFT JOIN subscribers s ON s.id = a.subscriber_id"
    " WHERE f.serial = form_rejections.serial AND form_rejections.serial = ?";

int job_form_reject_apply(struct job_ctx *ctx, json_t **result)
{
	const char *serial = job_str(ctx, ctx->payload, "serial");
	const char *code = job_str(ctx, ctx->payload, "reason");
	const char *note = json_string_value(json_object_get(ctx->payload, "note"));
	const struct form_reject_reason *why;
	char *state = NULL, *keyed = NULL, object[80];
	sqlite3_stmt *st;
	long len;
	int rc = -1;

	if (!serial || !code)
		return -1;
	if (!ctx->officer[0])
		return job_refuse(ctx, JT_NO_OFFICER, ctx->kind);
	if (!(why = form_reject_reason_find(code)))
		return job_refuse(ctx, JT_REJECT_REASON, code);
	if (note && !*note)
		note = NULL;
	len = note ? form_utf8_len(note) : 0;
	if (len < 0 || len > FORM_REJECT_NOTE_MAX)
		return job_refuse(ctx, JT_REJECT_NOTE_LONG, FORM_REJECT_NOTE_MAX);
	if (why->needs_note && !note)
		return job_refuse(ctx, JT_REJECT_NEEDS_NOTE, why->code);
	st = db_prepare(ctx->db, "SELECT state, keyed_by FROM forms WHERE serial = ?");
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		state = xstrdup((const char *)sqlite3_column_text(st, 0));
		keyed = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (!state) {
		job_refuse(ctx, JT_NOT_KEYED, serial);
		goto out;
	}
	if (strcmp(state, "keyed") != 0 && strcmp(state, "verified") != 0) {
		job_refuse(ctx, JT_REJECT_STATE, serial, state);
		goto out;
	}
	if (strcmp(keyed, ctx->officer) == 0) {
		job_refuse(ctx, JT_REJECT_KEYER, serial, ctx->officer);
		goto out;
	}
	st = db_prepare(ctx->db, "UPDATE forms SET state = 'rejected', updated_at = ? WHERE serial = ?");
	sqlite3_bind_int64(st, 1, ra_now());
	sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc == 0 && db_int(ctx->db, "INSERT INTO form_rejections (serial, reason, note, officer, job_id, created_at)"
	    " VALUES (?, ?, ?, ?, ?, ?) RETURNING 1", "ssssii", serial, why->code, note, ctx->officer,
	    ctx->id, (int64_t)ra_now()) != 1)
		rc = -1;
	if (rc == 0) {
		st = db_prepare(ctx->db, recipient_sql);
		sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(st);
	}
	if (rc < 0) {
		job_fail(ctx, 1, "cannot record the rejection of form %s: %s", serial, sqlite3_errmsg(ctx->db));
		goto out;
	}
	snprintf(object, sizeof object, "form:%s", serial);
	if ((rc = job_audit(ctx, "form.rejected", object, state, why->code)) < 0)
		goto out;
	*result = json_pack("{s:s,s:s,s:s,s:s,s:s?}", "form", serial, "state", "rejected", "reason", why->code,
	    "reason_en", why->en, "reason_zh", why->zh);
	{
		int64_t mail = db_int(ctx->db, "SELECT email IS NOT NULL FROM form_rejections WHERE serial = ?", "s", serial);
		json_object_set_new(*result, "notice", json_string(mail == 1 ? "mail" : "letter"));
	}
out:
	free(state);
	free(keyed);
	return rc;
}
