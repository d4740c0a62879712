/*
 * client.c: the producer side of the queue protocol (see client.h, msg.h).
 *
 * Lazy Pirate: a request that gets no answer in time is sent again on a fresh socket, a
 * few times, before the queue is declared unreachable. That is safe because every SUBMIT
 * carries an idempotency key (one is made up when the caller has none), WAIT and QUERY
 * change nothing.
 */
#include "client.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "util.h"

#include <openssl/rand.h>
#include <string.h>

#define CLIENT_TRIES 3
#define CLIENT_TIMEOUT_MS 5000

struct ra_client {
	zsock_t *sock;
	zcert_t *cert;
	char *endpoint;
	char *server_cert;
};

static const char *const state_names[] = { "queued", "leased", "done", "failed" };

const char *job_state_name(enum job_state s)
{
	return (unsigned)s < ARRAY_LEN(state_names) ? state_names[s] : "unknown";
}

static int client_connect(ra_client_t *c)
{
	zsock_destroy(&c->sock);
	c->sock = net_client(ZMQ_DEALER, c->endpoint, c->cert, c->server_cert);
	return c->sock ? 0 : -1;
}

ra_client_t *ra_client_new(const config_t *cfg, const char *name)
{
	ra_client_t *c = xcalloc(1, sizeof *c);
	char *mine = net_key_path(cfg, "clients", name);

	c->endpoint = net_endpoint(cfg, "queue.endpoint");
	c->server_cert = net_key_path(cfg, "", "queue");
	c->cert = net_cert_load(mine);
	free(mine);
	if (!c->cert || client_connect(c) < 0) {
		ra_client_destroy(&c);
		return NULL;
	}
	return c;
}

void ra_client_destroy(ra_client_t **pc)
{
	ra_client_t *c = pc ? *pc : NULL;
	if (!c)
		return;
	zsock_destroy(&c->sock);
	zcert_destroy(&c->cert);
	free(c->endpoint);
	free(c->server_cert);
	free(c);
	*pc = NULL;
}

/*
 * Send a copy of REQ (built by BUILD each try) and wait for one reply. Returns the reply
 * or NULL with *err set. An ERROR reply is turned into NULL + its text.
 */
typedef msg_t *(*build_fn)(const void *arg);

static msg_t *client_call(ra_client_t *c, build_fn build, const void *arg, int timeout_ms, char **err)
{
	for (int attempt = 0; attempt < CLIENT_TRIES; attempt++) {
		msg_t *req = build(arg);
		zpoller_t *p;
		void *ready;

		if (msg_send(&req, c->sock) < 0)
			break;
		p = zpoller_new(c->sock, NULL);
		ready = zpoller_wait(p, timeout_ms);
		zpoller_destroy(&p);
		if (ready) {
			msg_t *rep = msg_recv(c->sock, 0, NULL);
			if (rep && rep->cmd == MSG_ERROR) {
				char *t = msg_str(rep, 1);
				*err = xasprintf("%s", t ? t : "error");
				free(t);
				msg_destroy(&rep);
				return NULL;
			}
			if (rep)
				return rep;
			*err = xstrdup("the queue sent a malformed reply");
			return NULL;
		}
		if (zsys_interrupted)
			break;
		log_warn("no answer from the queue at %s; trying again (%d/%d)", c->endpoint,
		    attempt + 1, CLIENT_TRIES);
		if (client_connect(c) < 0)
			break;
	}
	*err = xasprintf("queue unreachable at %s (is ra-queue running, and is this station's key allowed?)",
	    c->endpoint);
	return NULL;
}

struct submit_arg {
	const char *kind, *idem;
	json_t *payload;
};

static msg_t *build_submit(const void *arg)
{
	const struct submit_arg *a = arg;
	msg_t *m = msg_new(MSG_SUBMIT);
	msg_add_str(m, a->kind);
	msg_add_str(m, a->idem);
	msg_add_json(m, a->payload);
	return m;
}

int64_t ra_client_submit(ra_client_t *c, const char *kind, const char *idem_key,
    json_t *payload, char **err)
{
	char made[40];
	struct submit_arg a = { kind, idem_key, payload };
	msg_t *rep;
	int64_t id;
	int ok = 0;

	if (!idem_key || !*idem_key) {
		uint8_t r[16];
		RAND_bytes(r, sizeof r);
		memcpy(made, "r:", 2);
		hex_encode(r, sizeof r, made + 2);
		a.idem = made;
	}
	rep = client_call(c, build_submit, &a, CLIENT_TIMEOUT_MS, err);
	if (!rep)
		return -1;
	id = rep->cmd == MSG_ACK ? msg_i64(rep, 0, &ok) : -1;
	msg_destroy(&rep);
	if (!ok) {
		*err = xstrdup("the queue answered SUBMIT with something other than ACK");
		return -1;
	}
	return id;
}

struct wait_arg {
	int64_t id;
	int timeout_ms;
};

static msg_t *build_wait(const void *arg)
{
	const struct wait_arg *a = arg;
	msg_t *m = msg_new(MSG_WAIT);
	msg_add_i64(m, a->id);
	msg_add_i64(m, a->timeout_ms);
	return m;
}

int ra_client_wait(ra_client_t *c, int64_t id, int timeout_ms, json_t **result, char **err)
{
	struct wait_arg a = { id, timeout_ms };
	msg_t *rep = client_call(c, build_wait, &a, timeout_ms + CLIENT_TIMEOUT_MS, err);
	char *state;
	int rc = -1;

	if (!rep)
		return -1;
	if (rep->cmd != MSG_STATE) {
		*err = xstrdup("the queue answered WAIT with something other than STATE");
		goto out;
	}
	state = msg_str(rep, 1);
	for (int i = 0; state && i < (int)ARRAY_LEN(state_names); i++)
		if (strcmp(state, state_names[i]) == 0)
			rc = i;
	free(state);
	if (rc < 0) {
		*err = xstrdup("the queue sent an unknown job state");
		goto out;
	}
	if (result)
		*result = (rc == JOB_DONE || rc == JOB_FAILED) ? msg_json(rep, 2) : NULL;
out:
	msg_destroy(&rep);
	return rc;
}

int ra_client_run(ra_client_t *c, const char *kind, const char *idem_key, json_t *payload,
    int wait_ms, int64_t *id, json_t **result, char **err)
{
	int64_t job = ra_client_submit(c, kind, idem_key, payload, err);

	if (id)
		*id = job > 0 ? job : 0;
	if (result)
		*result = NULL;
	return job < 0 ? -1 : ra_client_wait(c, job, wait_ms, result, err);
}

struct query_arg {
	const char *what;
	json_t *args;
};

static msg_t *build_query(const void *arg)
{
	const struct query_arg *a = arg;
	msg_t *m = msg_new(MSG_QUERY);
	json_t *empty = json_object();
	msg_add_str(m, a->what);
	msg_add_json(m, a->args ? a->args : empty);
	json_decref(empty);
	return m;
}

json_t *ra_client_query(ra_client_t *c, const char *what, json_t *args, char **err)
{
	struct query_arg a = { what, args };
	msg_t *rep = client_call(c, build_query, &a, CLIENT_TIMEOUT_MS * 2, err);
	json_t *j = NULL;
	if (!rep)
		return NULL;
	if (rep->cmd == MSG_ANSWER)
		j = msg_json(rep, 0);
	if (!j)
		*err = xstrdup("the queue sent a malformed answer");
	msg_destroy(&rep);
	return j;
}
