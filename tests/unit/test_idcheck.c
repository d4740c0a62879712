/*
 * test_idcheck.c: check digits of personal IDs and unified business numbers, with
 * vectors computed independently of lib/idcheck.c, and the reason given for each
 * kind of mistake a clerk makes (wrong length, wrong letter, a digit slip).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "idcheck.h"

static const char *const national_ok[] = {
	"A123456789", "K126018155", "S208301664", "C131860913", "H290996035", "B182462817",
	"S248219930", "L118190933", "P286579754", "J132319484", "P257491189", "N125276011",
	"Y289555977", "S171147107", "X249746500", "O152917034", "Y242366710", "F131104093",
	"I100000003", "W100000001", "Z100000002",
};

static const char *const resident_new_ok[] = {
	"A800000014", "F876842683", "I965632125", "E833079247", "J902685999", "K828907864",
	"M966176035", "C837215907", "D909281592",
};

static const char *const resident_old_ok[] = {
	"AA00000009", "AA13962456", "TB57117779", "PC41215477", "WD28038525", "WA80841488",
	"LB25388854", "UC39336331", "QD75004749",
};

/* Wrong check digits, wrong second characters, bad shapes. */
static const struct {
	const char *id, *reason;
} person_bad[] = {
	{ "A123456788", "check digit does not match" },
	{ "A123456780", "check digit does not match" },
	{ "B123456789", "check digit does not match" },
	{ "K126018154", "check digit does not match" },
	{ "S208301665", "check digit does not match" },
	{ "C131860914", "check digit does not match" },
	{ "H290996036", "check digit does not match" },
	{ "Y289555970", "check digit does not match" },
	{ "A213456789", "check digit does not match" },	/* two digits swapped */
	{ "F876842684", "check digit does not match" },
	{ "I965632120", "check digit does not match" },
	{ "AA00000008", "check digit does not match" },
	{ "TB57117778", "check digit does not match" },
	{ "QD75004740", "check digit does not match" },
	{ "WA80841489", "check digit does not match" },
	{ "A323456789", "second character must be 1, 2, 8, 9 or a letter A-D" },
	{ "A023456789", "second character must be 1, 2, 8, 9 or a letter A-D" },
	{ "A723456789", "second character must be 1, 2, 8, 9 or a letter A-D" },
	{ "AE00000009", "second character must be 1, 2, 8, 9 or a letter A-D" },
	{ "AZ00000009", "second character must be 1, 2, 8, 9 or a letter A-D" },
	{ "a123456789", "must start with a letter A-Z" },
	{ "1123456789", "must start with a letter A-Z" },
	{ "A12345678", "must be 10 characters" },
	{ "A1234567890", "must be 10 characters" },
	{ "A12345678X", "characters 3 to 10 must be digits" },
	{ "A1234 6789", "characters 3 to 10 must be digits" },
	{ "AA0000000A", "characters 3 to 10 must be digits" },
	{ "", "is empty" },
	{ "A12345678\xef", "characters 3 to 10 must be digits" },
	{ "\xef\xbc\xa1" "1234567", "must start with a letter A-Z" },	/* full-width A */
};

static const char *const ubn_ok[] = {
	"12345675", "04595252", "04595257", "10458575", "10458574", "22099131",
	"12345676", "39575513", "13735379", "20018263", "54862057", "78878384",
	"67232686", "83873716", "78684335", "14126906", "04431982", "81741433",
	"13748477", "71834170", "76020776", "05561304", "79247082", "25815354",
	"93066683", "67640206", "73587355", "76467272", "45443732", "43103993",
	"19953055", "20340930", "82812646", "19958225", "34207509", "59425947",
	"83550326", "78155176", "61605374", "46882673", "27749372", "57383474",
	"52353471",
};

static const struct {
	const char *ubn, *reason;
} ubn_bad[] = {
	{ "86546592", "check sum does not match" }, { "55173290", "check sum does not match" },
	{ "48449500", "check sum does not match" }, { "32496685", "check sum does not match" },
	{ "02739000", "check sum does not match" }, { "36949235", "check sum does not match" },
	{ "97220327", "check sum does not match" }, { "11246400", "check sum does not match" },
	{ "23201098", "check sum does not match" }, { "32638986", "check sum does not match" },
	{ "80667172", "check sum does not match" }, { "31430154", "check sum does not match" },
	{ "18024332", "check sum does not match" }, { "53659368", "check sum does not match" },
	{ "43699192", "check sum does not match" }, { "20011925", "check sum does not match" },
	{ "20002010", "check sum does not match" }, { "19538161", "check sum does not match" },
	{ "33310014", "check sum does not match" }, { "71213455", "check sum does not match" },
	{ "04595251", "check sum does not match" },
	{ "1234567", "must be 8 digits" }, { "123456789", "must be 8 digits" },
	{ "1234567A", "must be 8 digits" }, { "1234 675", "must be 8 digits" },
	{ "-2345675", "must be 8 digits" }, { "", "is empty" },
	{ "\xef\xbc\x91" "2345675", "must be 8 digits" }, { "12-45675", "must be 8 digits" },
};

static void test_national_valid(void **state)
{
	(void)state;
	enum idcheck_kind k = 0;
	for (size_t i = 0; i < sizeof national_ok / sizeof *national_ok; i++) {
		const char *why = NULL;
		if (idcheck_national_id(national_ok[i], &why) != 0)
			fail_msg("%s rejected: %s", national_ok[i], why);
		assert_int_equal(idcheck_person(national_ok[i], &k, &why), 0);
		assert_int_equal(k, IDCHECK_NATIONAL);
		assert_int_equal(idcheck_resident_new(national_ok[i], &why), -1);
		assert_int_equal(idcheck_resident_old(national_ok[i], &why), -1);
	}
}

