/*
 * form_rules.c: the rules a stored value must meet (see form.h), one per field of a kind,
 * and the checks of a whole form. Reasons are static strings in English and Traditional
 * Chinese; nothing here logs or prints, so callers decide what an operator sees.
 */
#include "form_int.h"
#include "idcheck.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct reason
	E_REQUIRED = { "is required", "必填" },
	E_SERIAL = { "must be 4-32 letters, digits or '-', starting with a letter or digit", "應為 4 至 32 個英數字或「-」，首字為英數字" },
	E_APPLICANT = { "must be person or organization", "應為個人 (person) 或機關團體 (organization)" },
	E_UTF8 = { "is not valid UTF-8 text", "不是有效的 UTF-8 文字" },
	E_CONTROL = { "contains control characters", "含有控制字元" },
	E_NAME_LEN = { "must be 1-60 characters", "應為 1 至 60 個字" },
	E_ADDRESS_LEN = { "must be 1-120 characters", "應為 1 至 120 個字" },
	E_NOT_PERSON = { "is only for a person", "僅限個人申請填寫" },
	E_NOT_ORG = { "is only for an organization", "僅限機關團體申請填寫" },
	E_EMAIL = { "is not an e-mail address (name@domain)", "電子郵件格式不正確" },
	E_PHONE_CHARS = { "may hold only digits, +886, '-', spaces, parentheses and an extension (#123)", "僅可包含數字、+886、「-」、空白、括號及分機 (#123)" },
	E_PHONE = { "is not a Taiwan landline (0 + area code, 9-10 digits) or mobile number (09 + 8 digits)", "不是有效的臺灣市話 (9 至 10 碼) 或行動電話 (09 開頭 10 碼)" },
	E_POSTAL = { "must be 3, 5 or 6 digits", "應為 3、5 或 6 位數字" },
	E_DOC_UNKNOWN = { "lists a document outside the vocabulary", "含有不在清單內的證件" },
	E_DOC_PERSON = { "must include national_id_card, resident_certificate or passport for a person", "個人申請須查驗身分證、居留證或護照" },
	E_DOC_ORG = { "must include company_registration for an organization", "機關團體申請須查驗設立登記文件" },
	E_OFFICER = { "must be 2-32 lower-case letters, digits, '.', '_' or '-'", "應為 2 至 32 個小寫英數字、「.」、「_」或「-」" },
	E_LANGUAGE = { "must be zh-TW or en", "應為 zh-TW 或 en" },
	E_ACCOUNT = { "must be u followed by 8 digits", "應為 u 加 8 位數字" },
	E_REASON = { "must be affiliationChanged, superseded or keyCompromise", "應為資料變更、憑證換發或金鑰遺失" },
	E_DATE = { "must be a date YYYY-MM-DD", "應為日期 YYYY-MM-DD" },
	E_DELIVERY = { "must be counter, post or electronic", "應為臨櫃 (counter)、郵寄 (post) 或電子 (electronic)" },
	E_APPLICANT_ID = { "is neither a valid national ID or resident certificate number nor a valid UBN", "不是有效的身分證統一編號、居留證統一證號或統一編號" },
	E_TERMS = { "must be the version printed on the form: 1-16 letters, digits, '.' or '-'", "應為表單所印之版本：1 至 16 個英數字、「.」或「-」" },
	E_DOC_ID = { "must include an identity document (national_id_card, resident_certificate, passport or company_registration)", "須查驗身分證明文件（身分證、居留證、護照或設立登記文件）" };

const struct reason form_reason_unknown_field = { "is not a field of this form", "非本表單欄位" };
const struct reason form_reason_in_certificate = {
	"is inside the certificates and cannot be changed by a change form: file a revocation form"
	" (affiliationChanged, 資料變更) and a new registration (廢止後重新申請)",
	"記載於憑證內，不能以資料變更申請書變更：請填寫廢止申請書（資料變更）並重新申請註冊",
};
static const struct reason E_NO_CHANGE = { "changes nothing: give a new phone, address (with its postal code) or contact person",
	"未填寫任何變更事項：請填寫新電話、地址（含郵遞區號）或聯絡人" };

static int problem(struct form_problem *p, const char *field, struct reason r)
{
	if (p) {
		p->field = field;
		p->en = r.en;
		p->zh = r.zh;
	}
	return -1;
}

static int check_text(const char *v, long max, struct reason too_long, struct reason *why)
{
	long n = form_utf8_len(v);
	if (n < 0) {
		*why = E_UTF8;
		return -1;
	}
	if (form_has_control(v)) {
		*why = E_CONTROL;
		return -1;
	}
	if (n < 1 || n > max) {
		*why = too_long;
		return -1;
	}
	return 0;
}

