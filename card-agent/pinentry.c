/*
 * pinentry.c: the subscriber's own prompt. A pinentry program (pinentry-gnome3,
 * pinentry-qt, pinentry-curses ...: the one GnuPG uses) is started for one operation and
 * spoken to in the Assuan protocol over two pipes: SETDESC / SETPROMPT, then GETPIN (the
 * answer comes back as a "D" line, percent-escaped) or CONFIRM (OK, or ERR when the
 * subscriber refuses).
 *
 * Rules: the secret is decoded straight into the caller's buffer and every line that
 * carried it is wiped; nothing read from pinentry is logged; the program gets no argument
 * from the page. Descriptions are percent-escaped as Assuan requires, so a page cannot
 * inject a command through the text it causes to be shown.
 */
#include "agent.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define PINENTRY_LINE 1002	/* Assuan's line limit, with the newline and a NUL */

struct pinentry {
	pid_t pid;
	int to, from;		/* our ends of its stdin and stdout */
};

/* Read one line (without the newline) into LINE. 0/-1. */
static int pe_read(pinentry_t *p, char line[PINENTRY_LINE])
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(p->from, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 >= PINENTRY_LINE)
			return -1;
		line[n++] = c;
	}
	line[n] = '\0';
	return 0;
}

/* Write all of BUF. 0/-1. */
static int pe_write(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Send one command: VERB and, if not NULL, ARG percent-escaped. 0/-1. */
static int pe_send(pinentry_t *p, const char *verb, const char *arg)
{
	char line[PINENTRY_LINE];
	size_t n = (size_t)snprintf(line, sizeof line, "%s", verb);

	if (arg) {
		line[n++] = ' ';
		for (const char *s = arg; *s && n + 4 < sizeof line; s++) {
			if (*s == '%' || *s == '\n' || *s == '\r' || (unsigned char)*s < 0x20)
				n += (size_t)snprintf(line + n, sizeof line - n, "%%%02X", (unsigned char)*s);
			else
				line[n++] = *s;
		}
	}
	line[n++] = '\n';
	return pe_write(p->to, line, n);
}

/* Read lines until OK (0) or ERR (1); comments and status lines are skipped. -1 broken. */
static int pe_status(pinentry_t *p)
{
	char line[PINENTRY_LINE];

	for (;;) {
		if (pe_read(p, line) < 0)
			return -1;
		if (strncmp(line, "OK", 2) == 0 && (!line[2] || line[2] == ' '))
			return 0;
		if (strncmp(line, "ERR", 3) == 0)
			return 1;
		if (line[0] != '#' && line[0] != 'S')
			return -1;
	}
}

/* A command whose answer must be OK. 0/-1. */
static int pe_cmd(pinentry_t *p, const char *verb, const char *arg)
{
	return pe_send(p, verb, arg) == 0 && pe_status(p) == 0 ? 0 : -1;
}

pinentry_t *pinentry_new(const char *prog)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	pinentry_t *p = xcalloc(1, sizeof *p);

	p->pid = -1;
	if (pipe(in) < 0 || pipe(out) < 0)
		goto fail;
	if ((p->pid = fork()) < 0)
		goto fail;
	if (p->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execlp(prog, prog, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->to = in[1];
	p->from = out[0];
	if (pe_status(p) != 0) {
		log_err("pinentry program %s did not greet (is it installed?)", prog);
		pinentry_destroy(&p);
		return NULL;
	}
	pe_cmd(p, "SETTITLE", "card-agent");
	return p;
fail:
	log_err("cannot start pinentry program %s: %s", prog, strerror(errno));
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	free(p);
	return NULL;
}

void pinentry_destroy(pinentry_t **pp)
{
	pinentry_t *p = pp ? *pp : NULL;
	int st;

	if (!p)
		return;
	if (p->pid > 0) {
		if (pe_send(p, "BYE", NULL) == 0)
			pe_status(p);	/* its goodbye, so it never writes into a closed pipe */
		close(p->to);
		close(p->from);
		if (waitpid(p->pid, &st, WNOHANG) == 0) {
			usleep(100000);
			if (waitpid(p->pid, &st, WNOHANG) == 0) {
				kill(p->pid, SIGTERM);
				waitpid(p->pid, &st, 0);
			}
		}
	}
	free(p);
	*pp = NULL;
}

int pinentry_confirm(pinentry_t *p, const char *title, const char *desc, const char *ok, const char *cancel)
{
	int rc;

	if (pe_cmd(p, "SETTITLE", title) < 0 || pe_cmd(p, "SETDESC", desc) < 0 || pe_cmd(p, "SETOK", ok) < 0 ||
	    pe_cmd(p, "SETCANCEL", cancel) < 0 || pe_send(p, "CONFIRM", NULL) < 0)
		return -1;
	rc = pe_status(p);
	return rc < 0 ? -1 : rc == 0;
}

/* Decode Assuan's percent escapes of SRC into DST (CAP bytes). 0/-1 (too long, bad). */
static int pe_unescape(const char *src, char *dst, size_t cap)
{
	size_t n = 0;

	for (const char *s = src; *s; s++) {
		unsigned v;
		if (n + 1 >= cap)
			return -1;
		if (*s == '%') {
			if (sscanf(s + 1, "%2x", &v) != 1 || !s[1] || !s[2])
				return -1;
			dst[n++] = (char)v;
			s += 2;
		} else {
			dst[n++] = *s;
		}
	}
	dst[n] = '\0';
	return 0;
}

int pinentry_getpin(pinentry_t *p, const char *desc, const char *prompt, char *buf, size_t cap)
{
	char line[PINENTRY_LINE];
	int rc = -1, got = 0;

	buf[0] = '\0';
	if (pe_cmd(p, "SETDESC", desc) < 0 || pe_cmd(p, "SETPROMPT", prompt) < 0 || pe_send(p, "GETPIN", NULL) < 0)
		goto out;
	for (;;) {
		if (pe_read(p, line) < 0)
			goto out;
		if (line[0] == 'D' && line[1] == ' ') {
			if (got || pe_unescape(line + 2, buf, cap) < 0)
				goto out;
			got = 1;
		} else if (strncmp(line, "OK", 2) == 0) {
			rc = got && buf[0] ? 0 : -1;
			break;
		} else if (strncmp(line, "ERR", 3) == 0) {
			break;	/* cancelled */
		} else if (line[0] != '#' && line[0] != 'S') {
			goto out;
		}
	}
out:
	OPENSSL_cleanse(line, sizeof line);
	if (rc < 0)
		OPENSSL_cleanse(buf, cap);
	return rc;
}
