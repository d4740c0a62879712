/*
 * ctl_report.c: `ra-ctl report --day YYYY-MM-DD | --month YYYY-MM [--format csv|pdf]
 * [--out FILE] [--lang en|zh-TW]`: what the counter, the card room and the notifier did
 * in a day or a month, per officer where an officer acted.
 *
 * Rules kept here: ra.db is opened read-only (db_open_readonly), as `audit verify` does,
 * so the report runs on the RA host beside the daemons and changes nothing. Every count
 * comes from the audit chain (the RA clock's time of each step, the officer as its actor)
 * except the mails, which come from the notice ledger: sent by the day they were sent,
 * failed (still pending) and undeliverable by the day of their first attempt. Periods are
 * UTC days, like every date the RA prints. Each item is always listed, with a total row
 * (detail "") and its breakdown (officer, revocation reason), so two reports compare line
 * by line. The CSV keeps stable item keys beside the label in the chosen language; the
 * PDF (ctl_report_pdf.c) prints the labels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "db.h"
#include "log.h"
#include "util.h"

/* The officer's id from an audit actor "ID (cert SERIAL)"; other actors as they are. */
#define ACTOR_ID "CASE WHEN instr(actor, ' (cert ') > 0 THEN substr(actor, 1, instr(actor, ' (cert ') - 1) ELSE actor END"

/*
 * Each item: its key, its labels, and the query giving (detail, count) rows for the
 * period ?1 <= at < ?2. Detail "" is the total; other rows break it down.
 */
static const struct report_item {
	const char *key, *en, *zh, *sql;
} report_items[] = {
	{ "forms.keyed", "Forms keyed", "表單登打",
	  "SELECT " ACTOR_ID ", count(*) FROM audit WHERE action = 'form.keyed' AND at >= ?1 AND at < ?2 GROUP BY 1" },
	{ "forms.second_keyed", "Forms second-keyed", "表單覆核登打",
	  "SELECT " ACTOR_ID ", count(*) FROM audit WHERE action = 'form.verified' AND at >= ?1 AND at < ?2 GROUP BY 1" },
	{ "forms.approved", "Forms approved", "表單核准",
	  "SELECT " ACTOR_ID ", count(*) FROM audit WHERE action = 'form.approved' AND at >= ?1 AND at < ?2 GROUP BY 1" },
	{ "forms.rejected", "Forms rejected", "表單退件",
	  "SELECT " ACTOR_ID ", count(*) FROM audit WHERE action LIKE 'form.reject%' AND at >= ?1 AND at < ?2 GROUP BY 1" },
	{ "certs.issued", "Certificates issued", "憑證簽發",
	  "SELECT '', count(*) FROM audit WHERE action = 'cert.issued' AND at >= ?1 AND at < ?2" },
	{ "certs.revoked", "Certificates revoked (by reason)", "憑證廢止（依原因）",
	  "SELECT coalesce(c.reason, 'unspecified'), count(*) FROM audit a "
	  "LEFT JOIN certificates c ON c.serial = substr(a.object, 6) "
	  "WHERE a.action = 'cert.revoked' AND a.at >= ?1 AND a.at < ?2 GROUP BY 1" },
	{ "certs.held", "Certificates held", "憑證停用",
	  "SELECT '', count(*) FROM audit WHERE action = 'cert.held' AND at >= ?1 AND at < ?2" },
	{ "certs.resumed", "Certificates resumed", "憑證復用",
	  "SELECT '', count(*) FROM audit WHERE action = 'cert.released' AND at >= ?1 AND at < ?2" },
	{ "cards.personalized", "Cards personalized", "卡片製作完成",
	  "SELECT " ACTOR_ID ", count(*) FROM audit WHERE action = 'order.state' AND after = 'personalized' "
	  "AND at >= ?1 AND at < ?2 GROUP BY 1" },
	{ "cards.failed", "Cards failed", "卡片製作失敗",
	  "SELECT " ACTOR_ID ", count(*) FROM audit WHERE action = 'order.state' AND after = 'approved' "
	  "AND before IN ('claimed', 'issued') AND at >= ?1 AND at < ?2 GROUP BY 1" },
	{ "cards.dispatched", "Cards dispatched (counter or mail)", "卡片交付（櫃檯或郵寄）",
	  "SELECT " ACTOR_ID ", count(*) FROM audit WHERE action = 'card.dispatch' "
	  "AND (after = 'counter' OR after LIKE 'mailed %') AND at >= ?1 AND at < ?2 GROUP BY 1" },
	{ "cards.returned", "Cards returned", "卡片退回",
	  "SELECT " ACTOR_ID ", count(*) FROM audit WHERE action = 'card.dispatch' "
	  "AND after IN ('returned', 'set_aside') AND at >= ?1 AND at < ?2 GROUP BY 1" },
	{ "notices.sent", "Notices sent", "通知已寄出",
	  "SELECT kind, count(*) FROM notices WHERE state = 'sent' AND sent_at >= ?1 AND sent_at < ?2 GROUP BY 1" },
	{ "notices.failed", "Notices failed (to be retried)", "通知寄送失敗（待重試）",
	  "SELECT kind, count(*) FROM notices WHERE state = 'pending' AND attempts > 0 "
	  "AND first_try >= ?1 AND first_try < ?2 GROUP BY 1" },
	{ "notices.undeliverable", "Notices undeliverable", "通知無法投遞",
	  "SELECT kind, count(*) FROM notices WHERE state = 'undeliverable' "
	  "AND first_try >= ?1 AND first_try < ?2 GROUP BY 1" },
	{ "accounts.lockouts", "Accounts locked", "帳號鎖定",
	  "SELECT '', count(*) FROM audit WHERE action = 'account.locked' AND at >= ?1 AND at < ?2" },
	{ "accounts.resets", "Website password resets", "網站密碼重設",
	  "SELECT '', count(*) FROM audit WHERE action = 'account.password_set' AND after = 'reset' "
	  "AND at >= ?1 AND at < ?2" },
};

