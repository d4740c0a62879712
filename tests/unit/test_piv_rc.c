/*
 * test_piv_rc.c: status-word and PC/SC mapping to piv_rc, and a text for every code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <PCSC/winscard.h>

#include "../../card/rc.h"

static void test_sw(void **state)
{
	(void)state;
	assert_int_equal(piv_rc_from_sw(0x9000), PIV_OK);
	assert_int_equal(piv_rc_from_sw(0x63C2), PIV_E_WRONG_PIN);
	assert_int_equal(piv_rc_from_sw(0x63C1), PIV_E_WRONG_PIN);
	assert_int_equal(piv_rc_from_sw(0x63C0), PIV_E_PIN_BLOCKED);
	assert_int_equal(piv_rc_from_sw(0x6983), PIV_E_PIN_BLOCKED);
	assert_int_equal(piv_rc_from_sw(0x6982), PIV_E_SECURITY);
	assert_int_equal(piv_rc_from_sw(0x6A82), PIV_E_NOT_FOUND);
	assert_int_equal(piv_rc_from_sw(0x6D00), PIV_E_NOT_SUPPORTED);
	assert_int_equal(piv_rc_from_sw(0x6E00), PIV_E_NOT_SUPPORTED);
	assert_int_equal(piv_rc_from_sw(0x6A81), PIV_E_NOT_SUPPORTED);
	assert_int_equal(piv_rc_from_sw(0x6A80), PIV_E_BAD_PARAM);
	assert_int_equal(piv_rc_from_sw(0x6A86), PIV_E_BAD_PARAM);
	assert_int_equal(piv_rc_from_sw(0x6700), PIV_E_WRONG_LENGTH);
	assert_int_equal(piv_rc_from_sw(0x6985), PIV_E_CONDITIONS);
	assert_int_equal(piv_rc_from_sw(0x6A84), PIV_E_CARD_FULL);
	assert_int_equal(piv_rc_from_sw(0x6F00), PIV_E_CARD);
	assert_int_equal(piv_rc_from_sw(0x0000), PIV_E_CARD);
}

static void test_tries(void **state)
{
	(void)state;
	assert_int_equal(piv_sw_tries(0x63C3), 3);
	assert_int_equal(piv_sw_tries(0x63C0), 0);
	assert_int_equal(piv_sw_tries(0x63CF), 15);
	assert_int_equal(piv_sw_tries(0x9000), -1);
	assert_int_equal(piv_sw_tries(0x6983), -1);
	assert_int_equal(piv_sw_tries(0x6300), -1);
}

static void test_pcsc(void **state)
{
	(void)state;
	assert_int_equal(piv_rc_from_pcsc(SCARD_S_SUCCESS), PIV_OK);
	assert_int_equal(piv_rc_from_pcsc(SCARD_E_NO_SERVICE), PIV_E_NO_SERVICE);
	assert_int_equal(piv_rc_from_pcsc(SCARD_E_UNKNOWN_READER), PIV_E_NO_READER);
	assert_int_equal(piv_rc_from_pcsc(SCARD_E_NO_SMARTCARD), PIV_E_NO_CARD);
	assert_int_equal(piv_rc_from_pcsc(SCARD_W_REMOVED_CARD), PIV_E_CARD_REMOVED);
	assert_int_equal(piv_rc_from_pcsc(SCARD_W_RESET_CARD), PIV_E_CARD_RESET);
	assert_int_equal(piv_rc_from_pcsc(SCARD_E_SHARING_VIOLATION), PIV_E_SHARING);
	assert_int_equal(piv_rc_from_pcsc(SCARD_E_TIMEOUT), PIV_E_TIMEOUT);
	assert_int_equal(piv_rc_from_pcsc(SCARD_F_INTERNAL_ERROR), PIV_E_PCSC);
}

static void test_texts(void **state)
{
	(void)state;
	for (int rc = 0; rc < PIV_RC_COUNT; rc++) {
		assert_non_null(piv_strerror(rc));
		assert_string_not_equal(piv_strerror(rc), "unknown error");
		assert_int_equal(strncmp(piv_rc_name(rc), "PIV_", 4), 0);
		assert_string_not_equal(piv_rc_name(rc), "PIV_E_UNKNOWN");
	}
	assert_string_equal(piv_strerror(PIV_RC_COUNT), "unknown error");
	assert_string_equal(piv_strerror((piv_rc)-1), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sw),
		cmocka_unit_test(test_tries),
		cmocka_unit_test(test_pcsc),
		cmocka_unit_test(test_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
