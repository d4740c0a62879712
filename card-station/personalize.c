/*
 * personalize.c: the card's life-cycle sequences, as straight-line steps.
 *
 * personalize: the whole sequence runs in one PC/SC transaction, so the management key
 * authentication holds from the first step to the last and no other program can slip a
 * command in between. Only blank cards are taken: a card stopped half way (set aside) is
 * wiped first, which keeps this sequence free of "which steps already happened" guesses
 * that could spend PUK tries.
 *
 * wipe: PIV has no command to delete a private key; overwriting objects would leave the
 * old keys in 9C and 9D, and restoring the factory PIN, PUK and management key would take
 * three more commands that can each fail half way. The YubiKey RESET (00 FB) does all of
 * it at once, and the card allows it only when PIN and PUK are both blocked, so wipe
 * blocks them first. The derived management key is used to check that the card is ours
 * before destroying anything on it.
 *
 * The PIN retry limit comes first, while the card is still blank: PIV has no command for
 * it, the YubiKey SET PIN RETRIES puts PIN and PUK back to the factory values (so it must
 * precede the PUK change), and a card that refuses it or does not keep it is turned away
 * untouched. The limit is read back as a relying tool would, with VERIFY without data
 * after forgetting the verification, and the PUK's with GET METADATA where the card has it.
 *
 * Secrets (derived key, PUK) live in stack buffers wiped at the single exit.
 */
#include "personalize.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csr.h"
#include "log.h"
#include "util.h"

static void perso_step(perso_progress_fn fn, void *ctx, piv_t *p, const char *step)
{
	log_debug("%s: %s", piv_reader(p), step);
	if (fn)
		fn(ctx, piv_reader(p), step);
}

static enum piv_alg perso_piv_alg(enum derive_mgm_alg a)
{
	return a == DERIVE_MGM_AES128 ? PIV_ALG_AES128 : PIV_ALG_3DES;
}

/* Verify the PIN, then build the request for SLOT as DER. */
static piv_rc perso_request(piv_t *p, const char *pin, uint8_t slot, EVP_PKEY *pub,
    const char *cn, uint8_t **der, size_t *len)
{
	X509_REQ *req = NULL;
	piv_rc rc;

	rc = piv_verify_pin(p, pin, NULL);
	if (rc != PIV_OK)
		return rc;
	rc = csr_build(p, slot, pub, cn, &req);
	if (rc != PIV_OK)
		return rc;
	if (csr_der(req, der, len) < 0)
		rc = PIV_E_CRYPTO;
	X509_REQ_free(req);
	return rc;
}

/* Parse a certificate the issuer returned and check it carries PUB. */
/* Set the PIN and PUK retry limits on the blank card P (factory key authenticated). */
static piv_rc perso_retries(piv_t *p, uint32_t serial, int puk_retries)
{
	int tries = -1, max = 0, left = 0;
	piv_rc rc;

	if ((rc = piv_verify_pin(p, PIV_FACTORY_PIN, NULL)) != PIV_OK ||
	    (rc = piv_set_pin_retries(p, PERSO_PIN_RETRIES, puk_retries)) != PIV_OK) {
		log_err("%s: card %u will not take PIN retry limit %d: %s", piv_reader(p), serial,
		    PERSO_PIN_RETRIES, piv_strerror(rc));
		return rc;
	}
	if ((rc = piv_pin_logout(p)) != PIV_OK || (rc = piv_pin_tries(p, &tries)) != PIV_OK)
		return rc;
	if (tries != PERSO_PIN_RETRIES) {
		log_err("%s: card %u reads back %d PIN tries, not %d", piv_reader(p), serial, tries,
		    PERSO_PIN_RETRIES);
		return PIV_E_VERIFY;
	}
	rc = piv_pin_metadata(p, PIV_REF_PUK, &max, &left);
	if (rc == PIV_E_NOT_SUPPORTED) {
		log_info("%s: card %u cannot tell its PUK limit; PIN limit checked", piv_reader(p),
		    serial);
		return PIV_OK;
	}
	if (rc != PIV_OK)
		return rc;
	if (max != puk_retries || left != puk_retries) {
		log_err("%s: card %u reads back PUK limit %d (%d left), not %d", piv_reader(p),
		    serial, max, left, puk_retries);
		return PIV_E_VERIFY;
	}
	return PIV_OK;
}

