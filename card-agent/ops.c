/*
 * ops.c: the operations a page may ask of the agent, in one table: the name the page
 * uses, whether it needs the account, what the subscriber is shown before anything
 * happens, and the shared card sequence it runs (card/sub_ops.c, the one card-station
 * runs at the counter) with the agent's channel: secrets through pinentry, messages
 * collected for the page's answer, jobs relayed through the RA website.
 *
 * Rules: every operation first shows the subscriber, in the agent's own window, which
 * site asks for what on which card, and goes no further without a yes there; a page cannot
 * answer that window. The page's request carries only the operation, the account and the
 * language: never a PIN or a password. One operation at a time (the card is one).
 */
#include "agent.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idcheck.h"
#include "log.h"
#include "util.h"

/* One operation in progress. */
struct op_ctx {
	struct agent *a;
	pinentry_t *pe;
	const char *desc;	/* what is being done, shown above every prompt */
	json_t *messages;
};

typedef int (*op_fn)(struct sub *s, struct op_ctx *o, const char *account);

static int op_pin_change(struct sub *s, struct op_ctx *o, const char *account)
{
	(void)o;
	(void)account;
	return sub_pin_change(s);
}

static int op_unlock(struct sub *s, struct op_ctx *o, const char *account)
{
	(void)o;
	return sub_unlock(s, account);
}

static int op_download(struct sub *s, struct op_ctx *o, const char *account)
{
	(void)o;
	return sub_download(s, account);
}

static int op_renew(struct sub *s, struct op_ctx *o, const char *account)
{
	(void)o;
	return sub_renew(s, account);
}

static int op_export(struct sub *s, struct op_ctx *o, const char *account)
{
	char *chain = relay_ca(o->a), *dir = config_path(o->a->cfg, "agent.export_dir");
	int rc;

	(void)account;
	rc = chain ? sub_export(s, chain, dir) : -1;
	free(chain);
	free(dir);
	return rc;
}

static const struct agent_op {
	const char *name;
	int account;		/* needs the website account */
	const char *zh, *en;	/* shown before anything happens: "%s" the site, "%s" the card */
	op_fn run;
} agent_ops[] = {
	{ "pin-change", 0, "網站 %s 要求變更卡片 %s 的 PIN 碼。", "The site %s asks to change the PIN of card %s.", op_pin_change },
	{ "unlock", 1, "網站 %s 要求以您的網站密碼解鎖卡片 %s 並設定新的 PIN 碼。",
	  "The site %s asks to unlock card %s with your website password and set a new PIN.", op_unlock },
	{ "download", 1, "網站 %s 要求將您的憑證寫入卡片 %s。", "The site %s asks to write your certificates to card %s.",
	  op_download },
	{ "renew", 1, "網站 %s 要求為卡片 %s 產生新的金鑰並展期憑證。",
	  "The site %s asks to generate new keys on card %s and renew its certificates.", op_renew },
	{ "export", 0, "網站 %s 要求將卡片 %s 的憑證與 CA 憑證匯出到您電腦上的資料夾。",
	  "The site %s asks to export the certificates of card %s and the CA chain to a folder of this computer.",
	  op_export },
};

int ops_known(const char *op)
{
	for (size_t i = 0; i < ARRAY_LEN(agent_ops); i++)
		if (strcmp(agent_ops[i].name, op) == 0)
			return 1;
	return 0;
}

static int op_secret(void *ctx, int prompt, const char *text, char *buf, size_t cap)
{
	struct op_ctx *o = ctx;

	(void)prompt;
	return pinentry_getpin(o->pe, o->desc, text, buf, cap);
}

static void op_say(void *ctx, int m, const char *text)
{
	struct op_ctx *o = ctx;

	(void)m;
	json_array_append_new(o->messages, json_string(text));
}

static int op_submit(void *ctx, const char *kind, json_t *payload, json_t **result, int64_t *job, char **why)
{
	struct op_ctx *o = ctx;

	return relay_submit(o->a, kind, payload, result, job, why);
}

/* The reader to use: agent.reader's match, else the one reader holding a card. NULL
 * with the reason in *why. */
static char *op_reader(struct agent *a, pcsc_t *pc, const char **why)
{
	const char *want = config_str(a->cfg, "agent.reader");
	struct pcsc_reader *r = NULL;
	size_t n = 0, hits = 0, hit = 0;
	char *out = NULL;

	*why = "no card reader";
	if (pcsc_readers(pc, &r, &n) != PIV_OK)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (*want ? strstr(r[i].name, want) != NULL : r[i].present) {
			hits++;
			hit = i;
		}
	if (hits == 1 && r[hit].present)
		out = xstrdup(r[hit].name);
	else
		*why = hits > 1 ? "more than one card: leave only yours in a reader" : "no card in the reader";
	pcsc_readers_free(r, n);
	return out;
}

