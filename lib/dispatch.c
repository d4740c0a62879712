/*
 * dispatch.c: a card's dispatch step as a signed card_dispatch job (see dispatch.h).
 *
 * Rules: the step is checked before anything is signed or sent, so a typo costs no
 * passphrase; each step is a new job with a fresh idempotency key (handing a card over
 * twice is refused by the worker, not hidden by the queue); what is printed comes from
 * the job's result, never from the request.
 */
#include "dispatch.h"
#include "jobs.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dispatch_text {
	const char *en, *zh;
};

static const struct dispatch_text T_COUNTER = { "order %lld: card %s handed over at the counter",
	"訂單 %lld：卡片 %s 已於櫃檯交付" };
static const struct dispatch_text T_MAILED = { "order %lld: card %s mailed, tracking number %s",
	"訂單 %lld：卡片 %s 已郵寄，掛號號碼 %s" };
static const struct dispatch_text T_RETURNED = { "order %lld: card %s came back undelivered (tracking number %s)",
	"訂單 %lld：卡片 %s 郵件退回（掛號號碼 %s）" };
static const struct dispatch_text T_SET_ASIDE = { "order %lld: card %s returned, %d certificate(s) revoked, card set aside",
	"訂單 %lld：卡片 %s 已退回，已廢止 %d 張憑證，卡片已留置" };
static const struct dispatch_text T_REFUSED = { "%s: not recorded: %s", "%s：未登錄：%s" };
static const struct dispatch_text T_USAGE = {
	"dispatch needs one of --counter, --mail TRACKING, --returned [--revoke]",
	"dispatch 需指定 --counter、--mail 掛號號碼 或 --returned [--revoke] 其中之一" };

static const char *say(const struct dispatch_text *t, int zh)
{
	return zh ? t->zh : t->en;
}

int dispatch_check(const struct dispatch_step *s, int zh, const char *prog)
{
	if ((s->order > 0) == !!s->card || (s->counter + !!s->mail + s->returned) != 1 ||
	    (s->revoke && !s->returned)) {
		fprintf(stderr, "%s%s\n", prog, say(&T_USAGE, zh));
		return 2;
	}
	return 0;
}

int dispatch_run(ra_client_t *c, const officer_cred_t *officer, const struct dispatch_step *s, int zh,
    const char *prog)
{
	const char *how = s->counter ? "counter" : s->mail ? "mail" : "returned";
	struct ra_job job = { 0 };
	json_t *payload;
	char *idem = officer_idem_new("card_dispatch"), *what;
	int rc = 1;

	payload = json_pack("{s:s,s:s?,s:b}", "how", how, "tracking", s->mail, "revoke", s->revoke);
	if (s->card)
		json_object_set_new(payload, "card", json_string(s->card));
	else
		json_object_set_new(payload, "order", json_integer(s->order));
	what = s->card ? xasprintf(zh ? "卡片 %s" : "card %s", s->card) :
	    xasprintf(zh ? "訂單 %lld" : "order %lld", s->order);
	if (officer_sign(officer, "card_dispatch", idem, payload) < 0) {
		fprintf(stderr, "%scannot sign the dispatch\n", prog);
		goto out;
	}
	if (ra_client_run(c, "card_dispatch", idem, payload, 300000, &job) != JOB_DONE) {
		const char *zh_why = json_string_value(json_object_get(job.result, "error_zh"));
		fprintf(stderr, "%s", prog);
		fprintf(stderr, say(&T_REFUSED, zh), what, zh && zh_why ? zh_why : job.error ? job.error : "?");
		fputc('\n', stderr);
		goto out;
	}
	{
		const char *to = json_string_value(json_object_get(job.result, "dispatch"));
		const char *track = json_string_value(json_object_get(job.result, "tracking"));
		const char *card = json_string_value(json_object_get(job.result, "card"));
		long long order = (long long)json_integer_value(json_object_get(job.result, "order"));

		if (!card)
			card = "?";
		if (!to)
			to = "?";
		if (strcmp(to, "counter") == 0)
			printf(say(&T_COUNTER, zh), order, card);
		else if (strcmp(to, "mailed") == 0)
			printf(say(&T_MAILED, zh), order, card, track ? track : "-");
		else if (strcmp(to, "returned") == 0)
			printf(say(&T_RETURNED, zh), order, card, track ? track : "-");
		else
			printf(say(&T_SET_ASIDE, zh), order, card,
			    (int)json_array_size(json_object_get(job.result, "revoked")));
		putchar('\n');
	}
	rc = 0;
out:
	ra_job_clear(&job);
	json_decref(payload);
	free(what);
	free(idem);
	return rc;
}
