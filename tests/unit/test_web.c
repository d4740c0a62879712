/*
 * test_web.c: ra-web's pieces that need no daemon: the route table's rules (every form
 * that changes state needs the CSRF token; the subscriber API needs the site's token),
 * form parsing (a field given twice is refused), the rate limit's allowance, the one
 * answer for an unknown account and a wrong password, and the verification code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <string.h>

#include "../../web/web.h"
#include "util.h"

/* The id in a Set-Cookie header, into OUT (65 bytes). */
static void cookie_id(const char *set_cookie, char *out)
{
	const char *eq = strchr(set_cookie, '=');
	assert_non_null(eq);
	memcpy(out, eq + 1, 64);
	out[64] = '\0';
}

/* Sessions: a login changes the id; the idle and the absolute timeouts end a session,
 * moved there by the one clock (RA_NOW semantics, clock_set), not by sleeping. */
static void sessions(void **state)
{
	char *errors = NULL;
	config_t *cfg = config_load(NULL, &errors);
	struct web w = { .cfg = cfg };
	struct web_req r = { .w = &w };
	char id[65], id2[65], csrf[65];
	json_t *certs = json_pack("[{s:s}]", "serial", "0a");
	time_t t0 = ra_now();
	char when[32];
	(void)state;

	assert_non_null(cfg);
	w.sessions = session_store_new(cfg);
	assert_int_equal(session_attach(&r, NULL, 0), -1);	/* no cookie, no session made */
	assert_int_equal(session_attach(&r, NULL, 1), 0);
	cookie_id(r.set_cookie, id);
	strcpy(csrf, r.s.csrf);
	assert_int_equal(strlen(csrf), 64);
	assert_int_equal(session_attach(&r, id, 0), 1);
	assert_string_equal(r.s.csrf, csrf);	/* the token belongs to the session */
	assert_false(r.s.logged_in);
	session_login(&r, "u12345678", certs);
	cookie_id(r.set_cookie, id2);
	assert_string_not_equal(id, id2);	/* no fixation */
	assert_string_not_equal(r.s.csrf, csrf);
	assert_int_equal(session_attach(&r, id, 0), -1);	/* the visitor id is gone */
	assert_int_equal(session_attach(&r, id2, 0), 1);
	assert_true(r.s.logged_in);
	assert_string_equal(r.s.account, "u12345678");

	/* idle: web.session_idle_s (600) unused ends it */
	snprintf(when, sizeof when, "%lld", (long long)(t0 + 599));
	assert_int_equal(clock_set(when), 0);
	assert_int_equal(session_attach(&r, id2, 0), 1);
	snprintf(when, sizeof when, "%lld", (long long)(t0 + 599 + 601));
	assert_int_equal(clock_set(when), 0);
	assert_int_equal(session_attach(&r, id2, 0), -1);

	/* absolute: web.session_max_s (3600) after login, however busy */
	assert_int_equal(session_attach(&r, NULL, 1), 0);
	cookie_id(r.set_cookie, id);
	session_login(&r, "u12345678", certs);
	cookie_id(r.set_cookie, id);
	for (int m = 1; m < 60; m++) {
		snprintf(when, sizeof when, "%lld", (long long)(t0 + 1200 + m * 60));
		assert_int_equal(clock_set(when), 0);
		assert_int_equal(session_attach(&r, id, 0), 1);
	}
	snprintf(when, sizeof when, "%lld", (long long)(t0 + 1200 + 3600));
	assert_int_equal(clock_set(when), 0);
	assert_int_equal(session_attach(&r, id, 0), -1);

	/* logout ends it at once */
	assert_int_equal(session_attach(&r, NULL, 1), 0);
	cookie_id(r.set_cookie, id);
	session_end(&r);
	assert_non_null(strstr(r.set_cookie, "Max-Age=0"));
	assert_int_equal(session_attach(&r, id, 0), -1);
	assert_int_equal(session_attach(&r, "not-a-session-id", 0), -1);

	free(r.set_cookie);
	json_decref(certs);
	session_store_destroy(&w.sessions);
	config_destroy(&cfg);
}

