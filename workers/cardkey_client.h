/*
 * cardkey_client.h: a worker's connection to ra-cardkey, the holder of the card master
 * key (cardkey/). Requests are idempotent there (the challenge is derived from the card
 * and the challenge job's id), so one that gets no answer in time is asked again;
 * failures are reported through the job's context (job_fail).
 */
#ifndef RA_CARDKEY_CLIENT_H
#define RA_CARDKEY_CLIENT_H

#include "job.h"

cardkey_client_t *cardkey_client_new(const config_t *cfg, const char *name);
void cardkey_client_destroy(cardkey_client_t **c);
/* The decrypted WITNESS of card SERIAL and the challenge for request RID: {witness,
 * challenge} (hex), or NULL with ctx->error. */
json_t *cardkey_client_challenge(struct job_ctx *ctx, const char *rid, const char *serial,
    const uint8_t *witness, size_t wlen);
/* Check RESPONSE, the card's answer to the challenge of RID; with RECIPIENT (32 bytes, or
 * NULL) also the card's PUKs from VERSION on, sealed to it: {ok, sealed_puk,
 * sealed_next_puk, sealed_after_puk}. NULL with ctx->error (retry 0 if the card's answer
 * is wrong). */
json_t *cardkey_client_proof(struct job_ctx *ctx, const char *rid, const char *serial,
    const uint8_t *response, size_t rlen, const uint8_t *recipient, int64_t version);

#endif
