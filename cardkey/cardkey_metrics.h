/*
 * cardkey_metrics.h: ra-cardkey's metrics textfile (see cardkey_metrics.c).
 */
#ifndef RA_CARDKEY_METRICS_H
#define RA_CARDKEY_METRICS_H

#include "config.h"
#include "msg.h"

typedef struct cardkey_metrics cardkey_metrics_t;

/* The metrics, written as ra-cardkey.prom in the folder open as DIRFD (cardkey.dir). */
cardkey_metrics_t *cardkey_metrics_new(const config_t *cfg, int dirfd);
void cardkey_metrics_destroy(cardkey_metrics_t **cm);
/* The monotonic clock in seconds, for T0 below. */
double cardkey_metrics_clock(void);
/* Count the answer REP (NULL: an error sent by other means, bad_message) to REQ (NULL: a
 * message too malformed to name its command), received at T0. */
void cardkey_metrics_answered(cardkey_metrics_t *cm, const msg_t *req, const msg_t *rep, double t0);
/* Write the file if metrics.interval_ms has passed (FORCE: now). */
void cardkey_metrics_tick(cardkey_metrics_t *cm, int force);

#endif
