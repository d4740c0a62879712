/*
 * ctl_dispatch.c: `ra-ctl dispatch ORDER --counter | --mail TRACKING | --returned [--revoke]`:
 * record where a personalized card went, as a card_dispatch job signed by the officer
 * (workers/job_dispatch.c keeps the rules). Messages follow the operators' `language`
 * (en or zh-TW); the worker's refusal is shown as the worker gives it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctl.h"
#include "log.h"
#include "util.h"

/* One message in the operators' two languages. */
struct ctl_text {
	const char *en, *zh;
};

static const struct ctl_text T_COUNTER = { "order %lld: card %s handed over at the counter",
	"訂單 %lld：卡片 %s 已於櫃檯交付" };
static const struct ctl_text T_MAILED = { "order %lld: card %s mailed, tracking number %s",
	"訂單 %lld：卡片 %s 已郵寄，掛號號碼 %s" };
static const struct ctl_text T_RETURNED = { "order %lld: card %s came back undelivered (tracking number %s)",
	"訂單 %lld：卡片 %s 郵件退回（掛號號碼 %s）" };
static const struct ctl_text T_SET_ASIDE = { "order %lld: card %s returned, %d certificate(s) revoked, card set aside",
	"訂單 %lld：卡片 %s 已退回，已廢止 %d 張憑證，卡片已留置" };
static const struct ctl_text T_REFUSED = { "order %lld: not recorded: %s", "訂單 %lld：未登錄：%s" };
static const struct ctl_text T_USAGE = {
	"dispatch ORDER needs one of --counter, --mail TRACKING, --returned [--revoke]",
	"dispatch ORDER 需指定 --counter、--mail 掛號號碼 或 --returned [--revoke] 其中之一" };

static const char *ctl_say(const config_t *cfg, const struct ctl_text *t)
{
	return strcmp(config_str(cfg, "language"), "zh-TW") == 0 ? t->zh : t->en;
}

int ctl_dispatch(const config_t *cfg, long long order, const struct ctl_dispatch_opts *o,
    const struct ctl_as *as)
{
	const char *how = o->counter ? "counter" : o->mail ? "mail" : o->returned ? "returned" : NULL;
	struct ra_job job = { 0 };
	officer_cred_t *officer;
	ra_client_t *c = NULL;
	json_t *payload;
	char *idem;
	int rc = 1;

	if (order <= 0 || !how || (o->counter + !!o->mail + o->returned) != 1 || (o->revoke && !o->returned)) {
		fprintf(stderr, "ra-ctl: %s\n", ctl_say(cfg, &T_USAGE));
		return 2;
	}
	payload = json_pack("{s:I,s:s,s:s?,s:b}", "order", (json_int_t)order, "how", how,
	    "tracking", o->mail, "revoke", o->revoke);
	idem = officer_idem_new("card_dispatch");
	officer = ctl_as_open(cfg, as, "dispatch");
	if (officer_sign(officer, "card_dispatch", idem, payload) < 0)
		fatal("cannot sign the dispatch");
	officer_cred_destroy(&officer);
	if (!(c = ra_client_new(cfg, "ctl")))
		fatal("cannot set up the connection to ra-queue (keys in %s?)", config_home(cfg));
	if (ra_client_run(c, "card_dispatch", idem, payload, 300000, &job) != JOB_DONE) {
		fprintf(stderr, "ra-ctl: ");
		fprintf(stderr, ctl_say(cfg, &T_REFUSED), order, job.error ? job.error : "?");
		fputc('\n', stderr);
		goto out;
	}
	{
		const char *to = json_string_value(json_object_get(job.result, "dispatch"));
		const char *track = json_string_value(json_object_get(job.result, "tracking"));
		json_t *ans = NULL;
		char *err = NULL;
		const char *card = "?";

		/* the card serial, for the operator's line */
		ans = ra_client_query(c, "orders", NULL, &err);
		for (size_t i = 0; ans && i < json_array_size(json_object_get(ans, "orders")); i++) {
			json_t *r = json_array_get(json_object_get(ans, "orders"), i);
			if (json_integer_value(json_object_get(r, "id")) == order &&
			    json_string_value(json_object_get(r, "card_serial")))
				card = json_string_value(json_object_get(r, "card_serial"));
		}
		if (strcmp(to, "counter") == 0)
			printf(ctl_say(cfg, &T_COUNTER), order, card);
		else if (strcmp(to, "mailed") == 0)
			printf(ctl_say(cfg, &T_MAILED), order, card, track ? track : "-");
		else if (strcmp(to, "returned") == 0)
			printf(ctl_say(cfg, &T_RETURNED), order, card, track ? track : "-");
		else
			printf(ctl_say(cfg, &T_SET_ASIDE), order, card,
			    (int)json_array_size(json_object_get(job.result, "revoked")));
		putchar('\n');
		json_decref(ans);
		free(err);
	}
	rc = 0;
out:
	ra_job_clear(&job);
	ra_client_destroy(&c);
	json_decref(payload);
	free(idem);
	return rc;
}
