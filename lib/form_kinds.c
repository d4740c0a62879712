/*
 * form_kinds.c: the form kinds as tables of fields, in the order the paper asks for them,
 * and a form's life cycle and values (see form.h). Each field names its normaliser
 * (form.c) and its rule (form_rules.c); a value is normalised when it is set. Rules that
 * tie fields together (a person has a national ID, an organization a UBN and a contact
 * person) are stated in form_applies() here and checked in form_rules.c, so that the
 * prompt, the importer and the back office all apply them the same way.
 */
#include "form_int.h"
#include "util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(n, en, zh, hint, req, list, norm, rule) \
	{ { n, en, zh, hint, req, list }, norm, rule }

static const struct field_def registration_fields[] = {
	FIELD("serial", "Form serial number", "表單序號", "letters, digits and '-', 4-32 characters", 1, 0, N_UPPER, R_SERIAL),
	FIELD("applicant_type", "Applicant type", "申請人類別", "person or organization", 1, 0, N_CHOICE, R_APPLICANT),
	FIELD("name", "Name", "姓名或名稱", "as on the ID document, 1-60 characters", 1, 0, N_TEXT, R_NAME),
	FIELD("national_id", "National ID or resident certificate number", "身分證統一編號或居留證統一證號", "e.g. A123456789", 0, 0, N_ID, R_PERSON_ID),
	FIELD("ubn", "Unified business number", "統一編號", "8 digits", 0, 0, N_ID, R_UBN),
	FIELD("contact_person", "Contact person", "聯絡人", "required for an organization", 0, 0, N_TEXT, R_CONTACT),
	FIELD("email", "E-mail", "電子郵件", "name@example.com.tw", 1, 0, N_EMAIL, R_EMAIL),
	FIELD("phone", "Phone", "電話", "e.g. 02-2345-6789#123 or 0912-345-678", 1, 0, N_PHONE, R_PHONE),
	FIELD("postal_code", "Postal code", "郵遞區號", "3, 5 or 6 digits", 1, 0, N_DIGITS, R_POSTAL),
	FIELD("address", "Address", "地址", "1-120 characters", 1, 0, N_TEXT, R_ADDRESS),
	FIELD("documents_seen", "Documents seen", "已查驗證件", "national_id_card, resident_certificate, household_registration, company_registration, authorization_letter, passport", 1, 1, N_LIST, R_DOCUMENTS),
	FIELD("terms_version", "Terms of use accepted (version)", "已同意之使用條款版本", "the version printed on the form, e.g. 2026.1", 1, 0, N_UPPER, R_TERMS),
	FIELD("supersedes", "Account this registration replaces", "本申請取代之帳號", "u followed by 8 digits, only if the applicant holds a live registration", 0, 0, N_LOWER, R_ACCOUNT),
	FIELD("officer", "Keying officer", "鍵檔人員", "officer id", 1, 0, N_LOWER, R_OFFICER),
	FIELD("language", "Language", "語言", "zh-TW or en (optional)", 0, 0, N_CHOICE, R_LANGUAGE),
};

/* Who is at the counter, on every form about an existing account: checked against the
 * subscriber's ID number at approval, and audited with the documents seen. */
#define APPLICANT_FIELDS \
	FIELD("applicant_id", "Applicant's national ID, resident certificate number or UBN", "申請人身分證統一編號、居留證統一證號或統一編號", "as on the registration, e.g. A123456789 or 8 digits", 1, 0, N_ID, R_APPLICANT_ID), \
	FIELD("documents_seen", "Documents seen", "已查驗證件", "national_id_card, resident_certificate, household_registration, company_registration, authorization_letter, passport", 1, 1, N_LIST, R_DOCUMENTS)

static const struct field_def revocation_fields[] = {
	FIELD("serial", "Form serial number", "表單序號", "letters, digits and '-', 4-32 characters", 1, 0, N_UPPER, R_SERIAL),
	FIELD("account", "Account", "帳號", "u followed by 8 digits", 1, 0, N_LOWER, R_ACCOUNT),
	APPLICANT_FIELDS,
	FIELD("reason", "Reason", "廢止原因", "affiliationChanged (資料變更), superseded (憑證換發) or keyCompromise (金鑰遺失)", 1, 0, N_CHOICE, R_REASON),
	FIELD("event_date", "Date of the event", "事由發生日期", "YYYY-MM-DD (optional)", 0, 0, N_DATE, R_DATE),
	FIELD("officer", "Keying officer", "鍵檔人員", "officer id", 1, 0, N_LOWER, R_OFFICER),
};

