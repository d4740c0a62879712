/*
 * secret_read.h: reading a secret someone types (a passphrase, a password, a PIN) without
 * echo, or one line of it from a file or a pipe when nobody types (scripts, tests). The
 * one place that turns the terminal's echo off and back on; its users are the officers'
 * passphrase (lib/officer.c), ra-self's password (intake/ra-self.c) and the card
 * station's subscriber secrets (card/subscriber.c).
 */
#ifndef RA_SECRET_READ_H
#define RA_SECRET_READ_H

#include <stddef.h>
#include <stdio.h>

/*
 * One line from IN into BUF (CAP bytes), the line end ("\n" or "\r\n") dropped. If IN is
 * a terminal, PROMPT (unless NULL) goes to OUT first, IN's echo is off while the line is
 * typed and a newline goes to OUT after it; else the next line of IN is read as it is
 * (the last line of a file may lack its newline). 0; -1 if no line, an empty one or one
 * longer than CAP - 1 bytes: then BUF is wiped. The caller wipes BUF after use.
 */
int secret_read_line(FILE *in, FILE *out, const char *prompt, char *buf, size_t cap);

/* The same into a new string of at most SECRET_READ_MAX bytes: NULL for -1. Free with
 * secret_read_free(). */
#define SECRET_READ_MAX 1023
char *secret_read(FILE *in, FILE *out, const char *prompt);

/* The same asked on the controlling terminal (/dev/tty), whatever stdin is. NULL if there
 * is no terminal (*NO_TTY set to 1) or no line (*NO_TTY set to 0). */
char *secret_read_tty(const char *prompt, int *no_tty);

/* Wipe and free S (NULL is fine). */
void secret_read_free(char *s);

#endif
