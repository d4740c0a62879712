/*
 * keying.c: keying a form (register, revoke, resume, password-reset) and the blind
 * second keying (verify).
 *
 * A form comes from the prompt or from a YAML file; either way it must pass every rule
 * before it is sent, and --check shows what would be sent without sending it. The
 * second keying is blind: the clerk keys the paper again without seeing the first
 * keying, and is told only which fields differ, never what was keyed before.
 */
#include "intake.h"
#include "util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

struct keying_opts {
	const char *file, *officer, *kind;
	int check;
};

static const struct option long_opts[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "officer", required_argument, NULL, 'o' },
	{ "kind", required_argument, NULL, 'k' },
	{ "check", no_argument, NULL, 'n' },
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	INTAKE_CRED_OPTS,
	{ NULL, 0, NULL, 0 },
};

/* 0, 1 for --help, or -1 for a bad command line (said). */
static int parse(struct intake *in, int argc, char **argv, struct keying_opts *o)
{
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "f:o:k:c:h", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'f': o->file = optarg; break;
		case 'o': o->officer = optarg; break;
		case 'k': o->kind = optarg; break;
		case 'n': o->check = 1; break;
		case 'c': in->config_arg = optarg; break;
		case 'C': in->credential = optarg; break;
		case 'P': in->passfile = optarg; break;
		case 'h': return 1;
		default: return -1;
		}
	}
	return 0;
}

static void help_register(FILE *f, const char *cmd, enum form_kind kind)
{
	const struct form_field *fd;

	fprintf(f, "usage: ra-intake %s [--file F.yaml] [--officer ID] [--check] [-c CONFIG]\n\n"
	    "Key a %s form. Without --file every field is asked in turn; a wrong value is\n"
	    "asked again with the reason, and a summary is shown to confirm before sending.\n"
	    "With --file the form (or a list of forms) is read from YAML.\n\n"
	    "  --file F      read the form from F instead of asking\n"
	    "  --officer ID  the keying officer (else the form's officer field); the job is\n"
	    "                signed with this officer's credential\n"
	    INTAKE_CRED_HELP
	    "  --check       check the form and print the job it would send; send nothing\n\n"
	    "fields:\n", cmd, form_kind_name(kind));
	for (size_t i = 0; (fd = form_field_at(kind, i)) != NULL; i++)
		fprintf(f, "  %-16s %s (%s): %s\n", fd->name, fd->label_en, fd->label_zh, fd->hint);
	if (kind == FORM_CHANGE)
		fprintf(f, "\nA name or e-mail is inside the certificates: to change it, key a revocation form\n"
		    "(reason affiliationChanged) and a new registration.\n"
		    "姓名或電子郵件記載於憑證內：請填寫廢止申請書（資料變更）並重新申請註冊。\n");
}

/*
 * Give F the officer who keys it: OPT if given (a different one already on the form is
 * an error, said), else whatever the form says. 0 or -1.
 */
static int set_officer(struct intake *in, form_t *f, const char *opt, int override)
{
	const char *had = form_get(f, "officer");

	if (!opt)
		return 0;
	if (had && !override) {
		form_t *probe = form_new(form_get_kind(f));
		form_set(probe, "officer", opt, NULL);
		int same = strcmp(had, form_get(probe, "officer") ?: "") == 0;
		form_destroy(&probe);
		if (!same) {
			fprintf(in->out, "officer: the form says %s but --officer is %s\n", had, opt);
			return -1;
		}
	}
	form_set(f, "officer", opt, NULL);
	return 0;
}

/* Validate F; print its problems. 0 if valid. */
static int check_form(struct intake *in, const form_t *f, const char *where)
{
	struct form_problem *v = NULL;
	size_t n = form_validate(f, &v);

	if (n) {
		fprintf(in->out, "%s: %zu field%s wrong:\n", where, n, n == 1 ? "" : "s");
		print_problems(in->out, v, n, in->zh || form_wants_zh(f), "  ");
	}
	free(v);
	return n ? -1 : 0;
}

/* The forms of a file; each must be of KIND and valid. NULL (said) otherwise. */
static form_batch_t *load_forms(struct intake *in, const char *file, enum form_kind kind)
{
	char *err = NULL, where[64];
	form_batch_t *b = form_batch_load(file, kind, &err);
	int bad = 0;

	if (!b) {
		fprintf(in->out, "%s: %s\n", file, err);
		free(err);
		return NULL;
	}
	if (b->n == 0) {
		fprintf(in->out, "%s: holds no form\n", file);
		bad = 1;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct form_item *it = &b->items[i];
		snprintf(where, sizeof where, "line %ld", it->line);
		if (it->error) {
			fprintf(in->out, "%s: %s\n", where, it->error);
			bad = 1;
		} else if (form_get_kind(it->form) != kind) {
			fprintf(in->out, "%s: a %s form, not a %s form\n", where,
			    form_kind_name(form_get_kind(it->form)), form_kind_name(kind));
			bad = 1;
		}
	}
	if (bad)
		form_batch_destroy(&b);
	return b;
}

