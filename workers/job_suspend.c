/*
 * job_suspend.c: suspension (hold) requested online by the subscriber with the website
 * password (ra-self suspend, ra-web). The certificates the subscriber ticked ("certs":
 * "signature", "encryption" or "both", the default) that are valid and not expired go on
 * hold (certificateHold); the CRL is published. The subscriber's reason (optional, at most
 * SUSPEND_REASON_MAX bytes of text) is kept in the audit trail and the result.
 *
 * The slow password check runs in prepare (a read-only verdict); the verdict is final only
 * in apply, where its effect on the lockout count commits with the job (an account may
 * have been locked meanwhile). So the signer is asked to hold only there, after the final
 * verdict and inside the completing transaction: a refusal holds nothing, and a hold the
 * worker could not record is asked again, with the same request ids, by the retry. Every
 * answer to the subscriber is a DONE job with {"ok": ...}, which is also when the sealed
 * password leaves the payload.
 */
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#include <string.h>

#define SUSPEND_REASON_MAX 200

/* The payload's choice of certificates: "signature", "encryption", or NULL for both.
 * -1 after job_fail() for anything else. */
static int suspend_which(struct job_ctx *ctx, const char **usage)
{
	json_t *v = json_object_get(ctx->payload, "certs");
	const char *w = v ? json_string_value(v) : "both";
	json_t *r = json_object_get(ctx->payload, "reason");

	*usage = NULL;
	if (!w || (strcmp(w, "both") != 0 && strcmp(w, "signature") != 0 && strcmp(w, "encryption") != 0))
		return job_refuse(ctx, JT_SUSPEND_CERTS);
	if (r && (!json_is_string(r) || strlen(json_string_value(r)) > SUSPEND_REASON_MAX))
		return job_refuse(ctx, JT_SUSPEND_REASON, SUSPEND_REASON_MAX);
	if (strcmp(w, "both") != 0)
		*usage = w;
	return 0;
}

/* Drop from SERIALS every certificate whose usage is not USAGE (NULL: keep all). */
static void suspend_keep_usage(struct job_ctx *ctx, json_t *serials, const char *usage)
{
	size_t i = 0;

	while (usage && i < json_array_size(serials)) {
		const char *serial = json_string_value(json_array_get(serials, i));
		if (db_int(ctx->db, "SELECT 1 FROM certificates WHERE serial = ? AND usage = ?", "ss", serial, usage) == 1)
			i++;
		else
			json_array_remove(serials, i);
	}
}

int job_suspend_prepare(struct job_ctx *ctx)
{
	const char *account = job_str(ctx, ctx->payload, "account");
	const char *sealed = account ? job_str(ctx, ctx->payload, "password") : NULL;
	const char *usage;
	int verdict;

	if (!sealed || suspend_which(ctx, &usage) < 0)
		return -1;
	if ((verdict = account_verify(ctx, account, sealed)) < 0)
		return -1;
	json_object_set_new(ctx->scratch, "verdict", json_integer(verdict));
	return 0;
}

/* Hold ACCOUNT's valid certificates of USAGE (NULL: both) at the signer (request ids from
 * the job id), once the verdict is final. DONE and REFUSED get the serials. 0/-1 (retry). */
static int suspend_hold(struct job_ctx *ctx, const char *account, const char *usage, json_t *done, json_t *refused)
{
	json_t *serials = cert_status_select(ctx, account, "'valid'", 1);
	int rc;

	if (!serials)
		return -1;
	suspend_keep_usage(ctx, serials, usage);
	rc = cert_status_signer(ctx, serials, "hold", NULL, 0, done, refused);
	json_decref(serials);
	return rc;
}

/* Why there was nothing to hold among the chosen certificates, for the subscriber. */
static json_t *nothing_to_hold(struct job_ctx *ctx, const char *account, const char *usage)
{
	json_t *held = cert_status_select(ctx, account, "'held'", 1);
	json_t *revoked = cert_status_select(ctx, account, "'revoked'", 0);
	json_t *r;

	if (held)
		suspend_keep_usage(ctx, held, usage);
	if (revoked)
		suspend_keep_usage(ctx, revoked, usage);

	if (held && json_array_size(held) > 0)
		r = account_refuse("already_held", xstrdup("the certificates are already on hold"),
		    xstrdup("憑證已在停用（暫時停止）狀態"));
	else if (revoked && json_array_size(revoked) > 0)
		r = account_refuse("revoked", xstrdup("the certificates are revoked: they cannot be suspended"),
		    xstrdup("憑證已廢止，無法停用"));
	else
		r = account_refuse("no_certificate", xstrdup("the account has no valid certificate to suspend"
		    " (none issued yet, or expired)"), xstrdup("此帳號沒有可停用的有效憑證（尚未簽發或已逾期）"));
	json_decref(held);
	json_decref(revoked);
	return r;
}

int job_suspend_apply(struct job_ctx *ctx, json_t **result)
{
	const char *account = job_str(ctx, ctx->payload, "account");
	json_t *v = json_object_get(ctx->scratch, "verdict");
	const char *usage = NULL, *reason = json_string_value(json_object_get(ctx->payload, "reason"));
	json_t *done = json_array(), *refused = json_array();
	char object[48];
	int ok, rc = -1;

	if (!account || suspend_which(ctx, &usage) < 0)
		goto out;
	if (!json_is_integer(v)) {
		job_fail(ctx, 1, "internal: suspend was not prepared");
		goto out;
	}
	if ((ok = account_record(ctx, account, (int)json_integer_value(v), result)) < 0)
		goto out;
	if (ok == 1) {
		if (suspend_hold(ctx, account, usage, done, refused) < 0)
			goto out;
		if (json_array_size(done) == 0 && json_array_size(refused) > 0) {
			const char *why = json_string_value(json_object_get(json_array_get(refused, 0), "error"));
			*result = account_refuse("refused", xasprintf("the certificates could not be suspended: %s", why),
			    xasprintf("憑證無法停用：%s", why));
		} else if (json_array_size(done) == 0) {
			*result = nothing_to_hold(ctx, account, usage);
		} else {
			if (cert_status_record(ctx, done, "held", "certificateHold") < 0)
				goto out;
			snprintf(object, sizeof object, "account:%s", account);
			if (reason && *reason && job_audit(ctx, "account.suspend_reason", object, NULL, reason) < 0)
				goto out;
			*result = json_pack("{s:b,s:s,s:O,s:O,s:s}", "ok", 1, "account", account, "held", done,
			    "refused", refused, "certs", usage ? usage : "both");
			if (reason && *reason)
				json_object_set_new(*result, "reason", json_string(reason));
		}
	}
	rc = job_redact(ctx->db, ctx->id, "password");
out:
	json_decref(done);
	json_decref(refused);
	return rc;
}
