/*
 * idcheck.c: see idcheck.h.
 *
 * All personal IDs share one checksum. The first letter stands for a two-digit code
 * (10..35, in the order the household registration office assigned them, which is not
 * alphabetical: I, O, W, X, Y, Z came late); its tens and units digits are weighted 1
 * and 9, the next eight characters 8..1 and the check digit 1, and the sum must end in 0.
 * The old resident format has a letter A-D in second place that counts as the last digit
 * of its own code (A=10 -> 0, ... D=13 -> 3).
 *
 * The unified business number weights its digits 1,2,1,2,1,2,4,1 and adds the digits of
 * each product. Since April 2023 the sum need only be divisible by 5 (it used to be 10;
 * every old number still passes). A 7 in seventh place gives 28 -> 10, which counts as
 * either 1 or 0, so either sum may be divisible.
 */
#include "idcheck.h"

#include <stddef.h>
#include <string.h>

/* Codes of A..Z, indexed by letter. */
static const int letter_code[26] = {
	10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21,	/* A..M */
	22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33,	/* N..Z */
};

static const char R_EMPTY[] = "is empty";
static const char R_LENGTH[] = "must be 10 characters";
static const char R_LETTER[] = "must start with a letter A-Z";
static const char R_DIGITS[] = "characters 3 to 10 must be digits";
static const char R_NAT_SECOND[] = "second character must be 1 or 2";
static const char R_NEW_SECOND[] = "second character must be 8 or 9";
static const char R_OLD_SECOND[] = "second character must be a letter A-D";
static const char R_PERSON_SECOND[] = "second character must be 1, 2, 8, 9 or a letter A-D";
static const char R_CHECK[] = "check digit does not match";
static const char R_UBN_LENGTH[] = "must be 8 digits";
static const char R_UBN_CHECK[] = "check sum does not match";

static const struct {
	const char *en, *zh;
} reason_zh[] = {
	{ R_EMPTY, "未填寫" },
	{ R_LENGTH, "應為 10 碼" },
	{ R_LETTER, "第 1 碼應為英文字母 A-Z" },
	{ R_DIGITS, "第 3 至 10 碼應為數字" },
	{ R_NAT_SECOND, "第 2 碼應為 1 或 2" },
	{ R_NEW_SECOND, "第 2 碼應為 8 或 9" },
	{ R_OLD_SECOND, "第 2 碼應為英文字母 A-D" },
	{ R_PERSON_SECOND, "第 2 碼應為 1、2、8、9 或英文字母 A-D" },
	{ R_CHECK, "檢查碼不符" },
	{ R_UBN_LENGTH, "應為 8 位數字" },
	{ R_UBN_CHECK, "檢查碼不符" },
};

static int fail(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return -1;
}

/*
 * The shared checksum. SECOND is the value of the second character (a digit, or the
 * units digit of an old-format letter); the caller has checked the second character's
 * range, so this checks only shape and sum.
 */
static int person_checksum(const char *id, int second, const char **reason)
{
	int code, sum;

	if (!id || !*id)
		return fail(reason, R_EMPTY);
	if (strlen(id) != 10)
		return fail(reason, R_LENGTH);
	if (id[0] < 'A' || id[0] > 'Z')
		return fail(reason, R_LETTER);
	for (int i = 2; i < 10; i++)
		if (id[i] < '0' || id[i] > '9')
			return fail(reason, R_DIGITS);
	code = letter_code[id[0] - 'A'];
	sum = code / 10 + (code % 10) * 9 + second * 8;
	for (int i = 2; i < 9; i++)
		sum += (id[i] - '0') * (9 - i);
	sum += id[9] - '0';
	if (sum % 10 != 0)
		return fail(reason, R_CHECK);
	return 0;
}

/* Shape checks before the second character is read, so reasons come in reading order. */
static int shape(const char *id, const char **reason)
{
	if (!id || !*id)
		return fail(reason, R_EMPTY);
	if (strlen(id) != 10)
		return fail(reason, R_LENGTH);
	if (id[0] < 'A' || id[0] > 'Z')
		return fail(reason, R_LETTER);
	return 0;
}

int idcheck_national_id(const char *id, const char **reason)
{
	if (shape(id, reason) < 0)
		return -1;
	if (id[1] != '1' && id[1] != '2')
		return fail(reason, R_NAT_SECOND);
	return person_checksum(id, id[1] - '0', reason);
}

int idcheck_resident_new(const char *id, const char **reason)
{
	if (shape(id, reason) < 0)
		return -1;
	if (id[1] != '8' && id[1] != '9')
		return fail(reason, R_NEW_SECOND);
	return person_checksum(id, id[1] - '0', reason);
}

int idcheck_resident_old(const char *id, const char **reason)
{
	if (shape(id, reason) < 0)
		return -1;
	if (id[1] < 'A' || id[1] > 'D')
		return fail(reason, R_OLD_SECOND);
	return person_checksum(id, letter_code[id[1] - 'A'] % 10, reason);
}

int idcheck_person(const char *id, enum idcheck_kind *kind, const char **reason)
{
	enum idcheck_kind k;
	int rc;

	if (shape(id, reason) < 0)
		return -1;
	if (id[1] == '1' || id[1] == '2') {
		k = IDCHECK_NATIONAL;
		rc = idcheck_national_id(id, reason);
	} else if (id[1] == '8' || id[1] == '9') {
		k = IDCHECK_RESIDENT_NEW;
		rc = idcheck_resident_new(id, reason);
	} else if (id[1] >= 'A' && id[1] <= 'D') {
		k = IDCHECK_RESIDENT_OLD;
		rc = idcheck_resident_old(id, reason);
	} else {
		return fail(reason, R_PERSON_SECOND);
	}
	if (rc == 0 && kind)
		*kind = k;
	return rc;
}

/* The digits of a one- or two-digit product, added. */
static int digit_sum(int n)
{
	return n / 10 + n % 10;
}

int idcheck_account(const char *a)
{
	if (!a || strlen(a) != 9 || a[0] != 'u')
		return -1;
	for (int i = 1; i < 9; i++)
		if (a[i] < '0' || a[i] > '9')
			return -1;
	return 0;
}

int idcheck_ubn(const char *ubn, const char **reason)
{
	static const int weight[8] = { 1, 2, 1, 2, 1, 2, 4, 1 };
	int sum = 0;

	if (!ubn || !*ubn)
		return fail(reason, R_EMPTY);
	if (strlen(ubn) != 8)
		return fail(reason, R_UBN_LENGTH);
	for (int i = 0; i < 8; i++)
		if (ubn[i] < '0' || ubn[i] > '9')
			return fail(reason, R_UBN_LENGTH);
	for (int i = 0; i < 8; i++) {
		int s = digit_sum((ubn[i] - '0') * weight[i]);
		/* 7 x 4 = 28 -> 10: only here can a digit sum reach two digits; see above. */
		if (s == 10)
			s = 1;
		sum += s;
	}
	/* Divisible by 10 implies by 5, so the pre-2023 rule is accepted too. */
	if (sum % 5 == 0)
		return 0;
	if (ubn[6] == '7' && (sum - 1) % 5 == 0)
		return 0;
	return fail(reason, R_UBN_CHECK);
}

const char *idcheck_reason_zh(const char *reason)
{
	if (!reason)
		return NULL;
	for (size_t i = 0; i < sizeof reason_zh / sizeof reason_zh[0]; i++)
		if (reason_zh[i].en == reason || strcmp(reason_zh[i].en, reason) == 0)
			return reason_zh[i].zh;
	return reason;
}
