/*
 * log.h: one logging idiom for every program.
 *
 * Lines go to stderr as "TIME PROGRAM[PID] LEVEL: message". Operators read them, so they
 * are English. Never pass a secret (password, PIN, PUK, key) to these functions.
 */
#ifndef RA_LOG_H
#define RA_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum log_level { LV_ERR = 0, LV_WARN = 1, LV_INFO = 2, LV_DEBUG = 3 };

/* Set the program name shown in each line, and the most verbose level printed. */
void log_init(const char *progname, enum log_level level);
/* Raise or lower the level (e.g. from the config file) after log_init. */
void log_set_level(enum log_level level);
/* Parse "error", "warn", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *s);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log at error level and exit(1): start-up failures and impossible states only. */
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
