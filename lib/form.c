/*
 * form.c: see form.h. The kinds are tables of fields; each field names a normaliser
 * (what keying variations fold together) and a rule (what a stored value must look
 * like). Rules that tie fields together (a person has a national ID, an organization a
 * UBN and a contact person) sit in form_check_field() so that the prompt, the importer
 * and the back office all apply them the same way.
 *
 * Reasons are static strings in English and Traditional Chinese; nothing here logs or
 * prints, so callers decide what an operator sees. Forms carry no secrets.
 */
#include "form.h"
#include "idcheck.h"
#include "util.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

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
	R_DATE, R_DELIVERY,
};

struct field_def {
	struct form_field f;
	enum norm norm;
	enum rule rule;
};

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
	FIELD("officer", "Keying officer", "鍵檔人員", "officer id", 1, 0, N_LOWER, R_OFFICER),
	FIELD("language", "Language", "語言", "zh-TW or en (optional)", 0, 0, N_CHOICE, R_LANGUAGE),
};

static const struct field_def revocation_fields[] = {
	FIELD("serial", "Form serial number", "表單序號", "letters, digits and '-', 4-32 characters", 1, 0, N_UPPER, R_SERIAL),
	FIELD("account", "Account", "帳號", "u followed by 8 digits", 1, 0, N_LOWER, R_ACCOUNT),
	FIELD("reason", "Reason", "廢止原因", "affiliationChanged (資料變更), superseded (憑證換發) or keyCompromise (金鑰遺失)", 1, 0, N_CHOICE, R_REASON),
	FIELD("event_date", "Date of the event", "事由發生日期", "YYYY-MM-DD (optional)", 0, 0, N_DATE, R_DATE),
	FIELD("officer", "Keying officer", "鍵檔人員", "officer id", 1, 0, N_LOWER, R_OFFICER),
};

static const struct field_def resume_fields[] = {
	FIELD("serial", "Form serial number", "表單序號", "letters, digits and '-', 4-32 characters", 1, 0, N_UPPER, R_SERIAL),
	FIELD("account", "Account", "帳號", "u followed by 8 digits", 1, 0, N_LOWER, R_ACCOUNT),
	FIELD("delivery", "Password sheet delivery", "密碼單交付方式", "counter, post or electronic", 1, 0, N_CHOICE, R_DELIVERY),
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
};

/* Synonyms a clerk or a mailed spreadsheet may use, and the token stored. */
struct synonym {
	const char *in, *out;
};

static const struct synonym applicant_syn[] = {
	{ "person", "person" }, { "individual", "person" }, { "natural_person", "person" },
	{ "個人", "person" }, { "自然人", "person" },
	{ "organization", "organization" }, { "organisation", "organization" },
	{ "org", "organization" }, { "company", "organization" },
	{ "機關", "organization" }, { "法人", "organization" }, { "公司", "organization" },
	{ "團體", "organization" }, { "機關團體", "organization" }, { NULL, NULL },
};

static const struct synonym reason_syn[] = {
	{ "affiliationchanged", "affiliationChanged" }, { "affiliation_changed", "affiliationChanged" },
	{ "資料變更", "affiliationChanged" }, { "資料異動", "affiliationChanged" },
	{ "職務異動", "affiliationChanged" }, { "單位異動", "affiliationChanged" },
	{ "superseded", "superseded" }, { "憑證換發", "superseded" }, { "憑證更換", "superseded" },
	{ "換發", "superseded" },
	{ "keycompromise", "keyCompromise" }, { "key_compromise", "keyCompromise" },
	{ "金鑰遺失", "keyCompromise" }, { "金鑰洩漏", "keyCompromise" },
	{ "金鑰遺失或洩漏", "keyCompromise" }, { "私鑰洩漏", "keyCompromise" },
	{ "卡片遺失", "keyCompromise" }, { "卡片遺失或被竊", "keyCompromise" },
	{ NULL, NULL },
};

static const struct synonym delivery_syn[] = {
	{ "counter", "counter" }, { "臨櫃", "counter" }, { "臨櫃領取", "counter" },
	{ "post", "post" }, { "mail", "post" }, { "郵寄", "post" },
	{ "electronic", "electronic" }, { "email", "electronic" }, { "e-mail", "electronic" },
	{ "電子", "electronic" }, { "電子郵件", "electronic" }, { NULL, NULL },
};

