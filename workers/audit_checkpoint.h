/*
 * audit_checkpoint.h: the worker's side of the audit chain's signed checkpoints (see
 * lib/audit.h): after a job, the head is sent to ca-signer when it is due.
 */
#ifndef RA_AUDIT_CHECKPOINT_H
#define RA_AUDIT_CHECKPOINT_H

#include "job.h"

/* After a job: if the audit chain grew audit.checkpoint_rows rows or audit.checkpoint_s
 * seconds passed since the last checkpoint, have the signer sign its head and store the
 * checkpoint. Failures are logged; the next job tries again. */
void audit_checkpoint_maybe(struct job_ctx *ctx);

#endif
