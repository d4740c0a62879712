/*
 * signer_metrics.h: what ca-signer tells Prometheus (see signer_metrics.c).
 */
#ifndef RA_SIGNER_METRICS_H
#define RA_SIGNER_METRICS_H

#include "metrics.h"
#include "msg.h"

/* ca-signer's families, declared. */
metrics_t *signer_metrics_new(void);
/* Seconds on the monotonic clock, for request latency. */
double signer_metrics_clock(void);
/* REQ was answered with ANS, T0 seconds (signer_metrics_clock) after it was received. */
void signer_metrics_answered(metrics_t *m, const msg_t *req, const msg_t *ans, double t0);
/* Link metrics.dir/ca-signer.prom to the file ca-signer writes beside DB_PATH, so that
 * the textfile collector finds it with the others. Before the sandbox; best effort. */
void signer_metrics_link(const config_t *cfg, const char *db_path);
/* Read the published CRLs in CRL_DIR (ra.crl, ra-delta.crl): times, size, entries. */
void signer_metrics_crl(metrics_t *m, const char *crl_dir);

#endif
