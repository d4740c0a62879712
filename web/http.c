/*
 * http.c: requests and answers on top of libmicrohttpd: urlencoded forms (decoded with
 * MHD's own unescaping), answers with the security headers every response carries, and
 * constant-time comparison for tokens.
 *
 * Rules: every answer says no-store (a page may show a subscriber's certificates), is
 * never framed, never sniffed, sends no Referer, and carries the CSP of the pages; over
 * TLS it also pins HTTPS (HSTS). Secrets come only in request bodies, never in a URL.
 */
#include "web.h"
#include "log.h"
#include "util.h"

#include <openssl/crypto.h>
#include <string.h>

int http_parse_form(struct web_req *r)
{
	char *copy, *save = NULL, *pair;
	json_t *val;

	json_decref(r->form);
	r->form = json_object();
	if (!r->body || !r->body_len)
		return 0;
	copy = xstrdup(r->body);
	for (pair = strtok_r(copy, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '='), *v = eq ? eq + 1 : pair + strlen(pair);
		if (eq)
			*eq = '\0';
		for (char *p = pair; *p; p++)
			if (*p == '+')
				*p = ' ';
		for (char *p = v; *p; p++)
			if (*p == '+')
				*p = ' ';
		MHD_http_unescape(pair);
		MHD_http_unescape(v);
		/* A name given twice is ambiguous, text that is not UTF-8 unreadable: refuse the
		 * form rather than guess. */
		val = json_string(v);
		if (json_object_get(r->form, pair) || !val) {
			json_decref(val);
			OPENSSL_cleanse(copy, strlen(r->body));
			free(copy);
			return -1;
		}
		json_object_set_new(r->form, pair, val);
	}
	OPENSSL_cleanse(copy, strlen(r->body));
	free(copy);
	return 0;
}

void http_wipe(struct web_req *r)
{
	const char *k;
	json_t *v;

	/* jansson keeps each string in one buffer of its own: wipe it in place. */
	json_object_foreach(r->form, k, v)
		OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
	json_decref(r->form);
	r->form = NULL;
	if (r->body)
		OPENSSL_cleanse(r->body, r->body_len);
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

const char *http_field(const struct web_req *r, const char *name)
{
	return r->form ? json_string_value(json_object_get(r->form, name)) : NULL;
}

int http_equal(const char *a, const char *b)
{
	size_t n = a ? strlen(a) : 0;
	if (!a || !b || n != strlen(b))
		return 0;
	return CRYPTO_memcmp(a, b, n) == 0;
}

static void add_headers(struct web_req *r, struct MHD_Response *res, const char *type)
{
	MHD_add_response_header(res, "Content-Type", type);
	MHD_add_response_header(res, "Cache-Control", "no-store");
	MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(res, "X-Frame-Options", "DENY");
	MHD_add_response_header(res, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(res, "Content-Security-Policy", r->w->csp);
	if (r->w->tls)
		MHD_add_response_header(res, "Strict-Transport-Security", "max-age=31536000");
	if (r->set_cookie)
		MHD_add_response_header(res, "Set-Cookie", r->set_cookie);
}

enum MHD_Result http_send(struct web_req *r, unsigned status, const char *type, const void *body, size_t len)
{
	struct MHD_Response *res = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ok;

	if (!res)
		return MHD_NO;
	add_headers(r, res, type);
	ok = MHD_queue_response(r->con, status, res);
	MHD_destroy_response(res);
	log_info("%s %s %s %u", r->source, r->method, r->path, status);
	web_metrics_count(status);
	return ok;
}

enum MHD_Result http_redirect(struct web_req *r, const char *location)
{
	struct MHD_Response *res = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ok;

	if (!res)
		return MHD_NO;
	add_headers(r, res, "text/plain; charset=utf-8");
	MHD_add_response_header(res, "Location", location);
	ok = MHD_queue_response(r->con, MHD_HTTP_SEE_OTHER, res);
	MHD_destroy_response(res);
	log_info("%s %s %s 303 %s", r->source, r->method, r->path, location);
	web_metrics_count(MHD_HTTP_SEE_OTHER);
	return ok;
}

enum MHD_Result http_json(struct web_req *r, unsigned status, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	enum MHD_Result ok = http_send(r, status, "application/json", text, strlen(text));
	free(text);
	json_decref(obj);
	return ok;
}
