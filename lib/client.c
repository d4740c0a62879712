/*
 * client.c: the producer side of the queue protocol (see client.h, msg.h).
 *
 * Every request goes through net_call (lib/net.h: Lazy Pirate retries). That is safe
 * because every SUBMIT carries an idempotency key (one is made up when the caller has
 * none), WAIT and QUERY change nothing. ra_client_run() is the one "submit, then wait for
 * the result" that every producer uses.
 *
 * The queue scopes idempotency keys by producer and kind (lib/jobs.c); a producer that
 * derives its keys from what others can know (a card serial, a job id) makes them with
 * ra_client_key, an HMAC under its own CURVE secret key, so no other producer can even
 * compute them.
 */
#include "client.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>
#include <unistd.h>

#define CLIENT_TRIES 3
#define CLIENT_TIMEOUT_MS 5000
#define CLIENT_SLICE_MS 5000	/* a long wait is asked in slices: a restarted queue is noticed */

struct ra_client {
	net_peer_t *queue;
};

static const char *const state_names[] = { "queued", "leased", "done", "failed" };

const char *job_state_name(enum job_state s)
{
	return (unsigned)s < ARRAY_LEN(state_names) ? state_names[s] : "unknown";
}

ra_client_t *ra_client_new(const config_t *cfg, const char *name)
{
	ra_client_t *c = xcalloc(1, sizeof *c);

	if (!(c->queue = net_peer_new(cfg, "the queue", "queue.endpoint", "queue", "clients", name, 1)))
		ra_client_destroy(&c);
	return c;
}

ra_client_t *ra_client_new_instance(const config_t *cfg, const char *producer, const char *instance)
{
	char *name, *path, *secret;
	ra_client_t *c;
	int own = 0;

	/* the queue knows an instance only by a valid name (lib/jobs.h); here it is only kept
	 * inside the keys folder */
	if (instance && *instance && !strpbrk(instance, "/.")) {
		name = xasprintf("%s.%s", producer, instance);
		path = net_key_path(cfg, "clients", name);
		secret = xasprintf("%s_secret", path);
		own = access(secret, F_OK) == 0;
		free(secret);
		free(path);
		if (own) {
			log_debug("using the key pair of %s", name);
			c = ra_client_new(cfg, name);
			free(name);
			return c;
		}
		free(name);
	}
	return ra_client_new(cfg, producer);
}

void ra_client_destroy(ra_client_t **pc)
{
	ra_client_t *c = pc ? *pc : NULL;
	if (!c)
		return;
	net_peer_destroy(&c->queue);
	free(c);
	*pc = NULL;
}

/* net_call to the queue; NULL with *err, which for silence says what to check, and
 * *CODE (may be NULL) NET_UNREACHABLE for silence. */
static msg_t *client_call_code(ra_client_t *c, net_build_fn build, const void *arg, int timeout_ms,
    int *code_out, char **err)
{
	int code = 0;
	msg_t *rep = net_call(c->queue, build, arg, CLIENT_TRIES, timeout_ms, &code, err);

	if (code_out)
		*code_out = rep ? 0 : code;
	if (!rep && code == NET_UNREACHABLE) {
		free(*err);
		*err = xasprintf("queue unreachable at %s (is ra-queue running, and is this station's key allowed?)",
		    net_peer_endpoint(c->queue));
	}
	return rep;
}

static msg_t *client_call(ra_client_t *c, net_build_fn build, const void *arg, int timeout_ms, char **err)
{
	return client_call_code(c, build, arg, timeout_ms, NULL, err);
}

#define CLIENT_KEY_BYTES 16
#define CLIENT_AGAIN_MS 250	/* between asks while the queue is silent (restarting) */

