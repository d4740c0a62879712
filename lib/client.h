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
void ra_client_destroy(ra_client_t **c);

/*
 * Submit a job of KIND with PAYLOAD (not stolen). IDEM_KEY makes it idempotent (NULL: none).
 * Returns the job id (> 0), or -1 with *err a malloc'd reason (the queue's, or "queue
 * unreachable").
 */
int64_t ra_client_submit(ra_client_t *c, const char *kind, const char *idem_key,
    json_t *payload, char **err);

/*
 * Wait until job ID is done or failed, or TIMEOUT_MS passes. Returns the state
 * (JOB_DONE, JOB_FAILED, or the current one at timeout) or -1 with *err set. On
 * DONE/FAILED, *result (if not NULL) gets the job's result object; a failed job's result
 * holds {"error": "..."}.
 */
int ra_client_wait(ra_client_t *c, int64_t id, int timeout_ms, json_t **result, char **err);

/*
 * Submit a job and wait for its end: ra_client_submit() then ra_client_wait(), the way a
 * subscriber's request is carried (ra-self, ra-web). Returns the state as
 * ra_client_wait() (a queued or leased state when WAIT_MS ran out) or -1 with *err set;
 * *id (if not NULL) gets the job id once submitted (else 0).
 */
int ra_client_run(ra_client_t *c, const char *kind, const char *idem_key, json_t *payload,
    int wait_ms, int64_t *id, json_t **result, char **err);

/*
 * Ask the queue a read-only question (WHAT: "job", "jobs", "form", "certs", ...) with
 * ARGS (not stolen; NULL for none). Returns the answer (caller decrefs) or NULL with *err.
 */
json_t *ra_client_query(ra_client_t *c, const char *what, json_t *args, char **err);

#endif
