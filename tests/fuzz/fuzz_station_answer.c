/*
 * fuzz_station_answer.c: libFuzzer target for card-station's reading of the back office's
 * answers (card-station/answer.c): JSON text decoded as lib/msg.c decodes a frame, then
 * read the way office.c and subscriber.c read a job result or a query answer: as an order
 * row, an "orders" answer, the certificates of an issue or download, a card_challenge and
 * a "jobs" answer. No input may fault or leak; certificates read must be whole DER.
 */
#include "../../card/answer.h"

#include <jansson.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t e;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
	struct answer_order row;
	struct answer_certs certs;
	uint8_t w[16], c[16];

	if (!j)
		return 0;
	answer_order_read(j, &row);
	if (strlen(row.state) >= sizeof row.state || strlen(row.name) >= sizeof row.name)
		abort();
	answer_order_find(j, "12345678", &row);
	if (answer_certs_read(json_object_get(j, "certs"), &certs) == 0) {
		const unsigned char *p = certs.sign;
		X509 *x = d2i_X509(NULL, &p, (long)certs.sign_len);
		/* what goes to the card is exactly one certificate */
		if (!x || p != certs.sign + certs.sign_len)
			abort();
		X509_free(x);
		answer_certs_clear(&certs);
	}
	answer_challenge(j, 8, w, c);
	answer_challenge(j, 16, w, c);
	answer_jobs_busy(j, 1700000000);
	json_decref(j);
	return 0;
}
