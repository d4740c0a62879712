/*
 * api_card.c: the relay between the subscriber's card agent (card-agent, on the
 * subscriber's PC) and the back office. The agent has no CURVE key of the RA; it reaches
 * ra-queue only through these routes, and ra-web submits each step as the "web" producer.
 *
 *   POST /api/v1/card/challenge  -> card_challenge  (website password, card serial, the
 *                                   card's management-key witness)
 *   POST /api/v1/card/unlock     -> card_unlock     (the card's answer; a one-time X25519
 *                                   public key the PUKs are sealed to)
 *   POST /api/v1/card/puk        -> card_puk        (the released PUK was replaced)
 *   POST /api/v1/card/renew      -> card_renew      (the card's answer; two card-signed CSRs)
 *   GET  /api/v1/card-ca         the CA certificate, for the agent's export
 *
 * Rules: no session and no site token, because the proof travels in the payload: the
 * website password (its lockout and per-source slow-down apply, as for a login) opens a
 * challenge, and every later step needs the card's own answer to it, which only the card
 * whose key ra-cardkey derives can give. Only the fields each step names are passed on,
 * each a bounded string or a positive integer; the password is sealed to the workers' key
 * at once and the body wiped when the request ends (api_body_wipe). The answer is the job's
 * result with its id ("job"), which the agent names in the next step; a refusal is the
 * API's usual one (code, error, error_zh).
 */
#include "web.h"
#include "log.h"
#include "util.h"

#include <string.h>

/* One step: its path segment, the job kind, and the fields it carries. */
static const struct card_step {
	const char *step, *kind;
	const char *strings[6];		/* bounded strings, all required */
	const char *ints[2];		/* positive integers, all required */
} card_steps[] = {
	{ "challenge", "card_challenge", { "purpose", "account", "card_serial", "witness" }, { NULL } },
	{ "unlock", "card_unlock", { "card_serial", "response", "recipient" }, { "challenge_job" } },
	{ "puk", "card_puk", { "card_serial" }, { "unlock_job", "puk_version" } },
	{ "renew", "card_renew", { "card_serial", "response", "sign_csr", "enc_csr" }, { "challenge_job" } },
};

#define CARD_FIELD_MAX 8192	/* a CSR in PEM; everything else is far shorter */

/* Copy the step's fields from BODY into a new payload; NULL if one is missing or bad. */
static json_t *card_payload(const struct card_step *cs, json_t *body)
{
	json_t *payload = json_object();

	for (size_t i = 0; i < ARRAY_LEN(cs->strings) && cs->strings[i]; i++) {
		json_t *v = json_object_get(body, cs->strings[i]);
		if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > CARD_FIELD_MAX)
			goto bad;
		json_object_set_new(payload, cs->strings[i], json_string(json_string_value(v)));
	}
	for (size_t i = 0; i < ARRAY_LEN(cs->ints) && cs->ints[i]; i++) {
		json_t *v = json_object_get(body, cs->ints[i]);
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			goto bad;
		json_object_set_new(payload, cs->ints[i], json_integer(json_integer_value(v)));
	}
	/* Where the request came from, as card-station names its host. */
	json_object_set_new(payload, "station", json_string("card-agent"));
	return payload;
bad:
	json_decref(payload);
	return NULL;
}

enum MHD_Result api_card_job(struct web_req *r)
{
	const struct card_step *cs = NULL;
	json_t *body, *payload = NULL, *result;
	const char *pw;
	char *sealed;
	int64_t id = 0;
	int pending = 0;

	for (size_t i = 0; i < ARRAY_LEN(card_steps); i++)
		if (r->param && strcmp(r->param, card_steps[i].step) == 0)
			cs = &card_steps[i];
	if (!cs)
		return http_json(r, MHD_HTTP_NOT_FOUND, json_pack("{s:b,s:s,s:s}", "ok", 0, "code", "not_found",
		    "error", "no such card step"));
	if (!(body = api_body(r)))
		return api_bad(r, "the body must be a JSON object");
	if (!(payload = card_payload(cs, body))) {
		api_body_wipe(body);
		return api_bad(r, "a field of this step is missing, empty, too long or not a positive integer");
	}
	if (strcmp(cs->step, "challenge") == 0) {
		pw = json_string_value(json_object_get(body, "password"));
		if (!pw || !*pw || strlen(pw) > 256 || !(sealed = backend_seal(r->w, pw))) {
			api_body_wipe(body);
			json_decref(payload);
			return api_bad(r, "the password is missing, empty or longer than 256 bytes");
		}
		json_object_set_new(payload, "sealed_password", json_string(sealed));
		free(sealed);
	}
	api_body_wipe(body);
	result = backend_run_job(r->w, r->source, cs->kind, payload, &pending, &id);
	json_decref(payload);
	log_info("%s: card agent %s: %s", r->source, cs->kind,
	    result && json_is_true(json_object_get(result, "ok")) ? "done" : "not done");
	if (result && json_is_true(json_object_get(result, "ok")))
		json_object_set_new(result, "job", json_integer(id));
	return api_answer(r, result, pending);
}

enum MHD_Result api_card_ca(struct web_req *r)
{
	char *path = config_path(r->w->cfg, "signer.cert"), *pem;
	size_t len = 0;
	enum MHD_Result ret;

	if (!(pem = file_read(path, &len))) {
		log_err("cannot read the CA certificate %s", path);
		free(path);
		return http_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, json_pack("{s:b,s:s,s:s}", "ok", 0, "code",
		    "unavailable", "error", "the CA certificate is not available"));
	}
	free(path);
	ret = http_send(r, MHD_HTTP_OK, "application/pem-certificate-chain", pem, len);
	free(pem);
	return ret;
}
