/*
 * ctl_restore.c: `ra-ctl restore BACKUP TARGET`: a deployment made from a backup of
 * `ra-ctl backup`.
 *
 * Nothing is written until the backup has been checked: every file against the SHA-256
 * of its manifest, and the ledger's audit chain recomputed up to the head the manifest
 * names. TARGET must be new or empty, so a restore never mixes with a deployment. The
 * files go where the backed-up ra.yaml says, with `home` set to TARGET. Jobs that were in
 * flight when the backup was taken stay as they were: their leases have expired, so
 * ra-queue hands them out again, and each job is idempotent (the signer answers a request
 * id it has seen with the same certificate). The CA key is not in a backup: restore says
 * where it must be put before `ra-ctl up`.
 *
 * Job ids name the signer's request ids ("job<ID>.signature"), and a restored ledger
 * would hand out again the ids of jobs that ran after the backup was taken: the signer
 * would refuse those requests as reused with other content, or answer with another
 * subscriber's certificate. So the restored ledger gets a `restore` marker job (done)
 * whose id is past every job id the signer has seen (from the restored or given
 * signer.db; without one, a million ids past the backup's last), and new jobs number
 * from there. The marker and the restore are in the audit chain.
 */
#include "audit.h"
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void rs_usage(int code)
{
	printf("usage: ra-ctl restore BACKUP TARGET [--passphrase-file FILE] [--signer-db FILE]\n"
	       "\n"
	       "Make a deployment in TARGET (new or empty) from BACKUP, a folder made by ra-ctl backup.\n"
	       "Every file is checked against the manifest's SHA-256 and the ledger's audit chain is\n"
	       "recomputed up to the manifest's head before anything is written. The keys come from\n"
	       "the backup's encrypted key archive (FILE holds its passphrase) if it has one. The CA\n"
	       "key is never in a backup: put it (signer.key and its passphrase file, or the HSM\n"
	       "settings) in place from the signer host, then `ra-ctl -c TARGET/ra.yaml up`.\n"
	       "When the signer outlived the RA host, give its current signer.db (or a copy) with\n"
	       "--signer-db: it is used instead of the backup's, so that new jobs never reuse a job id\n"
	       "the signer has seen, and reconcile then lists what the RA lost.\n");
	exit(code);
}

/* Check BACKUP/NAME against the manifest's files.NAME. 1 ok, 0 not in the backup, -1 bad. */
static int rs_check(const char *backup, json_t *files, const char *name)
{
	json_t *f = json_object_get(files, name);
	char *path, hex[65];
	long long size;
	int rc;

	if (!f)
		return 0;
	path = xasprintf("%s/%s", backup, name);
	if (ctl_file_sha256(path, hex, &size) < 0) {
		log_err("%s: listed in the manifest but cannot be read: %s", path, strerror(errno));
		rc = -1;
	} else if (strcmp(hex, json_string_value(json_object_get(f, "sha256")) ?: "") != 0 ||
	    size != json_integer_value(json_object_get(f, "bytes"))) {
		log_err("%s: its SHA-256 or size differs from the manifest: the backup is damaged", path);
		rc = -1;
	} else {
		rc = 1;
	}
	free(path);
	return rc;
}

/* The backed-up ledger's audit chain is intact (its signed checkpoints too, with the
 * CA certificate CA_PATH if the backup has it) and ends at the manifest's head. 0/-1. */
static int rs_check_chain(const char *path, const char *ca_path, json_t *head)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	struct audit_report r;
	FILE *f = ca_path ? fopen(ca_path, "r") : NULL;
	X509 *ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	int64_t rows = 0;
	int rc = -1;

	if (f)
		fclose(f);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		log_err("cannot open %s", path);
		goto out;
	}
	if (audit_verify(db, ca ? X509_get0_pubkey(ca) : NULL, &r) < 0) {
		log_err("%s: audit chain broken: %s", path, r.why);
		goto out;
	}
	rows = r.rows;
	if (sqlite3_prepare_v2(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (!head || sqlite3_column_int64(st, 0) != json_integer_value(json_object_get(head, "id")) ||
		    strcmp((const char *)sqlite3_column_text(st, 1), json_string_value(json_object_get(head, "hash")) ?: "") != 0)
			log_err("%s: the audit chain does not end at the manifest's head", path);
		else
			rc = 0;
	} else if (!head) {
		rc = 0;
	}
	sqlite3_finalize(st);
	printf("audit chain intact: %lld rows, head as in the manifest\n", (long long)rows);
out:
	X509_free(ca);
	sqlite3_close(db);
	return rc;
}

/* Copy BACKUP/NAME to the path of config KEY (folders made). 0/-1. */
static int rs_place(const config_t *cfg, const char *backup, const char *name, const char *key, int mode)
{
	char *from = xasprintf("%s/%s", backup, name), *to = config_path(cfg, key), *d = xstrdup(to), *data;
	size_t n;
	int rc = -1;

	if (mkdir_p(dirname(d), 0700) < 0 || !(data = file_read(from, &n))) {
		log_err("cannot copy %s to %s: %s", from, to, strerror(errno));
	} else {
		rc = file_write_atomic(to, data, n, mode);
		if (rc < 0)
			log_err("cannot write %s: %s", to, strerror(errno));
		free(data);
	}
	free(from);
	free(to);
	free(d);
	return rc;
}

