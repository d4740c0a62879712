/*
 * board.c: the live view of a bulk run (see board.h).
 *
 * Times shown per card come from the monotonic clock; only the expected finish is
 * shown as a time of day, for the operator. The rate counts finished cards from the
 * first card's start, so idle time before the first card does not drag it down.
 */
#include "board.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct board_row {
	char *reader;
	uint32_t serial;
	char step[40];
	int64_t started;	/* mono_ms of the card's start; 0: idle */
};

struct board_rec {
	char *reader;
	uint32_t serial;
	int64_t order;
	enum board_result result;
	int64_t ms;
	char *detail;
};

struct board {
	pthread_mutex_t mu;
	FILE *out;
	int tty;
	size_t n;
	struct board_row *rows;
	struct board_rec *recs;
	size_t nrecs, cap;
	long expected;
	int64_t first;		/* mono_ms of the first card's start */
	int64_t last;		/* mono_ms of the latest finish */
	size_t ok, failed, skipped;
	int64_t card_ms;
	int drawn;		/* lines drawn last time (terminal) */
	size_t printed;		/* finished count at the last total line (log) */
};

board_t *board_new(FILE *out, char **names, size_t nreaders, long expected)
{
	board_t *b = xcalloc(1, sizeof *b);

	pthread_mutex_init(&b->mu, NULL);
	b->out = out;
	b->tty = isatty(fileno(out));
	b->n = nreaders;
	b->rows = xcalloc(nreaders, sizeof *b->rows);
	for (size_t i = 0; i < nreaders; i++)
		b->rows[i].reader = xstrdup(names[i]);
	b->expected = expected;
	b->printed = (size_t)-1;
	return b;
}

void board_destroy(board_t **pb)
{
	board_t *b = pb ? *pb : NULL;

	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->rows[i].reader);
	for (size_t i = 0; i < b->nrecs; i++)
		free(b->recs[i].detail);
	free(b->rows);
	free(b->recs);
	pthread_mutex_destroy(&b->mu);
	free(b);
	*pb = NULL;
}

