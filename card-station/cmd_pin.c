/*
 * cmd_pin.c: the card PIN, by the subscriber.
 *
 *   card-station pin-change --reader NAME [--lang en]
 *       old PIN, new PIN, confirm; on the card alone. A wrong old PIN shows the tries
 *       left; the card counts them, not the station.
 *   card-station unlock | pin-reset --reader NAME --account ID [--lang en]
 *       website password, new PIN, confirm. The back office checks the password (its
 *       lockout applies) and the card (card_challenge), then releases the card's PUK sealed
 *       to an X25519 key made here for this one operation (card_unlock), with the next PUK.
 *       The PUK is opened, used once to unblock and set the new PIN, and at once replaced
 *       on the card by the next one (card_puk records it), so a released PUK never works
 *       again; both are wiped, and the private key too.
 *
 * Secrets come from the terminal without echo, or from stdin lines in scripts; never from
 * the command line, which other users can read.
 */
#include "station.h"
#include "subscriber.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "log.h"
#include "seal.h"
#include "util.h"

int cmd_pin_change(struct station *st, int argc, char **argv)
{
	struct sub_args a;
	struct sub s = { 0 };
	char old[32] = "", pin[DERIVE_PIN_MAX + 1] = "";
	int tries = -1, ret;
	piv_rc rc;

	if ((ret = sub_args_parse(argc, argv, 0, &a)) != 0)
		return ret;
	ret = 1;
	s.lang = a.lang;
	if (sub_secret(&s, SUB_ASK_OLD_PIN, old, sizeof old) < 0 || sub_new_pin(&s, pin) < 0)
		goto out;
	if (strcmp(old, pin) == 0) {
		sub_say(&s, SUB_PIN_SAME);
		goto out;
	}
	if (sub_open(&s, st, a.reader) < 0)
		goto out;
	if (!piv_pin_valid(old)) {
		/* The card would count a malformed PIN as a wrong one. */
		sub_say(&s, SUB_PIN_POLICY);
		goto out;
	}
	rc = piv_change_pin(s.p, old, pin, &tries);
	switch (rc) {
	case PIV_OK:
		sub_say(&s, SUB_PIN_CHANGED);
		log_info("card %s: PIN changed", s.serial_text);
		ret = 0;
		break;
	case PIV_E_WRONG_PIN:
		sub_say(&s, tries > 0 ? SUB_PIN_WRONG : SUB_PIN_BLOCKED, tries);
		break;
	case PIV_E_PIN_BLOCKED:
		sub_say(&s, SUB_PIN_BLOCKED);
		break;
	default:
		sub_say(&s, SUB_CARD_ERROR, piv_strerror(rc));
	}
out:
	OPENSSL_cleanse(old, sizeof old);
	OPENSSL_cleanse(pin, sizeof pin);
	sub_close(&s);
	return ret;
}

/* A fresh X25519 key pair; *pub_b64 gets the raw public key in base64 (malloc'd). */
static EVP_PKEY *pin_ephemeral(char **pub_b64)
{
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
	EVP_PKEY *k = NULL;
	uint8_t raw[32];
	size_t len = sizeof raw;

	if (!kc || EVP_PKEY_keygen_init(kc) <= 0 || EVP_PKEY_keygen(kc, &k) <= 0 ||
	    EVP_PKEY_get_raw_public_key(k, raw, &len) <= 0 || len != sizeof raw) {
		EVP_PKEY_free(k);
		k = NULL;
	} else {
		*pub_b64 = b64_encode(raw, len);
	}
	EVP_PKEY_CTX_free(kc);
	return k;
}

/* Open the PUK sealed in member NAME of RES to EPH into OUT (DERIVE_PUK_LEN + 1). 0/-1. */
static int pin_puk_open(EVP_PKEY *eph, json_t *res, const char *name, char out[DERIVE_PUK_LEN + 1])
{
	uint8_t *box = NULL, *puk = NULL;
	size_t box_len = 0, puk_len = 0;
	int rc = -1;

	if (b64_decode(json_string_value(json_object_get(res, name)) ?: "", &box, &box_len) == 0 &&
	    seal_open(eph, box, box_len, &puk, &puk_len) == 0 && puk_len == DERIVE_PUK_LEN) {
		memcpy(out, puk, DERIVE_PUK_LEN);
		out[DERIVE_PUK_LEN] = '\0';
		rc = 0;
	}
	if (puk)
		OPENSSL_cleanse(puk, puk_len);
	free(puk);
	free(box);
	return rc;
}

/* Replace the PUK that unblocked the card (VERSION) by the next one and have the back
 * office record it (card_puk). 0/-1 (logged). */