static void test_resident_new_valid(void **state)
{
	(void)state;
	enum idcheck_kind k = 0;
	for (size_t i = 0; i < sizeof resident_new_ok / sizeof *resident_new_ok; i++) {
		const char *why = NULL;
		if (idcheck_resident_new(resident_new_ok[i], &why) != 0)
			fail_msg("%s rejected: %s", resident_new_ok[i], why);
		assert_int_equal(idcheck_person(resident_new_ok[i], &k, &why), 0);
		assert_int_equal(k, IDCHECK_RESIDENT_NEW);
		assert_int_equal(idcheck_national_id(resident_new_ok[i], &why), -1);
		assert_string_equal(why, "second character must be 1 or 2");
	}
}

static void test_resident_old_valid(void **state)
{
	(void)state;
	enum idcheck_kind k = 0;
	for (size_t i = 0; i < sizeof resident_old_ok / sizeof *resident_old_ok; i++) {
		const char *why = NULL;
		if (idcheck_resident_old(resident_old_ok[i], &why) != 0)
			fail_msg("%s rejected: %s", resident_old_ok[i], why);
		assert_int_equal(idcheck_person(resident_old_ok[i], &k, &why), 0);
		assert_int_equal(k, IDCHECK_RESIDENT_OLD);
		assert_int_equal(idcheck_resident_new(resident_old_ok[i], &why), -1);
		assert_string_equal(why, "second character must be 8 or 9");
	}
}

static void test_person_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof person_bad / sizeof *person_bad; i++) {
		const char *why = NULL;
		if (idcheck_person(person_bad[i].id, NULL, &why) != -1)
			fail_msg("%s accepted", person_bad[i].id);
		assert_non_null(why);
		if (strcmp(why, person_bad[i].reason) != 0)
			fail_msg("%s: reason \"%s\", expected \"%s\"", person_bad[i].id, why, person_bad[i].reason);
	}
	const char *why = NULL;
	assert_int_equal(idcheck_person(NULL, NULL, &why), -1);
	assert_string_equal(why, "is empty");
	assert_int_equal(idcheck_resident_old("A900000001", &why), -1);
	assert_string_equal(why, "second character must be a letter A-D");
	/* A NULL reason pointer is allowed. */
	assert_int_equal(idcheck_national_id("A123456788", NULL), -1);
}

static void test_every_letter(void **state)
{
	(void)state;
	/* For each first letter exactly one check digit is right. */
	for (char c = 'A'; c <= 'Z'; c++) {
		int valid = 0;
		for (char d = '0'; d <= '9'; d++) {
			char id[11] = { c, '1', '0', '0', '0', '0', '0', '0', '0', d, 0 };
			valid += idcheck_national_id(id, NULL) == 0;
		}
		assert_int_equal(valid, 1);
	}
}

static void test_ubn_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ubn_ok / sizeof *ubn_ok; i++) {
		const char *why = NULL;
		if (idcheck_ubn(ubn_ok[i], &why) != 0)
			fail_msg("%s rejected: %s", ubn_ok[i], why);
	}
}

static void test_ubn_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ubn_bad / sizeof *ubn_bad; i++) {
		const char *why = NULL;
		if (idcheck_ubn(ubn_bad[i].ubn, &why) != -1)
			fail_msg("%s accepted", ubn_bad[i].ubn);
		if (strcmp(why, ubn_bad[i].reason) != 0)
			fail_msg("%s: reason \"%s\", expected \"%s\"", ubn_bad[i].ubn, why, ubn_bad[i].reason);
	}
	assert_int_equal(idcheck_ubn(NULL, NULL), -1);
}

static void test_ubn_seventh_digit(void **state)
{
	(void)state;
	/*
	 * 7 in seventh place: 10458575 sums to 30 with the 28 -> 1 reading, 29 with 0 ...
	 * both readings are tried, so a number valid under either is accepted.
	 */
	assert_int_equal(idcheck_ubn("10458575", NULL), 0);
	assert_int_equal(idcheck_ubn("10458574", NULL), 0);
	assert_int_equal(idcheck_ubn("10458573", NULL), -1);
	/* The same digits with 6 in seventh place have no second reading. */
	assert_int_equal(idcheck_ubn("10458565", NULL), -1);
}

static void test_reason_zh(void **state)
{
	(void)state;
	const char *why = NULL;
	idcheck_national_id("A123456788", &why);
	assert_string_equal(idcheck_reason_zh(why), "檢查碼不符");
	idcheck_ubn("123", &why);
	assert_string_equal(idcheck_reason_zh(why), "應為 8 位數字");
	assert_string_equal(idcheck_reason_zh("something else"), "something else");
	assert_null(idcheck_reason_zh(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_national_valid),
		cmocka_unit_test(test_resident_new_valid),
		cmocka_unit_test(test_resident_old_valid),
		cmocka_unit_test(test_person_invalid),
		cmocka_unit_test(test_every_letter),
		cmocka_unit_test(test_ubn_valid),
		cmocka_unit_test(test_ubn_invalid),
		cmocka_unit_test(test_ubn_seventh_digit),
		cmocka_unit_test(test_reason_zh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
