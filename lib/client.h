/*
 * client.h: a producer's connection to ra-queue (ra-intake, ra-self, card-station, ra-ctl).
 *
 * Producers never open ra.db: they speak only ZeroMQ (CURVE) to ra-queue, submit jobs and
 * wait for results. The queue commits a job before it acknowledges it, so once
 * ra_client_submit() returns a job id the job survives any crash. Submitting again with
 * the same idempotency key returns the same job, so a producer that crashed before
 * hearing the answer simply submits again.
 */
#ifndef RA_CLIENT_H
#define RA_CLIENT_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"

typedef struct ra_client ra_client_t;

enum job_state { JOB_QUEUED = 0, JOB_LEASED = 1, JOB_DONE = 2, JOB_FAILED = 3 };
const char *job_state_name(enum job_state s);

/*
 * Connect to the queue named by queue.endpoint with the CURVE key pair of client NAME
 * (keys/clients/NAME.key, keys/clients/NAME.pub from the deployment). NULL on failure
 * (logged).
 */
ra_client_t *ra_client_new(const config_t *cfg, const char *name);
/* A client of PRODUCER's instance INSTANCE (lib/jobs.h) with its own key pair
 * PRODUCER.INSTANCE when this host has it, else with PRODUCER's shared one. */
ra_client_t *ra_client_new_instance(const config_t *cfg, const char *producer, const char *instance);
void ra_client_destroy(ra_client_t **c);

/*
 * Submit a job of KIND with PAYLOAD (not stolen). IDEM_KEY makes it idempotent (NULL: none).
 * Returns the job id (> 0), or -1 with *err a malloc'd reason (the queue's, or "queue
 * unreachable").
 */
int64_t ra_client_submit(ra_client_t *c, const char *kind, const char *idem_key,
    json_t *payload, char **err);
/*
 * An idempotency key for KIND derived from TEXT that only this client can compute: "h:"
 * and 16 bytes of HMAC-SHA256 under its own CURVE secret key, in hex (malloc'd; NULL on
 * failure). For keys made from what another producer could know (card serials, job ids).
 */
char *ra_client_key(ra_client_t *c, const char *kind, const char *text);

/*
 * Wait until job ID is done or failed, or TIMEOUT_MS passes. Returns the state
 * (JOB_DONE, JOB_FAILED, or the current one at timeout) or -1 with *err set. On
 * DONE/FAILED, *result (if not NULL) gets the job's result object; a failed job's result
 * holds {"error": "..."}.
 */
int ra_client_wait(ra_client_t *c, int64_t id, int timeout_ms, json_t **result, char **err);

/* A job submitted and waited for (ra_client_run, ra_client_await). */
struct ra_job {
	int64_t id;		/* the job's id, -1 if the queue did not take it */
	int state;		/* JOB_DONE, JOB_FAILED, the state when the time ran out, or -1 */
	json_t *result;		/* a done job's result; a failed job's {"error": ...}; else NULL */
	char *error;		/* unless JOB_DONE: why (the job's error, the queue's, the wait's) */
};
/* Free what JOB holds and zero it; JOB may be zeroed or filled. */
void ra_job_clear(struct ra_job *job);
/*
 * Wait until job ID is done or failed or TIMEOUT_MS has passed (asking in slices, so a
 * restarted queue is noticed), into JOB (cleared first). Returns JOB->state. A queue that
 * stays silent (killed, restarting) is asked again until the time is up: the job is in
 * the ledger whatever became of the queue; -1 only when the time ran out without an
 * answer (JOB->error says so) or the queue's answer made no sense.
 */
int ra_client_await(ra_client_t *c, int64_t id, int timeout_ms, struct ra_job *job);
/* Submit KIND with PAYLOAD (not stolen; IDEM_KEY as for ra_client_submit; NULL: a random
 * key made once here), again under the same key while the queue is silent, then
 * ra_client_await() it, all within TIMEOUT_MS. Returns JOB->state. */
int ra_client_run(ra_client_t *c, const char *kind, const char *idem_key, json_t *payload,
    int timeout_ms, struct ra_job *job);

/*
 * Ask the queue a read-only question (WHAT: "job", "jobs", "form", "certs", ...) with
 * ARGS (not stolen; NULL for none). Returns the answer (caller decrefs) or NULL with *err.
 */
json_t *ra_client_query(ra_client_t *c, const char *what, json_t *args, char **err);

#endif
