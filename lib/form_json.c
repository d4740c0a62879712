/*
 * form_json.c: a form as its canonical JSON object and back (see form.h): "kind" and one
 * member per present field, every value a string except documents_seen (an array).
 * The JSON shape follows the kinds' tables (form_kinds.c).
 */
#include "form_int.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

json_t *form_to_json(const form_t *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "kind", json_string(form_kind_name(f->kind)));
	for (size_t i = 0; form_def_at(f->kind, i); i++) {
		const struct field_def *d = form_def_at(f->kind, i);
		const char *v = f->val[i];
		if (!v)
			continue;
		if (d->f.is_list) {
			json_t *a = json_array();
			char *s = xstrdup(v), *tok, *save = NULL;
			for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				json_array_append_new(a, json_string(tok));
			free(s);
			json_object_set_new(o, d->f.name, a);
		} else {
			/* json_string refuses invalid UTF-8; such a form is invalid anyway. */
			json_t *s = json_string(v);
			json_object_set_new(o, d->f.name, s ? s : json_string("\xef\xbf\xbd"));
		}
	}
	return o;
}

form_t *form_from_json(const json_t *obj, char **err)
{
	enum form_kind kind;
	const char *key;
	json_t *val;
	form_t *f = NULL;

	if (!json_is_object(obj)) {
		*err = xstrdup("a form must be a JSON object");
		return NULL;
	}
	if (form_kind_parse(json_string_value(json_object_get(obj, "kind")), &kind) < 0) {
		*err = xstrdup("kind: missing or unknown form kind");
		return NULL;
	}
	f = form_new(kind);
	json_object_foreach((json_t *)obj, key, val) {
		const struct form_field *fd;
		char *text = NULL;
		if (strcmp(key, "kind") == 0)
			continue;
		fd = form_field_find(kind, key);
		if (!fd) {
			*err = xasprintf("%s: %s", key, form_reason_unknown_field.en);
			goto fail;
		}
		if (json_is_string(val)) {
			text = xstrdup(json_string_value(val));
		} else if (json_is_array(val) && fd->is_list) {
			size_t i;
			json_t *it;
			text = xstrdup("");
			json_array_foreach(val, i, it) {
				char *t;
				if (!json_is_string(it)) {
					free(text);
					*err = xasprintf("%s: items must be strings", key);
					goto fail;
				}
				t = xasprintf("%s%s%s", text, i ? "," : "", json_string_value(it));
				free(text);
				text = t;
			}
		} else if (!json_is_null(val)) {
			*err = xasprintf("%s: must be a string", key);
			goto fail;
		}
		form_set(f, key, text, NULL);
		free(text);
	}
	return f;
fail:
	form_destroy(&f);
	return NULL;
}

char *form_canonical(const form_t *f)
{
	json_t *o = form_to_json(f);
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	/* Only a form with invalid UTF-8 could fail, and to_json already replaced it. */
	return s ? s : xstrdup("{}");
}
