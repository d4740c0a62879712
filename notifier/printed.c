/*
 * printed.c: what happens to a print file once its sheets are on paper.
 *
 * A print file (a postal batch PDF, a counter sheet PDF, a reprint) holds secrets in
 * clear: it must not outlive the printing. A postal batch's rejection letters
 * (rejections.c) are pages of the same file and go with it. The operator confirms that a batch printed
 * (sheets --printed NAME --officer ID); its print files and every PNG preview of them
 * are then shredded, which here means overwritten with random bytes, flushed to the disk,
 * and removed, and the shredding is audited with the officer. A batch nobody confirms is
 * shredded by the first sheets run after notifier.reprint_window_hours, so a forgotten
 * batch does not linger either. Until then a PIN sheet can be reprinted (sheets.c checks
 * the same window). The CSV manifest stays: it holds no secret and says what was sent.
 * E-mailed sheets are left alone: their file is encrypted and the mail retries need it.
 *
 * The preview (sheets --preview NAME) is the first page of a batch drawn again from the
 * ledger with its secret masked (sheet_preview_png), so it can be looked at anywhere. The
 * first page is the one of lowest postal code, a sheet or a rejection letter; a batch may
 * hold letters alone.
 */
#include "notifier.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "db.h"
#include "log.h"
#include "sheet.h"
#include "util.h"

/* Overwrite PATH with random bytes, flush, remove. 1 shredded, 0 absent, -1 failed. */
static int shred_file(const char *path)
{
	unsigned char buf[4096];
	struct stat sb;
	off_t left;
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return errno == ENOENT ? 0 : (log_err("shred %s: %s", path, strerror(errno)), -1);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		goto out;
	for (left = sb.st_size; left > 0;) {
		size_t n = left > (off_t)sizeof buf ? sizeof buf : (size_t)left;
		if (RAND_bytes(buf, (int)n) != 1 || write(fd, buf, n) != (ssize_t)n)
			goto out;
		left -= (off_t)n;
	}
	if (fsync(fd) < 0)
		goto out;
	rc = 0;
out:
	close(fd);
	if (rc == 0 && unlink(path) < 0)
		rc = -1;
	if (rc < 0)
		log_err("shred %s: %s", path, strerror(errno));
	return rc < 0 ? -1 : 1;
}

/* Shred every file matching PATTERN; add to *count. 0/-1. */
static int shred_glob(const char *pattern, int *count)
{
	glob_t g;
	int rc = 0;

	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		int r = shred_file(g.gl_pathv[i]);
		if (r < 0)
			rc = -1;
		else
			*count += r;
	}
	globfree(&g);
	return rc;
}

/* Shred batch NAME's print files, reprints and previews; audit as ACTOR when any went. */
static int shred_batch(struct notifier *n, const char *name, const char *actor)
{
	sqlite3_stmt *q = db_prepare(n->db, "SELECT serial FROM sheets WHERE batch = ?1"
	    " UNION SELECT serial FROM form_rejections WHERE batch = ?1");
	char *pat, obj[128], after[32];
	int count = 0, rc = 0;

	if (strncmp(name, "counter-", 8) == 0)
		pat = xasprintf("%s/counter/%s.pdf", n->sheets_dir, name + 8);
	else
		pat = xasprintf("%s/%s.pdf", n->sheets_dir, name);
	rc |= shred_glob(pat, &count);
	free(pat);
	pat = xasprintf("%s/%s*.png", n->sheets_dir, name);
	rc |= shred_glob(pat, &count);
	free(pat);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		pat = xasprintf("%s/reprint/%s-*.pdf", n->sheets_dir, (const char *)sqlite3_column_text(q, 0));
		rc |= shred_glob(pat, &count);
		free(pat);
	}
	sqlite3_finalize(q);
	if (count == 0)
		return rc;
	snprintf(obj, sizeof obj, "batch:%s", name);
	snprintf(after, sizeof after, "%d file(s) shredded", count);
	if (db_begin(n->db) < 0 || audit_append(n->db, actor, "sheet.shred", obj, "printed", after) < 0 ||
	    db_commit(n->db) < 0) {
		db_rollback(n->db);
		return -1;
	}
	log_info("batch %s: %d print file(s) shredded", name, count);
	return rc;
}

