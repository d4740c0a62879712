/*
 * review.c: what a supervisor does with a keyed form: approve it, or look it up.
 *
 * The rules of approval (keyed, second keying matched, not by the keyer) are the back
 * office's: ra-intake sends the request and shows the answer, including the reason a
 * refused approval gives.
 */
#include "intake.h"
#include "util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const struct option long_opts[] = {
	{ "officer", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, 'j' },
	{ "supersede", no_argument, NULL, 's' },
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	INTAKE_CRED_OPTS,
	{ NULL, 0, NULL, 0 },
};

static void help_approve(FILE *f)
{
	fprintf(f, "usage: ra-intake approve --officer ID [--supersede] SERIAL\n\n"
	    "Approve the form SERIAL. A registration then creates the subscriber, the website\n"
	    "account and the card order. The back office refuses a form that is not verified,\n"
	    "or an approval by the officer who keyed it. One person has one live registration:\n"
	    "a registration whose ID number already has one is approved only if the form names\n"
	    "that account under supersedes and the supervisor gives --supersede, which revokes\n"
	    "the old certificates as superseded and cancels the old unfinished card orders.\n\n"
	    "  --officer ID  the approving officer (required); the approval is signed with\n"
	    "                this officer's credential (a supervisor's)\n"
	    "  --supersede   approve a registration that replaces a live one (see above)\n"
	    INTAKE_CRED_HELP);
}

static void help_status(FILE *f)
{
	fprintf(f, "usage: ra-intake status [--json] SERIAL\n\n"
	    "Show where the form SERIAL stands: its kind and state, who keyed, verified and\n"
	    "approved it, and its jobs.\n\n"
	    "  --json  print the answer as JSON\n");
}

/* Parse "--officer ID", "--json", "--supersede", -c; one operand. 0, 1 (--help) or -1. */
static int parse(struct intake *in, int argc, char **argv, const char **officer, int *json, int *supersede)
{
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:c:h", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'o': *officer = optarg; break;
		case 'j': *json = 1; break;
		case 's': *supersede = 1; break;
		case 'c': in->config_arg = optarg; break;
		case 'C': in->credential = optarg; break;
		case 'P': in->passfile = optarg; break;
		case 'h': return 1;
		default: return -1;
		}
	}
	return argc - optind == 1 ? 0 : -1;
}

/* The serial as the forms store it (upper-case, no blanks). Caller frees. */
static char *serial_norm(const char *arg)
{
	form_t *f = form_new(FORM_REGISTRATION);
	char *s;

	form_set(f, "serial", arg, NULL);
	s = xstrdup(form_get(f, "serial") ?: "");
	form_destroy(&f);
	return s;
}

