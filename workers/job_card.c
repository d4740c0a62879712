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
 * card_unlock then releases the card's derived PUK sealed to an X25519 key the station
 * made for this one operation (lib/seal.c's box), so the ledger holds only the sealed
 * form. card_renew issues the new pair of certificates. A challenge answers one follow-up
 * job only, within CARD_CHALLENGE_TTL seconds of the one clock.
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

static const char *const card_usages[2] = { "signature", "encryption" };
static const char *const card_csr_keys[2] = { "sign_csr", "enc_csr" };

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

int job_card_unlock_apply(struct job_ctx *ctx, json_t **result)
{
	const char *recipient = job_str(ctx, ctx->payload, "recipient"), *serial_text = NULL;
	char puk[DERIVE_PUK_LEN + 1] = "", object[40], *path = NULL, *sealed_b64 = NULL;
	uint8_t *raw = NULL, *box = NULL;
	size_t raw_len = 0, box_len = 0;
	EVP_PKEY *pub = NULL;
	derive_t *d = NULL;
	int64_t order = 0;
	int rc = -1;

	if (!recipient || card_proof(ctx, "unlock", &order, &serial_text) < 0)
		return -1;
	if (b64_decode(recipient, &raw, &raw_len) < 0 || raw_len != 32 ||
	    !(pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, raw, raw_len))) {
		job_fail(ctx, 0, "recipient is not an X25519 public key (32 bytes, base64)");
		goto out;
	}
	path = config_path(ctx->cfg, "cards.master_key_file");
	if (!(d = derive_new(path)) || derive_puk(d, (uint32_t)strtoul(serial_text, NULL, 10), puk) < 0) {
		job_fail(ctx, 1, "the card master key (cards.master_key_file) is not usable on this worker");
		goto out;
	}
	if (seal_box(pub, (const uint8_t *)puk, strlen(puk), &box, &box_len) < 0) {
		job_fail(ctx, 1, "cannot seal the PUK");
		goto out;
	}
	sealed_b64 = b64_encode(box, box_len);
	snprintf(object, sizeof object, "card:%s", serial_text);
	if (job_audit(ctx, "card.puk_released", object, NULL, "sealed to the station") < 0)
		goto out;
	*result = json_pack("{s:I,s:s}", "order", (json_int_t)order, "sealed_puk", sealed_b64);
	rc = 0;
out:
	OPENSSL_cleanse(puk, sizeof puk);
	derive_destroy(&d);
	EVP_PKEY_free(pub);
	free(path);
	free(raw);
	free(box);
	free(sealed_b64);
	return rc;
}

/* Certificate DER to a JSON record {usage, serial, pem, subject, not_before, not_after}. */
static json_t *card_cert_record(const char *usage, const char *serial, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	char *pem = x ? pem_encode("CERTIFICATE", der, len) : NULL;
	char *subj = x ? pem_name_text(X509_get_subject_name(x)) : NULL;
	json_t *out = NULL;
	struct tm nb, na;

	if (pem && subj && ASN1_TIME_to_tm(X509_get0_notBefore(x), &nb) == 1 &&
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &na) == 1)
		out = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "usage", usage, "serial", serial, "pem", pem,
		    "subject", subj, "not_before", (json_int_t)timegm(&nb), "not_after", (json_int_t)timegm(&na));
	X509_free(x);
	free(pem);
	free(subj);
	return out;
}

/* Check the challenge and the window, then ask ca-signer for both certificates. */
int job_card_renew_prepare(struct job_ctx *ctx)
{
	const char *serial_text = NULL, *why;
	int64_t order = 0;
	time_t not_after = 0, opens = 0;
	char status[16], when[24];
	json_t *subject = NULL, *certs = json_array();
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
	for (int u = 0; u < 2; u++) {
		const char *pem = job_str(ctx, ctx->payload, card_csr_keys[u]);
		char request_id[64], serial[41];
		size_t csr_len = 0, der_len = 0;
		uint8_t *csr, *der;
		json_t *rec;

		if (!pem)
			goto out;
		if (!(csr = pem_decode(pem, "CERTIFICATE REQUEST", &csr_len))) {
			job_fail(ctx, 0, "%s is not a PEM certificate request", card_csr_keys[u]);
			goto out;
		}
		/* Keyed by this job: a retried or taken-over job gets the same certificates. */
		snprintf(request_id, sizeof request_id, "job%lld.%s", (long long)ctx->id, card_usages[u]);
		der = signer_client_sign(ctx, request_id, card_usages[u], csr, csr_len, subject, &der_len, serial);
		free(csr);
		if (!der)
			goto out;
		rec = card_cert_record(card_usages[u], serial, der, der_len);
		free(der);
		if (!rec) {
			job_fail(ctx, 0, "ca-signer returned an unreadable certificate");
			goto out;
		}
		json_object_set_new(rec, "request_id", json_string(request_id));
		json_array_append_new(certs, rec);
	}
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

	/* Another follow-up of the same challenge may have committed since prepare. */
	if (db_int(ctx->db, "SELECT 1 FROM jobs WHERE kind IN ('card_unlock', 'card_renew') AND state = 'done'"
	    " AND id <> ? AND json_extract(payload, '$.challenge_job') = ?", "ii", ctx->id,
	    json_integer_value(json_object_get(ctx->payload, "challenge_job"))) == 1)
		return job_fail(ctx, 0, "the card challenge was used already: start again");
	if (json_array_size(certs) != 2 || (order = card_renewal_order(ctx, old, card)) < 0)
		return json_array_size(certs) != 2 ? job_fail(ctx, 1, "renewal certificates missing") : -1;
	if (!(out = issue_store(ctx, order, certs)))
		return -1;
	/* The previous certificates stay valid until they expire (design: renewal overlaps). */
	*result = json_pack("{s:I,s:I,s:o}", "order", (json_int_t)order, "previous_order", (json_int_t)old,
	    "certs", out);
	return 0;
}