/* The period of DAY (YYYY-MM-DD) or MONTH (YYYY-MM) as [from, to) in UTC. 0/-1. */
static int report_period(const char *day, const char *month, struct ctl_report *r)
{
	struct tm tm = { 0 };
	char *end;

	if (!!day == !!month)
		return -1;
	end = strptime(day ? day : month, day ? "%Y-%m-%d" : "%Y-%m", &tm);
	if (!end || *end || tm.tm_year < 100)
		return -1;
	if (!day)
		tm.tm_mday = 1;
	r->from = timegm(&tm);
	if (day) {
		r->to = r->from + 86400;
	} else {
		tm.tm_mon++;
		r->to = timegm(&tm);
	}
	snprintf(r->period, sizeof r->period, "%s", day ? day : month);
	r->monthly = !day;
	return 0;
}

static void report_add(struct ctl_report *r, const struct report_item *it, const char *detail, long long n)
{
	r->rows = xrealloc(r->rows, (size_t)(r->nrows + 1) * sizeof *r->rows);
	r->rows[r->nrows++] = (struct ctl_report_row){ it->key, it->en, it->zh, xstrdup(detail), n };
}

/* Fill R from DB for R's period. 0/-1. */
static int report_collect(sqlite3 *db, struct ctl_report *r)
{
	for (size_t i = 0; i < ARRAY_LEN(report_items); i++) {
		const struct report_item *it = &report_items[i];
		sqlite3_stmt *q = db_prepare(db, it->sql);
		long long total = 0;
		int first = r->nrows, rc;

		if (!q)
			return -1;
		sqlite3_bind_int64(q, 1, (int64_t)r->from);
		sqlite3_bind_int64(q, 2, (int64_t)r->to);
		report_add(r, it, "", 0);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			const char *detail = (const char *)sqlite3_column_text(q, 0);
			long long n = sqlite3_column_int64(q, 1);
			total += n;
			if (detail && *detail && n > 0)
				report_add(r, it, detail, n);
		}
		sqlite3_finalize(q);
		if (rc != SQLITE_DONE) {
			log_err("report: %s: %s", it->key, sqlite3_errmsg(db));
			return -1;
		}
		r->rows[first].count = total;
	}
	return 0;
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

static int report_csv(const struct ctl_report *r, int zh, FILE *f)
{
	fprintf(f, "period,item,label,detail,count\r\n");
	for (int i = 0; i < r->nrows; i++) {
		const struct ctl_report_row *row = &r->rows[i];
		fprintf(f, "%s,%s,", r->period, row->key);
		csv_field(f, zh ? row->zh : row->en, 0);
		csv_field(f, row->detail, 0);
		fprintf(f, "%lld\r\n", row->count);
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

int ctl_report(const config_t *cfg, const struct ctl_report_opts *o)
{
	char *path = config_path(cfg, "queue.db");
	const char *lang = o->lang ? o->lang : config_str(cfg, "language");
	const char *format = o->format ? o->format : "csv";
	struct ctl_report r = { 0 };
	sqlite3 *db = NULL;
	FILE *f = NULL;
	int rc = 1, zh;

	if (report_period(o->day, o->month, &r) < 0) {
		fprintf(stderr, "ra-ctl: report needs --day YYYY-MM-DD or --month YYYY-MM (one of them)\n");
		rc = 2;
		goto out;
	}
	if (strcmp(lang, "en") != 0 && strcmp(lang, "zh-TW") != 0) {
		fprintf(stderr, "ra-ctl: --lang must be en or zh-TW, not '%s'\n", lang);
		rc = 2;
		goto out;
	}
	zh = strcmp(lang, "zh-TW") == 0;
	if (strcmp(format, "csv") != 0 && strcmp(format, "pdf") != 0) {
		fprintf(stderr, "ra-ctl: --format must be csv or pdf, not '%s'\n", format);
		rc = 2;
		goto out;
	}
	if (strcmp(format, "pdf") == 0 && !o->out) {
		fprintf(stderr, "ra-ctl: a PDF report needs --out FILE\n");
		rc = 2;
		goto out;
	}
	if (!(db = db_open_readonly(path))) {
		fprintf(stderr, "ra-ctl: cannot open %s\n", path);
		goto out;
	}
	if (report_collect(db, &r) < 0)
		goto out;
	if (strcmp(format, "pdf") == 0) {
		if (ctl_report_pdf(&r, zh, config_str(cfg, "notifier.font"), o->out) < 0)
			goto out;
		printf("%s\n", o->out);
	} else {
		f = o->out ? fopen(o->out, "w") : stdout;
		if (!f || report_csv(&r, zh, f) < 0) {
			fprintf(stderr, "ra-ctl: cannot write %s\n", o->out ? o->out : "the report");
			goto out;
		}
	}
	rc = 0;
out:
	if (f && f != stdout)
		fclose(f);
	for (int i = 0; i < r.nrows; i++)
		free(r.rows[i].detail);
	free(r.rows);
	if (db)
		sqlite3_close(db);
	free(path);
	return rc;
}
