/*
 * metrics.h: Prometheus text exposition (format 0.0.4) for every program.
 *
 * A metrics_t holds families (counter, gauge, histogram), each with its samples keyed by
 * their label set. A program declares its families once, updates them as work is done and
 * renders or writes the whole set: metrics_write puts it in a textfile for
 * node-exporter's textfile collector atomically (temporary file, fsync, rename), so a
 * scrape never sees half a file. Label values and help texts are escaped as the format
 * asks (backslash, double quote, newline); names are the program's own constants and are
 * checked against the format's grammar when declared.
 */
#ifndef RA_METRICS_H
#define RA_METRICS_H

#include <stddef.h>

#include "config.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

typedef struct metrics metrics_t;

metrics_t *metrics_new(void);
void metrics_destroy(metrics_t **m);

/* Declare family NAME. BOUNDS (ascending, NBOUNDS of them) only for histograms. 0/-1. */
int metrics_declare(metrics_t *m, const char *name, enum metric_type type, const char *help,
    const double *bounds, size_t nbounds);
/* Drop every sample of NAME (a gauge read afresh from a table each time). */
void metrics_clear(metrics_t *m, const char *name);

/*
 * Set, add to or observe into the sample of NAME with the labels given as NULL-terminated
 * key, value pairs. The family must be declared (else a programming error: fatal).
 */
void metrics_set(metrics_t *m, const char *name, double v, ...) __attribute__((sentinel));
void metrics_add(metrics_t *m, const char *name, double v, ...) __attribute__((sentinel));
void metrics_observe(metrics_t *m, const char *name, double v, ...) __attribute__((sentinel));

/*
 * Replace the histogram sample of NAME (labels as above) with totals kept elsewhere (a
 * program whose threads count without a lock): IN[i] observations in bucket i alone (at
 * or below bound i, above bound i - 1), COUNT in all (the rest are above the last bound)
 * and their SUM.
 */
void metrics_set_histogram(metrics_t *m, const char *name, const unsigned long long *in,
    unsigned long long count, double sum, ...) __attribute__((sentinel));

/* The value of a counter or gauge sample (0 when it has none yet). */
double metrics_get(const metrics_t *m, const char *name, ...) __attribute__((sentinel));

/* The whole set as exposition text (malloc'd, caller frees). */
char *metrics_render(const metrics_t *m);
/* Render and replace PATH atomically (mode 0644). 0/-1, logged. */
int metrics_write(const metrics_t *m, const char *path);
/* The same, as NAME in the folder open as DIRFD (a sandboxed process's own folder). */
int metrics_write_at(const metrics_t *m, int dirfd, const char *name);

/* PROGRAM's textfile in metrics.dir: "<dir>/<program>.prom" (malloc'd). */
char *metrics_path(const config_t *cfg, const char *program);
/* Make metrics.dir/PROGRAM.prom a symbolic link to DIR/PROGRAM.prom, for a sandboxed
 * program that may write only in its own folder DIR (warns if it cannot). */
void metrics_link(const config_t *cfg, const char *program, const char *dir);

#endif
