/*
 * office.h: the card station's side of the back office for bulk personalization: claim
 * an order for a card, issue its certificates, record it done or failed. Everything goes
 * through lib/client.h to ra-queue; the station never opens ra.db.
 *
 * Idempotency keys are chosen so that a station killed at any point and run again for
 * the same cards neither claims a second order nor issues a second pair of certificates:
 *   - order_claim is idempotent by card serial at the queue (a card holding an order gets
 *     it back), so its key only has to make this run's retries of one submit land on one
 *     job: "cs:<station>:claim:<serial>:<run>:<try>";
 *   - issue is keyed by order, card and a digest of the two requests, so a retry with the
 *     same requests reuses the job, and requests from new keys can never pick up
 *     certificates made for keys that are gone;
 *   - card_done is keyed by the issue job (one finish per issued pair), card_fail by the
 *     claim job (one give-back per attempt), or by the run for an order left by an
 *     earlier run (this run has not claimed it).
 * Whether a card left by a killed run is finished is decided by the ledger, not by what
 * the station sees there: the rerun gives the order back (card_fail) before it wipes the
 * card, and a card_done of the killed run that lands late loses to it, or wins and the
 * give-back answers "finished" (workers/job_order.c).
 * Each key is sent as ra_client_key() of the text above (an HMAC under the station's own
 * CURVE key), and the queue scopes keys by producer and kind: no other producer can take
 * a key first and have the station's job answered with its own.
 * One office_t per thread: ZeroMQ sockets are not shared between threads.
 */
#ifndef CS_OFFICE_H
#define CS_OFFICE_H

#include <stdint.h>

#include "config.h"
#include "officer.h"
#include "personalize.h"

typedef struct office office_t;

/* One card's order, as the queue knows it. */
struct office_order {
	int64_t order;		/* the order id; 0: none */
	int64_t claim_job;	/* the order_claim job of this attempt */
	int64_t issue_job;	/* the issue job, once submitted */
	uint32_t card;		/* the card serial */
	char state[16];		/* approved, claimed, issued, personalized */
	char account[64];	/* the subscriber's website account id */
	char name[128];		/* the subscriber's name (the requests' common name) */
};

/*
 * Connect as client "station" of CFG's queue; STATION names this counter in the orders,
 * RUN_ID this run (keys of claim retries). Loads the sheet public key (sheets.public_key).
 * Every job is signed by OPERATOR's credential (kept, not owned): the station's key alone
 * claims, issues and records nothing. NULL on failure (logged).
 */
office_t *office_new(const config_t *cfg, const char *station, const char *run_id,
    const officer_cred_t *operator);
void office_destroy(office_t **o);

/* Find the order card SERIAL holds from an earlier run (claimed, issued or personalized).
 * 1 found (into *out), 0 none, -1 with *err (malloc'd). */
int office_find(office_t *o, uint32_t serial, struct office_order *out, char **err);

/* Claim the next approved order for card SERIAL (TRY: this run's attempt number for the
 * card). 0 claimed, 1 no approved order is waiting, -1 with *err (refused, or the job
 * failed: nothing claimed), -2 with *err when no answer came (the queue silent, or the
 * job not sent): the claim may still land, and the order then waits for this card's next
 * run to give it back. */
int office_claim(office_t *o, uint32_t serial, int try, struct office_order *out, char **err);

/* How many approved orders are waiting; -1 with *err. */
long office_waiting(office_t *o, char **err);

/* Wait, at most TIMEOUT_MS, until no issue job submitted before this run is queued or
 * running, so that an earlier run's request cannot land after its order is given back.
 * 0, or -1 (timeout or queue error, logged). */
int office_settle(office_t *o, int64_t timeout_ms);

/* The perso_issue_fn for CTX = struct office_issue_ctx: submit `issue`, wait for it. */
struct office_issue_ctx {
	office_t *office;
	struct office_order *order;
	char *error;		/* malloc'd reason when the issue failed */
};
int office_issue(void *ctx, uint32_t serial, const uint8_t *sign_csr, size_t sign_len,
    const uint8_t *enc_csr, size_t enc_len, uint8_t **sign_cert, size_t *sign_cert_len,
    uint8_t **enc_cert, size_t *enc_cert_len);

/* Seal PIN to the sheet key; *b64 is the malloc'd base64 box. 0/-1 (logged). */
int office_seal_pin(office_t *o, const char *pin, char **b64);

/* Record the finished card with its sealed PIN (card_done, naming the issue job whose pair
 * the card holds). 0, or -1 with *err (also when the ledger finds that pair given back). */
int office_done(office_t *o, const struct office_order *ord, const char *sealed_b64, char **err);

/* Give the order back and revoke what it got (card_fail) with REASON. 0 given back (or
 * not the card's any more), 1 the order is finished (its card_done landed first: nothing
 * revoked, the card keeps it), -1 with *err. */
int office_fail(office_t *o, const struct office_order *ord, const char *reason, char **err);

#endif