static const struct field_def resume_fields[] = {
	FIELD("serial", "Form serial number", "表單序號", "letters, digits and '-', 4-32 characters", 1, 0, N_UPPER, R_SERIAL),
	FIELD("account", "Account", "帳號", "u followed by 8 digits", 1, 0, N_LOWER, R_ACCOUNT),
	APPLICANT_FIELDS,
	FIELD("delivery", "Password sheet delivery", "密碼單交付方式", "counter, post or electronic", 1, 0, N_CHOICE, R_DELIVERY),
	/* The certificate contact data written on the form: where the new sheet goes. */
	FIELD("recipient", "Recipient of the password sheet", "密碼單收件人", "a person's name (an organization's contact person), 1-60 characters", 1, 0, N_TEXT, R_NAME),
	FIELD("postal_code", "Postal code", "郵遞區號", "3, 5 or 6 digits (required for post)", 0, 0, N_DIGITS, R_POSTAL),
	FIELD("address", "Address", "地址", "1-120 characters (required for post)", 0, 0, N_TEXT, R_ADDRESS),
	FIELD("email", "E-mail", "電子郵件", "name@example.com.tw (required for electronic)", 0, 0, N_EMAIL, R_EMAIL),
	FIELD("officer", "Keying officer", "鍵檔人員", "officer id", 1, 0, N_LOWER, R_OFFICER),
};

/* Contact data that is not inside the certificates. A new name or e-mail is a revocation
 * (affiliationChanged) and a new registration instead: form_set() says so. */
static const struct field_def change_fields[] = {
	FIELD("serial", "Form serial number", "表單序號", "letters, digits and '-', 4-32 characters", 1, 0, N_UPPER, R_SERIAL),
	FIELD("account", "Account", "帳號", "u followed by 8 digits", 1, 0, N_LOWER, R_ACCOUNT),
	APPLICANT_FIELDS,
	FIELD("phone", "New phone", "新電話", "e.g. 02-2345-6789#123 or 0912-345-678 (blank: unchanged)", 0, 0, N_PHONE, R_PHONE),
	FIELD("postal_code", "New postal code", "新郵遞區號", "3, 5 or 6 digits, with the new address", 0, 0, N_DIGITS, R_POSTAL),
	FIELD("address", "New address", "新地址", "1-120 characters (blank: unchanged)", 0, 0, N_TEXT, R_ADDRESS),
	FIELD("contact_person", "New contact person", "新聯絡人", "an organization's only (blank: unchanged)", 0, 0, N_TEXT, R_CONTACT),
	FIELD("officer", "Keying officer", "鍵檔人員", "officer id", 1, 0, N_LOWER, R_OFFICER),
};

static const struct {
	const char *name;
	const struct field_def *fields;
	size_t n;
} kinds[FORM_NKINDS] = {
	[FORM_REGISTRATION] = { "registration", registration_fields, ARRAY_LEN(registration_fields) },
	[FORM_REVOCATION] = { "revocation", revocation_fields, ARRAY_LEN(revocation_fields) },
	[FORM_RESUME] = { "resume", resume_fields, ARRAY_LEN(resume_fields) },
	/* A password reset asks exactly what a resume asks. */
	[FORM_PASSWORD_RESET] = { "password_reset", resume_fields, ARRAY_LEN(resume_fields) },
	[FORM_CHANGE] = { "change", change_fields, ARRAY_LEN(change_fields) },
};

const char *form_kind_name(enum form_kind kind)
{
	return (unsigned)kind < FORM_NKINDS ? kinds[kind].name : "unknown";
}

int form_kind_parse(const char *text, enum form_kind *kind)
{
	char *t;
	int rc = -1;

	if (!text)
		return -1;
	t = form_trim(text);
	form_lower(t);
	for (char *p = t; *p; p++)
		if (*p == '-')
			*p = '_';
	for (int k = 0; k < FORM_NKINDS; k++) {
		if (strcmp(t, kinds[k].name) == 0) {
			*kind = (enum form_kind)k;
			rc = 0;
		}
	}
	free(t);
	return rc;
}

