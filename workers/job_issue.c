/*
 * job_issue.c: a card order's two certificates (signature, encryption) from its two
 * certificate requests.
 *
 * prepare: checks the order and asks ca-signer for both certificates with request ids
 * "job<ID>.signature" and "job<ID>.encryption": a retried or taken-over job gets the
 * very same certificates back, never a second pair. apply: stores them and moves the
 * order to "issued", in the transaction that completes the job. The worker passes the
 * CSR bytes through untouched: the signer alone decides what a certificate says.
 */
#include "b64.h"
#include "csr_check.h"
#include "db.h"
#include "log.h"
#include "pem.h"
#include "util.h"
#include "officer.h"
#include "worker.h"

#include <openssl/x509.h>
#include <string.h>

static const char *const usages[2] = { "signature", "encryption" };
static const char *const csr_keys[2] = { "sign_csr", "enc_csr" };

/* Certificate DER to PEM text, its validity and its subject (pem_name_text). NULL if unreadable. */
static char *der_to_pem(const uint8_t *der, size_t len, time_t *nb, time_t *na, char **subject)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	char *pem = x ? pem_encode("CERTIFICATE", der, len) : NULL;
	struct tm tm;

	if (pem) {
		ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm);
		*nb = timegm(&tm);
		ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm);
		*na = timegm(&tm);
		*subject = pem_name_text(X509_get_subject_name(x));
	}
	X509_free(x);
	return pem;
}

/*
 * Only these members may appear: anything else (a validity, key usages, a CA flag) is
 * something the request has no say in, and asking for it is refused, not ignored.
 */
