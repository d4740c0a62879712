/*
 * answer.h: the card station's reading of the back office's answers (job results and
 * query answers, already decoded from JSON by lib/client.h): order rows, the certificates
 * of an issue or download, the challenge of a card_challenge, the queue's job list. These
 * are bytes from another host, so every reader here takes any JSON value (wrong types,
 * missing members, bad PEM or hex) and answers -1 or an empty result, never a crash; it
 * logs nothing, the caller says what failed. Kept apart from office.c and subscriber.c so
 * that tests/fuzz/fuzz_station_answer.c reaches them without a queue or a card.
 */
#ifndef CS_ANSWER_H
#define CS_ANSWER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One order row, as order_claim's result or the "orders" question give it. */
struct answer_order {
	int64_t order;		/* the order id ("order", else "id"); 0: none */
	char state[16];		/* approved, claimed, issued, personalized */
	char account[64];	/* the subscriber's website account id */
	char name[128];		/* the subscriber's name (the requests' common name) */
};

/* The certificates of an issue or download result, as DER (malloc'd; answer_certs_clear). */
struct answer_certs {
	uint8_t *sign, *enc;	/* for slot 9C (usage "signature") and 9D ("encryption") */
	size_t sign_len, enc_len;
};

/* Copy order row ROW into OUT (absent or mistyped members read as 0 or ""). */
void answer_order_read(const json_t *row, struct answer_order *out);
/* The last row of ANSWER's "orders" whose card_serial is CARD into OUT: 1, or 0 if none. */
int answer_order_find(const json_t *answer, const char *card, struct answer_order *out);
/* Both certificates of CERTS (the result's "certs" array) into OUT. 0, or -1 if either
 * usage is missing or not one DER certificate in PEM (OUT is then cleared). */
int answer_certs_read(const json_t *certs, struct answer_certs *out);
void answer_certs_clear(struct answer_certs *c);
/* The "witness" and "challenge" of a card_challenge result RES, hex of BS bytes each,
 * into W and C (BS bytes each). 0/-1. */
int answer_challenge(const json_t *res, size_t bs, uint8_t *w, uint8_t *c);
/* 1 if ANSWER's "jobs" (the "jobs" question) hold a card job (issue, card_done,
 * card_fail, order_claim) created at or before STARTED, else 0. */
int answer_jobs_busy(const json_t *answer, time_t started);

#endif