static piv_rc perso_check_cert(const uint8_t *der, size_t len, EVP_PKEY *pub, X509 **out)
{
	const uint8_t *q = der;
	X509 *c = d2i_X509(NULL, &q, (long)len);

	*out = NULL;
	if (!c || q != der + len) {
		X509_free(c);
		log_err("the issuer returned a malformed certificate");
		return PIV_E_ISSUE;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(c), pub) != 1) {
		X509_free(c);
		log_err("the issuer returned a certificate for another key");
		return PIV_E_ISSUE;
	}
	*out = c;
	return PIV_OK;
}

/* Read SLOT's certificate back and compare it with the DER written. */
static piv_rc perso_read_back(piv_t *p, uint8_t slot, const uint8_t *der, size_t len)
{
	X509 *c = NULL;
	uint8_t *back = NULL;
	int n;
	piv_rc rc = piv_read_cert(p, slot, &c);

	if (rc != PIV_OK)
		return rc;
	n = i2d_X509(c, &back);
	if (n <= 0 || (size_t)n != len || memcmp(back, der, len) != 0) {
		log_err("%s: certificate %02X read back differs from the one written", piv_reader(p),
		    slot);
		rc = PIV_E_VERIFY;
	}
	OPENSSL_free(back);
	X509_free(c);
	return rc;
}

