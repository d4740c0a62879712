/*
 * sheets.c: producing password and PIN sheets from the sealed secrets in ra.db.
 *
 *   post        all waiting postal sheets, and the letters telling applicants without
 *               e-mail that their form was rejected (rejections.c), become one PDF
 *               batch, pages sorted by postal code (the post office's order), with a
 *               CSV manifest that lists every page but no secret;
 *   electronic  each sheet becomes a one-page PDF encrypted with AES-256, kept in
 *               sheets_dir/electronic/ and mailed through the notice ledger (kind sheet);
 *               the opening password follows notifier.pdf_password_rule and is never sent;
 *   counter     printed one at a time with --sheet SERIAL while the subscriber waits.
 *
 * A sheet's secret is opened with the sheet private key only while its page is drawn,
 * and wiped right after. The transaction that marks sheets produced also sets their
 * sealed secret to NULL and appends to the audit chain: after it, the secret exists only
 * on paper (and in the print file). The files are written before that transaction, so a
 * crash in between leaves the sheets waiting and the rerun writes the same files again.
 *
 * Producing a sheet twice is refused. Inside notifier.reprint_window_hours of its
 * production (and before its batch is confirmed printed, printed.c), --reprint --officer ID copies the sheet's page
 * from the stored print file (the secret cannot be drawn again: it is gone from ra.db)
 * and records the officer in the audit chain. Only card PIN sheets are reprinted: the PIN
 * lives on the card, which the back office cannot reach to change it, and a PIN sheet is
 * useless without the card (a separate delivery; three wrong PINs lock it). A website
 * password sheet is refused: a reprint must carry a new password, which only the
 * password-reset form makes.
 */
#include "notifier.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "officer_local.h"
#include "pdfcrypt.h"
#include "pdfpage.h"
#include "seal.h"
#include "sheet.h"
#include "util.h"

struct sheet_row {
	int64_t id, subscriber, order;
	char *serial, *kind, *reason, *delivery, *state, *batch;
	char *name, *postal, *address, *account, *id_number, *email;
	unsigned char *sealed;
	size_t sealed_len;
	char reference[32];
};

static const char row_sql[] =
    "SELECT sh.id, sh.subscriber_id, coalesce(sh.order_id, 0), sh.serial, sh.kind, sh.reason, "
    "  sh.delivery, sh.state, coalesce(sh.batch, ''), "
    /* The form's destination first (a resume or reset form names it); an organization's
     * sheet goes to its contact person, not to its name. */
    "  coalesce(sh.recipient, s.contact_person, s.name), coalesce(sh.postal_code, s.postal_code), "
    "  coalesce(sh.address, s.address), "
    "  coalesce(sh.account_id, (SELECT a.id FROM accounts a WHERE a.subscriber_id = s.id), ''), "
    "  s.id_number, coalesce(sh.email, s.email), sh.sealed "
    "FROM sheets sh JOIN subscribers s ON s.id = sh.subscriber_id ";

static char *dup_col(sqlite3_stmt *q, int i)
{
	const unsigned char *s = sqlite3_column_text(q, i);
	return xstrdup(s ? (const char *)s : "");
}

static void row_free(struct sheet_row *r)
{
	free(r->serial); free(r->kind); free(r->reason); free(r->delivery); free(r->state);
	free(r->batch); free(r->name); free(r->postal); free(r->address); free(r->account);
	free(r->id_number); free(r->email); free(r->sealed);
	memset(r, 0, sizeof *r);
}

static void row_read(sqlite3_stmt *q, struct sheet_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(q, 0);
	r->subscriber = sqlite3_column_int64(q, 1);
	r->order = sqlite3_column_int64(q, 2);
	r->serial = dup_col(q, 3);
	r->kind = dup_col(q, 4);
	r->reason = dup_col(q, 5);
	r->delivery = dup_col(q, 6);
	r->state = dup_col(q, 7);
	r->batch = dup_col(q, 8);
	r->name = dup_col(q, 9);
	r->postal = dup_col(q, 10);
	r->address = dup_col(q, 11);
	r->account = dup_col(q, 12);
	r->id_number = dup_col(q, 13);
	r->email = dup_col(q, 14);
	if (sqlite3_column_type(q, 15) == SQLITE_BLOB) {
		r->sealed_len = (size_t)sqlite3_column_bytes(q, 15);
		r->sealed = xmalloc(r->sealed_len);
		memcpy(r->sealed, sqlite3_column_blob(q, 15), r->sealed_len);
	}
	if (r->order)
		snprintf(r->reference, sizeof r->reference, "ORD-%06lld", (long long)r->order);
	else
		snprintf(r->reference, sizeof r->reference, "SUB-%06lld", (long long)r->subscriber);
}

