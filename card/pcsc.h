/*
 * pcsc.h: the card station's view of PC/SC: one context, the reader list, presence
 * watching, and one connection per card with nested transactions.
 *
 * A card is only ever spoken to inside pcsc_begin()/pcsc_end(), so pcscd keeps other
 * programs (the OS's own PIV support, a second station) from interleaving commands with a
 * half-done sequence. Transactions nest: only the outermost pair reaches pcscd.
 */
#ifndef CS_PCSC_H
#define CS_PCSC_H

#include <stddef.h>
#include <stdint.h>

#include "rc.h"

typedef struct pcsc pcsc_t;
typedef struct pcsc_card pcsc_card_t;

#define PCSC_ATR_MAX 36

struct pcsc_reader {
	char *name;
	int present;		/* a card is in the reader */
	int exclusive;		/* another program holds it exclusively */
	uint8_t atr[PCSC_ATR_MAX];
	size_t atr_len;
};

/* Establish a PC/SC context. NULL on failure, with *rc set (PIV_E_NO_SERVICE if no pcscd). */
pcsc_t *pcsc_new(piv_rc *rc);
void pcsc_destroy(pcsc_t **p);

/* List the readers and what is in each. *out is an array of *n entries; free with
 * pcsc_readers_free(). No readers is PIV_OK with *n = 0. */
piv_rc pcsc_readers(pcsc_t *p, struct pcsc_reader **out, size_t *n);
void pcsc_readers_free(struct pcsc_reader *r, size_t n);

/* Block until a reader appears or goes, or a card is inserted or removed, or TIMEOUT_MS
 * passes (PIV_E_TIMEOUT). The first call only learns the current state and returns. */
piv_rc pcsc_wait_change(pcsc_t *p, int timeout_ms);

/* Open a shared connection to the card in READER. */
piv_rc pcsc_connect(pcsc_t *p, const char *reader, pcsc_card_t **out);
/* Close the connection, ending any transaction still open; accepts NULL. */
void pcsc_disconnect(pcsc_card_t **c);

/* Begin (or nest) a transaction. If the card was reset by someone else since the last
 * one, the connection is re-established and pcsc_was_reset() reports it once. */
piv_rc pcsc_begin(pcsc_card_t *c);
/* End the innermost transaction. */
piv_rc pcsc_end(pcsc_card_t *c);
/* 1 once after a begin found the card reset (the applet must be selected again). */
int pcsc_was_reset(pcsc_card_t *c);

/* Raw exchange, an apdu_xmit_fn: CTX is a pcsc_card_t inside a transaction. */
piv_rc pcsc_transmit(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *rsp, size_t *rlen);

const char *pcsc_card_reader(const pcsc_card_t *c);
const uint8_t *pcsc_card_atr(const pcsc_card_t *c, size_t *len);

#endif
