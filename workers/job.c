/*
 * job.c: the helpers of a job's context (job.h). They only read the payload and write
 * ctx->error / ctx->retry or the audit of the job's transaction; running a job (prepare,
 * apply, fencing) is the worker's business (worker_main.c).
 */
#include "job.h"
#include "audit.h"

#include <stdarg.h>
#include <stdio.h>

int job_fail(struct job_ctx *ctx, int retry, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
	va_end(ap);
	ctx->retry = retry;
	return -1;
}

const char *job_str(struct job_ctx *ctx, json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (!s || !*s)
		job_fail(ctx, 0, "%s: '%s' is missing or not text", ctx->kind, key);
	return s && *s ? s : NULL;
}

int64_t job_int(struct job_ctx *ctx, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		job_fail(ctx, 0, "%s: '%s' is missing or not a positive number", ctx->kind, key);
		return -1;
	}
	return json_integer_value(v);
}

int job_audit(struct job_ctx *ctx, const char *action, const char *object, const char *before,
    const char *after)
{
	return audit_append(ctx->db, ctx->actor, action, object, before, after);
}