static const struct synonym language_syn[] = {
	{ "zh-tw", "zh-TW" }, { "zh_tw", "zh-TW" }, { "zh", "zh-TW" }, { "中文", "zh-TW" },
	{ "en", "en" }, { "english", "en" }, { "英文", "en" }, { NULL, NULL },
};

static const struct synonym document_syn[] = {
	{ "national_id_card", "national_id_card" }, { "身分證", "national_id_card" },
	{ "國民身分證", "national_id_card" },
	{ "resident_certificate", "resident_certificate" }, { "居留證", "resident_certificate" },
	{ "household_registration", "household_registration" }, { "戶籍謄本", "household_registration" },
	{ "戶口名簿", "household_registration" },
	{ "company_registration", "company_registration" }, { "公司登記", "company_registration" },
	{ "設立登記", "company_registration" },
	{ "authorization_letter", "authorization_letter" }, { "授權書", "authorization_letter" },
	{ "委託書", "authorization_letter" },
	{ "passport", "passport" }, { "護照", "passport" }, { NULL, NULL },
};

/* The vocabulary in stored order. */
static const char *const documents[] = {
	"national_id_card", "resident_certificate", "household_registration",
	"company_registration", "authorization_letter", "passport",
};

struct form {
	enum form_kind kind;
	char *val[FORM_MAX_FIELDS];	/* by index in kinds[kind].fields */
};

/* Reasons: English and Traditional Chinese side by side. */
struct reason {
	const char *en, *zh;
};

static const struct reason
	E_REQUIRED = { "is required", "必填" },
	E_UNKNOWN_FIELD = { "is not a field of this form", "非本表單欄位" },
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
	E_DELIVERY = { "must be counter, post or electronic", "應為臨櫃 (counter)、郵寄 (post) 或電子 (electronic)" };

/* ---- text helpers ---- */

/* Length in code points of valid UTF-8 (no overlongs, no surrogates), or -1. */
static long utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p) {
		unsigned c = *p;
		int more;
		unsigned cp;
		if (c < 0x80) {
			p++;
			n++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			more = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			more = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			more = 3;
			cp = c & 0x07;
		} else {
			return -1;
		}
		for (int i = 1; i <= more; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		p += more + 1;
		n++;
	}
	return n;
}

/* Whether valid UTF-8 text holds a C0, DEL, C1 or line/paragraph separator. */
static int has_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 1;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 1;
		if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
			return 1;
	}
	return 0;
}

/* Bytes of a blank at P (ASCII blank, U+3000, U+00A0), or 0. */
static int blank_at(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	if (*u == ' ' || *u == '\t' || *u == '\r' || *u == '\n' || *u == '\v' || *u == '\f')
		return 1;
	if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
		return 3;
	if (u[0] == 0xc2 && u[1] == 0xa0)
		return 2;
	return 0;
}

/* A trimmed copy. */
static char *trim_dup(const char *s)
{
	const char *end;
	int b;

	while ((b = blank_at(s)) > 0)
		s += b;
	end = s + strlen(s);
	/* Walk back over blanks; every blank form ends in a byte that identifies it. */
	for (;;) {
		if (end > s && strchr(" \t\r\n\v\f", end[-1]) && end[-1] != '\0') {
			end--;
		} else if (end - s >= 3 && blank_at(end - 3) == 3) {
			end -= 3;
		} else if (end - s >= 2 && blank_at(end - 2) == 2) {
			end -= 2;
		} else {
			break;
		}
	}
	char *r = xmalloc((size_t)(end - s) + 1);
	memcpy(r, s, (size_t)(end - s));
	r[end - s] = '\0';
	return r;
}

