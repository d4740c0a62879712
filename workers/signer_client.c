/*
 * signer_client.c: a worker's connection to ca-signer. Every request is idempotent at
 * the signer (by request id), so a request that gets no answer in time is sent again on
 * a fresh socket (net_call, Lazy Pirate) until worker.signer_timeout_ms has passed.
 */
#include "jobs.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "util.h"
#include "signer_client.h"

#include <string.h>

struct signer_client {
	net_peer_t *peer;
	int timeout_ms;
};

signer_client_t *signer_client_new(const config_t *cfg, const char *name)
{
	signer_client_t *s = xcalloc(1, sizeof *s);

	s->timeout_ms = (int)config_int(cfg, "worker.signer_timeout_ms");
	if (!(s->peer = net_peer_new(cfg, "ca-signer", "signer.endpoint", "signer", "workers", name, 0)))
		signer_client_destroy(&s);
	return s;
}

void signer_client_destroy(signer_client_t **ps)
{
	signer_client_t *s = ps ? *ps : NULL;
	if (!s)
		return;
	net_peer_destroy(&s->peer);
	free(s);
	*ps = NULL;
}

/* Ask until an answer comes or worker.signer_timeout_ms has passed (config_call_plan: up to
 * three tries, never longer in all; queue.lease_ms is checked against it). NULL
 * with ctx->error: a refusal is retried only if the signer says it may succeed later. */
static msg_t *signer_client_call(struct job_ctx *ctx, net_build_fn build, const void *arg)
{
	signer_client_t *s = ctx->signer;
	int per_try, tries, code;
	char *err = NULL;
	msg_t *rep;

	config_call_plan(s->timeout_ms, &tries, &per_try);
	rep = net_call(s->peer, build, arg, tries, per_try, &code, &err);

	if (!rep && code == MERR_INTERNAL)
		job_fail(ctx, 1, "ca-signer refused: %s", err);
	else if (!rep && code >= 0)
		job_refuse(ctx, JT_SIGNER_REFUSED, err);
	else if (!rep)	/* no answer at all: the job waits for the signer without spending attempts */
		job_fail(ctx, code == NET_UNREACHABLE ? JOB_RETRY_WAIT : JOB_RETRY, "%s", err);
	free(err);
	return rep;
}

struct sign_arg {
	const char *request_id, *usage;
	const uint8_t *csr;
	size_t csr_len;
	json_t *subject;
};

static msg_t *build_sign(const void *arg)
{
	const struct sign_arg *a = arg;
	msg_t *m = msg_new(MSG_SIGN);
	msg_add_str(m, a->request_id);
	msg_add_str(m, a->usage);
	msg_add_mem(m, a->csr, a->csr_len);
	msg_add_json(m, a->subject);
	return m;
}

uint8_t *signer_client_sign(struct job_ctx *ctx, const char *request_id, const char *usage,
    const uint8_t *csr, size_t csr_len, json_t *subject, size_t *der_len, char serial[41])
{
	struct sign_arg a = { request_id, usage, csr, csr_len, subject };
	msg_t *rep = signer_client_call(ctx, build_sign, &a);
	uint8_t *der = NULL;
	char *ser;

	if (!rep)
		return NULL;
	if (rep->cmd != MSG_CERT || !(ser = msg_str(rep, 1)) || strlen(ser) > 40) {
		job_fail(ctx, 1, "ca-signer answered SIGN with something other than a certificate");
		msg_destroy(&rep);
		return NULL;
	}
	snprintf(serial, 41, "%s", ser);
	free(ser);
	*der_len = msg_len(rep, 0);
	der = xmalloc(*der_len);
	memcpy(der, msg_data(rep, 0), *der_len);
	msg_destroy(&rep);
	return der;
}

struct status_arg {
	const char *request_id, *serial, *action, *reason;
	int64_t invalidity;
};

static msg_t *build_status(const void *arg)
{
	const struct status_arg *a = arg;
	msg_t *m = msg_new(MSG_STATUS);
	msg_add_str(m, a->request_id);
	msg_add_str(m, a->serial);
	msg_add_str(m, a->action);
	msg_add_str(m, a->reason ? a->reason : "");
	msg_add_i64(m, a->invalidity);
	return m;
}

json_t *signer_client_status(struct job_ctx *ctx, const char *request_id, const char *serial,
    const char *action, const char *reason, int64_t invalidity)
{
	struct status_arg a = { request_id, serial, action, reason, invalidity };
	msg_t *rep = signer_client_call(ctx, build_status, &a);
	json_t *j = NULL;
	if (!rep)
		return NULL;
	if (rep->cmd != MSG_ANSWER || !(j = msg_json(rep, 0)))
		job_fail(ctx, 1, "ca-signer answered STATUS with something unexpected");
	msg_destroy(&rep);
	return j;
}

static msg_t *build_crl(const void *arg)
{
	(void)arg;
	return msg_new(MSG_CRL);
}

int signer_client_crl(struct job_ctx *ctx)
{
	msg_t *rep = signer_client_call(ctx, build_crl, NULL);
	int rc = rep && rep->cmd == MSG_ANSWER ? 0 : -1;
	msg_destroy(&rep);
	return rc;
}

struct checkpoint_arg {
	int64_t rows;
	const char *head;
};

static msg_t *build_checkpoint(const void *arg)
{
	const struct checkpoint_arg *a = arg;
	msg_t *m = msg_new(MSG_CHECKPOINT);
	msg_add_i64(m, a->rows);
	msg_add_str(m, a->head);
	return m;
}

json_t *signer_client_checkpoint(struct job_ctx *ctx, int64_t rows, const char *head)
{
	struct checkpoint_arg a = { rows, head };
	msg_t *rep = signer_client_call(ctx, build_checkpoint, &a);
	json_t *j = NULL;
	if (!rep)
		return NULL;
	if (rep->cmd != MSG_ANSWER || !(j = msg_json(rep, 0)))
		job_fail(ctx, 1, "ca-signer answered CHECKPOINT with something unexpected");
	msg_destroy(&rep);
	return j;
}
