/*
 * secret_read.c: a typed secret without echo, or a line of a file (see secret_read.h).
 *
 * Rules: the terminal's settings are always put back, even when no line came; every
 * buffer that held a secret is wiped (OPENSSL_cleanse) before it is freed or reused; a
 * line too long for the buffer is refused whole, never cut (a cut password is a
 * different password), and what is left of it on IN is read up so the next read starts
 * on a new line.
 */
#include "secret_read.h"
#include "util.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int secret_read_line(FILE *in, FILE *out, const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	int fd = fileno(in), tty = 0, rc = -1, c;
	size_t n;

	if (cap < 2 || cap > (size_t)INT_MAX)
		return -1;
	if (fd >= 0 && isatty(fd) && tcgetattr(fd, &old) == 0) {
		tty = 1;
		if (prompt && out) {
			fputs(prompt, out);
			fflush(out);
		}
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (!fgets(buf, (int)cap, in))
		goto out;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n') {
		buf[--n] = '\0';
	} else if (n + 1 == cap) {
		while ((c = getc(in)) != EOF && c != '\n')
			;	/* the rest of the refused line */
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	rc = n > 0 ? 0 : -1;
out:
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (out) {
			fputc('\n', out);
			fflush(out);
		}
	}
	if (rc < 0)
		OPENSSL_cleanse(buf, cap);
	return rc;
}

char *secret_read(FILE *in, FILE *out, const char *prompt)
{
	char buf[SECRET_READ_MAX + 1], *s = NULL;

	if (secret_read_line(in, out, prompt, buf, sizeof buf) == 0)
		s = xstrdup(buf);
	OPENSSL_cleanse(buf, sizeof buf);
	return s;
}

char *secret_read_tty(const char *prompt, int *no_tty)
{
	FILE *tty = fopen("/dev/tty", "r+");
	char *s;

	*no_tty = !tty;
	if (!tty)
		return NULL;
	setvbuf(tty, NULL, _IONBF, 0);	/* no copy of the line left in a stdio buffer */
	s = secret_read(tty, tty, prompt);
	fclose(tty);
	return s;
}

void secret_read_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}
