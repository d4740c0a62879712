/*
 * office.c: bulk personalization's conversation with the back office (see office.h for
 * the idempotency keys and why they are what they are).
 *
 * Every job is submitted, then waited for in short slices, so that a queue that goes away
 * is noticed within one slice and the card is given up rather than waited for forever.
 * The subscriber PIN is handled here only to seal it: it is sealed to the sheet key at
 * once and the clear copy stays with the caller, who wipes it.
 */
#include "office.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"
#include "b64.h"
#include "client.h"
#include "log.h"
#include "pem.h"
#include "seal.h"
#include "util.h"

#define OFFICE_SLICE_MS 5000

struct office {
	ra_client_t *client;
	EVP_PKEY *sheet_key;
	const officer_cred_t *operator;	/* signs every job of the run */
	char *station;
	char *run_id;
	int64_t issue_timeout_ms;
	time_t started;		/* for office_settle: jobs older than this run */
};

office_t *office_new(const config_t *cfg, const char *station, const char *run_id,
    const officer_cred_t *operator)
{
	office_t *o = xcalloc(1, sizeof *o);
	char *path = config_path(cfg, "sheets.public_key");

	o->operator = operator;
	o->station = xstrdup(station);
	o->run_id = xstrdup(run_id);
	o->issue_timeout_ms = config_int(cfg, "card_station.issue_timeout_ms");
	o->started = ra_now();
	o->sheet_key = seal_load_public(path);
	free(path);
	if (!o->sheet_key)
		goto fail;
	o->client = ra_client_new_instance(cfg, "station", station);
	if (!o->client)
		goto fail;
	return o;
fail:
	office_destroy(&o);
	return NULL;
}

void office_destroy(office_t **po)
{
	office_t *o = po ? *po : NULL;

	if (!o)
		return;
	ra_client_destroy(&o->client);
	EVP_PKEY_free(o->sheet_key);
	free(o->station);
	free(o->run_id);
	free(o);
	*po = NULL;
}

/* Copy an order row (as order_claim or the "orders" question give it) into OUT. */
static void office_order_copy(const struct answer_order *row, struct office_order *out)
{
	memset(out, 0, sizeof *out);
	out->order = row->order;
	snprintf(out->state, sizeof out->state, "%s", row->state);
	snprintf(out->account, sizeof out->account, "%s", row->account);
	snprintf(out->name, sizeof out->name, "%s", row->name);
}

/*
 * Submit KIND with PAYLOAD under KEY and wait until it is done or failed, at most
 * TIMEOUT_MS. Returns JOB_DONE with *result, JOB_FAILED with *err the job's error, or -1
 * with *err (queue unreachable, timeout). *id gets the job id when submitted.
 */
static int office_run(office_t *o, const char *kind, const char *key, json_t *payload,
    int64_t timeout_ms, int64_t *id, json_t **result, char **err)
{
	struct ra_job job = { 0 };
	int st;

	char *secret_key;

	*id = -1;
	*result = NULL;
	*err = NULL;
	/* The keys below are made from serials and job ids: sent as this station's HMAC of
	 * them, so no other producer can compute one (office.h). */
	if (!(secret_key = ra_client_key(o->client, kind, key))) {
		*err = xasprintf("cannot derive the %s job's idempotency key", kind);
		return -1;
	}
	if (officer_sign(o->operator, kind, secret_key, payload) < 0) {
		*err = xasprintf("cannot sign the %s job as officer %s", kind, officer_cred_id(o->operator));
		free(secret_key);
		return -1;
	}
	st = ra_client_run(o->client, kind, secret_key, payload, (int)timeout_ms, &job);
	free(secret_key);
	*id = job.id;
	if (st == JOB_DONE) {
		*result = job.result;
		job.result = NULL;
	} else {
		*err = job.error ? job.error : xstrdup("no answer");
		job.error = NULL;
		if (st != JOB_FAILED)
			st = -1;
	}
	ra_job_clear(&job);
	return st;
}