static int issue_members_ok(struct job_ctx *ctx)
{
	static const char *const allowed[] = { "order", "card_serial", "sign_csr", "enc_csr", "station",
		OFFICER_SIG_MEMBER };
	const char *key;
	json_t *v;

	json_object_foreach(ctx->payload, key, v) {
		size_t i;
		for (i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (i == sizeof allowed / sizeof allowed[0])
			return job_fail(ctx, 0, "issue: '%s' is not accepted: validity, key usages and extensions "
			    "come from the CA's profile alone", key);
	}
	return 0;
}

/* The worker's own look at a request (csr_check.c); the signer checks it all again. */
static int csr_precheck(struct job_ctx *ctx, const char *which, const uint8_t *der, size_t len)
{
	char err[160];
	if (csr_check_der(der, len, config_int(ctx->cfg, "signer.min_rsa_bits"), err, sizeof err) < 0)
		return job_fail(ctx, 0, "%s%s%s", which, err[0] == ':' ? "" : " ", err);
	return 0;
}

/*
 * Certificates were issued but cannot be delivered (the second request was refused, or
 * the order was given back meanwhile): revoke them at once, so no certificate stays valid
 * for keys nobody will use. The job's error is kept.
 */
static void issue_withdraw(struct job_ctx *ctx, json_t *certs)
{
	char why[sizeof ctx->error];
	json_t *c;
	size_t i;

	memcpy(why, ctx->error, sizeof why);
	json_array_foreach(certs, i, c) {
		const char *serial = json_string_value(json_object_get(c, "serial"));
		char request_id[96];
		json_t *ans;
		snprintf(request_id, sizeof request_id, "job%lld.withdraw.%s", (long long)ctx->id, serial);
		ans = signer_client_status(ctx, request_id, serial, "revoke", "cessationOfOperation", 0);
		if (ans)
			log_warn("job %lld: revoked %s, issued but not deliverable", (long long)ctx->id, serial);
		json_decref(ans);
	}
	memcpy(ctx->error, why, sizeof why);
	ctx->retry = 0;
}

int job_issue_prepare(struct job_ctx *ctx)
{
	int64_t order = job_int(ctx, ctx->payload, "order");
	const char *card = json_string_value(json_object_get(ctx->payload, "card_serial"));
	sqlite3_stmt *st;
	json_t *subject = NULL, *certs = json_array();
	char *state = NULL, *claimed_by = NULL;
	uint8_t *csr[2] = { NULL, NULL };
	size_t csr_len[2] = { 0, 0 };
	int rc = -1;

	if (order < 0 || issue_members_ok(ctx) < 0)
		goto out;
	st = db_prepare(ctx->db, "SELECT o.state, o.card_serial, s.name, s.email, a.id FROM orders o"
	    " JOIN subscribers s ON s.id = o.subscriber_id JOIN accounts a ON a.subscriber_id = s.id"
	    " WHERE o.id = ?");
	sqlite3_bind_int64(st, 1, order);
	if (sqlite3_step(st) == SQLITE_ROW) {
		state = xstrdup((const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			claimed_by = xstrdup((const char *)sqlite3_column_text(st, 1));
		subject = json_pack("{s:s,s:s,s:s}", "name", sqlite3_column_text(st, 2),
		    "email", sqlite3_column_text(st, 3), "account", sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	if (!state) {
		job_fail(ctx, 0, "no card order %lld", (long long)order);
		goto out;
	}
	if (strcmp(state, "approved") != 0 && strcmp(state, "claimed") != 0) {
		job_fail(ctx, 0, "card order %lld is %s: certificates are issued only for an approved order",
		    (long long)order, state);
		goto out;
	}
	if (claimed_by && (!card || strcmp(card, claimed_by) != 0)) {
		job_fail(ctx, 0, "card order %lld is being personalized on card %s, not this one", (long long)order,
		    claimed_by);
		goto out;
	}
	/* A card's job that ran late (it waited for the signer) after the station gave the
	 * order back: nothing is asked of the signer for a card that no longer holds it. */
	if (card && !claimed_by) {
		job_fail(ctx, 0, "card order %lld was given back by card %s before its certificates were issued",
		    (long long)order, card);
		goto out;
	}
	/* Read and check both requests before the signer sees either, so a bad second
	 * request cannot leave a first certificate issued for nothing. */
	for (int u = 0; u < 2; u++) {
		const char *pem = job_str(ctx, ctx->payload, csr_keys[u]);
		if (!pem)
			goto out;
		if (!(csr[u] = pem_decode(pem, "CERTIFICATE REQUEST", &csr_len[u]))) {
			job_fail(ctx, 0, "%s is not a PEM certificate request", csr_keys[u]);
			goto out;
		}
		if (csr_precheck(ctx, csr_keys[u], csr[u], csr_len[u]) < 0)
			goto out;
	}
	for (int u = 0; u < 2; u++) {
		char request_id[64], serial[41], *certpem, *subj = NULL;
		uint8_t *der;
		size_t der_len = 0;
		time_t nb = 0, na = 0;

		snprintf(request_id, sizeof request_id, "job%lld.%s", (long long)ctx->id, usages[u]);
		der = signer_client_sign(ctx, request_id, usages[u], csr[u], csr_len[u], subject, &der_len, serial);
		if (!der) {
			if (u == 1)
				issue_withdraw(ctx, certs);
			goto out;
		}
		certpem = der_to_pem(der, der_len, &nb, &na, &subj);
		free(der);
		if (!certpem) {
			job_fail(ctx, 0, "ca-signer returned an unreadable certificate");
			goto out;
		}
		json_array_append_new(certs, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "usage", usages[u],
		    "serial", serial, "pem", certpem, "subject", subj, "not_before", (json_int_t)nb,
		    "not_after", (json_int_t)na, "request_id", request_id));
		free(certpem);
		free(subj);
	}
	json_object_set(ctx->scratch, "certs", certs);
	rc = 0;
out:
	json_decref(certs);
	json_decref(subject);
	free(state);
	free(claimed_by);
	free(csr[0]);
	free(csr[1]);
	return rc;
}

json_t *issue_store(struct job_ctx *ctx, int64_t order, json_t *certs)
{
	json_t *c, *out = json_array();
	char object[64];
	size_t i;

	json_array_foreach(certs, i, c) {
		sqlite3_stmt *st = db_prepare(ctx->db, "INSERT INTO certificates (serial, subscriber_id, order_id,"
		    " usage, subject, not_before, not_after, request_id, job_id, pem, created_at)"
		    " SELECT ?, subscriber_id, id, ?, ?, ?, ?, ?, ?, ?, ? FROM orders WHERE id = ?");
		int rc;
		sqlite3_bind_text(st, 1, json_string_value(json_object_get(c, "serial")), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, json_string_value(json_object_get(c, "usage")), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, json_string_value(json_object_get(c, "subject")), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, json_integer_value(json_object_get(c, "not_before")));
		sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(c, "not_after")));
		sqlite3_bind_text(st, 6, json_string_value(json_object_get(c, "request_id")), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, ctx->id);
		sqlite3_bind_text(st, 8, json_string_value(json_object_get(c, "pem")), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, ra_now());
		sqlite3_bind_int64(st, 10, order);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		snprintf(object, sizeof object, "cert:%s", json_string_value(json_object_get(c, "serial")));
		if (rc != SQLITE_DONE) {
			job_fail(ctx, 1, "cannot store certificate %s: %s", object + 5, sqlite3_errmsg(ctx->db));
			json_decref(out);
			return NULL;
		}
		if (job_audit(ctx, "cert.issued", object, NULL, "valid") < 0) {
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, json_pack("{s:O,s:O,s:O,s:O}", "usage", json_object_get(c, "usage"),
		    "serial", json_object_get(c, "serial"), "pem", json_object_get(c, "pem"),
		    "not_after", json_object_get(c, "not_after")));
	}
	return out;
}

int job_issue_apply(struct job_ctx *ctx, json_t **result)
{
	int64_t order = job_int(ctx, ctx->payload, "order");
	const char *card = json_string_value(json_object_get(ctx->payload, "card_serial"));
	json_t *certs = json_object_get(ctx->scratch, "certs"), *out;
	char object[64];

	/* Still the same order for the same card (or none): a card given back meanwhile
	 * (card_fail) must not receive certificates through a late job. */
	{
		sqlite3_stmt *st = db_prepare(ctx->db, "SELECT 1 FROM orders WHERE id = ? AND"
		    " state IN ('approved','claimed') AND card_serial IS ?");
		int same;
		sqlite3_bind_int64(st, 1, order);
		if (card)
			sqlite3_bind_text(st, 2, card, -1, SQLITE_STATIC);
		same = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (!same) {
			job_fail(ctx, 0, "card order %lld changed state meanwhile (given back, or claimed by "
			    "another card); its new certificates were revoked", (long long)order);
			issue_withdraw(ctx, certs);
			return -1;
		}
	}
	if (!(out = issue_store(ctx, order, certs)))
		return -1;
	{
		sqlite3_stmt *st = db_prepare(ctx->db, "UPDATE orders SET state = 'issued', updated_at = ? WHERE id = ?");
		sqlite3_bind_int64(st, 1, ra_now());
		sqlite3_bind_int64(st, 2, order);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	snprintf(object, sizeof object, "order:%lld", (long long)order);
	if (job_audit(ctx, "order.issued", object, "approved", "issued") < 0) {
		json_decref(out);
		return -1;
	}
	*result = json_pack("{s:I,s:o}", "order", (json_int_t)order, "certs", out);
	return 0;
}
