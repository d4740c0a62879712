/*
 * job_card.c: the subscriber's card operations on the back-office side (unlock, PIN
 * reset, re-download, renewal).
 *
 * Every one starts with card_challenge: the website password is checked (account_check:
 * the lockout counts, so a refusal completes the job instead of failing it, or the count
 * would roll back), the card's serial must be the one of the account's personalized order,
 * and the card's management-key witness is answered. The worker holds no card secret: in
 * the prepare phase it asks ra-cardkey (cardkey/, the only holder of the card master key
 * on the RA host), which decrypts the witness and gives a challenge derived from the card
 * and this job's id; the station completes PIV mutual authentication with both, and the
 * card's encryption of the challenge comes back in the next job as proof that the card
 * holds its derived key. ra-cardkey checks that answer; the management key itself never
 * leaves it, and the station gets management rights on that one card for as long as it
 * holds its PC/SC transaction.
 *
 * card_unlock then releases the card's PUK and the two after it (PUK versions per card,
 * table card_puk), which ra-cardkey seals to an X25519 key the station made for this one
 * operation (lib/seal.c's box) and gives only for a card that answered its challenge, so
 * neither the worker nor the ledger ever sees a PUK in clear; the station unblocks the
 * card, changes its PUK to the next one at once, and card_puk records the new version.
 * card_renew issues the new pair of certificates through issue_pair.c (both requests
 * checked first, withdrawn if the pair cannot be delivered). A challenge answers one
 * follow-up job only, within CARD_CHALLENGE_TTL seconds of the one clock.
 */
#include "b64.h"
#include "cardkey_client.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "pem.h"
#include "util.h"
#include "worker.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#define CARD_CHALLENGE_TTL 300
#define CARD_BLOCK_MAX 16
#define CARD_RID_LEN 24

/* The card serial of the payload as a number; -1 after job_fail(). */
static int64_t card_serial(struct job_ctx *ctx, const char **text)
{
	const char *s = job_str(ctx, ctx->payload, "card_serial");
	char *end;
	unsigned long long v;

	if (!s)
		return -1;
	v = strtoull(s, &end, 10);
	if (*end || end == s || v > 0xffffffffULL) {
		job_refuse(ctx, JT_CARD_SERIAL, s);
		return -1;
	}
	*text = s;
	return (int64_t)v;
}

/* The account's current card order (personalized) for card SERIAL: its id, or -1. */
static int64_t card_order(sqlite3 *db, const char *account, const char *serial)
{
	return db_int(db, "SELECT o.id FROM orders o JOIN accounts a ON a.subscriber_id = o.subscriber_id"
	    " WHERE a.id = ? AND o.card_serial = ? AND o.state = 'personalized' ORDER BY o.id DESC LIMIT 1",
	    "ss", account, serial);
}

/* Earliest not_after and worst status of ORDER's certificates; -1 if it has none. */
static int card_expiry(sqlite3 *db, int64_t order, time_t *not_after, char status[16])
{
	sqlite3_stmt *st = db_prepare(db, "SELECT min(not_after), max(CASE status WHEN 'revoked' THEN 2"
	    " WHEN 'held' THEN 1 ELSE 0 END), count(*) FROM certificates WHERE order_id = ?");
	static const char *const names[] = { "valid", "held", "revoked" };
	int rc = -1;

	sqlite3_bind_int64(st, 1, order);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 2) > 0) {
		int worst = sqlite3_column_int(st, 1);
		*not_after = (time_t)sqlite3_column_int64(st, 0);
		snprintf(status, 16, "%s", names[worst < 0 || worst > 2 ? 0 : worst]);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* NULL if renewal is open for certificates ending NOT_AFTER; else the reason. */
static const char *card_window(const config_t *cfg, time_t not_after, time_t *opens)
{
	time_t now = ra_now();

	*opens = not_after - (time_t)config_int(cfg, "renewal.window_days") * 86400;
	if (now >= not_after)
		return "expired";
	if (now < *opens)
		return "early";
	return NULL;
}

/* The certificates of ORDER with their PEM text, for the station to write. */
static json_t *card_certs(sqlite3 *db, int64_t order)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT usage, serial, not_after, pem FROM certificates"
	    " WHERE order_id = ? ORDER BY usage DESC");
	json_t *out = json_array();

	sqlite3_bind_int64(st, 1, order);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(out, json_pack("{s:s,s:s,s:I,s:s}", "usage", sqlite3_column_text(st, 0),
		    "serial", sqlite3_column_text(st, 1), "not_after", (json_int_t)sqlite3_column_int64(st, 2),
		    "pem", sqlite3_column_text(st, 3)));
	sqlite3_finalize(st);
	return out;
}