/* Rows of SQL (row_sql + WHERE ...) with one optional text parameter. */
static struct sheet_row *rows_load(struct notifier *n, const char *where, const char *arg, int *count)
{
	char *sql = xasprintf("%s%s", row_sql, where);
	sqlite3_stmt *q = db_prepare(n->db, sql);
	struct sheet_row *rows = NULL;

	*count = 0;
	if (arg)
		sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		rows = xrealloc(rows, (size_t)(*count + 1) * sizeof *rows);
		row_read(q, &rows[(*count)++]);
	}
	sqlite3_finalize(q);
	free(sql);
	return rows;
}

static void rows_free(struct sheet_row *rows, int count)
{
	for (int i = 0; i < count; i++)
		row_free(&rows[i]);
	free(rows);
}

/* Draw row R into D, opening its secret only for the drawing. 0/-1 (logged, no secret). */
static int sheet_draw(struct notifier *n, EVP_PKEY *key, sheet_doc_t *d, const struct sheet_row *r)
{
	uint8_t *secret = NULL;
	size_t slen = 0;
	struct sheet_info info;
	int rc;

	if (!r->sealed || seal_open(key, r->sealed, r->sealed_len, &secret, &slen) < 0) {
		log_err("sheet %s: its sealed secret %s", r->serial,
		    r->sealed ? "does not open with the sheet key" : "is missing");
		return -1;
	}
	info = (struct sheet_info){
		.kind = r->kind, .serial = r->serial, .reference = r->reference, .reason = r->reason,
		.name = r->name, .postal_code = r->postal, .address = r->address,
		.account_id = r->account, .secret = (const char *)secret, .date = (long long)n->now,
	};
	rc = sheet_doc_add(d, &info);
	OPENSSL_cleanse(secret, slen);
	free(secret);
	return rc;
}

static sheet_doc_t *doc_new(struct notifier *n)
{
	sheet_doc_t *d = sheet_doc_new(config_str(n->cfg, "notifier.font"),
	    config_str(n->cfg, "notifier.return_address"));
	char *contact = notifier_contact(n);

	if (d)
		sheet_doc_set_contact(d, contact);
	free(contact);
	return d;
}

/* Write DATA to DIR/NAME, creating DIR. 0/-1 (logged). */
static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	int rc = -1;
	if (mkdir_p(dir, 0700) < 0 || file_write_atomic(path, data, len, 0600) < 0)
		log_err("cannot write %s", path);
	else
		rc = 0;
	free(path);
	return rc;
}

/* In the current transaction: the sheet is produced and its secret gone. 0/-1. */
static int mark_produced(struct notifier *n, const struct sheet_row *r, const char *batch, const char *actor)
{
	char obj[96];
	if (db_int(n->db, "UPDATE sheets SET sealed = NULL, state = 'produced', batch = ?, "
	    "produced_at = ? WHERE id = ? AND state = 'waiting' RETURNING id", "sii",
	    batch, (int64_t)n->now, r->id) != r->id) {
		log_err("sheet %s changed while it was being produced", r->serial);
		return -1;
	}
	snprintf(obj, sizeof obj, "sheet:%s", r->serial);
	return audit_append(n->db, actor, "sheet.produce", obj, "waiting", batch);
}

static void csv_field(FILE *f, const char *s, int last)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
	fputs(last ? "\"\r\n" : "\",", f);
}

/* One page of a postal batch: a sheet or a rejection letter (rejections.c). */
struct post_page {
	const struct sheet_row *sheet;
	const struct rejection *letter;
	int ok;			/* drawn */
};

