/*
 * template.c: see template.h. Deliberately tiny: no loops, no conditions. Lists (the
 * certificates of a renewal notice) are rendered by the caller into one value; the HTML
 * templates show such values with white-space: pre-line.
 */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct template_vars {
	char **key, **val;
	int n;
};

template_vars_t *template_vars_new(void)
{
	return xcalloc(1, sizeof(template_vars_t));
}

void template_vars_destroy(template_vars_t **vp)
{
	template_vars_t *v;
	if (!vp || !(v = *vp))
		return;
	for (int i = 0; i < v->n; i++) {
		free(v->key[i]);
		free(v->val[i]);
	}
	free(v->key);
	free(v->val);
	free(v);
	*vp = NULL;
}

void template_vars_set(template_vars_t *v, const char *key, const char *value)
{
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->key[i], key) == 0) {
			free(v->val[i]);
			v->val[i] = xstrdup(value ? value : "");
			return;
		}
	v->key = xrealloc(v->key, (size_t)(v->n + 1) * sizeof *v->key);
	v->val = xrealloc(v->val, (size_t)(v->n + 1) * sizeof *v->val);
	v->key[v->n] = xstrdup(key);
	v->val[v->n] = xstrdup(value ? value : "");
	v->n++;
}

static const char *vars_get(const template_vars_t *v, const char *key, size_t klen)
{
	for (int i = 0; i < v->n; i++)
		if (strlen(v->key[i]) == klen && memcmp(v->key[i], key, klen) == 0)
			return v->val[i];
	return NULL;
}

const char *template_lang(const char *language)
{
	return language && strncmp(language, "en", 2) == 0 ? "en" : "zh-TW";
}

static void out_add(char **o, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*o = xrealloc(*o, *cap);
	}
	memcpy(*o + *len, s, n);
	*len += n;
	(*o)[*len] = '\0';
}

static void out_value(char **o, size_t *len, size_t *cap, const char *val, int html)
{
	if (!html) {
		out_add(o, len, cap, val, strlen(val));
		return;
	}
	for (const char *p = val; *p; p++) {
		const char *e = NULL;
		switch (*p) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		}
		if (e)
			out_add(o, len, cap, e, strlen(e));
		else
			out_add(o, len, cap, p, 1);
	}
}

char *template_expand(const char *text, const template_vars_t *v, int html, char **err)
{
	char *o = NULL;
	size_t len = 0, cap = 0;
	const char *p = text;

	*err = NULL;
	out_add(&o, &len, &cap, "", 0);
	while (*p) {
		const char *open = strstr(p, "{{");
		if (!open) {
			out_add(&o, &len, &cap, p, strlen(p));
			break;
		}
		out_add(&o, &len, &cap, p, (size_t)(open - p));
		const char *close = strstr(open + 2, "}}");
		if (!close) {
			*err = xasprintf("unterminated placeholder at \"%.20s\"", open);
			goto fail;
		}
		const char *k = open + 2;
		size_t kl = (size_t)(close - k);
		while (kl && *k == ' ') { k++; kl--; }
		while (kl && k[kl - 1] == ' ') kl--;
		const char *val = vars_get(v, k, kl);
		if (!val) {
			*err = xasprintf("no value for {{%.*s}}", (int)kl, k);
			goto fail;
		}
		out_value(&o, &len, &cap, val, html);
		p = close + 2;
	}
	return o;
fail:
	free(o);
	return NULL;
}

void template_mail_clear(struct template_mail *out)
{
	free(out->subject);
	free(out->text);
	free(out->html);
	memset(out, 0, sizeof *out);
}

/* One template as read: the subject and body point into txt; html is NULL without NAME.html. */
struct template_file {
	char *key;			/* "LANG/NAME" */
	char *txt, *html;		/* NULL txt: unreadable or malformed (logged once) */
	const char *subject, *body;
	struct template_file *next;
};

struct template_set {
	char *dir;
	struct template_file *files;
};

template_set_t *template_set_new(const char *dir)
{
	template_set_t *s = xcalloc(1, sizeof *s);
	s->dir = xstrdup(dir);
	return s;
}

void template_set_destroy(template_set_t **sp)
{
	template_set_t *s;
	if (!sp || !(s = *sp))
		return;
	while (s->files) {
		struct template_file *f = s->files;
		s->files = f->next;
		free(f->key);
		free(f->txt);
		free(f->html);
		free(f);
	}
	free(s->dir);
	free(s);
	*sp = NULL;
}

/* Read and split LANG/NAME into a new entry of S. */
static struct template_file *set_load(template_set_t *s, const char *key)
{
	struct template_file *f = xcalloc(1, sizeof *f);
	char *tpath = xasprintf("%s/%s.txt", s->dir, key);
	char *hpath = xasprintf("%s/%s.html", s->dir, key);
	char *nl, *subj, *body;

	f->key = xstrdup(key);
	f->txt = file_read(tpath, NULL);
	f->html = file_read(hpath, NULL);
	if (!f->txt) {
		log_err("template %s: cannot read", tpath);
		goto out;
	}
	if (strncmp(f->txt, "Subject:", 8) != 0 || !(nl = strchr(f->txt, '\n'))) {
		log_err("template %s: the first line must be \"Subject: ...\"", tpath);
		free(f->txt);
		f->txt = NULL;
		goto out;
	}
	*nl = '\0';
	body = nl + 1;
	if (*body == '\n')
		body++;
	subj = f->txt + 8;
	while (*subj == ' ')
		subj++;
	f->subject = subj;
	f->body = body;
out:
	free(tpath);
	free(hpath);
	f->next = s->files;
	s->files = f;
	return f;
}

int template_set_mail(template_set_t *s, const char *lang, const char *name,
    const template_vars_t *v, struct template_mail *out)
{
	char *key = xasprintf("%s/%s", lang, name), *err = NULL;
	struct template_file *f;
	int rc = -1;

	memset(out, 0, sizeof *out);
	for (f = s->files; f && strcmp(f->key, key) != 0; f = f->next)
		;
	if (!f)
		f = set_load(s, key);
	if (!f->txt)
		goto out;
	if (!(out->subject = template_expand(f->subject, v, 0, &err)) ||
	    !(out->text = template_expand(f->body, v, 0, &err)) ||
	    (f->html && !(out->html = template_expand(f->html, v, 1, &err)))) {
		log_err("template %s/%s: %s", s->dir, key, err);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		template_mail_clear(out);
	free(err);
	free(key);
	return rc;
}

int template_mail(const char *dir, const char *lang, const char *name,
    const template_vars_t *v, struct template_mail *out)
{
	template_set_t *s = template_set_new(dir);
	int rc = template_set_mail(s, lang, name, v, out);
	template_set_destroy(&s);
	return rc;
}