int cmd_approve(struct intake *in, int argc, char **argv)
{
	const char *officer = NULL;
	int json = 0, supersede = 0, failed, rc = INTAKE_FAIL;
	int r = parse(in, argc, argv, &officer, &json, &supersede);
	json_t *payload, *res;
	char *serial;

	if (r != 0 || !officer) {
		if (r == 0)
			fprintf(stderr, "ra-intake approve: --officer is required\n");
		help_approve(r == 1 ? stdout : stderr);
		return r == 1 ? INTAKE_OK : INTAKE_USAGE;
	}
	intake_config(in);
	serial = serial_norm(argv[optind]);
	/* Officer ids are stored lower-case; send the same. */
	char *off = xstrdup(officer);
	for (char *p = off; *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	payload = json_pack("{s:s}", "serial", serial);
	if (supersede)
		json_object_set_new(payload, "supersede", json_true());
	in->officer = off;
	res = submit_and_wait(in, "form_approve", NULL, payload, &failed);
	if (!res)
		goto out;
	if (failed) {
		char *what = xasprintf("%s 未核准", serial);
		fprintf(in->out, "%s not approved: %s\n", serial,
		    json_string_value(json_object_get(res, "error")) ?: "(no reason given)");
		submit_say_zh(in, what, res);
		free(what);
		goto out;
	}
	fprintf(in->out, "%s approved\n", serial);
	if (json_object_get(res, "subscriber"))
		fprintf(in->out, "  subscriber %lld, account %s, card order %lld\n",
		    (long long)json_integer_value(json_object_get(res, "subscriber")),
		    json_string_value(json_object_get(res, "account")) ?: "?",
		    (long long)json_integer_value(json_object_get(res, "order")));
	if (json_object_get(res, "superseded")) {
		fprintf(in->out, "  superseded account %s: %zu certificate(s) revoked as superseded\n",
		    json_string_value(json_object_get(res, "superseded")) ?: "?",
		    json_array_size(json_object_get(res, "revoked")));
		if (in->zh)
			fprintf(in->out, "  已取代帳號 %s：%zu 張憑證以「憑證換發」廢止\n",
			    json_string_value(json_object_get(res, "superseded")) ?: "?",
			    json_array_size(json_object_get(res, "revoked")));
	}
	rc = INTAKE_OK;
out:
	json_decref(res);
	json_decref(payload);
	free(serial);
	free(off);
	return rc;
}

/* A value as text for the status table; "*_at" times as dates. Caller frees. */
static char *scalar_text(const char *key, const json_t *v)
{
	size_t n = strlen(key);
	char buf[32];

	if (n > 3 && strcmp(key + n - 3, "_at") == 0 && json_is_integer(v))
		return xstrdup(time_format((time_t)json_integer_value(v), buf, sizeof buf));
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (!v || json_is_null(v))
		return xstrdup("-");
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

int cmd_status(struct intake *in, int argc, char **argv)
{
	const char *officer = NULL, *key;
	int json = 0, supersede = 0, r = parse(in, argc, argv, &officer, &json, &supersede);
	json_t *args, *ans, *v;
	char *serial, *err = NULL;
	size_t i;
	static const char *const first[] = { "serial", "kind", "state", "keyed_by", "verified_by", "approved_by" };

	if (r != 0) {
		help_status(r == 1 ? stdout : stderr);
		return r == 1 ? INTAKE_OK : INTAKE_USAGE;
	}
	intake_config(in);
	if (!intake_client(in))
		return INTAKE_FAIL;
	serial = serial_norm(argv[optind]);
	args = json_pack("{s:s}", "serial", serial);
	ans = ra_client_query(in->client, "form", args, &err);
	json_decref(args);
	if (!ans) {
		fprintf(in->out, "%s: %s\n", serial, err);
		free(err);
		free(serial);
		return INTAKE_FAIL;
	}
	if (json) {
		char *t = json_dumps(ans, JSON_SORT_KEYS | JSON_INDENT(2));
		fprintf(in->out, "%s\n", t);
		free(t);
	} else {
		for (i = 0; i < ARRAY_LEN(first); i++) {
			char *t = scalar_text(first[i], json_object_get(ans, first[i]));
			fprintf(in->out, "%-12s %s\n", first[i], t);
			free(t);
		}
		json_object_foreach(ans, key, v) {
			int shown = strcmp(key, "jobs") == 0;
			for (i = 0; i < ARRAY_LEN(first); i++)
				shown |= strcmp(key, first[i]) == 0;
			if (!shown) {
				char *t = scalar_text(key, v);
				fprintf(in->out, "%-12s %s\n", key, t);
				free(t);
			}
		}
		json_array_foreach(json_object_get(ans, "jobs"), i, v) {
			char *t = json_is_object(v) ? NULL : scalar_text("job", v);
			if (t)
				fprintf(in->out, "job          %s\n", t);
			else
				fprintf(in->out, "job          %lld %s %s\n",
				    (long long)json_integer_value(json_object_get(v, "id")),
				    json_string_value(json_object_get(v, "kind")) ?: "?",
				    json_string_value(json_object_get(v, "state")) ?: "?");
			free(t);
		}
	}
	json_decref(ans);
	free(serial);
	return INTAKE_OK;
}
