/*
 * sub_ops.c: the subscriber's card operations, one sequence each, whichever channel runs
 * them (card-station at the counter, card-agent on the subscriber's PC; see subscriber.h).
 *
 *   PIN change: old PIN, new PIN, confirm; on the card alone. A wrong old PIN shows the
 *       tries left; the card counts them, not this program.
 *   unlock / PIN reset: website password, new PIN, confirm. The back office checks the
 *       password (its lockout applies) and the card (card_challenge), then releases the
 *       card's PUK sealed to an X25519 key made here for this one operation (card_unlock),
 *       with the next PUK. The PUK is opened, used once to unblock and set the new PIN,
 *       and at once replaced on the card by the next one (card_puk records it), so a
 *       released PUK never works again; both are wiped, and the private key too.
 *   download: the certificates of the card's current order (card_challenge, purpose
 *       "download") written to 9C and 9D again: after an interrupted activation, or a
 *       renewal whose write failed. They are those the RA issued for this card's serial,
 *       so no key check is made: old certificates that no longer match must go anyway.
 *   renew: inside the renewal window (the back office decides by its clock). The
 *       password, card and window are checked and the PIN verified before any key is
 *       generated, so a refusal never costs the card its keys; then 9C and 9D get new
 *       keys of the same algorithm, the card signs their requests, the back office
 *       issues (card_renew) and the new certificates are written while the management
 *       key authentication still holds. The old keys are not kept in the retired-key
 *       slots: PIV cannot move a private key between slots, so mail sent to the old
 *       encryption certificate can no longer be decrypted, and the subscriber is told so.
 *   export: the two certificates and the CA chain as PEM files for a new computer; no PIN
 *       and no back office (certificates are public). Each certificate is checked to be
 *       issued by the chain exported with it before anything is written.
 */
#include "subscriber.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "csr.h"
#include "derive.h"
#include "log.h"
#include "pem.h"
#include "seal.h"
#include "util.h"

/* ---- PIN change ------------------------------------------------------------------------ */

int sub_pin_change(struct sub *s)
{
	char old[32] = "", pin[DERIVE_PIN_MAX + 1] = "";
	int tries = -1, ret = -1;
	piv_rc rc;

	if (sub_secret(s, SUB_ASK_OLD_PIN, old, sizeof old) < 0 || sub_new_pin(s, pin) < 0)
		goto out;
	if (strcmp(old, pin) == 0) {
		sub_say(s, SUB_PIN_SAME);
		goto out;
	}
	if (!piv_pin_valid(old)) {
		/* The card would count a malformed PIN as a wrong one. */
		sub_say(s, SUB_PIN_POLICY);
		goto out;
	}
	rc = piv_change_pin(s->p, old, pin, &tries);
	switch (rc) {
	case PIV_OK:
		sub_say(s, SUB_PIN_CHANGED);
		log_info("card %s: PIN changed", s->serial_text);
		ret = 0;
		break;
	case PIV_E_WRONG_PIN:
		sub_say(s, tries > 0 ? SUB_PIN_WRONG : SUB_PIN_BLOCKED, tries);
		break;
	case PIV_E_PIN_BLOCKED:
		sub_say(s, SUB_PIN_BLOCKED);
		break;
	default:
		sub_say(s, SUB_CARD_ERROR, piv_strerror(rc));
	}
out:
	OPENSSL_cleanse(old, sizeof old);
	OPENSSL_cleanse(pin, sizeof pin);
	return ret;
}

/* ---- unlock / PIN reset ------------------------------------------------------------------ */

/* A fresh X25519 key pair; *pub_b64 gets the raw public key in base64 (malloc'd). */
static EVP_PKEY *unlock_ephemeral(char **pub_b64)
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
static int unlock_puk_open(EVP_PKEY *eph, json_t *res, const char *name, char out[DERIVE_PUK_LEN + 1])
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
static int unlock_puk_rotate(struct sub *s, const char *puk, const char *next, int64_t version, json_t *res)
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

