/*
 * test_secret_read.c: lib/secret_read.c, the one reader of typed secrets. From a file or
 * a pipe (what scripts and tests give): a line per call, "\n" and "\r\n" dropped, empty
 * and over-long lines refused with the buffer wiped and the rest of a long line skipped.
 * From a real pseudo-terminal: the prompt is shown, what is typed is not echoed, and the
 * terminal's echo is back on afterwards.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../lib/secret_read.h"

static FILE *text_file(const char *text)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	rewind(f);
	return f;
}

static void test_lines(void **state)
{
	FILE *f = text_file("hunter22\r\nsecond\n\na-password-longer-than-the-buffer\nafter\nlast");
	char buf[16];

	(void)state;
	assert_int_equal(secret_read_line(f, stderr, "unused: ", buf, sizeof buf), 0);
	assert_string_equal(buf, "hunter22");
	assert_int_equal(secret_read_line(f, NULL, NULL, buf, sizeof buf), 0);
	assert_string_equal(buf, "second");
	assert_int_equal(secret_read_line(f, NULL, NULL, buf, sizeof buf), -1);	/* empty */
	assert_int_equal(secret_read_line(f, NULL, NULL, buf, sizeof buf), -1);	/* too long */
	for (size_t i = 0; i < sizeof buf; i++)
		assert_int_equal(buf[i], 0);	/* wiped, not left half read */
	assert_int_equal(secret_read_line(f, NULL, NULL, buf, sizeof buf), 0);
	assert_string_equal(buf, "after");	/* the long line's tail was not taken as a line */
	assert_int_equal(secret_read_line(f, NULL, NULL, buf, sizeof buf), 0);
	assert_string_equal(buf, "last");	/* no newline at the end of the file */
	assert_int_equal(secret_read_line(f, NULL, NULL, buf, sizeof buf), -1);	/* end */
	fclose(f);
}

static void test_string(void **state)
{
	FILE *f = text_file("pass phrase\n\n");
	char *s;

	(void)state;
	s = secret_read(f, NULL, NULL);
	assert_non_null(s);
	assert_string_equal(s, "pass phrase");
	secret_read_free(s);
	assert_null(secret_read(f, NULL, NULL));
	secret_read_free(NULL);
	fclose(f);
}

/* The child: read a secret from the terminal PTS; exit 0 if it came whole and echo is back. */
static void child_reads(const char *pts)
{
	FILE *t = fopen(pts, "r+");
	struct termios after;
	char buf[64];
	int ok;

	if (!t)
		_exit(3);
	setvbuf(t, NULL, _IONBF, 0);
	ok = secret_read_line(t, t, "Password: ", buf, sizeof buf) == 0 && !strcmp(buf, "s3cret-typed");
	ok = ok && tcgetattr(fileno(t), &after) == 0 && (after.c_lflag & ECHO);
	fclose(t);
	_exit(ok ? 0 : 1);
}

static void test_terminal(void **state)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), status, tries;
	struct termios now;
	char seen[512];
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	(void)state;
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	char *pts = strdup(ptsname(m));
	assert_non_null(pts);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_reads(pts);
	/* Wait for the prompt, then until the reader has turned echo off, then type. */
	while (!memmem(seen, n, "Password: ", 10)) {
		r = read(m, seen + n, sizeof seen - 1 - n);
		assert_true(r > 0);
		n += (size_t)r;
	}
	for (tries = 0; tries < 5000; tries++) {
		assert_int_equal(tcgetattr(m, &now), 0);
		if (!(now.c_lflag & ECHO))
			break;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	assert_false(now.c_lflag & ECHO);
	assert_int_equal(write(m, "s3cret-typed\n", 13), 13);
	/* All the child writes until it closes the terminal. */
	while (n < sizeof seen - 1 && (r = read(m, seen + n, sizeof seen - 1 - n)) > 0)
		n += (size_t)r;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	seen[n] = '\0';
	assert_null(strstr(seen, "s3cret"));	/* not echoed */
	assert_non_null(strstr(seen, "Password: \r\n"));	/* the prompt, then a new line */
	free(pts);
	close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_terminal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
