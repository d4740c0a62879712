/*
 * backend.c: ra-web's side of the queue protocol, through lib/client.c as every producer.
 *
 * Rules: ZeroMQ sockets belong to one thread, so each serving thread keeps its own
 * client (key "web"), made on its first request; a client that saw the queue unreachable
 * is dropped and made again on the next request. Passwords are sealed to the workers'
 * key here (lib/secret.c) and the caller wipes the clear text at once.
 */
#include "web.h"
#include "client.h"
#include "log.h"
#include "secret.h"
#include "util.h"

#include <string.h>

static __thread ra_client_t *backend_client;

static ra_client_t *client(struct web *w)
{
	if (!backend_client)
		backend_client = ra_client_new(w->cfg, "web");
	return backend_client;
}

json_t *backend_run(struct web *w, const char *source, const char *kind, json_t *payload, int *pending)
{
	ra_client_t *c = client(w);
	struct ra_job job = { 0 };
	json_t *result = NULL;

	*pending = 0;
	if (!c)
		return NULL;
	json_object_set_new(payload, "source", json_string(source));
	switch (ra_client_run(c, kind, NULL, payload, (int)config_int(w->cfg, "web.wait_ms"), &job)) {
	case JOB_DONE:
	case JOB_FAILED:
		result = json_incref(job.result);
		break;
	case -1:
		log_warn("%s job: %s", kind, job.error ? job.error : "?");
		if (job.id < 0)
			ra_client_destroy(&backend_client);
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
			ra_client_destroy(&backend_client);
	}
	free(err);
	return j;
}

char *backend_seal(struct web *w, const char *clear)
{
	return secret_seal_for_workers(w->cfg, clear);
}
