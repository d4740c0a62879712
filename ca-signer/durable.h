/*
 * durable.h: the signer's syncing thread. A batch is committed to signer.db without
 * waiting for the disk; this thread then makes it durable (store_sync) while the main
 * thread already signs the next batch, and the batch is answered only once its sync is
 * done. Syncs are numbered: a ticket is durable once a successful sync that was asked
 * for at or after it has finished.
 */
#ifndef RA_DURABLE_H
#define RA_DURABLE_H

#include <stdint.h>

#include "store.h"

typedef struct durable durable_t;

/* Start the thread syncing ST. NULL if it cannot start (the caller syncs in line). */
durable_t *durable_new(store_t *st);
/* Finish the syncs asked for, stop the thread, free. Accepts NULL; clears the pointer. */
void durable_destroy(durable_t **d);
/* NOTIFY(ARG) is called on the syncing thread after each sync settles (the caller's event
 * loop wakes from it to answer what became durable). NULL: none. Set before any request. */
void durable_set_notify(durable_t *d, void (*notify)(void *arg), void *arg);
/* Ask for a sync of everything committed so far; returns its ticket. */
uint64_t durable_request(durable_t *d);
/* 1 when TICKET is durable, 0 not yet (WAIT: block until it is settled), -1 when the sync
 * that covered it failed. */
int durable_check(durable_t *d, uint64_t ticket, int wait);

#endif
