/*
 * test_form.c: the form rules field by field, the normalisation that makes two keyings
 * of one paper compare equal, the canonical JSON, form_diff, and reading forms from YAML
 * and CSV (line numbers, quoting, BOM, bad rows).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "form.h"
#include "form_batch.h"
#include "form_reject.h"

static form_t *person(void)
{
	form_t *f = form_new(FORM_REGISTRATION);
	form_set(f, "serial", "R2026-000101", NULL);
	form_set(f, "applicant_type", "person", NULL);
	form_set(f, "name", "陳怡君", NULL);
	form_set(f, "national_id", "A123456789", NULL);
	form_set(f, "email", "yijun.chen@example.com.tw", NULL);
	form_set(f, "phone", "02-2345-6789", NULL);
	form_set(f, "postal_code", "106", NULL);
	form_set(f, "address", "臺北市大安區和平東路二段 106 號", NULL);
	form_set(f, "documents_seen", "national_id_card", NULL);
	form_set(f, "terms_version", "2026.1", NULL);
	form_set(f, "officer", "clerk01", NULL);
	return f;
}

static form_t *organization(void)
{
	form_t *f = form_new(FORM_REGISTRATION);
	form_set(f, "serial", "R2026-000102", NULL);
	form_set(f, "applicant_type", "organization", NULL);
	form_set(f, "name", "台灣積體電路製造股份有限公司", NULL);
	form_set(f, "ubn", "22099131", NULL);
	form_set(f, "contact_person", "林志明", NULL);
	form_set(f, "email", "ip@example.com.tw", NULL);
	form_set(f, "phone", "03-563-6688", NULL);
	form_set(f, "postal_code", "30078", NULL);
	form_set(f, "address", "新竹科學園區力行六路 8 號", NULL);
	form_set(f, "documents_seen", "company_registration,authorization_letter", NULL);
	form_set(f, "terms_version", "2026.1", NULL);
	form_set(f, "officer", "clerk01", NULL);
	return f;
}

/* The one problem a form has, or fail. */
static const struct form_problem *only_problem(const form_t *f, struct form_problem **v)
{
	size_t n = form_validate(f, v);
	if (n != 1) {
		for (size_t i = 0; i < n; i++)
			print_message("problem: %s %s\n", (*v)[i].field, (*v)[i].en);
		fail_msg("expected one problem, got %zu", n);
	}
	return &(*v)[0];
}

/* FIELD set to VALUE makes the form bad in FIELD; NULL VALUE: unset. */
static void expect_bad(form_t *(*make)(void), const char *field, const char *value)
{
	form_t *f = make();
	struct form_problem *v = NULL;
	form_set(f, field, value, NULL);
	const struct form_problem *p = only_problem(f, &v);
	if (strcmp(p->field, field) != 0)
		fail_msg("%s=%s: problem reported on %s", field, value ? value : "(unset)", p->field);
	assert_non_null(p->en);
	assert_non_null(p->zh);
	free(v);
	form_destroy(&f);
}

static void expect_good(form_t *(*make)(void), const char *field, const char *value,
    const char *stored)
{
	form_t *f = make();
	struct form_problem *v = NULL;
	form_set(f, field, value, NULL);
	size_t n = form_validate(f, &v);
	if (n)
		fail_msg("%s=%s rejected: %s %s", field, value, v[0].field, v[0].en);
	if (stored)
		assert_string_equal(form_get(f, field), stored);
	free(v);
	form_destroy(&f);
}

static void test_valid_forms(void **state)
{
	(void)state;
	form_t *a = person(), *b = organization();
	assert_int_equal(form_validate(a, NULL), 0);
	assert_int_equal(form_validate(b, NULL), 0);
	form_destroy(&a);
	form_destroy(&b);
	assert_null(a);
	form_destroy(NULL);
}

static void test_serial(void **state)
{
	(void)state;
	expect_good(person, "serial", " r2026-000101 ", "R2026-000101");
	expect_good(person, "serial", "ＲＡ１２３", "RA123");	/* full-width */
	expect_bad(person, "serial", "R1");
	expect_bad(person, "serial", "R2026_0001");
	expect_bad(person, "serial", "R2026/0001");
	expect_bad(person, "serial", "序號12345");
	expect_bad(person, "serial", "R123456789012345678901234567890123");
	expect_bad(person, "serial", NULL);
}

