/*
 * subscriber.h: the subscriber's card operations (PIN change, unlock / PIN reset,
 * download, renew, export), one sequence each, shared by the counter (card-station) and
 * the subscriber's own PC (card-agent): the subscriber's language, secrets asked for
 * through the channel's prompt, one card held in one PC/SC transaction, and the back
 * office's proof of the card.
 *
 * Neither caller needs a card master key: the back office answers the card's
 * management-key witness (job card_challenge) after checking the website password and that
 * the card is the account's, and the card's answer to the back office's challenge goes
 * back with the next job as the proof. The transaction is held from the witness to the
 * last write, so the management rights gained stay with this one operation.
 *
 * What differs between the callers is only how they reach the subscriber and the back
 * office, given as a struct sub_io (as personalize.h's perso_issue_fn does for the
 * certificates): card-station asks on the terminal and submits to ra-queue; card-agent
 * asks through a pinentry program and relays through ra-web.
 */
#ifndef CARD_SUBSCRIBER_H
#define CARD_SUBSCRIBER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pcsc.h"
#include "piv.h"

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

/* How one channel reaches the subscriber and the back office. */
struct sub_io {
	/* Ask for the secret PROMPT (TEXT in the subscriber's language) into BUF (CAP
	 * bytes); the caller wipes it. 0/-1. NULL: the terminal without echo, else a line
	 * of stdin (scripts). */
	int (*secret)(void *ctx, int prompt, const char *text, char *buf, size_t cap);
	/* Tell the subscriber TEXT (message M). NULL: a line on stdout. */
	void (*say)(void *ctx, int m, const char *text);
	/* Submit job KIND with PAYLOAD (not stolen) and wait: 0 with the done job's result
	 * (*result, new reference) and its id (*job), or -1 with the reason in *why
	 * (malloc'd). */
	int (*submit)(void *ctx, const char *kind, json_t *payload, json_t **result, int64_t *job, char **why);
	/* Put the website PASSWORD into PAYLOAD the way this channel carries it (sealed to
	 * the workers' key, or to the relay that seals it at once). 0/-1. */
	int (*password)(void *ctx, json_t *payload, const char *password);
	void *ctx;
};

/* One card held for one operation. */
struct sub {
	const struct sub_io *io;	/* NULL: console only (no back office) */
	enum sub_lang lang;
	enum piv_alg mgm_alg;		/* the cards' management key algorithm (0: AES-128) */
	const char *producer;		/* named in the jobs ("station" field): the host or "agent" */
	char *reader;
	piv_t *p;		/* the card, inside our transaction (began) */
	uint32_t serial;
	char serial_text[12];
	int began;
};

/* Parse "zh-TW" / "en" (also "zh"). 0/-1. */
int sub_lang_parse(const char *s, enum sub_lang *out);
/* Tell the subscriber message M (printf arguments as the enum notes). */
void sub_say(const struct sub *s, enum sub_msg m, ...);
/* The text of M in S's language. */
const char *sub_text(const struct sub *s, enum sub_msg m);

/* Ask for a secret with PROMPT through S's channel. The text goes into BUF (CAP bytes);
 * the caller wipes it. 0/-1 (no input or too long). */
int sub_secret(const struct sub *s, enum sub_msg prompt, char *buf, size_t cap);
/* A new PIN typed twice and checked against the PIN policy (derive_pin_acceptable) into
 * PIN (DERIVE_PIN_MAX + 1 bytes); the caller wipes it. 0/-1 (reason said). */
int sub_new_pin(const struct sub *s, char *pin);

/* Connect to the card in READER (an exact name), begin the transaction, select PIV, read
 * the serial. 0/-1 (reason logged and said). */
int sub_open(struct sub *s, pcsc_t *pcsc, const char *reader);
/* End the transaction, disconnect; safe on a failed sub_open. */
void sub_close(struct sub *s);

/*
 * The back office's check for PURPOSE (unlock, download, renew) with ACCOUNT and PASSWORD
 * (carried by the channel's password hook), then mutual authentication with the card
 * through it. Returns the challenge job's result with "response" (the card's answer, hex)
 * added, and *job its id; NULL with the reason said to the subscriber.
 */
json_t *sub_challenge(struct sub *s, const char *purpose, const char *account, const char *password,
    int64_t *job);
/* Submit KIND with PAYLOAD (not stolen) and wait for it. The done job's result (with
 * "job": its id), or NULL with the back office's reason said. */
json_t *sub_submit(struct sub *s, const char *kind, json_t *payload);

/* Write CERTS (records {usage, pem}: one signature, one encryption) to 9C and 9D; the
 * management key must be authenticated (sub_challenge). 0/-1 (reason said). */
int download_write(struct sub *s, json_t *certs);

/* ---- the operations (sub_ops.c); S is open (sub_open); 0 done, -1 not (said) ---- */

/* Old PIN, new PIN, confirm; on the card alone. */
int sub_pin_change(struct sub *s);
/* Website password, new PIN, confirm; the PUK released sealed to a one-time key, used once
 * and replaced on the card at once. */
int sub_unlock(struct sub *s, const char *account);
/* The account's current certificates written to the card again. */
int sub_download(struct sub *s, const char *account);
/* New keys and certificates inside the renewal window (website password and PIN). */
int sub_renew(struct sub *s, const char *account);
/* The card's certificates (checked against CHAIN_PEM, the CA certificates) and the chain
 * written as PEM files into DIR: card-SERIAL-signature.pem, card-SERIAL-encryption.pem,
 * ca-chain.pem. */
int sub_export(struct sub *s, const char *chain_pem, const char *dir);

#endif
