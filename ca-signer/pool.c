/*
 * pool.c: the signer's thread pool (see pool.h).
 *
 * One job at a time: pool_run publishes (fn, arg, n) under the mutex with a new
 * generation number; every helper takes one pass per generation, claiming indices with an
 * atomic counter, and reports when its pass is over. pool_run waits for every helper's
 * report, not just for the indices to run out, so that no helper can still be holding a
 * previous job's arguments when the next job is published.
 */
#include "pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct pool {
	pthread_t *tids;
	int n;			/* helper threads started */
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned long gen;
	int stop, finished;
	void (*fn)(void *, size_t);
	void *arg;
	size_t total;
	size_t next;		/* next index to claim (atomic) */
};

static void pool_work(void (*fn)(void *, size_t), void *arg, size_t total, size_t *next,
    void (*tick)(void *), void *tick_arg)
{
	size_t i;

	while ((i = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED)) < total) {
		fn(arg, i);
		if (tick)
			tick(tick_arg);
	}
}

static void *pool_main(void *v)
{
	pool_t *p = v;
	unsigned long seen = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->gen == seen && !p->stop)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->stop)
			break;
		seen = p->gen;
		void (*fn)(void *, size_t) = p->fn;
		void *arg = p->arg;
		size_t total = p->total;
		pthread_mutex_unlock(&p->mu);
		pool_work(fn, arg, total, &p->next, NULL, NULL);
		pthread_mutex_lock(&p->mu);
		if (++p->finished == p->n)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

pool_t *pool_new(int threads)
{
	pool_t *p;
	sigset_t all, old;

	if (threads <= 0)
		return NULL;
	p = xcalloc(1, sizeof *p);
	p->tids = xcalloc((size_t)threads, sizeof *p->tids);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	/* Helpers inherit this mask: signals are for the main loop only. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&p->tids[i], NULL, pool_main, p) != 0) {
			log_warn("cannot start signing thread %d; going on with %d", i + 1, i);
			break;
		}
		p->n++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->n == 0)
		pool_destroy(&p);
	return p;
}

void pool_destroy(pool_t **pp)
{
	pool_t *p;

	if (!pp || !*pp)
		return;
	p = *pp;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->tids[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	free(p->tids);
	free(p);
	*pp = NULL;
}

int pool_threads(const pool_t *p)
{
	return p ? p->n : 0;
}

void pool_run(pool_t *p, size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
	pool_run_tick(p, n, fn, arg, NULL, NULL);
}

void pool_run_tick(pool_t *p, size_t n, void (*fn)(void *arg, size_t i), void *arg,
    void (*tick)(void *tick_arg), void *tick_arg)
{
	if (!p || n < 2) {
		for (size_t i = 0; i < n; i++) {
			fn(arg, i);
			if (tick)
				tick(tick_arg);
		}
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->total = n;
	__atomic_store_n(&p->next, 0, __ATOMIC_RELAXED);
	p->finished = 0;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	pool_work(fn, arg, n, &p->next, tick, tick_arg);
	pthread_mutex_lock(&p->mu);
	while (p->finished < p->n)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
