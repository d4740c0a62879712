/*
 * agent.h: card-agent's pieces. card-agent is the subscriber's local card service: a
 * small HTTP server on 127.0.0.1 that the RA website's card page calls from the browser
 * to reach the card in the subscriber's reader.
 *
 * Pieces, one file each: main.c (options, configuration, the daemon), server.c (the
 * local HTTP server: host and origin checks, CORS and Private Network Access preflight,
 * the route table), pinentry.c (the subscriber's own prompt: a pinentry program spoken
 * to in Assuan, as GnuPG does), relay.c (the steps of an operation carried to the RA
 * website over HTTPS with libcurl), ops.c (the operation table: what each shows the
 * subscriber, and the shared card sequence it runs, card/sub_ops.c).
 *
 * What it holds: nothing between operations. During one it holds the PIN and the website
 * password as typed into pinentry (wiped after use), the card's PC/SC transaction, and for
 * an unlock a one-time X25519 key the back office seals the PUK to. The card's management
 * key never reaches it: the back office answers the card's challenge through it.
 */
#ifndef CARD_AGENT_H
#define CARD_AGENT_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#include "config.h"
#include "subscriber.h"

#define AGENT_VERSION "1"
#define AGENT_MAX_BODY 4096
#define AGENT_MAX_ORIGINS 16

struct agent {
	config_t *cfg;
	char *origins[AGENT_MAX_ORIGINS];	/* agent.origins, split */
	size_t norigins;
	unsigned port;
	pthread_mutex_t busy;		/* one card operation at a time */
};

/* ---- server.c ---- */
/* Serve until SIGTERM or SIGINT. 0/-1 (cannot listen). */
int server_run(struct agent *a);
/* 1 if ORIGIN is one of the configured ones (exactly). */
int server_origin_allowed(const struct agent *a, const char *origin);

/* ---- pinentry.c ---- */
typedef struct pinentry pinentry_t;
/* Start the pinentry program PROG and read its greeting; NULL on failure (logged). The
 * process must ignore SIGPIPE: a pinentry that dies is then an error, not our end. */
pinentry_t *pinentry_new(const char *prog);
/* Stop it; accepts NULL. */
void pinentry_destroy(pinentry_t **p);
/* Show DESC and ask yes or no (CONFIRM). 1 yes, 0 no or cancelled, -1 broken. */
int pinentry_confirm(pinentry_t *p, const char *title, const char *desc, const char *ok, const char *cancel);
/* Show DESC and PROMPT and read a secret into BUF (CAP bytes; the caller wipes it).
 * 0, or -1 if cancelled, empty, too long or broken. */
int pinentry_getpin(pinentry_t *p, const char *desc, const char *prompt, char *buf, size_t cap);

/* ---- relay.c ---- */
/* Submit job KIND's step to the RA website (struct sub_io's submit, with A for its CTX). */
int relay_submit(struct agent *a, const char *kind, json_t *payload, json_t **result, int64_t *job, char **why);
/* struct sub_io's password hook: the password in clear, for the website to seal (CTX unused). */
int relay_password(void *ctx, json_t *payload, const char *password);
/* The CA certificate(s) from the RA website (PEM, malloc'd); NULL (logged). */
char *relay_ca(struct agent *a);

/* ---- ops.c ---- */
/* Run operation OP for a page of ORIGIN with the request BODY ({account, lang}); the
 * answer for the page: {ok, op, serial, messages[]}, and an HTTP status in *status. */
json_t *ops_run(struct agent *a, const char *op, const char *origin, json_t *body, unsigned *status);
/* The answer of GET /v1/hello: the agent's version and the card it sees. */
json_t *ops_hello(struct agent *a);
/* 1 if OP is an operation's name. */
int ops_known(const char *op);

#endif
