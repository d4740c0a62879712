/*
 * api.c: the JSON API, version 1 (docs/openapi.yaml), for a site that keeps its own pages
 * and calls the RA for its subscribers, and the public status look-up for relying systems.
 *
 * Rules: the subscriber operations need the site's bearer token (route.c) and the
 * subscriber's own password on every call, exactly as the pages do; the same one answer
 * ("denied") for an unknown account and a wrong password; bodies are JSON objects without
 * duplicate keys; a password is sealed at once and the body wiped when the request ends.
 * Answers: 200 done, 400 bad request, 403 denied or locked, 409 refused by the rules,
 * 422 password policy, 429 too many requests or wrong passwords from this source,
 * 202 accepted but not finished, 503 back office unreachable.
 */
#include "web.h"
#include "idcheck.h"
#include "log.h"
#include "util.h"

#include <openssl/crypto.h>
#include <string.h>

enum MHD_Result api_bad(struct web_req *r, const char *why)
{
	return http_json(r, MHD_HTTP_BAD_REQUEST, json_pack("{s:b,s:s,s:s}", "ok", 0, "code", "bad_request", "error", why));
}

/* The body as an object, or NULL. */
json_t *api_body(struct web_req *r)
{
	json_error_t e;
	json_t *j = r->body ? json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e) : NULL;

	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Wipe the clear strings of a parsed body before it is freed. */
void api_body_wipe(json_t *j)
{
	const char *k;
	json_t *v;

	json_object_foreach(j, k, v)
		if (json_is_string(v))
			OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
	json_decref(j);
}

/* The job's answer as the API's: RESULT is consumed. */
enum MHD_Result api_answer(struct web_req *r, json_t *result, int pending)
{
	const char *words, *code;
	unsigned status;
	json_t *out;

	if (!result)
		return http_json(r, pending ? MHD_HTTP_ACCEPTED : MHD_HTTP_SERVICE_UNAVAILABLE,
		    json_pack("{s:b,s:s,s:s}", "ok", 0, "code", pending ? "pending" : "unavailable", "error",
		    pending ? "accepted but not finished yet" : T_UNREACHABLE.en));
	if (json_is_true(json_object_get(result, "ok")))
		return http_json(r, MHD_HTTP_OK, result);
	if (json_is_true(json_object_get(result, "failed"))) {
		out = json_pack("{s:b,s:s,s:s}", "ok", 0, "code", "failed", "error",
		    json_string_value(json_object_get(result, "error")) ?: "the job failed");
		json_decref(result);
		return http_json(r, MHD_HTTP_CONFLICT, out);
	}
	code = text_refusal(result, 1, &words);
	out = json_pack("{s:b,s:s,s:s}", "ok", 0, "code", code, "error", words);
	json_object_set_new(out, "error_zh", json_string(text_refusal(result, 0, &words) ? words : ""));
	status = strcmp(code, "denied") == 0 || strcmp(code, "locked") == 0 ? MHD_HTTP_FORBIDDEN :
	    strcmp(code, "policy") == 0 ? 422 : strcmp(code, "slow_down") == 0 ? MHD_HTTP_TOO_MANY_REQUESTS :
	    MHD_HTTP_CONFLICT;
	json_decref(result);
	return http_json(r, status, out);
}

/* Seal each of NAMES from BODY into PAYLOAD. -1 if one is missing or cannot be sealed. */
static int seal_into(struct web_req *r, json_t *body, json_t *payload, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *clear = json_string_value(json_object_get(body, names[i]));
		char *sealed;
		if (!clear || !*clear || strlen(clear) > 256 || !(sealed = backend_seal(r->w, clear)))
			return -1;
		json_object_set_new(payload, names[i], json_string(sealed));
		free(sealed);
	}
	return 0;
}

