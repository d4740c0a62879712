/*
 * ocsp_metrics.h: ra-ocsp's metrics textfile (see ocsp_metrics.c).
 */
#ifndef RA_OCSP_METRICS_H
#define RA_OCSP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* What an answer said: a certificate's status, or why there was none. */
enum ocsp_answer {
	OCSP_ANSWER_GOOD,
	OCSP_ANSWER_REVOKED,
	OCSP_ANSWER_UNKNOWN,
	OCSP_ANSWER_MALFORMED,		/* malformedRequest, or HTTP that held no request */
	OCSP_ANSWER_UNAUTHORIZED,	/* a CA this responder does not answer for */
	OCSP_ANSWER_TRYLATER,		/* no usable CRL to answer from */
	OCSP_ANSWER_INTERNALERROR,
	OCSP_ANSWER_COUNT
};

#define OCSP_METRICS_NBOUNDS 10

/* One serving thread's counts, kept without a lock (relaxed atomics) and read by the
 * thread that writes the file. */
struct ocsp_tally {
	unsigned long served;	/* requests answered, whatever the answer */
	unsigned long answers[OCSP_ANSWER_COUNT];
	unsigned long long in_bucket[OCSP_METRICS_NBOUNDS], count, sum_ns;
};

typedef struct ocsp_metrics ocsp_metrics_t;

/* The metrics of NTHREADS serving threads, written to metrics.dir/ra-ocsp.prom. */
ocsp_metrics_t *ocsp_metrics_new(const config_t *cfg, long nthreads);
/* Write the file if metrics.interval_ms has passed (FORCE: now), from the threads'
 * tallies T[0 .. nthreads - 1]. */
void ocsp_metrics_tick(ocsp_metrics_t *om, const struct ocsp_tally *t, int force);
void ocsp_metrics_destroy(ocsp_metrics_t **om);

/* What the DER OCSP response RESP (LEN bytes) answered: for a successful one the worst
 * status among its single responses (revoked, then unknown, then good). */
enum ocsp_answer ocsp_metrics_classify(const uint8_t *resp, size_t len);
/* Count one answer of kind A that took NS nanoseconds, into T (its thread's own). */
void ocsp_tally_add(struct ocsp_tally *t, enum ocsp_answer a, uint64_t ns);
/* The monotonic clock in nanoseconds, for NS above. */
uint64_t ocsp_metrics_clock(void);

#endif
