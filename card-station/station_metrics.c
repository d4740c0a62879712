/*
 * station_metrics.c: what a personalization run tells Prometheus: cards by reader and
 * result (so a reader that keeps failing stands out), and the run's rate in cards per
 * minute. card-station is not a daemon, so the file is rewritten after every card (a
 * card takes seconds; the write is small) and once more at the end, for node-exporter's
 * textfile collector on the station's host. The readers' threads share one lock.
 *
 * PINs found blocked are counted across runs instead (a run's counter would restart at
 * each command, and a subscriber's PIN change is a command of its own): the count is the
 * file card-station-pins.prom itself, read, added to and written again under an flock of
 * card-station-pins.lock beside it, so the station's processes and threads add in turn.
 */
#include "station_metrics.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define STATION_PINS_METRIC "ra_station_pins_blocked_total"
#define STATION_PINS_LAST "ra_station_pin_blocked_timestamp_seconds"
#define STATION_PINS_LABELS 3
#define STATION_LABEL_MAX 256

/* In the order written, which is the order Prometheus shows them in (by name). */
static const char *const station_pins_labels[STATION_PINS_LABELS] = { "operation", "reader", "station" };

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

/* The labels of one sample line LINE ("NAME{k="v",...} value") of family NAME into VALS
 * (unescaped) and its value into *V. 0, or -1 if the line is not one of NAME's. */
static int station_pins_parse(const char *line, const char *name, char vals[STATION_PINS_LABELS][STATION_LABEL_MAX],
    double *v)
{
	const char *p = line + strlen(name);
	int seen = 0;
	char *end;

	if (strncmp(line, name, strlen(name)) != 0 || *p != '{')
		return -1;
	p++;
	while (*p && *p != '}') {
		const char *eq = strchr(p, '=');
		int k = -1;
		size_t n = 0;

		if (!eq || eq[1] != '"')
			return -1;
		for (int i = 0; i < STATION_PINS_LABELS; i++)
			if ((size_t)(eq - p) == strlen(station_pins_labels[i]) &&
			    strncmp(p, station_pins_labels[i], (size_t)(eq - p)) == 0)
				k = i;
		if (k < 0)
			return -1;
		for (p = eq + 2; *p && *p != '"'; p++) {
			char c = *p;
			if (c == '\\' && p[1]) {
				c = p[1] == 'n' ? '\n' : p[1];
				p++;
			}
			if (n + 1 >= STATION_LABEL_MAX)
				return -1;
			vals[k][n++] = c;
		}
		if (*p != '"')
			return -1;
		vals[k][n] = '\0';
		seen |= 1 << k;
		p++;
		if (*p == ',')
			p++;
	}
	if (*p != '}' || seen != (1 << STATION_PINS_LABELS) - 1)
		return -1;
	*v = strtod(p + 1, &end);
	return end == p + 1 ? -1 : 0;
}

int station_metrics_pin_blocked(const config_t *cfg, const char *station, const char *reader,
    const char *operation)
{
	char *path = metrics_path(cfg, "card-station-pins"), *lock = NULL, *text = NULL, *line, *save = NULL;
	char vals[STATION_PINS_LABELS][STATION_LABEL_MAX];
	metrics_t *m = metrics_new();
	int fd = -1, rc = -1;
	double v;

	lock = xstrdup(path);
	strcpy(lock + strlen(lock) - strlen(".prom"), ".lock");
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 || flock(fd, LOCK_EX) < 0) {
		log_err("%s: cannot lock it to count a blocked PIN: %s", lock, strerror(errno));
		goto out;
	}
	metrics_declare(m, STATION_PINS_METRIC, METRIC_COUNTER,
	    "PIN tries a card answered with blocked (63C0: that was the last try; 6983: none was left),"
	    " by card-station command, reader and station.", NULL, 0);
	metrics_declare(m, STATION_PINS_LAST, METRIC_GAUGE,
	    "When a card last answered a PIN try with blocked, by card-station command, reader and station.", NULL, 0);
	if ((text = file_read(path, NULL)))
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			const char *fam = station_pins_parse(line, STATION_PINS_METRIC, vals, &v) == 0 ? STATION_PINS_METRIC :
			    station_pins_parse(line, STATION_PINS_LAST, vals, &v) == 0 ? STATION_PINS_LAST : NULL;
			if (fam)
				metrics_set(m, fam, v, "operation", vals[0], "reader", vals[1], "station", vals[2], NULL);
		}
	metrics_add(m, STATION_PINS_METRIC, 1, "operation", operation, "reader", reader, "station", station, NULL);
	metrics_set(m, STATION_PINS_LAST, (double)ra_now(), "operation", operation, "reader", reader, "station", station,
	    NULL);
	rc = metrics_write(m, path);
out:
	if (fd >= 0)
		close(fd);	/* releases the lock */
	metrics_destroy(&m);
	free(text);
	free(lock);
	free(path);
	return rc;
}
