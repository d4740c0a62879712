/*
 * pool.h: a small fixed pool of threads for the signer's CPU-bound work.
 *
 * The RSA signature is nearly all of an issuance's cost, and the signer's loop takes
 * requests in batches; signing a batch on every core multiplies the rate while signer.db
 * stays single-threaded (only the main thread touches it). Threads are started once, at
 * start-up, before the process drops privileges and enters its sandbox, and block every
 * signal so that SIGTERM reaches the main loop.
 */
#ifndef RA_POOL_H
#define RA_POOL_H

#include <stddef.h>

typedef struct pool pool_t;

/* Start THREADS helper threads (0: none; the caller's thread always works too). NULL
 * when threads cannot be started (logged); callers then run everything inline. */
pool_t *pool_new(int threads);
/* Stop and join the threads; accepts NULL and clears the pointer. */
void pool_destroy(pool_t **p);
/* The number of helper threads (0 for NULL). */
int pool_threads(const pool_t *p);
/*
 * Call FN(ARG, i) once for every i in [0, N), spread over the pool and the calling thread;
 * return when all calls have returned. FN must be safe to run concurrently for different
 * i. With a NULL pool or N < 2 everything runs in the calling thread.
 */
void pool_run(pool_t *p, size_t n, void (*fn)(void *arg, size_t i), void *arg);
/*
 * As pool_run; the calling thread also calls TICK(TICK_ARG) after each call of FN it
 * makes, never at the same time as another TICK. TICK is for what only the calling thread
 * may do while the work goes on (the signer answers the previous batch from there as soon
 * as its sync is done). A NULL TICK is pool_run.
 */
void pool_run_tick(pool_t *p, size_t n, void (*fn)(void *arg, size_t i), void *arg,
    void (*tick)(void *tick_arg), void *tick_arg);

#endif
