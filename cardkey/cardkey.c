/*
 * cardkey.c: the two questions ra-cardkey answers about a subscriber's card, with the card
 * master key that only it holds on the RA host (card-station's personalization keeps its
 * own copy in the personalization room).
 *
 *   CARD_CHALLENGE  decrypt the card's management-key witness under the card's derived
 *                   management key, and give the challenge the station sends the card.
 *   CARD_PROOF      check the card's answer (the challenge under its management key); if it
 *                   is right and a recipient key is given, release the card's PUK at the
 *                   version asked and the two after it, each sealed (lib/seal.c's box) to
 *                   that one-time X25519 key of the station.
 *
 * Rules: no derived key or PUK leaves in clear; every buffer that held one is wiped. The
 * challenge is derived from the master key, the card serial and the request id (the
 * challenge job's id), so asking again gives the same answer (idempotent, like the
 * signer's requests), nothing is kept between requests, and only a challenge this process
 * made can be answered: a worker cannot pick one whose answer it already knows. Whether a
 * challenge is recent, for the right account and not used before is the ledger's business
 * (workers/job_card.c); the PUK is released only to a card that proved it holds its key.
 */
#include "cardkey.h"
#include "b64.h"
#include "derive.h"
#include "log.h"
#include "seal.h"
#include "util.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define CARDKEY_BLOCK_MAX 16
#define CARDKEY_RID_MAX 40

struct cardkey {
	derive_t *master;
	enum derive_mgm_alg alg;
	const EVP_CIPHER *cipher;
};

cardkey_t *cardkey_new(const config_t *cfg)
{
	cardkey_t *k = xcalloc(1, sizeof *k);
	char *path = config_path(cfg, "cards.master_key_file");
	int a = derive_mgm_alg_parse(config_str(cfg, "card_station.mgm_key_alg"));

	if (a < 0) {
		log_err("card_station.mgm_key_alg must be 3des or aes128");
		goto fail;
	}
	k->alg = (enum derive_mgm_alg)a;
	k->cipher = k->alg == DERIVE_MGM_AES128 ? EVP_aes_128_ecb() : EVP_des_ede3_ecb();
	if (!(k->master = derive_new(path)))
		goto fail;
	free(path);
	return k;
fail:
	free(path);
	cardkey_destroy(&k);
	return NULL;
}

void cardkey_destroy(cardkey_t **pk)
{
	cardkey_t *k = pk ? *pk : NULL;

	if (!k)
		return;
	derive_destroy(&k->master);
	free(k);
	*pk = NULL;
}

