/*
 * compose.c: turn a ledger row into a mail. Everything is read again from ra.db at send
 * time, so a retry days later says the same thing as the first attempt (same
 * certificates, same Message-ID) and nothing but the ledger row needs to be kept.
 *
 * Kinds: renewal and renewal2 (certificates in notice_certificates), revocation,
 * suspension and resume (the status events in notice_events), sheet (topic "sheet:SERIAL",
 * the encrypted PDF from sheets_dir/electronic/), password_reset and password_change
 * (topic "audit:ID"). Every mail carries the service's contact details (service.*) and
 * the website address, so a template can always say where to turn.
 */
#include "notifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "sheet.h"
#include "template.h"
#include "util.h"

/*
 * The certificates a notice covers. notice_certificates has no index on notice_id, and a
 * lookup by it would read the whole table for every mail (a run of N notices would cost
 * N squared). So a renewal's few certificates are found through certificates_subscriber
 * and checked against its primary key (serial, kind); a confirmation's through
 * notice_events_notice.
 */
static const char certs_renewal_sql[] =
    "SELECT c.serial, c.usage, c.not_after FROM notices n "
    "JOIN certificates c ON c.subscriber_id = n.subscriber_id "
    "JOIN notice_certificates nc ON nc.serial = c.serial AND nc.kind = n.kind "
    "WHERE n.id = ?1 AND nc.notice_id = ?1 ORDER BY c.usage DESC";
static const char certs_status_sql[] =
    "SELECT c.serial, c.usage, c.not_after FROM notice_events ne "
    "JOIN status_events e ON e.id = ne.event_id "
    "JOIN certificates c ON c.serial = e.serial "
    "WHERE ne.notice_id = ?1 ORDER BY c.usage DESC";

char *compose_date(time_t t, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
	return buf;
}

static char *col_dup(sqlite3_stmt *q, int i)
{
	const unsigned char *s = sqlite3_column_text(q, i);
	return xstrdup(s ? (const char *)s : "");
}

/* One line per certificate, in the subscriber's language. */
static char *cert_lines(struct notifier *n, const char *sql, int64_t id, int en, time_t *first_expiry)
{
	sqlite3_stmt *q = notifier_stmt(n, sql);
	char *all = xstrdup(""), date[16];

	*first_expiry = 0;
	sqlite3_bind_int64(q, 1, id);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *serial = (const char *)sqlite3_column_text(q, 0);
		const char *usage = (const char *)sqlite3_column_text(q, 1);
		time_t na = (time_t)sqlite3_column_int64(q, 2);
		int sig = strcmp(usage, "signature") == 0;
		char *line;
		if (!*first_expiry || na < *first_expiry)
			*first_expiry = na;
		compose_date(na, date, sizeof date);
		if (en)
			line = xasprintf("%s%s certificate, serial %s, valid until %s", *all ? "\n" : "",
			    sig ? "Signature" : "Encryption", serial, date);
		else
			line = xasprintf("%s%s　序號 %s　有效期限至 %s", *all ? "\n" : "",
			    sig ? "簽章憑證" : "加密憑證", serial, date);
		char *grown = xasprintf("%s%s", all, line);
		free(all);
		free(line);
		all = grown;
	}
	notifier_stmt_done(q);
	return all;
}

static const char *password_rule_text(struct notifier *n, int en)
{
	int postal = strcmp(config_str(n->cfg, "notifier.pdf_password_rule"), "id4-postal") == 0;
	if (postal)
		return en ? "the last 4 characters of your ID number, then your postal code" :
		    "身分證統一編號（或統一編號）末 4 碼，接著郵遞區號";
	return en ? "your national ID number (or business number), letters in capitals" :
	    "您的身分證統一編號（或統一編號），英文字母大寫";
}

