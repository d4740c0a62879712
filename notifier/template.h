/*
 * template.h: the mail texts, kept as files in config/templates/LANG/ so that wording is
 * changed without a rebuild.
 *
 * NAME.txt holds a first line "Subject: ..." then a blank line then the plain-text body;
 * NAME.html (optional) is the HTML alternative. "{{key}}" is replaced by a value; in the
 * HTML part values are escaped, so a subscriber's name can never inject markup. A
 * {{key}} with no value is an error, not an empty string: a notice with a hole in it
 * must not go out. Languages: "en" where the subscriber asked for English, else "zh-TW".
 *
 * A run reads each template file once: a template_set_t keeps what it has read of one
 * folder (a missing file too) until it is destroyed, so a run that sends thousands of
 * notices does not read the folder for each, and a template edited during a run takes
 * effect at the next run, never halfway through one.
 */
#ifndef RA_TEMPLATE_H
#define RA_TEMPLATE_H

typedef struct template_vars template_vars_t;
typedef struct template_set template_set_t;

struct template_mail {
	char *subject, *text, *html;	/* html is NULL when there is no NAME.html */
};

template_vars_t *template_vars_new(void);
void template_vars_destroy(template_vars_t **v);
/* Set KEY to VALUE (both copied; a second set replaces). */
void template_vars_set(template_vars_t *v, const char *key, const char *value);

/* The template folder for a subscriber's LANGUAGE: "en" for any en*, else "zh-TW". */
const char *template_lang(const char *language);

/*
 * Expand TEXT. HTML non-zero escapes values for HTML. Returns a malloc'd string, or NULL
 * with *err (malloc'd) naming the first unknown or unterminated placeholder.
 */
char *template_expand(const char *text, const template_vars_t *v, int html, char **err);

/* The templates of folder DIR, read on first use and kept. */
template_set_t *template_set_new(const char *dir);
void template_set_destroy(template_set_t **s);

/* Expand S's LANG/NAME.txt (+ .html) into OUT. 0, or -1 (logged). */
int template_set_mail(template_set_t *s, const char *lang, const char *name,
    const template_vars_t *v, struct template_mail *out);

/* The same from DIR, read for this one call. 0, or -1 (logged). */
int template_mail(const char *dir, const char *lang, const char *name,
    const template_vars_t *v, struct template_mail *out);
/* Free the three strings and zero OUT. */
void template_mail_clear(struct template_mail *out);

#endif
