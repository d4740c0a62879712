/*
 * clock.h: the one clock. Every "now" in the RA comes from here, so tests move time with
 * the RA_NOW environment variable ("2027-10-26T00:00:00Z" or seconds since the epoch) or a
 * program's --now option (clock_set), and never sleep. A set clock keeps running from the
 * time it was given, so daemons' timers still work. (util.h includes this header.)
 */
#ifndef RA_CLOCK_H
#define RA_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

time_t ra_now(void);
/* The same clock in milliseconds (log lines). */
int64_t ra_now_ms(void);
/* Fix the clock; 0 on success, -1 if the text is not a time. */
int clock_set(const char *text);
/* Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or digits (epoch). -1 on error. */
int time_parse(const char *text, time_t *out);
/* Format as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
char *time_format(time_t t, char *buf, size_t len);

/*
 * The two exceptions, for intervals only, never for a date:
 *   mono_ms()       a monotonic clock, for intervals inside one process (timeouts,
 *                   heartbeats, retries, debouncing, a card's personalization time);
 *   clock_wall_ms() the system clock, not moved by RA_NOW or --now, for the lease
 *                   deadlines and retry back-off ra-queue stores in ra.db: they must
 *                   survive a restart, and must not all expire (or wait a year) when the
 *                   daemons are restarted with another RA_NOW.
 */
int64_t mono_ms(void);
int64_t clock_wall_ms(void);

#endif