json_t *ops_hello(struct agent *a)
{
	piv_rc rc;
	pcsc_t *pc = pcsc_new(&rc);
	const char *why = "the smart card service is not running";
	char *reader = pc ? op_reader(a, pc, &why) : NULL;
	json_t *out = json_pack("{s:b,s:s,s:s}", "ok", 1, "agent", "card-agent", "version", AGENT_VERSION);

	if (reader)
		json_object_set_new(out, "reader", json_string(reader));
	else
		json_object_set_new(out, "card", json_string(why));
	free(reader);
	pcsc_destroy(&pc);
	return out;
}

json_t *ops_run(struct agent *a, const char *name, const char *origin, json_t *body, unsigned *status)
{
	const struct agent_op *op = NULL;
	const char *account = json_string_value(json_object_get(body, "account"));
	const char *lang = json_string_value(json_object_get(body, "lang"));
	struct op_ctx o = { .a = a, .messages = json_array() };
	struct sub_io io = { .secret = op_secret, .say = op_say, .submit = op_submit, .password = relay_password };
	struct sub s = { .io = &io, .producer = "card-agent" };
	const char *why = NULL;
	char *reader = NULL, *desc = NULL;
	pcsc_t *pc = NULL;
	piv_rc prc;
	int ok = 0, yes;

	io.ctx = &o;
	for (size_t i = 0; i < ARRAY_LEN(agent_ops); i++)
		if (strcmp(agent_ops[i].name, name) == 0)
			op = &agent_ops[i];
	*status = 400;
	if (!op)
		return json_pack("{s:b,s:s}", "ok", 0, "error", "no such operation");
	if (lang && sub_lang_parse(lang, &s.lang) < 0)
		return json_pack("{s:b,s:s}", "ok", 0, "error", "lang: zh-TW or en");
	if (op->account && idcheck_account(account) < 0)
		return json_pack("{s:b,s:s}", "ok", 0, "error", "a website account id is needed");
	s.mgm_alg = strcmp(config_str(a->cfg, "agent.mgm_key_alg"), "3des") == 0 ? PIV_ALG_3DES : PIV_ALG_AES128;
	*status = 409;
	if (pthread_mutex_trylock(&a->busy) != 0)
		return json_pack("{s:b,s:s}", "ok", 0, "error", "another card operation is under way");
	*status = 200;
	if (!(pc = pcsc_new(&prc))) {
		why = "the smart card service is not running";
		goto out;
	}
	if (!(reader = op_reader(a, pc, &why)))
		goto out;
	why = NULL;
	if (sub_open(&s, pc, reader) < 0)
		goto out;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	desc = xasprintf(s.lang == SUB_LANG_EN ? op->en : op->zh, origin, s.serial_text);
#pragma GCC diagnostic pop
	o.desc = desc;
	if (!(o.pe = pinentry_new(config_str(a->cfg, "agent.pinentry")))) {
		why = "the agent's prompt (pinentry) cannot be started";
		goto out;
	}
	yes = pinentry_confirm(o.pe, "card-agent", desc, s.lang == SUB_LANG_EN ? "Allow" : "允許",
	    s.lang == SUB_LANG_EN ? "Refuse" : "拒絕");
	if (yes != 1) {
		log_info("%s: %s of card %s refused by the subscriber", origin, op->name, s.serial_text);
		why = s.lang == SUB_LANG_EN ? "refused in the agent's window" : "已在讀卡程式的視窗中拒絕";
		goto out;
	}
	log_info("%s: %s of card %s", origin, op->name, s.serial_text);
	ok = op->run(&s, &o, account) == 0;
	log_info("%s: %s of card %s: %s", origin, op->name, s.serial_text, ok ? "done" : "not done");
out:
	if (why)
		json_array_append_new(o.messages, json_string(why));
	pinentry_destroy(&o.pe);
	sub_close(&s);
	pcsc_destroy(&pc);
	pthread_mutex_unlock(&a->busy);
	free(reader);
	free(desc);
	return json_pack("{s:b,s:s,s:s,s:o}", "ok", ok, "op", op->name, "serial", s.serial_text, "messages", o.messages);
}
