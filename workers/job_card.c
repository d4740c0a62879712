/*
 * job_card.c: the subscriber's card operations on the back-office side (unlock, PIN
 * reset, re-download, renewal).
 *
 * Every one starts with card_challenge: the website password is checked (account_check:
 * the lockout counts, so a refusal completes the job instead of failing it, or the count
 * would roll back), the card's serial must be the one of the account's personalized order,
 * and the card's management-key witness is answered. The worker derives the card's
 * management key from the master key, decrypts the witness and adds a fresh challenge; the
 * station completes PIV mutual authentication with both, and the card's encryption of the
 * challenge comes back in the next job as proof that the card holds its derived key. The
 * management key itself never leaves the RA host; the station gets management rights on
 * that one card for as long as it holds its PC/SC transaction.
 *
 * card_unlock then releases the card's derived PUK and the two after it (PUK versions per
 * card, table card_puk), sealed to an X25519 key the station made for this one operation
 * (lib/seal.c's box), so the ledger holds only the sealed form; the station unblocks the
 * card, changes its PUK to the next one at once, and card_puk records the new version.
 * card_renew issues the new pair of certificates through issue_pair.c (both requests
 * checked first, withdrawn if the pair cannot be delivered). A challenge answers one
 * follow-up job only, within CARD_CHALLENGE_TTL seconds of the one clock.
 */
#include "b64.h"
#include "db.h"
#include "derive.h"
#include "jobs.h"
#include "log.h"
#include "pem.h"
#include "seal.h"
#include "util.h"
#include "worker.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <string.h>

#define CARD_CHALLENGE_TTL 300
#define CARD_BLOCK_MAX 16

/* The management key cipher of this deployment's cards, and its key length. */
static const EVP_CIPHER *card_cipher(const config_t *cfg, enum derive_mgm_alg *alg)
{
	int a = derive_mgm_alg_parse(config_str(cfg, "card_station.mgm_key_alg"));

	if (a < 0)
		return NULL;
	*alg = (enum derive_mgm_alg)a;
	return *alg == DERIVE_MGM_AES128 ? EVP_aes_128_ecb() : EVP_des_ede3_ecb();
}

/* One ECB block IN of card SERIAL's management key into OUT: encrypt if ENC, else decrypt.
 * INLEN must be the cipher's block size. 0/-1 after job_fail(). */
