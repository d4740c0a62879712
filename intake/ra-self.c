/*
 * ra-self.c: the subscriber's online client. It stands in for the website's back end:
 * suspend the certificates, change the website password, renew from new certificate
 * requests, see the account's certificates. Every one needs the account id and the
 * website password, and the back office applies the lockout rule to each.
 *
 * Rules: a password is read from the terminal without echo (or from --password-file, for
 * scripts and tests), sealed at once to the workers' key (lib/secret.h) and wiped; only
 * the sealed box travels, as a job through ra-queue, like every change of state. Nothing
 * here opens ra.db. Messages to the subscriber are in Traditional Chinese unless
 * --lang en is given; the back office's refusals carry both languages.
 */
#include "client.h"
#include "config.h"
#include "idcheck.h"
#include "log.h"
#include "secret.h"
#include "secret_read.h"
#include "subtext.h"
#include "util.h"

#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SELF_OK = 0, SELF_REFUSED = 1, SELF_USAGE = 2 };

struct self {
	config_t *cfg;
	ra_client_t *client;
	const char *account, *password_file, *sign_csr, *enc_csr, *out;
	const char *cert, *reason;	/* suspend: which certificate(s), and why */
	const char *source;	/* --source: where the request came from (the website's client address) */
	int en;			/* --lang en */
	FILE *pwf;		/* --password-file, read a line per password asked */
};

static const struct text T_PASSWORD = { "網站密碼：", "Website password: " };
static const struct text T_OLD = { "目前的網站密碼：", "Current website password: " };
static const struct text T_NEW = { "新的網站密碼：", "New website password: " };
static const struct text T_CONFIRM = { "再輸入一次新密碼：", "New password again: " };
static const struct text T_NO_TTY = { "無法讀取密碼：沒有終端機（請用 --password-file）",
	"cannot read the password: no terminal (use --password-file)" };
static const struct text T_EMPTY = { "未輸入密碼。", "No password was given." };
static const struct text T_RENEWED = { "展期完成：新的%s憑證 %s，已寫入 %s",
	"Renewed: new %s certificate %s, written to %s" };

static const char *tr(const struct self *s, const struct text *t)
{
	return s->en ? t->en : t->zh;
}

static void say(const struct self *s, const struct text *t, ...)
{
	va_list ap;
	va_start(ap, t);
	vprintf(tr(s, t), ap);
	va_end(ap);
	putchar('\n');
}

static void complain(const struct self *s, const struct text *t, ...)
{
	va_list ap;
	fputs("ra-self: ", stderr);
	va_start(ap, t);
	vfprintf(stderr, tr(s, t), ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ra-self [-c CONFIG] [--lang zh-TW|en] COMMAND --account ID [options]\n"
	    "\n"
	    "The subscriber's online requests, each checked with the website password (3 wrong\n"
	    "passwords in a row lock the account until a password-reset form is approved).\n"
	    "\n"
	    "commands:\n"
	    "  suspend [--cert signature|encryption|both] [--reason TEXT]\n"
	    "                    put the certificate(s) on hold (default: both)\n"
	    "  password-change   change the website password (current, new, new again)\n"
	    "  renew --sign-csr F --enc-csr F [--out DIR]\n"
	    "                    renew the certificates from new requests (within 30 days of expiry)\n"
	    "  status            the account's certificates\n"
	    "\n"
	    "options:\n"
	    "  --account ID         the website account (u followed by 8 digits)\n"
	    "  --password-file F    read the password(s) from F, one a line, in the order asked\n"
	    "                       (password-change: current, new, new again); else the terminal\n"
	    "  --source TAG         where the request came from (e.g. the client address the website\n"
	    "                       saw): wrong passwords from one source make it wait\n"
	    "  --lang zh-TW|en      language of the messages (default zh-TW)\n"
	    "  -c, --config FILE    configuration (default: $RA_CONFIG)\n");
}

/* One line from the password file, or from the terminal with echo off. NULL if none. */
static char *read_password(struct self *s, const struct text *prompt)
{
	char *p;
	int no_tty = 0;

	if (s->pwf)
		p = secret_read(s->pwf, NULL, NULL);
	else
		p = secret_read_tty(tr(s, prompt), &no_tty);
	if (!p)
		complain(s, no_tty ? &T_NO_TTY : &T_EMPTY);
	return p;
}