static int pin_puk_rotate(struct sub *s, const char *puk, const char *next, int64_t version, json_t *res)
{
	json_t *payload, *done;
	int tries = -1;
	piv_rc rc = piv_change_puk(s->p, puk, next, &tries);

	if (rc != PIV_OK) {
		log_err("card %s: the released PUK could not be replaced: %s", s->serial_text, piv_strerror(rc));
		return -1;
	}
	payload = json_pack("{s:s,s:O,s:I}", "card_serial", s->serial_text, "unlock_job", json_object_get(res, "job"),
	    "puk_version", (json_int_t)(version + 1));
	done = sub_submit(s, "card_puk", payload);
	json_decref(payload);
	if (!done) {
		log_err("card %s: its PUK was replaced, but the back office did not record it", s->serial_text);
		return -1;
	}
	log_info("card %s: PUK replaced (version %lld)", s->serial_text,
	    (long long)json_integer_value(json_object_get(done, "puk_version")));
	json_decref(done);
	return 0;
}

int cmd_unlock(struct station *st, int argc, char **argv)
{
	struct sub_args a;
	struct sub s = { 0 };
	char password[256] = "", pin[DERIVE_PIN_MAX + 1] = "", *recipient = NULL;
	char puk[DERIVE_PUK_LEN + 1] = "", next[DERIVE_PUK_LEN + 1] = "", after[DERIVE_PUK_LEN + 1] = "";
	int64_t version;
	json_t *chal = NULL, *res = NULL, *payload = NULL;
	EVP_PKEY *eph = NULL;
	int64_t job = 0;
	int tries = -1, ret;
	piv_rc rc;

	if ((ret = sub_args_parse(argc, argv, 1, &a)) != 0)
		return ret;
	ret = 1;
	s.lang = a.lang;
	/* Everything typed first, so no back-office step is spent on a PIN the policy refuses. */
	if (sub_secret(&s, SUB_ASK_PASSWORD, password, sizeof password) < 0 || sub_new_pin(&s, pin) < 0)
		goto out;
	if (sub_open(&s, st, a.reader) < 0)
		goto out;
	chal = sub_challenge(&s, "unlock", a.account, password, &job);
	OPENSSL_cleanse(password, sizeof password);
	if (!chal)
		goto out;
	if (!(eph = pin_ephemeral(&recipient))) {
		log_err("cannot make the one-time X25519 key");
		goto out;
	}
	payload = json_pack("{s:I,s:s,s:O,s:s}", "challenge_job", (json_int_t)job, "card_serial",
	    s.serial_text, "response", json_object_get(chal, "response"), "recipient", recipient);
	if (!(res = sub_submit(&s, "card_unlock", payload)))
		goto out;
	sub_say(&s, SUB_CARD_VERIFIED);
	if (pin_puk_open(eph, res, "sealed_puk", puk) < 0 || pin_puk_open(eph, res, "sealed_next_puk", next) < 0 ||
	    pin_puk_open(eph, res, "sealed_after_puk", after) < 0) {
		log_err("the PUK from the back office cannot be opened");
		goto out;
	}
	version = json_integer_value(json_object_get(res, "puk_version"));
	rc = piv_unblock_pin(s.p, puk, pin, &tries);
	if (rc == PIV_E_WRONG_PIN && tries > 0) {
		/* The card already has the next PUK: an earlier unlock changed it, and its record
		 * was lost. That one is released now too, so it is replaced in turn. */
		log_warn("card %s: its PUK is one version ahead of the back office's record", s.serial_text);
		memcpy(puk, next, sizeof puk);
		memcpy(next, after, sizeof next);
		version++;
		rc = piv_unblock_pin(s.p, puk, pin, &tries);
	}
	if (rc != PIV_OK) {
		log_err("card %s: unblock refused: %s (PUK tries left: %d)", s.serial_text, piv_strerror(rc), tries);
		sub_say(&s, SUB_CARD_ERROR, piv_strerror(rc));
		goto out;
	}
	log_info("card %s: unblocked with its PUK and a new PIN set", s.serial_text);
	if (pin_puk_rotate(&s, puk, next, version, res) < 0) {
		sub_say(&s, SUB_CARD_ERROR, "the card's PUK could not be replaced; run unlock again");
		goto out;
	}
	sub_say(&s, SUB_UNLOCKED);
	ret = 0;
out:
	OPENSSL_cleanse(puk, sizeof puk);
	OPENSSL_cleanse(next, sizeof next);
	OPENSSL_cleanse(after, sizeof after);
	OPENSSL_cleanse(password, sizeof password);
	OPENSSL_cleanse(pin, sizeof pin);
	EVP_PKEY_free(eph);	/* frees (and clears) the one-time private key */
	free(recipient);
	json_decref(chal);
	json_decref(res);
	json_decref(payload);
	sub_close(&s);
	return ret;
}
