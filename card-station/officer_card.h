/*
 * officer_card.h: an officer's own PIV card as their credential (lib/officer.h): the key
 * is made on the card in slot 9C (digital signature) and never leaves it; the officer
 * certificate from the officer CA sits beside it; every signature needs the card's PIN.
 *
 * Enrolment takes a blank card (factory management key): P-256 key generated on the
 * card, certificate written, the officer's PIN set, and the PUK and management key
 * replaced by random values that nobody keeps, so that nobody can unblock the PIN or put
 * another key or certificate on the card. A forgotten PIN means a new card.
 */
#ifndef CS_OFFICER_CARD_H
#define CS_OFFICER_CARD_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "officer.h"

/* The credential on the card in READER, the PIN checked at once (wrong: NULL, tries left
 * logged). Signing keeps the card open until officer_cred_destroy(). */
officer_cred_t *officer_card_open(const char *reader, const char *pin);

typedef struct officer_card officer_card_t;
/* Begin enrolling the blank card in READER: a P-256 key made in 9C, *pub its public key
 * (caller frees). NULL on failure (logged). */
officer_card_t *officer_card_enrol(const char *reader, EVP_PKEY **pub);
/* Finish: write CERT to 9C, set PIN (6 to 8 digits), random PUK and management key. 0/-1. */
int officer_card_enrol_finish(officer_card_t *c, X509 *cert, const char *pin);
void officer_card_close(officer_card_t **c);

#endif