static int card_block(struct job_ctx *ctx, uint32_t serial, int enc, const uint8_t *in, size_t inlen,
    uint8_t out[CARD_BLOCK_MAX])
{
	uint8_t key[DERIVE_MGM_MAX];
	size_t klen = 0;
	enum derive_mgm_alg alg = DERIVE_MGM_AES128;
	const EVP_CIPHER *c = card_cipher(ctx->cfg, &alg);
	char *path = config_path(ctx->cfg, "cards.master_key_file");
	derive_t *d = derive_new(path);
	EVP_CIPHER_CTX *cx = NULL;
	int n = 0, rc = -1;

	free(path);
	if (!c || !d) {
		job_fail(ctx, 1, "the card master key (cards.master_key_file) is not usable on this worker");
		goto out;
	}
	if (inlen != (size_t)EVP_CIPHER_get_block_size(c)) {
		job_fail(ctx, 0, "the card's management-key block has %zu bytes, not %d", inlen,
		    EVP_CIPHER_get_block_size(c));
		goto out;
	}
	if (derive_mgm_key(d, serial, alg, key, &klen) < 0)
		goto out;
	cx = EVP_CIPHER_CTX_new();
	if (!cx || EVP_CipherInit_ex(cx, c, NULL, key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(cx, 0) != 1 || EVP_CipherUpdate(cx, out, &n, in, (int)inlen) != 1 ||
	    n != (int)inlen) {
		job_fail(ctx, 1, "management-key cipher failed");
		goto out;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(cx);
	OPENSSL_cleanse(key, sizeof key);
	derive_destroy(&d);
	return rc;
}

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
		job_fail(ctx, 0, "card_serial '%s' is not a card serial number", s);
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

int job_card_challenge_apply(struct job_ctx *ctx, json_t **result)
{
	const char *purpose = job_str(ctx, ctx->payload, "purpose");
	const char *account = job_str(ctx, ctx->payload, "account");
	const char *sealed = job_str(ctx, ctx->payload, "sealed_password");
	const char *witness_hex = job_str(ctx, ctx->payload, "witness");
	const char *serial_text = NULL, *why;
	uint8_t witness[CARD_BLOCK_MAX], plain[CARD_BLOCK_MAX], chal[CARD_BLOCK_MAX];
	char whex[2 * CARD_BLOCK_MAX + 1], chex[2 * CARD_BLOCK_MAX + 1], status[16], object[40], when[24];
	json_t *refusal = NULL;
	int64_t serial, order;
	time_t not_after = 0, opens = 0;
	int wlen, rc = -1;

	if (!purpose || !account || !sealed || !witness_hex || (serial = card_serial(ctx, &serial_text)) < 0)
		return -1;
	if (strcmp(purpose, "unlock") != 0 && strcmp(purpose, "download") != 0 && strcmp(purpose, "renew") != 0)
		return job_fail(ctx, 0, "purpose must be unlock, download or renew");
	if ((wlen = hex_decode(witness_hex, witness, sizeof witness)) <= 0)
		return job_fail(ctx, 0, "witness is not a hex block");

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
	if (card_block(ctx, (uint32_t)serial, 0, witness, (size_t)wlen, plain) < 0)
		goto out;
	if (RAND_bytes(chal, wlen) != 1) {
		job_fail(ctx, 1, "random generator failed");
		goto out;
	}
	hex_encode(plain, (size_t)wlen, whex);
	hex_encode(chal, (size_t)wlen, chex);
	*result = json_pack("{s:b,s:s,s:s,s:s,s:I,s:I}", "ok", 1, "purpose", purpose, "witness", whex,
	    "challenge", chex, "order", (json_int_t)order, "not_after", (json_int_t)not_after);
	if (strcmp(purpose, "download") == 0)
		json_object_set_new(*result, "certs", card_certs(ctx->db, order));
	snprintf(object, sizeof object, "card:%s", serial_text);
	rc = job_audit(ctx, "card.challenge", object, NULL, purpose);
out:
	OPENSSL_cleanse(plain, sizeof plain);
	OPENSSL_cleanse(whex, sizeof whex);
	return rc;
}

/*
 * Check a follow-up job against its challenge: the challenge job is done and accepted, for
 * PURPOSE and this card, recent, not answered before, and the card's response is its
 * challenge under the card's derived key. *order gets the order it was about. 0/-1.
 */
static int card_proof(struct job_ctx *ctx, const char *purpose, int64_t *order, const char **serial_text)
{
	int64_t cj = job_int(ctx, ctx->payload, "challenge_job"), serial;
	const char *resp_hex = job_str(ctx, ctx->payload, "response");
	sqlite3_stmt *st;
	json_t *res = NULL;
	uint8_t chal[CARD_BLOCK_MAX], expect[CARD_BLOCK_MAX], resp[CARD_BLOCK_MAX];
	char *card = NULL;
	int clen, rlen, rc = -1;
	time_t at = 0;

	if (cj < 0 || !resp_hex || (serial = card_serial(ctx, serial_text)) < 0)
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
		job_fail(ctx, 0, "job %lld is not an accepted %s challenge for card %s", (long long)cj, purpose,
		    *serial_text);
		goto out;
	}
	if (ra_now() - at > CARD_CHALLENGE_TTL) {
		job_fail(ctx, 0, "the card challenge has expired: start again");
		goto out;
	}
	if (db_int(ctx->db, "SELECT 1 FROM jobs WHERE kind IN ('card_unlock', 'card_renew') AND state = 'done'"
	    " AND id <> ? AND json_extract(payload, '$.challenge_job') = ?", "ii", ctx->id, cj) == 1) {
		job_fail(ctx, 0, "the card challenge was used already: start again");
		goto out;
	}
	clen = hex_decode(json_string_value(json_object_get(res, "challenge")) ?: "", chal, sizeof chal);
	rlen = hex_decode(resp_hex, resp, sizeof resp);
	if (clen <= 0 || rlen != clen)
		goto refused;
	if (card_block(ctx, (uint32_t)serial, 1, chal, (size_t)clen, expect) < 0)
		goto out;
	if (CRYPTO_memcmp(expect, resp, (size_t)clen) != 0)
		goto refused;
	*order = json_integer_value(json_object_get(res, "order"));
	rc = 0;
	goto out;
refused:
	log_warn("job %lld: card %s did not answer its management-key challenge", (long long)ctx->id,
	    *serial_text);
	job_fail(ctx, 0, "the card did not prove its management key: it is not the registered card");
out:
	OPENSSL_cleanse(expect, sizeof expect);
	json_decref(res);
	free(card);
	return rc;
}

/* The PUK of card SERIAL at VERSION, sealed to PUB, base64 (malloc'd); NULL after job_fail(). */
static char *card_puk_sealed(struct job_ctx *ctx, derive_t *d, uint32_t serial, int64_t version, EVP_PKEY *pub)
{
	char puk[DERIVE_PUK_LEN + 1] = "", *out = NULL;
	uint8_t *box = NULL;
	size_t box_len = 0;

	if (derive_puk_version(d, serial, version, puk) < 0)
		job_fail(ctx, 1, "cannot derive the card's PUK");
	else if (seal_box(pub, (const uint8_t *)puk, strlen(puk), &box, &box_len) < 0)
		job_fail(ctx, 1, "cannot seal the PUK");
	else
		out = b64_encode(box, box_len);
	OPENSSL_cleanse(puk, sizeof puk);
	free(box);
	return out;
}

/* The card's current PUK version (1 if none is recorded). */
static int64_t card_puk_version(sqlite3 *db, const char *serial)
{
	int64_t v = db_int(db, "SELECT version FROM card_puk WHERE card_serial = ?", "s", serial);
	return v > 0 ? v : 1;
}

int job_card_unlock_apply(struct job_ctx *ctx, json_t **result)
{
	const char *recipient = job_str(ctx, ctx->payload, "recipient"), *serial_text = NULL;
	char object[40], after[64], *path = NULL, *sealed = NULL, *sealed_next = NULL, *sealed_after = NULL;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	EVP_PKEY *pub = NULL;
	derive_t *d = NULL;
	int64_t order = 0, version;
	uint32_t serial;
	int rc = -1;

	if (!recipient || card_proof(ctx, "unlock", &order, &serial_text) < 0)
		return -1;
	if (b64_decode(recipient, &raw, &raw_len) < 0 || raw_len != 32 ||
	    !(pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, raw, raw_len))) {
		job_fail(ctx, 0, "recipient is not an X25519 public key (32 bytes, base64)");
		goto out;
	}
	path = config_path(ctx->cfg, "cards.master_key_file");
	if (!(d = derive_new(path))) {
		job_fail(ctx, 1, "the card master key (cards.master_key_file) is not usable on this worker");
		goto out;
	}
	/* The PUK on the card now (version V), the one the station sets right after
	 * unblocking (V+1): a released PUK stops working at once. The version moves on only
	 * when the station's card_puk job records the change; should that record have been
	 * lost after an earlier change, the card is at V+1 and the station moves it to V+2. */
	serial = (uint32_t)strtoul(serial_text, NULL, 10);
	version = card_puk_version(ctx->db, serial_text);
	if (!(sealed = card_puk_sealed(ctx, d, serial, version, pub)) ||
	    !(sealed_next = card_puk_sealed(ctx, d, serial, version + 1, pub)) ||
	    !(sealed_after = card_puk_sealed(ctx, d, serial, version + 2, pub)))
		goto out;
	snprintf(object, sizeof object, "card:%s", serial_text);
	snprintf(after, sizeof after, "v%lld sealed to the station, with the next", (long long)version);
	if (job_audit(ctx, "card.puk_released", object, NULL, after) < 0)
		goto out;
	*result = json_pack("{s:I,s:I,s:s,s:s,s:s,s:I}", "order", (json_int_t)order, "job", (json_int_t)ctx->id,
	    "sealed_puk", sealed, "sealed_next_puk", sealed_next, "sealed_after_puk", sealed_after,
	    "puk_version", (json_int_t)version);
	rc = 0;
out:
	derive_destroy(&d);
	EVP_PKEY_free(pub);
	free(path);
	free(raw);
	free(sealed);
	free(sealed_next);
	free(sealed_after);
	return rc;
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
		return job_fail(ctx, 0, "job %lld is not a done unlock of card %s", (long long)unlock, serial_text);
	/* The unlock released RELEASED and the two after it; the card now has one of those two. */
	if (version != released + 1 && version != released + 2)
		return job_fail(ctx, 0, "unlock job %lld released no PUK version %lld", (long long)unlock,
		    (long long)version);
	now_v = card_puk_version(ctx->db, serial_text);
	if (now_v == version) {
		*result = json_pack("{s:s,s:I}", "card_serial", serial_text, "puk_version", (json_int_t)version);
		return 0;	/* recorded already (a retry) */
	}
	if (now_v != released)
		return job_fail(ctx, 0, "card %s has PUK version %lld, not %lld: this unlock is stale", serial_text,
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

	if (card_proof(ctx, "renew", &order, &serial_text) < 0)
		goto out;
	if (card_expiry(ctx->db, order, &not_after, status) < 0 || strcmp(status, "valid") != 0) {
		job_fail(ctx, 0, "the card's certificates are not valid: renewal is not possible");
		goto out;
	}
	if ((why = card_window(ctx->cfg, not_after, &opens))) {
		job_fail(ctx, 0, strcmp(why, "early") == 0 ? "renewal opens on %s" :
		    "the certificates expired on %s: a new registration is needed",
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
		job_fail(ctx, 0, "card order %lld has no subscriber", (long long)order);
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
		job_fail(ctx, 0, "the card challenge was used already: start again (this job's certificates "
		    "were revoked)");
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
