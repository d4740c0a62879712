/*
 * signer_client.c: a worker's connection to ca-signer. Every request is idempotent at
 * the signer (by request id), so a request that gets no answer in time is sent again on
 * a fresh socket (Lazy Pirate) until worker.signer_timeout_ms has passed.
 */
#include "log.h"
#include "msg.h"
#include "net.h"
#include "util.h"
#include "jobs.h"
#include "worker.h"

#include <string.h>

struct signer_client {
	zsock_t *sock;
	zcert_t *cert;
	char *endpoint, *server_cert;
	int64_t timeout_ms;
};

signer_client_t *signer_client_new(const config_t *cfg, const char *name)
{
	signer_client_t *s = xcalloc(1, sizeof *s);
	char *mine = net_key_path(cfg, "workers", name);
	s->cert = net_cert_load(mine);
	free(mine);
	s->endpoint = net_endpoint(cfg, "signer.endpoint");
	s->server_cert = net_key_path(cfg, "", "signer");
	s->timeout_ms = config_int(cfg, "worker.signer_timeout_ms");
	if (!s->cert)
		signer_client_destroy(&s);
	return s;
}

void signer_client_destroy(signer_client_t **ps)
{
	signer_client_t *s = ps ? *ps : NULL;
	if (!s)
		return;
	zsock_destroy(&s->sock);
	zcert_destroy(&s->cert);
	free(s->endpoint);
	free(s->server_cert);
	free(s);
	*ps = NULL;
}

typedef msg_t *(*build_fn)(const void *arg);

/* Send BUILD(arg) until an answer comes or the time is up. NULL with ctx->error. */
static msg_t *signer_client_call(struct job_ctx *ctx, build_fn build, const void *arg)
{
	signer_client_t *s = ctx->signer;
	int64_t deadline = mono_ms() + s->timeout_ms;
	int64_t per_try = s->timeout_ms / 3 > 1000 ? s->timeout_ms / 3 : 1000;

	while (mono_ms() < deadline && !zsys_interrupted) {
		msg_t *req = build(arg), *rep;
		zpoller_t *p;
		void *ready;

		if (!s->sock && !(s->sock = net_client(ZMQ_DEALER, s->endpoint, s->cert, s->server_cert)))
			break;
		if (msg_send(&req, s->sock) < 0)
			break;
		p = zpoller_new(s->sock, NULL);
		ready = zpoller_wait(p, (int)per_try);
		zpoller_destroy(&p);
		if (!ready) {
			log_warn("ca-signer did not answer in %lld ms; asking again", (long long)per_try);
			zsock_destroy(&s->sock);
			continue;
		}
		rep = msg_recv(s->sock, 0, NULL);
		if (rep && rep->cmd == MSG_ERROR) {
			int ok;
			int64_t code = msg_i64(rep, 0, &ok);
			char *t = msg_str(rep, 1);
			job_fail(ctx, code == MERR_INTERNAL, "ca-signer refused: %s", t ? t : "?");
			free(t);
			msg_destroy(&rep);
			return NULL;
		}
		if (!rep)
			job_fail(ctx, 1, "ca-signer sent a malformed answer");
		return rep;
	}
	job_fail(ctx, JOB_RETRY_WAIT, "ca-signer unreachable at %s", s->endpoint);
	return NULL;
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
