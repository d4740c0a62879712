/*
 * route.c: every route ra-web answers, in one table (method, path, who may call, whether
 * the request changes state and so needs the session's CSRF token, what it carries), and
 * the one dispatcher that enforces the table before any handler runs.
 *
 * Rules: the rate limit applies to every request from a source before anything else; a
 * route's rule (who, csrf) is checked here, never in a handler; a method the table does
 * not list for a path is 405, a path it does not list 404; the JSON API answers JSON
 * even when it refuses. docs/openapi.yaml describes the /api/v1 rows.
 */
#include "web.h"
#include "log.h"
#include "util.h"

#include <openssl/evp.h>
#include <string.h>

const struct web_route web_routes[] = {
	/* the subscriber's pages (HTML, Traditional Chinese unless the session chose English) */
	{ "GET", "/", WHO_ANYONE, 0, "", page_root, "to the certificates, or to the login page" },
	{ "GET", "/login", WHO_VISITOR, 0, "", page_login, "login form: account, password, verification code" },
	{ "POST", "/login", WHO_VISITOR, 1, "account, password, code, csrf", page_login_post, "log in (lockout as ra-self)" },
	{ "GET", "/code.png", WHO_VISITOR, 0, "", page_code_png, "the verification code as an image" },
	{ "POST", "/code", WHO_VISITOR, 1, "csrf", page_code_new, "draw a new verification code" },
	{ "POST", "/lang", WHO_VISITOR, 1, "lang (zh-TW|en), back, csrf", page_lang, "choose the pages' language" },
	{ "POST", "/logout", WHO_SUBSCRIBER, 1, "csrf", page_logout, "end the session" },
	{ "GET", "/certs", WHO_SUBSCRIBER, 0, "", page_certs, "the account's certificates and their status" },
	{ "GET", "/suspend", WHO_SUBSCRIBER, 0, "", page_suspend, "suspend form" },
	{ "POST", "/suspend", WHO_SUBSCRIBER, 1, "signature, encryption (ticks), reason, password, csrf", page_suspend_post, "put certificates on hold" },
	{ "GET", "/password", WHO_SUBSCRIBER, 0, "", page_password, "password change form" },
	{ "POST", "/password", WHO_SUBSCRIBER, 1, "password, new_password, confirm, csrf", page_password_post, "change the website password" },
	{ "GET", "/card", WHO_SUBSCRIBER, 0, "", page_card, "card operations through the local card agent" },
	{ "GET", "/static/style.css", WHO_ANYONE, 0, "", page_style, "the pages' style" },
	{ "GET", "/static/card.js", WHO_ANYONE, 0, "", page_card_js, "the card pages' script (talks to the local agent)" },

	/* the JSON API, version 1 (docs/openapi.yaml) */
	{ "GET", "/api/v1/routes", WHO_ANYONE, 0, "", api_routes, "this table" },
	{ "GET", "/api/v1/certificates/*", WHO_ANYONE, 0, "serial (hex) in the path", api_cert_status, "a certificate's status, for relying systems" },
	{ "POST", "/api/v1/login", WHO_SITE, 0, "{account, password}", api_login, "check the password; the account's certificates" },
	{ "POST", "/api/v1/suspend", WHO_SITE, 0, "{account, password, certs, reason}", api_suspend, "put certificates on hold" },
	{ "POST", "/api/v1/password", WHO_SITE, 0, "{account, password, new_password}", api_password, "change the website password" },

	/* the relay of the subscriber's card agent (api_card.c) */
	{ "POST", "/api/v1/card/*", WHO_CARD, 0, "challenge {purpose, account, password, card_serial, witness} | "
	  "unlock {challenge_job, card_serial, response, recipient} | puk {card_serial, unlock_job, puk_version} | "
	  "renew {challenge_job, card_serial, response, sign_csr, enc_csr}", api_card_job,
	  "one step of a card operation, relayed to the back office as job card_<step>" },
	{ "GET", "/api/v1/card-ca", WHO_ANYONE, 0, "", api_card_ca, "the CA certificate, for the agent's export" },
};
const size_t web_nroutes = ARRAY_LEN(web_routes);

