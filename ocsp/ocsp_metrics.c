/*
 * ocsp_metrics.c: what ra-ocsp tells Prometheus: requests answered by each serving
 * thread, and that it is alive (the file's own timestamp). The serving threads share
 * nothing, so they only count (relaxed atomics: a count a moment old is fine); the first
 * thread writes the file between requests.
 */
#include "ocsp_metrics.h"
#include "clock.h"
#include "metrics.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

struct ocsp_metrics {
	metrics_t *m;
	char *path;
	long n;
	int64_t every_ms, next_ms;
};

ocsp_metrics_t *ocsp_metrics_new(const config_t *cfg, long nthreads)
{
	ocsp_metrics_t *om = xcalloc(1, sizeof *om);

	om->m = metrics_new();
	om->path = metrics_path(cfg, "ra-ocsp");
	om->n = nthreads;
	om->every_ms = config_int(cfg, "metrics.interval_ms");
	metrics_declare(om->m, "ra_ocsp_requests_total", METRIC_COUNTER, "HTTP requests ra-ocsp answered, by serving thread.", NULL, 0);
	metrics_declare(om->m, "ra_metrics_written_timestamp_seconds", METRIC_GAUGE,
	    "When a program last wrote its metrics file.", NULL, 0);
	return om;
}

void ocsp_metrics_tick(ocsp_metrics_t *om, const unsigned long *served, int force)
{
	char t[24];

	if (!force && mono_ms() < om->next_ms)
		return;
	om->next_ms = mono_ms() + om->every_ms;
	for (long i = 0; i < om->n; i++) {
		snprintf(t, sizeof t, "%ld", i);
		metrics_set(om->m, "ra_ocsp_requests_total", (double)served[i],
		    "thread", t, NULL);
	}
	metrics_set(om->m, "ra_metrics_written_timestamp_seconds", (double)ra_now(), "program", "ra-ocsp", NULL);
	metrics_write(om->m, om->path);
}

void ocsp_metrics_destroy(ocsp_metrics_t **omp)
{
	ocsp_metrics_t *om;

	if (!omp || !(om = *omp))
		return;
	metrics_destroy(&om->m);
	free(om->path);
	free(om);
	*omp = NULL;
}
