/*
 * issue_pair.c: asking ca-signer for a card's two certificates (signature, encryption),
 * for every job that does (issue, card_renew).
 *
 * Rule: every certificate the signer issues is known to the RA. So both requests are
 * read and checked here before the signer sees either (parse, proof of possession, RSA
 * size, two different keys: the signer checks all of it again, this only keeps a pair from being half issued
 * when one request is plainly bad), and a certificate that was issued but cannot be
 * delivered (the second request refused, the order or the card's challenge taken by
 * another job meanwhile) is revoked at once with request id "job<ID>.withdraw.<serial>".
 * Request ids are "job<ID>.<usage>": a retried or taken-over job gets the very same
 * certificates back, never a second pair. The CSR bytes pass through untouched.
 */
#include "csr_check.h"
#include "jobs.h"
#include "log.h"
#include "pem.h"
#include "signer_client.h"
#include "util.h"
#include "worker.h"

#include <openssl/x509.h>
#include <string.h>

static const char *const pair_usages[2] = { "signature", "encryption" };
static const char *const pair_csr_keys[2] = { "sign_csr", "enc_csr" };

/* Certificate DER to a record {usage, serial, pem, subject, not_before, not_after, request_id}; NULL if unreadable. */
static json_t *pair_record(const char *usage, const char *serial, const char *request_id,
    const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	char *pem = NULL, *subject = NULL;
	json_t *out = NULL;
	struct tm nb, na;

	if (!x || ASN1_TIME_to_tm(X509_get0_notBefore(x), &nb) != 1 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &na) != 1 || !(pem = pem_encode("CERTIFICATE", der, len)) ||
	    !(subject = pem_name_text(X509_get_subject_name(x))))
		goto out;
	out = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "usage", usage, "serial", serial, "pem", pem,
	    "subject", subject, "not_before", (json_int_t)timegm(&nb), "not_after", (json_int_t)timegm(&na),
	    "request_id", request_id);
out:
	free(pem);
	free(subject);
	X509_free(x);
	return out;
}

/* The worker's own look at a request (csr_check.c; see the top of this file). 0/-1 after job_fail(). */
static int pair_precheck(struct job_ctx *ctx, const char *which, const uint8_t *der, size_t len)
{
	char err[160];
	if (csr_check_der(der, len, config_int(ctx->cfg, "signer.min_rsa_bits"), err, sizeof err) < 0)
		return job_refuse(ctx, JT_CSR_REFUSED, which, err[0] == ':' ? "" : " ", err);
	return 0;
}

/* Both requests carry one key? The signer certifies a key once and would refuse the
 * second usage; saying so here keeps the first certificate from being issued for nothing. */
static int pair_same_key(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	const unsigned char *p = a, *q = b;
	X509_REQ *ra = d2i_X509_REQ(NULL, &p, (long)alen), *rb = d2i_X509_REQ(NULL, &q, (long)blen);
	int same = ra && rb && EVP_PKEY_eq(X509_REQ_get0_pubkey(ra), X509_REQ_get0_pubkey(rb)) == 1;

	X509_REQ_free(ra);
	X509_REQ_free(rb);
	return same;
}

void issue_withdraw(struct job_ctx *ctx, json_t *certs)
{
	/* The job's refusal, as it was: a failed withdrawal must not replace it. */
	char why[sizeof ctx->error], code[sizeof ctx->code], why_zh[sizeof ctx->error_zh];
	int withdrawn = 1;
	json_t *c;
	size_t i;

	memcpy(why, ctx->error, sizeof why);
	memcpy(code, ctx->code, sizeof code);
	memcpy(why_zh, ctx->error_zh, sizeof why_zh);
	ctx->retry = 0;
	json_array_foreach(certs, i, c) {
		const char *serial = json_string_value(json_object_get(c, "serial"));
		char request_id[96];
		json_t *ans;
		snprintf(request_id, sizeof request_id, "job%lld.withdraw.%s", (long long)ctx->id, serial);
		ans = signer_client_status(ctx, request_id, serial, "revoke", "cessationOfOperation", 0);
		if (ans) {
			log_warn("job %lld: revoked %s, issued but not deliverable", (long long)ctx->id, serial);
		} else {
			log_err("job %lld: certificate %s is issued but not deliverable, and could not be "
			    "revoked yet: %s", (long long)ctx->id, serial, ctx->error);
			withdrawn = 0;
		}
		json_decref(ans);
	}
	memcpy(ctx->error, why, sizeof why);
	memcpy(ctx->code, code, sizeof code);
	memcpy(ctx->error_zh, why_zh, sizeof why_zh);
	/* Parked once everything is withdrawn; tried again (same request ids, same
	 * certificates) while something issued is still valid. */
	ctx->retry = !withdrawn;
}

json_t *issue_pair_sign(struct job_ctx *ctx, json_t *subject)
{
	json_t *certs = json_array();
	uint8_t *csr[2] = { NULL, NULL };
	size_t csr_len[2] = { 0, 0 };
	int rc = -1;

	for (int u = 0; u < 2; u++) {
		const char *pem = job_str(ctx, ctx->payload, pair_csr_keys[u]);
		if (!pem)
			goto out;
		if (!(csr[u] = pem_decode(pem, "CERTIFICATE REQUEST", &csr_len[u]))) {
			job_refuse(ctx, JT_CSR_NOT_PEM, pair_csr_keys[u]);
			goto out;
		}
		if (pair_precheck(ctx, pair_csr_keys[u], csr[u], csr_len[u]) < 0)
			goto out;
	}
	if (pair_same_key(csr[0], csr_len[0], csr[1], csr_len[1])) {
		job_refuse(ctx, JT_CSR_SAME_KEY);
		goto out;
	}
	for (int u = 0; u < 2; u++) {
		char request_id[64], serial[41];
		size_t der_len = 0;
		uint8_t *der;
		json_t *rec;

		snprintf(request_id, sizeof request_id, "job%lld.%s", (long long)ctx->id, pair_usages[u]);
		der = signer_client_sign(ctx, request_id, pair_usages[u], csr[u], csr_len[u], subject,
		    &der_len, serial);
		if (!der)
			goto out;
		rec = pair_record(pair_usages[u], serial, request_id, der, der_len);
		if (!rec) {
			/* Issued all the same: withdraw this one with the others. */
			json_array_append_new(certs, json_pack("{s:s}", "serial", serial));
			job_fail(ctx, 0, "ca-signer returned an unreadable certificate");
			free(der);
			goto out;
		}
		free(der);
		json_array_append_new(certs, rec);
	}
	rc = 0;
out:
	/* The second was refused: none may stay valid. But a signer that could not be reached
	 * refused nothing: the job waits, and on its next attempt the same request ids give
	 * the same first certificate back, so nothing is withdrawn (found by test_chaos). */
	if (rc < 0 && json_array_size(certs) > 0 && ctx->retry != JOB_RETRY_WAIT)
		issue_withdraw(ctx, certs);
	free(csr[0]);
	free(csr[1]);
	if (rc < 0) {
		json_decref(certs);
		return NULL;
	}
	return certs;
}
