/*
 * answer.c: the card station's reading of the back office's answers (see answer.h).
 *
 * Rules: the JSON comes from another host and is trusted for nothing but its shape. Every
 * member is fetched by type (a number where text is wanted reads as ""), text is cut to
 * the fixed fields, and a certificate is accepted only if it parses as one X.509
 * certificate; its DER is made again from the parsed certificate, so the card gets no
 * trailing bytes.
 */
#include "answer.h"

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pem.h"
#include "util.h"

static const char *answer_text(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

void answer_order_read(const json_t *row, struct answer_order *out)
{
	memset(out, 0, sizeof *out);
	out->order = json_integer_value(json_object_get(row, "order"));
	if (!out->order)
		out->order = json_integer_value(json_object_get(row, "id"));
	snprintf(out->state, sizeof out->state, "%s", answer_text(row, "state"));
	snprintf(out->account, sizeof out->account, "%s", answer_text(row, "account"));
	snprintf(out->name, sizeof out->name, "%s", answer_text(row, "name"));
}

int answer_order_find(const json_t *answer, const char *card, struct answer_order *out)
{
	const json_t *row;
	size_t i;
	int found = 0;

	/* The latest order wins: a card personalized, wiped and reused has several. */
	json_array_foreach(json_object_get(answer, "orders"), i, row) {
		const char *cs = json_string_value(json_object_get(row, "card_serial"));
		if (!cs || strcmp(cs, card) != 0)
			continue;
		answer_order_read(row, out);
		found = 1;
	}
	return found;
}

/* The DER (malloc'd) of the certificate of USAGE in CERTS, made again from the parsed
 * certificate. NULL if absent or not a certificate. */
static uint8_t *answer_cert_der(const json_t *certs, const char *usage, size_t *len)
{
	const json_t *c;
	size_t i;

	json_array_foreach(certs, i, c) {
		X509 *x;
		unsigned char *der = NULL;
		uint8_t *copy = NULL;
		int n;

		if (strcmp(answer_text(c, "usage"), usage) != 0)
			continue;
		if (!(x = pem_cert(answer_text(c, "pem"))))
			return NULL;
		if ((n = i2d_X509(x, &der)) > 0) {
			copy = xmalloc((size_t)n);
			memcpy(copy, der, (size_t)n);
			*len = (size_t)n;
		}
		OPENSSL_free(der);
		X509_free(x);
		return copy;
	}
	return NULL;
}

int answer_certs_read(const json_t *certs, struct answer_certs *out)
{
	memset(out, 0, sizeof *out);
	out->sign = answer_cert_der(certs, "signature", &out->sign_len);
	out->enc = answer_cert_der(certs, "encryption", &out->enc_len);
	if (out->sign && out->enc)
		return 0;
	answer_certs_clear(out);
	return -1;
}

void answer_certs_clear(struct answer_certs *c)
{
	free(c->sign);
	free(c->enc);
	memset(c, 0, sizeof *c);
}

int answer_challenge(const json_t *res, size_t bs, uint8_t *w, uint8_t *c)
{
	return hex_decode(answer_text(res, "witness"), w, bs) == (int)bs &&
	    hex_decode(answer_text(res, "challenge"), c, bs) == (int)bs ? 0 : -1;
}

int answer_jobs_busy(const json_t *answer, time_t started)
{
	static const char *const kinds[] = { "issue", "card_done", "card_fail", "order_claim" };
	const json_t *row;
	size_t i;

	json_array_foreach(json_object_get(answer, "jobs"), i, row) {
		const char *k = answer_text(row, "kind");
		/* any card job of an earlier run: a card_done still queued lands later */
		for (size_t j = 0; j < ARRAY_LEN(kinds); j++)
			if (strcmp(k, kinds[j]) == 0 &&
			    json_integer_value(json_object_get(row, "created_at")) <= started)
				return 1;
	}
	return 0;
}
