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

int template_mail(const char *dir, const char *lang, const char *name,
    const template_vars_t *v, struct template_mail *out)
{
	char *tpath = xasprintf("%s/%s/%s.txt", dir, lang, name);
	char *hpath = xasprintf("%s/%s/%s.html", dir, lang, name);
	char *txt = file_read(tpath, NULL), *html = file_read(hpath, NULL);
	char *err = NULL, *body, *nl;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (!txt) {
		log_err("template %s: cannot read", tpath);
		goto out;
	}
	if (strncmp(txt, "Subject:", 8) != 0 || !(nl = strchr(txt, '\n'))) {
		log_err("template %s: the first line must be \"Subject: ...\"", tpath);
		goto out;
	}
	*nl = '\0';
	body = nl + 1;
	if (*body == '\n')
		body++;
	char *subj = txt + 8;
	while (*subj == ' ')
		subj++;
	if (!(out->subject = template_expand(subj, v, 0, &err)) ||
	    !(out->text = template_expand(body, v, 0, &err)) ||
	    (html && !(out->html = template_expand(html, v, 1, &err)))) {
		log_err("template %s/%s/%s: %s", dir, lang, name, err);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		template_mail_clear(out);
	free(err);
	free(txt);
	free(html);
	free(tpath);
	free(hpath);
	return rc;
}
