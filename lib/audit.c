/*
 * audit.c: see audit.h.
 *
 * Version 2 hash input: the label "ra audit v2", then each field in order (previous hash,
 * time in decimal, actor, action, object, before, after) as 0x00 for NULL or 0x01, its
 * length as 8 bytes big-endian, and its bytes. Version 1 separated fields with 0x1f and
 * marked NULL with 0x00; a field holding 0x1f could shift bytes between fields.
 */
#include "audit.h"
#include "checkpoint.h"
#include "db.h"
#include "log.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char audit_zero[65] = "0000000000000000000000000000000000000000000000000000000000000000";

static void audit_hash_v1(EVP_MD_CTX *md, const char *prev, const char *ts, const char *const f[5])
{
	const unsigned char sep = 0x1f, nul = 0x00;

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
}

/* One length-prefixed field (version 2). */
static void audit_field(EVP_MD_CTX *md, const char *s)
{
	unsigned char head[9] = { 0 };
	uint64_t n;

	if (!s) {
		EVP_DigestUpdate(md, head, 1);
		return;
	}
	n = strlen(s);
	head[0] = 1;
	for (int i = 0; i < 8; i++)
		head[1 + i] = (unsigned char)(n >> (56 - 8 * i));
	EVP_DigestUpdate(md, head, sizeof head);
	EVP_DigestUpdate(md, s, n);
}

/* The hash of a row in encoding V (1 or 2) into OUT (hex). 0, or -1 for an unknown V. */
static int audit_hash(int v, const char *prev, int64_t at, const char *const f[5], char out[65])
{
	static const char label[] = "ra audit v2";
	EVP_MD_CTX *md;
	unsigned char d[32];
	unsigned int n = 0;
	char ts[24];

	if (v != 1 && v != 2)
		return -1;
	md = EVP_MD_CTX_new();
	snprintf(ts, sizeof ts, "%lld", (long long)at);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	if (v == 1) {
		audit_hash_v1(md, prev, ts, f);
	} else {
		EVP_DigestUpdate(md, label, sizeof label - 1);
		audit_field(md, prev);
		audit_field(md, ts);
		for (int i = 0; i < 5; i++)
			audit_field(md, f[i]);
	}
	EVP_DigestFinal_ex(md, d, &n);
	EVP_MD_CTX_free(md);
	hex_encode(d, 32, out);
	return 0;
}

