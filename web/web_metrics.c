/*
 * web_metrics.c: what ra-web tells Prometheus: responses by HTTP status (a run of 401s,
 * 429s or 503s says wrong passwords, a source held back by the rate limit, or the back
 * office away), and that it is alive. Every response passes through http_send or
 * http_redirect, which count it here; the serving threads share one array of counters
 * updated with relaxed atomics, and the main thread writes the file between signals.
 */
#include "web.h"
#include "clock.h"
#include "metrics.h"

#include <stdio.h>

#define WEB_STATUS_MAX 600

static unsigned long web_status_counts[WEB_STATUS_MAX];

void web_metrics_count(unsigned status)
{
	__atomic_fetch_add(&web_status_counts[status < WEB_STATUS_MAX ? status : 0], 1, __ATOMIC_RELAXED);
}

int web_metrics_write(const char *path)
{
	metrics_t *m = metrics_new();
	char code[8];
	int rc;

	metrics_declare(m, "ra_web_responses_total", METRIC_COUNTER, "HTTP responses ra-web sent, by status code.", NULL, 0);
	metrics_declare(m, "ra_metrics_written_timestamp_seconds", METRIC_GAUGE,
	    "When a program last wrote its metrics file.", NULL, 0);
	for (unsigned i = 0; i < WEB_STATUS_MAX; i++) {
		unsigned long n = __atomic_load_n(&web_status_counts[i], __ATOMIC_RELAXED);
		if (n == 0)
			continue;
		snprintf(code, sizeof code, "%u", i);
		metrics_set(m, "ra_web_responses_total", (double)n, "code", i ? code : "other", NULL);
	}
	metrics_set(m, "ra_metrics_written_timestamp_seconds", (double)ra_now(), "program", "ra-web", NULL);
	rc = metrics_write(m, path);
	metrics_destroy(&m);
	return rc;
}
