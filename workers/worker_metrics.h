/*
 * worker_metrics.h: ra-worker's metrics textfile (see worker_metrics.c).
 */
#ifndef RA_WORKER_METRICS_H
#define RA_WORKER_METRICS_H

#include "config.h"

/* Start counting for worker NAME; its file is metrics.dir/ra-worker-NAME-PID.prom. */
void worker_metrics_init(const config_t *cfg, const char *name);
/* A job of KIND ended with OUTCOME (done, failed, fenced) after SECONDS. */
void worker_metrics_job(const char *kind, const char *outcome, double seconds);
/* Write the file when metrics.interval_ms has passed (FORCE: now). */
void worker_metrics_tick(int force);
/* Remove the file (the worker stops cleanly) and free. */
void worker_metrics_end(void);

#endif
