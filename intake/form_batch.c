/*
 * form_batch.c: forms read from a file of mailed forms (YAML or CSV), for `ra-intake
 * import` and `--file` (see form_batch.h). Each entry becomes a form through form.h's
 * calls, so a batch is normalised and checked exactly as a keyed form; an entry that
 * cannot be read keeps its line and the reason, and never stops the others.
 */
#include "form_batch.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static struct form_item *batch_add(form_batch_t *b, long line)
{
	b->items = xrealloc(b->items, (b->n + 1) * sizeof *b->items);
	memset(&b->items[b->n], 0, sizeof b->items[b->n]);
	b->items[b->n].line = line;
	return &b->items[b->n++];
}

void form_batch_destroy(form_batch_t **b)
{
	if (!b || !*b)
		return;
	for (size_t i = 0; i < (*b)->n; i++) {
		form_destroy(&(*b)->items[i].form);
		free((*b)->items[i].error);
	}
	free((*b)->items);
	free(*b);
	*b = NULL;
}

/* A value node as text: a scalar, or a sequence of scalars joined with ",". */
static int yaml_text(yaml_document_t *doc, yaml_node_t *n, char **out, char **err)
{
	*out = NULL;
	if (n->type == YAML_SCALAR_NODE) {
		const char *s = (const char *)n->data.scalar.value;
		/* A plain ~ or null is YAML's "nothing": the field is absent. */
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (strcmp(s, "~") == 0 || strcmp(s, "null") == 0))
			return 0;
		*out = xstrdup(s);
		return 0;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		char *acc = xstrdup("");
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		    i < n->data.sequence.items.top; i++) {
			yaml_node_t *it = yaml_document_get_node(doc, *i);
			char *t;
			if (!it || it->type != YAML_SCALAR_NODE) {
				free(acc);
				*err = xstrdup("list items must be plain values");
				return -1;
			}
			t = xasprintf("%s%s%s", acc, *acc ? "," : "", (const char *)it->data.scalar.value);
			free(acc);
			acc = t;
		}
		*out = acc;
		return 0;
	}
	*err = xstrdup("must be a value, not a mapping");
	return -1;
}

static void yaml_form(yaml_document_t *doc, yaml_node_t *map, enum form_kind def,
    form_batch_t *b)
{
	struct form_item *it = batch_add(b, (long)map->start_mark.line + 1);
	enum form_kind kind = def;
	yaml_node_pair_t *pr;

	if (map->type != YAML_MAPPING_NODE) {
		it->error = xstrdup("a form must be a mapping of field: value");
		return;
	}
	/* The kind decides which fields exist, so it is read first wherever it stands. */
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, "kind") == 0 &&
		    (!v || v->type != YAML_SCALAR_NODE || form_kind_parse((char *)v->data.scalar.value, &kind) < 0)) {
			it->error = xasprintf("line %lu: kind: unknown form kind", (unsigned long)k->start_mark.line + 1);
			return;
		}
	}
	it->form = form_new(kind);
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		const char *name;
		char *text = NULL, *err = NULL;

		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			it->error = xstrdup("field names must be plain text");
			goto bad;
		}
		name = (const char *)k->data.scalar.value;
		if (strcmp(name, "kind") == 0)
			continue;
		if (form_get(it->form, name)) {
			it->error = xasprintf("line %lu: %s: given twice", (unsigned long)k->start_mark.line + 1, name);
			goto bad;
		}
		if (v->type == YAML_SEQUENCE_NODE && form_field_find(kind, name) &&
		    !form_field_find(kind, name)->is_list) {
			it->error = xasprintf("line %lu: %s: must be a single value, not a list",
			    (unsigned long)v->start_mark.line + 1, name);
			goto bad;
		}
		if (yaml_text(doc, v, &text, &err) < 0 || form_set(it->form, name, text, &err) < 0) {
			it->error = xasprintf("line %lu: %s", (unsigned long)k->start_mark.line + 1, err);
			free(err);
			free(text);
			goto bad;
		}
		free(text);
	}
	return;
bad:
	form_destroy(&it->form);
}

form_batch_t *form_batch_parse_yaml(const char *text, size_t len, enum form_kind def,
    char **err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	form_batch_t *b = NULL;

	if (!yaml_parser_initialize(&parser)) {
		*err = xstrdup("out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		*err = xasprintf("line %lu: %s", (unsigned long)parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		*err = xstrdup("the file holds no form");
		goto out;
	}
	b = xcalloc(1, sizeof *b);
	if (root->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = root->data.sequence.items.start;
		    i < root->data.sequence.items.top; i++)
			yaml_form(&doc, yaml_document_get_node(&doc, *i), def, b);
	} else if (root->type == YAML_MAPPING_NODE) {
		yaml_form(&doc, root, def, b);
	} else {
		*err = xstrdup("expected a form (a mapping) or a list of forms");
		form_batch_destroy(&b);
	}
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return b;
}

/* One CSV record: its cells and the line it starts on. */
struct csv_row {
	char **cell;
	size_t n;
	long line;
	const char *error;
};

static void csv_row_free(struct csv_row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->cell[i]);
	free(r->cell);
	memset(r, 0, sizeof *r);
}

/*
 * Read the record at *P (RFC 4180: comma-separated, fields may be quoted with '"', a
 * doubled quote inside is a quote, quoted fields may span lines; CRLF or LF). Advances
 * *P and *LINE. Returns 0, or -1 at the end of the text.
 */
