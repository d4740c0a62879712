/*
 * main.c: ra-notifier, the RA's outgoing mail and sheet printer. It runs from cron on
 * the RA host and opens ra.db directly.
 *
 *   renewals [--dry-run]   renewal notices, then a summary to the admin
 *   notices                revocation / suspension / resume confirmations, sheet mails
 *   sheets [...]           password and PIN sheets (PDF batches, e-mail, counter)
 *   testmail ADDRESS       one test message, to check the relay settings
 *
 * Exit status: 0 when everything due was done, 1 when something failed (it is retried by
 * the next run), 2 on a usage or configuration error.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "notifier.h"
#include "util.h"

static void usage(FILE *f)
{
	fputs("usage: ra-notifier [-c CONFIG] [--now DATE] COMMAND [options]\n"
	    "\n"
	    "commands:\n"
	    "  renewals [--dry-run]     mail renewal notices for certificates expiring within\n"
	    "                           notifier.notice_days (and second_notice_days); retry\n"
	    "                           earlier failures; mail a summary to the admin\n"
	    "  notices [--dry-run]      mail revocation, suspension and resume confirmations,\n"
	    "                           and pending e-mailed sheets\n"
	    "  sheets [--batch NAME]    produce waiting sheets: one PDF batch for the post\n"
	    "                           (sorted by postal code, with a CSV manifest), encrypted\n"
	    "                           PDFs by mail\n"
	    "  sheets --sheet SERIAL    produce one sheet now (counter pickup)\n"
	    "         [--reprint --officer ID]  print a produced sheet again (audited; only\n"
	    "                           inside notifier.reprint_window_hours)\n"
	    "  sheets --printed NAME --officer ID  batch NAME is on paper: shred its print\n"
	    "                           files and previews (audited)\n"
	    "         --officer ID [--credential FILE] [--passphrase-file F]\n"
	    "                           the supervisor or card operator asking signs it with\n"
	    "                           their own credential (default officers.credentials_dir/\n"
	    "                           ID.pem; the passphrase is asked if F is not given); the\n"
	    "                           audit chain records the officer and certificate proven\n"
	    "  sheets --preview NAME    NAME's first page as PNG, the secret masked\n"
	    "  testmail ADDRESS         send one test message through the configured relay\n"
	    "\n"
	    "options:\n"
	    "  -c, --config FILE        configuration file (default: $RA_CONFIG, else built-in)\n"
	    "      --now DATE           the RA clock: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n"
	    "      --check              check the configuration and exit\n"
	    "  -h, --help               this text\n", f);
}

static int testmail(struct notifier *n, const char *to)
{
	mail_msg_t *m = mail_msg_new();
	mail_sender_t *s;
	char *reply = NULL;
	int rc = 1;

	if (mail_msg_set_from(m, n->from) < 0 || mail_msg_add_to(m, NULL, to) < 0) {
		log_err("testmail: \"%s\" or notifier.from is not a mail address", to);
		goto out;
	}
	mail_msg_set_subject(m, "ra-notifier 測試郵件 test message");
	mail_msg_set_text(m, "這是憑證註冊中心通知系統的測試郵件。\nThis is a test message from the RA notifier.\n");
	mail_msg_set_html(m, "<p>這是憑證註冊中心通知系統的測試郵件。</p><p>This is a test message from the RA notifier.</p>");
	if (!(s = notifier_mail(n)))
		goto out;
	if (mail_send(s, m, (long long)n->now, &reply) < 0) {
		log_err("testmail to %s failed: %s", to, reply);
		goto out;
	}
	printf("%s\n", reply);
	rc = 0;
out:
	free(reply);
	mail_msg_destroy(&m);
	return rc;
}

/*
 * The templates folder. The embedded default, config/templates, is relative to the
 * deployment's home, where `ra-ctl init` puts no templates; when the setting is that
 * default and the folder is not there, the templates shipped with the program are used:
 * PREFIX/share/ra/config/templates after `make install`, or the source tree's
 * config/templates beside build/bin. A folder named in the configuration is never
 * replaced: a mistake there is reported by the check. Caller frees.
 */
