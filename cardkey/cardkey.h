/*
 * cardkey.h: what ra-cardkey answers, apart from its socket (cardkey.c): the card
 * operations' uses of the card master key, and nothing else.
 */
#ifndef RA_CARDKEY_H
#define RA_CARDKEY_H

#include "config.h"
#include "msg.h"

typedef struct cardkey cardkey_t;

/* Load the master key (cards.master_key_file) and the cards' management-key cipher
 * (card_station.mgm_key_alg). NULL (logged) if either is not usable. */
cardkey_t *cardkey_new(const config_t *cfg);
/* Wipe the master key and free; accepts NULL and clears the pointer. */
void cardkey_destroy(cardkey_t **k);
/* The answer to one request (CARD_CHALLENGE or CARD_PROOF), ANSWER or ERROR, with REQ's
 * routing; never NULL. */
msg_t *cardkey_answer(cardkey_t *k, const msg_t *req);

#endif
