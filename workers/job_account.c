/*
 * job_account.c: the website account's rules in the back office: the login check with
 * its lockout (every online operation goes through account_check), password change with
 * the password policy, and password reset by paper form.
 *
 * Rules kept here:
 *   - a password reaches a worker only sealed to the workers' key (lib/secret.h); it is
 *     opened here, compared with the argon2id hash, and wiped; the job that carried it
 *     gets the sealed value replaced by "(redacted)" in the transaction that completes it;
 *   - accounts.max_failures consecutive wrong passwords lock the account; a right one
 *     resets the count; a locked account answers only "locked: file a password-reset
 *     form" and never says whether the password was right; only an approved
 *     password-reset form (or a resume form) unlocks it;
 *   - a wrong password is not a failed job: the job is DONE with {"ok": false, ...} so
 *     that the failure count commits with it;
 *   - an account id that does not exist answers exactly as a wrong password does (same
 *     text, same shape, the same argon2id work against a dummy hash, and it counts and
 *     locks like a real account: account_guard.c), so answers do not reveal which
 *     accounts exist; too many wrong passwords from one source make it wait.
 */
#include "b64.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "seal.h"
#include "util.h"
#include "worker.h"

#include <argon2.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <openssl/crypto.h>
#include <string.h>

enum { VERDICT_WRONG = 0, VERDICT_RIGHT = 1, VERDICT_LOCKED = 2, VERDICT_UNKNOWN = 3 };

/* Loaded once per worker process, on the first sealed secret it meets. */
static EVP_PKEY *workers_key;
/* A hash with the configured cost that no password matches in practice: an unknown
 * account is verified against it, so it costs what a real one does. Made once. */
static char *dummy_hash;

json_t *account_refusal(const char *fmt, ...)
{
	va_list ap;
	char *text;
	json_t *j;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	j = json_pack("{s:b,s:s}", "ok", 0, "error", text);
	free(text);
	return j;
}

json_t *account_refuse(const char *code, char *en, char *zh)
{
	json_t *j = json_pack("{s:b,s:s,s:s,s:s}", "ok", 0, "code", code, "error", en, "error_zh", zh);
	free(en);
	free(zh);
	return j;
}

char *account_unseal(struct job_ctx *ctx, const char *sealed_b64)
{
	uint8_t *box = NULL, *msg = NULL;
	size_t boxlen = 0, msglen = 0;

	if (!workers_key) {
		char *path = config_path(ctx->cfg, "workers.seal_private_key");
		char *pass = config_path(ctx->cfg, "workers.seal_passphrase_file");
		workers_key = seal_load_private(path, pass);
		free(path);
		free(pass);
		if (!workers_key) {
			job_fail(ctx, 1, "cannot load the workers' sealing key: sealed passwords cannot be opened");
			return NULL;
		}
	}
	if (!sealed_b64 || b64_decode(sealed_b64, &box, &boxlen) < 0 ||
	    seal_open(workers_key, box, boxlen, &msg, &msglen) < 0) {
		free(box);
		job_refuse(ctx, JT_NOT_SEALED, ctx->kind);
		return NULL;
	}
	free(box);
	if (strlen((char *)msg) != msglen) {
		OPENSSL_cleanse(msg, msglen);
		free(msg);
		job_refuse(ctx, JT_SEALED_NUL, ctx->kind);
		return NULL;
	}
	return (char *)msg;
}