static char *templates_dir(const config_t *cfg)
{
	static const char *const shipped[] = { "../share/ra/config/templates", "../../config/templates" };
	char *dir = config_path(cfg, "notifier.templates_dir"), *probe, *slash, exe[4096];
	ssize_t len;
	int present;

	if (strcmp(config_str(cfg, "notifier.templates_dir"), "config/templates") != 0)
		return dir;
	probe = xasprintf("%s/zh-TW/renewal.txt", dir);
	present = access(probe, R_OK) == 0;
	free(probe);
	if (present || (len = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		return dir;
	exe[len] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return dir;
	*slash = '\0';
	for (size_t i = 0; i < ARRAY_LEN(shipped); i++) {
		char *cand = xasprintf("%s/%s", exe, shipped[i]);
		probe = xasprintf("%s/zh-TW/renewal.txt", cand);
		int found = access(probe, R_OK) == 0;
		free(probe);
		if (found) {
			free(dir);
			return cand;
		}
		free(cand);
	}
	return dir;
}

/*
 * What the generic loader cannot know: addresses that parse, a known password rule, a
 * relay URL libcurl will treat as SMTP, every template in both languages. All problems
 * are printed, then the count is returned.
 */
static int notifier_check(const config_t *cfg)
{
	static const char *const names[] = { "renewal", "revocation", "suspension", "resume",
		"sheet", "summary" };
	static const char *const langs[] = { "zh-TW", "en" };
	const char *url = config_str(cfg, "notifier.smtp_url");
	const char *rule = config_str(cfg, "notifier.pdf_password_rule");
	const char *admin = config_str(cfg, "notifier.admin_address");
	char *tdir = templates_dir(cfg);
	mail_msg_t *m = mail_msg_new();
	int bad = 0;

	if (mail_msg_set_from(m, config_str(cfg, "notifier.from")) < 0) {
		log_err("notifier.from: \"%s\" is not \"Name <address>\" or an address",
		    config_str(cfg, "notifier.from"));
		bad++;
	}
	if (*admin && mail_msg_add_to(m, NULL, admin) < 0) {
		log_err("notifier.admin_address: \"%s\" is not a mail address", admin);
		bad++;
	}
	if (*url && strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0) {
		log_err("notifier.smtp_url: \"%s\" must start with smtp:// or smtps://", url);
		bad++;
	}
	if (strcmp(rule, "id_number") != 0 && strcmp(rule, "id4-postal") != 0) {
		log_err("notifier.pdf_password_rule: \"%s\" is neither id_number nor id4-postal", rule);
		bad++;
	}
	for (size_t l = 0; l < ARRAY_LEN(langs); l++)
		for (size_t i = 0; i < ARRAY_LEN(names); i++) {
			char *p = xasprintf("%s/%s/%s.txt", tdir, langs[l], names[i]);
			if (access(p, R_OK) != 0) {
				log_err("notifier.templates_dir: %s is missing", p);
				bad++;
			}
			free(p);
		}
	mail_msg_destroy(&m);
	free(tdir);
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "now", required_argument, NULL, 'N' },
		{ "check", no_argument, NULL, 'C' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "batch", required_argument, NULL, 'b' },
		{ "sheet", required_argument, NULL, 's' },
		{ "reprint", no_argument, NULL, 'r' },
		{ "officer", required_argument, NULL, 'o' },
		{ "credential", required_argument, NULL, 'K' },
		{ "passphrase-file", required_argument, NULL, 'F' },
		{ "printed", required_argument, NULL, 'P' },
		{ "preview", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct notifier n = { 0 };
	struct sheets_opts so = { 0 };
	const char *cfgfile = NULL, *cmd;
	int c, check = 0, rc = 2;
	int64_t started;
	char *dbpath = NULL;

	log_init("ra-notifier", LV_INFO);
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgfile = optarg; break;
		case 'N':
			if (clock_set(optarg) < 0) {
				log_err("--now %s: not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", optarg);
				return 2;
			}
			break;
		case 'C': check = 1; break;
		case 'd': n.dry_run = 1; break;
		case 'b': so.batch = optarg; break;
		case 's': so.sheet = optarg; break;
		case 'r': so.reprint = 1; break;
		case 'o': so.officer = optarg; break;
		case 'K': so.credential = optarg; break;
		case 'F': so.passphrase_file = optarg; break;
		case 'P': so.printed = optarg; break;
		case 'V': so.preview = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	n.cfg = config_open(cfgfile);
	if (notifier_check(n.cfg) > 0) {
		log_err("%s: the notifier's settings have errors: nothing done", config_file(n.cfg));
		goto out;
	}
	if (check) {
		printf("%s: configuration is valid\n", config_file(n.cfg));
		rc = 0;
		goto out;
	}
	if (optind >= argc) {
		usage(stderr);
		goto out;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "renewals") && strcmp(cmd, "notices") && strcmp(cmd, "sheets") &&
	    strcmp(cmd, "testmail")) {
		log_err("unknown command \"%s\" (try --help)", cmd);
		goto out;
	}
	if ((strcmp(cmd, "testmail") == 0) != (optind + 2 == argc) ||
	    (strcmp(cmd, "testmail") && optind + 1 != argc)) {
		log_err("%s: wrong arguments (try --help)", cmd);
		goto out;
	}
	if ((so.batch || so.sheet || so.reprint || so.officer || so.printed || so.preview ||
	    so.credential || so.passphrase_file) && strcmp(cmd, "sheets")) {
		log_err("--batch, --sheet, --reprint, --officer, --credential, --passphrase-file, --printed "
		    "and --preview belong to the sheets command");
		goto out;
	}
	n.now = ra_now();
	n.from = config_str(n.cfg, "notifier.from");
	n.templates = templates_dir(n.cfg);
	n.tmpl = template_set_new(n.templates);
	n.sheets_dir = config_path(n.cfg, "notifier.sheets_dir");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(cmd, "testmail") == 0) {
		rc = testmail(&n, argv[optind + 1]);
		goto out;
	}
	dbpath = config_path(n.cfg, "queue.db");
	if (!(n.db = db_open(dbpath))) {
		rc = 1;
		goto out;
	}
	started = mono_ms();
	if (strcmp(cmd, "renewals") == 0)
		rc = renewals_run(&n);
	else if (strcmp(cmd, "notices") == 0)
		rc = notices_run(&n);
	else
		rc = sheets_run(&n, &so);
	if (rc < 0)
		rc = 1;
	if (!n.dry_run)
		notifier_metrics_write(n.cfg, cmd, rc == 0, mono_ms() - started);
out:
	mail_sender_destroy(&n.mail);
	notifier_stmts_destroy(&n);
	db_close(&n.db);
	free(dbpath);
	template_set_destroy(&n.tmpl);
	free(n.templates);
	free(n.sheets_dir);
	config_destroy(&n.cfg);
	curl_global_cleanup();
	return rc;
}