static void test_applicant_type(void **state)
{
	(void)state;
	expect_good(person, "applicant_type", "個人", "person");
	expect_good(person, "applicant_type", " Person ", "person");
	expect_good(organization, "applicant_type", "機關團體", "organization");
	expect_good(organization, "applicant_type", "organisation", "organization");
	expect_bad(person, "applicant_type", "robot");
	expect_bad(person, "applicant_type", NULL);
}

static void test_name(void **state)
{
	(void)state;
	char long_name[200] = "";
	for (int i = 0; i < 61; i++)
		strcat(long_name, "王");
	expect_good(person, "name", "　陳怡君　", "陳怡君");	/* ideographic spaces trimmed */
	expect_good(person, "name", "Maria Santos", NULL);
	expect_good(person, "name", long_name + 3, NULL);	/* 60 characters */
	expect_bad(person, "name", long_name);
	expect_bad(person, "name", "陳\x01怡君");
	expect_bad(person, "name", "陳\xe6\x80");	/* truncated UTF-8 */
	expect_bad(person, "name", "\xc0\xaf");	/* overlong */
	expect_bad(person, "name", "a\xc2\x85" "b");	/* C1 control */
	expect_bad(person, "name", "   ");
}

static void test_national_id(void **state)
{
	(void)state;
	struct form_problem *v = NULL;
	expect_good(person, "national_id", " a123456789 ", "A123456789");
	expect_good(person, "national_id", "A800000014", NULL);	/* new resident */
	expect_good(person, "national_id", "AA00000009", NULL);	/* old resident */
	expect_good(person, "national_id", "Ａ１２３４５６７８９", "A123456789");
	expect_bad(person, "national_id", "A123456788");
	expect_bad(person, "national_id", "A12345678");
	expect_bad(person, "national_id", NULL);

	form_t *f = person();
	form_set(f, "national_id", "A123456788", NULL);
	const struct form_problem *p = only_problem(f, &v);
	assert_string_equal(p->en, "check digit does not match");
	assert_string_equal(p->zh, "檢查碼不符");
	free(v);
	form_destroy(&f);

	/* A person has no UBN and no use for one. */
	expect_bad(person, "ubn", "22099131");
	/* An organization gives no national ID. */
	expect_bad(organization, "national_id", "A123456789");
}

static void test_ubn_and_contact(void **state)
{
	(void)state;
	expect_good(organization, "ubn", "2209 9131", "22099131");
	expect_bad(organization, "ubn", "22099132");
	expect_bad(organization, "ubn", "2209913");
	expect_bad(organization, "ubn", NULL);
	expect_bad(organization, "contact_person", NULL);
	expect_bad(organization, "contact_person", "林\t志明");
	expect_bad(person, "contact_person", "陳大文");	/* only for an organization */
}

static void test_email(void **state)
{
	(void)state;
	expect_good(person, "email", "Yijun.Chen@EXAMPLE.com.TW", "Yijun.Chen@example.com.tw");
	expect_good(person, "email", "a+b@mail.example.org", NULL);
	expect_bad(person, "email", "yijun.chen");
	expect_bad(person, "email", "a@b@example.com");
	expect_bad(person, "email", "a@localhost");
	expect_bad(person, "email", ".a@example.com");
	expect_bad(person, "email", "a..b@example.com");
	expect_bad(person, "email", "a@-example.com");
	expect_bad(person, "email", "a@example.c");
	expect_bad(person, "email", "a b@example.com");
	expect_bad(person, "email", "陳@example.com");
	expect_bad(person, "email", NULL);
}

