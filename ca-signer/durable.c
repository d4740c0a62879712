/*
 * durable.c: the signer's syncing thread (see durable.h).
 *
 * One mutex guards three counters: asked (the last ticket handed out), done (the last
 * ticket a finished sync covered) and ok (the last ticket a successful sync covered).
 * Syncs run one after another and each covers every ticket asked for before it began, so
 * a ticket t is durable when ok >= t and failed when done >= t > ok. The thread blocks
 * every signal: they are for the main loop.
 */
#include "durable.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"

struct durable {
	store_t *st;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t work, settled;
	uint64_t asked, done, ok;
	int stop;
	void (*notify)(void *);
	void *notify_arg;
};

static void *durable_main(void *arg)
{
	durable_t *d = arg;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		while (d->done == d->asked && !d->stop)
			pthread_cond_wait(&d->work, &d->mu);
		if (d->done == d->asked && d->stop)
			break;
		uint64_t target = d->asked;
		pthread_mutex_unlock(&d->mu);
		int rc = store_sync(d->st);
		pthread_mutex_lock(&d->mu);
		d->done = target;
		if (rc == 0)
			d->ok = target;
		pthread_cond_broadcast(&d->settled);
		if (d->notify) {
			void (*notify)(void *) = d->notify;
			void *arg = d->notify_arg;
			pthread_mutex_unlock(&d->mu);
			notify(arg);
			pthread_mutex_lock(&d->mu);
		}
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

durable_t *durable_new(store_t *st)
{
	durable_t *d = xcalloc(1, sizeof *d);
	sigset_t all, old;
	int rc;

	d->st = st;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->work, NULL);
	pthread_cond_init(&d->settled, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&d->tid, NULL, durable_main, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_warn("cannot start the syncing thread; batches are synced in line");
		pthread_mutex_destroy(&d->mu);
		pthread_cond_destroy(&d->work);
		pthread_cond_destroy(&d->settled);
		free(d);
		return NULL;
	}
	return d;
}

void durable_destroy(durable_t **dp)
{
	durable_t *d;

	if (!dp || !*dp)
		return;
	d = *dp;
	pthread_mutex_lock(&d->mu);
	d->stop = 1;
	pthread_cond_signal(&d->work);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->tid, NULL);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->work);
	pthread_cond_destroy(&d->settled);
	free(d);
	*dp = NULL;
}

void durable_set_notify(durable_t *d, void (*notify)(void *arg), void *arg)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->notify = notify;
	d->notify_arg = arg;
	pthread_mutex_unlock(&d->mu);
}

uint64_t durable_request(durable_t *d)
{
	uint64_t t;

	pthread_mutex_lock(&d->mu);
	t = ++d->asked;
	pthread_cond_signal(&d->work);
	pthread_mutex_unlock(&d->mu);
	return t;
}

int durable_check(durable_t *d, uint64_t ticket, int wait)
{
	int rc;

	pthread_mutex_lock(&d->mu);
	while (wait && d->done < ticket)
		pthread_cond_wait(&d->settled, &d->mu);
	rc = d->ok >= ticket ? 1 : d->done >= ticket ? -1 : 0;
	pthread_mutex_unlock(&d->mu);
	return rc;
}