int office_find(office_t *o, uint32_t serial, struct office_order *out, char **err)
{
	char card[16];
	struct answer_order row;
	json_t *ans;
	int found;

	*err = NULL;
	snprintf(card, sizeof card, "%u", serial);
	ans = ra_client_query(o->client, "orders", NULL, err);
	if (!ans)
		return -1;
	if ((found = answer_order_find(ans, card, &row))) {
		office_order_copy(&row, out);
		out->card = serial;
	}
	json_decref(ans);
	return found;
}

int office_claim(office_t *o, uint32_t serial, int try, struct office_order *out, char **err)
{
	char key[160], card[16];
	struct answer_order row;
	json_t *payload, *res = NULL;
	int64_t id = 0;
	int st;

	snprintf(card, sizeof card, "%u", serial);
	snprintf(key, sizeof key, "cs:%s:claim:%u:%s:%d", o->station, serial, o->run_id, try);
	payload = json_pack("{s:s,s:s}", "station", o->station, "card_serial", card);
	st = office_run(o, "order_claim", key, payload, 60000, &id, &res, err);
	json_decref(payload);
	if (st != JOB_DONE)
		return st == JOB_FAILED ? -1 : -2;
	if (json_is_true(json_object_get(res, "none_waiting"))) {
		json_decref(res);
		return 1;
	}
	if (json_is_true(json_object_get(res, "card_personalized"))) {
		*err = xasprintf("card %s is recorded personalized for order %lld: wipe it before reusing it",
		    card, (long long)json_integer_value(json_object_get(res, "order")));
		json_decref(res);
		return -1;
	}
	answer_order_read(res, &row);
	office_order_copy(&row, out);
	out->card = serial;
	out->claim_job = id;
	json_decref(res);
	if (out->order <= 0) {
		*err = xstrdup("order_claim answered without an order");
		return -1;
	}
	return 0;
}

long office_waiting(office_t *o, char **err)
{
	json_t *args = json_pack("{s:s}", "state", "approved");
	json_t *ans = ra_client_query(o->client, "orders", args, err);
	long n;

	json_decref(args);
	if (!ans)
		return -1;
	n = (long)json_array_size(json_object_get(ans, "orders"));
	json_decref(ans);
	return n;
}

int office_settle(office_t *o, int64_t timeout_ms)
{
	static const char *const states[] = { "queued", "leased" };
	int64_t deadline = mono_ms() + timeout_ms;
	char *err = NULL;

	while (mono_ms() < deadline) {
		int busy = 0;
		for (size_t s = 0; s < ARRAY_LEN(states) && !busy; s++) {
			json_t *args = json_pack("{s:s}", "state", states[s]);
			json_t *ans = ra_client_query(o->client, "jobs", args, &err);
			json_decref(args);
			if (!ans) {
				log_warn("cannot list the queue's jobs: %s", err);
				free(err);
				return -1;
			}
			busy = answer_jobs_busy(ans, o->started);
			json_decref(ans);
		}
		if (!busy)
			return 0;
		usleep(200 * 1000);
	}
	return -1;
}

/* SHA-256 of A then B into OUT (SHA256_DIGEST_LENGTH bytes). 0/-1. */
static int office_digest(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, a, alen) == 1 && EVP_DigestUpdate(md, b, blen) == 1 &&
	    EVP_DigestFinal_ex(md, out, NULL) == 1;

	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

