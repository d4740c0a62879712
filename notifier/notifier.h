/*
 * notifier.h: what the parts of ra-notifier share: the run context (configuration,
 * ra.db, the mail sender, the one clock) and the commands' entry points.
 *
 * The notice ledger (table notices) is the notifier's memory: a row per (subscriber,
 * topic, kind) is committed before its mail is sent, and marked sent by a single UPDATE
 * right after the relay accepts it. A crash between the relay's acceptance and that
 * UPDATE is the one way a notice can go out twice; the resent mail then carries the
 * same Message-ID, so readers see it is the same message.
 */
#ifndef RA_NOTIFIER_H
#define RA_NOTIFIER_H

#include <sqlite3.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "mail.h"
#include "template.h"

/* Statements kept for the run (stmts.c). */
#define NOTIFIER_STMTS 16

struct notifier {
	config_t *cfg;
	sqlite3 *db;
	mail_sender_t *mail;		/* opened on first use */
	char *templates;		/* notifier.templates_dir */
	template_set_t *tmpl;		/* its templates, each read once per run */
	char *sheets_dir;
	const char *from;
	time_t now;
	int dry_run;
	struct { const char *sql; sqlite3_stmt *st; } stmts[NOTIFIER_STMTS];
	int nstmts;
};

struct run_stats {
	int sent, failed, undeliverable;
	int left;			/* not tried: the relay could not be reached (next run) */
	char *details;			/* one line per failure, for the admin summary */
	char *sent_list;		/* one line per sent notice, up to STATS_SENT_LISTED */
	size_t sent_len;
	int sent_listed;
};

/* The admin summary names this many sent notices; the rest are counted (the ledger has all). */
#define STATS_SENT_LISTED 1000

/* Add a line to the summary details. */
void stats_note(struct run_stats *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Count a sent notice, and list it in the summary while the list is short enough. */
void stats_sent(struct run_stats *st, int64_t id, const char *to, const char *reply);
void stats_clear(struct run_stats *st);

/* ---- ledger.c ---- */
/*
 * Record a notice in the current transaction. Returns its id, 0 if a notice for
 * (SUBSCRIBER, TOPIC, KIND) already exists, -1 on error.
 */
int64_t ledger_add(struct notifier *n, int64_t subscriber, const char *kind,
    const char *topic, const char *recipient);
/* Where the planner NAME ("status", "password") stopped reading its events (0: nothing yet). */
int64_t ledger_cursor(struct notifier *n, const char *name);
/* Move planner NAME's cursor to POSITION in the current transaction. 0/-1. */
int ledger_cursor_move(struct notifier *n, const char *name, int64_t position);
/* Send every pending notice of the given KINDS (NULL-terminated) whose time has come. 0/-1. */
int ledger_send_due(struct notifier *n, const char *const *kinds, struct run_stats *st);
/* Mail the run's summary to notifier.admin_address (if set). 0/-1. */
int ledger_summary(struct notifier *n, const char *job, const struct run_stats *st);
/* The mail sender, created on first use. NULL on failure (logged). */
mail_sender_t *notifier_mail(struct notifier *n);

/* ---- stmts.c ---- */
/* SQL's statement, prepared on first use and kept; reset, bindings cleared. */
sqlite3_stmt *notifier_stmt(struct notifier *n, const char *sql);
/* Reset Q as soon as its rows are read (it must not hold a read snapshot). Accepts NULL. */
void notifier_stmt_done(sqlite3_stmt *q);
/* Finalize every kept statement (before ra.db is closed). */
void notifier_stmts_destroy(struct notifier *n);

/* ---- compose.c ---- */
/* Build the mail of notice ID from the ledger and ra.db. NULL with *why (malloc'd). */
mail_msg_t *compose_notice(struct notifier *n, int64_t id, char **why);
/* The service's contact details in both languages, one line (malloc'd), for sheets. */
char *notifier_contact(struct notifier *n);
/* "YYYY-MM-DD" of T (UTC) into BUF (at least 11 bytes). */
char *compose_date(time_t t, char *buf, size_t len);

/* ---- renewals.c ---- */
/* The renewal scan and its mails. 0 if every due notice was sent, 1 if some failed, -1 on error. */
int renewals_run(struct notifier *n);

/* ---- notices.c ---- */
/* Revocation, suspension, resume and password confirmations (and sheet mails). 0/1/-1 as above. */
int notices_run(struct notifier *n);

/* ---- rejections.c ---- */
/* Mail applicants of rejected forms who gave an e-mail address. 0, 1 if some failed. */
int rejections_run(struct notifier *n);
/* A rejected form whose applicant is told (a form_rejections row). */
struct rejection {
	char *serial, *reason, *note, *recipient, *email, *postal, *address, *language;
};
/* The rejections told by letter (no e-mail) not yet in a batch, by postal code. */
struct rejection *rejection_letters_waiting(struct notifier *n, int *count);
void rejection_free(struct rejection *r);
void rejections_free(struct rejection *rows, int count);
/* Add R's letter as a page of D (a sheet.h document). 0/-1 (logged). */
typedef struct sheet_doc sheet_doc_t;
int rejection_letter_draw(struct notifier *n, sheet_doc_t *d, const struct rejection *r);
/* The postal code of print batch BATCH's first letter ("" if it has none), or NULL if the
 * batch has no letter. Caller frees. */
char *rejection_letter_first(struct notifier *n, const char *batch);
/* Batch BATCH's first letter as a PNG at PATH, dated when it was printed. 0/-1 (logged). */
int rejection_letter_preview(struct notifier *n, const char *batch, const char *contact, const char *path);
/* In the current transaction: R's letter is in print batch BATCH; audited. 0/-1. */
int rejection_letter_mark(struct notifier *n, const struct rejection *r, const char *batch);

/* ---- printed.c ---- */
/* Batch NAME is on paper (OFFICER saw it): shred its print files and previews. 0/-1. */
int printed_confirm(struct notifier *n, const char *name, const char *officer);
/* Shred the print files of batches produced more than notifier.reprint_window_hours ago. 0/-1. */
int printed_expire(struct notifier *n);
/* sheets_dir/NAME-preview.png: batch NAME's first page with the secret masked. 0/-1. */
int printed_preview(struct notifier *n, const char *name);

/* ---- passwords.c ---- */
/* Plan the confirmations of password resets and website password changes (from the
 * audit chain, after cursor "password") in one transaction. 0/-1. */
int passwords_plan(struct notifier *n, int *planned);

/* ---- sheets.c ---- */
struct sheets_opts {
	const char *batch;	/* batch name for the postal PDF (NULL: post-YYYYMMDD[-N]) */
	const char *sheet;	/* produce only this sheet serial */
	int reprint;		/* a produced sheet again, from its stored file */
	const char *officer;	/* who asked for the reprint, or saw the batch printed (proven, audited) */
	const char *credential;	/* that officer's credential (--credential; NULL: the default) */
	const char *passphrase_file; /* its passphrase or PIN (--passphrase-file; NULL: asked) */
	const char *printed;	/* this batch printed: shred its print files */
	const char *preview;	/* write this batch's first page as a PNG, secret masked */
};
/* Produce waiting sheets. 0 if all were produced (and mailed), 1 if some failed, -1 on error. */
int sheets_run(struct notifier *n, const struct sheets_opts *o);

/* ---- run_metrics.c ---- */
/* Write COMMAND's metrics textfile: when it ran, whether it did all (OK), how long. 0/-1. */
int notifier_metrics_write(const config_t *cfg, const char *command, int ok, int64_t duration_ms);

#endif
