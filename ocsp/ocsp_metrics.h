/*
 * ocsp_metrics.h: ra-ocsp's metrics textfile (see ocsp_metrics.c).
 */
#ifndef RA_OCSP_METRICS_H
#define RA_OCSP_METRICS_H

#include <stdint.h>

#include "config.h"

typedef struct ocsp_metrics ocsp_metrics_t;

/* The metrics of NTHREADS serving threads, written to metrics.dir/ra-ocsp.prom. */
ocsp_metrics_t *ocsp_metrics_new(const config_t *cfg, long nthreads);
/* Write the file if metrics.interval_ms has passed (FORCE: now), with SERVED[i] requests
 * answered by thread i so far. */
void ocsp_metrics_tick(ocsp_metrics_t *om, const unsigned long *served, int force);
void ocsp_metrics_destroy(ocsp_metrics_t **om);

#endif
