/*
 * test_card_subscriber.c: the station side of the subscriber's card operations that runs
 * without a card: languages, the message table (every line in zh-TW and en, with the same
 * printf conversions in both, so a translation cannot crash sub_say), secrets read from
 * stdin (newline and CR trimmed, empty and over-long input refused and wiped), and the new
 * PIN rules (policy, confirmation).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../card/subscriber.h"
#include "derive.h"

/* Make stdin read TEXT from the start. */
static void feed(const char *text)
{
	char path[] = "/tmp/test_card_subscriber.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_non_null(freopen(path, "r", stdin));
	unlink(path);
}

/* Run sub_new_pin with stdout (its messages) out of the TAP stream. */
static int new_pin_quiet(const struct sub *s, char *pin)
{
	int saved = dup(STDOUT_FILENO), devnull = open("/dev/null", O_WRONLY), rc;

	fflush(stdout);
	dup2(devnull, STDOUT_FILENO);
	rc = sub_new_pin(s, pin);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(devnull);
	return rc;
}

/* The printf conversions of FMT, in order, as a string ("%d%s"). */
static void conversions(const char *fmt, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = fmt; *p && n + 2 < cap; p++) {
		if (*p != '%')
			continue;
		p++;
		while (*p && strchr("0123456789.-+ #l", *p))
			p++;
		if (!*p)
			break;
		out[n++] = '%';
		out[n++] = *p;
	}
	out[n] = '\0';
}

static void test_lang(void **state)
{
	enum sub_lang l = SUB_LANG_EN;

	(void)state;
	assert_int_equal(sub_lang_parse("zh-TW", &l), 0);
	assert_int_equal(l, SUB_LANG_ZH);
	assert_int_equal(sub_lang_parse("en", &l), 0);
	assert_int_equal(l, SUB_LANG_EN);
	assert_int_equal(sub_lang_parse("zh", &l), 0);
	assert_int_equal(l, SUB_LANG_ZH);
	assert_int_equal(sub_lang_parse("fr", &l), -1);
	assert_int_equal(sub_lang_parse("", &l), -1);
}

static void test_messages(void **state)
{
	struct sub zh = { .lang = SUB_LANG_ZH }, en = { .lang = SUB_LANG_EN };
	char a[32], b[32];

	(void)state;
	for (int m = 0; m < SUB_MSG_COUNT; m++) {
		assert_non_null(sub_text(&zh, (enum sub_msg)m));
		assert_non_null(sub_text(&en, (enum sub_msg)m));
		assert_true(strlen(sub_text(&zh, (enum sub_msg)m)) > 0);
		assert_true(strlen(sub_text(&en, (enum sub_msg)m)) > 0);
		conversions(sub_text(&zh, (enum sub_msg)m), a, sizeof a);
		conversions(sub_text(&en, (enum sub_msg)m), b, sizeof b);
		assert_string_equal(a, b);
	}
	/* The words the subscriber and the tests look for. */
	assert_string_equal(sub_text(&en, SUB_CARD_VERIFIED), "card verified");
	assert_string_equal(sub_text(&en, SUB_UNLOCKED), "card unlocked and PIN reset");
}

static void test_secret(void **state)
{
	struct sub s = { .lang = SUB_LANG_EN };
	char buf[16];

	(void)state;
	feed("hunter22\r\nsecond\n\n");
	assert_int_equal(sub_secret(&s, SUB_ASK_PASSWORD, buf, sizeof buf), 0);
	assert_string_equal(buf, "hunter22");
	assert_int_equal(sub_secret(&s, SUB_ASK_PASSWORD, buf, sizeof buf), 0);
	assert_string_equal(buf, "second");
	assert_int_equal(sub_secret(&s, SUB_ASK_PASSWORD, buf, sizeof buf), -1);	/* empty line */
	assert_int_equal(sub_secret(&s, SUB_ASK_PASSWORD, buf, sizeof buf), -1);	/* end of input */

	feed("a-password-longer-than-the-buffer\n");
	assert_int_equal(sub_secret(&s, SUB_ASK_PASSWORD, buf, sizeof buf), -1);
	for (size_t i = 0; i < sizeof buf; i++)
		assert_int_equal(buf[i], 0);	/* wiped, not left half read */

	feed("pw-at-eof");	/* the last line of a file may lack its newline */
	assert_int_equal(sub_secret(&s, SUB_ASK_PASSWORD, buf, sizeof buf), 0);
	assert_string_equal(buf, "pw-at-eof");
}

static void test_new_pin(void **state)
{
	struct sub s = { .lang = SUB_LANG_EN };
	char pin[DERIVE_PIN_MAX + 1];

	(void)state;
	feed("48260317\n48260317\n");
	assert_int_equal(new_pin_quiet(&s, pin), 0);
	assert_string_equal(pin, "48260317");

	feed("592817\n592817\n");
	assert_int_equal(new_pin_quiet(&s, pin), 0);
	assert_string_equal(pin, "592817");

	feed("48260317\n48260318\n");	/* confirmation differs */
	assert_int_equal(new_pin_quiet(&s, pin), -1);
	feed("123456\n123456\n");	/* a sequence */
	assert_int_equal(new_pin_quiet(&s, pin), -1);
	feed("777777\n777777\n");	/* one digit */
	assert_int_equal(new_pin_quiet(&s, pin), -1);
	feed("12345\n12345\n");		/* too short */
	assert_int_equal(new_pin_quiet(&s, pin), -1);
	feed("482603175\n482603175\n");	/* too long */
	assert_int_equal(new_pin_quiet(&s, pin), -1);
	feed("4826a317\n4826a317\n");	/* not digits */
	assert_int_equal(new_pin_quiet(&s, pin), -1);
	feed("48260317\n");		/* no confirmation */
	assert_int_equal(new_pin_quiet(&s, pin), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lang),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_new_pin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