static void route_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < web_nroutes; i++) {
		const struct web_route *r = &web_routes[i];
		int api = strncmp(r->path, "/api/", 5) == 0;
		if (strcmp(r->method, "POST") == 0 && !api)
			assert_int_equal(r->csrf, 1);	/* a page's state change without CSRF: a hole */
		/* An API change of state needs the site's token, or is a card agent's step,
		 * which carries its own proof (web/api_card.c). */
		if (api && strcmp(r->method, "POST") == 0)
			assert_true(r->who == WHO_SITE || (r->who == WHO_CARD && strncmp(r->path, "/api/v1/card/", 13) == 0));
		if (r->who == WHO_CARD)
			assert_true(api && strcmp(r->method, "POST") == 0);
		if (api)
			assert_int_equal(strncmp(r->path, "/api/v1/", 8), 0);
		for (size_t j = 0; j < i; j++)	/* no route listed twice */
			assert_false(strcmp(r->method, web_routes[j].method) == 0 && strcmp(r->path, web_routes[j].path) == 0);
	}
}

static void form_parsing(void **state)
{
	struct web_req r = { 0 };
	(void)state;

	r.body = strdup("account=u12345678&reason=lost+card%21&x=");
	r.body_len = strlen(r.body);
	assert_int_equal(http_parse_form(&r), 0);
	assert_string_equal(http_field(&r, "account"), "u12345678");
	assert_string_equal(http_field(&r, "reason"), "lost card!");
	assert_string_equal(http_field(&r, "x"), "");
	assert_null(http_field(&r, "password"));
	http_wipe(&r);
	assert_null(r.body);
	r.body = strdup("csrf=a&password=one&password=two");
	r.body_len = strlen(r.body);
	assert_int_equal(http_parse_form(&r), -1);
	http_wipe(&r);
	r.body = strdup("reason=%ff%fe");	/* not UTF-8 */
	r.body_len = strlen(r.body);
	assert_int_equal(http_parse_form(&r), -1);
	http_wipe(&r);
}

static void rate_limit(void **state)
{
	web_ratelimit_t *rl = ratelimit_new(1, 3);
	(void)state;

	for (int i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(rl, "192.0.2.1"), 1);
	assert_int_equal(ratelimit_take(rl, "192.0.2.1"), 0);
	assert_int_equal(ratelimit_take(rl, "192.0.2.2"), 1);	/* another source has its own allowance */
	ratelimit_destroy(&rl);
	assert_null(rl);
}

static void one_answer(void **state)
{
	json_t *unknown = json_pack("{s:b,s:s,s:s,s:s}", "ok", 0, "code", "unknown", "error", "no account u1",
	    "error_zh", "查無帳號 u1");
	json_t *wrong = json_pack("{s:b,s:s,s:s,s:s,s:i}", "ok", 0, "code", "wrong_password", "error",
	    "wrong password: 2 tries left", "error_zh", "密碼錯誤", "tries_left", 2);
	json_t *locked = json_pack("{s:b,s:s,s:s,s:s}", "ok", 0, "code", "locked", "error", "locked: file a form",
	    "error_zh", "帳號已鎖定");
	const char *a, *b;
	(void)state;

	for (int en = 0; en < 2; en++) {
		assert_string_equal(text_refusal(unknown, en, &a), "denied");
		assert_string_equal(text_refusal(wrong, en, &b), "denied");
		assert_string_equal(a, b);
		assert_string_equal(a, text_denied(en));
	}
	assert_string_equal(text_refusal(locked, 0, &a), "locked");
	assert_string_equal(a, "帳號已鎖定");
	json_decref(unknown);
	json_decref(wrong);
	json_decref(locked);
}

static void verification_code(void **state)
{
	char code[CAPTCHA_LEN + 1], other[CAPTCHA_LEN + 1];
	uint8_t *png;
	size_t len = 0;
	(void)state;

	captcha_code(code);
	captcha_code(other);
	assert_int_equal(strlen(code), CAPTCHA_LEN);
	assert_int_equal(strspn(code, "ABCDEFGHJKMNPQRSTUVWXYZ23456789"), CAPTCHA_LEN);
	assert_string_not_equal(code, other);	/* 31^5 codes: equal twice is a broken RNG */
	png = captcha_png(code, &len);
	assert_non_null(png);
	assert_true(len > 500);
	assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
	free(png);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(route_rules), cmocka_unit_test(form_parsing), cmocka_unit_test(rate_limit),
		cmocka_unit_test(one_answer), cmocka_unit_test(verification_code), cmocka_unit_test(sessions),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	/* cairo's toy font cache and fontconfig's configuration live until exit by design;
	 * free them so a leak checker sees only the project's own memory. */
	cairo_debug_reset_static_data();
	FcFini();
	return failed;
}
