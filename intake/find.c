/*
 * find.c: the counter finds a subscriber (ra-intake find). One search field at a time:
 * national ID or resident certificate number, UBN, part of a name, e-mail, account, card
 * serial, certificate serial. The search is a subscriber_find job signed by the officer,
 * because the back office audits who looked up whom; the counter never opens ra.db.
 * Shown: the subscriber, the account (locked or not), the certificates with status and
 * expiry, the cards, and the history of forms and jobs; labels in English, with Chinese
 * beside them at a zh-TW counter.
 */
#include "intake.h"
#include "util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* The search fields: option, payload "by", label in both languages. */
static const struct {
	const char *opt, *by, *en, *zh;
} fields[] = {
	{ "national-id", "national_id", "National ID or resident certificate number", "身分證統一編號或居留證統一證號" },
	{ "ubn", "ubn", "Unified business number", "統一編號" },
	{ "name", "name", "Name (part of it)", "姓名或名稱（部分）" },
	{ "email", "email", "E-mail", "電子郵件" },
	{ "account", "account", "Account", "帳號" },
	{ "card", "card", "Card serial", "卡片序號" },
	{ "cert", "certificate", "Certificate serial", "憑證序號" },
};

static void help(FILE *f)
{
	fprintf(f, "usage: ra-intake find --officer ID FIELD VALUE [--json]\n\n"
	    "Find subscribers and show each one's record, account (locked or not), certificates\n"
	    "with status and expiry, cards, and the history of forms and jobs. The search is\n"
	    "signed by the officer and audited (who looked up whom). FIELD is one of:\n");
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		fprintf(f, "  --%-12s %s (%s)\n", fields[i].opt, fields[i].en, fields[i].zh);
	fprintf(f, "\n  --officer ID  the officer who asks (a clerk or supervisor)\n"
	    "  --json        print the answer as JSON\n" INTAKE_CRED_HELP);
}

/* "en" or "en (zh)" by the counter's language. */
static void label(struct intake *in, const char *en, const char *zh)
{
	char buf[160];
	snprintf(buf, sizeof buf, in->zh ? "%s (%s)" : "%s", en, zh);
	fprintf(in->out, "  %-28s ", buf);
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

static const char *date(const json_t *o, const char *k, char *buf, size_t len)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? time_format((time_t)json_integer_value(v), buf, len) : "-";
}

static void show(struct intake *in, const json_t *s)
{
	const json_t *acct = json_object_get(s, "account"), *v;
	char d1[32], d2[32];
	size_t i;

	fprintf(in->out, "subscriber %lld\n", (long long)json_integer_value(json_object_get(s, "id")));
	label(in, "Name", "姓名或名稱");
	fprintf(in->out, "%s\n", str(s, "name"));
	label(in, "ID number", "證號");
	fprintf(in->out, "%s (%s)\n", str(s, "id_number"), str(s, "applicant_type"));
	if (json_is_string(json_object_get(s, "contact_person"))) {
		label(in, "Contact person", "聯絡人");
		fprintf(in->out, "%s\n", str(s, "contact_person"));
	}
	label(in, "E-mail", "電子郵件");
	fprintf(in->out, "%s\n", str(s, "email"));
	label(in, "Phone", "電話");
	fprintf(in->out, "%s\n", str(s, "phone"));
	label(in, "Address", "地址");
	fprintf(in->out, "%s %s\n", str(s, "postal_code"), str(s, "address"));
	label(in, "Account", "帳號");
	if (json_is_object(acct)) {
		int locked = json_integer_value(json_object_get(acct, "locked")) != 0;
		fprintf(in->out, "%s %s%s\n", str(acct, "id"), locked ? "locked" : "not locked",
		    in->zh ? (locked ? "（已鎖定）" : "（未鎖定）") : "");
	} else {
		fprintf(in->out, "-\n");
	}
	json_array_foreach(json_object_get(s, "certificates"), i, v) {
		label(in, "Certificate", "憑證");
		fprintf(in->out, "%s %s %s%s%s, expires %s\n", str(v, "serial"), str(v, "usage"), str(v, "status"),
		    json_is_string(json_object_get(v, "reason")) ? " " : "",
		    json_is_string(json_object_get(v, "reason")) ? str(v, "reason") : "",
		    date(v, "not_after", d1, sizeof d1));
	}
	json_array_foreach(json_object_get(s, "cards"), i, v) {
		label(in, "Card", "卡片");
		fprintf(in->out, "order %lld %s %s card %s\n", (long long)json_integer_value(json_object_get(v, "order_id")),
		    str(v, "purpose"), str(v, "state"), str(v, "card_serial"));
	}
	json_array_foreach(json_object_get(s, "forms"), i, v) {
		label(in, "Form", "表單");
		fprintf(in->out, "%s %s %s, keyed %s by %s\n", str(v, "serial"), str(v, "kind"), str(v, "state"),
		    date(v, "created_at", d1, sizeof d1), str(v, "keyed_by"));
	}
	json_array_foreach(json_object_get(s, "jobs"), i, v) {
		label(in, "Job", "作業");
		fprintf(in->out, "%lld %s %s %s\n", (long long)json_integer_value(json_object_get(v, "id")),
		    str(v, "kind"), str(v, "state"), date(v, "created_at", d2, sizeof d2));
	}
}

