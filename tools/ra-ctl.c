/*
 * ra-ctl.c: the RA operator's tool: make a deployment, start and stop it, list jobs and
 * certificates, feed certificate requests from PKCS#10 files, check the audit chain.
 *
 * Commands that change state go through ra-queue as jobs, like every producer, and those
 * that are officer actions (revoke, renew, request-certs, officer add|disable) are signed
 * by the acting officer's credential; only `init`, `audit verify` and `officer list`
 * touch files of the RA host directly.
 */
#include "audit.h"
#include "client.h"
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "officer.h"
#include "../card-station/officer_card.h"
#include "util.h"

#include <ctype.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/stat.h>

static void usage(int code)
{
	printf("usage: ra-ctl [-c CONFIG] COMMAND [ARGS]\n"
	       "\n"
	       "Commands:\n"
	       "  init DIR [--force] [--ca-bits N] [--admin ID] [--passphrase-file F] [--users]\n"
	       "                             make a fresh deployment in DIR (config, keys, development CA\n"
	       "                             of N bits, default 3072; ledger), the officer CA and the first\n"
	       "                             administrator ID (default admin), credential DIR/officers/ID.pem\n"
	       "                             under the passphrase of F (else asked), which also seals the\n"
	       "                             officer CA key; --users (root): give each part's files to its\n"
	       "                             own user (ra-signer, ra-cardkey, ra-queue, ra-notifier, made if missing)\n"
	       "                             and move the passphrases to DIR/credentials\n"
	       "  up [--workers N] [--ocsp]  start ca-signer, ra-cardkey, ra-queue and N ra-workers (default 2),\n"
	       "                             and the OCSP responder ra-ocsp with --ocsp\n"
	       "  down                       stop them all\n"
	       "  status                     which daemons run, and their metrics (metrics.dir)\n"
	       "  jobs [--state S]           list jobs (newest first); S: queued, leased, done, failed\n"
	       "  certs [--order N] [--account A] [--out DIR]\n"
	       "                             list certificates; --out writes each as DIR/SERIAL.pem\n"
	       "  orders [--state S]         list card orders\n"
	       "  request-certs ORDER --sign-csr FILE --enc-csr FILE [--out DIR] [--no-wait] AS\n"
	       "  report --day YYYY-MM-DD | --month YYYY-MM [--format csv|pdf] [--out FILE] [--lang en|zh-TW]\n"
	       "                             forms, certificates, cards, notices, lockouts of the period\n"
	       "                             (ra.db read-only; a PDF needs --out)\n"
	       "  dispatch ORDER --counter | --mail TRACKING | --returned [--revoke]  AS\n"
	       "                             where a personalized card went (--revoke: revoke its\n"
	       "                             certificates and set the returned card aside)\n"
	       "                             issue an order's two certificates from PKCS#10 files (operator)\n"
	       "  audit verify               recompute the audit chain, check its signed checkpoints\n"
	       "  job ID                     one job: kind, state, error and result (JSON)\n"
	       "  revoke --serials-file F --reason R [--no-wait] AS\n"
	       "                             revoke the listed certificates (one hex serial a line; bulk, e.g. a\n"
	       "                             compromised batch of cards); R: keyCompromise, affiliationChanged,\n"
	       "                             superseded, cessationOfOperation, privilegeWithdrawn, unspecified\n"
	       "                             (administrator)\n"
	       "  renew ACCOUNT --sign-csr FILE --enc-csr FILE [--out DIR] AS\n"
	       "                             renew an account's certificates within the renewal window, at\n"
	       "                             the counter (supervisor)\n"
	       "  officer add ID --role R [--name N] [--new-passphrase-file F] [--out FILE | --card READER]\n"
	       "              [--ca-passphrase-file F] AS\n"
	       "                             make officer ID's key pair and certificate (officer CA) and record\n"
	       "                             them (administrator); R: clerk, supervisor, operator, admin;\n"
	       "                             --card: on the blank PIV card in READER (F then holds its PIN);\n"
	       "                             --ca-passphrase-file: the officer CA key's, if not ADMIN's\n"
	       "  officer list               the officer registry\n"
	       "  officer disable ID AS      refuse ID's signatures from now on (administrator)\n"
	       "  station-key NAME           a key pair of card station NAME's own (keys/clients/\n"
	       "                             station.NAME.cert): the queue then knows that station apart\n"
	       "                             and takes no job from it naming another; restart ra-queue\n"
	       "  config                     every configuration key with its default and meaning\n"
	       "  backup DIR [--with-keys --passphrase-file F]\n"
	       "                             consistent copy of ra.db and signer.db while the daemons run,\n"
	       "                             with a manifest; keys only if asked, encrypted\n"
	       "  restore BACKUP TARGET [--passphrase-file F] [--signer-db F]\n"
	       "                             a deployment in TARGET from a backup (checked first)\n"
	       "  reconcile [--signer-db F]  certificates known to one of signer.db and ra.db only, and\n"
	       "                             what to do about each\n"
	       "\n"
	       "AS is the officer who signs: --officer ID [--credential FILE] [--passphrase-file F];\n"
	       "the credential defaults to officers.credentials_dir/ID.pem (card:READER: the officer's\n"
	       "PIV card, F then holds its PIN), the passphrase to the terminal.\n"
	       "\n"
	       "  -c, --config FILE  configuration (default: $RA_CONFIG, else embedded defaults)\n"
	       "  -h, --help         this help\n");
	exit(code);
}

