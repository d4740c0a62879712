/*
 * cmd_download.c: `card-station download --reader NAME --account ID [--lang en]`: write
 * the subscriber's current certificates (signature to 9C, encryption to 9D) to the card
 * again, both at once: after an interrupted activation, or a renewal whose write failed.
 *
 * The back office (card_challenge, purpose "download") checks the website password and
 * that the card is the account's, and sends the certificates of the card's current order
 * with its answer to the card's management-key witness. The certificates are those the RA
 * issued for this card's serial, so no key check is made here: after a renewal whose write
 * failed, the card's old certificates no longer match its keys and must be replaced anyway.
 */
#include "station.h"
#include "subscriber.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pem.h"
#include "util.h"

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

int cmd_download(struct station *st, int argc, char **argv)
{
	struct sub_args a;
	const char *reader, *account;
	struct sub s = { 0 };
	char password[256] = "";
	json_t *res = NULL;
	int64_t job = 0;
	int ret = 1;

	if (sub_args_parse(argc, argv, 1, &a) != 0)
		return 2;
	reader = a.reader;
	account = a.account;
	s.lang = a.lang;
	if (sub_secret(&s, SUB_ASK_PASSWORD, password, sizeof password) < 0)
		goto out;
	if (sub_open(&s, st, reader) < 0)
		goto out;
	res = sub_challenge(&s, "download", account, password, &job);
	OPENSSL_cleanse(password, sizeof password);
	if (!res || download_write(&s, json_object_get(res, "certs")) < 0)
		goto out;
	log_info("card %s: certificates of order %lld written again", s.serial_text,
	    (long long)json_integer_value(json_object_get(res, "order")));
	sub_say(&s, SUB_CERTS_WRITTEN);
	ret = 0;
out:
	OPENSSL_cleanse(password, sizeof password);
	json_decref(res);
	sub_close(&s);
	return ret;
}
