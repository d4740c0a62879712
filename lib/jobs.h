/*
 * jobs.h: the job kinds the RA knows, and the worker-side job ledger operations.
 *
 * Every change of state enters as a job (a row of ra.db's jobs table). ra-queue accepts
 * only the kinds listed here, each only from the producers named for it: a producer is
 * known by its CURVE key (keys/clients/NAME.cert), so the subscribers' website front end
 * ("self") cannot, say, bulk-revoke, and a card station cannot approve forms.
 *
 * Fencing: a worker completes a job only if the job's lease_token is still the one it
 * was given. job_complete() runs inside the worker's transaction, next to the job's
 * effects; if it returns 0 the caller must roll back, because another worker owns the
 * job now.
 */
#ifndef RA_JOBS_H
#define RA_JOBS_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

struct job_kind {
	const char *name;
	const char *producers;	/* the clients (key names in keys/clients) that may submit it */
	const char *help;
};
extern const struct job_kind job_kinds[];
extern const int job_nkinds;
/* The kind named NAME, or NULL. */
const struct job_kind *job_kind_find(const char *name);
/* Whether CLIENT (the authenticated name of a producer's CURVE key) may submit K. */
int job_kind_allows(const struct job_kind *k, const char *client);

/*
 * What a failed attempt asks of the queue (the FAILED message's retry frame): give up
 * (park the job as failed), try again (the attempt counts against queue.max_attempts), or
 * wait for a service the job needs and cannot reach (ca-signer down): the attempt does
 * not count, so an outage of any length parks nothing, and the waits are spaced out
 * (retry_backoff_ms x 32, at most a minute) so that the waiting jobs do not storm.
 */
enum { JOB_GIVE_UP = 0, JOB_RETRY = 1, JOB_RETRY_WAIT = 2 };

/* Insert a job in the current transaction (idempotent by IDEM if not NULL/empty).
 * Returns the job id, the existing one if IDEM was seen (then *existed = 1), or -1. */
int64_t job_insert(sqlite3 *db, const char *kind, const char *idem, const char *payload,
    const char *submitted_by, int64_t parent, int *existed);
/* Replace payload member MEMBER of job ID (a sealed secret) with "(redacted)", in the current
 * transaction, so nothing secret stays in the ledger once the job is done. 0/-1. */
int job_redact(sqlite3 *db, int64_t id, const char *member);
/*
 * Replace every payload member that may hold a sealed secret (password, new_password,
 * sealed_password, sealed_pin) with "(redacted)". Done by job_complete() and when the
 * queue parks a job as failed, so a finished job keeps no secret, not even sealed. 0/-1.
 */
int job_redact_secrets(sqlite3 *db, int64_t id);
/* Mark job ID done with RESULT if TOKEN is still its lease token. 1 done, 0 fenced off, -1 error. */
int job_complete(sqlite3 *db, int64_t id, int64_t token, json_t *result);

#endif
