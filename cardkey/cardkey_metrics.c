/*
 * cardkey_metrics.c: what ra-cardkey tells Prometheus: requests by command (CARD_CHALLENGE,
 * CARD_PROOF) and result (ok, or the error sent: bad_message, refused, not_found,
 * internal), a histogram of the time from receipt to answer, and that it is alive (the
 * file's own timestamp). A refused CARD_PROOF is a card that did not prove it holds its
 * key; many of them, or errors of any other kind, mean a master key that does not match
 * the cards' or a worker that sends what it should not.
 *
 * Rules: the card master key's holder writes nothing but this file, into its own folder
 * (cardkey.dir) through a descriptor opened before the seccomp filter (as ca-signer
 * writes its own), and metrics.dir holds a symbolic link to it for the textfile collector.
 * Nothing about a card, a serial or a request id goes into it: counts only.
 */
#include "cardkey_metrics.h"
#include "clock.h"
#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <time.h>

static const double cardkey_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1 };

struct cardkey_metrics {
	metrics_t *m;
	int dirfd;
	int64_t every_ms, next_ms;
};

cardkey_metrics_t *cardkey_metrics_new(const config_t *cfg, int dirfd)
{
	cardkey_metrics_t *cm = xcalloc(1, sizeof *cm);
	static const char *const cmds[] = { "CARD_CHALLENGE", "CARD_PROOF" };

	cm->m = metrics_new();
	cm->dirfd = dirfd;
	cm->every_ms = config_int(cfg, "metrics.interval_ms");
	metrics_declare(cm->m, "ra_cardkey_requests_total", METRIC_COUNTER,
	    "Requests ra-cardkey answered, by command and result (ok, or the error it sent).", NULL, 0);
	metrics_declare(cm->m, "ra_cardkey_request_seconds", METRIC_HISTOGRAM,
	    "Time from a request's receipt to its answer, by command.", cardkey_bounds,
	    sizeof cardkey_bounds / sizeof cardkey_bounds[0]);
	metrics_declare(cm->m, "ra_metrics_written_timestamp_seconds", METRIC_GAUGE,
	    "When a program last wrote its metrics file.", NULL, 0);
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {	/* present from the start */
		metrics_set(cm->m, "ra_cardkey_requests_total", 0, "command", cmds[i], "result", "ok", NULL);
		metrics_set(cm->m, "ra_cardkey_requests_total", 0, "command", cmds[i], "result", "refused", NULL);
	}
	return cm;
}

void cardkey_metrics_destroy(cardkey_metrics_t **cmp)
{
	cardkey_metrics_t *cm;

	if (!cmp || !(cm = *cmp))
		return;
	metrics_destroy(&cm->m);
	free(cm);
	*cmp = NULL;
}

double cardkey_metrics_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *result_name(const msg_t *rep)
{
	int ok = 0;

	if (rep->cmd != MSG_ERROR)
		return "ok";
	switch (msg_i64(rep, 0, &ok)) {
	case MERR_BAD_MESSAGE: return "bad_message";
	case MERR_REFUSED: return "refused";
	case MERR_NOT_FOUND: return "not_found";
	default: return "internal";
	}
}

void cardkey_metrics_answered(cardkey_metrics_t *cm, const msg_t *req, const msg_t *rep, double t0)
{
	const char *cmd = req && req->cmd < MSG_NCMDS ? msg_table[req->cmd].name : "malformed";

	metrics_add(cm->m, "ra_cardkey_requests_total", 1, "command", cmd, "result",
	    rep ? result_name(rep) : "bad_message", NULL);
	metrics_observe(cm->m, "ra_cardkey_request_seconds", cardkey_metrics_clock() - t0, "command", cmd, NULL);
}

void cardkey_metrics_tick(cardkey_metrics_t *cm, int force)
{
	if (!force && mono_ms() < cm->next_ms)
		return;
	cm->next_ms = mono_ms() + cm->every_ms;
	metrics_set(cm->m, "ra_metrics_written_timestamp_seconds", (double)ra_now(), "program", "ra-cardkey", NULL);
	metrics_write_at(cm->m, cm->dirfd, "ra-cardkey.prom");
}