int cmd_find(struct intake *in, int argc, char **argv)
{
	struct option opts[ARRAY_LEN(fields) + 8];
	const char *officer = NULL, *by = NULL, *value = NULL;
	json_t *payload = NULL, *res = NULL, *v;
	int ch, idx, json = 0, failed, rc = INTAKE_FAIL;
	size_t i, n = 0;
	FILE *keep;
	char *off;

	for (i = 0; i < ARRAY_LEN(fields); i++)
		opts[n++] = (struct option){ fields[i].opt, required_argument, NULL, 1000 + (int)i };
	opts[n++] = (struct option){ "officer", required_argument, NULL, 'o' };
	opts[n++] = (struct option){ "json", no_argument, NULL, 'j' };
	opts[n++] = (struct option){ "config", required_argument, NULL, 'c' };
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n++] = (struct option){ "credential", required_argument, NULL, 'C' };
	opts[n++] = (struct option){ "passphrase-file", required_argument, NULL, 'P' };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:c:h", opts, &idx)) != -1) {
		if (ch >= 1000 && ch < 1000 + (int)ARRAY_LEN(fields)) {
			if (by) {
				fprintf(stderr, "ra-intake find: one search field at a time\n");
				return INTAKE_USAGE;
			}
			by = fields[ch - 1000].by;
			value = optarg;
			continue;
		}
		switch (ch) {
		case 'o': officer = optarg; break;
		case 'j': json = 1; break;
		case 'c': in->config_arg = optarg; break;
		case 'C': in->credential = optarg; break;
		case 'P': in->passfile = optarg; break;
		case 'h': help(stdout); return INTAKE_OK;
		default: help(stderr); return INTAKE_USAGE;
		}
	}
	if (argc != optind || !officer || !by) {
		fprintf(stderr, "ra-intake find: --officer and one search field are required\n");
		help(stderr);
		return INTAKE_USAGE;
	}
	intake_config(in);
	off = xstrdup(officer);
	for (char *p = off; *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	in->officer = off;
	payload = json_pack("{s:s,s:s}", "by", by, "value", value);
	/* With --json the job's line goes to stderr, so that stdout is the JSON alone. */
	keep = in->out;
	if (json)
		in->out = stderr;
	res = submit_and_wait(in, "subscriber_find", NULL, payload, &failed);
	in->out = keep;
	if (!res)
		goto out;
	if (failed) {
		fprintf(in->out, "search refused: %s\n", json_string_value(json_object_get(res, "error")) ?: "(no reason given)");
		submit_say_zh(in, "查詢被拒", res);
		goto out;
	}
	if (json) {
		char *t = json_dumps(res, JSON_SORT_KEYS | JSON_INDENT(2));
		fprintf(in->out, "%s\n", t);
		free(t);
	} else {
		json_array_foreach(json_object_get(res, "subscribers"), i, v)
			show(in, v);
		fprintf(in->out, "%zu found%s\n", json_array_size(json_object_get(res, "subscribers")),
		    json_is_true(json_object_get(res, "more")) ? ", more not shown: narrow the search" : "");
		if (in->zh)
			fprintf(in->out, "共 %zu 筆%s\n", json_array_size(json_object_get(res, "subscribers")),
			    json_is_true(json_object_get(res, "more")) ? "，尚有未列出者，請縮小查詢範圍" : "");
	}
	/* Nobody found is an answer, not a failure; the caller's script sees it as 1. */
	rc = json_array_size(json_object_get(res, "subscribers")) ? INTAKE_OK : INTAKE_FAIL;
out:
	json_decref(res);
	json_decref(payload);
	free(off);
	return rc;
}