int sub_unlock(struct sub *s, const char *account)
{
	char password[256] = "", pin[DERIVE_PIN_MAX + 1] = "", *recipient = NULL;
	char puk[DERIVE_PUK_LEN + 1] = "", next[DERIVE_PUK_LEN + 1] = "", after[DERIVE_PUK_LEN + 1] = "";
	json_t *chal = NULL, *res = NULL, *payload = NULL;
	EVP_PKEY *eph = NULL;
	int64_t job = 0, version;
	int tries = -1, ret = -1;
	piv_rc rc;

	/* Everything typed first, so no back-office step is spent on a PIN the policy refuses. */
	if (sub_secret(s, SUB_ASK_PASSWORD, password, sizeof password) < 0 || sub_new_pin(s, pin) < 0)
		goto out;
	chal = sub_challenge(s, "unlock", account, password, &job);
	OPENSSL_cleanse(password, sizeof password);
	if (!chal)
		goto out;
	if (!(eph = unlock_ephemeral(&recipient))) {
		log_err("cannot make the one-time X25519 key");
		goto out;
	}
	payload = json_pack("{s:I,s:s,s:O,s:s}", "challenge_job", (json_int_t)job, "card_serial",
	    s->serial_text, "response", json_object_get(chal, "response"), "recipient", recipient);
	if (!(res = sub_submit(s, "card_unlock", payload)))
		goto out;
	sub_say(s, SUB_CARD_VERIFIED);
	if (unlock_puk_open(eph, res, "sealed_puk", puk) < 0 || unlock_puk_open(eph, res, "sealed_next_puk", next) < 0 ||
	    unlock_puk_open(eph, res, "sealed_after_puk", after) < 0) {
		log_err("the PUK from the back office cannot be opened");
		goto out;
	}
	version = json_integer_value(json_object_get(res, "puk_version"));
	rc = piv_unblock_pin(s->p, puk, pin, &tries);
	if (rc == PIV_E_WRONG_PIN && tries > 0) {
		/* The card already has the next PUK: an earlier unlock changed it, and its record
		 * was lost. That one is released now too, so it is replaced in turn. */
		log_warn("card %s: its PUK is one version ahead of the back office's record", s->serial_text);
		memcpy(puk, next, sizeof puk);
		memcpy(next, after, sizeof next);
		version++;
		rc = piv_unblock_pin(s->p, puk, pin, &tries);
	}
	if (rc != PIV_OK) {
		log_err("card %s: unblock refused: %s (PUK tries left: %d)", s->serial_text, piv_strerror(rc), tries);
		sub_say(s, SUB_CARD_ERROR, piv_strerror(rc));
		goto out;
	}
	log_info("card %s: unblocked with its PUK and a new PIN set", s->serial_text);
	if (unlock_puk_rotate(s, puk, next, version, res) < 0) {
		sub_say(s, SUB_CARD_ERROR, "the card's PUK could not be replaced; run unlock again");
		goto out;
	}
	sub_say(s, SUB_UNLOCKED);
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
	return ret;
}

/* ---- download ----------------------------------------------------------------------------- */

