/*
 * station_metrics.c: what a personalization run tells Prometheus: cards by reader and
 * result (so a reader that keeps failing stands out), and the run's rate in cards per
 * minute. card-station is not a daemon, so the file is rewritten after every card (a
 * card takes seconds; the write is small) and once more at the end, for node-exporter's
 * textfile collector on the station's host. The readers' threads share one lock.
 */
#include "station_metrics.h"
#include "clock.h"
#include "metrics.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct station_metrics {
	pthread_mutex_t mu;
	metrics_t *m;
	char *path, *station;
	int64_t started_ms;
	long personalized;
};

station_metrics_t *station_metrics_new(const config_t *cfg, const char *station)
{
	station_metrics_t *sm = xcalloc(1, sizeof *sm);

	pthread_mutex_init(&sm->mu, NULL);
	sm->m = metrics_new();
	sm->path = metrics_path(cfg, "card-station");
	sm->station = xstrdup(station);
	sm->started_ms = mono_ms();
	metrics_declare(sm->m, "ra_station_cards_total", METRIC_COUNTER,
	    "Cards handled in this personalization run, by reader and result.", NULL, 0);
	metrics_declare(sm->m, "ra_station_cards_per_minute", METRIC_GAUGE,
	    "Cards personalized per minute since the run started.", NULL, 0);
	metrics_declare(sm->m, "ra_station_run_started_timestamp_seconds", METRIC_GAUGE,
	    "When the personalization run started.", NULL, 0);
	metrics_set(sm->m, "ra_station_run_started_timestamp_seconds", (double)ra_now(), "station", station, NULL);
	metrics_set(sm->m, "ra_station_cards_per_minute", 0, "station", station, NULL);
	return sm;
}

/* With the lock held. */
static void station_metrics_flush(station_metrics_t *sm)
{
	double minutes = (double)(mono_ms() - sm->started_ms) / 60000.0;

	metrics_set(sm->m, "ra_station_cards_per_minute", minutes > 0 ? (double)sm->personalized / minutes : 0,
	    "station", sm->station, NULL);
	metrics_write(sm->m, sm->path);
}

void station_metrics_card(station_metrics_t *sm, const char *reader, const char *result)
{
	pthread_mutex_lock(&sm->mu);
	metrics_add(sm->m, "ra_station_cards_total", 1, "station", sm->station, "reader", reader,
	    "result", result, NULL);
	if (strcmp(result, "personalized") == 0)
		sm->personalized++;
	station_metrics_flush(sm);
	pthread_mutex_unlock(&sm->mu);
}

void station_metrics_destroy(station_metrics_t **smp)
{
	station_metrics_t *sm;

	if (!smp || !(sm = *smp))
		return;
	station_metrics_flush(sm);
	metrics_destroy(&sm->m);
	pthread_mutex_destroy(&sm->mu);
	free(sm->path);
	free(sm->station);
	free(sm);
	*smp = NULL;
}
