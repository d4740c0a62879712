/*
 * audit_checkpoint.c: the audit chain's head signed by ca-signer at intervals (see
 * lib/audit.h, lib/checkpoint.h), asked for by whichever worker has just finished a job.
 *
 * The head is read from committed rows, the signer signs (row count, head, its time) with
 * the CA key, and the checkpoint is stored in its own short transaction, outside any
 * job's: a checkpoint adds no audit row, so it never moves the head it certifies. Two
 * workers asking at once store the same checkpoint or two good ones; either holds.
 */
#include "audit_checkpoint.h"
#include "audit.h"
#include "b64.h"
#include "db.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <string.h>

void audit_checkpoint_maybe(struct job_ctx *ctx)
{
	int64_t rows = 0, last_rows, last_at, sig_at;
	char head[65];
	json_t *ans = NULL;
	const char *sig_b64;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	sqlite3_stmt *st;

	if (!ctx->signer || audit_head(ctx->db, &rows, head) < 0)
		return;
	last_rows = db_int(ctx->db, "SELECT coalesce(max(rows), 0) FROM audit_checkpoints", "");
	last_at = db_int(ctx->db, "SELECT coalesce(max(created_at), 0) FROM audit_checkpoints", "");
	if (rows <= last_rows || (rows - last_rows < config_int(ctx->cfg, "audit.checkpoint_rows") &&
	    ra_now() - last_at < config_int(ctx->cfg, "audit.checkpoint_s")))
		return;
	if (!(ans = signer_client_checkpoint(ctx, rows, head))) {
		log_warn("audit checkpoint of %lld rows not signed: %s", (long long)rows, ctx->error);
		return;
	}
	sig_b64 = json_string_value(json_object_get(ans, "signature"));
	sig_at = json_integer_value(json_object_get(ans, "at"));
	if (!sig_b64 || b64_decode(sig_b64, &sig, &sig_len) < 0 || json_integer_value(json_object_get(ans, "rows")) != rows ||
	    strcmp(json_string_value(json_object_get(ans, "head")) ?: "", head) != 0) {
		log_warn("ca-signer answered the audit checkpoint with something else");
		goto out;
	}
	if (db_begin(ctx->db) < 0)
		goto out;
	st = db_prepare(ctx->db, "INSERT INTO audit_checkpoints (rows, head, at, signature, created_at)"
	    " VALUES (?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, rows);
	sqlite3_bind_text(st, 2, head, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, sig_at);
	sqlite3_bind_blob(st, 4, sig, (int)sig_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, ra_now());
	if (sqlite3_step(st) != SQLITE_DONE || db_commit(ctx->db) < 0) {
		log_warn("cannot store the audit checkpoint: %s", sqlite3_errmsg(ctx->db));
		db_rollback(ctx->db);
	} else {
		log_info("audit checkpoint: %lld rows signed", (long long)rows);
	}
	sqlite3_finalize(st);
out:
	free(sig);
	json_decref(ans);
}