/* The manifest: which page is whose sheet or letter. No secret. */
static char *manifest(const struct post_page *pages, int count, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int page = 0;
	fputs("page,serial,kind,reason,delivery,postal_code,name,address,account_id,reference\r\n", f);
	for (int i = 0; i < count; i++) {
		const struct sheet_row *r = pages[i].sheet;
		const struct rejection *l = pages[i].letter;
		if (!pages[i].ok)
			continue;
		if (r) {
			fprintf(f, "%d,%s,%s,%s,%s,", ++page, r->serial, r->kind, r->reason, r->delivery);
			csv_field(f, r->postal, 0);
			csv_field(f, r->name, 0);
			csv_field(f, r->address, 0);
			csv_field(f, r->account, 0);
			csv_field(f, r->reference, 1);
		} else {
			fprintf(f, "%d,%s,rejection,%s,post,", ++page, l->serial, l->reason);
			csv_field(f, l->postal ? l->postal : "", 0);
			csv_field(f, l->recipient ? l->recipient : "", 0);
			csv_field(f, l->address ? l->address : "", 0);
			csv_field(f, "", 0);
			csv_field(f, l->serial, 1);
		}
	}
	fclose(f);
	return buf;
}

/* The batch's pages: sheets and letters merged by postal code (the post office's order). */
static struct post_page *post_pages(const struct sheet_row *rows, int count, const struct rejection *letters,
    int lcount)
{
	struct post_page *p = xcalloc((size_t)(count + lcount) + 1, sizeof *p);
	int i = 0, j = 0, k = 0;

	while (i < count || j < lcount) {
		if (j >= lcount || (i < count && strcmp(rows[i].postal, letters[j].postal ? letters[j].postal : "") <= 0))
			p[k++].sheet = &rows[i++];
		else
			p[k++].letter = &letters[j++];
	}
	return p;
}

static char *batch_name(struct notifier *n, const char *asked)
{
	char date[16], *name;
	if (asked) {
		for (const char *p = asked; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
				log_err("batch name \"%s\": use letters, digits, - and _ only", asked);
				return NULL;
			}
		if (db_int(n->db, "SELECT 1 FROM sheet_batches WHERE name = ?", "s", asked) == 1) {
			log_err("batch %s exists already: choose another name", asked);
			return NULL;
		}
		return xstrdup(asked);
	}
	compose_date(n->now, date, sizeof date);
	date[4] = date[5], date[5] = date[6], date[6] = date[8], date[7] = date[9], date[8] = '\0';
	name = xasprintf("post-%s", date);
	for (int i = 2; db_int(n->db, "SELECT 1 FROM sheet_batches WHERE name = ?", "s", name) == 1; i++) {
		free(name);
		name = xasprintf("post-%s-%d", date, i);
	}
	return name;
}

/* All waiting postal sheets and rejection letters into one batch. Returns the number that
 * failed, or -1. */
static int produce_post(struct notifier *n, EVP_PKEY *key, const char *asked)
{
	int count, lcount, failed = 0, done = 0, letters = 0, rc = -1;
	struct sheet_row *rows = rows_load(n, "WHERE sh.state = 'waiting' AND sh.delivery = 'post' "
	    "ORDER BY coalesce(sh.postal_code, s.postal_code), sh.serial", NULL, &count);
	struct rejection *lrows = rejection_letters_waiting(n, &lcount);
	struct post_page *pages = post_pages(rows, count, lrows, lcount);
	int npages = count + lcount;
	sheet_doc_t *d = NULL;
	unsigned char *pdf = NULL;
	size_t pdflen = 0, mlen = 0;
	char *name = NULL, *csv = NULL, *file = NULL;

	if (npages == 0) {
		rc = 0;
		goto out;
	}
	if (!(name = batch_name(n, asked)) || !(d = doc_new(n)))
		goto out;
	for (int i = 0; i < npages; i++) {
		pages[i].ok = (pages[i].sheet ? sheet_draw(n, key, d, pages[i].sheet) :
		    rejection_letter_draw(n, d, pages[i].letter)) == 0;
		failed += !pages[i].ok;
		done += pages[i].ok;
		letters += pages[i].ok && pages[i].letter;
	}
	if (done == 0) {
		rc = failed;
		goto out;
	}
	if (sheet_doc_finish(d, &pdf, &pdflen) < 0)
		goto out;
	csv = manifest(pages, npages, &mlen);
	file = xasprintf("%s.pdf", name);
	if (write_file(n->sheets_dir, file, pdf, pdflen) < 0)
		goto out;
	free(file);
	file = xasprintf("%s.csv", name);
	if (write_file(n->sheets_dir, file, csv, mlen) < 0 || db_begin(n->db) < 0)
		goto out;
	for (int i = 0; i < npages; i++)
		if (pages[i].ok && (pages[i].sheet ? mark_produced(n, pages[i].sheet, name, "ra-notifier") :
		    rejection_letter_mark(n, pages[i].letter, name)) < 0)
			goto rollback;
	if (db_int(n->db, "INSERT INTO sheet_batches (name, delivery, sheets, pdf, manifest, created_at) "
	    "VALUES (?, 'post', ?, ? || '.pdf', ?, ?) RETURNING 1", "sissi", name, (int64_t)done,
	    name, file, (int64_t)n->now) != 1 || db_commit(n->db) < 0)
		goto rollback;
	log_info("batch %s: %d postal sheet(s) and %d letter(s) in %s/%s.pdf (manifest %s)", name,
	    done - letters, letters, n->sheets_dir, name, file);
	printf("%s/%s.pdf\n", n->sheets_dir, name);
	rc = failed;
	goto out;
rollback:
	db_rollback(n->db);
out:
	if (pdf) {
		OPENSSL_cleanse(pdf, pdflen);
		free(pdf);
	}
	sheet_doc_destroy(&d);
	free(csv);
	free(file);
	free(name);
	free(pages);
	rows_free(rows, count);
	rejections_free(lrows, lcount);
	return rc;
}