const struct field_def *form_def_at(enum form_kind kind, size_t i)
{
	if ((unsigned)kind >= FORM_NKINDS || i >= kinds[kind].n)
		return NULL;
	return &kinds[kind].fields[i];
}

int form_index_of(enum form_kind kind, const char *name)
{
	for (size_t i = 0; name && form_def_at(kind, i); i++)
		if (strcmp(kinds[kind].fields[i].f.name, name) == 0)
			return (int)i;
	return -1;
}

const struct form_field *form_field_at(enum form_kind kind, size_t i)
{
	const struct field_def *d = form_def_at(kind, i);
	return d ? &d->f : NULL;
}

const struct form_field *form_field_find(enum form_kind kind, const char *name)
{
	int i = form_index_of(kind, name);
	return i < 0 ? NULL : &kinds[kind].fields[i].f;
}

/* ---- life cycle and values ---- */

form_t *form_new(enum form_kind kind)
{
	form_t *f = xcalloc(1, sizeof *f);

	assert((unsigned)kind < FORM_NKINDS);
	f->kind = kind;
	return f;
}

void form_destroy(form_t **f)
{
	if (!f || !*f)
		return;
	for (size_t i = 0; i < FORM_MAX_FIELDS; i++)
		free((*f)->val[i]);
	free(*f);
	*f = NULL;
}

form_t *form_dup(const form_t *f)
{
	form_t *c = form_new(f->kind);
	for (size_t i = 0; i < FORM_MAX_FIELDS; i++)
		c->val[i] = f->val[i] ? xstrdup(f->val[i]) : NULL;
	return c;
}

enum form_kind form_get_kind(const form_t *f)
{
	return f->kind;
}

int form_set(form_t *f, const char *field, const char *value, char **err)
{
	int i = form_index_of(f->kind, field);
	char *v;

	if (i < 0) {
		/* The counter is told the way for what a change form cannot change. */
		const struct reason *r = f->kind == FORM_CHANGE && field &&
		    (strcmp(field, "name") == 0 || strcmp(field, "email") == 0) ?
		    &form_reason_in_certificate : &form_reason_unknown_field;
		if (err)
			*err = xasprintf("%s: %s", field ? field : "(null)", r->en);
		return -1;
	}
	free(f->val[i]);
	f->val[i] = NULL;
	if (!value)
		return 0;
	v = form_normalise(&kinds[f->kind].fields[i], value);
	if (!*v) {
		free(v);
		return 0;
	}
	f->val[i] = v;
	return 0;
}

const char *form_get(const form_t *f, const char *field)
{
	int i = form_index_of(f->kind, field);
	return i < 0 ? NULL : f->val[i];
}

int form_is(const form_t *f, const char *field, const char *value)
{
	const char *v = form_get(f, field);
	return v && strcmp(v, value) == 0;
}

int form_applies(const form_t *f, const char *field)
{
	if (form_index_of(f->kind, field) < 0)
		return 0;
	if (f->kind != FORM_REGISTRATION)
		return 1;
	if (strcmp(field, "national_id") == 0)
		return !form_is(f, "applicant_type", "organization");
	if (strcmp(field, "ubn") == 0 || strcmp(field, "contact_person") == 0)
		return !form_is(f, "applicant_type", "person");
	return 1;
}

int form_wants_zh(const form_t *f)
{
	return form_is(f, "language", "zh-TW");
}

size_t form_diff(const form_t *a, const form_t *b, const char ***fields)
{
	const char **v = NULL;
	size_t n = 0;

	if (a->kind != b->kind) {
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = "kind";
	} else {
		for (size_t i = 0; form_def_at(a->kind, i); i++) {
			const char *x = a->val[i], *y = b->val[i];
			/* Who keyed is not what the paper says: two keyings differ there by design. */
			if (strcmp(kinds[a->kind].fields[i].f.name, "officer") == 0)
				continue;
			if ((!x && !y) || (x && y && strcmp(x, y) == 0))
				continue;
			v = xrealloc(v, (n + 1) * sizeof *v);
			v[n++] = kinds[a->kind].fields[i].f.name;
		}
	}
	if (fields)
		*fields = v;
	else
		free(v);
	return n;
}
