/*
 * worker.h: what a job handler gets, and the table of handlers (one file per job kind).
 *
 * A handler runs in two phases:
 *   prepare (optional): outside any transaction; work that is slow or talks to another
 *     process and is idempotent by job id (password hashing, signer requests keyed by
 *     "job<ID>.<usage>"). It may stash results in ctx->scratch.
 *   apply: inside the transaction that also completes the job (job_complete, with the
 *     lease's fencing token). All database effects happen here, so a worker killed at
 *     any point leaves either nothing or everything.
 * A handler that fails sets ctx->error (English, for operators and the job's result) and
 * ctx->retry (1 if trying again may help) and returns -1; the transaction is rolled back.
 */
#ifndef RA_WORKER_H
#define RA_WORKER_H

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdint.h>

#include "config.h"

typedef struct signer_client signer_client_t;

struct job_ctx {
	sqlite3 *db;
	const config_t *cfg;
	signer_client_t *signer;
	EVP_PKEY *sheet_key;	/* the notifier's public sheet key, to seal secrets */
	int64_t id, token, attempt;
	const char *kind;
	json_t *payload;
	json_t *scratch;	/* prepare → apply */
	char actor[64];		/* for the audit: the officer if the payload names one */
	char error[512];
	int retry;
};

struct job_handler {
	const char *kind;
	int (*prepare)(struct job_ctx *ctx);
	int (*apply)(struct job_ctx *ctx, json_t **result);
};
extern const struct job_handler job_handlers[];
extern const int job_nhandlers;

/* Set ctx->error (printf style), ctx->retry = RETRY; returns -1 for `return job_fail(...)`. */
int job_fail(struct job_ctx *ctx, int retry, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A string member of the payload, or NULL after job_fail() saying which is missing. */
const char *job_str(struct job_ctx *ctx, json_t *obj, const char *key);
/* An integer member (> 0), or -1 after job_fail(). */
int64_t job_int(struct job_ctx *ctx, json_t *obj, const char *key);
/* Audit in the current transaction with the job's actor. 0/-1. */
int job_audit(struct job_ctx *ctx, const char *action, const char *object, const char *before,
    const char *after);

/* The handlers, one file per job kind (listed in handlers.c). */
int job_form_key_apply(struct job_ctx *ctx, json_t **result);
int job_form_verify_apply(struct job_ctx *ctx, json_t **result);
int job_form_approve_prepare(struct job_ctx *ctx);
int job_form_approve_apply(struct job_ctx *ctx, json_t **result);
int job_issue_prepare(struct job_ctx *ctx);
int job_issue_apply(struct job_ctx *ctx, json_t **result);
int job_order_claim_apply(struct job_ctx *ctx, json_t **result);
int job_card_done_apply(struct job_ctx *ctx, json_t **result);
int job_card_fail_prepare(struct job_ctx *ctx);
int job_card_fail_apply(struct job_ctx *ctx, json_t **result);

/* Handlers shared between kinds. */
int register_prepare(struct job_ctx *ctx);
int register_apply(struct job_ctx *ctx, const char *serial, json_t **result);

/* The signer connection (signer_client.c). Requests are idempotent: retried on timeout. */
signer_client_t *signer_client_new(const config_t *cfg, const char *name);
void signer_client_destroy(signer_client_t **s);
/* Ask for a certificate. Returns the DER (malloc'd) and its serial, or NULL with ctx->error. */
uint8_t *signer_client_sign(struct job_ctx *ctx, const char *request_id, const char *usage,
    const uint8_t *csr, size_t csr_len, json_t *subject, size_t *der_len, char serial[41]);
/* Change a certificate's status (revoke/hold/release). Returns the answer or NULL with ctx->error. */
json_t *signer_client_status(struct job_ctx *ctx, const char *request_id, const char *serial,
    const char *action, const char *reason, int64_t invalidity);
/* Ask the signer to publish a CRL now. 0/-1. */
int signer_client_crl(struct job_ctx *ctx);

/* Accounts (account.c). */
/* A new random website password of LEN characters (no look-alike characters). Caller cleanses. */
char *account_password_new(int len);
/* argon2id hash with the configured cost; NULL on failure. */
char *account_hash(const config_t *cfg, const char *password);
/* A fresh, unused account id ("u" + 8 digits). */
char *account_id_new(sqlite3 *db);
/* Seal SECRET to the sheet key and queue a sheet (kind password|pin) in the current transaction. */
int sheet_queue(struct job_ctx *ctx, const char *kind, int64_t subscriber, const char *account,
    int64_t order, const char *reason, const char *delivery, const uint8_t *sealed, size_t sealed_len);

#endif