/* The opening password of an e-mailed sheet, from notifier.pdf_password_rule. */
static char *open_password(struct notifier *n, const struct sheet_row *r)
{
	const char *rule = config_str(n->cfg, "notifier.pdf_password_rule");
	char *id = xstrdup(r->id_number), *pw;
	for (char *p = id; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (strcmp(rule, "id4-postal") == 0) {
		size_t l = strlen(id);
		pw = xasprintf("%s%s", id + (l > 4 ? l - 4 : 0), r->postal);
		OPENSSL_cleanse(id, strlen(id));
		free(id);
		return pw;
	}
	return id;
}

static char *owner_password(struct notifier *n)
{
	char *path = config_path(n->cfg, "notifier.pdf_owner_password_file");
	char *pw = *path ? file_read(path, NULL) : NULL;
	free(path);
	if (pw && (pw[strcspn(pw, "\r\n")] = '\0', *pw))
		return pw;
	free(pw);
	/* nobody needs the owner password of a mailed sheet: a random one locks editing */
	unsigned char r[16];
	if (RAND_bytes(r, sizeof r) != 1) {
		log_err("random generator failed: no owner password for a mailed sheet");
		return NULL;
	}
	pw = xmalloc(33);
	hex_encode(r, sizeof r, pw);
	OPENSSL_cleanse(r, sizeof r);
	return pw;
}

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* One e-mailed sheet: encrypted file, produced, mail recorded. 0/-1. */
static int produce_electronic(struct notifier *n, EVP_PKEY *key, const struct sheet_row *r)
{
	sheet_doc_t *d = doc_new(n);
	unsigned char *pdf = NULL, *enc = NULL;
	size_t pdflen = 0, enclen = 0;
	char *upw = NULL, *opw = NULL, *file = NULL, *dir = NULL, *topic = NULL, *batch = NULL;
	int rc = -1;

	if (!d || sheet_draw(n, key, d, r) < 0 || sheet_doc_finish(d, &pdf, &pdflen) < 0)
		goto out;
	upw = open_password(n, r);
	if (!(opw = owner_password(n)))
		goto out;
	if (strlen(upw) < 4) {
		log_err("sheet %s: the subscriber's data give no usable opening password", r->serial);
		goto out;
	}
	if (pdfcrypt_encrypt(pdf, pdflen, upw, opw, &enc, &enclen) < 0)
		goto out;
	dir = xasprintf("%s/electronic", n->sheets_dir);
	file = xasprintf("%s.pdf", r->serial);
	if (write_file(dir, file, enc, enclen) < 0 || db_begin(n->db) < 0)
		goto out;
	topic = xasprintf("sheet:%s", r->serial);
	batch = xasprintf("mail-%s", r->serial);
	if (mark_produced(n, r, batch, "ra-notifier") < 0 ||
	    ledger_add(n, r->subscriber, "sheet", topic, r->email) <= 0 || db_commit(n->db) < 0) {
		db_rollback(n->db);
		goto out;
	}
	log_info("sheet %s: encrypted PDF ready to mail to %s", r->serial, r->email);
	rc = 0;
out:
	if (pdf) {
		OPENSSL_cleanse(pdf, pdflen);
		free(pdf);
	}
	free(enc);
	wipe_free(upw);
	wipe_free(opw);
	sheet_doc_destroy(&d);
	free(file);
	free(dir);
	free(topic);
	free(batch);
	return rc;
}

/* One sheet printed on its own (counter, or a postal sheet needed at once). 0/-1. */
static int produce_single(struct notifier *n, EVP_PKEY *key, const struct sheet_row *r)
{
	sheet_doc_t *d = doc_new(n);
	unsigned char *pdf = NULL;
	size_t pdflen = 0;
	char *dir = xasprintf("%s/counter", n->sheets_dir), *file = xasprintf("%s.pdf", r->serial);
	char *batch = xasprintf("counter-%s", r->serial);
	int rc = -1;

	if (!d || sheet_draw(n, key, d, r) < 0 || sheet_doc_finish(d, &pdf, &pdflen) < 0 ||
	    write_file(dir, file, pdf, pdflen) < 0 || db_begin(n->db) < 0)
		goto out;
	if (mark_produced(n, r, batch, "ra-notifier") < 0 || db_commit(n->db) < 0) {
		db_rollback(n->db);
		goto out;
	}
	printf("%s/%s\n", dir, file);
	rc = 0;
out:
	if (pdf) {
		OPENSSL_cleanse(pdf, pdflen);
		free(pdf);
	}
	sheet_doc_destroy(&d);
	free(dir);
	free(file);
	free(batch);
	return rc;
}

/* The page of SERIAL in a batch's manifest, or -1. */
static int manifest_page(const char *csv, const char *serial)
{
	size_t sl = strlen(serial);
	for (const char *l = csv; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *comma = strchr(l, ',');
		if (comma && strncmp(comma + 1, serial, sl) == 0 && comma[1 + sl] == ',')
			return atoi(l);
	}
	return -1;
}

/* Copy the page of SERIAL (a sheet, or with LETTER a rejection letter: rejections.c) of
 * BATCH, produced at PRODUCED, from its stored file, and audit who asked. 0/-1. */
static int reprint(struct notifier *n, const char *serial, const char *batch, int64_t produced, int letter,
    const char *officer)
{
	char *src = NULL, *csvpath = NULL, *csv = NULL, *dir = NULL, *file = NULL, obj[96];
	unsigned char *data = NULL, *page = NULL;
	size_t len = 0, plen = 0;
	const char *what = letter ? "letter" : "sheet";
	char action[32];
	int rc = -1, pno = 1;

	snprintf(obj, sizeof obj, "%s:%s", letter ? "form" : "sheet", serial);
	if (n->now - produced > config_int(n->cfg, "notifier.reprint_window_hours") * 3600) {
		log_err("%s %s was produced more than notifier.reprint_window_hours (%lld) ago: "
		    "it is not reprinted", what, serial,
		    (long long)config_int(n->cfg, "notifier.reprint_window_hours"));
		snprintf(action, sizeof action, "%s.reprint-refused", what);
		if (db_begin(n->db) == 0 && (audit_append(n->db, officer, action, obj,
		    batch, "outside the reprint window") < 0 || db_commit(n->db) < 0))
			db_rollback(n->db);
		goto out;
	}
	if (strncmp(batch, "counter-", 8) == 0)
		src = xasprintf("%s/counter/%s.pdf", n->sheets_dir, serial);
	else if (strncmp(batch, "mail-", 5) == 0)
		src = xasprintf("%s/electronic/%s.pdf", n->sheets_dir, serial);
	else {
		src = xasprintf("%s/%s.pdf", n->sheets_dir, batch);
		csvpath = xasprintf("%s/%s.csv", n->sheets_dir, batch);
		if (!(csv = file_read(csvpath, NULL)) || (pno = manifest_page(csv, serial)) < 1) {
			log_err("%s %s: batch manifest %s is missing or does not list it", what, serial, csvpath);
			goto out;
		}
	}
	if (!(data = (unsigned char *)file_read(src, &len))) {
		if (letter)
			log_err("letter %s: its print file %s is gone (shredded once printed)", serial, src);
		else
			log_err("sheet %s: its print file %s is gone; the secret cannot be printed again: "
			    "issue a reset instead", serial, src);
		goto out;
	}
	if (csvpath ? pdfpage_extract(data, len, pno, &page, &plen) < 0 :
	    (page = xmalloc(len), memcpy(page, data, len), plen = len, 0))
		goto out;
	dir = xasprintf("%s/reprint", n->sheets_dir);
	file = xasprintf("%s-%lld.pdf", serial, (long long)n->now);
	if (write_file(dir, file, page, plen) < 0 || db_begin(n->db) < 0)
		goto out;
	snprintf(action, sizeof action, "%s.reprint", what);
	if (audit_append(n->db, officer, action, obj, batch, file) < 0 ||
	    db_commit(n->db) < 0) {
		db_rollback(n->db);
		goto out;
	}
	log_info("%s %s reprinted for officer %s", what, serial, officer);
	printf("%s/%s\n", dir, file);
	rc = 0;
out:
	if (data) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
	if (page) {
		OPENSSL_cleanse(page, plen);
		free(page);
	}
	free(src); free(csvpath); free(csv); free(dir); free(file);
	return rc;
}

/*
 * A website password sheet is never printed twice: the copy would carry a password that
 * is still live while the first sheet may be in someone else's hands. The officer is
 * sent to the password-reset form, which sets a new password, unlocks the account and
 * makes a new sheet. The refusal is audited like a reprint, with the officer.
 */
static void reprint_refuse(struct notifier *n, const struct sheet_row *r, const char *officer)
{
	char obj[96];

	log_err("sheet %s is a website password sheet: it is not reprinted, because a copy "
	    "would carry the same live password. File a password-reset form for account %s "
	    "instead: it sets a new password and makes a new sheet", r->serial,
	    *r->account ? r->account : "(none)");
	snprintf(obj, sizeof obj, "sheet:%s", r->serial);
	if (db_begin(n->db) < 0)
		return;
	if (audit_append(n->db, officer, "sheet.reprint-refused", obj, r->batch,
	    "password sheet: reset form required") < 0 || db_commit(n->db) < 0)
		db_rollback(n->db);
}

/* --sheet SERIAL naming a rejected form: its letter is reprinted (with --reprint) from the
 * postal batch that carried it, inside the same window as a sheet. 0/-1. */
static int letter_one(struct notifier *n, const struct sheets_opts *o)
{
	sqlite3_stmt *q = db_prepare(n->db, "SELECT notice_state, coalesce(batch, ''), coalesce(printed_at, 0),"
	    " email IS NOT NULL FROM form_rejections WHERE serial = ?");
	int rc = -1;

	sqlite3_bind_text(q, 1, o->sheet, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW)
		log_err("no sheet %s", o->sheet);
	else if (sqlite3_column_int(q, 3))
		log_err("form %s was rejected by mail: there is no letter", o->sheet);
	else if (strcmp((const char *)sqlite3_column_text(q, 0), "printed") != 0)
		log_err("the rejection letter of form %s waits for the next postal batch", o->sheet);
	else if (!o->reprint)
		log_err("the rejection letter of form %s was produced already (%s); printing it again needs "
		    "--reprint --officer ID", o->sheet, (const char *)sqlite3_column_text(q, 1));
	else
		rc = reprint(n, o->sheet, (const char *)sqlite3_column_text(q, 1), sqlite3_column_int64(q, 2), 1,
		    o->officer);
	sqlite3_finalize(q);
	return rc;
}

static int produce_one(struct notifier *n, EVP_PKEY *key, const struct sheets_opts *o)
{
	int count, rc = -1;
	struct sheet_row *rows = rows_load(n, "WHERE sh.serial = ?1", o->sheet, &count);

	if (count == 0) {
		rc = letter_one(n, o);
	} else if (strcmp(rows[0].state, "cancelled") == 0) {
		log_err("sheet %s was cancelled", o->sheet);
	} else if (strcmp(rows[0].state, "produced") == 0) {
		if (!o->reprint)
			log_err("sheet %s was produced already (%s); printing it again needs "
			    "--reprint --officer ID", o->sheet, rows[0].batch);
		else if (strcmp(rows[0].kind, "password") == 0)
			reprint_refuse(n, &rows[0], o->officer);
		else
			rc = reprint(n, rows[0].serial, rows[0].batch,
			    db_int(n->db, "SELECT produced_at FROM sheets WHERE id = ?", "i", rows[0].id), 0, o->officer);
	} else if (strcmp(rows[0].delivery, "electronic") == 0) {
		rc = produce_electronic(n, key, &rows[0]);
	} else {
		rc = produce_single(n, key, &rows[0]);
	}
	rows_free(rows, count);
	return rc;
}

int sheets_run(struct notifier *n, const struct sheets_opts *o)
{
	static const char *const kinds[] = { "sheet", NULL };
	char *kpath = config_path(n->cfg, "sheets.private_key");
	char *kpass = config_path(n->cfg, "sheets.private_key_passphrase_file");
	EVP_PKEY *key = NULL;
	struct run_stats st = { 0 };
	struct sheets_opts po = *o;
	char actor[96];
	int rc = -1, failed = 0, count;

	if (o->reprint && (!o->officer || !*o->officer || !o->sheet)) {
		log_err("--reprint needs --sheet SERIAL and --officer ID");
		goto out;
	}
	if (o->printed && (!o->officer || !*o->officer)) {
		log_err("--printed needs --officer ID: who saw the batch printed");
		goto out;
	}
	if (o->reprint || o->printed) {	/* the officer proves who they are; the audit names them so */
		char object[96];
		snprintf(object, sizeof object, o->printed ? "batch:%s" : "sheet:%s", o->printed ? o->printed : o->sheet);
		struct officer_local_ask ask = { o->printed ? "batch.printed" : "sheet.reprint", object,
		    ROLE_SUPERVISOR | ROLE_OPERATOR, o->officer, o->credential, o->passphrase_file };
		if (officer_local_prove(n->cfg, n->db, &ask, actor, sizeof actor) < 0)
			goto out;
		po.officer = actor;
		o = &po;
	}
	if (o->printed) {
		rc = printed_confirm(n, o->printed, o->officer) < 0 ? 1 : 0;
		goto out;
	}
	if (o->preview) {
		rc = printed_preview(n, o->preview) < 0 ? 1 : 0;
		goto out;
	}
	if (!o->sheet && printed_expire(n) < 0)
		log_err("some expired print files could not be shredded");
	/* a reprint copies a stored file: it never needs the key */
	if (!o->reprint && !(key = seal_load_private(kpath, kpass))) {
		log_err("the sheet private key %s cannot be loaded", kpath);
		goto out;
	}
	if (o->sheet) {
		rc = produce_one(n, key, o) < 0 ? 1 : 0;
		if (rc == 0 && !o->reprint)
			ledger_send_due(n, kinds, &st);
		rc = rc || st.failed || st.undeliverable;
		goto out;
	}
	if ((failed = produce_post(n, key, o->batch)) < 0)
		goto out;
	struct sheet_row *rows = rows_load(n, "WHERE sh.state = 'waiting' AND sh.delivery = 'electronic' "
	    "ORDER BY sh.serial", NULL, &count);
	for (int i = 0; i < count; i++)
		failed += produce_electronic(n, key, &rows[i]) < 0;
	rows_free(rows, count);
	count = (int)db_int(n->db, "SELECT count(*) FROM sheets WHERE state = 'waiting' "
	    "AND delivery = 'counter'", "");
	if (count > 0)
		log_info("%d counter sheet(s) wait to be printed with --sheet SERIAL", count);
	ledger_send_due(n, kinds, &st);
	if (failed)
		stats_note(&st, "%d sheet(s) could not be produced (see the log)", failed);
	if (st.sent || st.failed || st.undeliverable || failed)
		ledger_summary(n, "sheets", &st);
	rc = failed || st.failed || st.undeliverable ? 1 : 0;
out:
	stats_clear(&st);
	EVP_PKEY_free(key);
	free(kpath);
	free(kpass);
	return rc;
}
