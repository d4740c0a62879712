/*
 * test_mail_template.c: {{key}} substitution, HTML escaping of values, missing values as
 * errors, language choice, that every shipped template expands with the values the
 * notifier gives it, and that a template set reads each file once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../notifier/template.h"

static void test_expand(void **state)
{
	(void)state;
	template_vars_t *v = template_vars_new();
	char *err = NULL;
	template_vars_set(v, "name", "王<b>&\"");
	template_vars_set(v, "n", "1");
	template_vars_set(v, "n", "2");
	char *s = template_expand("Hi {{name}}, {{ n }}.", v, 0, &err);
	assert_string_equal(s, "Hi 王<b>&\", 2.");
	free(s);
	s = template_expand("<p>{{name}}</p>", v, 1, &err);
	assert_string_equal(s, "<p>王&lt;b&gt;&amp;&quot;</p>");
	free(s);
	assert_null(template_expand("{{missing}}", v, 0, &err));
	assert_non_null(strstr(err, "missing"));
	free(err);
	assert_null(template_expand("x {{name", v, 0, &err));
	assert_non_null(strstr(err, "unterminated"));
	free(err);
	template_vars_destroy(&v);
	assert_null(v);
}

static void test_lang(void **state)
{
	(void)state;
	assert_string_equal(template_lang("en"), "en");
	assert_string_equal(template_lang("en-GB"), "en");
	assert_string_equal(template_lang("zh-TW"), "zh-TW");
	assert_string_equal(template_lang(NULL), "zh-TW");
	assert_string_equal(template_lang("fr"), "zh-TW");
}

static void test_shipped(void **state)
{
	(void)state;
	const char *top = getenv("RA_TOP");
	char dir[4096];
	static const char *const names[] = { "renewal", "revocation", "suspension", "resume", "sheet",
		"summary", "password_reset", "password_change" };
	static const char *const keys[] = { "name", "account_id", "expiry", "certificates", "date",
		"sheet_title", "sheet_serial", "password_rule", "sent", "failed", "undeliverable",
		"details", "job", "phone", "website", "hours" };
	snprintf(dir, sizeof dir, "%s/config/templates", top ? top : ".");
	template_vars_t *v = template_vars_new();
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		template_vars_set(v, keys[i], "<X>");
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			struct template_mail m;
			assert_int_equal(template_mail(dir, l ? "en" : "zh-TW", names[i], v, &m), 0);
			assert_non_null(m.subject);
			assert_null(strchr(m.subject, '\n'));
			assert_non_null(strstr(m.text, "<X>"));
			if (m.html)
				assert_non_null(strstr(m.html, "&lt;X&gt;"));
			template_mail_clear(&m);
		}
	struct template_mail m;
	assert_int_equal(template_mail(dir, "en", "no-such-template", v, &m), -1);
	template_vars_destroy(&v);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A run's set reads a file once: an edit during the run waits for the next run. */
static void test_set_reads_once(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_mail_template.XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/en", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/en/n.txt", dir);
	put(path, "Subject: Hi {{name}}\n\nDear {{name}},\n");
	template_vars_t *v = template_vars_new();
	template_vars_set(v, "name", "A<B");
	template_set_t *set = template_set_new(dir);
	struct template_mail m;
	assert_int_equal(template_set_mail(set, "en", "n", v, &m), 0);
	assert_string_equal(m.subject, "Hi A<B");
	assert_string_equal(m.text, "Dear A<B,\n");
	assert_null(m.html);
	template_mail_clear(&m);
	put(path, "Subject: Changed\n\nChanged\n");
	assert_int_equal(template_set_mail(set, "en", "n", v, &m), 0);
	assert_string_equal(m.subject, "Hi A<B");
	template_mail_clear(&m);
	/* a missing template fails every time it is asked for, not only the first */
	assert_int_equal(template_set_mail(set, "en", "gone", v, &m), -1);
	assert_null(m.subject);
	assert_int_equal(template_set_mail(set, "en", "gone", v, &m), -1);
	template_set_destroy(&set);
	assert_null(set);
	/* the next run sees the edit */
	assert_int_equal(template_mail(dir, "en", "n", v, &m), 0);
	assert_string_equal(m.subject, "Changed");
	template_mail_clear(&m);
	template_vars_destroy(&v);
	unlink(path);
	snprintf(path, sizeof path, "%s/en", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_lang),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_set_reads_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
