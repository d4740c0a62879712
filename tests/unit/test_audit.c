/*
 * test_audit.c: the audit chain's encodings on a real SQLite file with the ledger's
 * schema. Rows of the first encoding (fields separated by 0x1f) keep verifying; new rows
 * are length-prefixed, so moving a 0x1f between two fields is found, although it gave the
 * same first-encoding hash; and no row may go back to the first encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "audit.h"
#include "db.h"
#include "log.h"
#include "util.h"

static char path[] = "/tmp/test-audit.XXXXXX";
static sqlite3 *db;

/* The first encoding, as rows written before version 2 were hashed. */
static void hash_v1(const char *prev, long long at, const char *const f[5], char out[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[32], sep = 0x1f, nul = 0;
	char ts[24];

	snprintf(ts, sizeof ts, "%lld", at);
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
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	hex_encode(d, 32, out);
}

/* Insert a first-encoding row after the current head. */
static void insert_v1(const char *const f[5])
{
	int64_t rows;
	char prev[65], hash[65], *sql;

	assert_int_equal(audit_head(db, &rows, prev), 0);
	hash_v1(prev, 1000, f, hash);
	sql = xasprintf("INSERT INTO audit (at, actor, action, object, before, after, prev_hash, hash, v)"
	    " VALUES (1000, '%s', '%s', '%s', NULL, '%s', '%s', '%s', 1)", f[0], f[1], f[2], f[4], prev, hash);
	assert_int_equal(db_exec(db, sql), 0);
	free(sql);
}

static int setup(void **state)
{
	(void)state;
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	unlink(path);
	db = db_open(path);
	return db ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *p;
	db_close(&db);
	unlink(path);
	p = xasprintf("%s-wal", path);
	unlink(p);
	free(p);
	p = xasprintf("%s-shm", path);
	unlink(p);
	free(p);
	return 0;
}

static void test_old_rows_verify_and_new_rows_are_v2(void **state)
{
	(void)state;
	const char *f[5] = { "clerk01", "form.keyed", "form:R1", NULL, "keyed" };
	struct audit_report r;

	insert_v1(f);
	insert_v1(f);
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(audit_append(db, "sup01", "form.approved", "form:R1", "verified", "approved"), 0);
	assert_int_equal(audit_append(db, "a\x1f" "b", "c", "form:R2", NULL, "x"), 0);
	assert_int_equal(audit_append(db, "sup01", "form.approved", "form:R2", "verified", "approved"), 0);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(audit_verify(db, NULL, &r), 0);
	assert_int_equal(r.rows, 5);
	assert_int_equal(db_int(db, "SELECT count(*) FROM audit WHERE v = 2", ""), 3);
}

static void test_separator_inside_a_field_is_found(void **state)
{
	(void)state;
	const char *a[5] = { "a\x1f" "b", "c", "form:R2", NULL, "x" };
	const char *b[5] = { "a", "b\x1f" "c", "form:R2", NULL, "x" };
	char ha[65], hb[65];
	struct audit_report r;

	/* The first encoding could not tell these apart... */
	hash_v1("0", 1, a, ha);
	hash_v1("0", 1, b, hb);
	assert_string_equal(ha, hb);
	/* ...the length-prefixed one does. */
	assert_int_equal(db_exec(db, "DROP TRIGGER audit_no_update"), 0);
	assert_int_equal(db_exec(db, "UPDATE audit SET actor = 'a', action = 'b' || char(31) || 'c'"
	    " WHERE actor = 'a' || char(31) || 'b'"), 0);
	assert_int_equal(audit_verify(db, NULL, &r), -1);
	assert_int_equal(r.bad_row, 4);
	assert_int_equal(db_exec(db, "UPDATE audit SET actor = 'a' || char(31) || 'b', action = 'c' WHERE id = 4"), 0);
	assert_int_equal(audit_verify(db, NULL, &r), 0);
}

static void test_no_row_goes_back_to_v1(void **state)
{
	(void)state;
	const char *f[5] = { "a", "b\x1f" "c", "form:R2", NULL, "x" };
	char prev[65], hash[65], *sql;
	struct audit_report r;
	sqlite3_stmt *st = db_prepare(db, "SELECT prev_hash FROM audit WHERE id = 4");

	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	/* Row 4 rewritten in the first encoding, with a hash that matches it. */
	hash_v1(prev, db_int(db, "SELECT at FROM audit WHERE id = 4", ""), f, hash);
	sql = xasprintf("UPDATE audit SET actor = 'a', action = 'b' || char(31) || 'c', v = 1, hash = '%s'"
	    " WHERE id = 4", hash);
	assert_int_equal(db_exec(db, sql), 0);
	free(sql);
	assert_int_equal(audit_verify(db, NULL, &r), -1);
	assert_int_equal(r.bad_row, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_rows_verify_and_new_rows_are_v2),
		cmocka_unit_test(test_separator_inside_a_field_is_found),
		cmocka_unit_test(test_no_row_goes_back_to_v1),
	};
	log_init("test_audit", LV_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
