/*
 * officer_check.h: who asked for a job, checked by the worker's loop before any handler
 * runs (officer_check.c).
 */
#ifndef RA_OFFICER_CHECK_H
#define RA_OFFICER_CHECK_H

#include <openssl/x509.h>

#include "job.h"

/*
 * For an officer action submitted by a producer: the officer signature, its certificate
 * (officer CA in CAS, valid now), the registry entry (enabled) and the role the kind needs;
 * sets ctx->officer and ctx->actor ("ID (cert SERIAL)"). Other jobs get WORKER (or their
 * parent job's actor) as actor. 0, or -1 after job_fail().
 */
int officer_check(struct job_ctx *ctx, X509_STORE *cas, const char *worker);

#endif