static void test_phone(void **state)
{
	(void)state;
	expect_good(person, "phone", "(02) 2345-6789", "0223456789");
	expect_good(person, "phone", "+886 2 2345 6789", "0223456789");
	expect_good(person, "phone", "+886-2-2345-6789 ext. 123", "0223456789#123");
	expect_good(person, "phone", "02-2345-6789#45", "0223456789#45");
	expect_good(person, "phone", "02-2345-6789 分機 45", "0223456789#45");
	expect_good(person, "phone", "0912-345-678", "0912345678");
	expect_good(person, "phone", "+886 912 345 678", "0912345678");
	expect_good(person, "phone", "+886 (0)912 345 678", "0912345678");
	expect_good(person, "phone", "037-123456", "037123456");
	expect_good(person, "phone", "０２－２３４５－６７８９", "0223456789");
	expect_bad(person, "phone", "2345-6789");	/* no area code */
	expect_bad(person, "phone", "0912-345-67");
	expect_bad(person, "phone", "0912-345-6789");
	expect_bad(person, "phone", "0912345678#12");	/* mobiles have no extension */
	expect_bad(person, "phone", "01-2345-6789");
	expect_bad(person, "phone", "02-2345-678a");
	expect_bad(person, "phone", "+1 415 555 0100 0");
	expect_bad(person, "phone", "02-2345-6789#");
	expect_bad(person, "phone", NULL);
}

/* An empty or blank phone is a missing phone, from every way a form comes in; the phone
 * normaliser once read (and could write) past the end of such a value. */
static void test_blank_phone(void **state)
{
	static const char *const blanks[] = { "", " ", "  ", "\t", "\xe3\x80\x80", "x", "#", "ext" };
	static const char yaml[] = "serial: R2026-000101\nphone: \"\"\n";
	static const char csv[] = "serial,phone\nR2026-000101, \n";
	char *err = NULL;
	form_batch_t *b;
	form_t *f;
	json_t *j;
	(void)state;

	for (size_t i = 0; i < sizeof blanks / sizeof blanks[0]; i++) {
		f = form_new(FORM_REGISTRATION);
		assert_int_equal(form_set(f, "phone", blanks[i], NULL), 0);
		if (i < 5)
			assert_null(form_get(f, "phone"));
		form_destroy(&f);
		expect_bad(person, "phone", blanks[i]);
	}
	b = form_batch_parse_yaml(yaml, strlen(yaml), FORM_REGISTRATION, &err);
	assert_non_null(b);
	assert_int_equal(b->n, 1);
	assert_null(form_get(b->items[0].form, "phone"));
	form_batch_destroy(&b);
	b = form_batch_parse_csv(csv, strlen(csv), FORM_REGISTRATION, &err);
	assert_non_null(b);
	assert_int_equal(b->n, 1);
	assert_null(form_get(b->items[0].form, "phone"));
	form_batch_destroy(&b);
	j = json_pack("{s:s,s:s,s:s}", "kind", "registration", "serial", "R2026-000101", "phone", "");
	f = form_from_json(j, &err);
	if (f)
		assert_null(form_get(f, "phone"));
	free(err);
	form_destroy(&f);
	json_decref(j);
}

static void test_postal_and_address(void **state)
{
	(void)state;
	expect_good(person, "postal_code", "10617", NULL);
	expect_good(person, "postal_code", "106-017", "106017");
	expect_bad(person, "postal_code", "1061");
	expect_bad(person, "postal_code", "0106");
	expect_bad(person, "postal_code", "106a");
	expect_bad(person, "postal_code", "1061789");
	expect_bad(person, "postal_code", NULL);
	expect_bad(person, "address", NULL);
	expect_bad(person, "address", "臺北市\n大安區");
}

static void test_documents(void **state)
{
	(void)state;
	expect_good(person, "documents_seen", "passport; household_registration passport",
	    "household_registration,passport");
	expect_good(person, "documents_seen", "戶籍謄本、身分證", "national_id_card,household_registration");
	expect_good(person, "documents_seen", "resident_certificate", NULL);
	expect_bad(person, "documents_seen", "household_registration");	/* no ID document */
	expect_bad(person, "documents_seen", "national_id_card, driving_licence");
	expect_bad(person, "documents_seen", NULL);
	expect_bad(organization, "documents_seen", "national_id_card");
}

static void test_officer_language(void **state)
{
	(void)state;
	expect_good(person, "officer", "Clerk01", "clerk01");
	expect_bad(person, "officer", "c");
	expect_bad(person, "officer", "clerk 01");
	expect_bad(person, "officer", NULL);
	expect_good(person, "language", "zh_TW", "zh-TW");
	expect_good(person, "language", "English", "en");
	expect_bad(person, "language", "fr");
	expect_good(person, "terms_version", " 2026.1 ", "2026.1");
	expect_good(person, "terms_version", "v2026-2", "V2026-2");
	expect_bad(person, "terms_version", NULL);
	expect_bad(person, "terms_version", "2026 版");
}

