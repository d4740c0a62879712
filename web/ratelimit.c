/*
 * ratelimit.c: a token bucket per source (the client's address), so one source cannot
 * hammer the login form or the back office. Each source starts with web.rate_burst
 * requests and earns web.rate_per_minute a minute back, up to the burst.
 *
 * Rules: the table is bounded (a flood of addresses reuses the slots least recently
 * seen, which only ever gives a source a fresh allowance, never another's); time is the
 * monotonic clock, never the wall clock; every call holds the lock.
 */
#include "web.h"
#include "util.h"

#include <pthread.h>
#include <string.h>

#define RL_SLOTS 4096

struct rl_slot {
	char source[64];
	double tokens;
	int64_t last_ms;
};

struct web_ratelimit {
	pthread_mutex_t lock;
	double per_ms, burst;
	struct rl_slot slot[RL_SLOTS];
};

web_ratelimit_t *ratelimit_new(int per_minute, int burst)
{
	web_ratelimit_t *rl = xcalloc(1, sizeof *rl);
	pthread_mutex_init(&rl->lock, NULL);
	rl->per_ms = per_minute / 60000.0;
	rl->burst = burst;
	return rl;
}

void ratelimit_destroy(web_ratelimit_t **prl)
{
	if (!prl || !*prl)
		return;
	pthread_mutex_destroy(&(*prl)->lock);
	free(*prl);
	*prl = NULL;
}

int ratelimit_take(web_ratelimit_t *rl, const char *source)
{
	int64_t now = mono_ms();
	struct rl_slot *s = NULL, *oldest = &rl->slot[0];
	int ok;

	pthread_mutex_lock(&rl->lock);
	for (size_t i = 0; i < RL_SLOTS && !s; i++) {
		if (strcmp(rl->slot[i].source, source) == 0)
			s = &rl->slot[i];
		else if (rl->slot[i].last_ms < oldest->last_ms)
			oldest = &rl->slot[i];
	}
	if (!s) {
		s = oldest;
		snprintf(s->source, sizeof s->source, "%s", source);
		s->tokens = rl->burst;
		s->last_ms = now;
	}
	s->tokens += (double)(now - s->last_ms) * rl->per_ms;
	if (s->tokens > rl->burst)
		s->tokens = rl->burst;
	s->last_ms = now;
	ok = s->tokens >= 1.0;
	if (ok)
		s->tokens -= 1.0;
	pthread_mutex_unlock(&rl->lock);
	return ok;
}