/* Common to the three subscriber operations: check, seal, run, answer. */
static enum MHD_Result subscriber_op(struct web_req *r, const char *kind, const char *const *secrets, size_t nsecrets)
{
	json_t *body = api_body(r), *payload, *result;
	const char *account;
	int pending = 0;

	if (!body)
		return api_bad(r, "the body must be a JSON object");
	account = json_string_value(json_object_get(body, "account"));
	if (idcheck_account(account) < 0) {
		api_body_wipe(body);
		return api_answer(r, json_pack("{s:b,s:s}", "ok", 0, "code", "unknown"), 0);
	}
	payload = json_pack("{s:s}", "account", account);
	if (seal_into(r, body, payload, secrets, nsecrets) < 0) {
		api_body_wipe(body);
		json_decref(payload);
		return api_bad(r, "a password is missing, empty or longer than 256 bytes");
	}
	if (strcmp(kind, "suspend") == 0) {
		json_t *certs = json_object_get(body, "certs"), *reason = json_object_get(body, "reason");
		const char *c = certs ? json_string_value(certs) : "both";
		if (!c || (strcmp(c, "both") && strcmp(c, "signature") && strcmp(c, "encryption")) ||
		    (reason && (!json_is_string(reason) || json_string_length(reason) > 200))) {
			api_body_wipe(body);
			json_decref(payload);
			return api_bad(r, "certs must be signature, encryption or both; reason text of at most 200 bytes");
		}
		json_object_set_new(payload, "certs", json_string(c));
		if (reason)
			json_object_set(payload, "reason", reason);
	}
	api_body_wipe(body);
	result = backend_run(r->w, r->source, kind, payload, &pending);
	json_decref(payload);
	log_info("%s: API %s for %s: %s", r->source, kind, json_string_value(json_object_get(result, "account")) ?
	    json_string_value(json_object_get(result, "account")) : "-",
	    result && json_is_true(json_object_get(result, "ok")) ? "done" : "not done");
	return api_answer(r, result, pending);
}

enum MHD_Result api_login(struct web_req *r)
{
	static const char *const s[] = { "password" };
	return subscriber_op(r, "login", s, 1);
}

enum MHD_Result api_suspend(struct web_req *r)
{
	static const char *const s[] = { "password" };
	return subscriber_op(r, "suspend", s, 1);
}

enum MHD_Result api_password(struct web_req *r)
{
	static const char *const s[] = { "password", "new_password" };
	return subscriber_op(r, "password_change", s, 2);
}

enum MHD_Result api_cert_status(struct web_req *r)
{
	const char *serial = r->param;
	json_t *args, *st;

	if (!serial || !*serial || strlen(serial) > 64 || strspn(serial, "0123456789abcdefABCDEF") != strlen(serial))
		return api_bad(r, "the serial must be 1 to 64 hexadecimal digits");
	args = json_pack("{s:s}", "serial", serial);
	st = backend_query(r->w, "cert_status", args);
	json_decref(args);
	if (!st)
		return http_json(r, MHD_HTTP_SERVICE_UNAVAILABLE, json_pack("{s:b,s:s,s:s}", "ok", 0, "code",
		    "unavailable", "error", T_UNREACHABLE.en));
	return http_json(r, strcmp(json_string_value(json_object_get(st, "status")), "unknown") == 0 ?
	    MHD_HTTP_NOT_FOUND : MHD_HTTP_OK, st);
}

enum MHD_Result api_routes(struct web_req *r)
{
	static const char *const who[] = { "anyone", "visitor", "subscriber", "site", "card agent" };
	json_t *out = json_array();

	for (size_t i = 0; i < web_nroutes; i++)
		json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:b,s:s,s:s}", "method", web_routes[i].method,
		    "path", web_routes[i].path, "who", who[web_routes[i].who], "csrf", web_routes[i].csrf,
		    "params", web_routes[i].params, "what", web_routes[i].what));
	return http_json(r, MHD_HTTP_OK, json_pack("{s:s,s:o}", "version", "1", "routes", out));
}
