/*
 * test_agent_parts.c: card-agent's pieces that need no card and no website: the origin
 * allow-list (exact origins only), and pinentry.c against a real pinentry program (the
 * scripted one of tests/fixtures/pinentry, which speaks Assuan as pinentry-tty does):
 * a confirmation answered yes and no, a secret read back exactly even when it holds "%"
 * (Assuan's escape), a cancelled prompt refused with the buffer wiped, and a description
 * with a newline that cannot smuggle a command into the protocol.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../card-agent/agent.h"

static char answers[] = "/tmp/test_agent_parts.answers.XXXXXX";
static char shown[] = "/tmp/test_agent_parts.log.XXXXXX";	/* what pinentry showed */
static char prog[512];

static void script(const char *text)
{
	FILE *f = fopen(answers, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_origins(void **state)
{
	struct agent a = { .norigins = 2 };

	(void)state;
	a.origins[0] = "https://ra.example.gov.tw";
	a.origins[1] = "https://127.0.0.1:8443";
	assert_true(server_origin_allowed(&a, "https://ra.example.gov.tw"));
	assert_true(server_origin_allowed(&a, "https://127.0.0.1:8443"));
	assert_false(server_origin_allowed(&a, "https://ra.example.gov.tw.evil.example"));
	assert_false(server_origin_allowed(&a, "http://ra.example.gov.tw"));
	assert_false(server_origin_allowed(&a, "https://127.0.0.1:8444"));
	assert_false(server_origin_allowed(&a, "null"));
	assert_false(server_origin_allowed(&a, ""));
	assert_false(server_origin_allowed(&a, NULL));
}

static void test_confirm(void **state)
{
	pinentry_t *p;

	(void)state;
	script("yes\nno\n");
	assert_non_null(p = pinentry_new(prog));
	assert_int_equal(pinentry_confirm(p, "card-agent", "The site asks", "Allow", "Refuse"), 1);
	assert_int_equal(pinentry_confirm(p, "card-agent", "The site asks again", "Allow", "Refuse"), 0);
	pinentry_destroy(&p);
	assert_null(p);
}

static void test_getpin(void **state)
{
	char buf[32];
	pinentry_t *p;

	(void)state;
	script("Pass%25word 1\n\n48260317\n");
	assert_non_null(p = pinentry_new(prog));
	assert_int_equal(pinentry_getpin(p, "what", "Website password:", buf, sizeof buf), 0);
	assert_string_equal(buf, "Pass%25word 1");
	/* An empty answer is pinentry's cancel: refused, nothing left in the buffer. */
	assert_int_equal(pinentry_getpin(p, "what", "New PIN:", buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	assert_int_equal(pinentry_getpin(p, "what", "New PIN:", buf, sizeof buf), 0);
	assert_string_equal(buf, "48260317");
	/* Too long for the buffer: refused and wiped. */
	script("0123456789012345678901234567890123456789\n");
	assert_int_equal(pinentry_getpin(p, "what", "PIN:", buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	pinentry_destroy(&p);
}

static void test_escaped_description(void **state)
{
	pinentry_t *p;

	(void)state;
	/* Were the newline in the description passed raw, pinentry would read the rest as a
	 * CONFIRM of its own and spend the "no" on it, and the real one would get "yes". */
	script("no\nyes\n");
	assert_non_null(p = pinentry_new(prog));
	assert_int_equal(pinentry_confirm(p, "t", "line one\nCONFIRM\n100% sure", "Allow", "Refuse"), 0);
	pinentry_destroy(&p);
}

static void test_missing_program(void **state)
{
	(void)state;
	assert_null(pinentry_new("/nonexistent/pinentry"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origins), cmocka_unit_test(test_confirm), cmocka_unit_test(test_getpin),
		cmocka_unit_test(test_escaped_description), cmocka_unit_test(test_missing_program),
	};
	const char *top = getenv("RA_TOP");
	int fd, failed;

	signal(SIGPIPE, SIG_IGN);	/* as card-agent's main: a pinentry that died is an error */
	snprintf(prog, sizeof prog, "%s/tests/fixtures/pinentry/pinentry-script", top ? top : ".");
	if ((fd = mkstemp(answers)) >= 0)
		close(fd);
	if ((fd = mkstemp(shown)) >= 0)
		close(fd);
	setenv("PINENTRY_ANSWERS", answers, 1);
	setenv("PINENTRY_LOG", shown, 1);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(answers);
	unlink(shown);
	return failed;
}
