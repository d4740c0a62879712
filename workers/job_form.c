/*
 * job_form.c: the paper forms' life in the back office: first keying (form_key), blind
 * second keying (form_verify) and approval (form_approve), with dual control: the clerk
 * who keyed a form can neither verify nor approve it, and the verifier cannot approve.
 *
 * Every form is validated again here with lib/form.c, whatever the counter checked. A
 * form is stored as its canonical JSON without the officer field (who keyed it is kept
 * in its own column), so the same paper keyed twice is recognised as the same form.
 *
 * Who keyed, second-keyed or approved is the officer whose signature officer_check()
 * verified (ctx->officer), never a name in the payload or on the form, so dual control
 * compares verified identities: one clerk's credential is one officer, whatever name
 * is typed.
 */
#include "db.h"
#include "form.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <openssl/evp.h>
#include <string.h>

/* The verified officer who asks (officer_check() refuses these kinds unsigned), or NULL
 * after job_fail(). */
static const char *form_officer(struct job_ctx *ctx)
{
	if (!ctx->officer[0]) {
		job_refuse(ctx, JT_NO_OFFICER, ctx->kind);
		return NULL;
	}
	return ctx->officer;
}

/* Canonical content (no officer) and its SHA-256 hex. Caller frees *content. */
static void form_content(const form_t *f, char **content, char digest[65])
{
	json_t *j = form_to_json(f);
	unsigned char d[32];
	unsigned int n;

	json_object_del(j, "officer");
	*content = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	EVP_Digest(*content, strlen(*content), d, &n, EVP_sha256(), NULL);
	hex_encode(d, 32, digest);
}

static form_t *stored_form(struct job_ctx *ctx, const char *serial, char **state, char **keyed_by,
    char **verified_by)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "SELECT content, state, keyed_by, verified_by FROM forms WHERE serial = ?");
	form_t *f = NULL;

	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		json_t *j = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		char *err = NULL;
		f = j ? form_from_json(j, &err) : NULL;
		free(err);
		json_decref(j);
		*state = xstrdup((const char *)sqlite3_column_text(st, 1));
		*keyed_by = xstrdup((const char *)sqlite3_column_text(st, 2));
		*verified_by = sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL :
		    xstrdup((const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	return f;
}

static int second_keying_required(const config_t *cfg, enum form_kind kind)
{
	char key[64];
	snprintf(key, sizeof key, "intake.second_keying.%s", form_kind_name(kind));
	return config_bool(cfg, key);
}

/* The problems of F as one line: "email: not an e-mail address; phone: ...". */
static char *problems_text(const form_t *f, size_t *count)
{
	struct form_problem *p = NULL;
	size_t n = form_validate(f, &p);
	char *out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%s%s%s: %s", out, i ? "; " : "", p[i].field, p[i].en);
		free(out);
		out = next;
	}
	free(p);
	*count = n;
	return out;
}

