/*
 * clock.c: see clock.h. Exactly one place decides what "now" is: --now (clock_set), else
 * RA_NOW, else the system clock. It calls nothing of the project (the log reads it).
 */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int clock_fixed;
static time_t clock_offset;	/* the set time minus the system time when it was set */

int time_parse(const char *text, time_t *out)
{
	struct tm tm = { 0 };
	const char *end;
	char *e;

	if (!text || !*text)
		return -1;
	if (strspn(text, "0123456789") == strlen(text)) {
		long long v = strtoll(text, &e, 10);
		*out = (time_t)v;
		return 0;
	}
	end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end && (strcmp(end, "Z") == 0 || *end == '\0')) {
		*out = timegm(&tm);
		return 0;
	}
	memset(&tm, 0, sizeof tm);
	end = strptime(text, "%Y-%m-%d", &tm);
	if (end && *end == '\0') {
		*out = timegm(&tm);
		return 0;
	}
	return -1;
}

int clock_set(const char *text)
{
	time_t t;
	if (time_parse(text, &t) < 0)
		return -1;
	clock_fixed = 1;
	clock_offset = t - time(NULL);
	return 0;
}

/* The offset RA_NOW asks for, read once; a --now given before wins. */
static time_t clock_shift(void)
{
	static int env_checked;
	if (!env_checked) {
		const char *env = getenv("RA_NOW");
		env_checked = 1;
		if (env && !clock_fixed && clock_set(env) < 0)
		{
			/* Not fatal(): the log reads this clock, so the clock must not log. */
			fprintf(stderr, "RA_NOW=%s is not a time (use YYYY-MM-DDTHH:MM:SSZ)\n", env);
			exit(1);
		}
	}
	return clock_fixed ? clock_offset : 0;
}

time_t ra_now(void)
{
	time_t shift = clock_shift();
	return time(NULL) + shift;
}

int64_t ra_now_ms(void)
{
	time_t shift = clock_shift();
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + shift) * 1000 + ts.tv_nsec / 1000000;
}

char *time_format(time_t t, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