static ra_client_t *connect_queue(const config_t *cfg)
{
	ra_client_t *c = ra_client_new(cfg, "ctl");
	if (!c)
		fatal("cannot set up the connection to ra-queue (keys in %s?)", config_home(cfg));
	return c;
}

static json_t *ask(const config_t *cfg, const char *what, json_t *args)
{
	ra_client_t *c = connect_queue(cfg);
	char *err = NULL;
	json_t *ans = ra_client_query(c, what, args, &err);
	json_decref(args);
	ra_client_destroy(&c);
	if (!ans) {
		fprintf(stderr, "ra-ctl: %s\n", err);
		exit(1);
	}
	return ans;
}

static char *date_of(json_t *v, char *buf)
{
	time_t t = (time_t)json_integer_value(v);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 24, "%Y-%m-%d", &tm);
	return buf;
}

static int cmd_jobs(const config_t *cfg, const char *state)
{
	json_t *ans = ask(cfg, "jobs", json_pack("{s:s?}", "state", state)), *j;
	size_t i;
	printf("%-7s %-13s %-7s %-8s %s\n", "JOB", "KIND", "STATE", "ATTEMPTS", "ERROR");
	json_array_foreach(json_object_get(ans, "jobs"), i, j)
		printf("%-7lld %-13s %-7s %-8lld %s\n", (long long)json_integer_value(json_object_get(j, "id")),
		    json_string_value(json_object_get(j, "kind")), json_string_value(json_object_get(j, "state")),
		    (long long)json_integer_value(json_object_get(j, "attempts")),
		    json_string_value(json_object_get(j, "error")) ? json_string_value(json_object_get(j, "error")) : "");
	json_decref(ans);
	return 0;
}