/* The backed-up ra.yaml with its top-level `home:` set to "." (TARGET). */
static char *rs_config(const char *text)
{
	size_t len = strlen(text);
	char *out = xmalloc(len + 16), *o = out;
	const char *line = text;
	int seen = 0;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line + 1) : strlen(line);
		if (strncmp(line, "home:", 5) == 0) {
			memcpy(o, "home: .\n", 8);
			o += 8;
			seen = 1;
		} else {
			memcpy(o, line, n);
			o += n;
		}
		line += n;
	}
	*o = '\0';
	if (!seen) {
		char *with = xasprintf("home: .\n%s", out);
		free(out);
		out = with;
	}
	return out;
}

/* The highest job id in the request ids of SIGNER_DB, or -1 if it cannot be read. */
static long long rs_signer_max_job(const char *signer_db)
{
	static const char *const sql = "SELECT request_id FROM certs UNION ALL"
		" SELECT request_id FROM journal WHERE request_id IS NOT NULL";
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	long long max = -1;

	if (sqlite3_open_v2(signer_db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		max = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			long long id = 0;
			if (sscanf((const char *)sqlite3_column_text(st, 0), "job%lld.", &id) == 1 && id > max)
				max = id;
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return max;
}

/* New jobs of the restored ledger RADB number past every id the signer has seen. 0/-1. */
static int rs_mark(const char *radb, const char *signer_db, const char *backup, long long *marker)
{
	sqlite3 *db = db_open(radb);
	long long last, seen = signer_db ? rs_signer_max_job(signer_db) : -1;
	sqlite3_stmt *st;
	char *payload = NULL, object[40];
	int rc = -1;

	if (!db)
		return -1;
	last = db_int(db, "SELECT coalesce(max(id), 0) FROM jobs", "");
	*marker = seen >= 0 ? (seen > last ? seen : last) + 1 : last + 1000000;
	{
		json_t *j = json_pack("{s:s,s:I,s:I}", "restored_from", backup, "last_job_of_backup", (json_int_t)last,
		    "signer_seen_up_to", (json_int_t)seen);
		payload = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(j);
	}
	if (db_begin(db) < 0)
		goto out;
	st = db_prepare(db, "INSERT INTO jobs (id, kind, payload, state, attempts, result, submitted_by,"
	    " created_at, updated_at) VALUES (?, 'restore', ?, 'done', 0, '{}', 'ctl', ?, ?)");
	sqlite3_bind_int64(st, 1, *marker);
	sqlite3_bind_text(st, 2, payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ra_now());
	sqlite3_bind_int64(st, 4, ra_now());
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	snprintf(object, sizeof object, "job:%lld", *marker);
	if (rc < 0 || audit_append(db, "ra-ctl", "ledger.restored", object, NULL, payload) < 0) {
		db_rollback(db);
		rc = -1;
		goto out;
	}
	rc = db_commit(db);
out:
	free(payload);
	db_close(&db);
	return rc;
}

static int rs_empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;
	if (!d)
		return errno == ENOENT;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

int ctl_restore_main(const char *cfgfile, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, 0, 'h' },
		{ "passphrase-file", required_argument, 0, 'p' }, { "signer-db", required_argument, 0, 's' },
		{ 0, 0, 0, 0 } };
	const char *passfile = NULL, *backup, *target, *live_signer = NULL;
	char *p = NULL, *text = NULL, *yaml = NULL, *keys = NULL, *sdb = NULL, *cakey = NULL;
	json_error_t jerr;
	json_t *m = NULL, *files;
	config_t *cfg = NULL;
	int c, rc = 1, has_signer = 0, has_keys = 0, nkeys = 0;
	long long marker = 0;
	static const char *const subdirs[] = { "run", "log" };

	(void)cfgfile;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': passfile = optarg; break;
		case 's': live_signer = optarg; break;
		case 'h': rs_usage(0); break;
		default: rs_usage(2);
		}
	}
	if (optind != argc - 2)
		rs_usage(2);
	backup = argv[optind];
	target = argv[optind + 1];

	/* 1. check everything before writing anything */
	p = xasprintf("%s/manifest.json", backup);
	if (!(m = json_load_file(p, 0, &jerr))) {
		log_err("%s: no manifest (%s): not a finished backup of ra-ctl backup", backup, jerr.text);
		goto out;
	}
	if (strcmp(json_string_value(json_object_get(m, "format")) ?: "", "ra-backup/1") != 0) {
		log_err("%s: unknown backup format", p);
		goto out;
	}
	files = json_object_get(m, "files");
	if (rs_check(backup, files, "ra.db") != 1 || rs_check(backup, files, "ra.yaml") != 1)
		goto out;
	if ((has_signer = rs_check(backup, files, "signer.db")) < 0 || rs_check(backup, files, "ca.pem") < 0 ||
	    (has_keys = rs_check(backup, files, "keys.enc")) < 0 || rs_check(backup, files, "officer-ca.pem") < 0 ||
	    rs_check(backup, files, "officer-ca.key") < 0)
		goto out;
	free(p);
	p = xasprintf("%s/ra.db", backup);
	{
		char *ca = json_object_get(files, "ca.pem") ? xasprintf("%s/ca.pem", backup) : NULL;
		int bad = rs_check_chain(p, ca, json_object_get(json_object_get(m, "ra.db"), "audit_head")) < 0;
		free(ca);
		if (bad)
			goto out;
	}
	if (has_keys && !passfile) {
		log_err("the backup's keys are encrypted: give --passphrase-file FILE");
		goto out;
	}
	if (!rs_empty_dir(target)) {
		log_err("%s is not empty: restore makes a new deployment in a new or empty folder", target);
		goto out;
	}

	/* 2. the deployment */
	if (mkdir_p(target, 0700) < 0) {
		log_err("cannot create %s: %s", target, strerror(errno));
		goto out;
	}
	free(p);
	p = xasprintf("%s/ra.yaml", backup);
	if (!(text = file_read(p, NULL)))
		goto out;
	yaml = rs_config(text);
	free(p);
	p = xasprintf("%s/ra.yaml", target);
	if (file_write_atomic(p, yaml, strlen(yaml), 0600) < 0) {
		log_err("cannot write %s: %s", p, strerror(errno));
		goto out;
	}
	cfg = config_open(p);
	for (size_t i = 0; i < ARRAY_LEN(subdirs); i++) {
		free(p);
		p = xasprintf("%s/%s", config_home(cfg), subdirs[i]);
		mkdir_p(p, 0700);
	}
	free(p);
	p = config_path(cfg, "signer.crl_dir");
	mkdir_p(p, 0755);
	if (rs_place(cfg, backup, "ra.db", "queue.db", 0600) < 0)
		goto out;
	if (live_signer) {
		char *to = config_path(cfg, "signer.db"), *d = xstrdup(to);
		int bad = mkdir_p(dirname(d), 0700) < 0 || ctl_db_snapshot(live_signer, to) < 0;
		free(to);
		free(d);
		if (bad)
			goto out;
		has_signer = 2;
	} else if (has_signer && rs_place(cfg, backup, "signer.db", "signer.db", 0600) < 0) {
		goto out;
	}
	if (json_object_get(files, "ca.pem") && rs_place(cfg, backup, "ca.pem", "signer.cert", 0644) < 0)
		goto out;
	if (rs_check(backup, files, "officer-ca.pem") == 1 && rs_place(cfg, backup, "officer-ca.pem", "officers.ca_cert", 0644) < 0)
		goto out;
	if (rs_check(backup, files, "officer-ca.key") == 1 && rs_place(cfg, backup, "officer-ca.key", "officers.ca_key", 0600) < 0)
		goto out;
	free(p);
	p = config_path(cfg, "queue.db");
	sdb = config_path(cfg, "signer.db");
	if (rs_mark(p, access(sdb, R_OK) == 0 ? sdb : NULL, backup, &marker) < 0) {
		log_err("cannot mark the restored ledger %s", p);
		goto out;
	}
	if (has_keys) {
		free(p);
		p = xasprintf("%s/keys.enc", backup);
		keys = config_path(cfg, "keys_dir");
		if (ctl_keyarchive_read(p, keys, passfile, &nkeys) < 0)
			goto out;
	}

	/* 3. what is left to the operator */
	printf("restored into %s: ra.db (%lld jobs, %lld in flight at backup time: they run again when the daemons start)\n",
	    target, (long long)json_integer_value(json_object_get(json_object_get(json_object_get(m, "ra.db"), "counts"), "jobs")),
	    (long long)json_integer_value(json_object_get(json_object_get(m, "ra.db"), "jobs_in_flight")));
	printf("new jobs number from %lld (past every job id the signer has seen%s)\n", marker + 1,
	    access(sdb, R_OK) == 0 ? "" : ": no signer.db here, so a million past the backup's last");
	if (has_signer)
		printf("signer.db: %s (%s)\n", has_signer == 2 ? "the signer's current one" : "restored", sdb);
	else
		printf("signer.db: NOT in the backup: copy the signer host's own backup to %s\n", sdb);
	printf("keys: %s\n", has_keys ? "restored from the encrypted archive" :
	    "NOT in the backup: copy the key folder from the old deployment or its own backup");
	cakey = config_path(cfg, "signer.key");
	if (access(cakey, R_OK) != 0 && !*config_str(cfg, "signer.pkcs11_module"))
		printf("CA key: put it at %s with its passphrase file (or set signer.pkcs11_*) before ra-ctl up\n", cakey);
	printf("then: ra-ctl -c %s/ra.yaml up; ra-ctl -c %s/ra.yaml reconcile\n", target, target);
	rc = 0;
out:
	json_decref(m);
	free(p);
	free(text);
	free(yaml);
	free(keys);
	free(sdb);
	free(cakey);
	config_destroy(&cfg);
	return rc;
}