/* The password's verdict (job_account_prepare), then ra-cardkey's answer to the card's
 * witness: the decrypted witness and the challenge for this job (the same if asked again). */
int job_card_challenge_prepare(struct job_ctx *ctx)
{
	const char *serial = json_string_value(json_object_get(ctx->payload, "card_serial"));
	const char *whex = json_string_value(json_object_get(ctx->payload, "witness"));
	uint8_t witness[CARD_BLOCK_MAX];
	char rid[CARD_RID_LEN];
	json_t *ans;
	int wlen;

	if (job_account_prepare(ctx) < 0)
		return -1;
	if (!serial || !whex || (wlen = hex_decode(whex, witness, sizeof witness)) <= 0)
		return 0;	/* apply says what is wrong */
	snprintf(rid, sizeof rid, "%lld", (long long)ctx->id);
	if (!(ans = cardkey_client_challenge(ctx, rid, serial, witness, (size_t)wlen)))
		return -1;
	json_object_set_new(ctx->scratch, "card", ans);
	return 0;
}

int job_card_challenge_apply(struct job_ctx *ctx, json_t **result)
{
	const char *purpose = job_str(ctx, ctx->payload, "purpose");
	const char *account = job_str(ctx, ctx->payload, "account");
	const char *sealed = job_str(ctx, ctx->payload, "sealed_password");
	const char *witness_hex = job_str(ctx, ctx->payload, "witness");
	const char *serial_text = NULL, *why;
	uint8_t witness[CARD_BLOCK_MAX];
	char status[16], object[40], when[24];
	json_t *refusal = NULL, *card;
	int64_t serial, order;
	time_t not_after = 0, opens = 0;
	int wlen;

	if (!purpose || !account || !sealed || !witness_hex || (serial = card_serial(ctx, &serial_text)) < 0)
		return -1;
	if (strcmp(purpose, "unlock") != 0 && strcmp(purpose, "download") != 0 && strcmp(purpose, "renew") != 0)
		return job_refuse(ctx, JT_CARD_PURPOSE);
	if ((wlen = hex_decode(witness_hex, witness, sizeof witness)) <= 0)
		return job_refuse(ctx, JT_CARD_WITNESS);

	switch (account_check(ctx, account, sealed, &refusal)) {
	case 1:
		break;
	case 0:
		/* Complete the job: the failure count must be committed with it. */
		*result = refusal;
		return job_redact(ctx->db, ctx->id, "sealed_password") < 0 ? job_fail(ctx, 1, "ledger error") : 0;
	default:
		return -1;
	}
	if (job_redact(ctx->db, ctx->id, "sealed_password") < 0)
		return job_fail(ctx, 1, "ledger error");
	/* Refusals from here on complete the job too, so the redaction above commits. */
	if ((order = card_order(ctx->db, account, serial_text)) < 0) {
		log_warn("job %lld: card %s is not the personalized card of account %s", (long long)ctx->id,
		    serial_text, account);
		*result = account_refuse("wrong_card", xasprintf("card %s is not the card registered to this account",
		    serial_text), xasprintf("卡片 %s 不是此帳號登記的卡片", serial_text));
		return 0;
	}
	if (card_expiry(ctx->db, order, &not_after, status) < 0) {
		*result = account_refuse("no_certificates", xasprintf("card %s has no certificates on record",
		    serial_text), xasprintf("卡片 %s 沒有憑證紀錄", serial_text));
		return 0;
	}
	if (strcmp(purpose, "unlock") != 0 && strcmp(status, "valid") != 0) {
		*result = account_refuse("certificates_not_valid", xasprintf("the card's certificates are %s", status),
		    xstrdup(strcmp(status, "held") == 0 ? "卡片的憑證已暫停使用" : "卡片的憑證已廢止"));
		return 0;
	}
	if (strcmp(purpose, "renew") == 0 && (why = card_window(ctx->cfg, not_after, &opens))) {
		/* The date first: the order in which arguments are evaluated is unspecified. */
		time_format(strcmp(why, "early") == 0 ? opens : not_after, when, sizeof when);
		if (strcmp(why, "early") == 0)
			*result = account_refuse("renewal_early", xasprintf("renewal opens on %s", when),
			    xasprintf("展期自 %.10s 起才能辦理", when));
		else
			*result = account_refuse("renewal_closed", xasprintf("the certificates expired on %s: renewal "
			    "is closed, a new registration is needed", when),
			    xasprintf("憑證已於 %.10s 到期，無法展期，請重新申請註冊", when));
		return 0;
	}
	/* ra-cardkey's answer, asked in prepare (job_card_challenge_prepare) */
	if (!(card = json_object_get(ctx->scratch, "card")) || !json_string_value(json_object_get(card, "witness")) ||
	    !json_string_value(json_object_get(card, "challenge")))
		return job_fail(ctx, 1, "internal: ra-cardkey's answer was not prepared");
	*result = json_pack("{s:b,s:s,s:O,s:O,s:I,s:I}", "ok", 1, "purpose", purpose,
	    "witness", json_object_get(card, "witness"), "challenge", json_object_get(card, "challenge"),
	    "order", (json_int_t)order, "not_after", (json_int_t)not_after);
	if (strcmp(purpose, "download") == 0)
		json_object_set_new(*result, "certs", card_certs(ctx->db, order));
	snprintf(object, sizeof object, "card:%s", serial_text);
	return job_audit(ctx, "card.challenge", object, NULL, purpose);
}