static void board_clock(char *buf, size_t len, time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

/* The total line, without a newline. Called with the lock held. */
static void board_total(board_t *b, char *buf, size_t len)
{
	int64_t now = mono_ms(), span;
	size_t active = 0;
	double rate;
	char eta[160] = "";

	for (size_t i = 0; i < b->n; i++)
		active += b->rows[i].started != 0;
	/* With no card in a reader, the time waiting for the next one is not the station's. */
	span = !b->first ? 0 : active ? now - b->first : b->last - b->first;
	rate = span > 0 ? (double)b->ok * 60000.0 / (double)span : 0;
	if (b->expected > 0 && rate > 0) {
		long left = b->expected - (long)b->ok;
		double ms = left > 0 ? (double)left * 60000.0 / rate : 0;
		char at[16];
		board_clock(at, sizeof at, ra_now() + (time_t)(ms / 1000));
		snprintf(eta, sizeof eta, ", %ld to go, expected finish %s (in %.0f s)", left > 0 ? left : 0,
		    at, ms / 1000);
	}
	snprintf(buf, len, "total: %zu personalized, %zu failed, %zu skipped, %zu in progress, "
	    "%.1f cards/min%s", b->ok, b->failed, b->skipped, active, rate, eta);
}

void board_card(board_t *b, size_t i, uint32_t serial)
{
	pthread_mutex_lock(&b->mu);
	b->rows[i].serial = serial;
	b->rows[i].started = mono_ms();
	if (!b->first)
		b->first = b->rows[i].started;
	snprintf(b->rows[i].step, sizeof b->rows[i].step, "inserted");
	pthread_mutex_unlock(&b->mu);
}

void board_step(board_t *b, size_t i, const char *step)
{
	struct board_row *r = &b->rows[i];
	char at[16];

	pthread_mutex_lock(&b->mu);
	snprintf(r->step, sizeof r->step, "%s", step);
	if (!b->tty) {
		board_clock(at, sizeof at, ra_now());
		fprintf(b->out, "%s  %-22s card %-10u %-20s %6.1f s\n", at, r->reader, r->serial, step,
		    r->started ? (double)(mono_ms() - r->started) / 1000.0 : 0.0);
		fflush(b->out);
	}
	pthread_mutex_unlock(&b->mu);
}

void board_finish(board_t *b, size_t i, int64_t order, enum board_result result, const char *detail)
{
	struct board_row *r = &b->rows[i];
	struct board_rec *rec;

	pthread_mutex_lock(&b->mu);
	if (b->nrecs == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->recs = xrealloc(b->recs, b->cap * sizeof *b->recs);
	}
	rec = &b->recs[b->nrecs++];
	rec->reader = r->reader;
	rec->serial = r->serial;
	rec->order = order;
	rec->result = result;
	rec->ms = r->started ? mono_ms() - r->started : 0;
	rec->detail = xstrdup(detail ? detail : "");
	if (result == BOARD_OK) {
		b->ok++;
		b->card_ms += rec->ms;
	} else if (result == BOARD_FAILED) {
		b->failed++;
	} else {
		b->skipped++;
	}
	r->started = 0;
	b->last = mono_ms();
	snprintf(r->step, sizeof r->step, "%s", result == BOARD_OK ? "done: next card" :
	    result == BOARD_FAILED ? "FAILED: set aside" : "skipped: next card");
	{
		char at[16];
		/* On a terminal the finished card scrolls above the live block, which the next
		 * tick draws again below it. */
		if (b->tty && b->drawn) {
			fprintf(b->out, "\033[%dA\033[J", b->drawn);
			b->drawn = 0;
		}
		board_clock(at, sizeof at, ra_now());
		fprintf(b->out, "%s  %-22s card %-10u %s%s%s (%.1f s)\n", at, r->reader, r->serial,
		    result == BOARD_OK ? "personalized" : result == BOARD_FAILED ? "FAILED" : "skipped",
		    *rec->detail ? ": " : "", rec->detail, (double)rec->ms / 1000.0);
		fflush(b->out);
	}
	pthread_mutex_unlock(&b->mu);
}

void board_expect(board_t *b, long expected)
{
	pthread_mutex_lock(&b->mu);
	b->expected = expected;
	pthread_mutex_unlock(&b->mu);
}

void board_tick(board_t *b)
{
	char total[384], at[16];
	int64_t now = mono_ms();

	pthread_mutex_lock(&b->mu);
	board_total(b, total, sizeof total);
	if (b->tty) {
		if (b->drawn)
			fprintf(b->out, "\033[%dA", b->drawn);
		for (size_t i = 0; i < b->n; i++) {
			struct board_row *r = &b->rows[i];
			if (r->started)
				fprintf(b->out, "\033[K%-22s card %-10u %-20s %6.1f s\n", r->reader, r->serial,
				    r->step, (double)(now - r->started) / 1000.0);
			else
				fprintf(b->out, "\033[K%-22s %s\n", r->reader, *r->step ? r->step : "waiting for a card");
		}
		fprintf(b->out, "\033[K%s\n", total);
		b->drawn = (int)b->n + 1;
	} else if (b->ok + b->failed + b->skipped != b->printed) {
		b->printed = b->ok + b->failed + b->skipped;
		board_clock(at, sizeof at, ra_now());
		fprintf(b->out, "%s  %s\n", at, total);
	}
	fflush(b->out);
	pthread_mutex_unlock(&b->mu);
}

size_t board_summary(board_t *b)
{
	static const char *const names[] = { "personalized", "FAILED", "skipped" };
	char total[384];
	size_t failed;

	pthread_mutex_lock(&b->mu);
	b->drawn = 0;
	fprintf(b->out, "\n%-22s %-10s %-6s %-13s %8s  %s\n", "READER", "CARD", "ORDER", "RESULT", "TIME", "DETAIL");
	for (size_t i = 0; i < b->nrecs; i++) {
		struct board_rec *r = &b->recs[i];
		char order[24] = "-";
		if (r->order > 0)
			snprintf(order, sizeof order, "%lld", (long long)r->order);
		fprintf(b->out, "%-22s %-10u %-6s %-13s %7.1fs  %s\n", r->reader, r->serial, order,
		    names[r->result], (double)r->ms / 1000.0, r->detail);
	}
	if (b->nrecs == 0)
		fprintf(b->out, "(no card was handled)\n");
	board_total(b, total, sizeof total);
	fprintf(b->out, "%s\n", total);
	if (b->ok)
		fprintf(b->out, "average card time: %.1f s\n", (double)b->card_ms / (double)b->ok / 1000.0);
	fflush(b->out);
	failed = b->failed;
	pthread_mutex_unlock(&b->mu);
	return failed;
}

void board_counts(board_t *b, size_t *ok, size_t *failed, int64_t *card_ms)
{
	pthread_mutex_lock(&b->mu);
	*ok = b->ok;
	*failed = b->failed;
	*card_ms = b->card_ms;
	pthread_mutex_unlock(&b->mu);
}