static form_t *revocation(void)
{
	form_t *f = form_new(FORM_REVOCATION);
	form_set(f, "serial", "V2026-000001", NULL);
	form_set(f, "account", "u00000001", NULL);
	form_set(f, "applicant_id", "A123456789", NULL);
	form_set(f, "documents_seen", "national_id_card", NULL);
	form_set(f, "reason", "keyCompromise", NULL);
	form_set(f, "officer", "clerk01", NULL);
	return f;
}

static form_t *resume(void)
{
	form_t *f = form_new(FORM_RESUME);
	form_set(f, "serial", "S2026-000001", NULL);
	form_set(f, "account", "u12345678", NULL);
	form_set(f, "applicant_id", "A123456789", NULL);
	form_set(f, "documents_seen", "national_id_card", NULL);
	form_set(f, "delivery", "post", NULL);
	form_set(f, "recipient", "陳怡君", NULL);
	form_set(f, "postal_code", "106", NULL);
	form_set(f, "address", "臺北市大安區和平東路二段 106 號", NULL);
	form_set(f, "email", "yijun.chen@example.com.tw", NULL);
	form_set(f, "officer", "clerk01", NULL);
	return f;
}

static void test_revocation(void **state)
{
	(void)state;
	form_t *f = revocation();
	assert_int_equal(form_validate(f, NULL), 0);
	form_destroy(&f);
	expect_good(revocation, "reason", "資料變更", "affiliationChanged");
	expect_good(revocation, "reason", "金鑰遺失", "keyCompromise");
	expect_good(revocation, "reason", "key compromise", "keyCompromise");
	expect_good(revocation, "reason", "SUPERSEDED", "superseded");
	expect_bad(revocation, "reason", "unspecified");
	expect_bad(revocation, "reason", NULL);
	expect_good(revocation, "event_date", "2026/3/5", "2026-03-05");
	expect_good(revocation, "event_date", "2024-02-29", NULL);
	expect_bad(revocation, "event_date", "2026-02-29");
	expect_bad(revocation, "event_date", "2026-13-01");
	expect_bad(revocation, "event_date", "yesterday");
	expect_good(revocation, "account", "U12345678", "u12345678");
	expect_bad(revocation, "account", "u1234567");
	expect_bad(revocation, "account", "x12345678");
	expect_bad(revocation, "account", NULL);
	/* Who came to the counter: a person's ID or an organization's UBN, and an ID document. */
	expect_good(revocation, "applicant_id", "a123-456-789", "A123456789");
	expect_good(revocation, "applicant_id", "22099131", NULL);
	expect_bad(revocation, "applicant_id", "A123456788");
	expect_bad(revocation, "applicant_id", "22099132");
	expect_bad(revocation, "applicant_id", NULL);
	expect_good(revocation, "documents_seen", "護照", "passport");
	expect_bad(revocation, "documents_seen", "household_registration");
	expect_bad(revocation, "documents_seen", NULL);
}

static void test_resume_and_reset(void **state)
{
	(void)state;
	form_t *f = resume();
	assert_int_equal(form_validate(f, NULL), 0);
	form_destroy(&f);
	expect_good(resume, "delivery", "臨櫃", "counter");
	expect_good(resume, "delivery", "E-mail", "electronic");
	expect_bad(resume, "delivery", "pigeon");
	expect_bad(resume, "delivery", NULL);
	/* Where the sheet goes comes from the form: an address for post, an e-mail for electronic. */
	expect_bad(resume, "recipient", NULL);
	expect_bad(resume, "postal_code", NULL);
	expect_bad(resume, "address", NULL);
	expect_bad(resume, "postal_code", "1234");
	f = resume();
	form_set(f, "delivery", "electronic", NULL);
	form_set(f, "email", NULL, NULL);
	assert_int_equal(form_validate(f, NULL), 1);	/* e-mail now required */
	form_set(f, "email", "Yijun@Example.COM.tw", NULL);
	assert_string_equal(form_get(f, "email"), "Yijun@example.com.tw");
	assert_int_equal(form_validate(f, NULL), 0);
	form_set(f, "delivery", "counter", NULL);
	form_set(f, "postal_code", NULL, NULL);
	form_set(f, "address", NULL, NULL);
	form_set(f, "email", NULL, NULL);
	assert_int_equal(form_validate(f, NULL), 0);
	form_destroy(&f);
	expect_bad(resume, "applicant_id", NULL);

	enum form_kind k;
	assert_int_equal(form_kind_parse("password-reset", &k), 0);
	assert_int_equal(k, FORM_PASSWORD_RESET);
	assert_int_equal(form_kind_parse("Password_Reset", &k), 0);
	assert_int_equal(form_kind_parse("renewal", &k), -1);
	assert_string_equal(form_kind_name(FORM_PASSWORD_RESET), "password_reset");
	assert_non_null(form_field_find(FORM_PASSWORD_RESET, "delivery"));
	assert_null(form_field_find(FORM_PASSWORD_RESET, "reason"));
}

