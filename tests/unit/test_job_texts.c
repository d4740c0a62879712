/*
 * test_job_texts.c: the refusals counter staff read (workers/job_texts.c) and
 * job_refuse(). Every entry has a code of lower-case words and both texts; the English
 * and Chinese formats take the same printf arguments in the same order (a translation
 * that does not would crash the worker); job_refuse() fills the code and both texts, and
 * a later plain job_fail() clears the refusal's code and Chinese words.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../workers/job.h"

/* The conversions of FMT with their length modifiers, in order ("%lld%s"). */
static void conversions(const char *fmt, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		while (p[1] && strchr("0123456789.-+ #*", p[1]))
			p++;
		assert_true(n + 1 < cap);
		out[n++] = '%';
		while (p[1] && strchr("hlzjt", p[1])) {
			assert_true(n + 1 < cap);
			out[n++] = *++p;
		}
		assert_non_null(p[1]);
		assert_true(n + 1 < cap);
		out[n++] = *++p;
	}
	out[n] = '\0';
}

static void test_table(void **state)
{
	char a[64], b[64];

	(void)state;
	for (int i = 0; i < JT_COUNT; i++) {
		const struct job_text_entry *t = &job_texts[i];
		assert_non_null(t->code);
		assert_non_null(t->en);
		assert_non_null(t->zh);
		assert_true(*t->code && *t->en && *t->zh);
		assert_true(strspn(t->code, "abcdefghijklmnopqrstuvwxyz_") == strlen(t->code));
		conversions(t->en, a, sizeof a);
		conversions(t->zh, b, sizeof b);
		if (strcmp(a, b) != 0)
			fail_msg("%s: \"%s\" takes %s, \"%s\" takes %s", t->code, t->en, a, t->zh, b);
	}
	/* Codes scripts match on. */
	assert_string_equal(job_texts[JT_LIVE_REGISTRATION].code, "live_registration");
	assert_string_equal(job_texts[JT_WRONG_APPLICANT_ID].code, "form_wrong_applicant_id");
	assert_string_equal(job_texts[JT_ALREADY].code, "form_not_approvable");
}

static void test_refuse(void **state)
{
	struct job_ctx ctx = { .kind = "form_approve" };
	json_t *d;

	(void)state;
	assert_int_equal(job_refuse(&ctx, JT_WRONG_APPLICANT_ID, "R2026-000001", "A123456789", "u12345678"), -1);
	assert_string_equal(ctx.code, "form_wrong_applicant_id");
	assert_string_equal(ctx.error, "form R2026-000001: the applicant ID A123456789 is not the ID number"
	    " account u12345678 was registered with");
	assert_string_equal(ctx.error_zh, "表單 R2026-000001：申請人證號 A123456789 與帳號 u12345678 註冊時的證號不符");
	assert_int_equal(ctx.retry, 0);
	d = job_error_detail(&ctx);
	assert_string_equal(json_string_value(json_object_get(d, "code")), "form_wrong_applicant_id");
	assert_non_null(json_string_value(json_object_get(d, "error_zh")));
	json_decref(d);

	assert_int_equal(job_refuse(&ctx, JT_NO_ORDER, 42LL), -1);
	assert_string_equal(ctx.error, "no card order 42");
	assert_string_equal(ctx.error_zh, "沒有卡片訂單 42");

	job_fail(&ctx, 1, "the ledger is busy");
	assert_string_equal(ctx.code, "");
	assert_string_equal(ctx.error_zh, "");
	d = job_error_detail(&ctx);
	assert_int_equal(json_object_size(d), 0);
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_refuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
