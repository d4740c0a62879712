/*
 * job_suspend.c: suspension (hold) requested online by the subscriber with the website
 * password (ra-self suspend). Both certificates of the account that are valid and not
 * expired go on hold (certificateHold); the CRL is published.
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

int job_suspend_prepare(struct job_ctx *ctx)
{
	const char *account = job_str(ctx, ctx->payload, "account");
	const char *sealed = account ? job_str(ctx, ctx->payload, "password") : NULL;
	int verdict;

	if (!sealed)
		return -1;
	if ((verdict = account_verify(ctx, account, sealed)) < 0)
		return -1;
	json_object_set_new(ctx->scratch, "verdict", json_integer(verdict));
	return 0;
}

/* Hold ACCOUNT's valid certificates at the signer (request ids from the job id), once the
 * verdict is final. DONE and REFUSED get the serials. 0/-1 (retry). */
static int suspend_hold(struct job_ctx *ctx, const char *account, json_t *done, json_t *refused)
{
	json_t *serials = cert_status_select(ctx, account, "'valid'", 1);
	int rc;

	if (!serials)
		return -1;
	rc = cert_status_signer(ctx, serials, "hold", NULL, 0, done, refused);
	json_decref(serials);
	return rc;
}

/* Why there was nothing to hold, for the subscriber. */
static json_t *nothing_to_hold(struct job_ctx *ctx, const char *account)
{
	json_t *held = cert_status_select(ctx, account, "'held'", 1);
	json_t *revoked = cert_status_select(ctx, account, "'revoked'", 0);
	json_t *r;

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
	json_t *done = json_array(), *refused = json_array();
	int ok, rc = -1;

	if (!account || !json_is_integer(v)) {
		job_fail(ctx, 1, "internal: suspend was not prepared");
		goto out;
	}
	if ((ok = account_record(ctx, account, (int)json_integer_value(v), result)) < 0)
		goto out;
	if (ok == 1) {
		if (suspend_hold(ctx, account, done, refused) < 0)
			goto out;
		if (json_array_size(done) == 0 && json_array_size(refused) > 0) {
			const char *why = json_string_value(json_object_get(json_array_get(refused, 0), "error"));
			*result = account_refuse("refused", xasprintf("the certificates could not be suspended: %s", why),
			    xasprintf("憑證無法停用：%s", why));
		} else if (json_array_size(done) == 0) {
			*result = nothing_to_hold(ctx, account);
		} else {
			if (cert_status_record(ctx, done, "held", "certificateHold") < 0)
				goto out;
			*result = json_pack("{s:b,s:s,s:O,s:O}", "ok", 1, "account", account, "held", done,
			    "refused", refused);
		}
	}
	rc = job_redact(ctx->db, ctx->id, "password");
out:
	json_decref(done);
	json_decref(refused);
	return rc;
}
