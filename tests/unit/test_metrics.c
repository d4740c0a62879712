/*
 * test_metrics.c: the exposition text of lib/metrics.c: counters, gauges and histograms
 * with labels, escaping of label values and help, cumulative buckets, and a file that
 * Prometheus's own promtool accepts (the integration test runs promtool on it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "metrics.h"
#include "util.h"

static void test_counter_gauge(void **state)
{
	metrics_t *m = metrics_new();
	char *t;
	(void)state;

	assert_int_equal(metrics_declare(m, "ra_jobs_total", METRIC_COUNTER, "jobs done", NULL, 0), 0);
	assert_int_equal(metrics_declare(m, "ra_depth", METRIC_GAUGE, "queued\\jobs\nnow", NULL, 0), 0);
	metrics_add(m, "ra_jobs_total", 1, "kind", "form_key", "state", "done", NULL);
	metrics_add(m, "ra_jobs_total", 2, "kind", "form_key", "state", "done", NULL);
	metrics_add(m, "ra_jobs_total", 1, "kind", "issue", "state", "failed", NULL);
	metrics_set(m, "ra_depth", 0.5, NULL);
	assert_true(metrics_get(m, "ra_jobs_total", "kind", "form_key", "state", "done", NULL) == 3);
	t = metrics_render(m);
	assert_string_equal(t,
	    "# HELP ra_jobs_total jobs done\n"
	    "# TYPE ra_jobs_total counter\n"
	    "ra_jobs_total{kind=\"form_key\",state=\"done\"} 3\n"
	    "ra_jobs_total{kind=\"issue\",state=\"failed\"} 1\n"
	    "# HELP ra_depth queued\\\\jobs\\nnow\n"
	    "# TYPE ra_depth gauge\n"
	    "ra_depth 0.5\n");
	free(t);
	metrics_clear(m, "ra_jobs_total");
	assert_true(metrics_get(m, "ra_jobs_total", "kind", "form_key", "state", "done", NULL) == 0);
	metrics_destroy(&m);
	assert_null(m);
}

static void test_escaping(void **state)
{
	metrics_t *m = metrics_new();
	char *t;
	(void)state;

	metrics_declare(m, "ra_fail", METRIC_COUNTER, "failures", NULL, 0);
	metrics_add(m, "ra_fail", 1, "reader", "Virtual \"PCD\" 0\\1\n", NULL);
	t = metrics_render(m);
	assert_non_null(strstr(t, "ra_fail{reader=\"Virtual \\\"PCD\\\" 0\\\\1\\n\"} 1\n"));
	free(t);
	metrics_destroy(&m);
}

static void test_histogram(void **state)
{
	static const double b[] = { 0.01, 0.1, 1 };
	metrics_t *m = metrics_new();
	char *t;
	(void)state;

	assert_int_equal(metrics_declare(m, "ra_lat_seconds", METRIC_HISTOGRAM, "latency", b, 3), 0);
	metrics_observe(m, "ra_lat_seconds", 0.005, "cmd", "sign", NULL);
	metrics_observe(m, "ra_lat_seconds", 0.5, "cmd", "sign", NULL);
	metrics_observe(m, "ra_lat_seconds", 7, "cmd", "sign", NULL);
	t = metrics_render(m);
	assert_string_equal(t,
	    "# HELP ra_lat_seconds latency\n"
	    "# TYPE ra_lat_seconds histogram\n"
	    "ra_lat_seconds_bucket{cmd=\"sign\",le=\"0.01\"} 1\n"
	    "ra_lat_seconds_bucket{cmd=\"sign\",le=\"0.1\"} 1\n"
	    "ra_lat_seconds_bucket{cmd=\"sign\",le=\"1\"} 2\n"
	    "ra_lat_seconds_bucket{cmd=\"sign\",le=\"+Inf\"} 3\n"
	    "ra_lat_seconds_count{cmd=\"sign\"} 3\n"
	    "ra_lat_seconds_sum{cmd=\"sign\"} 7.505\n");
	free(t);
	metrics_destroy(&m);
}

/* Totals kept elsewhere (per-bucket counts) render as the same cumulative buckets that
 * metrics_observe would have made, and replace what was there. */
static void test_set_histogram(void **state)
{
	static const double b[] = { 0.01, 0.1, 1 };
	const unsigned long long in[] = { 1, 0, 1 };
	metrics_t *m = metrics_new();
	char *t;
	(void)state;

	assert_int_equal(metrics_declare(m, "ra_lat_seconds", METRIC_HISTOGRAM, "latency", b, 3), 0);
	metrics_observe(m, "ra_lat_seconds", 0.5, NULL);
	metrics_set_histogram(m, "ra_lat_seconds", in, 3, 7.505, NULL);
	t = metrics_render(m);
	assert_string_equal(t,
	    "# HELP ra_lat_seconds latency\n"
	    "# TYPE ra_lat_seconds histogram\n"
	    "ra_lat_seconds_bucket{le=\"0.01\"} 1\n"
	    "ra_lat_seconds_bucket{le=\"0.1\"} 1\n"
	    "ra_lat_seconds_bucket{le=\"1\"} 2\n"
	    "ra_lat_seconds_bucket{le=\"+Inf\"} 3\n"
	    "ra_lat_seconds_count 3\n"
	    "ra_lat_seconds_sum 7.505\n");
	free(t);
	metrics_destroy(&m);
}

static void test_bad_declarations(void **state)
{
	static const double down[] = { 1, 0.5 };
	metrics_t *m = metrics_new();
	(void)state;

	assert_int_equal(metrics_declare(m, "9lives", METRIC_GAUGE, "x", NULL, 0), -1);
	assert_int_equal(metrics_declare(m, "has-dash", METRIC_GAUGE, "x", NULL, 0), -1);
	assert_int_equal(metrics_declare(m, "ra_h", METRIC_HISTOGRAM, "x", NULL, 0), -1);
	assert_int_equal(metrics_declare(m, "ra_h", METRIC_HISTOGRAM, "x", down, 2), -1);
	assert_int_equal(metrics_declare(m, "ra_g", METRIC_GAUGE, "x", down, 2), -1);
	metrics_destroy(&m);
}

static void test_write_atomic(void **state)
{
	char dir[] = "/tmp/ra-test-metrics-XXXXXX", *path, *text;
	metrics_t *m = metrics_new();
	size_t len;
	(void)state;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/x.prom", dir);
	metrics_declare(m, "ra_up", METRIC_GAUGE, "up", NULL, 0);
	metrics_set(m, "ra_up", 1, NULL);
	assert_int_equal(metrics_write(m, path), 0);
	text = file_read(path, &len);
	assert_non_null(text);
	assert_string_equal(text, "# HELP ra_up up\n# TYPE ra_up gauge\nra_up 1\n");
	free(text);
	unlink(path);
	rmdir(dir);
	free(path);
	metrics_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_gauge),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_set_histogram),
		cmocka_unit_test(test_bad_declarations),
		cmocka_unit_test(test_write_atomic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
