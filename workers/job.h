/*
 * job.h: the context a job handler runs in, and the helpers every handler uses to read
 * its payload, fail, and audit.
 *
 * A job_ctx is filled by the worker for one attempt of one job: the ledger (in the
 * job's transaction during apply), the configuration, the signer connection, the sheet
 * key, the job's id, fencing token, kind and payload. A handler that fails says why in
 * ctx->error (English, for operators and the job's result) and whether trying again may
 * help in ctx->retry; job_fail() sets both. A refusal counter staff read is given with
 * job_refuse() instead: a stable code and the words in both languages (job_texts.h).
 */
#ifndef RA_JOB_H
#define RA_JOB_H

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdint.h>

#include "config.h"
#include "job_texts.h"

typedef struct signer_client signer_client_t;
typedef struct cardkey_client cardkey_client_t;

struct job_ctx {
	sqlite3 *db;
	const config_t *cfg;
	signer_client_t *signer;
	cardkey_client_t *cardkey;	/* ra-cardkey, for the card operations (cardkey_client.c) */
	EVP_PKEY *sheet_key;	/* the notifier's public sheet key, to seal secrets */
	int64_t id, token, attempt;
	int64_t started_ms;	/* mono_ms() when the worker received the job: its lease runs from about then */
	const char *kind;
	json_t *payload;
	json_t *scratch;	/* prepare → apply */
	char actor[128];	/* for the audit: the verified officer "ID (cert SERIAL)", else the worker */
	char officer[33];	/* the verified officer's id (officer_check), "" if none */
	char error[512];
	char code[40];		/* a refusal's stable code (job_refuse), "" for any other failure */
	char error_zh[768];	/* a refusal's words in Traditional Chinese, "" otherwise */
	int retry;
};

/* Set ctx->error (printf style), ctx->retry = RETRY; returns -1 for `return job_fail(...)`. */
int job_fail(struct job_ctx *ctx, int retry, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Refuse the job for good with TEXT (job_texts.h): its code, its English words in
 * ctx->error and its Chinese words in ctx->error_zh, both from the same printf arguments.
 * Returns -1, as job_fail(). */
int job_refuse(struct job_ctx *ctx, enum job_text text, ...);
/* Forget the job's error (a refusal counted inside a result instead of failing the job). */
void job_error_clear(struct job_ctx *ctx);
/* The refusal's {"code", "error_zh"} ({} after a plain job_fail()); caller decrefs. */
json_t *job_error_detail(const struct job_ctx *ctx);
/* A string member of the payload, or NULL after job_fail() saying which is missing. */
const char *job_str(struct job_ctx *ctx, json_t *obj, const char *key);
/* An integer member (> 0), or -1 after job_fail(). */
int64_t job_int(struct job_ctx *ctx, json_t *obj, const char *key);
/* Audit in the current transaction with the job's actor. 0/-1. */
int job_audit(struct job_ctx *ctx, const char *action, const char *object, const char *before,
    const char *after);

#endif
