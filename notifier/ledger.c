/*
 * ledger.c: the notice ledger (table notices) and the loop that sends what it holds.
 *
 * Order of events for one notice, and why:
 *   1. the row is inserted (state pending, a fixed Message-ID) in the transaction that
 *      decided the notice was due, so a rerun after a crash finds it instead of deciding
 *      again;
 *   2. attempts is bumped (its own statement) before the relay is contacted, so a notice
 *      that crashes the run is still counted;
 *   3. the relay accepts the message;
 *   4. one UPDATE marks it sent with the relay's reply. Between 3 and 4 is the only
 *      window in which a crash makes the notice go out twice.
 * Up to notifier.smtp_connections notices are between 2 and 4 at once, each on its own
 * connection to the relay; each is marked as soon as its own reply comes, so a crash
 * resends at most the notices then in flight, never one already marked.
 * A failure keeps the row pending with next_try pushed back (retry_days, doubling per
 * attempt); once the first attempt is older than undeliverable_after_days the row becomes
 * undeliverable and is reported in the admin summary, never retried.
 */
#include "notifier.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "template.h"
#include "util.h"

void stats_note(struct run_stats *st, const char *fmt, ...)
{
	va_list ap;
	char *line, *all;
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	all = xasprintf("%s%s\n", st->details ? st->details : "", line);
	free(st->details);
	free(line);
	st->details = all;
}

void stats_sent(struct run_stats *st, int64_t id, const char *to, const char *reply)
{
	char *line;
	size_t len;

	st->sent++;
	if (st->sent_listed >= STATS_SENT_LISTED)
		return;
	line = xasprintf("sent: notice %lld to %s: %s\n", (long long)id, to, reply);
	len = strlen(line);
	st->sent_list = xrealloc(st->sent_list, st->sent_len + len + 1);
	memcpy(st->sent_list + st->sent_len, line, len + 1);
	st->sent_len += len;
	st->sent_listed++;
	free(line);
}

void stats_clear(struct run_stats *st)
{
	free(st->sent_list);
	free(st->details);
	memset(st, 0, sizeof *st);
}

mail_sender_t *notifier_mail(struct notifier *n)
{
	struct mail_conf mc = { 0 };
	char *cainfo, *outbox, *pwfile, *pw = NULL;

	if (n->mail)
		return n->mail;
	cainfo = config_path(n->cfg, "notifier.smtp_cainfo");
	outbox = config_path(n->cfg, "notifier.outbox");
	pwfile = config_path(n->cfg, "notifier.smtp_password_file");
	mc.smtp_url = config_str(n->cfg, "notifier.smtp_url");
	mc.starttls = config_bool(n->cfg, "notifier.smtp_starttls");
	mc.cainfo = *cainfo ? cainfo : NULL;
	mc.user = config_str(n->cfg, "notifier.smtp_user");
	mc.timeout_s = config_int(n->cfg, "notifier.smtp_timeout_s");
	mc.connections = (int)config_int(n->cfg, "notifier.smtp_connections");
	mc.outbox = outbox;
	if (*mc.smtp_url && *mc.user) {
		size_t len;
		if (!*pwfile || !(pw = file_read(pwfile, &len))) {
			log_err("notifier.smtp_user is set but the password file %s cannot be read",
			    *pwfile ? pwfile : "(notifier.smtp_password_file is empty)");
			goto out;
		}
		pw[strcspn(pw, "\r\n")] = '\0';
		mc.password = pw;
	}
	n->mail = mail_sender_new(&mc);
out:
	if (pw) {
		OPENSSL_cleanse(pw, strlen(pw));
		free(pw);
	}
	free(cainfo);
	free(outbox);
	free(pwfile);
	return n->mail;
}

int64_t ledger_cursor(struct notifier *n, const char *name)
{
	int64_t position = db_int(n->db, "SELECT position FROM notifier_cursor WHERE name = ?", "s", name);
	return position < 0 ? 0 : position;
}

