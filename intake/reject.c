/*
 * reject.c: a supervisor rejects a keyed form (ra-intake reject). The reason is one of
 * the fixed list (lib/form_reject.c) with free text beside it; the back office checks
 * both, refuses a form that is no longer waiting, and records whom to tell. A rejected
 * form can never be approved.
 */
#include "form_reject.h"
#include "intake.h"
#include "util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const struct option long_opts[] = {
	{ "officer", required_argument, NULL, 'o' },
	{ "reason", required_argument, NULL, 'r' },
	{ "note", required_argument, NULL, 'n' },
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	INTAKE_CRED_OPTS,
	{ NULL, 0, NULL, 0 },
};

static void help(FILE *f)
{
	const struct form_reject_reason *r;

	fprintf(f, "usage: ra-intake reject --officer ID --reason CODE [--note TEXT] SERIAL\n\n"
	    "Reject the form SERIAL, keyed and not yet approved. It can never be approved\n"
	    "afterwards; the applicant is told by mail, or by a letter in the sheet print batch\n"
	    "when the form gives no e-mail.\n\n"
	    "  --officer ID   the rejecting officer (a supervisor, not the form's keyer); the\n"
	    "                 rejection is signed with this officer's credential\n"
	    "  --reason CODE  one of:\n");
	for (size_t i = 0; (r = form_reject_reason_at(i)) != NULL; i++)
		fprintf(f, "                   %-11s %s (%s)%s\n", r->code, r->en, r->zh,
		    r->needs_note ? ", with --note" : "");
	fprintf(f, "  --note TEXT    what is wrong, in the applicant's words (at most %d characters)\n"
	    INTAKE_CRED_HELP, FORM_REJECT_NOTE_MAX);
}

int cmd_reject(struct intake *in, int argc, char **argv)
{
	const char *officer = NULL, *reason = NULL, *note = NULL;
	const struct form_reject_reason *r;
	json_t *payload = NULL, *res = NULL;
	char *serial = NULL, *off = NULL;
	int ch, failed, rc = INTAKE_FAIL;
	form_t *f;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:r:n:c:h", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'o': officer = optarg; break;
		case 'r': reason = optarg; break;
		case 'n': note = optarg; break;
		case 'c': in->config_arg = optarg; break;
		case 'C': in->credential = optarg; break;
		case 'P': in->passfile = optarg; break;
		case 'h': help(stdout); return INTAKE_OK;
		default: help(stderr); return INTAKE_USAGE;
		}
	}
	if (argc - optind != 1 || !officer || !reason) {
		fprintf(stderr, "ra-intake reject: --officer, --reason and one SERIAL are required\n");
		help(stderr);
		return INTAKE_USAGE;
	}
	intake_config(in);
	/* The list is checked here too, so a typo costs no signature; the back office decides. */
	if (!(r = form_reject_reason_find(reason))) {
		fprintf(in->out, "\"%s\" is not a reason of the list: see ra-intake reject --help\n", reason);
		if (in->zh)
			fprintf(in->out, "「%s」不是規定的退件原因，請見 ra-intake reject --help\n", reason);
		return INTAKE_USAGE;
	}
	f = form_new(FORM_REGISTRATION);
	form_set(f, "serial", argv[optind], NULL);
	serial = xstrdup(form_get(f, "serial") ?: "");
	form_set(f, "officer", officer, NULL);
	off = xstrdup(form_get(f, "officer") ?: officer);
	form_destroy(&f);
	payload = json_pack("{s:s,s:s}", "serial", serial, "reason", r->code);
	if (note && *note)
		json_object_set_new(payload, "note", json_string(note));
	in->officer = off;
	if (!(res = submit_and_wait(in, "form_reject", NULL, payload, &failed)))
		goto out;
	if (failed) {
		fprintf(in->out, "%s not rejected: %s\n", serial,
		    json_string_value(json_object_get(res, "error")) ?: "(no reason given)");
		char *what = xasprintf("%s 未退件", serial);
		submit_say_zh(in, what, res);
		free(what);
		goto out;
	}
	fprintf(in->out, "%s rejected: %s; the applicant is told by %s\n", serial, r->en,
	    strcmp(json_string_value(json_object_get(res, "notice")) ?: "", "mail") == 0 ? "mail" : "letter");
	if (in->zh)
		fprintf(in->out, "%s 已退件：%s；以%s通知申請人\n", serial, r->zh,
		    strcmp(json_string_value(json_object_get(res, "notice")) ?: "", "mail") == 0 ? "電子郵件" : "信函");
	rc = INTAKE_OK;
out:
	json_decref(res);
	json_decref(payload);
	free(serial);
	free(off);
	return rc;
}
