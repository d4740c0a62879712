/*
 * audit.c: see audit.h. The hash input separates fields with a 0x1f byte and marks NULL
 * with 0x00, so no two different rows hash the same way.
 */
#include "audit.h"
#include "db.h"
#include "log.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static void audit_hash(const char *prev, int64_t at, const char *const f[5], char out[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[32];
	unsigned int n = 0;
	char ts[24];
	const unsigned char sep = 0x1f, nul = 0x00;

	snprintf(ts, sizeof ts, "%lld", (long long)at);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, prev, strlen(prev));
	EVP_DigestUpdate(md, &sep, 1);
	EVP_DigestUpdate(md, ts, strlen(ts));
	for (int i = 0; i < 5; i++) {
		EVP_DigestUpdate(md, &sep, 1);
		if (f[i])
			EVP_DigestUpdate(md, f[i], strlen(f[i]));
		else
			EVP_DigestUpdate(md, &nul, 1);
	}
	EVP_DigestFinal_ex(md, d, &n);
	EVP_MD_CTX_free(md);
	hex_encode(d, 32, out);
}

int audit_append(sqlite3 *db, const char *actor, const char *action, const char *object,
    const char *before, const char *after)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT hash FROM audit ORDER BY id DESC LIMIT 1");
	char prev[65] = "0000000000000000000000000000000000000000000000000000000000000000";
	char hash[65];
	const char *f[5] = { actor, action, object, before, after };
	int64_t at = ra_now();
	int rc;

	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	audit_hash(prev, at, f, hash);
	st = db_prepare(db, "INSERT INTO audit (at, actor, action, object, before, after, prev_hash, hash)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, at);
	for (int i = 0; i < 5; i++)
		sqlite3_bind_text(st, i + 2, f[i], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_err("audit append failed: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int audit_verify(sqlite3 *db, int64_t *bad_id, int64_t *rows)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT id, at, actor, action, object, before, after,"
	    " prev_hash, hash FROM audit ORDER BY id");
	char prev[65] = "0000000000000000000000000000000000000000000000000000000000000000";
	char want[65];
	int rc = 0;

	*rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *f[5];
		for (int i = 0; i < 5; i++)
			f[i] = (const char *)sqlite3_column_text(st, 2 + i);
		audit_hash(prev, sqlite3_column_int64(st, 1), f, want);
		if (strcmp(prev, (const char *)sqlite3_column_text(st, 7)) != 0 ||
		    strcmp(want, (const char *)sqlite3_column_text(st, 8)) != 0) {
			*bad_id = sqlite3_column_int64(st, 0);
			rc = -1;
			break;
		}
		memcpy(prev, want, sizeof prev);
		(*rows)++;
	}
	sqlite3_finalize(st);
	return rc;
}
