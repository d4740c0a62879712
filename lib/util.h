/*
 * util.h: small helpers every program needs: memory that cannot fail quietly, whole-file
 * reads, atomic file writes (write, fsync, rename), hex, and the one clock.
 */
#ifndef RA_UTIL_H
#define RA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that calls fatal() on exhaustion: the RA cannot go on without memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* printf into a fresh buffer. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file; *len gets its size; the buffer has a NUL after the data. NULL on error. */
char *file_read(const char *path, size_t *len);
/* Write a file atomically: temp file in the same folder, fsync, rename, fsync the folder. 0/-1. */
int file_write_atomic(const char *path, const void *data, size_t len, int mode);
/* mkdir -p. 0/-1. */
int mkdir_p(const char *path, int mode);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* Parse hex; returns bytes written or -1 on a bad digit, odd length or overflow. */
int hex_decode(const char *in, uint8_t *out, size_t cap);

/*
 * The one clock. Every "now" in the RA comes from here, so tests move time with the
 * RA_NOW environment variable ("2027-10-26T00:00:00Z" or seconds since the epoch)
 * or a program's --now option (clock_set), and never sleep. A set clock keeps running
 * from the time it was given, so daemons' timers still work.
 */
time_t ra_now(void);
/* Seconds ra_now() is ahead of the system clock (negative: behind). */
time_t ra_clock_offset(void);
/* Fix the clock; 0 on success, -1 if the text is not a time. */
int clock_set(const char *text);
/* Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or digits (epoch). -1 on error. */
int time_parse(const char *text, time_t *out);
/* Format as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
char *time_format(time_t t, char *buf, size_t len);

/* Milliseconds from a monotonic clock, for timeouts and heartbeats (never for dates). */
int64_t mono_ms(void);

#endif
