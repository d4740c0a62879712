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
#include "answer.h"
#include "station.h"
#include "subscriber.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

int download_write(struct sub *s, json_t *certs)
{
	struct answer_certs c;
	piv_rc rc;

	if (answer_certs_read(certs, &c) < 0) {
		log_err("the back office sent %zu certificates, not one for each slot", json_array_size(certs));
		sub_say(s, SUB_CARD_ERROR, piv_strerror(PIV_E_ARG));
		return -1;
	}
	if ((rc = piv_write_cert(s->p, PIV_SLOT_SIGN, c.sign, c.sign_len)) != PIV_OK ||
	    (rc = piv_write_cert(s->p, PIV_SLOT_KEYMGMT, c.enc, c.enc_len)) != PIV_OK) {
		log_err("card %s: writing the certificates: %s", s->serial_text, piv_strerror(rc));
		sub_say(s, SUB_CARD_ERROR, piv_strerror(rc));
	}
	answer_certs_clear(&c);
	return rc == PIV_OK ? 0 : -1;
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
