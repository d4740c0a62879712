/*
 * officer_card.c: officers' PIV cards (see officer_card.h). Every card call runs inside a
 * PC/SC transaction (piv_begin/piv_end); the PIN stays in memory only while the credential
 * is open and is wiped when it closes.
 */
#include "officer_card.h"
#include "log.h"
#include "pcsc.h"
#include "piv.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct officer_card {
	pthread_mutex_t mu;	/* a personalization run signs from one thread per reader */
	pcsc_t *pc;
	piv_t *p;
	EVP_PKEY *pub;
	char pin[16];
	int began;
};

void officer_card_close(officer_card_t **pc)
{
	officer_card_t *c = pc ? *pc : NULL;

	if (!c)
		return;
	if (c->began)
		piv_end(c->p);
	piv_close(&c->p);
	pcsc_destroy(&c->pc);
	EVP_PKEY_free(c->pub);
	OPENSSL_cleanse(c->pin, sizeof c->pin);
	pthread_mutex_destroy(&c->mu);
	free(c);
	*pc = NULL;
}

/* Connect to READER, select PIV and open a transaction. NULL on failure (logged). */
static officer_card_t *card_connect(const char *reader)
{
	officer_card_t *c = xcalloc(1, sizeof *c);
	piv_rc rc;

	pthread_mutex_init(&c->mu, NULL);
	if (!(c->pc = pcsc_new(&rc)) || (rc = piv_open(c->pc, reader, &c->p)) != PIV_OK ||
	    (rc = piv_begin(c->p)) != PIV_OK) {
		log_err("%s: %s", reader, piv_strerror(rc));
		officer_card_close(&c);
		return NULL;
	}
	c->began = 1;
	return c;
}

static int card_sign(void *ctx, const unsigned char digest[32], unsigned char **sig, size_t *siglen)
{
	officer_card_t *c = ctx;
	int tries = -1;
	piv_rc rc;

	pthread_mutex_lock(&c->mu);
	/* The PIN again: another program may have reset the card's security state. */
	if ((rc = piv_verify_pin(c->p, c->pin, &tries)) == PIV_OK)
		rc = piv_sign_digest(c->p, PIV_SLOT_SIGN, c->pub, NID_sha256, digest, 32, sig, siglen);
	pthread_mutex_unlock(&c->mu);
	if (rc != PIV_OK) {
		log_err("%s: the card did not sign: %s", piv_reader(c->p), piv_strerror(rc));
		return -1;
	}
	return 0;
}

static void card_close(void *ctx)
{
	officer_card_t *c = ctx;
	officer_card_close(&c);
}

officer_cred_t *officer_card_open(const char *reader, const char *pin)
{
	officer_card_t *c = card_connect(reader);
	officer_cred_t *cred;
	X509 *cert = NULL;
	int tries = -1;
	piv_rc rc;

	if (!c)
		return NULL;
	if (strlen(pin) >= sizeof c->pin || !piv_pin_valid(pin)) {
		log_err("%s: a card PIN has 6 to 8 digits", reader);
		goto fail;
	}
	if ((rc = piv_read_cert(c->p, PIV_SLOT_SIGN, &cert)) != PIV_OK) {
		log_err("%s: no officer certificate on the card: %s", reader, piv_strerror(rc));
		goto fail;
	}
	if ((rc = piv_verify_pin(c->p, pin, &tries)) != PIV_OK) {
		log_err("%s: PIN refused (%d tries left): %s", reader, tries, piv_strerror(rc));
		goto fail;
	}
	memcpy(c->pin, pin, strlen(pin) + 1);
	c->pub = X509_get_pubkey(cert);
	if ((cred = officer_cred_external(cert, card_sign, card_close, c)) != NULL)
		return cred;
	return NULL;	/* officer_cred_external() closed the card and freed CERT */
fail:
	X509_free(cert);
	officer_card_close(&c);
	return NULL;
}

officer_card_t *officer_card_enrol(const char *reader, EVP_PKEY **pub)
{
	officer_card_t *c = card_connect(reader);
	enum piv_card_state state;
	piv_rc rc;

	*pub = NULL;
	if (!c)
		return NULL;
	if ((rc = piv_classify(c->p, &state)) != PIV_OK || state != PIV_STATE_BLANK) {
		log_err("%s: not a blank card (%s): an officer card starts from the factory state", reader,
		    rc == PIV_OK ? piv_state_name(state) : piv_strerror(rc));
		goto fail;
	}
	if ((rc = piv_authenticate(c->p, PIV_ALG_3DES, PIV_FACTORY_MGM, 24)) != PIV_OK ||
	    (rc = piv_generate_key(c->p, PIV_SLOT_SIGN, PIV_ALG_ECCP256, &c->pub)) != PIV_OK) {
		log_err("%s: cannot make the officer's key on the card: %s", reader, piv_strerror(rc));
		goto fail;
	}
	EVP_PKEY_up_ref(c->pub);
	*pub = c->pub;
	return c;
fail:
	officer_card_close(&c);
	return NULL;
}

int officer_card_enrol_finish(officer_card_t *c, X509 *cert, const char *pin)
{
	unsigned char *der = NULL, mgm[24], r[8];
	char puk[9];
	int len, tries = -1, rc = -1;
	piv_rc prc;

	if (!piv_pin_valid(pin)) {
		log_err("a card PIN has 6 to 8 digits");
		return -1;
	}
	if ((len = i2d_X509(cert, &der)) <= 0 || RAND_bytes(mgm, sizeof mgm) != 1 || RAND_bytes(r, sizeof r) != 1)
		goto out;
	for (int i = 0; i < 8; i++)
		puk[i] = (char)('0' + r[i] % 10);
	puk[8] = '\0';
	if ((prc = piv_write_cert(c->p, PIV_SLOT_SIGN, der, (size_t)len)) != PIV_OK ||
	    (prc = piv_change_pin(c->p, PIV_FACTORY_PIN, pin, &tries)) != PIV_OK ||
	    (prc = piv_change_puk(c->p, PIV_FACTORY_PUK, puk, &tries)) != PIV_OK ||
	    (prc = piv_set_mgm_key(c->p, PIV_ALG_3DES, mgm, sizeof mgm)) != PIV_OK) {
		log_err("%s: cannot finish the officer card: %s", piv_reader(c->p), piv_strerror(prc));
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(mgm, sizeof mgm);
	OPENSSL_cleanse(puk, sizeof puk);
	OPENSSL_cleanse(r, sizeof r);
	OPENSSL_free(der);
	return rc;
}