/* Full-width ASCII (U+FF01..U+FF5E) and U+3000 to ASCII, in place (it only shrinks). */
static void fold_fullwidth(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;

	while (*r) {
		if (r[0] == 0xef && (r[1] == 0xbc || r[1] == 0xbd) && r[2] >= 0x80 && r[2] <= 0xbf) {
			unsigned cp = 0xf000 | ((unsigned)(r[1] & 0x3f) << 6) | (r[2] & 0x3f);
			if (cp >= 0xff01 && cp <= 0xff5e) {
				*w++ = (unsigned char)(cp - 0xff01 + 0x21);
				r += 3;
				continue;
			}
		}
		if (r[0] == 0xe3 && r[1] == 0x80 && r[2] == 0x80) {
			*w++ = ' ';
			r += 3;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
}

static void remove_chars(char *s, const char *drop)
{
	char *w = s;
	for (char *r = s; *r; r++)
		if (!strchr(drop, *r))
			*w++ = *r;
	*w = '\0';
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

static int all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static const struct synonym *synonyms_of(enum rule r)
{
	switch (r) {
	case R_APPLICANT: return applicant_syn;
	case R_REASON: return reason_syn;
	case R_DELIVERY: return delivery_syn;
	case R_LANGUAGE: return language_syn;
	case R_DOCUMENTS: return document_syn;
	default: return NULL;
	}
}

/* The canonical token for S (already folded and trimmed), or NULL. */
static const char *synonym(const struct synonym *t, const char *s)
{
	char *l = xstrdup(s);
	const char *r = NULL;

	lower(l);
	/* "affiliation changed", "key-compromise": blanks and hyphens as underscores. */
	for (char *p = l; *p; p++)
		if (*p == ' ' || *p == '-')
			*p = '_';
	for (; t && t->in; t++) {
		char *in = xstrdup(t->in);
		for (char *p = in; *p; p++)
			if (*p == '-')
				*p = '_';
		if (strcmp(in, l) == 0)
			r = t->out;
		free(in);
		if (r)
			break;
	}
	free(l);
	return r;
}

/* ---- normalisers: each returns a fresh string (possibly empty) ---- */

/* "+886 (2) 2345-6789 ext. 12" -> "0223456789#12"; NULL if it holds other characters. */
static char *phone_norm(const char *in)
{
	char *s = xstrdup(in), *ext = NULL, *out = NULL;
	char digits[32], extd[16];
	size_t nd = 0, ne = 0;
	const char *p;
	static const char *const ext_marks[] = { "#", "ext.", "ext", "x", "轉", "分機" };

	for (size_t i = 0; i < ARRAY_LEN(ext_marks) && !ext; i++) {
		char *m = NULL;
		if (ext_marks[i][0] & 0x80) {
			m = strstr(s, ext_marks[i]);
		} else {
			/* ASCII marks, case-insensitively, only after the number started
			 * (an empty value has no second character to start from). */
			for (char *q = *s ? s + 1 : s; *q && !m; q++)
				if (strncasecmp(q, ext_marks[i], strlen(ext_marks[i])) == 0)
					m = q;
		}
		if (m) {
			*m = '\0';
			ext = m + strlen(ext_marks[i]);
		}
	}
	p = s;
	while (*p == ' ')
		p++;
	if (strncmp(p, "+886", 4) == 0) {
		p += 4;
		digits[nd++] = '0';
		/* "+886 (0)2 ..." and "+886-02-...": the trunk 0 written anyway. */
		while (*p == ' ' || *p == '-' || *p == '(' || *p == ')')
			p++;
		if (*p == '0')
			p++;
	}
	for (; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (nd + 1 >= sizeof digits)
				goto out;
			digits[nd++] = *p;
		} else if (!strchr(" -()", *p)) {
			goto out;
		}
	}
	digits[nd] = '\0';
	if (ext) {
		for (p = ext; *p; p++) {
			if (isdigit((unsigned char)*p)) {
				if (ne + 1 >= sizeof extd)
					goto out;
				extd[ne++] = *p;
			} else if (!strchr(" -:.", *p)) {
				goto out;
			}
		}
		extd[ne] = '\0';
		if (ne == 0)
			goto out;
		out = xasprintf("%s#%s", digits, extd);
	} else {
		out = xstrdup(digits);
	}
out:
	free(s);
	return out;
}

/* "2026/3/5" -> "2026-03-05"; NULL if not three numbers. */
static char *date_norm(const char *in)
{
	unsigned y, m, d;
	char sep1, sep2, extra;

	if (sscanf(in, "%4u%c%2u%c%2u%c", &y, &sep1, &m, &sep2, &d, &extra) != 5)
		return NULL;
	if (sep1 != sep2 || (sep1 != '-' && sep1 != '/' && sep1 != '.'))
		return NULL;
	return xasprintf("%04u-%02u-%02u", y, m, d);
}

/* Split a list, map each item to its token, keep vocabulary order, drop repeats. */
static char *list_norm(const char *in)
{
	char *s = xstrdup(in), *out;
	int seen[ARRAY_LEN(documents)] = { 0 };
	size_t cap = strlen(in) + 64, len = 0;
	char *unknown = xcalloc(1, cap);
	char *tok, *save = NULL;

	/* '、' (U+3001) is the enumeration comma of Chinese text. */
	for (char *p; (p = strstr(s, "、")) != NULL;)
		memcpy(p, ",  ", 3);
	for (tok = strtok_r(s, ",;| \t", &save); tok; tok = strtok_r(NULL, ",;| \t", &save)) {
		const char *t = synonym(document_syn, tok);
		size_t i;
		for (i = 0; t && i < ARRAY_LEN(documents); i++)
			if (strcmp(documents[i], t) == 0)
				break;
		if (t && i < ARRAY_LEN(documents)) {
			seen[i] = 1;
		} else if (!strstr(unknown, tok)) {
			/* Kept, so that validation names the list as bad. */
			len += (size_t)snprintf(unknown + len, cap - len, ",%s", tok);
		}
	}
	out = xcalloc(1, cap + 256);
	for (size_t i = 0; i < ARRAY_LEN(documents); i++)
		if (seen[i])
			sprintf(out + strlen(out), "%s%s", *out ? "," : "", documents[i]);
	strcat(out, *out ? unknown : (*unknown ? unknown + 1 : ""));
	free(unknown);
	free(s);
	return out;
}

static char *normalise(const struct field_def *d, const char *raw)
{
	char *s = trim_dup(raw), *r;
	const char *tok;

	switch (d->norm) {
	case N_TEXT:
		return s;
	case N_UPPER:
		fold_fullwidth(s);
		remove_chars(s, " \t");
		upper(s);
		return s;
	case N_ID:
		fold_fullwidth(s);
		remove_chars(s, " \t-");
		upper(s);
		return s;
	case N_LOWER:
		fold_fullwidth(s);
		r = trim_dup(s);
		free(s);
		lower(r);
		return r;
	case N_EMAIL:
		fold_fullwidth(s);
		r = trim_dup(s);
		free(s);
		if (strrchr(r, '@'))
			lower(strrchr(r, '@'));
		return r;
	case N_PHONE:
		fold_fullwidth(s);
		r = phone_norm(s);
		if (!r)
			return s;
		free(s);
		return r;
	case N_DIGITS:
		fold_fullwidth(s);
		remove_chars(s, " \t-");
		return s;
	case N_DATE:
		fold_fullwidth(s);
		r = date_norm(s);
		if (!r)
			return s;
		free(s);
		return r;
	case N_CHOICE:
		fold_fullwidth(s);
		r = trim_dup(s);
		free(s);
		tok = synonym(synonyms_of(d->rule), r);
		if (!tok)
			return r;
		free(r);
		return xstrdup(tok);
	case N_LIST:
		fold_fullwidth(s);
		r = list_norm(s);
		free(s);
		return r;
	}
	return s;
}

/* ---- the table ---- */

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
	t = trim_dup(text);
	lower(t);
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

static const struct field_def *def_at(enum form_kind kind, size_t i)
{
	if ((unsigned)kind >= FORM_NKINDS || i >= kinds[kind].n)
		return NULL;
	return &kinds[kind].fields[i];
}

static int index_of(enum form_kind kind, const char *name)
{
	for (size_t i = 0; name && def_at(kind, i); i++)
		if (strcmp(kinds[kind].fields[i].f.name, name) == 0)
			return (int)i;
	return -1;
}

const struct form_field *form_field_at(enum form_kind kind, size_t i)
{
	const struct field_def *d = def_at(kind, i);
	return d ? &d->f : NULL;
}

const struct form_field *form_field_find(enum form_kind kind, const char *name)
{
	int i = index_of(kind, name);
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
	int i = index_of(f->kind, field);
	char *v;

	if (i < 0) {
		if (err)
			*err = xasprintf("%s: %s", field ? field : "(null)", E_UNKNOWN_FIELD.en);
		return -1;
	}
	free(f->val[i]);
	f->val[i] = NULL;
	if (!value)
		return 0;
	v = normalise(&kinds[f->kind].fields[i], value);
	if (!*v) {
		free(v);
		return 0;
	}
	f->val[i] = v;
	return 0;
}

const char *form_get(const form_t *f, const char *field)
{
	int i = index_of(f->kind, field);
	return i < 0 ? NULL : f->val[i];
}

static int is(const form_t *f, const char *field, const char *value)
{
	const char *v = form_get(f, field);
	return v && strcmp(v, value) == 0;
}

int form_applies(const form_t *f, const char *field)
{
	if (index_of(f->kind, field) < 0)
		return 0;
	if (f->kind != FORM_REGISTRATION)
		return 1;
	if (strcmp(field, "national_id") == 0)
		return !is(f, "applicant_type", "organization");
	if (strcmp(field, "ubn") == 0 || strcmp(field, "contact_person") == 0)
		return !is(f, "applicant_type", "person");
	return 1;
}

int form_wants_zh(const form_t *f)
{
	return is(f, "language", "zh-TW");
}

/* ---- rules ---- */

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
	long n = utf8_len(v);
	if (n < 0) {
		*why = E_UTF8;
		return -1;
	}
	if (has_control(v)) {
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
	if (hash && !all_digits(hash + 1, 1, 6))
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
		for (i = 0; i < ARRAY_LEN(documents); i++)
			if (strcmp(tok, documents[i]) == 0)
				break;
		if (i == ARRAY_LEN(documents)) {
			*why = E_DOC_UNKNOWN;
			rc = -1;
			goto out;
		}
		if (i == 0 || i == 1 || i == 5)
			person_doc = 1;
		if (i == 3)
			org_doc = 1;
	}
	if (is(f, "applicant_type", "person") && !person_doc) {
		*why = E_DOC_PERSON;
		rc = -1;
	} else if (is(f, "applicant_type", "organization") && !org_doc) {
		*why = E_DOC_ORG;
		rc = -1;
	}
out:
	free(s);
	return rc;
}

static int choice_ok(enum rule r, const char *v)
{
	for (const struct synonym *t = synonyms_of(r); t && t->in; t++)
		if (strcmp(t->out, v) == 0)
			return 1;
	return 0;
}

/* Whether the field must be present, given the others. */
static int required(const form_t *f, const struct field_def *d)
{
	if (d->f.required)
		return 1;
	if (f->kind != FORM_REGISTRATION)
		return 0;
	if (strcmp(d->f.name, "national_id") == 0)
		return is(f, "applicant_type", "person");
	if (strcmp(d->f.name, "ubn") == 0 || strcmp(d->f.name, "contact_person") == 0)
		return is(f, "applicant_type", "organization");
	return 0;
}

int form_check_field(const form_t *f, const char *field, struct form_problem *p)
{
	int i = index_of(f->kind, field);
	const struct field_def *d;
	const char *v, *why_id = NULL;
	struct reason why = { NULL, NULL };
	int bad = 0;

	if (i < 0)
		return problem(p, "kind", E_UNKNOWN_FIELD);
	d = &kinds[f->kind].fields[i];
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
		bad = !(all_digits(v, 3, 3) || all_digits(v, 5, 6)) || v[0] == '0';
		why = E_POSTAL;
		break;
	case R_DOCUMENTS:
		bad = check_documents(f, v, &why);
		break;
	case R_ACCOUNT:
		bad = !(v[0] == 'u' && all_digits(v + 1, 8, 8));
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
	}
	return bad ? problem(p, d->f.name, why) : 0;
}

