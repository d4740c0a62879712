/*
 * pool.c: the signer's thread pool (see pool.h).
 *
 * One mutex guards a queue of jobs that still have calls to hand out, oldest first. A
 * thread takes the next index of the oldest job under the mutex (one lock per call: a
 * call is an RSA signature, thousands of times the cost of the lock), runs it unlocked,
 * and counts it finished under the mutex again; whoever finishes a job's last call wakes
 * pool_job_wait and calls the notifier. A job leaves the queue once its last index is
 * handed out, so a thread never looks at a job that its owner may be freeing; the owner
 * frees it only after every call has been counted.
 */
#include "pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct pool_job {
	void (*fn)(void *, size_t);
	void *arg;
	size_t n;
	size_t claimed;		/* indices handed out */
	size_t finished;	/* calls returned */
	struct pool_job *next;	/* in the queue */
};

struct pool {
	pthread_t *tids;
	int n;			/* threads started */
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	int stop;
	pool_job_t *head, *tail;	/* jobs with indices left to hand out */
	void (*notify)(void *);
	void *notify_arg;
};

static void *pool_main(void *v)
{
	pool_t *p = v;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->go, &p->mu);
		if (!p->head)
			break;
		pool_job_t *j = p->head;
		size_t i = j->claimed++;
		if (j->claimed == j->n) {
			p->head = j->next;
			if (!p->head)
				p->tail = NULL;
		}
		pthread_mutex_unlock(&p->mu);
		j->fn(j->arg, i);
		pthread_mutex_lock(&p->mu);
		/* After this count the owner may free J: it is not touched again. */
		if (++j->finished == j->n) {
			pthread_cond_broadcast(&p->done);
			if (p->notify) {
				void (*notify)(void *) = p->notify;
				void *arg = p->notify_arg;
				pthread_mutex_unlock(&p->mu);
				notify(arg);
				pthread_mutex_lock(&p->mu);
			}
		}
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

void pool_set_notify(pool_t *p, void (*notify)(void *arg), void *arg)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->notify = notify;
	p->notify_arg = arg;
	pthread_mutex_unlock(&p->mu);
}

pool_job_t *pool_submit(pool_t *p, size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
	pool_job_t *j = xcalloc(1, sizeof *j);

	j->fn = fn;
	j->arg = arg;
	j->n = n;
	if (!p || n == 0) {
		for (size_t i = 0; i < n; i++)
			fn(arg, i);
		j->claimed = j->finished = n;
		return j;
	}
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	return j;
}

int pool_job_done(pool_t *p, pool_job_t *j)
{
	int done;

	if (!p)
		return 1;
	pthread_mutex_lock(&p->mu);
	done = j->finished == j->n;
	pthread_mutex_unlock(&p->mu);
	return done;
}

void pool_job_wait(pool_t *p, pool_job_t **jp)
{
	pool_job_t *j = *jp;

	if (!j)
		return;
	if (p) {
		pthread_mutex_lock(&p->mu);
		while (j->finished < j->n)
			pthread_cond_wait(&p->done, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
	free(j);
	*jp = NULL;
}

void pool_run(pool_t *p, size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
	pool_job_t *j = pool_submit(p, n, fn, arg);

	pool_job_wait(p, &j);
}