static void wipe(char **s)
{
	if (*s) {
		OPENSSL_cleanse(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

int account_verify(struct job_ctx *ctx, const char *account, const char *sealed_b64)
{
	sqlite3_stmt *st;
	char *hash = NULL, *pw = NULL;
	int locked = 0, verdict = -1;

	if (!dummy_hash && !(dummy_hash = account_hash(ctx->cfg, "no account has this password"))) {
		job_fail(ctx, 1, "cannot prepare the password check (argon2id failed)");
		return -1;
	}
	st = db_prepare(ctx->db, "SELECT pw_hash, locked FROM accounts WHERE id = ?");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		hash = xstrdup((const char *)sqlite3_column_text(st, 0));
		locked = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (!hash) {
		/* The same work as for a real account, then the same answer (account_record). */
		if (!(pw = account_unseal(ctx, sealed_b64)))
			return -1;
		(void)argon2id_verify(dummy_hash, pw, strlen(pw));
		wipe(&pw);
		return VERDICT_UNKNOWN;
	}
	if (locked) {
		/* Not even opened: a locked account gives no answer about the password. */
		verdict = VERDICT_LOCKED;
		goto out;
	}
	if (!(pw = account_unseal(ctx, sealed_b64)))
		goto out;
	verdict = argon2id_verify(hash, pw, strlen(pw)) == ARGON2_OK ? VERDICT_RIGHT : VERDICT_WRONG;
	wipe(&pw);
out:
	free(hash);
	return verdict;
}

static json_t *locked_refusal(void)
{
	return account_refuse("locked", xstrdup("locked: file a password-reset form"),
	    xstrdup("帳號已鎖定：請填寫網站密碼重設申請書"));
}

/* The answer to a wrong password that made FAILURES of MAX. */
static json_t *wrong_refusal(int64_t failures, int64_t max)
{
	json_t *r;

	if (failures >= max) {
		r = account_refuse("wrong_password", xasprintf("wrong password; the account is now locked"
		    " after %lld wrong passwords: file a password-reset form", (long long)max),
		    xasprintf("密碼錯誤；已連續錯誤 %lld 次，帳號已鎖定：請填寫網站密碼重設申請書", (long long)max));
		json_object_set_new(r, "tries_left", json_integer(0));
		return r;
	}
	r = account_refuse("wrong_password", xasprintf("wrong password: %lld %s left before the"
	    " account locks", (long long)(max - failures), max - failures == 1 ? "try" : "tries"),
	    xasprintf("密碼錯誤：再錯 %lld 次帳號即鎖定", (long long)(max - failures)));
	json_object_set_new(r, "tries_left", json_integer(max - failures));
	return r;
}

/* A wrong password (or an unknown account) from SOURCE: counted, and the answer. 0/-1. */
static int account_wrong(struct job_ctx *ctx, const char *action, const char *object, const char *source,
    int64_t failures, int64_t max, json_t **refusal)
{
	char before[32], after[32];

	if (source && guard_fail(ctx, source) < 0)
		return -1;
	snprintf(before, sizeof before, "failures=%lld", (long long)failures - 1);
	snprintf(after, sizeof after, "failures=%lld", (long long)failures);
	if (job_audit(ctx, action, object, before, after) < 0)
		return -1;
	if (failures >= max && strcmp(action, "account.login_failed") == 0 &&
	    job_audit(ctx, "account.locked", object, "active", "locked") < 0)
		return -1;
	*refusal = wrong_refusal(failures, max);
	return 0;
}

int account_record(struct job_ctx *ctx, const char *account, int verdict, json_t **refusal)
{
	int64_t max = config_int(ctx->cfg, "accounts.max_failures");
	int64_t failures = db_int(ctx->db, "SELECT failures FROM accounts WHERE id = ?", "s", account);
	int64_t locked = db_int(ctx->db, "SELECT locked FROM accounts WHERE id = ?", "s", account);
	char object[48], *source = NULL;
	int64_t wait;
	sqlite3_stmt *st;
	int rc = -1;

	*refusal = NULL;
	if (verdict < 0 || guard_source(ctx, &source) < 0)
		return -1;
	if (source && (wait = guard_wait(ctx, source)) > 0) {
		/* Before anything about the account: the same answer whatever it is. */
		*refusal = account_refuse("slow_down", xasprintf("too many wrong passwords from here: try again in"
		    " %lld seconds", (long long)wait), xasprintf("此處輸入錯誤密碼次數過多：請於 %lld 秒後再試",
		    (long long)wait));
		rc = 0;
		goto out;
	}
	if (verdict == VERDICT_UNKNOWN || failures < 0) {
		/* No such account: counted and answered as a real one would be. */
		snprintf(object, sizeof object, "account:%s", account);
		failures = guard_failures(ctx, object);
		if (failures >= max) {
			*refusal = locked_refusal();
			rc = 0;
			goto out;
		}
		if (guard_fail(ctx, object) < 0)
			goto out;
		rc = account_wrong(ctx, "login.unknown_account", object, source, failures + 1, max, refusal);
		goto out;
	}
	if (verdict == VERDICT_LOCKED || locked == 1) {
		*refusal = locked_refusal();
		rc = 0;
		goto out;
	}
	snprintf(object, sizeof object, "account:%s", account);
	if (verdict == VERDICT_RIGHT) {
		char before[32];
		if (failures == 0) {
			rc = 1;
			goto out;
		}
		snprintf(before, sizeof before, "failures=%lld", (long long)failures);
		st = db_prepare(ctx->db, "UPDATE accounts SET failures = 0, updated_at = ? WHERE id = ?");
		sqlite3_bind_int64(st, 1, ra_now());
		sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
		rc = job_audit(ctx, "account.login", object, before, "failures=0") < 0 ? -1 : 1;
		goto out;
	}
	failures++;
	st = db_prepare(ctx->db, "UPDATE accounts SET failures = ?, locked = ?, updated_at = ? WHERE id = ?");
	sqlite3_bind_int64(st, 1, failures);
	sqlite3_bind_int(st, 2, failures >= max);
	sqlite3_bind_int64(st, 3, ra_now());
	sqlite3_bind_text(st, 4, account, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	rc = account_wrong(ctx, "account.login_failed", object, source, failures, max, refusal);
out:
	free(source);
	return rc;
}

/* The account's current password hash, or NULL. */
static char *account_hash_now(struct job_ctx *ctx, const char *account)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "SELECT pw_hash FROM accounts WHERE id = ?");
	char *hash = NULL;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		hash = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return hash;
}

int job_account_prepare(struct job_ctx *ctx)
{
	const char *account = json_string_value(json_object_get(ctx->payload, "account"));
	const char *sealed = json_string_value(json_object_get(ctx->payload, "password"));
	char *hash;
	int verdict;

	if (!sealed)
		sealed = json_string_value(json_object_get(ctx->payload, "sealed_password"));
	if (!account || !sealed)
		return 0;	/* apply says what is missing */
	/* An unknown account too: its dummy verification belongs outside the transaction. */
	hash = account_hash_now(ctx, account);
	verdict = account_verify(ctx, account, sealed);
	if (verdict >= 0)
		json_object_set_new(ctx->scratch, "verdict", json_pack("{s:s,s:i,s:s}", "account", account,
		    "verdict", verdict, "hash", hash ? hash : ""));
	free(hash);
	return 0;
}

int account_check(struct job_ctx *ctx, const char *account, const char *sealed_b64, json_t **refusal)
{
	json_t *pre = json_object_get(ctx->scratch, "verdict");
	char *hash = pre ? account_hash_now(ctx, account) : NULL;
	int verdict;

	*refusal = NULL;
	/* The verdict reached in prepare stands if it is about this account and its password
	 * has not changed since (or it still does not exist); otherwise verify here. */
	if (pre && strcmp(json_string_value(json_object_get(pre, "account")), account) == 0 &&
	    strcmp(json_string_value(json_object_get(pre, "hash")), hash ? hash : "") == 0)
		verdict = (int)json_integer_value(json_object_get(pre, "verdict"));
	else
		verdict = account_verify(ctx, account, sealed_b64);
	free(hash);
	return account_record(ctx, account, verdict, refusal);
}

int account_new_password(struct job_ctx *ctx, const char *account, const char *reason,
    const char *delivery, json_t *result)
{
	const char *hash = json_string_value(json_object_get(ctx->scratch, "pw_hash"));
	const char *sealed_b64 = json_string_value(json_object_get(ctx->scratch, "pw_sealed"));
	int64_t sub = db_int(ctx->db, "SELECT subscriber_id FROM accounts WHERE id = ?", "s", account);
	int64_t was_locked = db_int(ctx->db, "SELECT locked FROM accounts WHERE id = ?", "s", account);
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	sqlite3_stmt *st;
	char object[48], *sheet = NULL;
	int rc = -1;

	if (sub < 0)
		return job_refuse(ctx, JT_NO_ACCOUNT, account);
	if (!hash || !sealed_b64 || b64_decode(sealed_b64, &sealed, &sealed_len) < 0)
		return job_fail(ctx, 1, "internal: the new password was not prepared");
	st = db_prepare(ctx->db, "UPDATE accounts SET prev_hash = pw_hash, pw_hash = ?, failures = 0, locked = 0,"
	    " updated_at = ? WHERE id = ?");
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ra_now());
	sqlite3_bind_text(st, 3, account, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	snprintf(object, sizeof object, "account:%s", account);
	if (job_audit(ctx, "account.password_set", object, was_locked == 1 ? "locked" : "active", reason) < 0)
		goto out;
	if (was_locked == 1 && job_audit(ctx, "account.unlocked", object, "locked", "active") < 0)
		goto out;
	if (sheet_queue(ctx, "password", sub, account, 0, reason, delivery, sealed, sealed_len) < 0)
		goto out;
	st = db_prepare(ctx->db, "SELECT serial FROM sheets WHERE account_id = ? ORDER BY id DESC LIMIT 1");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		sheet = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	json_object_set_new(result, "sheet", sheet ? json_string(sheet) : json_null());
	json_object_set_new(result, "unlocked", json_boolean(was_locked == 1));
	rc = 0;
out:
	free(sheet);
	free(sealed);
	return rc;
}

/* The stored form's account and delivery. 0, or -1 after job_fail(). */
static int form_account(struct job_ctx *ctx, const char *serial, char **account, char **delivery)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "SELECT json_extract(content, '$.account'),"
	    " json_extract(content, '$.delivery') FROM forms WHERE serial = ?");
	*account = *delivery = NULL;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT &&
	    sqlite3_column_type(st, 1) == SQLITE_TEXT) {
		*account = xstrdup((const char *)sqlite3_column_text(st, 0));
		*delivery = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (!*account)
		return job_refuse(ctx, JT_FORM_NO_ACCOUNT, serial);
	return 0;
}

