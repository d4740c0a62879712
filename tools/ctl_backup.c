/*
 * ctl_backup.c: `ra-ctl backup DIR`: a consistent copy of a running deployment.
 *
 * ra.db is copied with SQLite's online backup API in one step, that is inside one read
 * transaction: the copy is the ledger as one commit left it, while ra-queue and the
 * workers go on writing (WAL readers do not block writers). signer.db is copied the
 * same way *after* ra.db, so every certificate the copied ledger knows is in the copied
 * signer.db; what the signer issued in between belongs to jobs that the copied ledger
 * still shows in flight, and they get the same certificate again after a restore (the
 * signer answers a request id it has seen with what it issued). signer.db is copied only
 * if this host can read it: on a separate signer host the operator copies it there
 * (README, "Backups").
 *
 * DIR gets ra.db, signer.db, ra.yaml, the CA and officer CA certificates and
 * manifest.json: the time,
 * the audit chain's head, counts and SHA-256 of every file. No secret key goes in unless
 * --with-keys is given, and then the key folder goes in encrypted with a passphrase
 * (ctl_keyarchive.c), with the officer CA's key (itself an encrypted PEM). The CA key
 * never does: ra-ctl does not hold it. Officers' own credentials are theirs, not the
 * deployment's: they are not in a backup.
 */
