/*
 * station_metrics.h: card-station's metrics textfile for a personalization run (see
 * station_metrics.c).
 */
#ifndef RA_STATION_METRICS_H
#define RA_STATION_METRICS_H

#include "config.h"

typedef struct station_metrics station_metrics_t;

/* The metrics of a run by STATION, written to metrics.dir/card-station.prom. NULL never. */
station_metrics_t *station_metrics_new(const config_t *cfg, const char *station);
/* A card in READER ended with RESULT (personalized, failed, skipped); rewrite the file.
 * Safe from the readers' threads. */
void station_metrics_card(station_metrics_t *sm, const char *reader, const char *result);
/* Write the file a last time and free. Accepts NULL; clears the pointer. */
void station_metrics_destroy(station_metrics_t **sm);

/*
 * A PIN try answered "blocked" (63 C0 or 69 83) by the card in READER during OPERATION
 * (a card-station command: personalize, pin-change, renew...) at STATION: one more in
 * ra_station_pins_blocked_total and the time in ra_station_pin_blocked_timestamp_seconds,
 * kept in metrics.dir/card-station-pins.prom across runs and processes (each command is a process of its own). Safe from the readers' threads
 * and from other card-station processes. 0/-1 (logged).
 */
int station_metrics_pin_blocked(const config_t *cfg, const char *station, const char *reader,
    const char *operation);

#endif