int password_reset_prepare(struct job_ctx *ctx, const char *serial)
{
	char *account, *delivery;
	int rc;

	if (form_account(ctx, serial, &account, &delivery) < 0)
		return -1;
	rc = db_int(ctx->db, "SELECT 1 FROM accounts WHERE id = ?", "s", account) == 1 ? 0 :
	    job_refuse(ctx, JT_RESET_NO_ACCOUNT, serial, account);
	free(account);
	free(delivery);
	return rc < 0 ? -1 : register_prepare(ctx);
}

int password_reset_apply(struct job_ctx *ctx, const char *serial, json_t **result)
{
	char *account, *delivery;
	int rc;

	if (form_account(ctx, serial, &account, &delivery) < 0)
		return -1;
	*result = json_pack("{s:s,s:s}", "form", serial, "account", account);
	rc = account_new_password(ctx, account, "reset", delivery, *result);
	free(account);
	free(delivery);
	return rc;
}

/* The account's certificates, as a subscriber may see them. */
static json_t *account_certs(struct job_ctx *ctx, const char *account)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "SELECT c.serial, c.usage, c.status, c.not_after FROM certificates c"
	    " JOIN accounts a ON a.subscriber_id = c.subscriber_id WHERE a.id = ? ORDER BY c.created_at, c.usage");
	json_t *out = json_array();
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t na = sqlite3_column_int64(st, 3);
		json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:I,s:b}", "serial", sqlite3_column_text(st, 0),
		    "usage", sqlite3_column_text(st, 1), "status", sqlite3_column_text(st, 2),
		    "not_after", (json_int_t)na, "expired", na <= ra_now()));
	}
	sqlite3_finalize(st);
	return out;
}