int printed_confirm(struct notifier *n, const char *name, const char *officer)
{
	if (!officer || !*officer) {
		log_err("--printed needs --officer ID: who saw the batch printed");
		return -1;
	}
	if (strncmp(name, "mail-", 5) == 0 ||
	    db_int(n->db, "SELECT (SELECT count(*) FROM sheets WHERE batch = ?1 AND state = 'produced')"
	    " + (SELECT count(*) FROM sheet_batches WHERE name = ?1 AND delivery = 'post')", "s", name) <= 0) {
		log_err("no printed batch %s (postal batches are post-..., counter sheets counter-SERIAL)", name);
		return -1;
	}
	if (shred_batch(n, name, officer) < 0)
		return -1;
	printf("batch %s: print files shredded\n", name);
	return 0;
}

int printed_expire(struct notifier *n)
{
	int64_t window = config_int(n->cfg, "notifier.reprint_window_hours") * 3600;
	/* a batch of letters alone has no sheet row: sheet_batches names every postal batch */
	sqlite3_stmt *q = db_prepare(n->db, "SELECT batch FROM sheets WHERE state = 'produced' "
	    "AND batch NOT LIKE 'mail-%' AND produced_at <= ?1 "
	    "UNION SELECT name FROM sheet_batches WHERE delivery = 'post' AND created_at <= ?1");
	char **names = NULL;
	int count = 0, rc = 0;

	sqlite3_bind_int64(q, 1, (int64_t)n->now - window);
	while (sqlite3_step(q) == SQLITE_ROW) {
		names = xrealloc(names, (size_t)(count + 1) * sizeof *names);
		names[count++] = xstrdup((const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
	for (int i = 0; i < count; i++) {
		if (shred_batch(n, names[i], "ra-notifier") < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int printed_preview(struct notifier *n, const char *name)
{
	sqlite3_stmt *q = db_prepare(n->db,
	    "SELECT sh.kind, sh.serial, coalesce(sh.order_id, 0), sh.subscriber_id, sh.reason, "
	    "  coalesce(sh.recipient, s.contact_person, s.name), coalesce(sh.postal_code, s.postal_code), "
	    "  coalesce(sh.address, s.address), coalesce(sh.account_id, "
	    "  (SELECT a.id FROM accounts a WHERE a.subscriber_id = s.id), ''), sh.produced_at "
	    "FROM sheets sh JOIN subscribers s ON s.id = sh.subscriber_id "
	    "WHERE sh.batch = ? ORDER BY coalesce(sh.postal_code, s.postal_code), sh.serial LIMIT 1");
	char *contact = notifier_contact(n), *path = xasprintf("%s/%s-preview.png", n->sheets_dir, name), ref[32];
	char *letter = rejection_letter_first(n, name);
	int rc = -1, sheet;

	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sheet = sqlite3_step(q) == SQLITE_ROW;
	if (!sheet && !letter) {
		log_err("no batch %s", name);
		goto out;
	}
	if (mkdir_p(n->sheets_dir, 0700) < 0)
		goto out;
	/* Sheets and letters go in postal-code order, sheets first on the same code (sheets.c). */
	if (letter && (!sheet || strcmp(letter, sqlite3_column_text(q, 6) ?
	    (const char *)sqlite3_column_text(q, 6) : "") < 0)) {
		if (rejection_letter_preview(n, name, contact, path) < 0)
			goto out;
		printf("%s\n", path);
		rc = 0;
		goto out;
	}
	if (sqlite3_column_int64(q, 2))
		snprintf(ref, sizeof ref, "ORD-%06lld", (long long)sqlite3_column_int64(q, 2));
	else
		snprintf(ref, sizeof ref, "SUB-%06lld", (long long)sqlite3_column_int64(q, 3));
	struct sheet_info info = {
		.kind = (const char *)sqlite3_column_text(q, 0),
		.serial = (const char *)sqlite3_column_text(q, 1),
		.reference = ref,
		.reason = (const char *)sqlite3_column_text(q, 4),
		.name = (const char *)sqlite3_column_text(q, 5),
		.postal_code = (const char *)sqlite3_column_text(q, 6),
		.address = (const char *)sqlite3_column_text(q, 7),
		.account_id = (const char *)sqlite3_column_text(q, 8),
		.secret = NULL,
		.date = sqlite3_column_int64(q, 9),
	};
	if (sheet_preview_png(config_str(n->cfg, "notifier.font"),
	    config_str(n->cfg, "notifier.return_address"), contact, &info, 100, path) < 0)
		goto out;
	printf("%s\n", path);
	rc = 0;
out:
	sqlite3_finalize(q);
	free(contact);
	free(letter);
	free(path);
	return rc;
}
