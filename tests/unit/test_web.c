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
#include <string.h>

#include "../../web/web.h"

static void route_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < web_nroutes; i++) {
		const struct web_route *r = &web_routes[i];
		int api = strncmp(r->path, "/api/", 5) == 0;
		if (strcmp(r->method, "POST") == 0 && !api)
			assert_int_equal(r->csrf, 1);	/* a page's state change without CSRF: a hole */
		if (api && strcmp(r->method, "POST") == 0)
			assert_int_equal(r->who, WHO_SITE);
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
		cmocka_unit_test(one_answer), cmocka_unit_test(verification_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