/* Parse PEM text into DER (OPENSSL_malloc'd) and the certificate. NULL if not one. */
static X509 *download_parse(const char *pem, uint8_t **der, int *len)
{
	X509 *x = pem_cert(pem);

	*der = NULL;
	if (x && (*len = i2d_X509(x, der)) <= 0) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

int download_write(struct sub *s, json_t *certs)
{
	json_t *c;
	size_t i;
	int done = 0;

	json_array_foreach(certs, i, c) {
		const char *usage = json_string_value(json_object_get(c, "usage")) ?: "";
		uint8_t slot = strcmp(usage, "signature") == 0 ? PIV_SLOT_SIGN :
		    strcmp(usage, "encryption") == 0 ? PIV_SLOT_KEYMGMT : 0;
		uint8_t *der = NULL;
		int len = 0;
		X509 *x = download_parse(json_string_value(json_object_get(c, "pem")) ?: "", &der, &len);
		piv_rc rc = PIV_E_ARG;

		if (slot && x)
			rc = piv_write_cert(s->p, slot, der, (size_t)len);
		X509_free(x);
		OPENSSL_free(der);
		if (rc != PIV_OK) {
			log_err("card %s: writing the %s certificate: %s", s->serial_text, usage, piv_strerror(rc));
			sub_say(s, SUB_CARD_ERROR, piv_strerror(rc));
			return -1;
		}
		done |= slot == PIV_SLOT_SIGN ? 1 : 2;
	}
	if (done != 3) {
		log_err("the back office sent %zu certificates, not one for each slot", json_array_size(certs));
		return -1;
	}
	return 0;
}

int sub_download(struct sub *s, const char *account)
{
	char password[256] = "";
	json_t *res = NULL;
	int64_t job = 0;
	int ret = -1;

	if (sub_secret(s, SUB_ASK_PASSWORD, password, sizeof password) < 0)
		goto out;
	res = sub_challenge(s, "download", account, password, &job);
	OPENSSL_cleanse(password, sizeof password);
	if (!res || download_write(s, json_object_get(res, "certs")) < 0)
		goto out;
	log_info("card %s: certificates of order %lld written again", s->serial_text,
	    (long long)json_integer_value(json_object_get(res, "order")));
	sub_say(s, SUB_CERTS_WRITTEN);
	ret = 0;
out:
	OPENSSL_cleanse(password, sizeof password);
	json_decref(res);
	return ret;
}

/* ---- renew -------------------------------------------------------------------------------- */

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

int sub_renew(struct sub *s, const char *account)
{
	char password[256] = "", pin[32] = "", *sreq = NULL, *ereq = NULL, when[24];
	json_t *chal = NULL, *res = NULL, *payload = NULL, *rec;
	EVP_PKEY *spub = NULL, *epub = NULL;
	X509 *old = NULL;
	enum piv_alg alg;
	int64_t job = 0;
	int tries = -1, ret = -1;
	size_t i;
	piv_rc rc;

	if (sub_secret(s, SUB_ASK_PASSWORD, password, sizeof password) < 0 ||
	    sub_secret(s, SUB_ASK_PIN, pin, sizeof pin) < 0)
		goto out;
	if (!piv_pin_valid(pin)) {
		sub_say(s, SUB_PIN_POLICY);
		goto out;
	}
	if ((rc = piv_read_cert(s->p, PIV_SLOT_SIGN, &old)) != PIV_OK) {
		sub_say(s, rc == PIV_E_NOT_FOUND ? SUB_NOT_PERSONALIZED : SUB_CARD_ERROR, piv_strerror(rc));
		goto out;
	}
	alg = piv_alg_of(X509_get0_pubkey(old));
	if (alg != PIV_ALG_RSA2048 && alg != PIV_ALG_ECCP256)
		alg = PIV_ALG_RSA2048;
	chal = sub_challenge(s, "renew", account, password, &job);
	OPENSSL_cleanse(password, sizeof password);
	if (!chal)
		goto out;
	/* The PIN before any key is replaced: a wrong one must not leave the card keyless. */
	rc = piv_verify_pin(s->p, pin, &tries);
	if (rc != PIV_OK) {
		if (rc == PIV_E_WRONG_PIN && tries > 0)
			sub_say(s, SUB_PIN_WRONG, tries);
		else if (rc == PIV_E_WRONG_PIN || rc == PIV_E_PIN_BLOCKED)
			sub_say(s, SUB_PIN_BLOCKED);
		else
			sub_say(s, SUB_CARD_ERROR, piv_strerror(rc));
		goto out;
	}
	sub_say(s, SUB_RENEW_OLD_KEYS);
	sub_say(s, SUB_RENEW_KEYS);
	if (!(sreq = renew_key(s, PIV_SLOT_SIGN, alg, pin, &spub)) ||
	    !(ereq = renew_key(s, PIV_SLOT_KEYMGMT, alg, pin, &epub)))
		goto out;
	payload = json_pack("{s:I,s:s,s:O,s:s,s:s,s:s}", "challenge_job", (json_int_t)job, "card_serial",
	    s->serial_text, "response", json_object_get(chal, "response"), "sign_csr", sreq, "enc_csr", ereq,
	    "station", s->producer ? s->producer : "station");
	if (!(res = sub_submit(s, "card_renew", payload)))
		goto out;
	json_array_foreach(json_object_get(res, "certs"), i, rec) {
		const char *u = json_string_value(json_object_get(rec, "usage")) ?: "";
		if (!renew_matches(rec, strcmp(u, "signature") == 0 ? spub : epub)) {
			log_err("the back office returned a %s certificate for another key", u);
			sub_say(s, SUB_RENEW_WRITE_FAILED);
			goto out;
		}
	}
	if (download_write(s, json_object_get(res, "certs")) < 0) {
		sub_say(s, SUB_RENEW_WRITE_FAILED);
		goto out;
	}
	time_format((time_t)json_integer_value(json_object_get(json_array_get(json_object_get(res, "certs"), 0),
	    "not_after")), when, sizeof when);
	log_info("card %s: renewed (order %lld)", s->serial_text,
	    (long long)json_integer_value(json_object_get(res, "order")));
	sub_say(s, SUB_RENEWED, when);
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
	return ret;
}

/* ---- export ------------------------------------------------------------------------------- */

/* Write TEXT to PATH atomically and say so. 0/-1. */
static int export_write(struct sub *s, const char *path, const char *text)
{
	if (!text || file_write_atomic(path, text, strlen(text), 0644) < 0) {
		log_err("cannot write %s", path);
		return -1;
	}
	sub_say(s, SUB_EXPORTED, path);
	return 0;
}

/* The CA certificates of PEM text. NULL if none (logged). */
static STACK_OF(X509_INFO) *export_chain(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	STACK_OF(X509_INFO) *chain = b ? PEM_X509_INFO_read_bio(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (!chain || sk_X509_INFO_num(chain) == 0 || !sk_X509_INFO_value(chain, 0)->x509) {
		log_err("no CA certificate in the chain given");
		sk_X509_INFO_pop_free(chain, X509_INFO_free);
		return NULL;
	}
	return chain;
}

/* 1 if X was signed by one of CHAIN's certificates. */
static int export_issued_by(X509 *x, STACK_OF(X509_INFO) *chain)
{
	for (int i = 0; i < sk_X509_INFO_num(chain); i++) {
		X509 *ca = sk_X509_INFO_value(chain, i)->x509;
		if (ca && X509_check_issued(ca, x) == X509_V_OK && X509_verify(x, X509_get0_pubkey(ca)) == 1)
			return 1;
	}
	return 0;
}

int sub_export(struct sub *s, const char *chain_pem, const char *dir)
{
	static const struct { uint8_t slot; const char *name; } slots[2] = {
		{ PIV_SLOT_SIGN, "signature" }, { PIV_SLOT_KEYMGMT, "encryption" },
	};
	STACK_OF(X509_INFO) *chain = NULL;
	X509 *certs[2] = { NULL, NULL };
	char *path = NULL, *text = NULL;
	int ret = -1;
	piv_rc rc;

	if (!(chain = export_chain(chain_pem)))
		goto out;
	for (int i = 0; i < 2; i++) {
		rc = piv_read_cert(s->p, slots[i].slot, &certs[i]);
		if (rc != PIV_OK) {
			sub_say(s, rc == PIV_E_NOT_FOUND ? SUB_NOT_PERSONALIZED : SUB_CARD_ERROR, piv_strerror(rc));
			goto out;
		}
		if (!export_issued_by(certs[i], chain)) {
			log_err("card %s: the %s certificate was not issued by the CA exported with it", s->serial_text,
			    slots[i].name);
			sub_say(s, SUB_CARD_ERROR, "the certificate was not issued by this CA");
			goto out;
		}
	}
	if (mkdir_p(dir, 0755) < 0) {
		log_err("cannot make %s", dir);
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		free(path);
		free(text);
		path = xasprintf("%s/card-%s-%s.pem", dir, s->serial_text, slots[i].name);
		text = pem_cert_text(certs[i]);
		if (export_write(s, path, text) < 0)
			goto out;
	}
	free(text);
	text = xstrdup("");
	for (int i = 0; i < sk_X509_INFO_num(chain); i++) {
		char *one = sk_X509_INFO_value(chain, i)->x509 ? pem_cert_text(sk_X509_INFO_value(chain, i)->x509) : NULL;
		char *t = xasprintf("%s%s", text, one ? one : "");
		free(text);
		free(one);
		text = t;
	}
	free(path);
	path = xasprintf("%s/ca-chain.pem", dir);
	if (export_write(s, path, text) < 0)
		goto out;
	ret = 0;
out:
	X509_free(certs[0]);
	X509_free(certs[1]);
	sk_X509_INFO_pop_free(chain, X509_INFO_free);
	free(path);
	free(text);
	return ret;
}