static int check_serial(const char *v)
{
	size_t n = strlen(v);
	if (n < 4 || n > 32 || !isalnum((unsigned char)v[0]))
		return -1;
	for (; *v; v++)
		if (!isupper((unsigned char)*v) && !isdigit((unsigned char)*v) && *v != '-')
			return -1;
	return 0;
}

static int check_officer(const char *v)
{
	size_t n = strlen(v);
	if (n < 2 || n > 32 || !isalnum((unsigned char)v[0]))
		return -1;
	for (; *v; v++)
		if (!islower((unsigned char)*v) && !isdigit((unsigned char)*v) && !strchr("._-", *v))
			return -1;
	return 0;
}

/* A plain address: local@domain, a dot in the domain, a letter TLD. No quoting or IP literals. */
static int check_email(const char *v)
{
	const char *at = strchr(v, '@'), *p, *label;
	size_t llen;

	if (!at || strchr(at + 1, '@') || strlen(v) > 254)
		return -1;
	llen = (size_t)(at - v);
	if (llen < 1 || llen > 64 || v[0] == '.' || at[-1] == '.')
		return -1;
	for (p = v; p < at; p++) {
		if (p[0] == '.' && p[1] == '.')
			return -1;
		if (!isalnum((unsigned char)*p) && !strchr(".!#$%&'*+/=?^_`{|}~-", *p))
			return -1;
	}
	if (!strchr(at + 1, '.'))
		return -1;
	label = at + 1;
	for (p = label;; p++) {
		if (*p == '.' || *p == '\0') {
			size_t n = (size_t)(p - label);
			if (n < 1 || n > 63 || label[0] == '-' || p[-1] == '-')
				return -1;
			if (*p == '\0')
				break;
			label = p + 1;
			continue;
		}
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
			return -1;
	}
	/* The last label is the TLD: letters only, two or more. */
	if (strlen(label) < 2)
		return -1;
	for (p = label; *p; p++)
		if (!islower((unsigned char)*p))
			return -1;
	return 0;
}

/* National form: mobile 09 + 8 digits; landline 0 + [2-8] + 7 or 8 digits; "#ext". */
static int check_phone(const char *v, struct reason *why)
{
	const char *hash = strchr(v, '#');
	size_t n = hash ? (size_t)(hash - v) : strlen(v);

	for (const char *p = v; *p; p++) {
		if (!isdigit((unsigned char)*p) && !(*p == '#' && p == hash)) {
			*why = E_PHONE_CHARS;
			return -1;
		}
	}
	*why = E_PHONE;
	if (hash && !form_all_digits(hash + 1, 1, 6))
		return -1;
	if (n < 2 || v[0] != '0')
		return -1;
	if (v[1] == '9')
		return n == 10 && !hash ? 0 : -1;
	if (v[1] >= '2' && v[1] <= '8')
		return n == 9 || n == 10 ? 0 : -1;
	return -1;
}

static int check_date(const char *v)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (strlen(v) != 10 || v[4] != '-' || v[7] != '-')
		return -1;
	if (!isdigit((unsigned char)v[0]) || sscanf(v, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return -1;
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	return 0;
}

static int check_documents(const form_t *f, const char *v, struct reason *why)
{
	char *s = xstrdup(v), *tok, *save = NULL;
	int person_doc = 0, org_doc = 0, rc = 0;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < FORM_NDOCUMENTS; i++)
			if (strcmp(tok, form_documents[i]) == 0)
				break;
		if (i == FORM_NDOCUMENTS) {
			*why = E_DOC_UNKNOWN;
			rc = -1;
			goto out;
		}
		if (i == 0 || i == 1 || i == 5)
			person_doc = 1;
		if (i == 3)
			org_doc = 1;
	}
	if (f->kind != FORM_REGISTRATION && !person_doc && !org_doc) {
		*why = E_DOC_ID;
		rc = -1;
	} else if (form_is(f, "applicant_type", "person") && !person_doc) {
		*why = E_DOC_PERSON;
		rc = -1;
	} else if (form_is(f, "applicant_type", "organization") && !org_doc) {
		*why = E_DOC_ORG;
		rc = -1;
	}
out:
	free(s);
	return rc;
}

static int choice_ok(enum rule r, const char *v)
{
	for (const struct synonym *t = form_synonyms_of(r); t && t->in; t++)
		if (strcmp(t->out, v) == 0)
			return 1;
	return 0;
}

