/*
 * rejections.c: telling an applicant that a form was rejected (form_rejections, written
 * by the form_reject job). There is no subscriber for a rejected registration, so these
 * notices are not rows of the notice ledger: the rejection row is its own ledger, with
 * notice_state waiting -> sent (mailed) or printed (a letter).
 *
 * A row with an e-mail address is mailed, in the applicant's language first and the
 * other below, with the reason from the fixed list (lib/form_reject.c) and the
 * supervisor's note; its Message-ID is fixed by the form serial, so a mail sent again
 * after a crash (between the relay's acceptance and the UPDATE) is seen as the same
 * message. A row without one becomes a letter: a page of the next postal print batch
 * (`ra-notifier sheets`, sheets.c), in the sheets' layout (sheet.c: the address in the
 * envelope window), sorted by postal code among the password and PIN sheets and listed in
 * the batch's manifest. It is then printed, shredded and reprinted as the batch is
 * (printed.c, sheets.c); the row records the batch (notice_state printed, batch,
 * printed_at) in the batch's own transaction, with an audit row "letter.produce".
 * Mails are sent by `ra-notifier notices`, after the status confirmations.
 */
#include "notifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "form_reject.h"
#include "log.h"
#include "sheet.h"
#include "util.h"

#define REJECTION_LETTER_TITLE "申請書未獲受理通知　Application form not accepted"

static char *col(sqlite3_stmt *q, int i)
{
	const unsigned char *s = sqlite3_column_text(q, i);
	return s ? xstrdup((const char *)s) : NULL;
}

void rejection_free(struct rejection *r)
{
	free(r->serial); free(r->reason); free(r->note); free(r->recipient);
	free(r->email); free(r->postal); free(r->address); free(r->language);
	memset(r, 0, sizeof *r);
}

/* The letter's or mail's text, in the applicant's language first. Caller frees. */
static char *rejection_text(const struct rejection *r)
{
	const struct form_reject_reason *why = form_reject_reason_find(r->reason);
	const char *en_reason = why ? why->en : r->reason, *zh_reason = why ? why->zh : r->reason;
	char *zh = xasprintf("%s 您好：\n\n您的申請書（序號 %s）未獲受理。\n原因：%s\n%s%s%s"
	    "如有疑問，請攜帶身分證明文件洽註冊窗口。\n",
	    r->recipient ? r->recipient : "", r->serial, zh_reason,
	    r->note ? "說明：" : "", r->note ? r->note : "", r->note ? "\n" : "");
	char *en = xasprintf("Dear %s,\n\nYour application form (serial %s) was not accepted.\nReason: %s\n%s%s%s"
	    "If you have questions, please visit the registration counter with your identity documents.\n",
	    r->recipient ? r->recipient : "applicant", r->serial, en_reason,
	    r->note ? "Note: " : "", r->note ? r->note : "", r->note ? "\n" : "");
	char *text = r->language && strcmp(r->language, "en") == 0 ?
	    xasprintf("%s\n----\n\n%s", en, zh) : xasprintf("%s\n----\n\n%s", zh, en);
	free(zh);
	free(en);
	return text;
}

static int rejection_mail(struct notifier *n, const struct rejection *r)
{
	mail_sender_t *s = notifier_mail(n);
	mail_msg_t *m = mail_msg_new();
	const char *at = strchr(n->from, '@');
	char *text = rejection_text(r), *subject, *mid, *reply = NULL, *contact = notifier_contact(n);
	int rc = -1;

	/* every mail gives the service's contact details */
	subject = xasprintf("%s\n\n%s\n", text, contact);
	free(text);
	text = subject;
	free(contact);
	subject = r->language && strcmp(r->language, "en") == 0 ?
	    xasprintf("Application form %s not accepted / 申請書未獲受理", r->serial) :
	    xasprintf("申請書 %s 未獲受理 / Application form not accepted", r->serial);
	mid = xasprintf("rejection-%s%s", r->serial, at ? at : "@ra.invalid");
	if (!s || mail_msg_set_from(m, n->from) < 0 || mail_msg_add_to(m, r->recipient, r->email) < 0) {
		log_warn("rejection of form %s: cannot address a mail to %s", r->serial, r->email);
		goto out;
	}
	mail_msg_set_subject(m, subject);
	mail_msg_set_text(m, text);
	mail_msg_set_id(m, mid);
	if (mail_send(s, m, (long long)n->now, &reply) < 0) {
		log_warn("rejection of form %s: mail to %s not sent: %s", r->serial, r->email, reply ? reply : "?");
		goto out;
	}
	rc = 0;
out:
	free(reply);
	free(mid);
	free(subject);
	free(text);
	mail_msg_destroy(&m);
	return rc;
}

int rejection_letter_draw(struct notifier *n, sheet_doc_t *d, const struct rejection *r)
{
	char *body = rejection_text(r);
	struct sheet_letter l = { .name = r->recipient, .postal_code = r->postal, .address = r->address,
	    .title = REJECTION_LETTER_TITLE, .body = body, .reference = r->serial,
	    .date = (long long)n->now };
	int rc = sheet_doc_add_letter(d, &l);

	if (rc < 0)
		log_warn("rejection of form %s: the letter cannot be drawn", r->serial);
	free(body);
	return rc;
}