int ledger_cursor_move(struct notifier *n, const char *name, int64_t position)
{
	sqlite3_stmt *mv = db_prepare(n->db, "INSERT INTO notifier_cursor (name, position) VALUES (?, ?)"
	    " ON CONFLICT (name) DO UPDATE SET position = excluded.position");
	int ok = sqlite3_bind_text(mv, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_int64(mv, 2, position) == SQLITE_OK && sqlite3_step(mv) == SQLITE_DONE;

	if (!ok)
		log_err("notifier cursor %s: %s", name, sqlite3_errmsg(n->db));
	sqlite3_finalize(mv);
	return ok ? 0 : -1;
}

int64_t ledger_add(struct notifier *n, int64_t subscriber, const char *kind,
    const char *topic, const char *recipient)
{
	sqlite3_stmt *st = notifier_stmt(n,
	    "INSERT INTO notices (subscriber_id, kind, topic, recipient, next_try, created_at) "
	    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subscriber_id, topic, kind) DO NOTHING");
	int64_t id = -1;
	const char *at = strchr(n->from, '@');
	char rnd[9];

	sqlite3_bind_int64(st, 1, subscriber);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, topic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)n->now);
	sqlite3_bind_int64(st, 6, (int64_t)n->now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("ledger: cannot record a %s notice: %s", kind, sqlite3_errmsg(n->db));
		goto out;
	}
	if (sqlite3_changes(n->db) == 0) {
		id = 0;
		goto out;
	}
	id = sqlite3_last_insert_rowid(n->db);
	notifier_stmt_done(st);
	st = NULL;
	{
		unsigned char r[4];
		if (RAND_bytes(r, sizeof r) != 1) {
			log_err("ledger: random generator failed: no Message-ID for notice %lld", (long long)id);
			id = -1;
			goto out;
		}
		hex_encode(r, sizeof r, rnd);
	}
	char *mid = xasprintf("notice-%lld.%s.%s@%.*s", (long long)id, kind, rnd,
	    (int)strcspn(at ? at + 1 : "ra.invalid", ">"), at ? at + 1 : "ra.invalid");
	st = notifier_stmt(n, "UPDATE notices SET message_id = ? WHERE id = ?");
	sqlite3_bind_text(st, 1, mid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(n->db) != 1)
		id = -1;
	notifier_stmt_done(st);
	st = NULL;
	free(mid);
out:
	notifier_stmt_done(st);
	return id;
}

static int kind_listed(const char *kind, const char *const *kinds)
{
	for (; *kinds; kinds++)
		if (strcmp(kind, *kinds) == 0)
			return 1;
	return 0;
}

/*
 * Connections to the relay that may fail in a row before a run stops trying: a relay that
 * is down (or unreachable behind a firewall that drops, each attempt a whole connection
 * timeout) would otherwise cost every due notice an attempt and a timeout.
 */
#define RELAY_DOWN_AFTER 3

/* Push a failed notice back, or give up on it. */
static void ledger_failed(struct notifier *n, int64_t id, const char *reply, struct run_stats *st)
{
	int64_t attempts = db_int(n->db, "SELECT attempts FROM notices WHERE id = ?", "i", id);
	int64_t first = db_int(n->db, "SELECT first_try FROM notices WHERE id = ?", "i", id);
	int64_t days = config_int(n->cfg, "notifier.retry_days");
	int64_t give_up = config_int(n->cfg, "notifier.undeliverable_after_days") * 86400;
	int64_t delay = days * 86400;
	int dead = first >= 0 && (int64_t)n->now - first >= give_up;
	char *rcpt = NULL;
	sqlite3_stmt *q;

	for (int64_t a = 1; a < attempts && delay < give_up; a++)
		delay *= 2;
	q = db_prepare(n->db, "UPDATE notices SET state = ?, next_try = ?, smtp_reply = ? WHERE id = ?");
	sqlite3_bind_text(q, 1, dead ? "undeliverable" : "pending", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)n->now + delay);
	sqlite3_bind_text(q, 3, reply, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 4, id);
	if (sqlite3_step(q) != SQLITE_DONE)
		log_err("ledger: cannot record the failure of notice %lld: %s", (long long)id,
		    sqlite3_errmsg(n->db));
	sqlite3_finalize(q);
	q = db_prepare(n->db, "SELECT recipient FROM notices WHERE id = ?");
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) == SQLITE_ROW)
		rcpt = xstrdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	if (dead) {
		st->undeliverable++;
		stats_note(st, "undeliverable: notice %lld to %s after %lld attempts: %s",
		    (long long)id, rcpt ? rcpt : "?", (long long)attempts, reply);
		log_warn("notice %lld to %s is undeliverable: %s", (long long)id, rcpt ? rcpt : "?", reply);
	} else {
		st->failed++;
		stats_note(st, "failed (will retry): notice %lld to %s: %s", (long long)id,
		    rcpt ? rcpt : "?", reply);
	}
	free(rcpt);
}

/*
 * Prepare notice ID: count the attempt and compose it (in the caller's transaction). The
 * message, or NULL if the notice failed before reaching the relay (recorded as such).
 */
