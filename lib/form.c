/*
 * form.c: the normalisers of the form module (see form.h for what they fold together and
 * form_int.h for how the module is split). Each field of a kind names a normaliser; every
 * value is normalised when it is set, so two keyings of one paper compare equal. A value
 * that cannot be normalised is kept trimmed and the field's rule (form_rules.c) says why.
 *
 * Nothing here logs or prints; forms carry no secrets.
 */
#include "form_int.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
const char *const form_documents[FORM_NDOCUMENTS] = {
	"national_id_card", "resident_certificate", "household_registration",
	"company_registration", "authorization_letter", "passport",
};

/* ---- text helpers ---- */

/* Length in code points of valid UTF-8 (no overlongs, no surrogates), or -1. */
long form_utf8_len(const char *s)
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
int form_has_control(const char *s)
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
char *form_trim(const char *s)
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

void form_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

int form_all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

const struct synonym *form_synonyms_of(enum rule r)
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

	form_lower(l);
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
	int seen[FORM_NDOCUMENTS] = { 0 };
	size_t cap = strlen(in) + 64, len = 0;
	char *unknown = xcalloc(1, cap);
	char *tok, *save = NULL;

	/* '、' (U+3001) is the enumeration comma of Chinese text. */
	for (char *p; (p = strstr(s, "、")) != NULL;)
		memcpy(p, ",  ", 3);
	for (tok = strtok_r(s, ",;| \t", &save); tok; tok = strtok_r(NULL, ",;| \t", &save)) {
		const char *t = synonym(document_syn, tok);
		size_t i;
		for (i = 0; t && i < FORM_NDOCUMENTS; i++)
			if (strcmp(form_documents[i], t) == 0)
				break;
		if (t && i < FORM_NDOCUMENTS) {
			seen[i] = 1;
		} else if (!strstr(unknown, tok)) {
			/* Kept, so that validation names the list as bad. */
			len += (size_t)snprintf(unknown + len, cap - len, ",%s", tok);
		}
	}
	out = xcalloc(1, cap + 256);
	for (size_t i = 0; i < FORM_NDOCUMENTS; i++)
		if (seen[i])
			sprintf(out + strlen(out), "%s%s", *out ? "," : "", form_documents[i]);
	strcat(out, *out ? unknown : (*unknown ? unknown + 1 : ""));
	free(unknown);
	free(s);
	return out;
}

char *form_normalise(const struct field_def *d, const char *raw)
{
	char *s = form_trim(raw), *r;
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
		r = form_trim(s);
		free(s);
		form_lower(r);
		return r;
	case N_EMAIL:
		fold_fullwidth(s);
		r = form_trim(s);
		free(s);
		if (strrchr(r, '@'))
			form_lower(strrchr(r, '@'));
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
		r = form_trim(s);
		free(s);
		tok = synonym(form_synonyms_of(d->rule), r);
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