static int cmd_certs(const config_t *cfg, json_int_t order, const char *account, const char *out)
{
	json_t *ans = ask(cfg, "certs", json_pack("{s:o,s:s?,s:b}", "order", order > 0 ? json_integer(order) : json_null(),
	    "account", account, "pem", out != NULL)), *c;
	size_t i;
	char d1[24];

	if (out && mkdir_p(out, 0755) < 0)
		fatal("cannot create %s", out);
	printf("%-34s %-10s %-8s %-10s %-6s %-10s %s\n", "SERIAL", "USAGE", "STATUS", "ACCOUNT", "ORDER", "EXPIRES", "SUBJECT");
	json_array_foreach(json_object_get(ans, "certs"), i, c) {
		const char *serial = json_string_value(json_object_get(c, "serial"));
		printf("%-34s %-10s %-8s %-10s %-6lld %-10s %s\n", serial,
		    json_string_value(json_object_get(c, "usage")), json_string_value(json_object_get(c, "status")),
		    json_string_value(json_object_get(c, "account")),
		    (long long)json_integer_value(json_object_get(c, "order_id")),
		    date_of(json_object_get(c, "not_after"), d1), json_string_value(json_object_get(c, "subject")));
		if (out) {
			const char *pem = json_string_value(json_object_get(c, "pem"));
			char *path = xasprintf("%s/%s.pem", out, serial);
			if (!pem || file_write_atomic(path, pem, strlen(pem), 0644) < 0)
				fatal("cannot write %s", path);
			free(path);
		}
	}
	json_decref(ans);
	return 0;
}

static int cmd_orders(const config_t *cfg, const char *state)
{
	json_t *ans = ask(cfg, "orders", json_pack("{s:s?}", "state", state)), *o;
	size_t i;
	printf("%-6s %-12s %-10s %-10s %-26s %s\n", "ORDER", "STATE", "ACCOUNT", "CARD", "DISPATCH", "NAME");
	json_array_foreach(json_object_get(ans, "orders"), i, o) {
		const char *card = json_string_value(json_object_get(o, "card_serial"));
		const char *disp = json_string_value(json_object_get(o, "dispatch"));
		const char *track = json_string_value(json_object_get(o, "tracking"));
		char where[64];
		/* where the card went: counter, mailed:TRACKING, returned:TRACKING, set_aside */
		snprintf(where, sizeof where, "%s%s%s", disp ? disp : "-", disp && track ? ":" : "",
		    disp && track ? track : "");
		printf("%-6lld %-12s %-10s %-10s %-26s %s\n", (long long)json_integer_value(json_object_get(o, "id")),
		    json_string_value(json_object_get(o, "state")), json_string_value(json_object_get(o, "account")),
		    card ? card : "-", where, json_string_value(json_object_get(o, "name")));
	}
	json_decref(ans);
	return 0;
}

/* The same order and the same two requests make the same job; anything else a new one. */
static char *request_key(long long order, const char *sign_pem, const char *enc_pem)
{
	unsigned char d[32];
	char hex[65];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, sign_pem, strlen(sign_pem) + 1);
	EVP_DigestUpdate(md, enc_pem, strlen(enc_pem) + 1);
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	hex_encode(d, sizeof d, hex);
	return xasprintf("issue:order%lld:%s", order, hex);
}

/* Print each issued certificate of CERTS as "LABEL USAGE certificate SERIAL" and, with OUT,
 * write it to OUT/SERIAL.pem. */
static void certs_save(const char *label, json_t *certs, const char *out)
{
	json_t *cert;
	size_t i;

	if (out && mkdir_p(out, 0755) < 0)
		fatal("cannot create %s", out);
	json_array_foreach(certs, i, cert) {
		const char *serial = json_string_value(json_object_get(cert, "serial"));
		const char *pem = json_string_value(json_object_get(cert, "pem"));
		printf("%s %s certificate %s\n", label, json_string_value(json_object_get(cert, "usage")), serial);
		if (out) {
			char *path = xasprintf("%s/%s.pem", out, serial);
			file_write_atomic(path, pem, strlen(pem), 0644);
			free(path);
		}
	}
}

/* Wait for job ID; on success return its result, else print why (in Chinese too for a
 * zh-TW operator) and return NULL. */
static json_t *wait_job(const config_t *cfg, ra_client_t *c, int64_t id, const char *what, int timeout_ms)
{
	struct ra_job job = { 0 };
	json_t *result = NULL;

	if (ra_client_await(c, id, timeout_ms, &job) == JOB_DONE) {
		result = json_incref(job.result);
	} else {
		fprintf(stderr, "ra-ctl: %s: job %lld %s: %s\n", what, (long long)id,
		    job.state < 0 ? "unknown" : job_state_name((enum job_state)job.state), job.error);
		ctl_say_zh(cfg, what, job.result);
	}
	ra_job_clear(&job);
	return result;
}

