/*
 * log.c: timestamped lines on stderr. Kept tiny on purpose: daemons run under a
 * supervisor that collects stderr, and tests grep these lines (for secrets, too).
 */
#include "log.h"
#include "clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "ra";
static enum log_level log_max = LV_INFO;
static const char *const log_names[] = { "error", "warn", "info", "debug" };
/* The process id each line shows, kept rather than asked for each line (a system call per
 * line, in the signer a call per certificate); a forked child takes its own. 0: ask. */
static pid_t log_pid;

static void log_forked(void) { log_pid = getpid(); }

void log_init(const char *progname, enum log_level level)
{
	static int atfork;
	const char *env = getenv("RA_LOG_LEVEL");

	if (!atfork && pthread_atfork(NULL, NULL, log_forked) == 0)
		atfork = 1;
	log_pid = atfork ? getpid() : 0;
	log_prog = progname;
	log_max = level;
	if (env && log_level_parse(env) >= 0)
		log_max = (enum log_level)log_level_parse(env);
}

void log_set_level(enum log_level level) { log_max = level; }

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, log_names[i]) == 0)
			return i;
	return -1;
}

/*
 * One line, handed to stderr in one piece: stderr is unbuffered, so a line printed in
 * parts costs a write(2) per part, and a busy loop that logs each item paid three.
 */
static void log_vline(enum log_level lv, const char *fmt, va_list ap)
{
	char ts[32], small[1024], *line = small;
	struct tm tm;
	int64_t ms;
	time_t sec;
	int head, len;
	va_list aq;

	if (lv > log_max)
		return;
	ms = ra_now_ms();	/* the one clock: a test that moves time sees its log lines move too */
	sec = (time_t)(ms / 1000);
	gmtime_r(&sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	head = snprintf(small, sizeof small, "%s.%03dZ %s[%d] %s: ", ts, (int)(ms % 1000),
	    log_prog, (int)(log_pid ? log_pid : getpid()), log_names[lv]);
	if (head < 0 || (size_t)head >= sizeof small - 1)
		return;
	va_copy(aq, ap);
	len = vsnprintf(small + head, sizeof small - (size_t)head, fmt, aq);
	va_end(aq);
	if (len < 0)
		return;
	if ((size_t)(head + len) >= sizeof small - 1) {
		if (!(line = malloc((size_t)head + (size_t)len + 2)))
			return;
		memcpy(line, small, (size_t)head);
		vsnprintf(line + head, (size_t)len + 1, fmt, ap);
	}
	line[head + len] = '\n';
	fwrite(line, 1, (size_t)head + (size_t)len + 1, stderr);
	if (line != small)
		free(line);
}

#define LOG_FN(name, lv) \
	void name(const char *fmt, ...) { va_list ap; va_start(ap, fmt); log_vline(lv, fmt, ap); va_end(ap); }
LOG_FN(log_err, LV_ERR)
LOG_FN(log_warn, LV_WARN)
LOG_FN(log_info, LV_INFO)
LOG_FN(log_debug, LV_DEBUG)

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vline(LV_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