static void wipe(char **p)
{
	if (*p) {
		OPENSSL_cleanse(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* Ask for a password and seal it for the workers; the clear text is wiped. */
static char *sealed_password(struct self *s, const struct text *prompt)
{
	char *pw = read_password(s, prompt), *sealed;
	if (!pw)
		return NULL;
	sealed = secret_seal_for_workers(s->cfg, pw);
	wipe(&pw);
	return sealed;
}

/*
 * Submit KIND with PAYLOAD and wait for its answer. Returns the result of a job whose
 * answer is {"ok": true}; otherwise says why (in the subscriber's language) and returns NULL.
 */
static json_t *run_job(struct self *s, const char *kind, json_t *payload)
{
	struct ra_job job = { 0 };
	json_t *result = NULL;

	if (!s->client && !(s->client = ra_client_new(s->cfg, "self"))) {
		complain(s, &T_UNREACHABLE);
		return NULL;
	}
	if (s->source)
		json_object_set_new(payload, "source", json_string(s->source));
	switch (ra_client_run(s->client, kind, NULL, payload, (int)config_int(s->cfg, "self.wait_ms"), &job)) {
	case JOB_DONE:
		if (json_is_true(json_object_get(job.result, "ok"))) {
			result = json_incref(job.result);
		} else {
			const char *zh = json_string_value(json_object_get(job.result, "error_zh"));
			const char *en = json_string_value(json_object_get(job.result, "error"));
			fprintf(stderr, "ra-self: %s\n", !s->en && zh ? zh : en ? en : "?");
		}
		break;
	case JOB_FAILED:
		complain(s, &T_FAILED, job.error);
		break;
	case -1:
		log_warn("%s", job.error);
		complain(s, &T_UNREACHABLE);
		break;
	default:
		complain(s, &T_PENDING, (long long)job.id);
	}
	ra_job_clear(&job);
	return result;
}

static int self_suspend(struct self *s)
{
	char *sealed = sealed_password(s, &T_PASSWORD);
	json_t *payload, *r;

	if (!sealed)
		return SELF_REFUSED;
	payload = json_pack("{s:s,s:s,s:s}", "account", s->account, "password", sealed, "certs",
	    s->cert ? s->cert : "both");
	free(sealed);
	if (s->reason)
		json_object_set_new(payload, "reason", json_string(s->reason));
	r = run_job(s, "suspend", payload);
	json_decref(payload);
	if (!r)
		return SELF_REFUSED;
	say(s, &T_SUSPENDED, json_array_size(json_object_get(r, "held")));
	json_decref(r);
	return SELF_OK;
}

static int self_password_change(struct self *s)
{
	char *old_sealed = NULL, *new_pw = NULL, *confirm = NULL, *new_sealed = NULL;
	json_t *payload = NULL, *r = NULL;
	int rc = SELF_REFUSED;

	if (!(old_sealed = sealed_password(s, &T_OLD)) || !(new_pw = read_password(s, &T_NEW)) ||
	    !(confirm = read_password(s, &T_CONFIRM)))
		goto out;
	/* The confirmation is the subscriber's own check: it never leaves this program. */
	if (strcmp(new_pw, confirm) != 0) {
		complain(s, &T_MISMATCH);
		goto out;
	}
	if (!(new_sealed = secret_seal_for_workers(s->cfg, new_pw)))
		goto out;
	wipe(&new_pw);
	wipe(&confirm);
	payload = json_pack("{s:s,s:s,s:s}", "account", s->account, "password", old_sealed, "new_password", new_sealed);
	if (!(r = run_job(s, "password_change", payload)))
		goto out;
	say(s, &T_CHANGED);
	rc = SELF_OK;
out:
	wipe(&new_pw);
	wipe(&confirm);
	free(old_sealed);
	free(new_sealed);
	json_decref(payload);
	json_decref(r);
	return rc;
}

static int self_renew(struct self *s)
{
	char *sign = NULL, *enc = NULL, *sealed = NULL;
	const char *out = s->out ? s->out : ".";
	json_t *payload = NULL, *r = NULL, *c;
	struct ra_job issued = { 0 };
	int rc = SELF_REFUSED;
	size_t i;

	if (!s->sign_csr || !s->enc_csr) {
		fprintf(stderr, "ra-self: renew needs --sign-csr FILE and --enc-csr FILE\n");
		return SELF_USAGE;
	}
	if (!(sign = file_read(s->sign_csr, NULL)) || !(enc = file_read(s->enc_csr, NULL))) {
		fprintf(stderr, "ra-self: cannot read %s\n", sign ? s->enc_csr : s->sign_csr);
		goto out;
	}
	if (!(sealed = sealed_password(s, &T_PASSWORD)))
		goto out;
	payload = json_pack("{s:s,s:s,s:s,s:s}", "account", s->account, "password", sealed, "sign_csr", sign,
	    "enc_csr", enc);
	if (!(r = run_job(s, "renew", payload)))
		goto out;
	if (ra_client_await(s->client, json_integer_value(json_object_get(r, "issue_job")),
	    (int)config_int(s->cfg, "self.wait_ms"), &issued) != JOB_DONE) {
		complain(s, &T_FAILED, issued.error);
		goto out;
	}
	if (mkdir_p(out, 0755) < 0) {
		fprintf(stderr, "ra-self: cannot create %s\n", out);
		goto out;
	}
	json_array_foreach(json_object_get(issued.result, "certs"), i, c) {
		const char *serial = json_string_value(json_object_get(c, "serial"));
		const char *pem = json_string_value(json_object_get(c, "pem"));
		char *path = xasprintf("%s/%s.pem", out, serial);
		if (file_write_atomic(path, pem, strlen(pem), 0644) < 0) {
			fprintf(stderr, "ra-self: cannot write %s\n", path);
			free(path);
			goto out;
		}
		say(s, &T_RENEWED, subtext_usage(s->en, json_string_value(json_object_get(c, "usage"))), serial, path);
		free(path);
	}
	rc = SELF_OK;
out:
	free(sign);
	free(enc);
	free(sealed);
	json_decref(payload);
	json_decref(r);
	ra_job_clear(&issued);
	return rc;
}

static int self_status(struct self *s)
{
	char *sealed = sealed_password(s, &T_PASSWORD);
	json_t *payload, *r, *c;
	size_t i;

	if (!sealed)
		return SELF_REFUSED;
	payload = json_pack("{s:s,s:s}", "account", s->account, "password", sealed);
	free(sealed);
	r = run_job(s, "login", payload);
	json_decref(payload);
	if (!r)
		return SELF_REFUSED;
	say(s, &T_ACCOUNT, s->account);
	if (json_array_size(json_object_get(r, "certs")) == 0)
		say(s, &T_NO_CERTS);
	json_array_foreach(json_object_get(r, "certs"), i, c) {
		char when[24];
		time_format((time_t)json_integer_value(json_object_get(c, "not_after")), when, sizeof when);
		/* No column padding: printf pads bytes, and a Chinese word is 3 bytes to 2 columns. */
		printf("  %s  %s  %s  %s %.10s\n", json_string_value(json_object_get(c, "serial")),
		    subtext_usage(s->en, json_string_value(json_object_get(c, "usage"))),
		    subtext_status(s->en, json_string_value(json_object_get(c, "status")), json_is_true(json_object_get(c, "expired"))),
		    s->en ? "expires" : "到期", when);
	}
	json_decref(r);
	return SELF_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, 0, 'c' }, { "account", required_argument, 0, 'a' },
		{ "password-file", required_argument, 0, 'p' }, { "lang", required_argument, 0, 'l' },
		{ "sign-csr", required_argument, 0, 'S' }, { "enc-csr", required_argument, 0, 'E' },
		{ "out", required_argument, 0, 'O' }, { "now", required_argument, 0, 'n' },
		{ "cert", required_argument, 0, 'C' }, { "reason", required_argument, 0, 'R' },
		{ "source", required_argument, 0, 's' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	static const struct {
		const char *name;
		int (*run)(struct self *);
	} commands[] = {
		{ "suspend", self_suspend }, { "password-change", self_password_change },
		{ "renew", self_renew }, { "status", self_status },
	};
	struct self s = { 0 };
	const char *cfgfile = NULL, *cmd = NULL;
	int c, rc = SELF_USAGE;

	log_init("ra-self", LV_WARN);
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgfile = optarg; break;
		case 'a': s.account = optarg; break;
		case 'p': s.password_file = optarg; break;
		case 'l':
			if (strcmp(optarg, "en") != 0 && strcmp(optarg, "zh-TW") != 0) {
				fprintf(stderr, "ra-self: --lang must be zh-TW or en\n");
				return SELF_USAGE;
			}
			s.en = strcmp(optarg, "en") == 0;
			break;
		case 'S': s.sign_csr = optarg; break;
		case 'E': s.enc_csr = optarg; break;
		case 'O': s.out = optarg; break;
		case 'C':
			if (strcmp(optarg, "signature") != 0 && strcmp(optarg, "encryption") != 0 &&
			    strcmp(optarg, "both") != 0) {
				fprintf(stderr, "ra-self: --cert must be signature, encryption or both\n");
				return SELF_USAGE;
			}
			s.cert = optarg;
			break;
		case 'R':
			if (strlen(optarg) > 200) {
				fprintf(stderr, "ra-self: --reason is at most 200 bytes\n");
				return SELF_USAGE;
			}
			s.reason = optarg;
			break;
		case 's': s.source = optarg; break;
		case 'n':
			if (clock_set(optarg) < 0) {
				fprintf(stderr, "ra-self: --now %s is not a time\n", optarg);
				return SELF_USAGE;
			}
			break;
		case 'h': usage(stdout); return SELF_OK;
		default: usage(stderr); return SELF_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return SELF_USAGE;
	}
	cmd = argv[optind];
	if (idcheck_account(s.account) < 0) {
		/* Said before a password is asked. */
		fprintf(stderr, "ra-self: %s\n", s.en ? "--account must be the website account id: u followed by 8 digits" :
		    "--account 須為網站帳號：u 加 8 位數字");
		return SELF_USAGE;
	}
	if (s.password_file && !(s.pwf = fopen(s.password_file, "r"))) {
		fprintf(stderr, "ra-self: cannot read %s\n", s.password_file);
		return SELF_USAGE;
	}
	/* Unbuffered: no copy of a password lingers in a stdio buffer. */
	if (s.pwf)
		setvbuf(s.pwf, NULL, _IONBF, 0);
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		s.cfg = config_open(cfgfile);
		rc = commands[i].run(&s);
		goto out;
	}
	fprintf(stderr, "ra-self: unknown command \"%s\"\n", cmd);
	usage(stderr);
out:
	if (s.pwf)
		fclose(s.pwf);
	ra_client_destroy(&s.client);
	config_destroy(&s.cfg);
	return rc;
}
