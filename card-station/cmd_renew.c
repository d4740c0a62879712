/*
 * cmd_renew.c: `card-station renew --reader NAME --account ID [--lang en]`: new keys on
 * the card and a new pair of certificates, inside the renewal window (from
 * renewal.window_days before the certificates expire until they do; the back office
 * decides by its clock).
 *
 * Order of the steps, chosen so that a refusal never costs the card its keys: the website
 * password, the card and the window are checked (card_challenge) and the PIN is verified
 * before any key is generated. Then 9C and 9D get new keys of the same algorithm as before,
 * their requests are signed by the card, the back office issues (card_renew) and the new
 * certificates are written while the management key authentication still holds.
 *
 * The new keys replace the old ones in 9C and 9D; the old certificates are not kept in the
 * retired-key slots (82, 83). PIV has no command that moves a private key between slots,
 * so the old keys cannot follow their certificates there: keeping them would mean
 * generating the new keys in the retired slots, where the operating system does not look
 * for the current signature and encryption keys, or making keys off the card. The old
 * certificates stay valid at the CA until they expire (signatures made with them still
 * verify); what is lost is decrypting mail sent to the old encryption certificate, so the
 * station says so as it replaces the keys.
 */
#include "station.h"
#include "subscriber.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csr.h"
#include "log.h"
#include "pem.h"
#include "util.h"

/* Generate a key in SLOT and a card-signed request for it, as PEM (malloc'd). */
static char *renew_key(struct sub *s, uint8_t slot, enum piv_alg alg, const char *pin, EVP_PKEY **pub)
{
	X509_REQ *req = NULL;
	unsigned char *der = NULL;
	char cn[64], *pem = NULL;
	int n;
	piv_rc rc;

	snprintf(cn, sizeof cn, "PIV card %s", s->serial_text);
	if ((rc = piv_generate_key(s->p, slot, alg, pub)) != PIV_OK ||
	    (rc = piv_verify_pin(s->p, pin, NULL)) != PIV_OK ||
	    (rc = csr_build(s->p, slot, *pub, cn, &req)) != PIV_OK) {
		log_err("card %s: new key in %02X: %s", s->serial_text, slot, piv_strerror(rc));
		sub_say(s, SUB_CARD_ERROR, piv_strerror(rc));
		goto out;
	}
	if ((n = i2d_X509_REQ(req, &der)) > 0)
		pem = pem_encode("CERTIFICATE REQUEST", der, (size_t)n);
out:
	OPENSSL_free(der);
	X509_REQ_free(req);
	return pem;
}

/* 1 if the record's PEM certificate carries PUB. */
static int renew_matches(json_t *rec, EVP_PKEY *pub)
{
	X509 *x = pem_cert(json_string_value(json_object_get(rec, "pem")));
	int ok = x && EVP_PKEY_eq(X509_get0_pubkey(x), pub) == 1;

	X509_free(x);
	return ok;
}

int cmd_renew(struct station *st, int argc, char **argv)
{
	struct sub_args a;
	const char *reader, *account;
	struct sub s = { 0 };
	char password[256] = "", pin[32] = "", *sreq = NULL, *ereq = NULL, when[24];
	char host[64] = "station";
	json_t *chal = NULL, *res = NULL, *payload = NULL, *rec;
	EVP_PKEY *spub = NULL, *epub = NULL;
	X509 *old = NULL;
	enum piv_alg alg;
	int64_t job = 0;
	int tries = -1, ret = 1;
	size_t i;
	piv_rc rc;

	if (sub_args_parse(argc, argv, 1, &a) != 0)
		return 2;
	reader = a.reader;
	account = a.account;
	s.lang = a.lang;
	if (sub_secret(&s, SUB_ASK_PASSWORD, password, sizeof password) < 0 ||
	    sub_secret(&s, SUB_ASK_PIN, pin, sizeof pin) < 0)
		goto out;
	if (!piv_pin_valid(pin)) {
		sub_say(&s, SUB_PIN_POLICY);
		goto out;
	}
	if (sub_open(&s, st, reader) < 0)
		goto out;
	if ((rc = piv_read_cert(s.p, PIV_SLOT_SIGN, &old)) != PIV_OK) {
		sub_say(&s, rc == PIV_E_NOT_FOUND ? SUB_NOT_PERSONALIZED : SUB_CARD_ERROR, piv_strerror(rc));
		goto out;
	}
	alg = piv_alg_of(X509_get0_pubkey(old));
	if (alg != PIV_ALG_RSA2048 && alg != PIV_ALG_ECCP256)
		alg = PIV_ALG_RSA2048;
	chal = sub_challenge(&s, "renew", account, password, &job);
	OPENSSL_cleanse(password, sizeof password);
	if (!chal)
		goto out;
	/* The PIN before any key is replaced: a wrong one must not leave the card keyless. */
	rc = piv_verify_pin(s.p, pin, &tries);
	if (rc != PIV_OK) {
		if (rc == PIV_E_WRONG_PIN && tries > 0)
			sub_say(&s, SUB_PIN_WRONG, tries);
		else if (rc == PIV_E_WRONG_PIN || rc == PIV_E_PIN_BLOCKED)
			sub_say(&s, SUB_PIN_BLOCKED);
		else
			sub_say(&s, SUB_CARD_ERROR, piv_strerror(rc));
		goto out;
	}
	sub_say(&s, SUB_RENEW_OLD_KEYS);
	sub_say(&s, SUB_RENEW_KEYS);
	if (!(sreq = renew_key(&s, PIV_SLOT_SIGN, alg, pin, &spub)) ||
	    !(ereq = renew_key(&s, PIV_SLOT_KEYMGMT, alg, pin, &epub)))
		goto out;
	gethostname(host, sizeof host - 1);
	payload = json_pack("{s:I,s:s,s:O,s:s,s:s,s:s}", "challenge_job", (json_int_t)job, "card_serial",
	    s.serial_text, "response", json_object_get(chal, "response"), "sign_csr", sreq, "enc_csr", ereq,
	    "station", host);
	if (!(res = sub_submit(&s, "card_renew", payload)))
		goto out;
	json_array_foreach(json_object_get(res, "certs"), i, rec) {
		const char *u = json_string_value(json_object_get(rec, "usage")) ?: "";
		if (!renew_matches(rec, strcmp(u, "signature") == 0 ? spub : epub)) {
			log_err("the back office returned a %s certificate for another key", u);
			sub_say(&s, SUB_RENEW_WRITE_FAILED);
			goto out;
		}
	}
	if (download_write(&s, json_object_get(res, "certs")) < 0) {
		sub_say(&s, SUB_RENEW_WRITE_FAILED);
		goto out;
	}
	time_format((time_t)json_integer_value(json_object_get(json_array_get(json_object_get(res, "certs"), 0),
	    "not_after")), when, sizeof when);
	log_info("card %s: renewed (order %lld)", s.serial_text,
	    (long long)json_integer_value(json_object_get(res, "order")));
	sub_say(&s, SUB_RENEWED, when);
	ret = 0;
out:
	OPENSSL_cleanse(password, sizeof password);
	OPENSSL_cleanse(pin, sizeof pin);
	X509_free(old);
	EVP_PKEY_free(spub);
	EVP_PKEY_free(epub);
	free(sreq);
	free(ereq);
	json_decref(chal);
	json_decref(res);
	json_decref(payload);
	sub_close(&s);
	return ret;
}