int rejection_letter_mark(struct notifier *n, const struct rejection *r, const char *batch)
{
	char obj[96];

	if (db_int(n->db, "UPDATE form_rejections SET notice_state = 'printed', batch = ?, printed_at = ?"
	    " WHERE serial = ? AND notice_state = 'waiting' RETURNING 1", "sis", batch, (int64_t)n->now,
	    r->serial) != 1) {
		log_err("rejection of form %s changed while its letter was being produced", r->serial);
		return -1;
	}
	snprintf(obj, sizeof obj, "form:%s", r->serial);
	return audit_append(n->db, "ra-notifier", "letter.produce", obj, "waiting", batch);
}

static struct rejection *rejections_load(struct notifier *n, const char *where, int *count)
{
	char *sql = xasprintf("SELECT serial, reason, note, recipient, email, postal_code, address, language"
	    " FROM form_rejections WHERE %s", where);
	sqlite3_stmt *q = db_prepare(n->db, sql);
	struct rejection *rows = NULL;

	*count = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		rows = xrealloc(rows, (size_t)(*count + 1) * sizeof *rows);
		rows[(*count)++] = (struct rejection){ col(q, 0), col(q, 1), col(q, 2), col(q, 3), col(q, 4),
		    col(q, 5), col(q, 6), col(q, 7) };
	}
	sqlite3_finalize(q);
	free(sql);
	return rows;
}

struct rejection *rejection_letters_waiting(struct notifier *n, int *count)
{
	return rejections_load(n, "notice_state = 'waiting' AND email IS NULL"
	    " ORDER BY coalesce(postal_code, ''), serial", count);
}

char *rejection_letter_first(struct notifier *n, const char *batch)
{
	sqlite3_stmt *q = db_prepare(n->db, "SELECT coalesce(postal_code, '') FROM form_rejections WHERE batch = ?"
	    " ORDER BY coalesce(postal_code, ''), serial LIMIT 1");
	char *postal = NULL;

	sqlite3_bind_text(q, 1, batch, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		postal = col(q, 0);
	sqlite3_finalize(q);
	return postal;
}

int rejection_letter_preview(struct notifier *n, const char *batch, const char *contact, const char *path)
{
	char *where = sqlite3_mprintf("batch = %Q ORDER BY coalesce(postal_code, ''), serial LIMIT 1", batch);
	int count = 0, rc = -1;
	struct rejection *r = rejections_load(n, where, &count);
	char *body = NULL;

	if (count != 1)
		goto out;
	body = rejection_text(r);
	struct sheet_letter l = { .name = r->recipient, .postal_code = r->postal, .address = r->address,
	    .title = REJECTION_LETTER_TITLE, .body = body, .reference = r->serial,
	    .date = db_int(n->db, "SELECT printed_at FROM form_rejections WHERE serial = ?", "s", r->serial) };
	rc = sheet_letter_preview_png(config_str(n->cfg, "notifier.font"),
	    config_str(n->cfg, "notifier.return_address"), contact, &l, 100, path);
out:
	free(body);
	rejections_free(r, count);
	sqlite3_free(where);
	return rc;
}

void rejections_free(struct rejection *rows, int count)
{
	for (int i = 0; i < count; i++)
		rejection_free(&rows[i]);
	free(rows);
}

int rejections_run(struct notifier *n)
{
	int failed = 0, done = 0, count, letters;
	struct rejection *rows = rejections_load(n, "notice_state = 'waiting' AND email IS NOT NULL"
	    " ORDER BY created_at, serial", &count);

	for (int i = 0; i < count; i++) {
		const struct rejection *r = &rows[i];
		if (n->dry_run) {
			printf("rejection\tform %s\t%s\n", r->serial, r->email);
			continue;
		}
		if (rejection_mail(n, r) < 0) {
			failed++;
			continue;
		}
		if (db_int(n->db, "UPDATE form_rejections SET notice_state = 'sent' WHERE serial = ? RETURNING 1",
		    "s", r->serial) != 1) {
			log_err("rejection of form %s: told, but not recorded: %s", r->serial, sqlite3_errmsg(n->db));
			failed++;
			continue;
		}
		done++;
	}
	if (count)
		log_info("rejections: %d mailed, %d failed", done, failed);
	letters = (int)db_int(n->db, "SELECT count(*) FROM form_rejections WHERE notice_state = 'waiting'"
	    " AND email IS NULL", "");
	if (letters > 0) {
		log_info("%d rejection letter(s) wait for the next postal batch (ra-notifier sheets)", letters);
		if (n->dry_run) {
			int lc;
			struct rejection *l = rejection_letters_waiting(n, &lc);
			for (int i = 0; i < lc; i++)
				printf("rejection\tform %s\tletter (next postal batch)\n", l[i].serial);
			rejections_free(l, lc);
		}
	}
	rejections_free(rows, count);
	return failed ? 1 : 0;
}