static void test_change(void **state)
{
	(void)state;
	char *err = NULL;
	struct form_problem *v = NULL;
	form_t *f = form_new(FORM_CHANGE);
	enum form_kind k;

	assert_int_equal(form_kind_parse("change", &k), 0);
	assert_int_equal(k, FORM_CHANGE);
	form_set(f, "serial", "C2026-000001", NULL);
	form_set(f, "account", "u12345678", NULL);
	form_set(f, "applicant_id", "A123456789", NULL);
	form_set(f, "documents_seen", "身分證", NULL);
	form_set(f, "officer", "clerk01", NULL);
	/* Nothing to change is a problem of the form as a whole. */
	assert_int_equal(form_validate(f, &v), 1);
	assert_string_equal(v[0].field, "kind");
	assert_non_null(strstr(v[0].zh, "未填寫任何變更事項"));
	free(v);
	form_set(f, "phone", "+886 2 2345 6789", NULL);
	assert_int_equal(form_validate(f, NULL), 0);
	/* An address comes with its postal code. */
	form_set(f, "address", "臺北市中正區重慶南路一段122號", NULL);
	assert_int_equal(form_validate(f, &v), 1);
	assert_string_equal(v[0].field, "postal_code");
	free(v);
	form_set(f, "postal_code", "100", NULL);
	assert_int_equal(form_validate(f, NULL), 0);
	/* Name and e-mail are inside the certificates: the counter is told the way. */
	assert_int_equal(form_set(f, "name", "王小明", &err), -1);
	assert_non_null(strstr(err, "revocation form"));
	free(err);
	assert_int_equal(form_set(f, "email", "a@example.com", &err), -1);
	assert_non_null(strstr(err, "affiliationChanged"));
	free(err);
	form_destroy(&f);
}

static void test_reject_reasons(void **state)
{
	(void)state;
	const struct form_reject_reason *r;
	size_t n = 0;

	while ((r = form_reject_reason_at(n)) != NULL) {
		assert_non_null(r->en);
		assert_non_null(r->zh);
		assert_ptr_equal(form_reject_reason_find(r->code), r);
		n++;
	}
	assert_true(n >= 2);
	assert_string_equal(form_reject_reason_find("Not-Signed")->code, "not_signed");
	assert_true(form_reject_reason_find("other")->needs_note);
	assert_false(form_reject_reason_find("documents")->needs_note);
	assert_null(form_reject_reason_find("nonsense"));
	assert_null(form_reject_reason_find(""));
	assert_null(form_reject_reason_find(NULL));
	assert_null(form_reject_reason_find("incomplete-but-much-too-long-for-a-code"));
}

static void test_unknown_field_and_applies(void **state)
{
	(void)state;
	char *err = NULL;
	form_t *f = person();
	assert_int_equal(form_set(f, "favourite_colour", "blue", &err), -1);
	assert_non_null(strstr(err, "favourite_colour"));
	free(err);
	assert_int_equal(form_applies(f, "national_id"), 1);
	assert_int_equal(form_applies(f, "ubn"), 0);
	assert_int_equal(form_applies(f, "contact_person"), 0);
	form_set(f, "applicant_type", "organization", NULL);
	assert_int_equal(form_applies(f, "national_id"), 0);
	assert_int_equal(form_applies(f, "ubn"), 1);
	form_destroy(&f);
}