int job_login_apply(struct job_ctx *ctx, json_t **result)
{
	const char *account = job_str(ctx, ctx->payload, "account");
	const char *sealed = account ? job_str(ctx, ctx->payload, "password") : NULL;
	int rc;

	if (!sealed)
		return -1;
	if ((rc = account_check(ctx, account, sealed, result)) < 0)
		return -1;
	if (rc == 1)
		*result = json_pack("{s:b,s:s,s:o}", "ok", 1, "account", account, "certs", account_certs(ctx, account));
	return job_redact(ctx->db, ctx->id, "password");
}

/* Which character classes a password uses: lower, upper, digit, other. */
static int pw_classes(const char *pw)
{
	int has[4] = { 0 };
	for (const unsigned char *p = (const unsigned char *)pw; *p; p++)
		has[islower(*p) ? 0 : isupper(*p) ? 1 : isdigit(*p) ? 2 : 3] = 1;
	return has[0] + has[1] + has[2] + has[3];
}

/* Case-insensitive "NEEDLE occurs in HAY". */
static int contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* The policy's verdict on NEW_PW: NULL if acceptable, else a refusal. */
static json_t *pw_policy(struct job_ctx *ctx, const char *account, const char *old_pw, const char *new_pw)
{
	int64_t min_len = config_int(ctx->cfg, "accounts.min_length");
	int64_t min_classes = config_int(ctx->cfg, "accounts.min_classes");
	char *prev = NULL;
	sqlite3_stmt *st;
	json_t *r = NULL;

	if ((int64_t)strlen(new_pw) < min_len)
		return account_refuse("policy", xasprintf("the new password must have at least %lld characters",
		    (long long)min_len), xasprintf("新密碼至少須有 %lld 個字元", (long long)min_len));
	if (pw_classes(new_pw) < min_classes)
		return account_refuse("policy", xasprintf("the new password must mix at least %lld kinds of"
		    " characters (lower case, upper case, digits, others)", (long long)min_classes),
		    xasprintf("新密碼須混用至少 %lld 種字元（小寫、大寫、數字、其他符號）", (long long)min_classes));
	if (contains_nocase(new_pw, account))
		return account_refuse("policy", xstrdup("the new password must not contain the account id"),
		    xstrdup("新密碼不得包含帳號"));
	if (strcmp(new_pw, old_pw) == 0)
		return account_refuse("policy", xstrdup("the new password must differ from the current one"),
		    xstrdup("新密碼不得與目前的密碼相同"));
	st = db_prepare(ctx->db, "SELECT prev_hash FROM accounts WHERE id = ?");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT)
		prev = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (prev && argon2id_verify(prev, new_pw, strlen(new_pw)) == ARGON2_OK)
		r = account_refuse("policy", xstrdup("the new password must differ from the previous one"),
		    xstrdup("新密碼不得與前一個密碼相同"));
	free(prev);
	return r;
}