/* Store one keyed form, or say why not. */
static int key_one(struct job_ctx *ctx, const char *officer, json_t *obj, json_t *result)
{
	char *err = NULL, *content = NULL, *why, *state = NULL, *keyed = NULL, *verified = NULL;
	char digest[65];
	size_t nprob;
	form_t *f = form_from_json(obj, &err), *old = NULL;
	const char *serial;
	int rc = 0;

	if (!f) {
		json_array_append_new(json_object_get(result, "rejected"),
		    json_pack("{s:s?,s:s}", "serial", json_string_value(json_object_get(obj, "serial")), "error", err));
		free(err);
		return 0;
	}
	serial = form_get(f, "serial");
	why = problems_text(f, &nprob);
	if (nprob) {
		json_array_append_new(json_object_get(result, "rejected"),
		    json_pack("{s:s?,s:s}", "serial", serial, "error", why));
		goto out;
	}
	/* One live registration per ID number: refused here already, unless the form names it. */
	if (supersede_check(ctx, f, serial, 0) < 0) {
		json_t *row = json_pack("{s:s?,s:s}", "serial", serial, "error", ctx->error);
		json_t *detail = job_error_detail(ctx);
		json_object_update(row, detail);
		json_decref(detail);
		json_array_append_new(json_object_get(result, "rejected"), row);
		job_error_clear(ctx);
		goto out;
	}
	form_content(f, &content, digest);
	if ((old = stored_form(ctx, serial, &state, &keyed, &verified)) != NULL) {
		if (db_int(ctx->db, "SELECT 1 FROM forms WHERE serial = ? AND digest = ?", "ss", serial, digest) == 1) {
			json_array_append_new(json_object_get(result, "same"), json_string(serial));
		} else {
			const char **fields = NULL;
			size_t n = form_diff(old, f, &fields);
			json_t *list = json_array();
			for (size_t i = 0; i < n; i++)
				if (strcmp(fields[i], "officer") != 0)
					json_array_append_new(list, json_string(fields[i]));
			free(fields);
			json_array_append_new(json_object_get(result, "conflicts"),
			    json_pack("{s:s,s:o}", "serial", serial, "fields", list));
		}
		goto out;
	}
	{
		sqlite3_stmt *st = db_prepare(ctx->db, "INSERT INTO forms (serial, kind, content, digest, state,"
		    " keyed_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
		const char *initial = second_keying_required(ctx->cfg, form_get_kind(f)) ? "keyed" : "verified";
		char object[80];
		sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, form_kind_name(form_get_kind(f)), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, content, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, digest, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, initial, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, officer, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, ra_now());
		sqlite3_bind_int64(st, 8, ra_now());
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = job_fail(ctx, 1, "cannot store form %s: %s", serial, sqlite3_errmsg(ctx->db));
		sqlite3_finalize(st);
		snprintf(object, sizeof object, "form:%s", serial);
		if (rc == 0 && (rc = job_audit(ctx, "form.keyed", object, NULL, initial)) == 0)
			json_array_append_new(json_object_get(result, "stored"), json_string(serial));
	}
out:
	free(why);
	free(content);
	free(state);
	free(keyed);
	free(verified);
	form_destroy(&old);
	form_destroy(&f);
	return rc;
}

int job_form_key_apply(struct job_ctx *ctx, json_t **result)
{
	const char *officer = form_officer(ctx);
	json_t *forms = json_object_get(ctx->payload, "forms"), *f;
	size_t i;

	if (!officer)
		return -1;
	if (!json_is_array(forms) || json_array_size(forms) == 0)
		return job_fail(ctx, 0, "form_key: 'forms' must be a non-empty list");
	*result = json_pack("{s:[],s:[],s:[],s:[]}", "stored", "same", "conflicts", "rejected");
	json_array_foreach(forms, i, f) {
		if (key_one(ctx, officer, f, *result) < 0)
			return -1;
	}
	return 0;
}

int job_form_verify_apply(struct job_ctx *ctx, json_t **result)
{
	const char *officer = form_officer(ctx);
	json_t *obj = json_object_get(ctx->payload, "form");
	char *err = NULL, *state = NULL, *keyed = NULL, *verified = NULL;
	form_t *f = NULL, *old = NULL;
	const char **fields = NULL;
	size_t n;
	int rc = -1;

	if (!officer)
		return -1;
	if (!json_is_object(obj) || !(f = form_from_json(obj, &err))) {
		job_refuse(ctx, JT_VERIFY_UNREADABLE, err ? err : "missing");
		goto out;
	}
	if (!form_get(f, "serial")) {
		job_refuse(ctx, JT_VERIFY_NO_SERIAL);
		goto out;
	}
	if (!(old = stored_form(ctx, form_get(f, "serial"), &state, &keyed, &verified))) {
		job_refuse(ctx, JT_NOT_KEYED_YET, form_get(f, "serial"));
		goto out;
	}
	if (strcmp(keyed, officer) == 0) {
		job_refuse(ctx, JT_VERIFY_SAME_CLERK, form_get(f, "serial"), officer);
		goto out;
	}
	if (strcmp(state, "keyed") != 0 && !(verified && strcmp(verified, officer) == 0)) {
		job_refuse(ctx, JT_NOT_AWAITING_VERIFY, form_get(f, "serial"), state);
		goto out;
	}
	n = form_diff(old, f, &fields);
	*result = json_pack("{s:b,s:[]}", "match", 1, "fields");
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i], "officer") != 0)
			json_array_append_new(json_object_get(*result, "fields"), json_string(fields[i]));
	if (json_array_size(json_object_get(*result, "fields")) > 0) {
		json_object_set_new(*result, "match", json_false());
		rc = 0;	/* the job is done: the answer is "does not match"; the form stays keyed */
		goto out;
	}
	if (strcmp(state, "keyed") == 0) {
		char object[80];
		sqlite3_stmt *st = db_prepare(ctx->db, "UPDATE forms SET state = 'verified', verified_by = ?,"
		    " updated_at = ? WHERE serial = ?");
		sqlite3_bind_text(st, 1, officer, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, ra_now());
		sqlite3_bind_text(st, 3, form_get(f, "serial"), -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
		snprintf(object, sizeof object, "form:%s", form_get(f, "serial"));
		if (job_audit(ctx, "form.verified", object, "keyed", "verified") < 0)
			goto out;
	}
	rc = 0;
out:
	free(fields);
	free(err);
	free(state);
	free(keyed);
	free(verified);
	form_destroy(&f);
	form_destroy(&old);
	return rc;
}

