/*
 * queue.h: ra-queue's parts: the ledger operations (queue_ledger.c) and the read-only
 * questions producers may ask (queue_query.c). The loop itself is in queue_main.c.
 */
#ifndef RA_QUEUE_H
#define RA_QUEUE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "metrics.h"

struct lease {
	int64_t id, token, attempt;
	char *kind, *payload;
};

/* Store a submitted job and commit. Returns its id (an existing one for a known idem key), -1. */
int64_t ledger_submit(sqlite3 *db, const char *kind, const char *idem, const char *payload,
    const char *who);
/* Lease the oldest ready job whose kind passes ACCEPT; commit. 1 leased (*l filled), 0 none, -1. */
int ledger_lease(sqlite3 *db, int (*accept)(const char *kind, void *arg), void *arg,
    const char *worker, int64_t lease_ms, struct lease *l);
void lease_clear(struct lease *l);
/* A worker gave job ID back. Retry with back-off or park as failed. Ignored if TOKEN is stale. */
int ledger_fail(sqlite3 *db, int64_t id, int64_t token, int retry, const char *error,
    const json_t *detail, int max_attempts, int64_t backoff_ms);
/* Expired leases go back to queued (or failed after max attempts). Returns how many; ids of
 * expired jobs' workers are reported through the callback so they can be dropped. */
int ledger_expire(sqlite3 *db, int max_attempts, void (*expired)(int64_t id, const char *worker, void *arg),
    void *arg);
/* After the clock stepped back, no lease ends later than LEASE_MS from now and no retry
 * waits longer than MAX_WAIT_MS: both are cut, so a step back of an hour does not keep a
 * dead worker's job for an hour. Returns how many were cut, or -1. */
int ledger_clock_check(sqlite3 *db, int64_t lease_ms, int64_t max_wait_ms);
/* A job's state name and its result (caller decrefs) or NULL. -1 if no such job. */
int ledger_state(sqlite3 *db, int64_t id, const char **state, json_t **result);
/* The earliest not_before_ms of queued jobs, or -1. */
int64_t ledger_next_ready_ms(sqlite3 *db);

/* ---- queue_metrics.c ---- */
/* ra-queue's metric families, declared. */
metrics_t *queue_metrics_new(void);
/* Read the ledger's figures into M, with WORKERS connected of which IDLE are idle. 0/-1. */
int queue_metrics_collect(metrics_t *m, sqlite3 *db, int workers, int idle);

/* Answer CLIENT's QUERY. NULL with *err (malloc'd) when refused or not CLIENT's to ask. */
json_t *queue_query(sqlite3 *db, const char *client, const char *what, json_t *args, char **err);

#endif
