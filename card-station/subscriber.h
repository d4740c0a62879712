/*
 * subscriber.h: what the subscriber's card operations share (unlock / pin-reset, download,
 * renew, pin-change, export): the subscriber's language, secrets typed at the station, one
 * card held in one PC/SC transaction, and the back office's proof of the card.
 *
 * The station needs no card master key for these: the back office answers the card's
 * management-key witness (job card_challenge) after checking the website password and that
 * the card is the account's, and the card's answer to the back office's challenge goes
 * back with the next job as the proof. The transaction is held from the witness to the
 * last write, so the management rights gained stay with this one operation.
 */
#ifndef CS_SUBSCRIBER_H
#define CS_SUBSCRIBER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "station.h"

enum sub_lang { SUB_LANG_ZH = 0, SUB_LANG_EN = 1 };

/* Every line the subscriber reads; the text of each is in subscriber.c, zh-TW and en. */
enum sub_msg {
	SUB_ASK_PASSWORD,
	SUB_ASK_OLD_PIN,
	SUB_ASK_NEW_PIN,
	SUB_ASK_CONFIRM_PIN,
	SUB_ASK_PIN,
	SUB_PIN_POLICY,
	SUB_PIN_MISMATCH,
	SUB_PIN_SAME,
	SUB_PIN_WRONG,		/* %d: tries left */
	SUB_PIN_BLOCKED,
	SUB_PIN_CHANGED,
	SUB_CHECKING,
	SUB_REFUSED,		/* %s: the back office's reason */
	SUB_CARD_VERIFIED,
	SUB_UNLOCKED,
	SUB_CERTS_WRITTEN,
	SUB_EXPORTED,		/* %s: file */
	SUB_RENEW_KEYS,
	SUB_RENEW_OLD_KEYS,
	SUB_RENEWED,		/* %s: new expiry date */
	SUB_RENEW_WRITE_FAILED,
	SUB_CARD_ERROR,		/* %s: reason */
	SUB_NOT_PERSONALIZED,
	SUB_MSG_COUNT
};

/* One card held for one operation. */
struct sub {
	struct station *st;
	enum sub_lang lang;
	char *reader;
	piv_t *p;		/* the card, inside our transaction (began) */
	uint32_t serial;
	char serial_text[12];
	ra_client_t *client;	/* NULL until sub_challenge() */
	int began;
};

/* The options every subscriber command takes. */
struct sub_args {
	const char *reader, *account;
	enum sub_lang lang;
};
/* Parse --reader, --account (required when NEED_ACCOUNT) and --lang for command argv[0].
 * 0, or 2 after logging the usage. */
int sub_args_parse(int argc, char **argv, int need_account, struct sub_args *a);

/* Parse "zh-TW" / "en" (also "zh"). 0/-1. */
int sub_lang_parse(const char *s, enum sub_lang *out);
/* Print message M (printf arguments as the enum notes) and a newline to stdout. */
void sub_say(const struct sub *s, enum sub_msg m, ...);
/* The text of M in S's language. */
const char *sub_text(const struct sub *s, enum sub_msg m);

/*
 * Ask for a secret with PROMPT: from the terminal without echo, else one line of stdin
 * (scripts). The text goes into BUF (CAP bytes); the caller wipes it. 0/-1 (no input or
 * too long).
 */
int sub_secret(const struct sub *s, enum sub_msg prompt, char *buf, size_t cap);
/* A new PIN typed twice and checked against the PIN policy (derive_pin_acceptable) into
 * PIN (DERIVE_PIN_MAX + 1 bytes); the caller wipes it. 0/-1 (reason printed). */
int sub_new_pin(const struct sub *s, char *pin);

/* Connect to the card in reader NAME, begin the transaction, select PIV, read the serial.
 * 0/-1 (reason logged). */
int sub_open(struct sub *s, struct station *st, const char *name);
/* End the transaction, disconnect, drop the queue connection; safe on a failed sub_open. */
void sub_close(struct sub *s);

/*
 * The back office's check for PURPOSE (unlock, download, renew) with ACCOUNT and PASSWORD
 * (sealed to the workers' key before it leaves), then mutual authentication with the card
 * through it. Returns the challenge job's result with "response" (the card's answer, hex)
 * added, and *job its id; NULL with the reason printed for the subscriber.
 */
json_t *sub_challenge(struct sub *s, const char *purpose, const char *account, const char *password,
    int64_t *job);
/* Submit KIND with PAYLOAD (not stolen) and wait for it. The done job's result, or NULL
 * with the back office's reason printed. */
json_t *sub_submit(struct sub *s, const char *kind, json_t *payload);

/* Write CERTS (records {usage, pem}: one signature, one encryption) to 9C and 9D; the
 * management key must be authenticated (sub_challenge). 0/-1 (reason printed). */
int download_write(struct sub *s, json_t *certs);

#endif