static void test_table_and_dup(void **state)
{
	(void)state;
	struct form_problem p;
	size_t n = 0;
	const struct form_field *fd;

	while ((fd = form_field_at(FORM_REGISTRATION, n)) != NULL) {
		assert_non_null(fd->label_en);
		assert_non_null(fd->label_zh);
		assert_non_null(fd->hint);
		n++;
	}
	assert_int_equal(n, 15);
	assert_string_equal(form_field_at(FORM_REVOCATION, 2)->name, "applicant_id");
	assert_string_equal(form_field_at(FORM_REVOCATION, 4)->name, "reason");
	assert_true(form_field_find(FORM_REGISTRATION, "documents_seen")->is_list);

	form_t *f = person(), *g = form_dup(f);
	assert_int_equal(form_diff(f, g, NULL), 0);
	form_set(g, "name", "陳怡珺", NULL);
	assert_string_equal(form_get(f, "name"), "陳怡君");
	assert_int_equal(form_check_field(g, "name", &p), 0);
	form_set(g, "name", NULL, NULL);
	assert_int_equal(form_check_field(g, "name", &p), -1);
	assert_string_equal(p.field, "name");
	assert_string_equal(p.en, "is required");
	assert_int_equal(form_check_field(g, "ubn", &p), 0);	/* absent and not asked */
	assert_int_equal(form_check_field(g, "reason", &p), -1);	/* not a registration field */
	assert_null(form_get(g, "reason"));
	form_destroy(&f);
	form_destroy(&g);
}

static void test_every_problem_listed(void **state)
{
	(void)state;
	struct form_problem *v = NULL;
	form_t *f = form_new(FORM_REGISTRATION);
	form_set(f, "applicant_type", "person", NULL);
	form_set(f, "phone", "12", NULL);
	form_set(f, "language", "zh-TW", NULL);
	size_t n = form_validate(f, &v);
	/* serial, name, national_id, email, phone, postal_code, address, documents, terms, officer */
	assert_int_equal(n, 10);
	assert_string_equal(v[0].field, "serial");
	assert_string_equal(v[0].en, "is required");
	assert_string_equal(v[0].zh, "必填");
	assert_string_equal(v[4].field, "phone");
	assert_int_equal(form_wants_zh(f), 1);
	free(v);
	form_destroy(&f);
}

static void test_json_roundtrip(void **state)
{
	(void)state;
	char *err = NULL;
	form_t *f = person();
	form_set(f, "documents_seen", "household_registration, national_id_card", NULL);
	char *text = form_canonical(f);
	assert_string_equal(text,
	    "{\"address\":\"臺北市大安區和平東路二段 106 號\",\"applicant_type\":\"person\","
	    "\"documents_seen\":[\"national_id_card\",\"household_registration\"],"
	    "\"email\":\"yijun.chen@example.com.tw\",\"kind\":\"registration\","
	    "\"name\":\"陳怡君\",\"national_id\":\"A123456789\",\"officer\":\"clerk01\","
	    "\"phone\":\"0223456789\",\"postal_code\":\"106\",\"serial\":\"R2026-000101\","
	    "\"terms_version\":\"2026.1\"}");
	json_t *j = form_to_json(f);
	form_t *g = form_from_json(j, &err);
	assert_non_null(g);
	assert_int_equal(form_diff(f, g, NULL), 0);
	char *text2 = form_canonical(g);
	assert_string_equal(text, text2);
	free(text);
	free(text2);
	json_decref(j);
	form_destroy(&g);

	j = json_pack("{s:s, s:s}", "kind", "resume", "reason", "x");
	assert_null(form_from_json(j, &err));
	assert_non_null(strstr(err, "reason"));
	free(err);
	json_decref(j);
	j = json_pack("{s:s}", "serial", "X1234");
	assert_null(form_from_json(j, &err));
	free(err);
	json_decref(j);
	j = json_pack("{s:s, s:i}", "kind", "resume", "serial", 5);
	assert_null(form_from_json(j, &err));
	free(err);
	json_decref(j);
	form_destroy(&f);
}

