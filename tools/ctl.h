/*
 * ctl.h: ra-ctl's parts: making a deployment (ctl_init.c) and its development
 * certificates (ctl_cert.c), the officers (ctl_officer.c), starting and stopping its
 * daemons (ctl_daemons.c), backups (ctl_backup.c, ctl_restore.c, ctl_reconcile.c, with
 * the encrypted key archive of ctl_keyarchive.c); the queue commands are in ra-ctl.c.
 */
#ifndef RA_CTL_H
#define RA_CTL_H

#include <jansson.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <time.h>

#include "config.h"
#include "officer.h"

/* Make a fresh deployment in DIR (refuses a DIR that has one, unless FORCE), its
 * development CA key of CA_BITS, and the first administrator ADMIN whose passphrase is
 * PASSFILE's first line (NULL: asked on the terminal). 0/-1. */
int ctl_init(const char *dir, int force, int ca_bits, const char *admin, const char *passfile);

struct ctl_ext {
	int nid;
	const char *value;
};
/* ctl_cert.c: a certificate for KEY: subject C=TW[, O], CN; issued by ISSUER with ISSUER_KEY (ISSUER
 * NULL: self-signed), valid YEARS, with EXTS. NULL on failure. */
X509 *ctl_dev_cert(EVP_PKEY *key, const char *o, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
    long years, const struct ctl_ext *exts, size_t n);

/* ctl_station.c: `ra-ctl station-key NAME`: station NAME's own CURVE key pair in
 * keys/clients/station.NAME.cert (+ _secret). 0/-1 (said). */
int ctl_station_key(const config_t *cfg, const char *station);

/* Who acts, for the commands an officer signs: --officer ID [--credential F] [--passphrase-file F]. */
struct ctl_as {
	const char *officer, *credential, *passfile;
};
/* The acting officer's credential for WHAT (a command name); exits with the reason if none. */
officer_cred_t *ctl_as_open(const config_t *cfg, const struct ctl_as *as, const char *what);

/* ctl_dispatch.c: where a personalized card went. Exactly one of COUNTER, MAIL (the
 * tracking number) or RETURNED; REVOKE only with RETURNED. */
struct ctl_dispatch_opts {
	int counter, returned, revoke;
	const char *mail;
};
/* `ra-ctl dispatch ORDER ...` as the officer AS. Exit status. */
int ctl_dispatch(const config_t *cfg, long long order, const struct ctl_dispatch_opts *o,
    const struct ctl_as *as);

/* ctl_report.c: the day's or month's counts. */
struct ctl_report_opts {
	const char *day, *month;	/* YYYY-MM-DD or YYYY-MM: exactly one */
	const char *format;		/* csv (default) or pdf */
	const char *out;		/* file (a PDF needs one; CSV: stdout) */
	const char *lang;		/* en or zh-TW (default: the `language` key) */
};
/* One line of a report: ITEM's total (DETAIL "") or one part of it (an officer, a reason). */
struct ctl_report_row {
	const char *key, *en, *zh;
	char *detail;
	long long count;
};
struct ctl_report {
	char period[16];		/* as asked: YYYY-MM-DD or YYYY-MM */
	int monthly;
	time_t from, to;		/* [from, to) UTC */
	struct ctl_report_row *rows;
	int nrows;
};
/* `ra-ctl report ...`: exit status. */
int ctl_report(const config_t *cfg, const struct ctl_report_opts *o);
/* ctl_report_pdf.c: R as a printable A4 PDF at PATH in FONT, labels in Chinese if ZH. 0/-1. */
int ctl_report_pdf(const struct ctl_report *r, int zh, const char *font, const char *path);

/* ctl_officer.c: the officer CA and the first administrator ADMIN at init (DIR's officers/,
 * recorded in DB), the CA key and the credential sealed under PASS. 0/-1. */
