/*
 * worker.h: what a job handler needs: its context (job.h), the signer (signer_client.h),
 * the handlers of each job kind (one file per kind) and the code they share.
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

#include "form.h"
#include "job.h"
#include "signer_client.h"

/* The handlers, one file per job kind (the table is in handlers.c). */
int job_form_key_apply(struct job_ctx *ctx, json_t **result);
int job_form_verify_apply(struct job_ctx *ctx, json_t **result);
int job_form_approve_prepare(struct job_ctx *ctx);
int job_form_approve_apply(struct job_ctx *ctx, json_t **result);
int job_form_reject_apply(struct job_ctx *ctx, json_t **result);
int job_subscriber_find_apply(struct job_ctx *ctx, json_t **result);
int job_issue_prepare(struct job_ctx *ctx);
int job_issue_apply(struct job_ctx *ctx, json_t **result);
int job_order_claim_apply(struct job_ctx *ctx, json_t **result);
int job_card_done_apply(struct job_ctx *ctx, json_t **result);
int job_card_fail_prepare(struct job_ctx *ctx);
int job_card_fail_apply(struct job_ctx *ctx, json_t **result);
/* The subscriber's card operations (job_card.c). */
int job_card_challenge_prepare(struct job_ctx *ctx);
int job_card_challenge_apply(struct job_ctx *ctx, json_t **result);
int job_card_unlock_prepare(struct job_ctx *ctx);
int job_card_unlock_apply(struct job_ctx *ctx, json_t **result);
int job_card_puk_apply(struct job_ctx *ctx, json_t **result);
int job_card_renew_prepare(struct job_ctx *ctx);
int job_card_renew_apply(struct job_ctx *ctx, json_t **result);

/* Where a personalized card went (job_dispatch.c). */
int job_card_dispatch_prepare(struct job_ctx *ctx);
int job_card_dispatch_apply(struct job_ctx *ctx, json_t **result);
int job_revoke_prepare(struct job_ctx *ctx);
int job_revoke_apply(struct job_ctx *ctx, json_t **result);
int job_suspend_prepare(struct job_ctx *ctx);
int job_suspend_apply(struct job_ctx *ctx, json_t **result);
int job_login_apply(struct job_ctx *ctx, json_t **result);
int job_password_change_apply(struct job_ctx *ctx, json_t **result);
int job_renew_apply(struct job_ctx *ctx, json_t **result);
int job_counter_renew_apply(struct job_ctx *ctx, json_t **result);
int job_officer_add_apply(struct job_ctx *ctx, json_t **result);
int job_officer_disable_apply(struct job_ctx *ctx, json_t **result);

/* Handlers shared between kinds. */
/* A card's two certificates (issue_pair.c): check both requests (payload sign_csr, enc_csr)
 * first, then ask the signer for both for SUBJECT with request ids "job<ID>.<usage>"; if
 * the second fails, the first is withdrawn. The records (usage, serial, pem, subject,
 * dates, request_id), or NULL after job_fail(). */
json_t *issue_pair_sign(struct job_ctx *ctx, json_t *subject);
/* Revoke CERTS (issued, not deliverable) at the signer; keeps ctx->error; ctx->retry is
 * set only if one could not be revoked yet (a retry gets the same certificates back). */
void issue_withdraw(struct job_ctx *ctx, json_t *certs);
/* Store CERTS (as prepared by an issue: usage, serial, pem, subject, dates, request_id)
 * for ORDER and audit each; the list a job result shows, or NULL after job_fail(). */
json_t *issue_store(struct job_ctx *ctx, int64_t order, json_t *certs);
int register_prepare(struct job_ctx *ctx);
int register_apply(struct job_ctx *ctx, const char *serial, json_t **result);

/* One person, one live registration (job_supersede.c). */
/* The account of a live registration with the ID number of registration form F, or NULL.
 * Caller frees. */
char *supersede_live_account(struct job_ctx *ctx, const form_t *f);
/* Refuse registration form F (SERIAL) while another registration of its ID number is live,
 * unless F names that account under supersedes and, AT_APPROVAL, the payload says
 * "supersede": true. 0, or -1 after job_fail(). */
int supersede_check(struct job_ctx *ctx, const form_t *f, const char *serial, int at_approval);
/* Revoke the live registration's certificates as superseded at the signer. 0/-1. */
int supersede_prepare(struct job_ctx *ctx, const form_t *f);
/* Record what supersede_prepare did, cancel the old orders, audit; adds "superseded" and
 * "revoked" to RESULT. 0/-1. */
int supersede_apply(struct job_ctx *ctx, const char *serial, json_t *result);