static void test_diff(void **state)
{
	(void)state;
	const char **fields = NULL;
	form_t *a = person(), *b = person();
	/* Keyed differently, stored the same. */
	form_set(b, "phone", "+886 2 2345 6789", NULL);
	form_set(b, "national_id", "a 123456789", NULL);
	form_set(b, "officer", "clerk02", NULL);
	assert_int_equal(form_diff(a, b, NULL), 0);
	form_set(b, "name", "陳怡珺", NULL);
	form_set(b, "postal_code", NULL, NULL);
	assert_int_equal(form_diff(a, b, &fields), 2);
	assert_string_equal(fields[0], "name");
	assert_string_equal(fields[1], "postal_code");
	free(fields);
	form_t *c = resume();
	assert_int_equal(form_diff(a, c, &fields), 1);
	assert_string_equal(fields[0], "kind");
	free(fields);
	form_destroy(&a);
	form_destroy(&b);
	form_destroy(&c);
}

static void test_yaml(void **state)
{
	(void)state;
	char *err = NULL;
	static const char one[] =
	    "serial: R2026-000101\n"
	    "applicant_type: person\n"
	    "name: 陳怡君\n"
	    "national_id: A123456789\n"
	    "email: yijun.chen@example.com.tw\n"
	    "phone: \"02-2345-6789\"\n"
	    "postal_code: 106\n"
	    "address: 臺北市大安區和平東路二段 106 號\n"
	    "documents_seen: [national_id_card]\n"
	    "terms_version: 2026.1\n"
	    "officer: clerk01\n"
	    "language: ~\n";
	form_batch_t *b = form_batch_parse_yaml(one, strlen(one), FORM_REGISTRATION, &err);
	assert_non_null(b);
	assert_int_equal(b->n, 1);
	assert_null(b->items[0].error);
	assert_int_equal(b->items[0].line, 1);
	assert_int_equal(form_validate(b->items[0].form, NULL), 0);
	assert_null(form_get(b->items[0].form, "language"));
	form_batch_destroy(&b);
	assert_null(b);

	static const char list[] =
	    "- kind: resume\n"
	    "  serial: S2026-1\n"
	    "  account: u12345678\n"
	    "  delivery: 郵寄\n"
	    "  officer: clerk01\n"
	    "- serial: S2026-2\n"
	    "  colour: blue\n"
	    "- kind: renewal\n"
	    "- just text\n";
	b = form_batch_parse_yaml(list, strlen(list), FORM_REGISTRATION, &err);
	assert_non_null(b);
	assert_int_equal(b->n, 4);
	assert_int_equal(b->items[0].line, 1);
	assert_int_equal(form_get_kind(b->items[0].form), FORM_RESUME);
	assert_string_equal(form_get(b->items[0].form, "delivery"), "post");
	assert_int_equal(b->items[1].line, 6);
	assert_null(b->items[1].form);
	assert_non_null(strstr(b->items[1].error, "colour"));
	assert_non_null(strstr(b->items[1].error, "line 7"));
	assert_non_null(strstr(b->items[2].error, "kind"));
	assert_non_null(b->items[3].error);
	form_batch_destroy(&b);

	static const char scalar_list[] = "kind: registration\ndocuments_seen: 'passport, 居留證'\nname: [a, b]\n";
	b = form_batch_parse_yaml(scalar_list, strlen(scalar_list), FORM_RESUME, &err);
	assert_non_null(b);
	assert_int_equal(b->n, 1);
	/* name is not a list; documents_seen was read before the error. */
	assert_non_null(b->items[0].error);
	form_batch_destroy(&b);
	static const char scalar_list2[] = "kind: registration\ndocuments_seen: 'passport, 居留證'\n";
	b = form_batch_parse_yaml(scalar_list2, strlen(scalar_list2), FORM_RESUME, &err);
	assert_string_equal(form_get(b->items[0].form, "documents_seen"), "resident_certificate,passport");
	form_batch_destroy(&b);

	assert_null(form_batch_parse_yaml("a: [b\n", 6, FORM_REGISTRATION, &err));
	assert_non_null(err);
	free(err);
	assert_null(form_batch_parse_yaml("just text\n", 10, FORM_REGISTRATION, &err));
	free(err);
}

