/*
 * queue_query.c: read-only questions producers ask ra-queue (ra-intake status, ra-ctl
 * jobs / certs, card-station order details). Nothing here writes; secrets never leave
 * (password hashes, sealed sheets are not selectable here).
 */
#include "queue.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "util.h"

#include <string.h>

/* Run SQL with ARGS bound in order (json strings or integers) and return rows as objects. */
static json_t *rows(sqlite3 *db, const char *sql, json_t *binds)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(binds, i, v) {
		if (json_is_integer(v))
			sqlite3_bind_int64(st, (int)i + 1, json_integer_value(v));
		else if (json_is_string(v))
			sqlite3_bind_text(st, (int)i + 1, json_string_value(v), -1, SQLITE_TRANSIENT);
	}
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
			default: {
				const char *t = (const char *)sqlite3_column_text(st, c);
				json_t *parsed = NULL;
				if (strcmp(name, "result") == 0 || strcmp(name, "content") == 0)
					parsed = json_loads(t, 0, NULL);
				json_object_set_new(row, name, parsed ? parsed : json_string(t));
			}
			}
		}
		json_array_append_new(out, row);
	}
	sqlite3_finalize(st);
	json_decref(binds);
	return out;
}

static json_t *one(json_t *list)
{
	json_t *r = json_array_size(list) ? json_incref(json_array_get(list, 0)) : NULL;
	json_decref(list);
	return r;
}

static json_t *q_job(sqlite3 *db, json_t *args, char **err)
{
	json_t *id = json_object_get(args, "id"), *r;
	if (!json_is_integer(id)) {
		*err = xstrdup("job: needs an integer id");
		return NULL;
	}
	r = one(rows(db, "SELECT id, kind, state, attempts, error, result, submitted_by, parent,"
	    " created_at, updated_at FROM jobs WHERE id = ?", json_pack("[O]", id)));
	if (!r)
		*err = xstrdup("no such job");
	return r;
}

static json_t *q_jobs(sqlite3 *db, json_t *args, char **err)
{
	const char *state = json_string_value(json_object_get(args, "state"));
	json_int_t limit = json_integer_value(json_object_get(args, "limit"));
	(void)err;
	if (limit <= 0 || limit > 100000)
		limit = 1000;
	return json_pack("{s:o}", "jobs", rows(db,
	    "SELECT id, kind, state, attempts, error, created_at, updated_at FROM jobs"
	    " WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2",
	    json_pack("[s?I]", state, limit)));
}

static json_t *q_form(sqlite3 *db, json_t *args, char **err)
{
	const char *serial = json_string_value(json_object_get(args, "serial"));
	json_t *f;
	if (!serial) {
		*err = xstrdup("form: needs a serial");
		return NULL;
	}
	f = one(rows(db, "SELECT serial, kind, state, keyed_by, verified_by, approved_by, approve_job,"
	    " created_at, updated_at FROM forms WHERE serial = ?", json_pack("[s]", serial)));
	if (!f) {
		*err = xasprintf("no form with serial %s", serial);
		return NULL;
	}
	json_object_set_new(f, "jobs", rows(db, "SELECT id, kind, state, error FROM jobs WHERE"
	    " id = (SELECT approve_job FROM forms WHERE serial = ?1) OR parent = (SELECT approve_job FROM forms"
	    " WHERE serial = ?1) ORDER BY id", json_pack("[s]", serial)));
	json_object_set_new(f, "subscriber", one(rows(db, "SELECT s.id, a.id AS account FROM subscribers s"
	    " LEFT JOIN accounts a ON a.subscriber_id = s.id WHERE s.form_serial = ?", json_pack("[s]", serial))));
	/* A rejected form says why, and whether the applicant has been told. */
	json_object_set_new(f, "rejection", one(rows(db, "SELECT reason, note, officer, notice_state FROM form_rejections"
	    " WHERE serial = ?", json_pack("[s]", serial))));
	json_object_set_new(f, "orders", rows(db, "SELECT o.id, o.state, o.card_serial FROM orders o"
	    " JOIN subscribers s ON s.id = o.subscriber_id WHERE s.form_serial = ? ORDER BY o.id",
	    json_pack("[s]", serial)));
	return f;
}

