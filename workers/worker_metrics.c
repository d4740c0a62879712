/*
 * worker_metrics.c: what one ra-worker tells Prometheus: jobs it ended by kind and
 * outcome (done, failed, fenced: its lease had been taken over), and how long each kind
 * takes, from the JOB message to the answer (signing included). The ledger's own figures
 * are ra-queue's; these are what only the worker sees. Workers may share a key pair
 * (--name), so each has its own file and program label from its name and process id,
 * and never writes another's series. A worker that stops cleanly removes its file; one
 * that dies leaves it behind, unchanging, which is what RADaemonSilent looks for. A
 * worker runs one job at a time: no lock.
 */
#include "worker_metrics.h"
#include "clock.h"
#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <unistd.h>

static metrics_t *wm;
static char *wm_path, *wm_program;
static int64_t wm_every, wm_next;

void worker_metrics_init(const config_t *cfg, const char *name)
{
	static const double secs[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };

	wm = metrics_new();
	wm_program = xasprintf("ra-worker-%s-%d", name, (int)getpid());
	wm_path = metrics_path(cfg, wm_program);
	wm_every = config_int(cfg, "metrics.interval_ms");
	metrics_declare(wm, "ra_worker_jobs_total", METRIC_COUNTER,
	    "Jobs this worker ended, by kind and outcome (done, failed, fenced).", NULL, 0);
	metrics_declare(wm, "ra_worker_job_seconds", METRIC_HISTOGRAM,
	    "Time from a job's arrival to its answer, by kind.", secs, sizeof secs / sizeof secs[0]);
	metrics_declare(wm, "ra_metrics_written_timestamp_seconds", METRIC_GAUGE,
	    "When a program last wrote its metrics file.", NULL, 0);
}

void worker_metrics_job(const char *kind, const char *outcome, double seconds)
{
	metrics_add(wm, "ra_worker_jobs_total", 1, "kind", kind, "outcome", outcome, NULL);
	metrics_observe(wm, "ra_worker_job_seconds", seconds, "kind", kind, NULL);
}

void worker_metrics_tick(int force)
{
	if (!wm || (!force && mono_ms() < wm_next))
		return;
	wm_next = mono_ms() + wm_every;
	metrics_set(wm, "ra_metrics_written_timestamp_seconds", (double)ra_now(), "program", wm_program, NULL);
	metrics_write(wm, wm_path);
}

void worker_metrics_end(void)
{
	if (wm_path)
		unlink(wm_path);
	metrics_destroy(&wm);
	free(wm_path);
	free(wm_program);
	wm_path = wm_program = NULL;
}