static void test_csv(void **state)
{
	(void)state;
	char *err = NULL;
	static const char csv[] =
	    "\xef\xbb\xbfserial,applicant_type,name,national_id,ubn,contact_person,email,phone,"
	    "postal_code,address,documents_seen,officer,terms_version\r\n"
	    "R2026-000101,person,陳怡君,A123456789,,,yijun.chen@example.com.tw,02-2345-6789,"
	    "106,\"臺北市大安區和平東路二段 106 號\",national_id_card,clerk01,2026.1\r\n"
	    "\r\n"
	    "R2026-000102,organization,\"台灣\"\"積電\"\"\",,22099131,林志明,ip@example.com.tw,"
	    "03-563-6688,30078,\"新竹科學園區\n力行六路 8 號\",\"company_registration,"
	    "authorization_letter\",clerk01,2026.1\r\n"
	    "R2026-000103,person,王小明\r\n"
	    "R2026-000104,person,\"王\"小明,A123456789,,,a@example.com,02-2345-6789,106,x,"
	    "national_id_card,clerk01,2026.1\n";
	form_batch_t *b = form_batch_parse_csv(csv, strlen(csv), FORM_REGISTRATION, &err);
	assert_non_null(b);
	assert_int_equal(b->n, 4);
	assert_int_equal(b->items[0].line, 2);
	assert_int_equal(form_validate(b->items[0].form, NULL), 0);
	assert_string_equal(form_get(b->items[0].form, "address"), "臺北市大安區和平東路二段 106 號");
	assert_int_equal(b->items[1].line, 4);
	assert_string_equal(form_get(b->items[1].form, "name"), "台灣\"積電\"");
	assert_string_equal(form_get(b->items[1].form, "documents_seen"),
	    "company_registration,authorization_letter");
	/* The quoted address spans a line: it has a control character, so it is invalid. */
	struct form_problem *v = NULL;
	assert_int_equal(form_validate(b->items[1].form, &v), 1);
	assert_string_equal(v[0].field, "address");
	free(v);
	assert_int_equal(b->items[2].line, 6);
	assert_non_null(strstr(b->items[2].error, "has 3 fields"));
	assert_int_equal(b->items[3].line, 7);
	assert_non_null(b->items[3].error);
	form_batch_destroy(&b);

	static const char bad_header[] = "serial,colour\nX,Y\n";
	assert_null(form_batch_parse_csv(bad_header, strlen(bad_header), FORM_REGISTRATION, &err));
	assert_non_null(strstr(err, "colour"));
	free(err);
	/* 陳 in Big5. */
	static const char big5[] = "serial,name\nR2026-1,\xb3\xaf\n";
	assert_null(form_batch_parse_csv(big5, strlen(big5), FORM_REGISTRATION, &err));
	assert_non_null(strstr(err, "not UTF-8"));
	free(err);
	assert_null(form_batch_parse_csv("", 0, FORM_REGISTRATION, &err));
	free(err);

	static const char kinds[] = "kind,serial,account,applicant_id,documents_seen,delivery,recipient,reason,officer\n"
	    "password-reset,P2026-1,u12345678,A123456789,身分證,counter,陳怡君,,clerk01\n"
	    "revocation,V2026-1,u12345678,22099131,公司登記,,,金鑰遺失,clerk01\n"
	    "resume,S2026-1,u12345678,A123456789,身分證,post,陳怡君,keyCompromise,clerk01\n"
	    "\"unterminated,x\n";
	b = form_batch_parse_csv(kinds, strlen(kinds), FORM_REGISTRATION, &err);
	assert_non_null(b);
	assert_int_equal(b->n, 4);
	assert_int_equal(form_get_kind(b->items[0].form), FORM_PASSWORD_RESET);
	assert_int_equal(form_validate(b->items[0].form, NULL), 0);
	assert_string_equal(form_get(b->items[1].form, "reason"), "keyCompromise");
	assert_int_equal(form_validate(b->items[1].form, NULL), 0);
	assert_non_null(strstr(b->items[2].error, "reason"));
	assert_non_null(strstr(b->items[3].error, "not closed"));
	form_batch_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_forms),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_applicant_type),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_national_id),
		cmocka_unit_test(test_ubn_and_contact),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_blank_phone),
		cmocka_unit_test(test_postal_and_address),
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_officer_language),
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_resume_and_reset),
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_reject_reasons),
		cmocka_unit_test(test_unknown_field_and_applies),
		cmocka_unit_test(test_table_and_dup),
		cmocka_unit_test(test_every_problem_listed),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_csv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
