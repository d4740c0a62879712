/*
 * form_int.h: what the files of the form module share and nobody else sees: a field's
 * normaliser and rule, the kinds' tables, the form itself, and the helpers of one file
 * that another uses. The public side is form.h.
 *
 *   form.c        text helpers, synonyms and the normalisers (what keyings fold together)
 *   form_kinds.c  the kinds as tables of fields; a form's life cycle and values; diff
 *   form_rules.c  the rules a stored value must meet, with reasons in two languages
 *   form_json.c   the canonical JSON shape
 */
#ifndef RA_FORM_INT_H
#define RA_FORM_INT_H

#include "form.h"

#define FORM_MAX_FIELDS 16

enum norm {
	N_TEXT,		/* trimmed */
	N_UPPER,	/* codes: fold, drop blanks, upper-case */
	N_ID,		/* IDs: fold, drop blanks and hyphens, upper-case */
	N_LOWER,	/* codes: fold, trimmed, lower-case */
	N_EMAIL,
	N_PHONE,
	N_DIGITS,	/* postal code: fold, drop blanks and hyphens */
	N_DATE,
	N_CHOICE,	/* fold, then the synonym table */
	N_LIST,
};

enum rule {
	R_SERIAL, R_APPLICANT, R_NAME, R_PERSON_ID, R_UBN, R_CONTACT, R_EMAIL, R_PHONE,
	R_POSTAL, R_ADDRESS, R_DOCUMENTS, R_OFFICER, R_LANGUAGE, R_ACCOUNT, R_REASON,
	R_DATE, R_DELIVERY, R_APPLICANT_ID, R_TERMS,
};

struct field_def {
	struct form_field f;
	enum norm norm;
	enum rule rule;
};

struct form {
	enum form_kind kind;
	char *val[FORM_MAX_FIELDS];	/* by index in the kind's table of fields */
};

/* Synonyms a clerk or a mailed spreadsheet may use, and the token stored. */
struct synonym {
	const char *in, *out;
};

/* Reasons: English and Traditional Chinese side by side. */
struct reason {
	const char *en, *zh;
};
/* "is not a field of this form" (form_rules.c). */
extern const struct reason form_reason_unknown_field;
/* "is inside the certificates: revoke and register again" (form_rules.c). */
extern const struct reason form_reason_in_certificate;

/* form_kinds.c: the field table of KIND at I (NULL past the end); the index of NAME or -1. */
const struct field_def *form_def_at(enum form_kind kind, size_t i);
int form_index_of(enum form_kind kind, const char *name);
/* Whether FIELD of F is set to VALUE. */
int form_is(const form_t *f, const char *field, const char *value);

/* form.c: text helpers and normalisers. */
/* Whether valid UTF-8 text holds a C0, DEL, C1 or line/paragraph separator. */
int form_has_control(const char *s);
/* Whether S is MIN to MAX ASCII digits. */
int form_all_digits(const char *s, size_t min, size_t max);
/* S lower-cased in place (ASCII). */
void form_lower(char *s);
/* The synonyms of a choice or list rule, NULL-terminated; NULL for other rules. */
const struct synonym *form_synonyms_of(enum rule r);
/* The documents_seen vocabulary in stored order. */
extern const char *const form_documents[];
#define FORM_NDOCUMENTS 6
/* RAW normalised as field D says; a fresh string, possibly empty. */
char *form_normalise(const struct field_def *d, const char *raw);

#endif
