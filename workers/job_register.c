/*
 * job_register.c: an approved registration form becomes a subscriber, a website account
 * and a card order, and the account's first password goes to a password sheet.
 *
 * The password is generated and hashed in the prepare phase (argon2id is slow on purpose)
 * and sealed at once to the notifier's sheet key; only the hash and the sealed box reach
 * the apply phase, and the clear text is cleansed before prepare returns.
 */
#include "b64.h"
#include "db.h"
#include "log.h"
#include "seal.h"
#include "util.h"
#include "worker.h"

#include <openssl/crypto.h>
#include <string.h>

int register_prepare(struct job_ctx *ctx)
{
	int len = (int)config_int(ctx->cfg, "accounts.password_length");
	char *pw = account_password_new(len), *hash = account_hash(ctx->cfg, pw), *sealed_b64;
	uint8_t *box = NULL;
	size_t boxlen = 0;
	int rc = seal_box(ctx->sheet_key, (const uint8_t *)pw, strlen(pw), &box, &boxlen);

	OPENSSL_cleanse(pw, strlen(pw));
	free(pw);
	if (!hash || rc < 0) {
		free(hash);
		free(box);
		return job_fail(ctx, 1, "could not hash or seal the new website password");
	}
	sealed_b64 = b64_encode(box, boxlen);
	json_object_set_new(ctx->scratch, "pw_hash", json_string(hash));
	json_object_set_new(ctx->scratch, "pw_sealed", json_string(sealed_b64));
	free(sealed_b64);
	free(hash);
	free(box);
	return 0;
}

int register_apply(struct job_ctx *ctx, const char *serial, json_t **result)
{
	json_t *form = NULL;
	const char *hash = json_string_value(json_object_get(ctx->scratch, "pw_hash"));
	const char *sealed_b64 = json_string_value(json_object_get(ctx->scratch, "pw_sealed"));
	char *content = NULL, *account = NULL, object[48];
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int64_t sub, order;
	sqlite3_stmt *st;
	int rc = -1;

	if (!hash || !sealed_b64 || b64_decode(sealed_b64, &sealed, &sealed_len) < 0)
		return job_fail(ctx, 1, "internal: the password was not prepared");
	st = db_prepare(ctx->db, "SELECT content FROM forms WHERE serial = ?");
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		form = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	if (!form) {
		job_refuse(ctx, JT_NOT_STORED, serial);
		goto out;
	}
	if (db_int(ctx->db, "SELECT 1 FROM subscribers WHERE form_serial = ?", "s", serial) == 1) {
		job_refuse(ctx, JT_ALREADY_REGISTERED, serial);
		goto out;
	}
#define F(k) json_string_value(json_object_get(form, k))
	st = db_prepare(ctx->db, "INSERT INTO subscribers (form_serial, applicant_type, name, id_number,"
	    " contact_person, email, phone, postal_code, address, language, created_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, F("applicant_type"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, F("name"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, F("national_id") ? F("national_id") : F("ubn"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, F("contact_person"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, F("email"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, F("phone"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, F("postal_code"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, F("address"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, F("language") ? F("language") : "zh-TW", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, ra_now());
#undef F
	if (sqlite3_step(st) != SQLITE_DONE) {
		job_fail(ctx, 0, "cannot store the subscriber of form %s: %s", serial, sqlite3_errmsg(ctx->db));
		sqlite3_finalize(st);
		goto out;
	}
	sqlite3_finalize(st);
	sub = sqlite3_last_insert_rowid(ctx->db);

	if (!(account = account_id_new(ctx->db))) {
		job_fail(ctx, 1, "random generator failed: no account id");
		goto out;
	}
	st = db_prepare(ctx->db, "INSERT INTO accounts (id, subscriber_id, pw_hash, created_at, updated_at)"
	    " VALUES (?, ?, ?, ?, ?)");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sub);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ra_now());
	sqlite3_bind_int64(st, 5, ra_now());
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc < 0) {
		job_fail(ctx, 1, "cannot create the account: %s", sqlite3_errmsg(ctx->db));
		goto out;
	}

	st = db_prepare(ctx->db, "INSERT INTO orders (subscriber_id, form_serial, state, created_at, updated_at)"
	    " VALUES (?, ?, 'approved', ?, ?)");
	sqlite3_bind_int64(st, 1, sub);
	sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ra_now());
	sqlite3_bind_int64(st, 4, ra_now());
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc < 0) {
		job_fail(ctx, 1, "cannot create the card order: %s", sqlite3_errmsg(ctx->db));
		goto out;
	}
	order = sqlite3_last_insert_rowid(ctx->db);

	rc = -1;
	snprintf(object, sizeof object, "subscriber:%lld", (long long)sub);
	if (job_audit(ctx, "subscriber.created", object, NULL, serial) < 0)
		goto out;
	snprintf(object, sizeof object, "account:%s", account);
	if (job_audit(ctx, "account.created", object, NULL, "active") < 0)
		goto out;
	snprintf(object, sizeof object, "order:%lld", (long long)order);
	if (job_audit(ctx, "order.created", object, NULL, "approved") < 0)
		goto out;
	if (sheet_queue(ctx, "password", sub, account, 0, "registration", "post", sealed, sealed_len) < 0)
		goto out;
	*result = json_pack("{s:I,s:s,s:I}", "subscriber", (json_int_t)sub, "account", account,
	    "order", (json_int_t)order);
	rc = 0;
out:
	json_decref(form);
	free(content);
	free(account);
	free(sealed);
	return rc;
}
