/*
 * backend.c: ra-web's side of the queue protocol, through lib/client.c as every producer.
 *
 * Rules: ZeroMQ sockets belong to one thread, so each serving thread keeps its own
 * client (key "web"), made on its first request and destroyed when the thread ends (a
 * thread-specific key with a destructor); a client that saw the queue unreachable is
 * dropped and made again on the next request. Passwords are sealed to the workers'
 * key here (lib/secret.c) and the caller wipes the clear text at once.
 */
#include "web.h"
#include "client.h"
#include "log.h"
#include "secret.h"
#include "util.h"

#include <pthread.h>
#include <string.h>

static pthread_key_t backend_key;
static pthread_once_t backend_once = PTHREAD_ONCE_INIT;

static void client_free(void *p)
{
	ra_client_t *c = p;
	ra_client_destroy(&c);
}

static void key_make(void)
{
	if (pthread_key_create(&backend_key, client_free) != 0)
		fatal("cannot make a thread-specific key");
}

static ra_client_t *client(struct web *w)
{
	ra_client_t *c;

	pthread_once(&backend_once, key_make);
	if (!(c = pthread_getspecific(backend_key)) && (c = ra_client_new(w->cfg, "web")))
		pthread_setspecific(backend_key, c);
	return c;
}

/* Drop this thread's client: the next request connects afresh. */
static void client_drop(void)
{
	ra_client_t *c = pthread_getspecific(backend_key);
	pthread_setspecific(backend_key, NULL);
	ra_client_destroy(&c);
}

json_t *backend_run(struct web *w, const char *source, const char *kind, json_t *payload, int *pending)
{
	return backend_run_job(w, source, kind, payload, pending, NULL);
}

json_t *backend_run_job(struct web *w, const char *source, const char *kind, json_t *payload, int *pending,
    int64_t *id)
{
	ra_client_t *c = client(w);
	struct ra_job job = { 0 };
	json_t *result = NULL;

	*pending = 0;
	if (!c)
		return NULL;
	json_object_set_new(payload, "source", json_string(source));
	switch (ra_client_run(c, kind, NULL, payload, (int)config_int(w->cfg, "web.wait_ms"), &job)) {
	case JOB_DONE:	/* a job that answers nothing more than being done says {"ok": true} */
		result = job.result ? json_incref(job.result) : json_object();
		if (!json_object_get(result, "ok"))
			json_object_set_new(result, "ok", json_true());
		if (id)
			*id = job.id;
		break;
	case JOB_FAILED:	/* its attempts spent: one shape, told apart from a refusal */
		result = json_pack("{s:b,s:b,s:s}", "ok", 0, "failed", 1, "error",
		    json_string_value(json_object_get(job.result, "error")) ?: job.error ?: "the job failed");
		if (id)
			*id = job.id;
		break;
	case -1:
		log_warn("%s job: %s", kind, job.error ? job.error : "?");
		if (job.id < 0)
			client_drop();
		break;
	default:
		log_warn("%s job %lld not finished in web.wait_ms", kind, (long long)job.id);
		*pending = 1;
	}
	ra_job_clear(&job);
	return result;
}

json_t *backend_query(struct web *w, const char *what, json_t *args)
{
	ra_client_t *c = client(w);
	char *err = NULL;
	json_t *j;

	if (!c)
		return NULL;
	if (!(j = ra_client_query(c, what, args, &err))) {
		log_warn("question %s: %s", what, err ? err : "?");
		if (err && strstr(err, "unreachable"))
			client_drop();
	}
	free(err);
	return j;
}

char *backend_seal(struct web *w, const char *clear)
{
	return secret_seal_for_workers(w->cfg, clear);
}