static int cmd_request_certs(const config_t *cfg, const char *order_text, const char *sign, const char *enc,
    const char *out, int wait, const struct ctl_as *as)
{
	officer_cred_t *officer;
	char *sign_pem, *enc_pem, *err = NULL, *idem, *end;
	long long order = strtoll(order_text, &end, 10);
	ra_client_t *c;
	json_t *payload, *result = NULL;
	char what[40];
	int64_t id;
	int rc = 1;

	if (*end || order <= 0)
		fatal("ORDER must be a card order number, not '%s'", order_text);
	if (!sign || !enc)
		fatal("request-certs needs --sign-csr FILE and --enc-csr FILE");
	if (!(sign_pem = file_read(sign, NULL)) || !(enc_pem = file_read(enc, NULL)))
		fatal("cannot read %s or %s", sign, enc);
	payload = json_pack("{s:I,s:s,s:s}", "order", (json_int_t)order, "sign_csr", sign_pem, "enc_csr", enc_pem);
	idem = request_key(order, sign_pem, enc_pem);
	officer = ctl_as_open(cfg, as, "request-certs");
	if (officer_sign(officer, "issue", idem, payload) < 0)
		fatal("cannot sign the issue job");
	officer_cred_destroy(&officer);
	c = connect_queue(cfg);
	id = ra_client_submit(c, "issue", idem, payload, &err);
	if (id < 0) {
		fprintf(stderr, "ra-ctl: %s\n", err);
		goto out;
	}
	printf("order %lld: issue job %lld accepted\n", order, (long long)id);
	if (!wait) {
		rc = 0;
		goto out;
	}
	snprintf(what, sizeof what, "order %lld", order);
	if (!(result = wait_job(cfg, c, id, what, 120000)))
		goto out;
	snprintf(what, sizeof what, "order %lld:", order);
	certs_save(what, json_object_get(result, "certs"), out);
	rc = 0;
out:
	json_decref(payload);
	json_decref(result);
	ra_client_destroy(&c);
	free(sign_pem);
	free(enc_pem);
	free(idem);
	free(err);
	return rc;
}

/* Serials from FILE: one per line, hex (colons allowed), blank lines and # comments skipped.
 * Every bad line is reported, then the whole file refused. */
static json_t *read_serials(const char *file)
{
	char *text = file_read(file, NULL), *line, *save = NULL;
	json_t *list = json_array();
	int bad = 0, n = 0;

	if (!text)
		fatal("cannot read %s", file);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char serial[64];
		size_t k = 0;
		int ok = 1;
		n++;
		line[strcspn(line, "#\r")] = '\0';
		for (char *p = line; *p; p++) {
			if (*p == ' ' || *p == '\t' || *p == ':')
				continue;
			if (!isxdigit((unsigned char)*p) || k >= 40) {
				ok = 0;
				break;
			}
			serial[k++] = (char)tolower((unsigned char)*p);
		}
		serial[k] = '\0';
		if (!ok) {
			fprintf(stderr, "ra-ctl: %s:%d: not a certificate serial (hex, up to 40 digits): %s\n", file, n, line);
			bad++;
		} else if (k > 0) {
			json_array_append_new(list, json_string(serial));
		}
	}
	free(text);
	if (bad)
		fatal("%s: %d bad line(s); nothing was revoked", file, bad);
	if (json_array_size(list) == 0)
		fatal("%s lists no serial", file);
	return list;
}

/* Bulk revocation: the list goes as jobs of REVOKE_CHUNK serials, so the workers share the
 * work; each chunk is idempotent by content. A job the signer is too slow for leaves its
 * rest to a follow-on job (workers/job_revoke.c), which the wait follows. */