int office_issue(void *vctx, uint32_t serial, const uint8_t *sign_csr, size_t sign_len,
    const uint8_t *enc_csr, size_t enc_len, uint8_t **sign_cert, size_t *sign_cert_len,
    uint8_t **enc_cert, size_t *enc_cert_len)
{
	struct office_issue_ctx *ctx = vctx;
	office_t *o = ctx->office;
	uint8_t digest[SHA256_DIGEST_LENGTH];
	char key[160], hex[2 * 12 + 1], card[16], *spem, *epem, *err = NULL;
	json_t *payload = NULL, *res = NULL;
	struct answer_certs certs;
	int st, ret = -1;

	*sign_cert = *enc_cert = NULL;
	spem = pem_encode("CERTIFICATE REQUEST", sign_csr, sign_len);
	epem = pem_encode("CERTIFICATE REQUEST", enc_csr, enc_len);
	if (!spem || !epem) {
		err = xstrdup("cannot encode the certificate requests");
		goto out;
	}
	if (office_digest(sign_csr, sign_len, enc_csr, enc_len, digest) < 0) {
		err = xstrdup("cannot hash the certificate requests");
		goto out;
	}
	hex_encode(digest, 12, hex);
	snprintf(card, sizeof card, "%u", serial);
	snprintf(key, sizeof key, "cs:issue:%lld:%u:%s", (long long)ctx->order->order, serial, hex);
	payload = json_pack("{s:I,s:s,s:s,s:s}", "order", (json_int_t)ctx->order->order,
	    "card_serial", card, "sign_csr", spem, "enc_csr", epem);
	st = office_run(o, "issue", key, payload, o->issue_timeout_ms, &ctx->order->issue_job, &res, &err);
	if (st != JOB_DONE)
		goto out;
	if (answer_certs_read(json_object_get(res, "certs"), &certs) < 0) {
		err = xstrdup("the issue job's answer lacks a certificate");
		goto out;
	}
	*sign_cert = certs.sign;
	*sign_cert_len = certs.sign_len;
	*enc_cert = certs.enc;
	*enc_cert_len = certs.enc_len;
	ret = 0;
out:
	if (ret < 0) {
		free(*sign_cert);
		*sign_cert = NULL;
		log_err("card %u, order %lld: certificates not issued: %s", serial,
		    (long long)ctx->order->order, err ? err : "unknown error");
		free(ctx->error);
		ctx->error = err;
	}
	json_decref(payload);
	json_decref(res);
	free(spem);
	free(epem);
	return ret;
}

int office_seal_pin(office_t *o, const char *pin, char **b64)
{
	uint8_t *box = NULL;
	size_t boxlen = 0;

	*b64 = NULL;
	if (seal_box(o->sheet_key, (const uint8_t *)pin, strlen(pin), &box, &boxlen) < 0) {
		log_err("cannot seal the PIN to the sheet key");
		return -1;
	}
	*b64 = b64_encode(box, boxlen);
	free(box);
	return 0;
}

int office_done(office_t *o, const struct office_order *ord, const char *sealed_b64, char **err)
{
	char key[160], card[16];
	json_t *payload, *res = NULL;
	int64_t id;
	int st;

	snprintf(card, sizeof card, "%u", ord->card);
	snprintf(key, sizeof key, "cs:done:%lld", (long long)ord->issue_job);
	payload = json_pack("{s:I,s:I,s:s,s:s,s:s}", "order", (json_int_t)ord->order, "issue_job",
	    (json_int_t)ord->issue_job, "card_serial", card, "station", o->station, "sealed_pin", sealed_b64);
	st = office_run(o, "card_done", key, payload, 60000, &id, &res, err);
	json_decref(payload);
	if (st == JOB_DONE && json_is_true(json_object_get(res, "stale"))) {
		*err = xasprintf("order %lld's certificates were given back meanwhile", (long long)ord->order);
		st = -1;
	}
	json_decref(res);
	return st == JOB_DONE ? 0 : -1;
}

int office_fail(office_t *o, const struct office_order *ord, const char *reason, char **err)
{
	char key[160], card[16];
	json_t *payload, *res = NULL;
	int64_t id;
	int st;

	snprintf(card, sizeof card, "%u", ord->card);
	/* An order found from an earlier run has no claim in this one: key it by the run. */
	if (ord->claim_job > 0)
		snprintf(key, sizeof key, "cs:fail:%lld:%lld", (long long)ord->order, (long long)ord->claim_job);
	else
		snprintf(key, sizeof key, "cs:fail:%lld:run:%s", (long long)ord->order, o->run_id);
	payload = json_pack("{s:I,s:s,s:s}", "order", (json_int_t)ord->order, "card_serial", card,
	    "reason", reason);
	st = office_run(o, "card_fail", key, payload, 120000, &id, &res, err);
	json_decref(payload);
	if (st == JOB_DONE && json_is_true(json_object_get(res, "finished"))) {
		json_decref(res);
		return 1;
	}
	json_decref(res);
	return st == JOB_DONE ? 0 : -1;
}