/* --check: what would be sent. */
static void print_job(struct intake *in, const char *kind, json_t *payload, const char *idem)
{
	char *text = json_dumps(payload, JSON_SORT_KEYS | JSON_INDENT(2));
	fprintf(in->out, "job %s%s%s:\n%s\n", kind, idem ? ", idempotency key " : "", idem ? idem : "", text);
	free(text);
}

int cmd_register(struct intake *in, int argc, char **argv)
{
	struct keying_opts o = { 0 };
	enum form_kind kind;
	form_batch_t *b = NULL;
	form_t *one = NULL, **forms = NULL;
	size_t n = 0;
	const char *officer;
	int rc = INTAKE_FAIL, r;

	if (form_kind_parse(argv[0], &kind) < 0)
		kind = strcmp(argv[0], "revoke") == 0 ? FORM_REVOCATION : FORM_REGISTRATION;
	if ((r = parse(in, argc, argv, &o)) != 0 || optind != argc || o.kind) {
		help_register(r == 1 ? stdout : stderr, argv[0], kind);
		return r == 1 ? INTAKE_OK : INTAKE_USAGE;
	}
	intake_config(in);
	if (o.file) {
		if (!(b = load_forms(in, o.file, kind)))
			goto out;
		forms = xcalloc(b->n, sizeof *forms);
		for (n = 0; n < b->n; n++)
			forms[n] = b->items[n].form;
	} else {
		one = form_new(kind);
		if (o.officer)
			form_set(one, "officer", o.officer, NULL);
		if (prompt_form(in, one) < 0) {
			fprintf(in->out, "input ended: nothing sent\n");
			goto out;
		}
		forms = xcalloc(1, sizeof *forms);
		forms[n++] = one;
	}
	for (size_t i = 0; i < n; i++) {
		char where[64];
		snprintf(where, sizeof where, "form %s", form_get(forms[i], "serial") ?: "(no serial)");
		if (set_officer(in, forms[i], o.officer, 0) < 0 || check_form(in, forms[i], where) < 0)
			goto out;
	}
	/* One job has one keying officer. */
	officer = form_get(forms[0], "officer");
	for (size_t i = 1; i < n; i++) {
		if (strcmp(form_get(forms[i], "officer"), officer) != 0) {
			fprintf(in->out, "the forms name different officers (%s, %s): key them separately\n",
			    officer, form_get(forms[i], "officer"));
			goto out;
		}
	}
	if (o.check) {
		json_t *p = submit_key_payload(forms, n);
		char *idem = submit_idem_key("form_key", p);
		fprintf(in->out, "%zu form%s valid\n", n, n == 1 ? "" : "s");
		print_job(in, "form_key", p, idem);
		free(idem);
		json_decref(p);
		rc = INTAKE_OK;
		goto out;
	}
	if (!o.file) {
		prompt_summary(in, one);
		r = prompt_yes_no(in, in->zh ? "送出這份表單？ Submit this form?" : "Submit this form?");
		if (r != 1) {
			fprintf(in->out, "not sent\n");
			goto out;
		}
	}
	rc = submit_forms(in, officer, forms, n);
out:
	free(forms);
	form_destroy(&one);
	form_batch_destroy(&b);
	return rc;
}

/* ---- verify ---- */

static void help_verify(FILE *f)
{
	fprintf(f, "usage: ra-intake verify --officer ID [--kind KIND] [--file F.yaml] [--check] [SERIAL]\n\n"
	    "Key a form a second time, blind, as a check on the first keying. The queue compares\n"
	    "the two and names the fields that differ (never their first values); at the prompt\n"
	    "you may key those fields again. The verifying officer must not be the keying one.\n\n"
	    "  --officer ID  the verifying officer (required); the job is signed with this\n"
	    "                officer's credential\n"
	    INTAKE_CRED_HELP
	    "  --kind KIND   registration (default), revocation, resume or password_reset\n"
	    "  --file F      read the second keying from F (one form or a list)\n"
	    "  --check       check the form and print the job it would send; send nothing\n"
	    "  SERIAL        the form's serial, so it is not asked\n");
}