#define REVOKE_CHUNK 250
static int cmd_revoke(const config_t *cfg, const char *file, const char *reason, int wait, const struct ctl_as *as)
{
	officer_cred_t *officer;
	static const char *const reasons[] = { "keyCompromise", "affiliationChanged", "superseded",
		"cessationOfOperation", "privilegeWithdrawn", "unspecified" };
	json_t *serials, *ids = json_array(), *v;
	json_int_t revoked = 0, skipped = 0, unknown = 0, refused = 0;
	ra_client_t *c;
	size_t i, total;
	int ok = 0, rc = 0;

	if (!file || !reason)
		fatal("revoke needs --serials-file F and --reason R");
	for (i = 0; i < ARRAY_LEN(reasons); i++)
		ok |= strcmp(reason, reasons[i]) == 0;
	if (!ok)
		fatal("'%s' is not a revocation reason: use keyCompromise, affiliationChanged, superseded,"
		    " cessationOfOperation, privilegeWithdrawn or unspecified", reason);
	serials = read_serials(file);
	total = json_array_size(serials);
	officer = ctl_as_open(cfg, as, "revoke");
	c = connect_queue(cfg);
	for (i = 0; i < total; i += REVOKE_CHUNK) {
		json_t *chunk = json_array(), *payload;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char d[32];
		char hex[65], *idem, *err = NULL;
		int64_t id;
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		EVP_DigestUpdate(md, reason, strlen(reason) + 1);
		for (size_t k = i; k < total && k < i + REVOKE_CHUNK; k++) {
			json_array_append(chunk, json_array_get(serials, k));
			EVP_DigestUpdate(md, json_string_value(json_array_get(serials, k)), strlen(json_string_value(json_array_get(serials, k))) + 1);
		}
		EVP_DigestFinal_ex(md, d, NULL);
		EVP_MD_CTX_free(md);
		hex_encode(d, sizeof d, hex);
		idem = xasprintf("revoke:%s", hex);
		payload = json_pack("{s:o,s:s}", "serials", chunk, "reason", reason);
		if (officer_sign(officer, "revoke", idem, payload) < 0)
			fatal("cannot sign the revoke job");
		id = ra_client_submit(c, "revoke", idem, payload, &err);
		json_decref(payload);
		free(idem);
		if (id < 0) {
			fprintf(stderr, "ra-ctl: %s\n", err);
			free(err);
			rc = 1;
			break;
		}
		json_array_append_new(ids, json_integer(id));
	}
	printf("%zu serial(s) in %zu revoke job(s)\n", total, json_array_size(ids));
	json_array_foreach(ids, i, v) {
		int64_t id = json_integer_value(v);
		json_t *r;
		/* a job the lease could not cover names the job it left the rest to */
		while (wait && id > 0) {
			if (!(r = wait_job(cfg, c, id, "revoke", 300000))) {
				rc = 1;
				break;
			}
			revoked += json_integer_value(json_object_get(r, "count"));
			skipped += (json_int_t)json_array_size(json_object_get(r, "skipped"));
			unknown += (json_int_t)json_array_size(json_object_get(r, "unknown"));
			refused += (json_int_t)json_array_size(json_object_get(r, "refused"));
			id = json_integer_value(json_object_get(r, "continued"));
			json_decref(r);
		}
	}
	if (wait) {
		printf("%lld revoked (%s), %lld already revoked, %lld unknown, %lld refused by the signer\n",
		    (long long)revoked, reason, (long long)skipped, (long long)unknown, (long long)refused);
		if (unknown || refused)
			rc = 1;
	}
	json_decref(ids);
	json_decref(serials);
	ra_client_destroy(&c);
	officer_cred_destroy(&officer);
	return rc;
}