char *ra_client_key(ra_client_t *c, const char *kind, const char *text)
{
	static const char label[] = "ra idem v1";
	uint8_t mac[32];
	char *buf, *out = NULL;
	size_t len = sizeof label + strlen(kind) + 1 + strlen(text);

	buf = xmalloc(len);
	memcpy(buf, label, sizeof label);
	memcpy(buf + sizeof label, kind, strlen(kind) + 1);
	memcpy(buf + sizeof label + strlen(kind) + 1, text, strlen(text));
	if (net_peer_hmac(c->queue, buf, len, mac) == 0) {
		out = xmalloc(2 + 2 * CLIENT_KEY_BYTES + 1);
		memcpy(out, "h:", 2);
		hex_encode(mac, CLIENT_KEY_BYTES, out + 2);
	}
	OPENSSL_cleanse(mac, sizeof mac);
	free(buf);
	return out;
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

/* A random idempotency key into OUT ("r:" and hex): a job sent again after silence is
 * still one job. 0, or -1 with *err. */
static int client_random_key(char out[2 + 2 * CLIENT_KEY_BYTES + 1], char **err)
{
	uint8_t r[CLIENT_KEY_BYTES];

	if (RAND_bytes(r, sizeof r) != 1) {
		*err = xstrdup("cannot make an idempotency key: the random generator failed");
		return -1;
	}
	memcpy(out, "r:", 2);
	hex_encode(r, sizeof r, out + 2);
	return 0;
}

/* ra_client_submit; *UNREACHABLE (may be NULL) is set when the queue stayed silent. */
static int64_t client_submit(ra_client_t *c, const char *kind, const char *idem_key,
    json_t *payload, int *unreachable, char **err)
{
	char made[2 + 2 * CLIENT_KEY_BYTES + 1];
	struct submit_arg a = { kind, idem_key, payload };
	msg_t *rep;
	int64_t id;
	int ok = 0, code;

	if (unreachable)
		*unreachable = 0;
	if (!idem_key || !*idem_key) {
		if (client_random_key(made, err) < 0)
			return -1;
		a.idem = made;
	}
	rep = client_call_code(c, build_submit, &a, CLIENT_TIMEOUT_MS, &code, err);
	if (!rep) {
		if (unreachable)
			*unreachable = code == NET_UNREACHABLE;
		return -1;
	}
	id = rep->cmd == MSG_ACK ? msg_i64(rep, 0, &ok) : -1;
	msg_destroy(&rep);
	if (!ok) {
		*err = xstrdup("the queue answered SUBMIT with something other than ACK");
		return -1;
	}
	return id;
}

int64_t ra_client_submit(ra_client_t *c, const char *kind, const char *idem_key,
    json_t *payload, char **err)
{
	return client_submit(c, kind, idem_key, payload, NULL, err);
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

/* ra_client_wait; *UNREACHABLE is set when the queue stayed silent. */
static int client_wait(ra_client_t *c, int64_t id, int timeout_ms, json_t **result, int *unreachable,
    char **err)
{
	struct wait_arg a = { id, timeout_ms };
	int code;
	msg_t *rep = client_call_code(c, build_wait, &a, timeout_ms + CLIENT_TIMEOUT_MS, &code, err);
	char *state;
	int rc = -1;

	*unreachable = 0;
	if (!rep) {
		*unreachable = code == NET_UNREACHABLE;
		return -1;
	}
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

int ra_client_wait(ra_client_t *c, int64_t id, int timeout_ms, json_t **result, char **err)
{
	int unreachable;

	return client_wait(c, id, timeout_ms, result, &unreachable, err);
}

void ra_job_clear(struct ra_job *job)
{
	json_decref(job->result);
	free(job->error);
	memset(job, 0, sizeof *job);
}

int ra_client_await(ra_client_t *c, int64_t id, int timeout_ms, struct ra_job *job)
{
	int64_t deadline = mono_ms() + timeout_ms;

	ra_job_clear(job);
	job->id = id;
	for (;;) {
		int64_t left = deadline - mono_ms(), t0 = mono_ms();
		int slice = (int)(left < CLIENT_SLICE_MS ? (left > 0 ? left : 0) : CLIENT_SLICE_MS);
		int unreachable;

		json_decref(job->result);
		job->result = NULL;
		free(job->error);
		job->error = NULL;
		job->state = client_wait(c, id, slice, &job->result, &unreachable, &job->error);
		if (job->state < 0 && unreachable && !zsys_interrupted && mono_ms() + CLIENT_AGAIN_MS < deadline) {
			/* The job is in the ledger whatever became of the queue (killed and restarted,
			 * say): ask again until the time is up, not give up on the first silence. */
			zclock_sleep(CLIENT_AGAIN_MS);
			continue;
		}
		if (job->state < 0 && unreachable) {
			free(job->error);
			job->error = xasprintf("no answer from the queue about job %lld (it is in the ledger: ask"
			    " again)", (long long)id);
		}
		if (job->state < 0 || job->state == JOB_DONE)
			break;
		if (job->state == JOB_FAILED) {
			const char *e = json_string_value(json_object_get(job->result, "error"));
			job->error = xstrdup(e ? e : "failed");
			break;
		}
		if (mono_ms() >= deadline) {
			job->error = xasprintf("job %lld is still %s", (long long)id,
			    job_state_name((enum job_state)job->state));
			break;
		}
		/* The queue answers at once when it cannot hold another waiter: do not spin. */
		if (mono_ms() - t0 < slice / 2)
			zclock_sleep(100);
	}
	return job->state;
}

int ra_client_run(ra_client_t *c, const char *kind, const char *idem_key, json_t *payload,
    int timeout_ms, struct ra_job *job)
{
	char made[2 + 2 * CLIENT_KEY_BYTES + 1], *err = NULL;
	int64_t deadline = mono_ms() + timeout_ms, id;
	int unreachable;

	if (!idem_key || !*idem_key) {
		if (client_random_key(made, &err) < 0) {
			ra_job_clear(job);
			job->id = -1;
			job->state = -1;
			job->error = err;
			return -1;
		}
		idem_key = made;
	}
	/* Sent again while the queue is silent, under the same key: one job however often. */
	while ((id = client_submit(c, kind, idem_key, payload, &unreachable, &err)) < 0 && unreachable &&
	    !zsys_interrupted && mono_ms() + CLIENT_AGAIN_MS < deadline) {
		free(err);
		err = NULL;
		zclock_sleep(CLIENT_AGAIN_MS);
	}
	if (id < 0) {
		ra_job_clear(job);
		job->id = -1;
		job->state = -1;
		job->error = err;
		return -1;
	}
	timeout_ms = (int)(deadline - mono_ms());
	return ra_client_await(c, id, timeout_ms > 0 ? timeout_ms : 0, job);
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