/* Have 9C sign a random challenge and check it with the certificate's key. */
static piv_rc perso_self_test(piv_t *p, const char *pin, X509 *cert)
{
	uint8_t chal[32], digest[SHA256_DIGEST_LENGTH], *sig = NULL;
	size_t siglen = 0;
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	EVP_PKEY_CTX *vctx = NULL;
	piv_rc rc;

	if (RAND_bytes(chal, sizeof chal) != 1 || !SHA256(chal, sizeof chal, digest))
		return PIV_E_CRYPTO;
	rc = piv_verify_pin(p, pin, NULL);
	if (rc != PIV_OK)
		goto out;
	rc = piv_sign_digest(p, PIV_SLOT_SIGN, pub, NID_sha256, digest, sizeof digest, &sig, &siglen);
	if (rc != PIV_OK)
		goto out;
	vctx = EVP_PKEY_CTX_new(pub, NULL);
	if (!vctx || EVP_PKEY_verify_init(vctx) <= 0 ||
	    (piv_alg_of(pub) == PIV_ALG_RSA2048 &&
		EVP_PKEY_CTX_set_rsa_padding(vctx, RSA_PKCS1_PADDING) <= 0) ||
	    EVP_PKEY_CTX_set_signature_md(vctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_verify(vctx, sig, siglen, digest, sizeof digest) != 1) {
		log_err("%s: the card's signature does not verify with its certificate", piv_reader(p));
		rc = PIV_E_VERIFY;
	}
out:
	EVP_PKEY_CTX_free(vctx);
	free(sig);
	return rc;
}

piv_rc perso_run(piv_t *p, const struct perso_opts *o, uint32_t *serial_out)
{
	uint8_t mgm[DERIVE_MGM_MAX], guid[16], card_id[14];
	char puk[DERIVE_PUK_LEN + 1] = "", cn[64];
	size_t mgm_len = 0, sreq_len = 0, ereq_len = 0, scert_len = 0, ecert_len = 0;
	uint8_t *sreq = NULL, *ereq = NULL, *scert = NULL, *ecert = NULL;
	EVP_PKEY *spub = NULL, *epub = NULL;
	X509 *sx = NULL, *ex = NULL;
	enum piv_card_state state;
	enum piv_alg malg = perso_piv_alg(o->mgm_alg);
	enum piv_alg kalg = o->key_alg ? o->key_alg : PIV_ALG_RSA2048;
	uint32_t serial = 0;
	int began = 0;
	piv_rc rc;

	int puk_retries = o->puk_retries ? o->puk_retries : 3;

	if (!piv_pin_valid(o->pin) || !o->issue || !o->derive || puk_retries < 1 ||
	    puk_retries > 15 ||
	    (kalg != PIV_ALG_RSA2048 && kalg != PIV_ALG_ECCP256)) {
		rc = PIV_E_ARG;
		goto out;
	}
	perso_step(o->progress, o->progress_ctx, p, "select");
	rc = piv_begin(p);
	if (rc != PIV_OK)
		goto out;
	began = 1;
	if ((rc = piv_select(p)) != PIV_OK || (rc = piv_get_serial(p, &serial)) != PIV_OK)
		goto out;
	if (serial_out)
		*serial_out = serial;
	if ((rc = piv_classify(p, &state)) != PIV_OK)
		goto out;
	if (state != PIV_STATE_BLANK) {
		log_err("%s: card %u is %s, not blank: wipe it first", piv_reader(p), serial,
		    piv_state_name(state));
		rc = PIV_E_CONDITIONS;
		goto out;
	}
	if (derive_mgm_key(o->derive, serial, o->mgm_alg, mgm, &mgm_len) < 0 ||
	    derive_puk(o->derive, serial, puk) < 0) {
		rc = PIV_E_CRYPTO;
		goto out;
	}

	perso_step(o->progress, o->progress_ctx, p, "authenticate");
	if ((rc = piv_authenticate(p, PIV_ALG_3DES, PIV_FACTORY_MGM, sizeof PIV_FACTORY_MGM)))
		goto out;
	perso_step(o->progress, o->progress_ctx, p, "set PIN retries");
	if ((rc = perso_retries(p, serial, puk_retries)) != PIV_OK)
		goto out;
	perso_step(o->progress, o->progress_ctx, p, "set management key");
	if ((rc = piv_set_mgm_key(p, malg, mgm, mgm_len)) != PIV_OK ||
	    (rc = piv_authenticate(p, malg, mgm, mgm_len)) != PIV_OK)
		goto out;
	perso_step(o->progress, o->progress_ctx, p, "set PUK");
	if ((rc = piv_change_puk(p, PIV_FACTORY_PUK, puk, NULL)) != PIV_OK)
		goto out;

	perso_step(o->progress, o->progress_ctx, p, "generate 9C");
	if ((rc = piv_generate_key(p, PIV_SLOT_SIGN, kalg, &spub)) != PIV_OK)
		goto out;
	perso_step(o->progress, o->progress_ctx, p, "generate 9D");
	if ((rc = piv_generate_key(p, PIV_SLOT_KEYMGMT, kalg, &epub)) != PIV_OK)
		goto out;

	if (o->common_name)
		snprintf(cn, sizeof cn, "%s", o->common_name);
	else
		snprintf(cn, sizeof cn, "PIV card %u", serial);
	perso_step(o->progress, o->progress_ctx, p, "request 9C");
	rc = perso_request(p, PIV_FACTORY_PIN, PIV_SLOT_SIGN, spub, cn, &sreq, &sreq_len);
	if (rc != PIV_OK)
		goto out;
	perso_step(o->progress, o->progress_ctx, p, "request 9D");
	rc = perso_request(p, PIV_FACTORY_PIN, PIV_SLOT_KEYMGMT, epub, cn, &ereq, &ereq_len);
	if (rc != PIV_OK)
		goto out;

	perso_step(o->progress, o->progress_ctx, p, "issue");
	if (o->issue(o->issue_ctx, serial, sreq, sreq_len, ereq, ereq_len, &scert, &scert_len,
		&ecert, &ecert_len) < 0 || !scert || !ecert) {
		rc = PIV_E_ISSUE;
		goto out;
	}
	if ((rc = perso_check_cert(scert, scert_len, spub, &sx)) != PIV_OK ||
	    (rc = perso_check_cert(ecert, ecert_len, epub, &ex)) != PIV_OK)
		goto out;

	perso_step(o->progress, o->progress_ctx, p, "write certificates");
	/* Authenticate again: the issuer may have taken long enough for a card to forget. */
	if ((rc = piv_authenticate(p, malg, mgm, mgm_len)) != PIV_OK ||
	    (rc = piv_write_cert(p, PIV_SLOT_SIGN, scert, scert_len)) != PIV_OK ||
	    (rc = piv_write_cert(p, PIV_SLOT_KEYMGMT, ecert, ecert_len)) != PIV_OK)
		goto out;
	perso_step(o->progress, o->progress_ctx, p, "write CHUID and CCC");
	if (RAND_bytes(guid, sizeof guid) != 1 || RAND_bytes(card_id, sizeof card_id) != 1) {
		rc = PIV_E_CRYPTO;
		goto out;
	}
	{
		time_t expiry = 0;
		struct tm tm;
		/* The card expires with its signature certificate. */
		if (ASN1_TIME_to_tm(X509_get0_notAfter(sx), &tm) != 1) {
			rc = PIV_E_ISSUE;
			goto out;
		}
		expiry = timegm(&tm);
		if ((rc = piv_write_chuid(p, serial, guid, expiry)) != PIV_OK ||
		    (rc = piv_write_ccc(p, card_id)) != PIV_OK)
			goto out;
	}

	perso_step(o->progress, o->progress_ctx, p, "set PIN");
	if ((rc = piv_change_pin(p, PIV_FACTORY_PIN, o->pin, NULL)) != PIV_OK)
		goto out;

	perso_step(o->progress, o->progress_ctx, p, "read back");
	if ((rc = perso_read_back(p, PIV_SLOT_SIGN, scert, scert_len)) != PIV_OK ||
	    (rc = perso_read_back(p, PIV_SLOT_KEYMGMT, ecert, ecert_len)) != PIV_OK)
		goto out;
	perso_step(o->progress, o->progress_ctx, p, "self-test");
	if ((rc = perso_self_test(p, o->pin, sx)) != PIV_OK)
		goto out;
	perso_step(o->progress, o->progress_ctx, p, "done");
out:
	if (rc != PIV_OK)
		log_err("%s: personalization of card %u stopped: %s", piv_reader(p), serial,
		    piv_strerror(rc));
	if (began)
		piv_end(p);
	OPENSSL_cleanse(mgm, sizeof mgm);
	OPENSSL_cleanse(puk, sizeof puk);
	EVP_PKEY_free(spub);
	EVP_PKEY_free(epub);
	X509_free(sx);
	X509_free(ex);
	OPENSSL_free(sreq);
	OPENSSL_free(ereq);
	free(scert);
	free(ecert);
	return rc;
}

piv_rc perso_wipe(piv_t *p, const derive_t *d, enum derive_mgm_alg mgm_alg, int force,
    perso_progress_fn progress, void *progress_ctx)
{
	uint8_t mgm[DERIVE_MGM_MAX];
	size_t mgm_len = 0;
	enum piv_card_state state;
	uint32_t serial = 0;
	int began = 0;
	piv_rc rc;

	perso_step(progress, progress_ctx, p, "select");
	rc = piv_begin(p);
	if (rc != PIV_OK)
		goto out;
	began = 1;
	if ((rc = piv_select(p)) != PIV_OK || (rc = piv_get_serial(p, &serial)) != PIV_OK)
		goto out;

	perso_step(progress, progress_ctx, p, "check owner");
	if (derive_mgm_key(d, serial, mgm_alg, mgm, &mgm_len) < 0) {
		rc = PIV_E_CRYPTO;
		goto out;
	}
	rc = piv_authenticate(p, perso_piv_alg(mgm_alg), mgm, mgm_len);
	if (rc == PIV_E_AUTH || rc == PIV_E_NOT_SUPPORTED)
		rc = piv_authenticate(p, PIV_ALG_3DES, PIV_FACTORY_MGM, sizeof PIV_FACTORY_MGM);
	if (rc == PIV_E_AUTH || rc == PIV_E_NOT_SUPPORTED) {
		if (!force) {
			log_err("%s: card %u answers to neither its derived nor the factory "
			    "management key; not wiping it (use --force)", piv_reader(p), serial);
			rc = PIV_E_FOREIGN;
			goto out;
		}
		log_warn("%s: card %u is not ours; wiping it as forced", piv_reader(p), serial);
	} else if (rc != PIV_OK) {
		goto out;
	}

	perso_step(progress, progress_ctx, p, "block PIN and PUK");
	if ((rc = piv_block_pin_puk(p)) != PIV_OK)
		goto out;
	perso_step(progress, progress_ctx, p, "reset");
	if ((rc = piv_reset(p)) != PIV_OK)
		goto out;
	perso_step(progress, progress_ctx, p, "check");
	if ((rc = piv_select(p)) != PIV_OK || (rc = piv_classify(p, &state)) != PIV_OK)
		goto out;
	if (state != PIV_STATE_BLANK) {
		log_err("%s: card %u is %s after reset", piv_reader(p), serial, piv_state_name(state));
		rc = PIV_E_VERIFY;
		goto out;
	}
	perso_step(progress, progress_ctx, p, "done");
out:
	if (rc != PIV_OK)
		log_err("%s: wipe of card %u stopped: %s", piv_reader(p), serial, piv_strerror(rc));
	if (began)
		piv_end(p);
	OPENSSL_cleanse(mgm, sizeof mgm);
	return rc;
}