static mail_msg_t *ledger_prepare(struct notifier *n, mail_sender_t *snd, int64_t id,
    struct run_stats *st)
{
	char *why = NULL;
	mail_msg_t *m = compose_notice(n, id, &why);
	sqlite3_stmt *q = notifier_stmt(n, "UPDATE notices SET attempts = attempts + 1, "
	    "first_try = coalesce(first_try, ?) WHERE id = ?");
	int rc;

	sqlite3_bind_int64(q, 1, (int64_t)n->now);
	sqlite3_bind_int64(q, 2, id);
	rc = sqlite3_step(q) == SQLITE_DONE && sqlite3_changes(n->db) == 1 ? 0 : -1;
	notifier_stmt_done(q);
	if (rc < 0) {
		log_err("ledger: cannot update notice %lld", (long long)id);
		mail_msg_destroy(&m);
	} else if (!m) {
		ledger_failed(n, id, why, st);
	} else if (!snd) {
		ledger_failed(n, id, "no mail transport", st);
		mail_msg_destroy(&m);
	}
	free(why);
	return m;
}

/* Record the fate of the next notice mail_done hands back (in the caller's transaction). */
static void ledger_record(struct notifier *n, mail_sender_t *snd, struct run_stats *st)
{
	long long tag;
	mail_msg_t *m = NULL;
	char *reply = NULL;
	int64_t id;
	sqlite3_stmt *q;
	int rc;

	if (mail_done(snd, &tag, &m, &reply) < 0) {
		if (m)
			ledger_failed(n, (int64_t)tag, reply ? reply : "not sent", st);
		goto out;
	}
	id = (int64_t)tag;
	/* the window: the relay has the message; until this UPDATE lands, a crash resends it */
	q = notifier_stmt(n, "UPDATE notices SET state = 'sent', sent_at = ?, smtp_reply = ? WHERE id = ?");
	sqlite3_bind_int64(q, 1, (int64_t)n->now);
	sqlite3_bind_text(q, 2, reply, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, id);
	rc = sqlite3_step(q) == SQLITE_DONE && sqlite3_changes(n->db) == 1 ? 0 : -1;
	notifier_stmt_done(q);
	if (rc < 0) {
		log_err("notice %lld was accepted (%s) but could not be marked sent", (long long)id, reply);
		goto out;
	}
	log_info("notice %lld sent to %s: %s", (long long)id, mail_msg_first_to(m), reply);
	stats_sent(st, id, mail_msg_first_to(m), reply);
out:
	free(reply);
	mail_msg_destroy(&m);
}

/* Commit what a step recorded. 0, or -1 if the commit failed (logged, rolled back). */
static int ledger_commit(struct notifier *n, int began)
{
	if (began && db_commit(n->db) < 0) {
		log_err("ledger: cannot commit: %s", sqlite3_errmsg(n->db));
		db_rollback(n->db);
		return -1;
	}
	return 0;
}

