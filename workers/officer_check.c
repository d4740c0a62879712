/*
 * officer_check.c: who asked for a job. Run by run_job() before a handler's prepare or
 * apply, once for every kind, so no handler can forget it.
 *
 * An officer action (lib/officer.c's table) submitted by a producer must carry a valid
 * officer signature: the certificate chains to the officer CA and is valid now, the
 * registry knows that very certificate, the officer is enabled and has a role the kind
 * allows, and the signature covers this kind, this job's idempotency key and this
 * payload. Then the job's actor is the verified officer ("ID (cert SERIAL)") and
 * ctx->officer is its id, which dual control compares. Any other job is done by the
 * worker itself (or, for a job another job created, by its parent's actor): an "officer"
 * member in a payload names nobody.
 */
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "officer.h"
#include "officer_check.h"
#include "officer_registry.h"
#include "util.h"
#include "worker.h"

#include <string.h>

int officer_check(struct job_ctx *ctx, X509_STORE *cas, const char *worker)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "SELECT idem_key, parent, submitted_by FROM jobs WHERE id = ?");
	int roles = officer_kind_roles(ctx->kind), found, rc = -1;
	char *idem = NULL, *by = NULL, why[256];
	struct officer_entry e;
	int64_t parent = 0;
	X509 *cert = NULL;

	ctx->officer[0] = '\0';
	snprintf(ctx->actor, sizeof ctx->actor, "%s", worker);
	sqlite3_bind_int64(st, 1, ctx->id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			idem = xstrdup((const char *)sqlite3_column_text(st, 0));
		parent = sqlite3_column_int64(st, 1);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			by = xstrdup((const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	if (parent > 0) {
		/* Made by another job in its own transaction: that job's actor asked for it. */
		if (by)
			snprintf(ctx->actor, sizeof ctx->actor, "%s", by);
		rc = 0;
		goto out;
	}
	if (!roles) {
		rc = 0;
		goto out;
	}
	/* The signature covers the key as the producer sent it, before the queue scoped it. */
	if (!(cert = officer_sig_verify(cas, ctx->kind, job_idem_sent(idem), ctx->payload, why, sizeof why))) {
		job_refuse(ctx, JT_OFFICER_REFUSED, ctx->kind, why);
		goto out;
	}
	found = officer_registry_find(ctx->db, cert, &e);
	if (found <= 0) {
		if (found < 0)
			job_fail(ctx, 1, "%s: refused: the officer certificate is not in the officer registry", ctx->kind);
		else
			job_refuse(ctx, JT_OFFICER_NOT_REGISTERED, ctx->kind);
		goto out;
	}
	if (!e.enabled) {
		job_refuse(ctx, JT_OFFICER_DISABLED, ctx->kind, e.id);
		goto out;
	}
	if (!(officer_role_parse(e.role) & roles)) {
		job_refuse(ctx, JT_OFFICER_ROLE, ctx->kind, e.id, e.role, officer_roles_text(roles));
		goto out;
	}
	snprintf(ctx->officer, sizeof ctx->officer, "%s", e.id);
	snprintf(ctx->actor, sizeof ctx->actor, "%s (cert %s)", e.id, e.serial);
	rc = 0;
out:
	X509_free(cert);
	free(idem);
	free(by);
	return rc;
}