int ctl_officer_bootstrap(const char *dir, sqlite3 *db, const char *admin, const char *pass);
/* A passphrase for a new credential, for WHO: PASSFILE's first line, or asked twice on the
 * terminal; at least 8 characters. NULL (said). Free with officer_secret_free(). */
char *ctl_new_passphrase(const char *passfile, const char *who);
/* The options of `ra-ctl officer add`. */
struct ctl_officer_add {
	const char *role, *name;
	const char *newpass;	/* the new officer's passphrase file, or card PIN file */
	const char *out;	/* the credential file (default officers.credentials_dir/ID.pem) */
	const char *card;	/* a reader holding a blank card to enrol instead */
	const char *capass;	/* the officer CA key's passphrase file (default: the administrator's) */
};
/* ctl_lang.c: */
/* The back office's words in Chinese for a zh-TW operator: "ra-ctl: WHAT：words" on stderr
 * when RES (a failed job's result, or a refusal) has them. */
void ctl_say_zh(const config_t *cfg, const char *what, const json_t *res);
/* 1 if the operator reads Traditional Chinese (language: zh-TW). */
int ctl_zh(const config_t *cfg);
/* `ra-ctl officer add|list|disable ...` (ARGV after "officer"). Exit status. */
int ctl_officer(const config_t *cfg, int argc, char **argv, const struct ctl_as *as,
    const struct ctl_officer_add *add);
/* Give DIR's files to one user per part (created if missing), move the passphrases to
 * DIR/credentials, name the users in ra.yaml. Root only. 0/-1. */
int ctl_users_init(const char *dir);
/* The user PROG runs as in this deployment (users.*), or NULL. */
const char *ctl_user_of(const config_t *cfg, const char *prog);
/* In a daemon's child, as root: hand PROG its own credentials (run/credentials/USER,
 * $CREDENTIALS_DIRECTORY) and become its user. No user configured or not root: nothing.
 * 0/-1. */
int ctl_become(const config_t *cfg, const char *prog);
/* Start ca-signer, ra-queue, NWORKERS ra-workers and, if OCSP, ra-ocsp for CFGFILE. 0/-1. */
int ctl_up(const config_t *cfg, const char *cfgfile, int nworkers, int ocsp);
/* Stop every daemon of the deployment (SIGTERM, then SIGKILL after a while). 0/-1. */
int ctl_down(const config_t *cfg);
/* Print which daemons run. 0 if all run, 1 otherwise. */
int ctl_status(const config_t *cfg);
/* Print every metrics textfile of metrics.dir: its age and figures (ctl_metrics.c). 0. */
int ctl_metrics_show(const config_t *cfg);

/* `ra-ctl backup|restore|reconcile ARGS`: each parses its own options (ARGV[0] is the
 * command); CFGFILE is -c given before the command, or NULL. The exit status. */
int ctl_backup_main(const char *cfgfile, int argc, char **argv);
int ctl_restore_main(const char *cfgfile, int argc, char **argv);
int ctl_reconcile_main(const char *cfgfile, int argc, char **argv);

/* Copy the SQLite database SRC to DST (a new file) with the online backup API: one read
 * transaction, so DST is a consistent snapshot while writers go on. 0/-1 (logged). */
int ctl_db_snapshot(const char *src, const char *dst);
/* SHA-256 of a file's bytes as lower-case hex (65 bytes); *size its length. 0/-1. */
int ctl_file_sha256(const char *path, char hex[65], long long *size);
/* The regular files under DIR, encrypted with the passphrase in PASSFILE, into OUT
 * (mode 0600); *NFILES how many. 0/-1 (logged). */
int ctl_keyarchive_write(const char *dir, const char *out, const char *passfile, int *nfiles);
/* The reverse: the files of archive IN under DIR. 0/-1 (a wrong passphrase is logged). */
int ctl_keyarchive_read(const char *in, const char *dir, const char *passfile, int *nfiles);

#endif