/* Whether the field must be present, given the others. */
static int required(const form_t *f, const struct field_def *d)
{
	if (d->f.required)
		return 1;
	/* A new address comes with its postal code, and the other way round. */
	if (f->kind == FORM_CHANGE && (strcmp(d->f.name, "postal_code") == 0 || strcmp(d->f.name, "address") == 0))
		return form_get(f, "postal_code") || form_get(f, "address");
	/* A resume or reset sheet goes where the form says: by post to an address, or by mail. */
	if (strcmp(d->f.name, "postal_code") == 0 || strcmp(d->f.name, "address") == 0)
		return f->kind != FORM_REGISTRATION && form_is(f, "delivery", "post");
	if (strcmp(d->f.name, "email") == 0 && f->kind != FORM_REGISTRATION)
		return form_is(f, "delivery", "electronic");
	if (f->kind != FORM_REGISTRATION)
		return 0;
	if (strcmp(d->f.name, "national_id") == 0)
		return form_is(f, "applicant_type", "person");
	if (strcmp(d->f.name, "ubn") == 0 || strcmp(d->f.name, "contact_person") == 0)
		return form_is(f, "applicant_type", "organization");
	return 0;
}

int form_check_field(const form_t *f, const char *field, struct form_problem *p)
{
	int i = form_index_of(f->kind, field);
	const struct field_def *d;
	const char *v, *why_id = NULL;
	struct reason why = { NULL, NULL };
	int bad = 0;

	if (i < 0)
		return problem(p, "kind", form_reason_unknown_field);
	d = form_def_at(f->kind, (size_t)i);
	v = f->val[i];
	if (!v)
		return required(f, d) ? problem(p, d->f.name, E_REQUIRED) : 0;
	if (!form_applies(f, field))
		return problem(p, d->f.name, strcmp(field, "national_id") == 0 ? E_NOT_PERSON : E_NOT_ORG);

	switch (d->rule) {
	case R_SERIAL:
		bad = check_serial(v);
		why = E_SERIAL;
		break;
	case R_OFFICER:
		bad = check_officer(v);
		why = E_OFFICER;
		break;
	case R_NAME:
	case R_CONTACT:
		bad = check_text(v, 60, E_NAME_LEN, &why);
		break;
	case R_ADDRESS:
		bad = check_text(v, 120, E_ADDRESS_LEN, &why);
		break;
	case R_PERSON_ID:
		if (idcheck_person(v, NULL, &why_id) < 0) {
			if (p) {
				p->field = d->f.name;
				p->en = why_id;
				p->zh = idcheck_reason_zh(why_id);
			}
			return -1;
		}
		break;
	case R_UBN:
		if (idcheck_ubn(v, &why_id) < 0) {
			if (p) {
				p->field = d->f.name;
				p->en = why_id;
				p->zh = idcheck_reason_zh(why_id);
			}
			return -1;
		}
		break;
	case R_EMAIL:
		bad = check_email(v);
		why = E_EMAIL;
		break;
	case R_PHONE:
		bad = check_phone(v, &why);
		break;
	case R_POSTAL:
		bad = !(form_all_digits(v, 3, 3) || form_all_digits(v, 5, 6)) || v[0] == '0';
		why = E_POSTAL;
		break;
	case R_DOCUMENTS:
		bad = check_documents(f, v, &why);
		break;
	case R_ACCOUNT:
		bad = !(v[0] == 'u' && form_all_digits(v + 1, 8, 8));
		why = E_ACCOUNT;
		break;
	case R_DATE:
		bad = check_date(v);
		why = E_DATE;
		break;
	case R_APPLICANT:
		bad = !choice_ok(d->rule, v);
		why = E_APPLICANT;
		break;
	case R_LANGUAGE:
		bad = !choice_ok(d->rule, v);
		why = E_LANGUAGE;
		break;
	case R_REASON:
		bad = !choice_ok(d->rule, v);
		why = E_REASON;
		break;
	case R_DELIVERY:
		bad = !choice_ok(d->rule, v);
		why = E_DELIVERY;
		break;
	case R_APPLICANT_ID:
		bad = idcheck_person(v, NULL, &why_id) < 0 && idcheck_ubn(v, &why_id) < 0;
		why = E_APPLICANT_ID;
		break;
	case R_TERMS:
		bad = strlen(v) < 1 || strlen(v) > 16 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(v);
		why = E_TERMS;
		break;
	}
	return bad ? problem(p, d->f.name, why) : 0;
}

size_t form_validate(const form_t *f, struct form_problem **problems)
{
	struct form_problem *v = NULL, p;
	size_t n = 0;

	for (size_t i = 0; form_def_at(f->kind, i); i++) {
		if (form_check_field(f, form_def_at(f->kind, i)->f.name, &p) == 0)
			continue;
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = p;
	}
	if (f->kind == FORM_CHANGE && !form_get(f, "phone") && !form_get(f, "address") &&
	    !form_get(f, "postal_code") && !form_get(f, "contact_person")) {
		v = xrealloc(v, (n + 1) * sizeof *v);
		problem(&v[n++], "kind", E_NO_CHANGE);
	}
	if (problems)
		*problems = v;
	else
		free(v);
	return n;
}