/* Send one second keying. 1 match, 0 mismatch (*fields set, caller decrefs), -1 error. */
static int verify_one(struct intake *in, const form_t *f, const char *officer, json_t **fields)
{
	json_t *payload = json_pack("{s:o}", "form", form_to_json(f));
	json_t *res;
	int failed, rc = -1;

	*fields = NULL;
	in->officer = officer;
	res = submit_and_wait(in, "form_verify", NULL, payload, &failed);
	json_decref(payload);
	if (!res)
		return -1;
	if (failed) {
		char *what = xasprintf("%s 覆核登打失敗", form_get(f, "serial") ?: "?");
		fprintf(in->out, "verify %s failed: %s\n", form_get(f, "serial") ?: "?",
		    json_string_value(json_object_get(res, "error")) ?: "(no reason given)");
		submit_say_zh(in, what, res);
		free(what);
	} else if (json_is_true(json_object_get(res, "match"))) {
		fprintf(in->out, "%s: the second keying matches\n", form_get(f, "serial") ?: "?");
		rc = 1;
	} else {
		*fields = json_incref(json_object_get(res, "fields"));
		rc = 0;
	}
	json_decref(res);
	return rc;
}

static void print_mismatch(struct intake *in, const form_t *f, const json_t *fields)
{
	char label[256];
	size_t i;
	json_t *v;

	fprintf(in->out, "%s: the second keying differs in %zu field%s:\n", form_get(f, "serial") ?: "?",
	    json_array_size(fields), json_array_size(fields) == 1 ? "" : "s");
	json_array_foreach(fields, i, v) {
		const char *name = json_string_value(v) ?: "?";
		const struct form_field *fd = form_field_find(form_get_kind(f), name);
		fprintf(in->out, "  %-16s %s\n", name, fd ? prompt_label(in, fd, label, sizeof label) : "");
	}
}

int cmd_verify(struct intake *in, int argc, char **argv)
{
	struct keying_opts o = { 0 };
	enum form_kind kind = FORM_REGISTRATION;
	form_batch_t *b = NULL;
	form_t *one = NULL;
	int rc = INTAKE_FAIL, r;

	if ((r = parse(in, argc, argv, &o)) != 0 || argc - optind > 1 || !o.officer ||
	    (o.kind && form_kind_parse(o.kind, &kind) < 0)) {
		if (r == 0 && !o.officer)
			fprintf(stderr, "ra-intake verify: --officer is required\n");
		help_verify(r == 1 ? stdout : stderr);
		return r == 1 ? INTAKE_OK : INTAKE_USAGE;
	}
	intake_config(in);
	if (o.file) {
		if (!(b = load_forms(in, o.file, kind)))
			goto out;
		rc = INTAKE_OK;
		for (size_t i = 0; i < b->n; i++) {
			form_t *f = b->items[i].form;
			json_t *fields = NULL;
			char where[64];
			snprintf(where, sizeof where, "line %ld", b->items[i].line);
			set_officer(in, f, o.officer, 1);
			if (check_form(in, f, where) < 0) {
				rc = INTAKE_FAIL;
				continue;
			}
			if (o.check) {
				json_t *p = json_pack("{s:o}", "form", form_to_json(f));
				print_job(in, "form_verify", p, NULL);
				json_decref(p);
				continue;
			}
			r = verify_one(in, f, o.officer, &fields);
			if (r == 0)
				print_mismatch(in, f, fields);
			if (r != 1)
				rc = INTAKE_FAIL;
			json_decref(fields);
		}
		goto out;
	}

	one = form_new(kind);
	form_set(one, "officer", o.officer, NULL);
	if (optind < argc)
		form_set(one, "serial", argv[optind], NULL);
	if (prompt_form(in, one) < 0 || check_form(in, one, "form") < 0)
		goto out;
	if (o.check) {
		json_t *p = json_pack("{s:o}", "form", form_to_json(one));
		print_job(in, "form_verify", p, NULL);
		json_decref(p);
		rc = INTAKE_OK;
		goto out;
	}
	for (;;) {
		json_t *fields = NULL;
		const char **names;
		size_t n, i;
		json_t *v;

		r = verify_one(in, one, o.officer, &fields);
		if (r != 0) {
			rc = r == 1 ? INTAKE_OK : INTAKE_FAIL;
			break;
		}
		print_mismatch(in, one, fields);
		/* Look at the paper again; key only those fields, still blind. */
		r = prompt_yes_no(in, in->zh ? "重新鍵入這些欄位？ Key these fields again?" : "Key these fields again?");
		if (r != 1) {
			json_decref(fields);
			break;
		}
		n = json_array_size(fields);
		names = xcalloc(n ? n : 1, sizeof *names);
		json_array_foreach(fields, i, v)
			names[i] = json_string_value(v) ?: "";
		r = prompt_fields(in, one, names, n);
		free(names);
		json_decref(fields);
		if (r < 0 || check_form(in, one, "form") < 0)
			break;
	}
out:
	form_destroy(&one);
	form_batch_destroy(&b);
	return rc;
}
