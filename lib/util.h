/*
 * util.h: small helpers every program needs: memory that cannot fail quietly, whole-file
 * reads, atomic file writes (write, fsync, rename), hex, and the one clock.
 */
#ifndef RA_UTIL_H
#define RA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"

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
/* The same inside the folder open as DIRFD (NAME has no '/'): openat and renameat only. */
int file_write_at(int dirfd, const char *name, const void *data, size_t len, int mode);
/* mkdir -p. 0/-1. */
int mkdir_p(const char *path, int mode);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* Parse hex; returns bytes written or -1 on a bad digit, odd length or overflow. */
int hex_decode(const char *in, uint8_t *out, size_t cap);

#endif