/* Attach the stored, encrypted sheet of topic "sheet:SERIAL" and set the sheet's values. */
static int compose_sheet(struct notifier *n, const char *topic, template_vars_t *v,
    mail_msg_t *m, int en, char **why)
{
	const char *serial = topic + 6;
	char *path = xasprintf("%s/electronic/%s.pdf", n->sheets_dir, serial), *fname;
	char *kind = NULL;
	size_t len;
	char *pdf = file_read(path, &len);
	sqlite3_stmt *q = db_prepare(n->db, "SELECT kind FROM sheets WHERE serial = ?");
	int rc = -1;

	sqlite3_bind_text(q, 1, serial, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		kind = col_dup(q, 0);
	sqlite3_finalize(q);
	if (!kind || !pdf) {
		*why = xasprintf("sheet %s: %s", serial, kind ? "its encrypted file is missing" : "no such sheet");
		goto out;
	}
	template_vars_set(v, "sheet_serial", serial);
	template_vars_set(v, "sheet_title", en ? (strcmp(kind, "pin") == 0 ? "card PIN sheet" :
	    "website password sheet") : sheet_title(kind));
	template_vars_set(v, "password_rule", password_rule_text(n, en));
	fname = xasprintf("%s.pdf", serial);
	mail_msg_attach(m, fname, "application/pdf", pdf, len);
	free(fname);
	rc = 0;
out:
	free(kind);
	free(pdf);
	free(path);
	return rc;
}

char *notifier_contact(struct notifier *n)
{
	return xasprintf("客服專線 Phone %s　網站 Website %s　服務時間 %s（%s）",
	    config_str(n->cfg, "service.phone"), config_str(n->cfg, "service.website"),
	    config_str(n->cfg, "service.hours"), config_str(n->cfg, "service.hours_en"));
}

/* The service's phone, website and hours in the subscriber's language. */
static void compose_contact(struct notifier *n, template_vars_t *v, int en)
{
	template_vars_set(v, "phone", config_str(n->cfg, "service.phone"));
	template_vars_set(v, "website", config_str(n->cfg, "service.website"));
	template_vars_set(v, "hours", config_str(n->cfg, en ? "service.hours_en" : "service.hours"));
}

mail_msg_t *compose_notice(struct notifier *n, int64_t id, char **why)
{
	sqlite3_stmt *q = notifier_stmt(n,
	    /* An organization's mail is addressed to its contact person, not to its name. */
	    "SELECT n.kind, n.topic, n.recipient, n.message_id, n.created_at, coalesce(s.contact_person, s.name), s.language, "
	    "  (SELECT a.id FROM accounts a WHERE a.subscriber_id = s.id) "
	    "FROM notices n JOIN subscribers s ON s.id = n.subscriber_id WHERE n.id = ?");
	template_vars_t *v = template_vars_new();
	struct template_mail tm = { 0 };
	mail_msg_t *m = NULL;
	char *kind = NULL, *topic = NULL, *rcpt = NULL, *mid = NULL, *name = NULL, *lang = NULL,
	    *account = NULL, *certs = NULL, date[16];
	time_t created = 0, expiry = 0;
	int en, ok = 0;

	*why = NULL;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		*why = xasprintf("notice %lld or its subscriber is gone", (long long)id);
		goto out;
	}
	kind = col_dup(q, 0);
	topic = col_dup(q, 1);
	rcpt = col_dup(q, 2);
	mid = col_dup(q, 3);
	created = (time_t)sqlite3_column_int64(q, 4);
	name = col_dup(q, 5);
	lang = col_dup(q, 6);
	account = col_dup(q, 7);
	/*
	 * Done with the row: a statement left open holds a read snapshot of the WAL through
	 * the rest of the composition, and the automatic checkpoint that runs meanwhile can
	 * then never let the WAL start over: it would grow by every notice of the run.
	 */
	notifier_stmt_done(q);
	q = NULL;
	en = strcmp(template_lang(lang), "en") == 0;
	m = mail_msg_new();
	template_vars_set(v, "name", name);
	template_vars_set(v, "account_id", *account ? account : "-");
	template_vars_set(v, "date", compose_date(created, date, sizeof date));
	compose_contact(n, v, en);
	if (strncmp(kind, "renewal", 7) == 0) {
		certs = cert_lines(n, certs_renewal_sql, id, en, &expiry);
		template_vars_set(v, "expiry", compose_date(expiry, date, sizeof date));
	} else if (strcmp(kind, "sheet") == 0) {
		if (compose_sheet(n, topic, v, m, en, why) < 0)
			goto out;
	} else {
		certs = cert_lines(n, certs_status_sql, id, en, &expiry);
	}
	template_vars_set(v, "certificates", certs ? certs : "");
	if (template_set_mail(n->tmpl, template_lang(lang), strcmp(kind, "renewal2") == 0 ?
	    "renewal" : kind, v, &tm) < 0) {
		*why = xasprintf("template %s could not be expanded", kind);
		goto out;
	}
	if (mail_msg_set_from(m, n->from) < 0) {
		*why = xstrdup("notifier.from is not an address");
		goto out;
	}
	if (mail_msg_add_to(m, name, rcpt) < 0) {
		*why = xasprintf("the subscriber's address \"%s\" is not a mail address", rcpt);
		goto out;
	}
	mail_msg_set_id(m, mid);
	mail_msg_set_subject(m, tm.subject);
	mail_msg_set_text(m, tm.text);
	mail_msg_set_html(m, tm.html);
	ok = 1;
out:
	notifier_stmt_done(q);
	if (!ok)
		mail_msg_destroy(&m);
	template_mail_clear(&tm);
	template_vars_destroy(&v);
	free(kind); free(topic); free(rcpt); free(mid); free(name); free(lang);
	free(account); free(certs);
	return m;
}
