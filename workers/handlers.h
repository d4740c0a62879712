/*
 * handlers.h: the table that tells the worker which functions run a job kind (handlers.c),
 * indexed by the kind's enum (lib/jobs.h). Only the worker's loop reads it; a handler
 * never needs it.
 */
#ifndef RA_HANDLERS_H
#define RA_HANDLERS_H

#include <jansson.h>

#include "job.h"
#include "jobs.h"

struct job_handler {
	int (*prepare)(struct job_ctx *ctx);	/* NULL: nothing to do outside the transaction */
	int (*apply)(struct job_ctx *ctx, json_t **result);
};
/* Every kind of JOB_KINDS has its handler: handlers.c does not compile otherwise. */
extern const struct job_handler job_handlers[JOB_KIND_COUNT];

#endif