int ledger_send_due(struct notifier *n, const char *const *kinds, struct run_stats *st)
{
	sqlite3_stmt *q = db_prepare(n->db, "SELECT id, kind FROM notices "
	    "WHERE state = 'pending' AND next_try <= ? ORDER BY id");
	int64_t *ids = NULL;
	size_t nids = 0, next = 0;
	mail_sender_t *snd;
	mail_msg_t **batch;
	int64_t *batch_id;
	int slots, began;

	sqlite3_bind_int64(q, 1, (int64_t)n->now);
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (!kind_listed((const char *)sqlite3_column_text(q, 1), kinds))
			continue;
		ids = xrealloc(ids, (nids + 1) * sizeof *ids);
		ids[nids++] = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	snd = nids ? notifier_mail(n) : NULL;
	slots = snd ? mail_slots(snd) : 1;
	batch = xcalloc((size_t)slots, sizeof *batch);
	batch_id = xcalloc((size_t)slots, sizeof *batch_id);
	/*
	 * While sending, commits need not wait for fsync: in WAL mode a commit survives the
	 * death of the process as soon as it is written, and only a power loss could undo
	 * the last few. Undoing a "sent" mark resends a notice; it never loses one. The
	 * fsync would otherwise sit inside the accept-to-UPDATE window and widen it.
	 */
	db_exec(n->db, "PRAGMA synchronous = NORMAL");
	/*
	 * Keep every connection busy. Each step, in one transaction: mark every notice whose
	 * relay has answered, count the attempts of as many new ones as there are free
	 * connections; commit; only then hand the new ones to the sender; wait for the next
	 * answer. So an answered notice is marked in the very commit that precedes any
	 * further submission (a crash still resends at most the notices in flight), and a
	 * notice is submitted only once its attempt is committed. No transaction is open
	 * while waiting for the relay.
	 */
	for (;;) {
		int k = 0;
		began = 0;
		while (snd && mail_finished(snd) > 0) {
			if (!began)
				began = db_begin(n->db) == 0;
			ledger_record(n, snd, st);
		}
		if (snd && next < nids && mail_unreachable(snd) >= RELAY_DOWN_AFTER) {
			/* The relay is down: the rest wait for the next run, their attempts uncounted,
			 * rather than each spending a connection timeout on it. */
			st->left += (int)(nids - next);
			stats_note(st, "not tried: %zu notice(s) left for the next run: the relay could "
			    "not be reached %d times in a row", nids - next, mail_unreachable(snd));
			log_err("the mail relay could not be reached %d times in a row: %zu notice(s) "
			    "left for the next run", mail_unreachable(snd), nids - next);
			next = nids;
		}
		while (next < nids && (!snd || mail_in_flight(snd) + k < slots)) {
			if (!began)
				began = db_begin(n->db) == 0;
			batch_id[k] = ids[next++];
			if ((batch[k] = ledger_prepare(n, snd, batch_id[k], st)))
				k++;
		}
		if (ledger_commit(n, began) < 0) {
			/* their attempts are not recorded: they must not reach the relay */
			for (int i = 0; i < k; i++) {
				stats_note(st, "not sent (ledger unavailable): notice %lld", (long long)batch_id[i]);
				st->failed++;
				mail_msg_destroy(&batch[i]);
			}
			k = 0;
		}
		for (int i = 0; i < k; i++)
			if (mail_submit(snd, batch[i], (long long)n->now, (long long)batch_id[i]) < 0) {
				ledger_failed(n, batch_id[i], "no free connection", st);
				mail_msg_destroy(&batch[i]);
			}
		if (!snd || mail_in_flight(snd) == 0) {
			if (next < nids)
				continue;
			break;
		}
		mail_done_wait(snd);
	}
	db_exec(n->db, "PRAGMA synchronous = FULL");
	free(batch);
	free(batch_id);
	free(ids);
	return 0;
}

int ledger_summary(struct notifier *n, const char *job, const struct run_stats *st)
{
	const char *admin = config_str(n->cfg, "notifier.admin_address");
	template_vars_t *v = template_vars_new();
	struct template_mail tm = { 0 };
	mail_msg_t *m = NULL;
	mail_sender_t *snd;
	char date[32], num[3][24], *reply = NULL, *details = NULL;
	int rc = -1;

	if (!*admin) {
		template_vars_destroy(&v);
		return 0;
	}
	snprintf(num[0], sizeof num[0], "%d", st->sent);
	snprintf(num[1], sizeof num[1], "%d", st->failed);
	snprintf(num[2], sizeof num[2], "%d", st->undeliverable);
	template_vars_set(v, "job", job);
	template_vars_set(v, "date", compose_date(n->now, date, sizeof date));
	template_vars_set(v, "sent", num[0]);
	template_vars_set(v, "failed", num[1]);
	template_vars_set(v, "undeliverable", num[2]);
	/* what failed first, then what was sent */
	details = xasprintf("%s%s%s", st->details ? st->details : "",
	    st->details && st->sent_list ? "\n" : "", st->sent_list ? st->sent_list : "");
	if (st->sent > st->sent_listed) {
		char *more = xasprintf("%s... and %d more sent (table notices lists them all)\n",
		    details, st->sent - st->sent_listed);
		free(details);
		details = more;
	}
	template_vars_set(v, "details", details);
	if (template_set_mail(n->tmpl, template_lang(config_str(n->cfg, "language")),
	    "summary", v, &tm) < 0)
		goto out;
	m = mail_msg_new();
	if (mail_msg_set_from(m, n->from) < 0 || mail_msg_add_to(m, NULL, admin) < 0) {
		log_err("summary: notifier.from or notifier.admin_address is not an address");
		goto out;
	}
	mail_msg_set_subject(m, tm.subject);
	mail_msg_set_text(m, tm.text);
	if (!(snd = notifier_mail(n)) || mail_send(snd, m, (long long)n->now, &reply) < 0) {
		log_err("summary to %s not sent: %s", admin, reply ? reply : "no mail transport");
		goto out;
	}
	rc = 0;
out:
	free(reply);
	free(details);
	mail_msg_destroy(&m);
	template_mail_clear(&tm);
	template_vars_destroy(&v);
	return rc;
}