#include "ctl.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ctl_db_snapshot(const char *src, const char *dst)
{
	sqlite3 *from = NULL, *to = NULL;
	sqlite3_backup *b;
	char *tmp = xasprintf("%s.part", dst);
	int rc = -1, step = SQLITE_OK;

	unlink(tmp);
	if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		log_err("cannot open %s: %s", src, from ? sqlite3_errmsg(from) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(from, 10000);
	if (sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		log_err("cannot create %s: %s", tmp, to ? sqlite3_errmsg(to) : "out of memory");
		goto out;
	}
	if (!(b = sqlite3_backup_init(to, "main", from, "main"))) {
		log_err("cannot back up %s: %s", src, sqlite3_errmsg(to));
		goto out;
	}
	/* -1: every page in one step, so the copy is one snapshot; busy: try again */
	for (int tries = 0; tries < 100; tries++) {
		step = sqlite3_backup_step(b, -1);
		if (step != SQLITE_BUSY && step != SQLITE_LOCKED)
			break;
		usleep(100000);
	}
	sqlite3_backup_finish(b);
	if (step != SQLITE_DONE) {
		log_err("backup of %s failed: %s", src, sqlite3_errstr(step));
		goto out;
	}
	if (sqlite3_close(to) != SQLITE_OK) {
		log_err("cannot close %s", tmp);
		goto out;
	}
	to = NULL;
	if (rename(tmp, dst) < 0) {
		log_err("cannot rename %s to %s: %s", tmp, dst, strerror(errno));
		goto out;
	}
	chmod(dst, 0600);
	rc = 0;
out:
	if (to)
		sqlite3_close(to);
	if (from)
		sqlite3_close(from);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int ctl_file_sha256(const char *path, char hex[65], long long *size)
{
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *md;
	unsigned char buf[65536], d[32];
	size_t n;
	long long total = 0;

	if (!f)
		return -1;
	md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		EVP_DigestUpdate(md, buf, n);
		total += (long long)n;
	}
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	if (ferror(f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	hex_encode(d, sizeof d, hex);
	if (size)
		*size = total;
	return 0;
}

/* One integer from a query on DB; -1 if it fails (a table the schema lacks). */
static long long bk_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* {file, sha256, bytes} of DIR/NAME, or NULL. */
static json_t *bk_file(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), hex[65];
	long long size;
	json_t *j = NULL;
	if (ctl_file_sha256(path, hex, &size) == 0)
		j = json_pack("{s:s,s:s,s:I}", "file", name, "sha256", hex, "bytes", (json_int_t)size);
	free(path);
	return j;
}

/* Counts and the audit head of the copied ledger (the copy, not the live one: they must
 * describe the same snapshot). */
static json_t *bk_ledger_facts(const char *path)
{
	static const char *const tables[] = { "jobs", "forms", "subscribers", "accounts", "orders", "certificates",
		"sheets", "notices", "audit" };
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *counts = json_object(), *facts;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		json_decref(counts);
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_LEN(tables); i++) {
		char *q = xasprintf("SELECT count(*) FROM %s", tables[i]);
		json_object_set_new(counts, tables[i], json_integer(bk_int(db, q)));
		free(q);
	}
	facts = json_pack("{s:o,s:I,s:I}", "counts", counts,
	    "schema_version", (json_int_t)bk_int(db, "PRAGMA user_version"),
	    "jobs_in_flight", (json_int_t)bk_int(db, "SELECT count(*) FROM jobs WHERE state IN ('queued','leased')"));
	if (sqlite3_prepare_v2(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(facts, "audit_head", json_pack("{s:I,s:s}", "id",
			    (json_int_t)sqlite3_column_int64(st, 0), "hash", (const char *)sqlite3_column_text(st, 1)));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return facts;
}

static json_t *bk_signer_facts(const char *path)
{
	sqlite3 *db;
	json_t *facts;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	facts = json_pack("{s:{s:I,s:I,s:I,s:I},s:I}", "counts",
	    "certs", (json_int_t)bk_int(db, "SELECT count(*) FROM certs"),
	    "valid", (json_int_t)bk_int(db, "SELECT count(*) FROM certs WHERE status = 'valid'"),
	    "revoked", (json_int_t)bk_int(db, "SELECT count(*) FROM certs WHERE status = 'revoked'"),
	    "held", (json_int_t)bk_int(db, "SELECT count(*) FROM certs WHERE status = 'held'"),
	    "journal_last", (json_int_t)bk_int(db, "SELECT coalesce(max(seq), 0) FROM journal"));
	sqlite3_close(db);
	return facts;
}

/* Copy a small file (config, certificate) into DIR/NAME. 0/-1. */
static int bk_copy(const char *from, const char *dir, const char *name, int mode)
{
	size_t n;
	char *data = file_read(from, &n), *to = xasprintf("%s/%s", dir, name);
	int rc = data ? file_write_atomic(to, data, n, mode) : -1;
	if (rc < 0)
		log_err("cannot copy %s to %s: %s", from, to, strerror(errno));
	free(data);
	free(to);
	return rc;
}

static void bk_usage(int code)
{
	printf("usage: ra-ctl [-c CONFIG] backup DIR [--with-keys --passphrase-file FILE]\n"
	       "\n"
	       "A consistent copy of the deployment while its daemons run: ra.db and (if this host\n"
	       "can read it) signer.db through SQLite's online backup API, ra.yaml, the CA certificate\n"
	       "and DIR/manifest.json (time, audit chain head, counts, SHA-256 of each file).\n"
	       "No secret key is copied unless --with-keys: then the key folder goes in encrypted\n"
	       "(scrypt + AES-256-GCM) with the passphrase in FILE (at least 12 characters). The CA\n"
	       "key is never copied: it stays with ca-signer (its own backup, or the HSM's).\n");
	exit(code);
}

int ctl_backup_main(const char *cfgfile, int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, 0, 'c' }, { "help", no_argument, 0, 'h' },
		{ "with-keys", no_argument, 0, 'k' }, { "passphrase-file", required_argument, 0, 'p' }, { 0, 0, 0, 0 } };
	const char *passfile = NULL, *dir;
	char *radb = NULL, *sdb = NULL, *cacert = NULL, *keys = NULL, *p = NULL, now[32];
	json_t *m = NULL, *facts, *files;
	config_t *cfg = NULL;
	int with_keys = 0, c, rc = 1, nkeys = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgfile = optarg; break;
		case 'k': with_keys = 1; break;
		case 'p': passfile = optarg; break;
		case 'h': bk_usage(0); break;
		default: bk_usage(2);
		}
	}
	if (optind != argc - 1)
		bk_usage(2);
	if (with_keys != (passfile != NULL))
		fatal("--with-keys and --passphrase-file go together");
	dir = argv[optind];
	if (!cfgfile)
		cfgfile = getenv("RA_CONFIG");
	if (!cfgfile)
		fatal("backup needs -c CONFIG (the deployment to copy)");
	cfg = config_open(cfgfile);
	p = xasprintf("%s/manifest.json", dir);
	if (access(p, F_OK) == 0)
		fatal("%s already holds a backup: give a new folder", dir);
	if (mkdir_p(dir, 0700) < 0)
		fatal("cannot create %s: %s", dir, strerror(errno));
	radb = config_path(cfg, "queue.db");
	sdb = config_path(cfg, "signer.db");
	cacert = config_path(cfg, "signer.cert");
	keys = config_path(cfg, "keys_dir");

	m = json_pack("{s:s,s:s,s:I}", "format", "ra-backup/1", "created", time_format(ra_now(), now, sizeof now),
	    "created_unix", (json_int_t)ra_now());
	files = json_object();
	json_object_set_new(m, "files", files);

	/* 1. the ledger, then (so that it knows at least as much) the signer's database */
	free(p);
	p = xasprintf("%s/ra.db", dir);
	if (ctl_db_snapshot(radb, p) < 0)
		goto out;
	if (!(facts = bk_ledger_facts(p)))
		goto out;
	json_object_set_new(m, "ra.db", facts);
	json_object_set_new(files, "ra.db", bk_file(dir, "ra.db"));
	free(p);
	p = xasprintf("%s/signer.db", dir);
	if (access(sdb, R_OK) == 0) {
		if (ctl_db_snapshot(sdb, p) < 0 || !(facts = bk_signer_facts(p)))
			goto out;
		json_object_set_new(m, "signer.db", facts);
		json_object_set_new(files, "signer.db", bk_file(dir, "signer.db"));
	} else {
		json_object_set_new(m, "signer.db", json_pack("{s:s}", "missing",
		    "not readable from this host: copy it on the signer host (sqlite3 signer.db \".backup FILE\")"
		    " into this folder as signer.db, after this backup"));
	}

	/* 2. what a restore needs beside the databases */
	if (bk_copy(config_file(cfg), dir, "ra.yaml", 0600) < 0)
		goto out;
	json_object_set_new(files, "ra.yaml", bk_file(dir, "ra.yaml"));
	if (access(cacert, R_OK) == 0 && bk_copy(cacert, dir, "ca.pem", 0644) == 0)
		json_object_set_new(files, "ca.pem", bk_file(dir, "ca.pem"));
	/* the officer CA: its certificate (the workers check officers' signatures against it)
	 * always; its key, an encrypted PEM, only with the other keys */
	free(p);
	p = config_path(cfg, "officers.ca_cert");
	if (access(p, R_OK) == 0 && bk_copy(p, dir, "officer-ca.pem", 0644) == 0)
		json_object_set_new(files, "officer-ca.pem", bk_file(dir, "officer-ca.pem"));
	free(p);
	p = config_path(cfg, "officers.ca_key");
	if (with_keys && access(p, R_OK) == 0 && bk_copy(p, dir, "officer-ca.key", 0600) == 0)
		json_object_set_new(files, "officer-ca.key", bk_file(dir, "officer-ca.key"));
	if (with_keys) {
		free(p);
		p = xasprintf("%s/keys.enc", dir);
		if (ctl_keyarchive_write(keys, p, passfile, &nkeys) < 0)
			goto out;
		json_object_set_new(files, "keys.enc", bk_file(dir, "keys.enc"));
		json_object_set_new(m, "keys", json_pack("{s:s,s:i}", "encryption", "scrypt(N=2^15,r=8,p=1) + AES-256-GCM",
		    "files", nkeys));
	} else {
		json_object_set_new(m, "keys", json_pack("{s:s}", "missing", "no secret key in this backup (--with-keys adds them, encrypted)"));
	}
	json_object_set_new(m, "ca_key", json_string("never in a backup: it stays with ca-signer (its own backup or the HSM)"));

	/* 3. the manifest last: a folder without one is an unfinished backup */
	free(p);
	p = xasprintf("%s/manifest.json", dir);
	{
		char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		size_t len = strlen(text);
		text = xrealloc(text, len + 2);
		memcpy(text + len, "\n", 2);
		if (file_write_atomic(p, text, len + 1, 0600) < 0) {
			log_err("cannot write %s: %s", p, strerror(errno));
			free(text);
			goto out;
		}
		free(text);
	}
	facts = json_object_get(m, "ra.db");
	printf("backup in %s at %s\n", dir, now);
	printf("ra.db: %lld jobs (%lld in flight), %lld certificates, audit head %lld\n",
	    (long long)json_integer_value(json_object_get(json_object_get(facts, "counts"), "jobs")),
	    (long long)json_integer_value(json_object_get(facts, "jobs_in_flight")),
	    (long long)json_integer_value(json_object_get(json_object_get(facts, "counts"), "certificates")),
	    (long long)json_integer_value(json_object_get(json_object_get(facts, "audit_head"), "id")));
	facts = json_object_get(m, "signer.db");
	if (json_object_get(facts, "missing"))
		printf("signer.db: NOT copied (%s)\n", json_string_value(json_object_get(facts, "missing")));
	else
		printf("signer.db: %lld certificates\n",
		    (long long)json_integer_value(json_object_get(json_object_get(facts, "counts"), "certs")));
	printf("keys: %s\n", with_keys ? "encrypted in keys.enc" : "not copied");
	rc = 0;
out:
	json_decref(m);
	free(p);
	free(radb);
	free(sdb);
	free(cacert);
	free(keys);
	config_destroy(&cfg);
	return rc;
}
