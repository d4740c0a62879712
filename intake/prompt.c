/*
 * prompt.c: keying a form at the counter, one field at a time.
 *
 * Each answer is checked as soon as it is typed, with the same rule the back office
 * applies, so a clerk fixes a slip while the paper is still in front of them. Fields
 * that do not belong on this form (a UBN for a person) are not asked. Input is read a
 * line at a time from the terminal or a pipe, so scripts can drive it too.
 */
#include "intake.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

const char *prompt_label(const struct intake *in, const struct form_field *fd, char *buf, size_t len)
{
	if (in->zh)
		snprintf(buf, len, "%s (%s)", fd->label_zh, fd->label_en);
	else
		snprintf(buf, len, "%s (%s)", fd->label_en, fd->label_zh);
	return buf;
}

void print_problems(FILE *out, const struct form_problem *v, size_t n, int zh, const char *indent)
{
	for (size_t i = 0; i < n; i++) {
		if (zh)
			fprintf(out, "%s%s: %s (%s)\n", indent, v[i].field, v[i].en, v[i].zh);
		else
			fprintf(out, "%s%s: %s\n", indent, v[i].field, v[i].en);
	}
}

/* One line without its end, or NULL at end of input. Caller frees. */
static char *read_line(FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/* Ask one field until its value passes (or it is left empty where that is allowed). */
static int ask(struct intake *in, form_t *f, const struct form_field *fd)
{
	char label[256];
	struct form_problem p;

	prompt_label(in, fd, label, sizeof label);
	for (;;) {
		char *line;
		fprintf(in->out, "%s [%s]: ", label, fd->hint);
		fflush(in->out);
		line = read_line(in->in);
		if (!line) {
			fprintf(in->out, "\n");
			return -1;
		}
		form_set(f, fd->name, line, NULL);
		free(line);
		if (form_check_field(f, fd->name, &p) == 0)
			return 0;
		print_problems(in->out, &p, 1, in->zh || form_wants_zh(f), "  ! ");
	}
}

int prompt_form(struct intake *in, form_t *f)
{
	const struct form_field *fd;

	for (size_t i = 0; (fd = form_field_at(form_get_kind(f), i)) != NULL; i++) {
		if (form_get(f, fd->name) || !form_applies(f, fd->name))
			continue;
		if (ask(in, f, fd) < 0)
			return -1;
	}
	return 0;
}

int prompt_fields(struct intake *in, form_t *f, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct form_field *fd = form_field_find(form_get_kind(f), fields[i]);
		if (!fd || !form_applies(f, fd->name))
			continue;
		if (ask(in, f, fd) < 0)
			return -1;
	}
	return 0;
}

void prompt_summary(struct intake *in, const form_t *f)
{
	const struct form_field *fd;
	char label[256];

	fprintf(in->out, "\n%s form:\n", form_kind_name(form_get_kind(f)));
	for (size_t i = 0; (fd = form_field_at(form_get_kind(f), i)) != NULL; i++) {
		const char *v = form_get(f, fd->name);
		if (v)
			fprintf(in->out, "  %-48s %s\n", prompt_label(in, fd, label, sizeof label), v);
	}
	fprintf(in->out, "\n");
}

int prompt_yes_no(struct intake *in, const char *question)
{
	for (;;) {
		char *line;
		fprintf(in->out, "%s (y/n): ", question);
		fflush(in->out);
		line = read_line(in->in);
		if (!line)
			return -1;
		for (char *p = line; *p; p++)
			*p = (char)(*p | 0x20);
		if (strcmp(line, "y") == 0 || strcmp(line, "yes") == 0) {
			free(line);
			return 1;
		}
		if (strcmp(line, "n") == 0 || strcmp(line, "no") == 0) {
			free(line);
			return 0;
		}
		free(line);
	}
}
