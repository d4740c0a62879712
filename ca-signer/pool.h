/*
 * pool.h: a small fixed pool of threads for the signer's CPU-bound work.
 *
 * The RSA signature is nearly all of an issuance's cost. The signer hands each batch of
 * requests to the pool as a job and goes on with its own work (storing, committing and
 * answering the batch before, receiving the next) while the pool signs: jobs queue up in
 * the order they were submitted, so with two batches submitted the threads go from the
 * first to the second without waiting for the caller, and every core keeps signing.
 * signer.db stays single-threaded (only the caller's thread touches it). Threads are
 * started once, at start-up, before the process drops privileges and enters its sandbox,
 * and block every signal so that SIGTERM reaches the main loop.
 */
#ifndef RA_POOL_H
#define RA_POOL_H

#include <stddef.h>

typedef struct pool pool_t;
typedef struct pool_job pool_job_t;

/* Start THREADS threads (0: none). NULL when none can be started (logged) or none were
 * asked for: jobs then run on the caller's thread, in pool_submit. */
pool_t *pool_new(int threads);
/* Stop and join the threads, once they have run every job still queued (their owners
 * free them). Accepts NULL and clears the pointer. */
void pool_destroy(pool_t **p);
/* The number of threads (0 for NULL). */
int pool_threads(const pool_t *p);
/*
 * NOTIFY(ARG) is called on a pool thread each time a job's last call has returned (the
 * caller's event loop wakes from it), never with the pool's lock held. NULL: none.
 */
void pool_set_notify(pool_t *p, void (*notify)(void *arg), void *arg);
/*
 * Queue a job: FN(ARG, i) once for every i in [0, N), spread over the threads, after the
 * jobs submitted before. FN must be safe to run concurrently for different i. Returns at
 * once (with a NULL pool, after running every call on the calling thread).
 */
pool_job_t *pool_submit(pool_t *p, size_t n, void (*fn)(void *arg, size_t i), void *arg);
/* 1 when every call of JOB has returned, else 0. */
int pool_job_done(pool_t *p, pool_job_t *job);
/* Wait until every call of *JOB has returned, free it and clear the pointer. */
void pool_job_wait(pool_t *p, pool_job_t **job);
/* pool_submit and pool_job_wait in one. */
void pool_run(pool_t *p, size_t n, void (*fn)(void *arg, size_t i), void *arg);

#endif