/*
 * A form about an account names who came to the counter: its applicant_id must be the ID
 * number the account's subscriber registered with. Forms keyed before the field existed
 * carry none and are refused (key them again). An unknown account is left for the kind's
 * own handler to report. 0, or -1 after job_fail().
 */
static int applicant_check(struct job_ctx *ctx, const form_t *f, const char *serial)
{
	const char *id = form_get(f, "applicant_id"), *account = form_get(f, "account");

	if (form_get_kind(f) == FORM_REGISTRATION || !account)
		return 0;
	if (!id)
		return job_refuse(ctx, JT_NO_APPLICANT_ID, serial);
	if (db_int(ctx->db, "SELECT 1 FROM accounts WHERE id = ?", "s", account) != 1)
		return 0;
	if (db_int(ctx->db, "SELECT 1 FROM accounts a JOIN subscribers s ON s.id = a.subscriber_id"
	    " WHERE a.id = ? AND s.id_number = ?", "ss", account, id) != 1)
		return job_refuse(ctx, JT_WRONG_APPLICANT_ID, serial, id, account);
	return 0;
}

/* Audit who was identified at the counter, and by which documents. 0/-1. */
static int applicant_audit(struct job_ctx *ctx, const form_t *f, const char *object)
{
	const char *id = form_get(f, "applicant_id");
	char what[256];

	if (!id)
		id = form_get(f, "national_id") ? form_get(f, "national_id") : form_get(f, "ubn");
	snprintf(what, sizeof what, "applicant_id %s; documents_seen %s", id ? id : "-",
	    form_get(f, "documents_seen") ? form_get(f, "documents_seen") : "-");
	return job_audit(ctx, "form.identified", object, NULL, what);
}

/*
 * A resume or reset sheet goes where its form says: the recipient, and the address or
 * e-mail the delivery needs (form_rules.c requires them), not the registered ones. The
 * sheet was queued by the kind's handler in this transaction; RESULT names it. 0/-1.
 */
