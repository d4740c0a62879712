/*
 * test_piv_fascn.c: the FASC-N encoder, checked by decoding it back: every 5-bit
 * character has odd parity, the sentinels sit where SP 800-73-4 puts them, the digits
 * read back, and the LRC is the XOR of all the characters before it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../card/piv.h"

/* Character I (0..39) as its four data bits; fails the test on bad parity. */
static unsigned fascn_char(const uint8_t f[25], int i)
{
	unsigned v = 0, ones = 0;

	for (int b = 0; b < 5; b++) {
		int bit = i * 5 + b;
		unsigned x = f[bit / 8] >> (7 - bit % 8) & 1;
		ones += x;
		if (b < 4)
			v |= x << b;
	}
	assert_int_equal(ones & 1, 1);
	return v;
}

static void test_fascn(void **state)
{
	uint8_t f[25];
	char digits[41];
	unsigned lrc = 0;
	int nd = 0;

	(void)state;
	piv_fascn_encode(9999, 9999, 123456, f);
	for (int i = 0; i < 40; i++) {
		unsigned c = fascn_char(f, i);
		if (i < 39)
			lrc ^= c;
		else
			assert_int_equal(c, lrc);
		if (i == 0)
			assert_int_equal(c, 0xB);	/* SS */
		else if (i == 5 || i == 10 || i == 17 || i == 19 || i == 21)
			assert_int_equal(c, 0xD);	/* FS */
		else if (i == 38)
			assert_int_equal(c, 0xF);	/* ES */
		else if (i < 38) {
			assert_true(c <= 9);
			digits[nd++] = (char)('0' + c);
		}
	}
	digits[nd] = '\0';
	assert_string_equal(digits, "9999" "9999" "123456" "1" "1" "0000000000" "1" "9999" "1");
}

static void test_fascn_distinct(void **state)
{
	uint8_t a[25], b[25];

	(void)state;
	piv_fascn_encode(9999, 9999, 1, a);
	piv_fascn_encode(9999, 9999, 2, b);
	assert_memory_not_equal(a, b, 25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fascn),
		cmocka_unit_test(test_fascn_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