static int cmd_renew(const config_t *cfg, const char *account, const char *sign, const char *enc,
    const struct ctl_as *as, const char *out)
{
	char *sign_pem, *enc_pem, *err = NULL, what[80], *idem = officer_idem_new("counter_renew");
	officer_cred_t *officer;
	json_t *payload, *r = NULL, *issued = NULL;
	ra_client_t *c;
	int64_t id;
	int rc = 1;

	if (!sign || !enc)
		fatal("renew needs --sign-csr FILE and --enc-csr FILE");
	if (!(sign_pem = file_read(sign, NULL)) || !(enc_pem = file_read(enc, NULL)))
		fatal("cannot read %s or %s", sign, enc);
	payload = json_pack("{s:s,s:s,s:s}", "account", account, "sign_csr", sign_pem, "enc_csr", enc_pem);
	officer = ctl_as_open(cfg, as, "renew");
	if (officer_sign(officer, "counter_renew", idem, payload) < 0)
		fatal("cannot sign the renewal");
	officer_cred_destroy(&officer);
	c = connect_queue(cfg);
	if ((id = ra_client_submit(c, "counter_renew", idem, payload, &err)) < 0) {
		fprintf(stderr, "ra-ctl: %s\n", err);
		goto out;
	}
	if (!(r = wait_job(cfg, c, id, "renew", 300000)))
		goto out;
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "ra-ctl: renewal of %s refused: %s\n", account, json_string_value(json_object_get(r, "error")));
		ctl_say_zh(cfg, "renew", r);
		goto out;
	}
	printf("account %s: renewal order %lld, issue job %lld\n", account,
	    (long long)json_integer_value(json_object_get(r, "order")), (long long)json_integer_value(json_object_get(r, "issue_job")));
	if (!(issued = wait_job(cfg, c, json_integer_value(json_object_get(r, "issue_job")), "renewal issue", 300000)))
		goto out;
	snprintf(what, sizeof what, "account %s: new", account);
	certs_save(what, json_object_get(issued, "certs"), out);
	rc = 0;
out:
	free(err);
	free(idem);
	free(sign_pem);
	free(enc_pem);
	json_decref(payload);
	json_decref(r);
	json_decref(issued);
	ra_client_destroy(&c);
	return rc;
}