size_t form_validate(const form_t *f, struct form_problem **problems)
{
	struct form_problem *v = NULL, p;
	size_t n = 0;

	for (size_t i = 0; def_at(f->kind, i); i++) {
		if (form_check_field(f, kinds[f->kind].fields[i].f.name, &p) == 0)
			continue;
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = p;
	}
	if (problems)
		*problems = v;
	else
		free(v);
	return n;
}

size_t form_diff(const form_t *a, const form_t *b, const char ***fields)
{
	const char **v = NULL;
	size_t n = 0;

	if (a->kind != b->kind) {
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = "kind";
	} else {
		for (size_t i = 0; def_at(a->kind, i); i++) {
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

/* ---- JSON ---- */

json_t *form_to_json(const form_t *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "kind", json_string(form_kind_name(f->kind)));
	for (size_t i = 0; def_at(f->kind, i); i++) {
		const struct field_def *d = &kinds[f->kind].fields[i];
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
			*err = xasprintf("%s: %s", key, E_UNKNOWN_FIELD.en);
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

/* ---- batches: YAML and CSV ---- */

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
		if (index_of((enum form_kind)k, name) >= 0)
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
		ok = strlen(copy) == len ? utf8_len(copy) : -1;
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
		char *t = trim_dup(hdr.cell[i]);
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