static int sheet_destination(struct job_ctx *ctx, const form_t *f, const char *serial, json_t *result)
{
	const char *sheet = json_string_value(json_object_get(result, "sheet"));
	sqlite3_stmt *st;
	char object[48];
	int rc;

	if (!sheet)
		return 0;
	st = db_prepare(ctx->db, "UPDATE sheets SET recipient = ?, postal_code = ?, address = ?, email = ?"
	    " WHERE serial = ?");
	sqlite3_bind_text(st, 1, form_get(f, "recipient"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, form_get(f, "postal_code"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, form_get(f, "address"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, form_get(f, "email"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, sheet, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc < 0)
		return job_fail(ctx, 1, "cannot address the sheet of form %s: %s", serial, sqlite3_errmsg(ctx->db));
	snprintf(object, sizeof object, "sheet:%s", sheet);
	return job_audit(ctx, "sheet.addressed", object, NULL, serial);
}

/*
 * Dual control and state, checked before anything happens: in prepare, because some
 * forms' effects start at the signer there, and again in apply, inside the transaction.
 * Returns the stored form, or NULL after job_fail().
 */
static form_t *approve_check(struct job_ctx *ctx, const char *serial, const char *officer)
{
	char *state = NULL, *keyed = NULL, *verified = NULL;
	form_t *f;
	int refused = 1;

	if (!(f = stored_form(ctx, serial, &state, &keyed, &verified))) {
		job_refuse(ctx, JT_NOT_KEYED, serial);
		return NULL;
	}
	if (strcmp(keyed, officer) == 0)
		job_refuse(ctx, JT_APPROVE_KEYER, serial, officer);
	else if (verified && strcmp(verified, officer) == 0)
		job_refuse(ctx, JT_APPROVE_VERIFIER, serial, officer);
	else if (strcmp(state, "keyed") == 0)
		job_refuse(ctx, JT_NEEDS_VERIFY, serial);
	else if (strcmp(state, "verified") != 0)
		job_refuse(ctx, JT_ALREADY, serial, state);
	else if (applicant_check(ctx, f, serial) == 0 && supersede_check(ctx, f, serial, 1) == 0)
		refused = 0;
	if (refused)
		form_destroy(&f);
	free(state);
	free(keyed);
	free(verified);
	return f;
}

int job_form_approve_prepare(struct job_ctx *ctx)
{
	const char *serial = job_str(ctx, ctx->payload, "serial");
	const char *officer = form_officer(ctx);
	form_t *f;
	int rc = -1;

	if (!serial || !officer)
		return -1;
	if (!(f = approve_check(ctx, serial, officer)))
		return -1;
	switch (form_get_kind(f)) {
	case FORM_REGISTRATION: rc = supersede_prepare(ctx, f) < 0 ? -1 : register_prepare(ctx); break;
	case FORM_REVOCATION: rc = revocation_prepare(ctx, serial); break;
	case FORM_RESUME: rc = resume_prepare(ctx, serial); break;
	case FORM_PASSWORD_RESET: rc = password_reset_prepare(ctx, serial); break;
	case FORM_CHANGE: rc = 0; break;
	}
	form_destroy(&f);
	return rc;
}

int job_form_approve_apply(struct job_ctx *ctx, json_t **result)
{
	const char *serial = job_str(ctx, ctx->payload, "serial");
	const char *officer = form_officer(ctx);
	char object[80];
	form_t *f;
	sqlite3_stmt *st;
	int rc = -1;

	if (!serial || !officer)
		return -1;
	if (!(f = approve_check(ctx, serial, officer)))
		return -1;
	st = db_prepare(ctx->db, "UPDATE forms SET state = 'approved', approved_by = ?, approve_job = ?,"
	    " updated_at = ? WHERE serial = ?");
	sqlite3_bind_text(st, 1, officer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ctx->id);
	sqlite3_bind_int64(st, 3, ra_now());
	sqlite3_bind_text(st, 4, serial, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	snprintf(object, sizeof object, "form:%s", serial);
	if (job_audit(ctx, "form.approved", object, "verified", "approved") < 0 || applicant_audit(ctx, f, object) < 0)
		goto out;
	switch (form_get_kind(f)) {
	case FORM_REGISTRATION:
		rc = register_apply(ctx, serial, result);
		if (rc == 0)
			rc = supersede_apply(ctx, serial, *result);
		break;
	case FORM_REVOCATION: rc = revocation_apply(ctx, serial, result); break;
	case FORM_RESUME: rc = resume_apply(ctx, serial, result); break;
	case FORM_PASSWORD_RESET: rc = password_reset_apply(ctx, serial, result); break;
	case FORM_CHANGE: rc = change_apply(ctx, serial, f, result); break;
	}
	if (rc == 0 && (form_get_kind(f) == FORM_RESUME || form_get_kind(f) == FORM_PASSWORD_RESET))
		rc = sheet_destination(ctx, f, serial, *result);
	if (rc == 0) {
		st = db_prepare(ctx->db, "UPDATE forms SET state = 'done', updated_at = ? WHERE serial = ?");
		sqlite3_bind_int64(st, 1, ra_now());
		sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
		rc = job_audit(ctx, "form.done", object, "approved", "done");
	}
out:
	form_destroy(&f);
	return rc;
}
