/*
 * job_subscriber_find.c: the counter looks a subscriber up (subscriber_find). The counter
 * never opens ra.db, and a look-up of a person is an officer's act the audit must show,
 * so it is a job signed by the officer (a clerk or supervisor, lib/officer.c) rather than
 * a query: the worker searches, and audits in the same transaction who looked up whom
 * (one row per subscriber found, or the value searched when none is).
 *
 * Payload: {"by": FIELD, "value": TEXT}. FIELD is national_id (also a resident
 * certificate number), ubn, name (part of it, Chinese or Latin, case-insensitive for
 * Latin), email, account, card (card serial) or certificate (certificate serial, hex,
 * colons allowed). IDs, UBNs and card serials are compared as lib/form.c stores them
 * (upper-case, no blanks or hyphens). At most FIND_MAX subscribers are answered; a name
 * search that matches more says so, and the counter narrows it.
 *
 * The answer per subscriber: the subscriber's record, the account and whether it is
 * locked, the certificates with status and expiry, the cards (orders), the forms (the
 * registration and every form about the account) and the jobs about them. No password
 * hash, sealed sheet or PEM leaves.
 */
#include "db.h"
#include "form.h"
#include "util.h"
#include "worker.h"

#include <ctype.h>
#include <string.h>

#define FIND_MAX 20

/* Which subscribers match, by field; ?1 is the normalised value. */
static const struct {
	const char *by;
	const char *sql;
} finders[] = {
	{ "national_id", "SELECT id FROM subscribers WHERE id_number = ?1 AND applicant_type = 'person'" },
	{ "ubn", "SELECT id FROM subscribers WHERE id_number = ?1 AND applicant_type = 'organization'" },
	{ "name", "SELECT id FROM subscribers WHERE instr(lower(name), lower(?1)) > 0"
	    " OR instr(lower(coalesce(contact_person, '')), lower(?1)) > 0" },
	{ "email", "SELECT id FROM subscribers WHERE lower(email) = lower(?1)" },
	{ "account", "SELECT subscriber_id FROM accounts WHERE id = ?1" },
	{ "card", "SELECT DISTINCT subscriber_id FROM orders WHERE card_serial = ?1" },
	{ "certificate", "SELECT subscriber_id FROM certificates WHERE serial = ?1" },
};

/* VALUE as the ledger stores a field BY. Caller frees. */
static char *find_normalise(const char *by, const char *value)
{
	char *v = form_trim(value), *w = v;

	if (strcmp(by, "name") == 0)
		return v;
	for (char *r = v; *r; r++) {
		unsigned char c = (unsigned char)*r;
		if (strcmp(by, "email") != 0 && (c == ' ' || c == '-' || (c == ':' && strcmp(by, "certificate") == 0)))
			continue;
		if (strcmp(by, "certificate") == 0 || strcmp(by, "account") == 0 || strcmp(by, "email") == 0)
			*w++ = (char)tolower(c);
		else
			*w++ = (char)toupper(c);
	}
	*w = '\0';
	return v;
}

/* Rows of SQL with integer ?1 = ID, as objects. */
static json_t *find_rows(struct job_ctx *ctx, const char *sql, int64_t id)
{
	sqlite3_stmt *st = db_prepare(ctx->db, sql);
	json_t *out = json_array();

	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *row = json_object();
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const char *name = sqlite3_column_name(st, c);
			switch (sqlite3_column_type(st, c)) {
			case SQLITE_INTEGER:
				json_object_set_new(row, name, json_integer(sqlite3_column_int64(st, c)));
				break;
			case SQLITE_NULL:
				json_object_set_new(row, name, json_null());
				break;
			default:
				json_object_set_new(row, name, json_string((const char *)sqlite3_column_text(st, c)));
			}
		}
		json_array_append_new(out, row);
	}
	sqlite3_finalize(st);
	return out;
}

/* The forms about subscriber ?1: its registration and every form naming its account. */
#define FIND_FORMS \
	"SELECT f.serial FROM forms f WHERE f.serial = (SELECT form_serial FROM subscribers WHERE id = ?1)" \
	" OR json_extract(f.content, '$.account') = (SELECT id FROM accounts WHERE subscriber_id = ?1)"