static json_t *q_certs(sqlite3 *db, json_t *args, char **err)
{
	json_t *order = json_object_get(args, "order");
	const char *account = json_string_value(json_object_get(args, "account"));
	int with_pem = json_is_true(json_object_get(args, "pem"));
	(void)err;
	return json_pack("{s:o}", "certs", rows(db, with_pem ?
	    "SELECT c.serial, c.usage, c.status, c.subject, c.not_before, c.not_after, c.order_id,"
	    " a.id AS account, c.pem FROM certificates c JOIN accounts a ON a.subscriber_id = c.subscriber_id"
	    " WHERE (?1 IS NULL OR c.order_id = ?1) AND (?2 IS NULL OR a.id = ?2) ORDER BY c.created_at, c.usage" :
	    "SELECT c.serial, c.usage, c.status, c.subject, c.not_before, c.not_after, c.order_id,"
	    " a.id AS account FROM certificates c JOIN accounts a ON a.subscriber_id = c.subscriber_id"
	    " WHERE (?1 IS NULL OR c.order_id = ?1) AND (?2 IS NULL OR a.id = ?2) ORDER BY c.created_at, c.usage",
	    json_pack("[O?s?]", json_is_integer(order) ? order : NULL, account)));
}

/* One certificate's status, for relying systems (ra-web's public look-up): no subject, no
 * account, nothing about the subscriber. */
static json_t *q_cert_status(sqlite3 *db, json_t *args, char **err)
{
	const char *serial = json_string_value(json_object_get(args, "serial"));
	json_t *r;

	if (!serial) {
		*err = xstrdup("cert_status: needs a serial");
		return NULL;
	}
	r = one(rows(db, "SELECT serial, usage, status, reason, not_before, not_after FROM certificates"
	    " WHERE serial = lower(?)", json_pack("[s]", serial)));
	return r ? r : json_pack("{s:s,s:s}", "serial", serial, "status", "unknown");
}

static json_t *q_orders(sqlite3 *db, json_t *args, char **err)
{
	const char *state = json_string_value(json_object_get(args, "state"));
	(void)err;
	return json_pack("{s:o}", "orders", rows(db,
	    "SELECT o.id, o.state, o.purpose, o.card_serial, o.form_serial, a.id AS account, s.name,"
	    " o.dispatch, o.tracking, o.dispatched_at"
	    " FROM orders o JOIN subscribers s ON s.id = o.subscriber_id"
	    " LEFT JOIN accounts a ON a.subscriber_id = s.id"
	    " WHERE (?1 IS NULL OR o.state = ?1) ORDER BY o.id", json_pack("[s?]", state)));
}

static json_t *q_stats(sqlite3 *db, json_t *args, char **err)
{
	(void)args;
	(void)err;
	return json_pack("{s:o,s:o}",
	    "jobs", rows(db, "SELECT state, count(*) AS n FROM jobs GROUP BY state", json_array()),
	    "certs", rows(db, "SELECT status, count(*) AS n FROM certificates GROUP BY status", json_array()));
}

/* Who may ask what: a producer sees only what its work needs (PRODUCER_* bits, lib/jobs.h). */
static const struct {
	const char *name;
	json_t *(*fn)(sqlite3 *, json_t *, char **);
	unsigned producers;
} queries[] = {
	{ "job", q_job, PRODUCER_ctl },
	{ "jobs", q_jobs, PRODUCER_ctl | PRODUCER_station },
	{ "form", q_form, PRODUCER_intake | PRODUCER_ctl },
	{ "certs", q_certs, PRODUCER_ctl },
	{ "cert_status", q_cert_status, PRODUCER_web | PRODUCER_ctl },
	{ "orders", q_orders, PRODUCER_ctl | PRODUCER_station },
	{ "stats", q_stats, PRODUCER_ctl },
};

json_t *queue_query(sqlite3 *db, const char *client, const char *what, json_t *args, char **err)
{
	for (size_t i = 0; i < ARRAY_LEN(queries); i++) {
		if (strcmp(queries[i].name, what) != 0)
			continue;
		if (!(queries[i].producers & job_producer_bit(client))) {
			*err = xasprintf("client '%s' may not ask '%s'", *client ? client : "unknown", what);
			return NULL;
		}
		return queries[i].fn(db, args, err);
	}
	*err = xasprintf("unknown question '%s'", what);
	return NULL;
}