static int cmd_job(const config_t *cfg, const char *text)
{
	char *end;
	long long id = strtoll(text, &end, 10);
	json_t *ans;

	if (*end || id <= 0)
		fatal("ID must be a job number, not '%s'", text);
	ans = ask(cfg, "job", json_pack("{s:I}", "id", (json_int_t)id));
	json_dumpf(ans, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(ans);
	return 0;
}

/* The audit chain, and its checkpoints against the CA certificate (signer.cert). */
static int cmd_audit_verify(const config_t *cfg)
{
	char *path = config_path(cfg, "queue.db"), *ca_path = config_path(cfg, "signer.cert");
	sqlite3 *db = db_open_readonly(path);
	FILE *f = fopen(ca_path, "r");
	X509 *ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	struct audit_report r;
	int rc;

	if (f)
		fclose(f);
	if (!db)
		fatal("cannot open %s", path);
	if (!ca)
		fatal("cannot read the CA certificate %s (checkpoints are signed by its key)", ca_path);
	rc = audit_verify(db, X509_get0_pubkey(ca), &r);
	if (rc == 0)
		printf("audit chain intact: %lld rows, %lld signed checkpoint(s) covering %lld rows\n",
		    (long long)r.rows, (long long)r.checkpoints, (long long)r.covered);
	else if (r.bad_row)
		printf("audit chain BROKEN at row %lld (after %lld good rows): %s\n", (long long)r.bad_row,
		    (long long)r.rows, r.why);
	else
		printf("audit chain BROKEN: %s (%lld rows recomputed)\n", r.why, (long long)r.rows);
	X509_free(ca);
	db_close(&db);
	free(path);
	free(ca_path);
	return rc == 0 ? 0 : 1;
}

static int cmd_config(void)
{
	static const char *const types[] = { "text", "number", "true/false", "path" };
	for (size_t i = 0; i < cfg_nkeys; i++)
		printf("%-40s %-10s %-30s %s\n", cfg_keys[i].name, types[cfg_keys[i].type],
		    *cfg_keys[i].def ? cfg_keys[i].def : "\"\"", cfg_keys[i].help);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, 0, 'c' }, { "help", no_argument, 0, 'h' },
		{ "workers", required_argument, 0, 'w' }, { "state", required_argument, 0, 's' },
		{ "order", required_argument, 0, 'o' }, { "account", required_argument, 0, 'a' },
		{ "out", required_argument, 0, 'O' }, { "sign-csr", required_argument, 0, 'S' },
		{ "enc-csr", required_argument, 0, 'E' }, { "force", no_argument, 0, 'f' },
		{ "no-wait", no_argument, 0, 'W' }, { "ca-bits", required_argument, 0, 'B' },
		{ "serials-file", required_argument, 0, 'F' }, { "reason", required_argument, 0, 'R' },
		{ "officer", required_argument, 0, 'P' }, { "ocsp", no_argument, 0, 'Q' },
		{ "credential", required_argument, 0, 'C' }, { "passphrase-file", required_argument, 0, 'p' },
		{ "role", required_argument, 0, 'r' }, { "name", required_argument, 0, 'n' },
		{ "new-passphrase-file", required_argument, 0, 'N' }, { "admin", required_argument, 0, 'A' },
		{ "card", required_argument, 0, 'K' }, { "ca-passphrase-file", required_argument, 0, 'X' },
		{ "users", no_argument, 0, 'U' },
		{ "counter", no_argument, 0, 1001 }, { "mail", required_argument, 0, 1002 },
		{ "returned", no_argument, 0, 1003 }, { "revoke", no_argument, 0, 1004 },
		{ "day", required_argument, 0, 1005 }, { "month", required_argument, 0, 1006 },
		{ "format", required_argument, 0, 1007 }, { "lang", required_argument, 0, 1008 },
		{ 0, 0, 0, 0 } };
	struct ctl_dispatch_opts disp = { 0 };
	struct ctl_report_opts rep = { 0 };
	const char *serials_file = NULL, *reason = NULL, *admin = "admin";
	struct ctl_officer_add add = { 0 };
	struct ctl_as as = { 0 };
	const char *cfgfile = NULL, *state = NULL, *account = NULL, *out = NULL, *sign = NULL, *enc = NULL, *cmd;
	int workers = 2, force = 0, wait = 1, ca_bits = 3072, ocsp = 0, users = 0, c;
	json_int_t order = 0;
	config_t *cfg;
	int rc;

	log_init("ra-ctl", LV_INFO);
	officer_card_opener = officer_card_open;
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgfile = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind >= argc)
		usage(2);
	cmd = argv[optind];
	/* options after the command: scan again from the command on */
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "backup") == 0)
		return ctl_backup_main(cfgfile, argc, argv);
	if (strcmp(cmd, "restore") == 0)
		return ctl_restore_main(cfgfile, argc, argv);
	if (strcmp(cmd, "reconcile") == 0)
		return ctl_reconcile_main(cfgfile, argc, argv);
	optind = 0;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgfile = optarg; break;
		case 'w': workers = atoi(optarg); break;
		case 's': state = optarg; break;
		case 'o': order = atoll(optarg); break;
		case 'a': account = optarg; break;
		case 'O': out = optarg; break;
		case 'S': sign = optarg; break;
		case 'E': enc = optarg; break;
		case 'f': force = 1; break;
		case 'W': wait = 0; break;
		case 'B': ca_bits = atoi(optarg); break;
		case 'Q': ocsp = 1; break;
		case 'U': users = 1; break;
		case 'F': serials_file = optarg; break;
		case 'R': reason = optarg; break;
		case 'P': as.officer = optarg; break;
		case 'C': as.credential = optarg; break;
		case 'p': as.passfile = optarg; break;
		case 'r': add.role = optarg; break;
		case 'n': add.name = optarg; break;
		case 'N': add.newpass = optarg; break;
		case 'X': add.capass = optarg; break;
		case 'A': admin = optarg; break;
		case 'K': add.card = optarg; break;
		case 1001: disp.counter = 1; break;
		case 1002: disp.mail = optarg; break;
		case 1003: disp.returned = 1; break;
		case 1004: disp.revoke = 1; break;
		case 1005: rep.day = optarg; break;
		case 1006: rep.month = optarg; break;
		case 1007: rep.format = optarg; break;
		case 1008: rep.lang = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (strcmp(cmd, "init") == 0) {
		if (optind != argc - 1)
			usage(2);
		if (ca_bits != 2048 && ca_bits != 3072 && ca_bits != 4096)
			fatal("--ca-bits must be 2048, 3072 or 4096");
		if (ctl_init(argv[optind], force, ca_bits, admin, as.passfile) < 0 ||
		    (users && ctl_users_init(argv[optind]) < 0))
			return 1;
		printf("deployment ready in %s (config: %s/ra.yaml)\n", argv[optind], argv[optind]);
		return 0;
	}
	if (strcmp(cmd, "config") == 0)
		return cmd_config();
	if (!cfgfile)
		cfgfile = getenv("RA_CONFIG");
	cfg = config_open(cfgfile);
	if (strcmp(cmd, "up") == 0) {
		if (!cfgfile)
			fatal("up needs -c CONFIG (the daemons must read the same file)");
		if (workers < 1 || workers > 8)
			fatal("--workers must be 1..8");
		rc = ctl_up(cfg, cfgfile, workers, ocsp) < 0;
	} else if (strcmp(cmd, "down") == 0) {
		rc = ctl_down(cfg) < 0;
	} else if (strcmp(cmd, "status") == 0) {
		rc = ctl_status(cfg);
		ctl_metrics_show(cfg);
	} else if (strcmp(cmd, "jobs") == 0) {
		rc = cmd_jobs(cfg, state);
	} else if (strcmp(cmd, "certs") == 0) {
		rc = cmd_certs(cfg, order, account, out);
	} else if (strcmp(cmd, "orders") == 0) {
		rc = cmd_orders(cfg, state);
	} else if (strcmp(cmd, "request-certs") == 0) {
		if (optind != argc - 1)
			usage(2);
		rc = cmd_request_certs(cfg, argv[optind], sign, enc, out, wait, &as);
	} else if (strcmp(cmd, "job") == 0) {
		if (optind != argc - 1)
			usage(2);
		rc = cmd_job(cfg, argv[optind]);
	} else if (strcmp(cmd, "revoke") == 0) {
		if (optind != argc)
			usage(2);
		rc = cmd_revoke(cfg, serials_file, reason, wait, &as);
	} else if (strcmp(cmd, "report") == 0) {
		if (optind != argc)
			usage(2);
		rep.out = out;
		rc = ctl_report(cfg, &rep);
	} else if (strcmp(cmd, "dispatch") == 0) {
		if (optind != argc - 1)
			usage(2);
		rc = ctl_dispatch(cfg, atoll(argv[optind]), &disp, &as);
	} else if (strcmp(cmd, "renew") == 0) {
		if (optind != argc - 1)
			usage(2);
		rc = cmd_renew(cfg, argv[optind], sign, enc, &as, out);
	} else if (strcmp(cmd, "officer") == 0) {
		add.out = out;
		rc = ctl_officer(cfg, argc - optind, argv + optind, &as, &add);
	} else if (strcmp(cmd, "station-key") == 0) {
		if (optind != argc - 1)
			usage(2);
		rc = ctl_station_key(cfg, argv[optind]) < 0;
	} else if (strcmp(cmd, "audit") == 0) {
		if (optind != argc - 1 || strcmp(argv[optind], "verify") != 0)
			usage(2);
		rc = cmd_audit_verify(cfg);
	} else {
		fprintf(stderr, "ra-ctl: unknown command '%s'\n", cmd);
		usage(2);
	}
	config_destroy(&cfg);
	return rc;
}