int job_password_change_apply(struct job_ctx *ctx, json_t **result)
{
	const char *account = job_str(ctx, ctx->payload, "account");
	const char *sealed_old = account ? job_str(ctx, ctx->payload, "password") : NULL;
	const char *sealed_new = sealed_old ? job_str(ctx, ctx->payload, "new_password") : NULL;
	char *old_pw = NULL, *new_pw = NULL, *hash = NULL, object[48];
	sqlite3_stmt *st;
	int rc = -1, ok;

	if (!sealed_new)
		return -1;
	if ((ok = account_check(ctx, account, sealed_old, result)) < 0)
		return -1;
	if (ok == 0)
		goto redact;
	/* Right password: open both (the policy compares them), then wipe. */
	if (!(old_pw = account_unseal(ctx, sealed_old)) || !(new_pw = account_unseal(ctx, sealed_new)))
		goto out;
	if ((*result = pw_policy(ctx, account, old_pw, new_pw)) != NULL)
		goto redact;
	if (!(hash = account_hash(ctx->cfg, new_pw))) {
		job_fail(ctx, 1, "could not hash the new password");
		goto out;
	}
	st = db_prepare(ctx->db, "UPDATE accounts SET prev_hash = pw_hash, pw_hash = ?, updated_at = ? WHERE id = ?");
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ra_now());
	sqlite3_bind_text(st, 3, account, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	snprintf(object, sizeof object, "account:%s", account);
	if (job_audit(ctx, "account.password_set", object, "active", "change") < 0)
		goto out;
	*result = json_pack("{s:b,s:s}", "ok", 1, "account", account);
redact:
	rc = job_redact(ctx->db, ctx->id, "password") < 0 || job_redact(ctx->db, ctx->id, "new_password") < 0 ? -1 : 0;
out:
	wipe(&old_pw);
	wipe(&new_pw);
	free(hash);
	return rc;
}
