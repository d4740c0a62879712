/*
 * job_change.c: an approved change form (paper, dual control; form_approve dispatches
 * here) changes a subscriber's phone, address with its postal code, or an
 * organization's contact person. None of these is inside a certificate, so nothing is
 * revoked or issued; a new name or e-mail is a revocation and a new registration instead
 * (lib/form_kinds.c refuses those fields on this form).
 *
 * The subscriber's record before and after is audited field by field
 * (subscriber.changed: before and after as "field=value" lists), so the old contact data
 * stays in the audit trail. A contact person is refused for a person.
 */
#include "db.h"
#include "form.h"
#include "util.h"
#include "worker.h"

#include <string.h>

static const char *const change_columns[] = { "phone", "postal_code", "address", "contact_person" };

int change_apply(struct job_ctx *ctx, const char *serial, const form_t *f, json_t **result)
{
	const char *account = form_get(f, "account");
	char *before = xstrdup(""), *after = xstrdup(""), object[48], *sql;
	json_t *changed = json_array();
	int64_t sub;
	int rc = -1;

	sub = db_int(ctx->db, "SELECT subscriber_id FROM accounts WHERE id = ?", "s", account);
	if (sub < 0) {
		job_refuse(ctx, JT_CHANGE_NO_ACCOUNT, serial, account);
		goto out;
	}
	if (form_get(f, "contact_person") &&
	    db_int(ctx->db, "SELECT applicant_type = 'person' FROM subscribers WHERE id = ?", "i", sub) == 1) {
		job_refuse(ctx, JT_CHANGE_CONTACT,
		    serial, account);
		goto out;
	}
	for (size_t i = 0; i < ARRAY_LEN(change_columns); i++) {
		const char *col = change_columns[i], *v = form_get(f, col);
		sqlite3_stmt *st;
		char *old = NULL, *next;
		if (!v)
			continue;
		sql = xasprintf("SELECT %s FROM subscribers WHERE id = ?", col);
		st = db_prepare(ctx->db, sql);
		free(sql);
		sqlite3_bind_int64(st, 1, sub);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			old = xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		sql = xasprintf("UPDATE subscribers SET %s = ? WHERE id = ?", col);
		st = db_prepare(ctx->db, sql);
		free(sql);
		sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, sub);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(st);
		if (rc < 0) {
			free(old);
			job_fail(ctx, 1, "cannot change %s of account %s: %s", col, account, sqlite3_errmsg(ctx->db));
			goto out;
		}
		next = xasprintf("%s%s%s=%s", before, *before ? "; " : "", col, old ? old : "");
		free(before);
		before = next;
		next = xasprintf("%s%s%s=%s", after, *after ? "; " : "", col, v);
		free(after);
		after = next;
		json_array_append_new(changed, json_string(col));
		free(old);
	}
	snprintf(object, sizeof object, "subscriber:%lld", (long long)sub);
	if ((rc = job_audit(ctx, "subscriber.changed", object, before, after)) < 0)
		goto out;
	*result = json_pack("{s:s,s:s,s:O}", "form", serial, "account", account, "changed", changed);
out:
	json_decref(changed);
	free(before);
	free(after);
	return rc;
}
