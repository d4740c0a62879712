/*
 * submit.c: the jobs ra-intake sends and how it reads their results.
 *
 * form_key jobs carry an idempotency key made from the payload itself ("form_key:" +
 * SHA-256 of its canonical JSON), so a clerk who imports the same batch twice, or
 * submits again after losing the answer, gets the same job back instead of a second
 * keying. The queue commits a job before acknowledging it, so once a job id is printed
 * the forms are safe even if the counter crashes.
 */
#include "intake.h"
#include "log.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* How long a counter waits for a job's answer before telling the clerk to look later. */
static int wait_ms(struct intake *in)
{
	return (int)config_int(intake_config(in), "intake.wait_ms");
}

char *submit_idem_key(const char *prefix, const json_t *payload)
{
	char *text = json_dumps(payload, JSON_SORT_KEYS | JSON_COMPACT);
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65];

	if (!text || !EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL))
		fatal("cannot hash a job payload");
	free(text);
	hex_encode(md, sizeof md, hex);
	return xasprintf("%s:%s", prefix, hex);
}

json_t *submit_key_payload(form_t *const *forms, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, form_to_json(forms[i]));
	return json_pack("{s:o}", "forms", a);
}

/* Sign PAYLOAD for KIND as in->officer if KIND is an officer action; *IDEM gets a fresh
 * key if it has none (*own then holds it). 0/-1 (said). */
static int submit_sign(struct intake *in, const char *kind, const char **idem, char **own, json_t *payload)
{
	if (!officer_kind_roles(kind))
		return 0;
	if (!in->officer) {
		fprintf(stderr, "ra-intake: %s must be signed: --officer ID is required\n", kind);
		return -1;
	}
	if (!in->cred && !(in->cred = officer_cred_open(intake_config(in), in->officer, in->credential, in->passfile)))
		return -1;
	if (!*idem)
		*idem = *own = officer_idem_new(kind);
	return officer_sign(in->cred, kind, *idem, payload);
}

json_t *submit_and_wait(struct intake *in, const char *kind, const char *idem,
    json_t *payload, int *failed)
{
	ra_client_t *c;
	struct ra_job job = { 0 };
	json_t *result = NULL;
	char *err = NULL, *own = NULL;
	int64_t id;

	*failed = 0;
	if (submit_sign(in, kind, &idem, &own, payload) < 0 || !(c = intake_client(in))) {
		free(own);
		return NULL;
	}
	id = ra_client_submit(c, kind, idem, payload, &err);
	free(own);
	if (id < 0) {
		fprintf(stderr, "ra-intake: %s job not accepted: %s\n", kind, err);
		free(err);
		return NULL;
	}
	fprintf(in->out, "job %lld (%s) queued\n", (long long)id, kind);
	switch (ra_client_await(c, id, wait_ms(in), &job)) {
	case JOB_FAILED:
		*failed = 1;
		/* fall through */
	case JOB_DONE:
		result = job.result ? json_incref(job.result) : json_object();
		break;
	case -1:
		fprintf(stderr, "ra-intake: job %lld: %s\n", (long long)id, job.error);
		break;
	default:
		/* The job is committed; it will run. The clerk can look it up later. */
		fprintf(stderr, "ra-intake: job %lld is still %s; ask `ra-intake status` later\n",
		    (long long)id, job_state_name((enum job_state)job.state));
	}
	ra_job_clear(&job);
	return result;
}

void submit_say_zh(struct intake *in, const char *what, const json_t *res)
{
	const char *zh = json_string_value(json_object_get(res, "error_zh"));

	if (!in->zh)
		return;
	if (zh && *zh)
		fprintf(in->out, "%s：%s\n", what, zh);
	else
		fprintf(in->out, "%s（原因如上）\n", what);
}

/* Print a JSON array of strings as "a, b, c". */
static void print_list(FILE *out, const json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		fprintf(out, "%s%s", i ? ", " : "", json_is_string(v) ? json_string_value(v) : "?");
}

int submit_forms(struct intake *in, const char *officer, form_t *const *forms, size_t n)
{
	json_t *payload = submit_key_payload(forms, n), *res, *v;
	char *idem = submit_idem_key("form_key", payload);
	int failed, rc = INTAKE_FAIL;
	size_t i;

	in->officer = officer;
	res = submit_and_wait(in, "form_key", idem, payload, &failed);
	if (!res)
		goto out;
	if (failed) {
		fprintf(in->out, "keying failed: %s\n",
		    json_string_value(json_object_get(res, "error")) ?: "(no reason given)");
		submit_say_zh(in, "登打失敗", res);
		goto out;
	}
	fprintf(in->out, "stored: %zu, already keyed the same: %zu, conflicts: %zu\n",
	    json_array_size(json_object_get(res, "stored")),
	    json_array_size(json_object_get(res, "same")),
	    json_array_size(json_object_get(res, "conflicts")));
	json_array_foreach(json_object_get(res, "stored"), i, v)
		fprintf(in->out, "  stored %s\n", json_string_value(v) ?: "?");
	json_array_foreach(json_object_get(res, "same"), i, v)
		fprintf(in->out, "  same   %s\n", json_string_value(v) ?: "?");
	json_array_foreach(json_object_get(res, "conflicts"), i, v) {
		fprintf(in->out, "  conflict %s: keyed before with other ",
		    json_string_value(json_object_get(v, "serial")) ?: "?");
		print_list(in->out, json_object_get(v, "fields"));
		fprintf(in->out, "\n");
	}
	/* Refused by the back office's own checks (one live registration per ID number). */
	json_array_foreach(json_object_get(res, "rejected"), i, v) {
		fprintf(in->out, "  rejected %s: %s\n", json_string_value(json_object_get(v, "serial")) ?: "?",
		    json_string_value(json_object_get(v, "error")) ?: "?");
		char *what = xasprintf("  %s 未受理", json_string_value(json_object_get(v, "serial")) ?: "?");
		submit_say_zh(in, what, v);
		free(what);
	}
	rc = json_array_size(json_object_get(res, "conflicts")) || json_array_size(json_object_get(res, "rejected")) ?
	    INTAKE_FAIL : INTAKE_OK;
out:
	json_decref(res);
	json_decref(payload);
	free(idem);
	return rc;
}
