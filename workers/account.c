/*
 * account.c: website accounts' secrets. A password is generated here, hashed with
 * argon2id (only the hash is stored) and sealed to the notifier's sheet key for its
 * password sheet; the clear text is cleansed before this process lets go of it.
 */
#include "audit.h"
#include "db.h"
#include "log.h"
#include "seal.h"
#include "util.h"
#include "worker.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

/* No 0/O, 1/l/I: sheets are read by people and typed by hand. */
static const char pw_lower[] = "abcdefghijkmnpqrstuvwxyz";
static const char pw_upper[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";
static const char pw_digit[] = "23456789";

/* A uniform index below N from the CSPRNG (rejection sampling, no modulo bias). */
static unsigned rand_below(unsigned n)
{
	unsigned limit = 256 - 256 % n;
	uint8_t b;
	do {
		if (RAND_bytes(&b, 1) != 1)
			fatal("random generator failed");
	} while (b >= limit);
	return b % n;
}

char *account_password_new(int len)
{
	static const char *const sets[] = { pw_lower, pw_upper, pw_digit };
	char *pw = xmalloc((size_t)len + 1);
	int has[3];

	do {
		memset(has, 0, sizeof has);
		for (int i = 0; i < len; i++) {
			int set = (int)rand_below(3);
			const char *s = sets[set];
			pw[i] = s[rand_below((unsigned)strlen(s))];
			has[set] = 1;
		}
	} while (!has[0] || !has[1] || !has[2]);
	pw[len] = '\0';
	return pw;
}

char *account_hash(const config_t *cfg, const char *password)
{
	uint8_t salt[16];
	uint32_t t = (uint32_t)config_int(cfg, "accounts.argon2_t");
	uint32_t m = (uint32_t)config_int(cfg, "accounts.argon2_m_kib");
	size_t len = argon2_encodedlen(t, m, 1, sizeof salt, 32, Argon2_id);
	char *out = xmalloc(len);

	if (RAND_bytes(salt, sizeof salt) != 1 ||
	    argon2id_hash_encoded(t, m, 1, password, strlen(password), salt, sizeof salt, 32, out, len) != ARGON2_OK) {
		free(out);
		return NULL;
	}
	return out;
}

char *account_id_new(sqlite3 *db)
{
	char id[16];
	for (;;) {
		uint8_t r[4];
		if (RAND_bytes(r, sizeof r) != 1) {
			log_err("random generator failed: no account id");
			return NULL;
		}
		snprintf(id, sizeof id, "u%08u", (unsigned)(((uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 |
		    (uint32_t)r[2] << 8 | r[3]) % 100000000u));
		if (db_int(db, "SELECT 1 FROM accounts WHERE id = ?", "s", id) != 1)
			return xstrdup(id);
	}
}

int sheet_queue(struct job_ctx *ctx, const char *kind, int64_t subscriber, const char *account,
    int64_t order, const char *reason, const char *delivery, const uint8_t *sealed, size_t sealed_len)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "INSERT INTO sheets (serial, kind, subscriber_id, account_id,"
	    " order_id, reason, delivery, sealed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	uint8_t r[5];
	char hex[11], serial[24], obj[40];
	int rc;

	if (RAND_bytes(r, sizeof r) != 1) {
		sqlite3_finalize(st);
		return job_fail(ctx, 1, "random generator failed: no %s sheet serial", kind);
	}
	hex_encode(r, sizeof r, hex);
	for (char *p = hex; *p; p++)
		*p = (char)(*p >= 'a' ? *p - 32 : *p);
	snprintf(serial, sizeof serial, "%s-%s", strcmp(kind, "pin") == 0 ? "PIN" : "PW", hex);
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, subscriber);
	if (account)
		sqlite3_bind_text(st, 4, account, -1, SQLITE_STATIC);
	if (order > 0)
		sqlite3_bind_int64(st, 5, order);
	sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, delivery, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, sealed, (int)sealed_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, ra_now());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return job_fail(ctx, 1, "cannot queue the %s sheet: %s", kind, sqlite3_errmsg(ctx->db));
	snprintf(obj, sizeof obj, "sheet:%s", serial);
	return job_audit(ctx, "sheet.queued", obj, NULL, reason);
}
