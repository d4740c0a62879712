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
	ctx->code[0] = ctx->error_zh[0] = '\0';
	ctx->retry = retry;
	return -1;
}

int job_refuse(struct job_ctx *ctx, enum job_text text, ...)
{
	const struct job_text_entry *t = &job_texts[text];
	va_list ap, again;

	va_start(ap, text);
	va_copy(again, ap);
	/* The formats are the table's, checked pairwise by test_job_texts. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(ctx->error, sizeof ctx->error, t->en, ap);
	vsnprintf(ctx->error_zh, sizeof ctx->error_zh, t->zh, again);
#pragma GCC diagnostic pop
	va_end(again);
	va_end(ap);
	snprintf(ctx->code, sizeof ctx->code, "%s", t->code);
	ctx->retry = 0;
	return -1;
}

void job_error_clear(struct job_ctx *ctx)
{
	ctx->error[0] = ctx->code[0] = ctx->error_zh[0] = '\0';
}

json_t *job_error_detail(const struct job_ctx *ctx)
{
	if (!ctx->code[0])
		return json_object();
	return json_pack("{s:s,s:s}", "code", ctx->code, "error_zh", ctx->error_zh);
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