/* One block IN of card SERIAL's management key into OUT: encrypt if ENC, else decrypt. 0/-1. */
static int cardkey_block(const cardkey_t *k, uint32_t serial, int enc, const uint8_t *in, uint8_t *out)
{
	uint8_t key[DERIVE_MGM_MAX];
	size_t klen = 0;
	int n = 0, bs = EVP_CIPHER_get_block_size(k->cipher), rc = -1;
	EVP_CIPHER_CTX *cx = NULL;

	if (derive_mgm_key(k->master, serial, k->alg, key, &klen) < 0)
		goto out;
	cx = EVP_CIPHER_CTX_new();
	if (!cx || EVP_CipherInit_ex(cx, k->cipher, NULL, key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(cx, 0) != 1 || EVP_CipherUpdate(cx, out, &n, in, bs) != 1 || n != bs)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(cx);
	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

static msg_t *cardkey_reply(const msg_t *req, enum msg_cmd cmd)
{
	msg_t *m = msg_new(cmd);
	m->routing = req->routing ? zframe_dup(req->routing) : NULL;
	return m;
}

static msg_t *cardkey_error(const msg_t *req, enum msg_err code, const char *text)
{
	msg_t *m = cardkey_reply(req, MSG_ERROR);
	msg_add_i64(m, code);
	msg_add_str(m, text);
	return m;
}

static msg_t *cardkey_json(const msg_t *req, json_t *j)
{
	msg_t *m = cardkey_reply(req, MSG_ANSWER);
	msg_add_json(m, j);
	json_decref(j);
	return m;
}

/* The request id (frame 0) and card serial (frame 1) of REQ; 0/-1. *rid is malloc'd. */
static int cardkey_ids(const msg_t *req, char **rid, uint32_t *serial)
{
	char *s = msg_str(req, 1), *end = NULL;
	unsigned long long v = 0;
	int ok = s && *s && isdigit((unsigned char)*s);

	*rid = msg_str(req, 0);
	if (ok) {
		v = strtoull(s, &end, 10);
		ok = !*end && v <= 0xffffffffULL;
	}
	for (const char *p = *rid; ok && p && *p; p++)
		ok = isalnum((unsigned char)*p) || strchr("._:-", *p);
	ok = ok && *rid && **rid && strlen(*rid) <= CARDKEY_RID_MAX;
	free(s);
	*serial = (uint32_t)v;
	return ok ? 0 : -1;
}

static msg_t *cardkey_on_challenge(cardkey_t *k, const msg_t *req)
{
	size_t bs = (size_t)EVP_CIPHER_get_block_size(k->cipher);
	uint8_t plain[CARDKEY_BLOCK_MAX], chal[CARDKEY_BLOCK_MAX];
	char whex[2 * CARDKEY_BLOCK_MAX + 1], chex[2 * CARDKEY_BLOCK_MAX + 1], *rid = NULL;
	uint32_t serial;
	msg_t *m;

	if (cardkey_ids(req, &rid, &serial) < 0) {
		m = cardkey_error(req, MERR_BAD_MESSAGE, "CARD_CHALLENGE needs a request id and a card serial");
		goto out;
	}
	if (msg_len(req, 2) != bs) {
		m = cardkey_error(req, MERR_REFUSED, "the witness is not one block of the cards' management-key cipher");
		goto out;
	}
	if (cardkey_block(k, serial, 0, msg_data(req, 2), plain) < 0 ||
	    derive_challenge(k->master, serial, rid, chal, bs) < 0) {
		m = cardkey_error(req, MERR_INTERNAL, "management-key derivation failed");
		goto out;
	}
	hex_encode(plain, bs, whex);
	hex_encode(chal, bs, chex);
	m = cardkey_json(req, json_pack("{s:s,s:s}", "witness", whex, "challenge", chex));
	log_info("card %u: challenge for request %s", serial, rid);
out:
	OPENSSL_cleanse(plain, sizeof plain);
	OPENSSL_cleanse(whex, sizeof whex);
	free(rid);
	return m;
}

/* The PUK of card SERIAL at VERSION sealed to PUB, base64 (malloc'd); NULL on failure. */
static char *cardkey_puk_sealed(const cardkey_t *k, uint32_t serial, int64_t version, EVP_PKEY *pub)
{
	char puk[DERIVE_PUK_LEN + 1] = "", *out = NULL;
	uint8_t *box = NULL;
	size_t box_len = 0;

	if (derive_puk_version(k->master, serial, version, puk) == 0 &&
	    seal_box(pub, (const uint8_t *)puk, strlen(puk), &box, &box_len) == 0)
		out = b64_encode(box, box_len);
	OPENSSL_cleanse(puk, sizeof puk);
	free(box);
	return out;
}

static msg_t *cardkey_on_proof(cardkey_t *k, const msg_t *req)
{
	size_t bs = (size_t)EVP_CIPHER_get_block_size(k->cipher), rlen = msg_len(req, 3);
	uint8_t chal[CARDKEY_BLOCK_MAX], expect[CARDKEY_BLOCK_MAX];
	char *rid = NULL, *puk[3] = { NULL, NULL, NULL };
	EVP_PKEY *pub = NULL;
	uint32_t serial;
	int ok = 0;
	int64_t version = msg_i64(req, 4, &ok);
	msg_t *m;

	if (cardkey_ids(req, &rid, &serial) < 0 || !ok) {
		m = cardkey_error(req, MERR_BAD_MESSAGE, "CARD_PROOF needs a request id, a card serial and a PUK version");
		goto out;
	}
	if (rlen != 0 && (rlen != 32 || version < 1 ||
	    !(pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, msg_data(req, 3), rlen)))) {
		m = cardkey_error(req, MERR_REFUSED, "the recipient is not an X25519 public key, or no PUK version was given");
		goto out;
	}
	if (derive_challenge(k->master, serial, rid, chal, bs) < 0 || cardkey_block(k, serial, 1, chal, expect) < 0) {
		m = cardkey_error(req, MERR_INTERNAL, "management-key derivation failed");
		goto out;
	}
	if (msg_len(req, 2) != bs || CRYPTO_memcmp(expect, msg_data(req, 2), bs) != 0) {
		log_warn("card %u: wrong answer to the challenge of request %s", serial, rid);
		m = cardkey_error(req, MERR_REFUSED, "the card did not prove its management key");
		goto out;
	}
	if (!pub) {
		m = cardkey_json(req, json_pack("{s:b}", "ok", 1));
		log_info("card %u: proved its management key (request %s)", serial, rid);
		goto out;
	}
	for (int i = 0; i < 3; i++)
		if (!(puk[i] = cardkey_puk_sealed(k, serial, version + i, pub))) {
			m = cardkey_error(req, MERR_INTERNAL, "cannot derive or seal the card's PUK");
			goto out;
		}
	m = cardkey_json(req, json_pack("{s:b,s:s,s:s,s:s}", "ok", 1, "sealed_puk", puk[0],
	    "sealed_next_puk", puk[1], "sealed_after_puk", puk[2]));
	log_info("card %u: PUK v%lld and the two after it released sealed (request %s)", serial,
	    (long long)version, rid);
out:
	OPENSSL_cleanse(expect, sizeof expect);
	EVP_PKEY_free(pub);
	for (int i = 0; i < 3; i++)
		free(puk[i]);
	free(rid);
	return m;
}

msg_t *cardkey_answer(cardkey_t *k, const msg_t *req)
{
	switch (req->cmd) {
	case MSG_CARD_CHALLENGE:
		return cardkey_on_challenge(k, req);
	case MSG_CARD_PROOF:
		return cardkey_on_proof(k, req);
	default:
		return cardkey_error(req, MERR_BAD_MESSAGE, "ra-cardkey answers CARD_CHALLENGE and CARD_PROOF only");
	}
}
