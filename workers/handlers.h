/*
 * handlers.h: the table that tells the worker which functions run a job kind (handlers.c).
 * Only the worker's loop reads it; a handler never needs it.
 */
#ifndef RA_HANDLERS_H
#define RA_HANDLERS_H

#include <jansson.h>

#include "job.h"

struct job_handler {
	const char *kind;
	int (*prepare)(struct job_ctx *ctx);
	int (*apply)(struct job_ctx *ctx, json_t **result);
};
extern const struct job_handler job_handlers[];
extern const int job_nhandlers;

#endif