/* Does PATH match the route's pattern? Sets *param for a "*" segment. */
static int path_match(const char *pattern, const char *path, const char **param)
{
	size_t n = strlen(pattern);

	*param = NULL;
	if (n && pattern[n - 1] == '*') {
		if (strncmp(pattern, path, n - 1) != 0 || !path[n - 1] || strchr(path + n - 1, '/'))
			return 0;
		*param = path + n - 1;
		return 1;
	}
	return strcmp(pattern, path) == 0;
}

static int is_api(const char *path)
{
	return strncmp(path, "/api/", 5) == 0;
}

static enum MHD_Result refuse(struct web_req *r, unsigned status, const char *code, const char *en)
{
	if (is_api(r->path))
		return http_json(r, status, json_pack("{s:b,s:s,s:s}", "ok", 0, "code", code, "error", en));
	return page_error(r, status);
}

/* The site's bearer token, compared by its hash. */
static int site_ok(struct web_req *r)
{
	const char *auth = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "Authorization");
	uint8_t h[32];
	int ok;

	if (!r->w->api_on || !auth || strncmp(auth, "Bearer ", 7) != 0)
		return 0;
	EVP_Digest(auth + 7, strlen(auth + 7), h, NULL, EVP_sha256(), NULL);
	ok = CRYPTO_memcmp(h, r->w->api_token_hash, 32) == 0;
	return ok;
}

static const char *sid_cookie(struct web_req *r)
{
	return MHD_lookup_connection_value(r->con, MHD_COOKIE_KIND, WEB_SID_COOKIE);
}

enum MHD_Result route_dispatch(struct web_req *r)
{
	const struct web_route *rt = NULL;
	int path_known = 0;

	if (!ratelimit_take(r->w->rate, r->source)) {
		log_warn("%s: over the rate limit (%s %s)", r->source, r->method, r->path);
		return refuse(r, 429, "rate_limited", "too many requests from this address; wait a minute");
	}
	if (r->too_big)
		return refuse(r, 413, "too_big", "the request body is too large");
	for (size_t i = 0; i < web_nroutes; i++) {
		if (!path_match(web_routes[i].path, r->path, &r->param))
			continue;
		path_known = 1;
		if (strcmp(web_routes[i].method, r->method) == 0) {
			rt = &web_routes[i];
			break;
		}
	}
	if (!rt) {
		/* Pages know the visitor's language if there is a session; none is made for a 404. */
		if (!is_api(r->path))
			session_attach(r, sid_cookie(r), 0);
		return refuse(r, path_known ? 405 : 404, path_known ? "method" : "not_found",
		    path_known ? "method not allowed" : "no such page");
	}
	switch (rt->who) {
	case WHO_ANYONE:
		if (!is_api(r->path))
			session_attach(r, sid_cookie(r), 0);
		break;
	case WHO_VISITOR:
		session_attach(r, sid_cookie(r), 1);
		break;
	case WHO_SUBSCRIBER:
		if (session_attach(r, sid_cookie(r), 0) < 0 || !r->s.logged_in) {
			if (strcmp(r->method, "GET") == 0)
				return http_redirect(r, "/login");
			return refuse(r, 403, "no_session", "log in first");
		}
		break;
	case WHO_CARD:
		break;	/* the proof is in the payload: api_card.c, and the worker */
	case WHO_SITE:
		if (!site_ok(r))
			return refuse(r, 401, "unauthorized", "this API needs the site's bearer token (web.api_token_file)");
		break;
	}
	if (strcmp(r->method, "POST") == 0 && !is_api(r->path) && http_parse_form(r) < 0)
		return refuse(r, 400, "bad_form", "the form could not be read");
	if (rt->csrf && !http_equal(http_field(r, "csrf"), r->s.csrf)) {
		log_warn("%s: %s %s without the session's CSRF token", r->source, r->method, r->path);
		return refuse(r, 403, "csrf", "the form is stale or not from this site; reload the page");
	}
	return rt->fn(r);
}