/*
 * Check a follow-up job against its challenge in the ledger: the challenge job is done and
 * accepted, for PURPOSE and this card, recent, and not answered before. The card's
 * response (payload "response", hex) goes into RESP (*rlen bytes) for ra-cardkey to check.
 * *order gets the order it was about. 0/-1.
 */
static int card_ledger(struct job_ctx *ctx, const char *purpose, int64_t *order, const char **serial_text,
    uint8_t resp[CARD_BLOCK_MAX], size_t *rlen)
{
	int64_t cj = job_int(ctx, ctx->payload, "challenge_job");
	const char *resp_hex = job_str(ctx, ctx->payload, "response");
	sqlite3_stmt *st;
	json_t *res = NULL;
	char *card = NULL;
	int n, rc = -1;
	time_t at = 0;

	if (cj < 0 || !resp_hex || card_serial(ctx, serial_text) < 0)
		return -1;
	st = db_prepare(ctx->db, "SELECT result, json_extract(payload, '$.card_serial'), created_at FROM jobs"
	    " WHERE id = ? AND kind = 'card_challenge' AND state = 'done'");
	sqlite3_bind_int64(st, 1, cj);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) && sqlite3_column_text(st, 1)) {
		res = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		card = xstrdup((const char *)sqlite3_column_text(st, 1));
		at = (time_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (!res || !json_is_true(json_object_get(res, "ok")) ||
	    strcmp(json_string_value(json_object_get(res, "purpose")) ?: "", purpose) != 0 ||
	    strcmp(card, *serial_text) != 0) {
		job_refuse(ctx, JT_CARD_NO_CHALLENGE, (long long)cj, purpose,
		    *serial_text);
		goto out;
	}
	if (ra_now() - at > CARD_CHALLENGE_TTL) {
		job_refuse(ctx, JT_CARD_CHALLENGE_EXPIRED);
		goto out;
	}
	if (db_int(ctx->db, "SELECT 1 FROM jobs WHERE kind IN ('card_unlock', 'card_renew') AND state = 'done'"
	    " AND id <> ? AND json_extract(payload, '$.challenge_job') = ?", "ii", ctx->id, cj) == 1) {
		job_refuse(ctx, JT_CARD_CHALLENGE_USED);
		goto out;
	}
	if ((n = hex_decode(resp_hex, resp, CARD_BLOCK_MAX)) <= 0) {
		job_refuse(ctx, JT_CARD_NOT_REGISTERED);
		goto out;
	}
	*rlen = (size_t)n;
	*order = json_integer_value(json_object_get(res, "order"));
	rc = 0;
out:
	json_decref(res);
	free(card);
	return rc;
}

/* The ledger's checks (card_ledger), then ra-cardkey's: the card's response is the
 * challenge under the card's derived key. With RECIPIENT (32 bytes) ra-cardkey also gives
 * the card's PUKs from VERSION on, sealed to it: its answer goes into *sealed. 0/-1. */
static int card_proof(struct job_ctx *ctx, const char *purpose, int64_t *order, const char **serial_text,
    const uint8_t *recipient, int64_t version, json_t **sealed)
{
	uint8_t resp[CARD_BLOCK_MAX];
	size_t rlen = 0;
	char rid[CARD_RID_LEN];
	json_t *ans;

	if (card_ledger(ctx, purpose, order, serial_text, resp, &rlen) < 0)
		return -1;
	snprintf(rid, sizeof rid, "%lld", (long long)job_int(ctx, ctx->payload, "challenge_job"));
	if (!(ans = cardkey_client_proof(ctx, rid, *serial_text, resp, rlen, recipient, version))) {
		if (!ctx->retry)
			log_warn("job %lld: card %s did not answer its management-key challenge", (long long)ctx->id,
			    *serial_text);
		return -1;
	}
	if (sealed)
		*sealed = ans;
	else
		json_decref(ans);
	return 0;
}

/* The card's current PUK version (1 if none is recorded). */
static int64_t card_puk_version(sqlite3 *db, const char *serial)
{
	int64_t v = db_int(db, "SELECT version FROM card_puk WHERE card_serial = ?", "s", serial);
	return v > 0 ? v : 1;
}

/* The proof, and the card's PUKs sealed to the station by ra-cardkey, kept for apply. */
int job_card_unlock_prepare(struct job_ctx *ctx)
{
	const char *recipient = job_str(ctx, ctx->payload, "recipient"), *serial_text = NULL;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	int64_t order = 0, version;
	json_t *sealed = NULL;
	int rc = -1;

	if (!recipient)
		return -1;
	if (b64_decode(recipient, &raw, &raw_len) < 0 || raw_len != 32) {
		job_refuse(ctx, JT_CARD_RECIPIENT);
		goto out;
	}
	/* The PUK on the card now (version V), the one the station sets right after
	 * unblocking (V+1): a released PUK stops working at once. The version moves on only
	 * when the station's card_puk job records the change; should that record have been
	 * lost after an earlier change, the card is at V+1 and the station moves it to V+2. */
	version = card_puk_version(ctx->db, json_string_value(json_object_get(ctx->payload, "card_serial")) ?: "");
	if (card_proof(ctx, "unlock", &order, &serial_text, raw, version, &sealed) < 0)
		goto out;
	json_object_set_new(sealed, "puk_version", json_integer(version));
	json_object_set_new(ctx->scratch, "sealed", sealed);
	rc = 0;
out:
	free(raw);
	return rc;
}

int job_card_unlock_apply(struct job_ctx *ctx, json_t **result)
{
	json_t *sealed = json_object_get(ctx->scratch, "sealed");
	const char *serial_text = NULL;
	char object[40], after[64];
	uint8_t resp[CARD_BLOCK_MAX];
	size_t rlen = 0;
	int64_t order = 0, version = json_integer_value(json_object_get(sealed, "puk_version"));

	/* The ledger's checks again, inside the transaction that completes the job. */
	if (card_ledger(ctx, "unlock", &order, &serial_text, resp, &rlen) < 0)
		return -1;
	if (!sealed || version < 1)
		return job_fail(ctx, 1, "internal: the sealed PUKs were not prepared");
	if (card_puk_version(ctx->db, serial_text) != version)
		return job_fail(ctx, 1, "card %s's PUK version changed meanwhile: trying again", serial_text);
	snprintf(object, sizeof object, "card:%s", serial_text);
	snprintf(after, sizeof after, "v%lld sealed to the station, with the next", (long long)version);
	if (job_audit(ctx, "card.puk_released", object, NULL, after) < 0)
		return -1;
	*result = json_pack("{s:I,s:I,s:O,s:O,s:O,s:I}", "order", (json_int_t)order, "job", (json_int_t)ctx->id,
	    "sealed_puk", json_object_get(sealed, "sealed_puk"), "sealed_next_puk",
	    json_object_get(sealed, "sealed_next_puk"), "sealed_after_puk", json_object_get(sealed, "sealed_after_puk"),
	    "puk_version", (json_int_t)version);
	return *result ? 0 : job_fail(ctx, 1, "ra-cardkey's answer lacks a sealed PUK");
}

int job_card_puk_apply(struct job_ctx *ctx, json_t **result)
{
	int64_t unlock = job_int(ctx, ctx->payload, "unlock_job"), version = job_int(ctx, ctx->payload, "puk_version");
	int64_t now_v, released = 0;
	const char *serial_text = NULL;
	char object[40], before[24], after[24];
	sqlite3_stmt *st;

	if (unlock < 0 || version < 0 || card_serial(ctx, &serial_text) < 0)
		return -1;
	st = db_prepare(ctx->db, "SELECT json_extract(result, '$.puk_version') FROM jobs WHERE id = ? AND"
	    " kind = 'card_unlock' AND state = 'done' AND json_extract(payload, '$.card_serial') = ?");
	sqlite3_bind_int64(st, 1, unlock);
	sqlite3_bind_text(st, 2, serial_text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		released = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (released < 1)
		return job_refuse(ctx, JT_CARD_NO_UNLOCK, (long long)unlock, serial_text);
	/* The unlock released RELEASED and the two after it; the card now has one of those two. */
	if (version != released + 1 && version != released + 2)
		return job_refuse(ctx, JT_CARD_PUK_VERSION, (long long)unlock,
		    (long long)version);
	now_v = card_puk_version(ctx->db, serial_text);
	if (now_v == version) {
		*result = json_pack("{s:s,s:I}", "card_serial", serial_text, "puk_version", (json_int_t)version);
		return 0;	/* recorded already (a retry) */
	}
	if (now_v != released)
		return job_refuse(ctx, JT_CARD_UNLOCK_STALE, serial_text,
		    (long long)now_v, (long long)released);
	st = db_prepare(ctx->db, "INSERT INTO card_puk (card_serial, version, unlock_job, updated_at) VALUES (?, ?, ?, ?)"
	    " ON CONFLICT (card_serial) DO UPDATE SET version = excluded.version, unlock_job = excluded.unlock_job,"
	    " updated_at = excluded.updated_at");
	sqlite3_bind_text(st, 1, serial_text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_int64(st, 3, unlock);
	sqlite3_bind_int64(st, 4, ra_now());
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return job_fail(ctx, 1, "cannot record the PUK version: %s", sqlite3_errmsg(ctx->db));
	}
	sqlite3_finalize(st);
	snprintf(object, sizeof object, "card:%s", serial_text);
	snprintf(before, sizeof before, "v%lld", (long long)now_v);
	snprintf(after, sizeof after, "v%lld", (long long)version);
	if (job_audit(ctx, "card.puk_changed", object, before, after) < 0)
		return -1;
	*result = json_pack("{s:s,s:I}", "card_serial", serial_text, "puk_version", (json_int_t)version);
	return 0;
}

/* Check the challenge and the window, then ask ca-signer for both certificates. */
int job_card_renew_prepare(struct job_ctx *ctx)
{
	const char *serial_text = NULL, *why;
	int64_t order = 0;
	time_t not_after = 0, opens = 0;
	char status[16], when[24];
	json_t *subject = NULL, *certs = NULL;
	sqlite3_stmt *st;
	int rc = -1;

	if (card_proof(ctx, "renew", &order, &serial_text, NULL, 0, NULL) < 0)
		goto out;
	if (card_expiry(ctx->db, order, &not_after, status) < 0 || strcmp(status, "valid") != 0) {
		job_refuse(ctx, JT_CARD_CERTS_INVALID);
		goto out;
	}
	if ((why = card_window(ctx->cfg, not_after, &opens))) {
		job_refuse(ctx, strcmp(why, "early") == 0 ? JT_RENEW_EARLY : JT_RENEW_EXPIRED,
		    time_format(strcmp(why, "early") == 0 ? opens : not_after, when, sizeof when));
		goto out;
	}
	st = db_prepare(ctx->db, "SELECT s.name, s.email, a.id FROM orders o JOIN subscribers s ON s.id = o.subscriber_id"
	    " JOIN accounts a ON a.subscriber_id = s.id WHERE o.id = ?");
	sqlite3_bind_int64(st, 1, order);
	if (sqlite3_step(st) == SQLITE_ROW)
		subject = json_pack("{s:s,s:s,s:s}", "name", sqlite3_column_text(st, 0),
		    "email", sqlite3_column_text(st, 1), "account", sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	if (!subject) {
		job_refuse(ctx, JT_ORDER_NO_SUBSCRIBER, (long long)order);
		goto out;
	}
	/* Both requests checked first; the first withdrawn if the second fails (issue_pair.c). */
	if (!(certs = issue_pair_sign(ctx, subject)))
		goto out;
	json_object_set(ctx->scratch, "certs", certs);
	json_object_set_new(ctx->scratch, "order", json_integer(order));
	rc = 0;
out:
	json_decref(certs);
	json_decref(subject);
	return rc;
}

/* A renewal order for the same subscriber and card, already personalized. */
static int64_t card_renewal_order(struct job_ctx *ctx, int64_t old, const char *card)
{
	sqlite3_stmt *st = db_prepare(ctx->db, "INSERT INTO orders (subscriber_id, form_serial, purpose, state,"
	    " card_serial, station, created_at, updated_at) SELECT subscriber_id, form_serial, 'renewal',"
	    " 'personalized', ?, ?, ?, ? FROM orders WHERE id = ?");
	char object[40];
	int64_t id;
	int rc;

	sqlite3_bind_text(st, 1, card, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, json_string_value(json_object_get(ctx->payload, "station")), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ra_now());
	sqlite3_bind_int64(st, 4, ra_now());
	sqlite3_bind_int64(st, 5, old);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return job_fail(ctx, 1, "cannot store the renewal order: %s", sqlite3_errmsg(ctx->db));
	id = sqlite3_last_insert_rowid(ctx->db);
	snprintf(object, sizeof object, "order:%lld", (long long)id);
	return job_audit(ctx, "order.renewal", object, NULL, "personalized") < 0 ? -1 : id;
}

int job_card_renew_apply(struct job_ctx *ctx, json_t **result)
{
	json_t *certs = json_object_get(ctx->scratch, "certs"), *out;
	int64_t old = json_integer_value(json_object_get(ctx->scratch, "order")), order;
	const char *card = json_string_value(json_object_get(ctx->payload, "card_serial"));

	/* Another follow-up of the same challenge may have committed since prepare: then the
	 * certificates this job got are withdrawn, so none stays valid unknown to the RA. */
	if (db_int(ctx->db, "SELECT 1 FROM jobs WHERE kind IN ('card_unlock', 'card_renew') AND state = 'done'"
	    " AND id <> ? AND json_extract(payload, '$.challenge_job') = ?", "ii", ctx->id,
	    json_integer_value(json_object_get(ctx->payload, "challenge_job"))) == 1) {
		job_refuse(ctx, JT_CARD_CHALLENGE_USED_REVOKED);
		issue_withdraw(ctx, certs);
		return -1;
	}
	if (json_array_size(certs) != 2 || (order = card_renewal_order(ctx, old, card)) < 0)
		return json_array_size(certs) != 2 ? job_fail(ctx, 1, "renewal certificates missing") : -1;
	if (!(out = issue_store(ctx, order, certs)))
		return -1;
	/* The previous certificates stay valid until they expire (design: renewal overlaps). */
	*result = json_pack("{s:I,s:I,s:o}", "order", (json_int_t)order, "previous_order", (json_int_t)old,
	    "certs", out);
	return 0;
}