/* Everything the counter is shown about subscriber ID. */
static json_t *find_one(struct job_ctx *ctx, int64_t id)
{
	json_t *sub = find_rows(ctx, "SELECT id, form_serial, applicant_type, name, id_number, contact_person,"
	    " email, phone, postal_code, address, language, created_at FROM subscribers WHERE id = ?1", id);
	json_t *s = json_incref(json_array_get(sub, 0));

	json_decref(sub);
	if (!s)
		return json_null();
	sub = find_rows(ctx, "SELECT id, locked, failures, updated_at FROM accounts WHERE subscriber_id = ?1", id);
	json_object_set(s, "account", json_array_size(sub) ? json_array_get(sub, 0) : json_null());
	json_decref(sub);
	json_object_set_new(s, "certificates", find_rows(ctx, "SELECT serial, usage, status, reason,"
	    " not_before, not_after, order_id FROM certificates WHERE subscriber_id = ?1 ORDER BY created_at, usage", id));
	json_object_set_new(s, "cards", find_rows(ctx, "SELECT id AS order_id, purpose, state, card_serial,"
	    " created_at, updated_at FROM orders WHERE subscriber_id = ?1 ORDER BY id", id));
	json_object_set_new(s, "forms", find_rows(ctx, "SELECT serial, kind, state, keyed_by, verified_by,"
	    " approved_by, created_at, updated_at FROM forms WHERE serial IN (" FIND_FORMS ") ORDER BY created_at, serial", id));
	json_object_set_new(s, "jobs", find_rows(ctx, "SELECT j.id, j.kind, j.state, j.submitted_by, j.created_at"
	    " FROM jobs j WHERE j.id IN (SELECT approve_job FROM forms WHERE serial IN (" FIND_FORMS "))"
	    " OR j.parent IN (SELECT approve_job FROM forms WHERE serial IN (" FIND_FORMS "))"
	    " OR j.id IN (SELECT job_id FROM form_rejections WHERE serial IN (" FIND_FORMS "))"
	    " OR json_extract(j.payload, '$.account') = (SELECT id FROM accounts WHERE subscriber_id = ?1)"
	    " OR j.id IN (SELECT job_id FROM certificates WHERE subscriber_id = ?1)"
	    " ORDER BY j.id DESC LIMIT 50", id));
	return s;
}

int job_subscriber_find_apply(struct job_ctx *ctx, json_t **result)
{
	const char *by = job_str(ctx, ctx->payload, "by");
	const char *value = job_str(ctx, ctx->payload, "value");
	const char *sql = NULL;
	char *v = NULL, after[64], object[96];
	json_t *found = NULL;
	sqlite3_stmt *st;
	int more = 0, rc = -1;

	if (!by || !value)
		return -1;
	if (!ctx->officer[0])
		return job_refuse(ctx, JT_SUBSCRIBER_FIND_OFFICER);
	for (size_t i = 0; i < ARRAY_LEN(finders); i++)
		if (strcmp(finders[i].by, by) == 0)
			sql = finders[i].sql;
	if (!sql)
		return job_refuse(ctx, JT_SUBSCRIBER_FIND_BY, by);
	v = find_normalise(by, value);
	if (!*v || form_utf8_len(v) < 0 || form_utf8_len(v) > 120) {
		job_refuse(ctx, JT_SUBSCRIBER_FIND_TEXT, by);
		goto out;
	}
	found = json_array();
	snprintf(after, sizeof after, "by %s", by);
	st = db_prepare(ctx->db, sql);
	sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (json_array_size(found) == FIND_MAX) {
			more = 1;
			break;
		}
		json_array_append_new(found, find_one(ctx, id));
		snprintf(object, sizeof object, "subscriber:%lld", (long long)id);
		if (job_audit(ctx, "subscriber.lookup", object, NULL, after) < 0) {
			sqlite3_finalize(st);
			rc = -1;
			goto out;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		rc = job_fail(ctx, 1, "subscriber_find: %s", sqlite3_errmsg(ctx->db));
		goto out;
	}
	/* Nobody found is audited too: the question itself is what an auditor asks about. */
	if (json_array_size(found) == 0) {
		/* Whom the officer looked for is the ID itself when nobody has it. */
		if (strcmp(by, "national_id") == 0 || strcmp(by, "ubn") == 0)
			snprintf(object, sizeof object, "lookup:%s:%.40s", by, v);
		else
			snprintf(object, sizeof object, "lookup:%s", by);
		if ((rc = job_audit(ctx, "subscriber.lookup", object, NULL, "no match")) < 0)
			goto out;
	}
	*result = json_pack("{s:s,s:O,s:b}", "by", by, "subscribers", found, "more", more);
	rc = 0;
out:
	json_decref(found);
	free(v);
	return rc;
}
