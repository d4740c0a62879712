/*
 * cardkey_client.c: a worker's connection to ra-cardkey. The worker never holds the card
 * master key: it sends the card's witness and answer, and gets back the decrypted witness
 * and challenge, a verdict, or PUKs already sealed to the station. Every request is
 * idempotent at ra-cardkey, so one that gets no answer in time is sent again on a fresh
 * socket (net_call, Lazy Pirate) until worker.cardkey_timeout_ms has passed.
 */
#include "cardkey_client.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "util.h"

#include <string.h>

struct cardkey_client {
	net_peer_t *peer;
	int timeout_ms;
};

cardkey_client_t *cardkey_client_new(const config_t *cfg, const char *name)
{
	cardkey_client_t *c = xcalloc(1, sizeof *c);

	c->timeout_ms = (int)config_int(cfg, "worker.cardkey_timeout_ms");
	if (!(c->peer = net_peer_new(cfg, "ra-cardkey", "cardkey.endpoint", "cardkey", "workers", name, 0)))
		cardkey_client_destroy(&c);
	return c;
}

void cardkey_client_destroy(cardkey_client_t **pc)
{
	cardkey_client_t *c = pc ? *pc : NULL;

	if (!c)
		return;
	net_peer_destroy(&c->peer);
	free(c);
	*pc = NULL;
}

struct cardkey_arg {
	enum msg_cmd cmd;
	const char *rid, *serial;
	const uint8_t *data, *recipient;
	size_t len;
	int64_t version;
};

static msg_t *cardkey_build(const void *arg)
{
	const struct cardkey_arg *a = arg;
	msg_t *m = msg_new(a->cmd);

	msg_add_str(m, a->rid);
	msg_add_str(m, a->serial);
	msg_add_mem(m, a->data, a->len);
	if (a->cmd == MSG_CARD_PROOF) {
		msg_add_mem(m, a->recipient, a->recipient ? 32 : 0);
		msg_add_i64(m, a->version);
	}
	return m;
}

/* Ask until an answer comes or the timeout has passed; its JSON, or NULL with ctx->error. */
static json_t *cardkey_call(struct job_ctx *ctx, const struct cardkey_arg *a)
{
	cardkey_client_t *c = ctx->cardkey;
	int per_try, tries, code;
	char *err = NULL;
	msg_t *rep;
	json_t *j = NULL;

	if (!c) {
		job_fail(ctx, 1, "this worker has no connection to ra-cardkey");
		return NULL;
	}
	config_call_plan(c->timeout_ms, &tries, &per_try);
	rep = net_call(c->peer, cardkey_build, a, tries, per_try, &code, &err);
	if (!rep && code == MERR_REFUSED && a->cmd == MSG_CARD_PROOF)
		job_refuse(ctx, JT_CARDKEY_NOT_CARD, err);
	else if (!rep && code == MERR_INTERNAL)
		job_fail(ctx, 1, "ra-cardkey refused: %s", err);
	else if (!rep && code >= 0)
		job_refuse(ctx, JT_CARDKEY_REFUSED, err);
	else if (!rep)
		job_fail(ctx, 1, "%s", err);
	else if (rep->cmd != MSG_ANSWER || !(j = msg_json(rep, 0)))
		job_fail(ctx, 1, "ra-cardkey answered with something unexpected");
	free(err);
	msg_destroy(&rep);
	return j;
}

json_t *cardkey_client_challenge(struct job_ctx *ctx, const char *rid, const char *serial,
    const uint8_t *witness, size_t wlen)
{
	struct cardkey_arg a = { MSG_CARD_CHALLENGE, rid, serial, witness, NULL, wlen, 0 };
	return cardkey_call(ctx, &a);
}

json_t *cardkey_client_proof(struct job_ctx *ctx, const char *rid, const char *serial,
    const uint8_t *response, size_t rlen, const uint8_t *recipient, int64_t version)
{
	struct cardkey_arg a = { MSG_CARD_PROOF, rid, serial, response, recipient, rlen, version };
	return cardkey_call(ctx, &a);
}
