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
 * message. A row without one becomes a letter for the print room: a PDF page in the
 * sheets' layout (sheet.c: the address in the envelope window), letters/rejection-SERIAL.pdf
 * in the sheets folder.
 * Run by `ra-notifier notices`, after the status confirmations.
 */
#include "notifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "form_reject.h"
#include "log.h"
#include "sheet.h"
#include "util.h"

struct rejection {
	char *serial, *reason, *note, *recipient, *email, *postal, *address, *language;
};

static char *col(sqlite3_stmt *q, int i)
{
	const unsigned char *s = sqlite3_column_text(q, i);
	return s ? xstrdup((const char *)s) : NULL;
}

static void rejection_free(struct rejection *r)
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

static int rejection_letter(struct notifier *n, const struct rejection *r)
{
	char *dir = xasprintf("%s/letters", n->sheets_dir), *path = xasprintf("%s/rejection-%s.pdf", dir, r->serial);
	char *body = rejection_text(r);
	sheet_doc_t *d = sheet_doc_new(config_str(n->cfg, "notifier.font"), config_str(n->cfg, "notifier.return_address"));
	char *contact = notifier_contact(n);
	struct sheet_letter l = { .name = r->recipient, .postal_code = r->postal, .address = r->address,
	    .title = "申請書未獲受理通知　Application form not accepted", .body = body, .reference = r->serial,
	    .date = (long long)n->now };
	unsigned char *pdf = NULL;
	size_t len = 0;
	int rc = -1;

	if (d)
		sheet_doc_set_contact(d, contact);
	free(contact);
	if (!d || sheet_doc_add_letter(d, &l) < 0 || sheet_doc_finish(d, &pdf, &len) < 0)
		goto out;
	if (mkdir_p(dir, 0700) < 0 || file_write_atomic(path, pdf, len, 0600) < 0) {
		log_warn("rejection of form %s: cannot write the letter %s", r->serial, path);
		goto out;
	}
	rc = 0;
out:
	free(pdf);
	sheet_doc_destroy(&d);
	free(body);
	free(path);
	free(dir);
	return rc;
}

int rejections_run(struct notifier *n)
{
	sqlite3_stmt *q = db_prepare(n->db, "SELECT serial, reason, note, recipient, email, postal_code, address,"
	    " language FROM form_rejections WHERE notice_state = 'waiting' ORDER BY created_at, serial");
	int failed = 0, done = 0;
	struct rejection *rows = NULL;
	size_t count = 0;

	while (sqlite3_step(q) == SQLITE_ROW) {
		rows = xrealloc(rows, (count + 1) * sizeof *rows);
		rows[count++] = (struct rejection){ col(q, 0), col(q, 1), col(q, 2), col(q, 3), col(q, 4),
		    col(q, 5), col(q, 6), col(q, 7) };
	}
	sqlite3_finalize(q);
	for (size_t i = 0; i < count; i++) {
		const struct rejection *r = &rows[i];
		const char *state = r->email ? "sent" : "printed";
		if (n->dry_run) {
			printf("rejection\tform %s\t%s\n", r->serial, r->email ? r->email : "letter");
			continue;
		}
		if ((r->email ? rejection_mail(n, r) : rejection_letter(n, r)) < 0) {
			failed++;
			continue;
		}
		if (db_int(n->db, "UPDATE form_rejections SET notice_state = ? WHERE serial = ? RETURNING 1",
		    "ss", state, r->serial) != 1) {
			log_err("rejection of form %s: told, but not recorded: %s", r->serial, sqlite3_errmsg(n->db));
			failed++;
			continue;
		}
		done++;
	}
	if (count)
		log_info("rejections: %d told, %d failed", done, failed);
	for (size_t i = 0; i < count; i++)
		rejection_free(&rows[i]);
	free(rows);
	return failed ? 1 : 0;
}
