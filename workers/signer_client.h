/*
 * signer_client.h: a worker's connection to ca-signer. Requests are idempotent at the
 * signer (by request id), so one that gets no answer in time is asked again; failures
 * are reported through the job's context (job_fail).
 */
#ifndef RA_SIGNER_CLIENT_H
#define RA_SIGNER_CLIENT_H

#include "job.h"

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
/* Ask the signer to sign an audit checkpoint (ROWS, HEAD). Its answer {rows, head, at,
 * signature} or NULL with ctx->error. */
json_t *signer_client_checkpoint(struct job_ctx *ctx, int64_t rows, const char *head);

#endif
