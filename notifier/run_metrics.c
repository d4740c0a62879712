/*
 * run_metrics.c: ra-notifier's metrics textfile. The notifier runs from cron and exits,
 * so what Prometheus must know is whether each command ran, when, and how it ended; it
 * writes one file per command (ra-notifier-renewals.prom, ...) so that one command's run
 * never hides another's. The notices themselves (sent, deferred, undeliverable) are in
 * the ledger and ra-queue exports them (ra_notices), so they are not counted twice here.
 */
#include "notifier.h"
#include "clock.h"
#include "metrics.h"
#include "util.h"

#include <stdlib.h>

int notifier_metrics_write(const config_t *cfg, const char *command, int ok, int64_t duration_ms)
{
	metrics_t *m = metrics_new();
	char *name = xasprintf("ra-notifier-%s", command), *path = metrics_path(cfg, name);
	int rc;

	metrics_declare(m, "ra_notifier_last_run_timestamp_seconds", METRIC_GAUGE,
	    "When a notifier command last ran.", NULL, 0);
	metrics_declare(m, "ra_notifier_last_run_success", METRIC_GAUGE,
	    "1 when the last run of a notifier command did all that was due, 0 when something failed.", NULL, 0);
	metrics_declare(m, "ra_notifier_last_run_seconds", METRIC_GAUGE, "How long the last run took.", NULL, 0);
	metrics_set(m, "ra_notifier_last_run_timestamp_seconds", (double)ra_now(), "command", command, NULL);
	metrics_set(m, "ra_notifier_last_run_success", ok ? 1 : 0, "command", command, NULL);
	metrics_set(m, "ra_notifier_last_run_seconds", (double)duration_ms / 1000.0, "command", command, NULL);
	rc = metrics_write(m, path);
	metrics_destroy(&m);
	free(name);
	free(path);
	return rc;
}
