/*
 * form.h: the paper forms the RA accepts, as data, and the one place their rules live.
 *
 * ra-intake checks a form when a clerk keys it, and the back office checks it again with
 * this same code when the job arrives, so no rule lives only at the counter. A form is a
 * kind plus text fields. Every value is normalised when it is set, so that two keyings
 * of the same paper compare equal however the clerk spaced or cased them:
 *
 *   - text is trimmed (ASCII blanks, the ideographic space U+3000, no-break space);
 *   - code-like fields (IDs, serial, phone, postal code, e-mail, account, officer, dates
 *     and choices) first have full-width ASCII (Ａ１２) folded to ASCII;
 *   - serial, national_id and ubn are upper-cased with blanks and hyphens removed;
 *     account and officer are lower-cased; the e-mail's domain is lower-cased;
 *   - phone becomes national digits: "+886 2 2345-6789 ext. 12" -> "0223456789#12";
 *   - choices take their canonical token: "個人" -> "person", "金鑰遺失" ->
 *     "keyCompromise", "郵寄" -> "post", "zh_tw" -> "zh-TW";
 *   - documents_seen is a set, kept in vocabulary order, without repeats;
 *   - an empty value means the field is absent.
 * A value that cannot be normalised is kept trimmed, and form_validate() says why.
 *
 * The canonical JSON shape (form_to_json) is an object with "kind" and one member per
 * present field, every value a string except documents_seen (an array of strings);
 * form_canonical() prints it with keys sorted and no blanks, so equal forms hash equal.
 *
 * The code: lib/form.c (normalisers), form_kinds.c (the kinds' tables, values),
 * form_rules.c (rules), form_json.c (JSON); form_int.h is what they share. Reading forms
 * from YAML and CSV files is ra-intake's alone: intake/form_batch.h.
 */
#ifndef RA_FORM_H
#define RA_FORM_H

#include <jansson.h>
#include <stddef.h>

enum form_kind {
	FORM_REGISTRATION = 0,
	FORM_REVOCATION = 1,
	FORM_RESUME = 2,
	FORM_PASSWORD_RESET = 3,
	FORM_CHANGE = 4,	/* phone, address, contact person: nothing inside a certificate */
};
#define FORM_NKINDS 5

/* One field of a kind, in the order the paper form (and the prompt) asks for it. */
struct form_field {
	const char *name;	/* as in YAML keys, CSV headers and JSON members */
	const char *label_en;
	const char *label_zh;
	const char *hint;	/* what may be typed, in English, for prompts and --help */
	int required;		/* 1: always; 0: optional or required by another field */
	int is_list;		/* documents_seen */
};

/* A field that fails its rule, with the reason in English and Traditional Chinese. */
struct form_problem {
	const char *field;	/* a field name, or "kind" */
	const char *en;
	const char *zh;
};

typedef struct form form_t;

/* "registration", "revocation", "resume", "password_reset", "change". */
const char *form_kind_name(enum form_kind kind);
/* Parse a kind name ("password-reset" too). 0, or -1 if unknown. */
int form_kind_parse(const char *text, enum form_kind *kind);

/* The fields of KIND in form order; NULL past the end. */
const struct form_field *form_field_at(enum form_kind kind, size_t i);
/* The field NAME of KIND, or NULL. */
const struct form_field *form_field_find(enum form_kind kind, const char *name);

/* An empty form of KIND. Never NULL. */
form_t *form_new(enum form_kind kind);
/* Free a form; accepts NULL and clears the pointer. */
void form_destroy(form_t **f);
/* A deep copy. */
form_t *form_dup(const form_t *f);
enum form_kind form_get_kind(const form_t *f);

/*
 * Set FIELD from text as keyed (list fields: items separated by commas, semicolons,
 * '|', '、' or blanks), normalising it; NULL or blank text unsets it. -1 with *err
 * (malloc'd) if KIND has no such field; a bad value is stored and reported by validate.
 */
int form_set(form_t *f, const char *field, const char *value, char **err);
/* The normalised value (lists joined with ","), or NULL if absent or unknown. */
const char *form_get(const form_t *f, const char *field);

/*
 * Whether FIELD belongs on this form given the values already set (ubn and
 * contact_person only for an organization, national_id only for a person).
 */
int form_applies(const form_t *f, const char *field);
/* Check one field against its rule and the fields it depends on. 0, or -1 and *p. */
int form_check_field(const form_t *f, const char *field, struct form_problem *p);
/*
 * Check the whole form. Returns the number of problems (0: valid); *problems (may be
 * NULL) gets a malloc'd array of them, one or more per bad field, in form order.
 */
size_t form_validate(const form_t *f, struct form_problem **problems);
/* Whether reasons should also be shown in Traditional Chinese (language: zh-TW). */
int form_wants_zh(const form_t *f);

/*
 * The fields whose normalised values differ between two keyings of one paper ("kind"
 * alone if the kinds differ). "officer" is not compared: it says who keyed, and two
 * keyings are by two officers. Returns the count; *fields (may be NULL) gets a malloc'd
 * array of static names.
 */
size_t form_diff(const form_t *a, const form_t *b, const char ***fields);

/* The canonical JSON object (see above). Never NULL. */
json_t *form_to_json(const form_t *f);
/* A form from its JSON object (needs "kind"); NULL with *err (malloc'd) on a bad shape. */
form_t *form_from_json(const json_t *obj, char **err);
/* The canonical JSON text: sorted keys, compact, UTF-8. Caller frees. */
char *form_canonical(const form_t *f);

/* A copy of S without leading and trailing blanks (ASCII, U+3000, U+00A0). Caller frees. */
char *form_trim(const char *s);
/* Length in code points of valid UTF-8 (no overlongs, no surrogates), or -1. */
long form_utf8_len(const char *s);

#endif
