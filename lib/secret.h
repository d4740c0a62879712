/*
 * secret.h: how a producer hands a subscriber's secret (a website password) to the back
 * office without it ever resting in clear in the ledger: sealed (lib/seal.h) to the
 * workers' X25519 key, base64 for a JSON payload. Its users: ra-self (intake/ra-self.c)
 * and ra-web (web/backend.c) for every online request, and card-station's subscriber
 * operations (card/subscriber.c, the card challenge). Only a worker holds the private half;
 * it opens the box (workers/job_account.c), uses the secret and wipes it.
 */
#ifndef RA_SECRET_H
#define RA_SECRET_H

#include "config.h"

/* CLEAR sealed to the workers' public key (workers.seal_public_key), as base64.
 * NULL on error (logged). The caller keeps and wipes CLEAR. */
char *secret_seal_for_workers(const config_t *cfg, const char *clear);

#endif