/* Approved forms' effects (form_approve dispatches on the form's kind). SERIAL is the form's. */
int revocation_prepare(struct job_ctx *ctx, const char *serial);
int revocation_apply(struct job_ctx *ctx, const char *serial, json_t **result);
int resume_prepare(struct job_ctx *ctx, const char *serial);
int resume_apply(struct job_ctx *ctx, const char *serial, json_t **result);
int password_reset_prepare(struct job_ctx *ctx, const char *serial);
int password_reset_apply(struct job_ctx *ctx, const char *serial, json_t **result);
/* A change form: the subscriber's phone, address, contact person (job_change.c). */
int change_apply(struct job_ctx *ctx, const char *serial, const form_t *f, json_t **result);

/* Certificate status changes shared by revocation, suspension and resume (cert_status.c). */
/* The serials (JSON array) of ACCOUNT's certificates whose status is in STATUSES (SQL list,
 * e.g. "'valid','held'") and that have not expired; NULL after job_fail() if no such account. */
json_t *cert_status_select(struct job_ctx *ctx, const char *account, const char *statuses, int unexpired);
/* Ask the signer to ACTION (revoke|hold|release) each serial with request id
 * "job<ID>.<ACTION>.<serial>" (idempotent on retry). Serials done are appended to DONE, those
 * the signer refused for good to REFUSED as {serial, error}. -1 (ctx->error, retry) if the
 * signer could not be asked; 0 otherwise. Publishes a CRL when something changed. */
int cert_status_signer(struct job_ctx *ctx, json_t *serials, const char *action, const char *reason,
    int64_t invalidity, json_t *done, json_t *refused);
/* The same, but no serial is begun once mono_ms() has reached DEADLINE (after the first):
 * the serials not asked are appended to REST. */
int cert_status_signer_until(struct job_ctx *ctx, json_t *serials, const char *action, const char *reason,
    int64_t invalidity, int64_t deadline, json_t *done, json_t *refused, json_t *rest);
/* Record in ra.db (in the job's transaction) that the serials in DONE now have STATUS
 * (valid|held|revoked) with REASON (NULL: none), audited. 0/-1. */
int cert_status_record(struct job_ctx *ctx, json_t *done, const char *status, const char *reason);

/* Website accounts: login check with the lockout rule (job_account.c). */
/* Check ACCOUNT's password, sealed (base64, lib/seal.h) to the workers' key, with the
 * lockout rule. 1: right; 0: refused, *refusal set to the result the job must complete
 * with (DONE, so the failure count commits); -1: error (ctx->error set). Wipes the
 * clear password. */
int account_check(struct job_ctx *ctx, const char *account, const char *sealed_b64,
    json_t **refusal);
/* The two halves of account_check, for handlers that must know the answer before their
 * transaction (to call the signer only for a right password): account_verify only reads
 * (1 right, 0 wrong, 2 locked, 3 no such account, -1 error); account_record commits
 * VERDICT's effect on the failure count in the job's transaction (1 right, 0 refused with
 * *refusal, -1 error). */
int account_verify(struct job_ctx *ctx, const char *account, const char *sealed_b64);
/*
 * Prepare phase of every job that carries an account and its sealed password: runs the
 * slow argon2id verification outside the write transaction and leaves the verdict in
 * ctx->scratch, which account_check() then uses if the password hash is still the same.
 */
int job_account_prepare(struct job_ctx *ctx);
int account_record(struct job_ctx *ctx, const char *account, int verdict, json_t **refusal);
/* Failure counters beside the accounts (account_guard.c): SUBJECT is "account:<id>" for an
 * account id that does not exist, or "source:<producer>/<tag>". */
/* Failures of SUBJECT still remembered (0: none). */
int64_t guard_failures(struct job_ctx *ctx, const char *subject);
/* Count one more failure of SUBJECT now, in the job's transaction. 0/-1. */
int guard_fail(struct job_ctx *ctx, const char *subject);
/* Seconds SOURCE must still wait before it may try again; 0: none. */
int64_t guard_wait(struct job_ctx *ctx, const char *source);
/* The source subject of this job into *SUBJECT (malloc'd), NULL if its payload names no
 * source. 0, or -1 after job_fail() if the source is malformed. */
int guard_source(struct job_ctx *ctx, char **subject);
/* Open a secret sealed to the workers' key; malloc'd, NUL-terminated; the caller wipes it
 * with OPENSSL_cleanse and frees it. NULL after job_fail(). */
char *account_unseal(struct job_ctx *ctx, const char *sealed_b64);
/* A refusal result {"ok": false, "error": TEXT} for a subscriber's request (English only). */
json_t *account_refusal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A refusal result {"ok": false, "code": CODE, "error": EN, "error_zh": ZH} for a subscriber's
 * request (clients show the language the subscriber reads). Takes ownership of EN and ZH. */
json_t *account_refuse(const char *code, char *en, char *zh);
/* Give ACCOUNT the password prepared by register_prepare() (scratch pw_hash, pw_sealed):
 * the old hash becomes the previous one, the account is unlocked, and a password sheet
 * (REASON resume|reset, DELIVERY) is queued; adds "sheet" (its serial) to RESULT. 0/-1. */
int account_new_password(struct job_ctx *ctx, const char *account, const char *reason,
    const char *delivery, json_t *result);

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
