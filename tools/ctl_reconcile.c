/*
 * ctl_reconcile.c: `ra-ctl reconcile`: signer.db and ra.db compared certificate by
 * certificate, with what to do about each difference.
 *
 * The two ledgers are written by different processes (often on different hosts), so
 * after a crash or a restore from backups of different moments they may disagree. Each
 * certificate known to one side only, or with another status on each side, is listed
 * with its likely cause and the operator's next step. A difference whose job is still
 * queued or leased is in flight and settles by itself when the workers run it (the
 * signer answers a request id it has seen with the same certificate). Both databases
 * are opened read-only; signer.db may be a copy brought from the signer host
 * (--signer-db). Exit status: 0 if both agree, 1 if anything is listed.
 */
#include "ctl.h"
#include "log.h"
#include "util.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void rc_usage(int code)
{
	printf("usage: ra-ctl [-c CONFIG] reconcile [--signer-db FILE]\n"
	       "\n"
	       "Compare signer.db (the deployment's, or FILE: a copy from the signer host) with ra.db\n"
	       "and list every certificate known to one side only or with a different status on each,\n"
	       "with what to do about it. Exit status 0 if they agree, 1 if anything is listed.\n");
	exit(code);
}

/* The state of job ID in ra.db, or NULL (no such job). Static buffer. */
static const char *rc_job_state(sqlite3 *db, long long id)
{
	static char state[16];
	sqlite3_stmt *st;
	const char *r = NULL;
	if (id <= 0 || sqlite3_prepare_v2(db, "SELECT state FROM jobs WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(state, sizeof state, "%s", (const char *)sqlite3_column_text(st, 0));
		r = state;
	}
	sqlite3_finalize(st);
	return r;
}

/* What to do about a certificate the signer issued and ra.db does not hold. */
static void rc_signer_only(sqlite3 *db, const char *serial, const char *request_id, const char *status)
{
	long long job = 0;
	const char *state;

	sscanf(request_id, "job%lld.", &job);
	state = rc_job_state(db, job);
	printf("%s  signer only (%s, request %s): ", serial, status, request_id);
	if (state && (strcmp(state, "queued") == 0 || strcmp(state, "leased") == 0))
		printf("in flight: job %lld stores it when it runs (ra-ctl up); nothing to do\n", job);
	else if (strcmp(status, "revoked") == 0)
		printf("revoked, never used by the RA; nothing to do\n");
	else if (state && strcmp(state, "failed") == 0)
		printf("job %lld was parked (ra-ctl job %lld): revoke this serial at the signer host, then run the"
		    " order again\n", job, job);
	else
		printf("the RA lost it (ra.db older than signer.db, e.g. restored from an older backup):"
		    " revoke it at the signer host and have its order issued again\n");
}

static int rc_compare(sqlite3 *db)
{
	static const char *const sql =
		"SELECT 's', x.serial, x.request_id, x.status, NULL FROM s.certs x"
		"  WHERE x.serial NOT IN (SELECT serial FROM main.certificates)"
		" UNION ALL "
		"SELECT 'r', c.serial, c.request_id, c.status, c.job_id FROM main.certificates c"
		"  WHERE c.serial NOT IN (SELECT serial FROM s.certs)"
		" UNION ALL "
		"SELECT 'd', c.serial, c.status, x.status, c.job_id FROM main.certificates c"
		"  JOIN s.certs x ON x.serial = c.serial WHERE x.status <> c.status"
		" ORDER BY 2";
	sqlite3_stmt *st;
	long long agree, pending;
	int listed = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_err("cannot compare: %s", sqlite3_errmsg(db));
		return -1;
	}
	pending = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		const char *serial = (const char *)sqlite3_column_text(st, 1);
		const char *a = (const char *)sqlite3_column_text(st, 2), *b = (const char *)sqlite3_column_text(st, 3);
		listed++;
		if (*kind == 's')
			rc_signer_only(db, serial, a, b);
		else if (*kind == 'r')
			printf("%s  ra.db only (%s): signer.db is older than ra.db (restored from an older copy?):"
			    " restore the signer host's newest signer.db; until then the signer cannot revoke it\n", serial, b);
		else
			printf("%s  status differs: ra.db %s, signer.db %s: %s\n", serial, a, b,
			    strcmp(b, "revoked") == 0 ? "the revocation is in flight or its record was lost:"
			    " if no job is in flight, revoke it again (ra-ctl revoke)" :
			    "a status change is in flight or was lost: if no job is in flight, make the change again");
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM main.certificates c JOIN s.certs x ON x.serial ="
	    " c.serial AND x.status = c.status), (SELECT count(*) FROM main.jobs WHERE state IN ('queued','leased'))",
	    -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		agree = sqlite3_column_int64(st, 0);
		pending = sqlite3_column_int64(st, 1);
		printf("%lld certificate(s) agree; %d listed; %lld job(s) in flight%s\n", agree, listed, pending,
		    pending ? " (reconcile again once they are done)" : "");
	}
	sqlite3_finalize(st);
	return listed;
}

int ctl_reconcile_main(const char *cfgfile, int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, 0, 'c' }, { "help", no_argument, 0, 'h' },
		{ "signer-db", required_argument, 0, 's' }, { 0, 0, 0, 0 } };
	const char *signer_db = NULL;
	char *radb = NULL, *sdb = NULL, *attach = NULL;
	config_t *cfg = NULL;
	sqlite3 *db = NULL;
	int c, rc = 2, listed;

	optind = 0;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgfile = optarg; break;
		case 's': signer_db = optarg; break;
		case 'h': rc_usage(0); break;
		default: rc_usage(2);
		}
	}
	if (optind != argc)
		rc_usage(2);
	if (!cfgfile)
		cfgfile = getenv("RA_CONFIG");
	cfg = config_open(cfgfile);
	radb = config_path(cfg, "queue.db");
	sdb = signer_db ? xstrdup(signer_db) : config_path(cfg, "signer.db");
	if (access(sdb, R_OK) != 0) {
		log_err("cannot read %s: on a separate signer host, copy it here"
		    " (sqlite3 signer.db \".backup FILE\") and give --signer-db FILE", sdb);
		goto out;
	}
	if (sqlite3_open_v2(radb, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		log_err("cannot open %s", radb);
		goto out;
	}
	sqlite3_busy_timeout(db, 10000);
	attach = sqlite3_mprintf("ATTACH %Q AS s", sdb);	/* read-only, as the main connection */
	if (sqlite3_exec(db, attach, NULL, NULL, NULL) != SQLITE_OK) {
		log_err("cannot open %s: %s", sdb, sqlite3_errmsg(db));
		goto out;
	}
	/* one read transaction over both, so the comparison sees one moment of each */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	listed = rc_compare(db);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	rc = listed < 0 ? 2 : listed > 0;
out:
	sqlite3_free(attach);
	sqlite3_close(db);
	free(radb);
	free(sdb);
	config_destroy(&cfg);
	return rc;
}