int audit_append(sqlite3 *db, const char *actor, const char *action, const char *object,
    const char *before, const char *after)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT hash FROM audit ORDER BY id DESC LIMIT 1");
	char prev[65], hash[65];
	const char *f[5] = { actor, action, object, before, after };
	int64_t at = ra_now();
	int rc;

	memcpy(prev, audit_zero, sizeof prev);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	audit_hash(AUDIT_VERSION, prev, at, f, hash);
	st = db_prepare(db, "INSERT INTO audit (at, actor, action, object, before, after, prev_hash, hash, v)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, at);
	for (int i = 0; i < 5; i++)
		sqlite3_bind_text(st, i + 2, f[i], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, AUDIT_VERSION);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_err("audit append failed: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int audit_head(sqlite3 *db, int64_t *rows, char head[65])
{
	/* Rows are only ever appended, so ids run 1..n and the last id is the count: one
	 * index lookup, not a scan, after every job. */
	sqlite3_stmt *st = db_prepare(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1");

	*rows = 0;
	snprintf(head, 65, "%s", audit_zero);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*rows = sqlite3_column_int64(st, 0);
		snprintf(head, 65, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return 0;
}

/* The recomputed hash after each row: heads[i] follows row i + 1. */
struct audit_heads {
	char (*h)[65];
	int64_t n, cap;
};

static int audit_chain(sqlite3 *db, struct audit_heads *hs, struct audit_report *r)
{
	/* A ledger older than the encodings' column has first-encoding rows only. */
	int has_v = db_int(db, "SELECT count(*) FROM pragma_table_info('audit') WHERE name = 'v'", "") == 1;
	sqlite3_stmt *st = db_prepare(db, has_v ? "SELECT id, at, actor, action, object, before, after,"
	    " prev_hash, hash, v FROM audit ORDER BY id" : "SELECT id, at, actor, action, object, before, after,"
	    " prev_hash, hash, 1 FROM audit ORDER BY id");
	char prev[65], want[65];
	int v_prev = 1, rc = 0;

	memcpy(prev, audit_zero, sizeof prev);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *f[5];
		int v = sqlite3_column_int(st, 9);
		for (int i = 0; i < 5; i++)
			f[i] = (const char *)sqlite3_column_text(st, 2 + i);
		if (v < v_prev || audit_hash(v, prev, sqlite3_column_int64(st, 1), f, want) < 0 ||
		    strcmp(prev, (const char *)sqlite3_column_text(st, 7)) != 0 ||
		    strcmp(want, (const char *)sqlite3_column_text(st, 8)) != 0) {
			r->bad_row = sqlite3_column_int64(st, 0);
			snprintf(r->why, sizeof r->why, "row %lld does not match the chain", (long long)r->bad_row);
			rc = -1;
			break;
		}
		v_prev = v;
		memcpy(prev, want, sizeof prev);
		if (hs->n == hs->cap) {
			hs->cap = hs->cap ? 2 * hs->cap : 1024;
			hs->h = xrealloc(hs->h, (size_t)hs->cap * sizeof hs->h[0]);
		}
		memcpy(hs->h[hs->n++], want, 65);
		r->rows++;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Check every checkpoint against the recomputed heads. 0/-1 (R says why). */
static int audit_checkpoints(sqlite3 *db, EVP_PKEY *ca, const struct audit_heads *hs, int chain_ok,
    struct audit_report *r)
{
	sqlite3_stmt *st;
	int64_t last_rows = 0;
	int rc = 0;

	if (db_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'audit_checkpoints'", "") != 1)
		return 0;	/* a ledger from before checkpoints */
	st = db_prepare(db, "SELECT seq, rows, head, at, signature FROM audit_checkpoints ORDER BY seq");

	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0), rows = sqlite3_column_int64(st, 1);
		const char *head = (const char *)sqlite3_column_text(st, 2);
		int64_t at = sqlite3_column_int64(st, 3);
		const uint8_t *sig = sqlite3_column_blob(st, 4);
		size_t sig_len = (size_t)sqlite3_column_bytes(st, 4);

		r->bad_checkpoint = seq;
		rc = -1;
		if (!head || !sig || !checkpoint_verify(ca, rows, head, at, sig, sig_len))
			snprintf(r->why, sizeof r->why, "checkpoint %lld: the signature does not verify", (long long)seq);
		else if (rows < last_rows)
			snprintf(r->why, sizeof r->why, "checkpoint %lld covers fewer rows than the one before",
			    (long long)seq);
		else if (rows > hs->n && chain_ok)
			snprintf(r->why, sizeof r->why, "checkpoint %lld covers %lld rows, the chain has %lld: rows were"
			    " cut", (long long)seq, (long long)rows, (long long)hs->n);
		else if (rows > hs->n)
			snprintf(r->why, sizeof r->why, "row %lld does not match the chain, before checkpoint %lld",
			    (long long)r->bad_row, (long long)seq);
		else if (strcmp(rows ? hs->h[rows - 1] : audit_zero, head) != 0)
			snprintf(r->why, sizeof r->why, "checkpoint %lld: the chain's hash after %lld rows is not the "
			    "signed one: the chain was rewritten", (long long)seq, (long long)rows);
		else
			rc = 0;
		if (rc == 0) {
			r->bad_checkpoint = 0;
			r->checkpoints++;
			r->covered = rows;
			last_rows = rows;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int audit_verify(sqlite3 *db, EVP_PKEY *ca, struct audit_report *r)
{
	struct audit_heads hs = { NULL, 0, 0 };
	int chain, rc;

	memset(r, 0, sizeof *r);
	chain = audit_chain(db, &hs, r);
	rc = ca ? audit_checkpoints(db, ca, &hs, chain == 0, r) : 0;
	free(hs.h);
	return chain < 0 || rc < 0 ? -1 : 0;
}