static int csv_next(const char **p, const char *end, long *line, struct csv_row *r)
{
	const char *s = *p;
	size_t cap = 64, len = 0;
	char *buf;

	memset(r, 0, sizeof *r);
	if (s >= end)
		return -1;
	r->line = *line;
	buf = xmalloc(cap);
	for (;;) {
		int quoted = 0;
		len = 0;
		if (s < end && *s == '"') {
			quoted = 1;
			s++;
			for (;;) {
				if (s >= end) {
					r->error = "a quoted field is not closed";
					break;
				}
				if (*s == '"' && s + 1 < end && s[1] == '"') {
					s += 2;
					buf[len++] = '"';
				} else if (*s == '"') {
					s++;
					break;
				} else {
					if (*s == '\n')
						(*line)++;
					buf[len++] = *s++;
				}
				if (len + 2 >= cap)
					buf = xrealloc(buf, cap *= 2);
			}
		}
		while (s < end && *s != ',' && *s != '\n' && !(*s == '\r' && s + 1 < end && s[1] == '\n')) {
			if (quoted && !r->error)
				r->error = "text after a closing quote";
			buf[len++] = *s++;
			if (len + 2 >= cap)
				buf = xrealloc(buf, cap *= 2);
		}
		buf[len] = '\0';
		r->cell = xrealloc(r->cell, (r->n + 1) * sizeof *r->cell);
		r->cell[r->n++] = xstrdup(buf);
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s < end && *s == '\r')
			s++;
		if (s < end && *s == '\n') {
			s++;
			(*line)++;
		}
		break;
	}
	free(buf);
	*p = s;
	return 0;
}

static int csv_blank(const struct csv_row *r)
{
	return r->n == 1 && r->cell[0][strspn(r->cell[0], " \t\r")] == '\0';
}

/* Whether NAME is a field of any kind. */
static int any_kind_has(const char *name)
{
	for (int k = 0; k < FORM_NKINDS; k++)
		if (form_field_find((enum form_kind)k, name))
			return 1;
	return 0;
}

static void csv_form(const struct csv_row *hdr, int kind_col, const struct csv_row *r,
    enum form_kind def, form_batch_t *b)
{
	struct form_item *it = batch_add(b, r->line);
	enum form_kind kind = def;

	if (r->error) {
		it->error = xstrdup(r->error);
		return;
	}
	if (r->n != hdr->n) {
		it->error = xasprintf("has %zu fields, the header has %zu", r->n, hdr->n);
		return;
	}
	if (kind_col >= 0 && *r->cell[kind_col] && form_kind_parse(r->cell[kind_col], &kind) < 0) {
		it->error = xasprintf("kind: unknown form kind \"%s\"", r->cell[kind_col]);
		return;
	}
	it->form = form_new(kind);
	for (size_t i = 0; i < r->n; i++) {
		char *e = NULL;
		if ((int)i == kind_col || !*r->cell[i])
			continue;
		if (form_set(it->form, hdr->cell[i], r->cell[i], &e) < 0) {
			it->error = xasprintf("%s (a %s form)", e, form_kind_name(kind));
			free(e);
			form_destroy(&it->form);
			return;
		}
	}
}

form_batch_t *form_batch_parse_csv(const char *text, size_t len, enum form_kind def,
    char **err)
{
	const char *p = text, *end = text + len;
	struct csv_row hdr, r;
	long line = 1;
	int kind_col = -1;
	form_batch_t *b = NULL;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	{
		/* A spreadsheet saved in Big5 would fail row by row; say it once, plainly. */
		char *copy = xmalloc(len + 1);
		long ok;
		memcpy(copy, text, len);
		copy[len] = '\0';
		ok = strlen(copy) == len ? form_utf8_len(copy) : -1;
		free(copy);
		if (ok < 0) {
			*err = xstrdup("the file is not UTF-8 text (save the spreadsheet as \"CSV UTF-8\")");
			return NULL;
		}
	}
	do {
		if (csv_next(&p, end, &line, &hdr) < 0) {
			*err = xstrdup("the file is empty: a header line naming the fields is needed");
			return NULL;
		}
	} while (csv_blank(&hdr) && (csv_row_free(&hdr), 1));
	if (hdr.error) {
		*err = xasprintf("line %ld: header: %s", hdr.line, hdr.error);
		goto out;
	}
	for (size_t i = 0; i < hdr.n; i++) {
		char *t = form_trim(hdr.cell[i]);
		free(hdr.cell[i]);
		hdr.cell[i] = t;
		if (strcmp(t, "kind") == 0) {
			kind_col = (int)i;
		} else if (!any_kind_has(t)) {
			*err = xasprintf("line %ld: header: \"%s\" is not a form field", hdr.line, t);
			goto out;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(hdr.cell[j], t) == 0) {
				*err = xasprintf("line %ld: header: \"%s\" appears twice", hdr.line, t);
				goto out;
			}
		}
	}
	b = xcalloc(1, sizeof *b);
	while (csv_next(&p, end, &line, &r) == 0) {
		if (!csv_blank(&r))
			csv_form(&hdr, kind_col, &r, def, b);
		csv_row_free(&r);
	}
out:
	csv_row_free(&hdr);
	return b;
}

static int ends_with_csv(const char *path)
{
	size_t n = strlen(path);
	return n >= 4 && strcasecmp(path + n - 4, ".csv") == 0;
}

form_batch_t *form_batch_load(const char *path, enum form_kind def, char **err)
{
	size_t len;
	char *text = file_read(path, &len);
	form_batch_t *b;

	if (!text) {
		*err = xasprintf("%s: cannot read the file", path);
		return NULL;
	}
	b = ends_with_csv(path) ? form_batch_parse_csv(text, len, def, err)
	    : form_batch_parse_yaml(text, len, def, err);
	free(text);
	return b;
}
