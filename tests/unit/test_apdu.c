/*
 * test_apdu.c: APDU encoding and the transfer loop (chaining, 61 xx, 6C xx) against a
 * scripted fake card that records every command it receives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../card/apdu.h"

#define MAX_STEPS 16

struct fake {
	/* scripted answers, one per command */
	uint8_t rsp[MAX_STEPS][300];
	size_t rlen[MAX_STEPS];
	size_t nrsp;
	/* what was sent */
	uint8_t cmd[MAX_STEPS][300];
	size_t clen[MAX_STEPS];
	size_t ncmd;
	int loop_last;		/* keep answering the last script entry */
};

static piv_rc fake_xmit(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *rsp, size_t *rlen)
{
	struct fake *f = ctx;
	size_t i = f->ncmd;

	if (i < MAX_STEPS) {
		memcpy(f->cmd[i], cmd, clen);
		f->clen[i] = clen;
	}
	f->ncmd++;
	if (i >= f->nrsp) {
		if (!f->loop_last)
			return PIV_E_PCSC;
		i = f->nrsp - 1;
	}
	assert_true(f->rlen[i] <= *rlen);
	memcpy(rsp, f->rsp[i], f->rlen[i]);
	*rlen = f->rlen[i];
	return PIV_OK;
}

static void script(struct fake *f, const uint8_t *r, size_t n)
{
	memcpy(f->rsp[f->nrsp], r, n);
	f->rlen[f->nrsp++] = n;
}

static void test_templates(void **state)
{
	(void)state;
	assert_memory_equal(APDU_SET_MGMKEY, ((uint8_t[]){ 0x00, 0xFF, 0xFF, 0xFF }), 4);
	assert_memory_equal(APDU_GET_SERIAL, ((uint8_t[]){ 0x00, 0xF8, 0x00, 0x00 }), 4);
	assert_memory_equal(APDU_GET_VERSION, ((uint8_t[]){ 0x00, 0xFD, 0x00, 0x00 }), 4);
	assert_memory_equal(APDU_RESET, ((uint8_t[]){ 0x00, 0xFB, 0x00, 0x00 }), 4);
	assert_memory_equal(APDU_GET_DATA, ((uint8_t[]){ 0x00, 0xCB, 0x3F, 0xFF }), 4);
	assert_memory_equal(APDU_SELECT, ((uint8_t[]){ 0x00, 0xA4, 0x04, 0x00 }), 4);
	assert_memory_equal(PIV_AID, ((uint8_t[]){ 0xA0, 0x00, 0x00, 0x03, 0x08 }), 5);
}

static void test_encode(void **state)
{
	uint8_t out[300], data[255];
	size_t n;

	(void)state;
	n = apdu_encode(APDU_GET_SERIAL, NULL, 0, 0, out, sizeof out);
	assert_int_equal(n, 4);
	n = apdu_encode(APDU_GET_SERIAL, NULL, 0, 1, out, sizeof out);
	assert_int_equal(n, 5);
	assert_int_equal(out[4], 0x00);
	n = apdu_encode(APDU_SELECT, PIV_AID, 5, 1, out, sizeof out);
	assert_int_equal(n, 11);
	assert_memory_equal(out, ((uint8_t[]){ 0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03,
		0x08, 0x00 }), 11);
	memset(data, 0x5A, sizeof data);
	assert_int_equal(apdu_encode(APDU_PUT_DATA, data, 255, 0, out, sizeof out), 260);
	assert_int_equal(out[4], 255);
	/* too long, too small a buffer, data missing */
	assert_int_equal(apdu_encode(APDU_PUT_DATA, data, 256, 0, out, sizeof out), 0);
	assert_int_equal(apdu_encode(APDU_PUT_DATA, data, 10, 0, out, 10), 0);
	assert_int_equal(apdu_encode(APDU_PUT_DATA, NULL, 10, 0, out, sizeof out), 0);
}

static void test_simple(void **state)
{
	struct fake f = { 0 };
	uint8_t rsp[16];
	size_t rlen = sizeof rsp;
	uint16_t sw;

	(void)state;
	script(&f, (uint8_t[]){ 0x01, 0x02, 0x03, 0x04, 0x90, 0x00 }, 6);
	assert_int_equal(apdu_transfer(fake_xmit, &f, APDU_GET_SERIAL, NULL, 0, rsp, &rlen, &sw),
	    PIV_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(rlen, 4);
	assert_memory_equal(rsp, ((uint8_t[]){ 1, 2, 3, 4 }), 4);
	assert_int_equal(f.ncmd, 1);
	assert_int_equal(f.clen[0], 5);
}

static void test_chaining(void **state)
{
	struct fake f = { 0 };
	uint8_t data[600];
	uint16_t sw;

	(void)state;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)i;
	script(&f, (uint8_t[]){ 0x90, 0x00 }, 2);
	script(&f, (uint8_t[]){ 0x90, 0x00 }, 2);
	script(&f, (uint8_t[]){ 0x90, 0x00 }, 2);
	assert_int_equal(apdu_transfer(fake_xmit, &f, APDU_PUT_DATA, data, sizeof data, NULL, NULL,
	    &sw), PIV_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(f.ncmd, 3);
	assert_int_equal(f.cmd[0][0], 0x10);
	assert_int_equal(f.cmd[0][4], 255);
	assert_int_equal(f.clen[0], 260);
	assert_memory_equal(f.cmd[0] + 5, data, 255);
	assert_int_equal(f.cmd[1][0], 0x10);
	assert_memory_equal(f.cmd[1] + 5, data + 255, 255);
	assert_int_equal(f.cmd[2][0], 0x00);
	assert_int_equal(f.cmd[2][4], 90);
	assert_memory_equal(f.cmd[2] + 5, data + 510, 90);
	assert_int_equal(f.clen[2], 4 + 1 + 90 + 1);
}

static void test_chaining_stops_on_error(void **state)
{
	struct fake f = { 0 };
	uint8_t data[600] = { 0 };
	uint16_t sw;

	(void)state;
	script(&f, (uint8_t[]){ 0x69, 0x82 }, 2);
	assert_int_equal(apdu_transfer(fake_xmit, &f, APDU_PUT_DATA, data, sizeof data, NULL, NULL,
	    &sw), PIV_OK);
	assert_int_equal(sw, 0x6982);
	assert_int_equal(f.ncmd, 1);
}

static void test_get_response(void **state)
{
	struct fake f = { 0 };
	uint8_t rsp[64];
	size_t rlen = sizeof rsp;
	uint16_t sw;

	(void)state;
	script(&f, (uint8_t[]){ 0xAA, 0xBB, 0x61, 0x03 }, 4);
	script(&f, (uint8_t[]){ 0xCC, 0xDD, 0xEE, 0x61, 0x00 }, 5);
	script(&f, (uint8_t[]){ 0xFF, 0x90, 0x00 }, 3);
	assert_int_equal(apdu_transfer(fake_xmit, &f, APDU_GET_DATA, (uint8_t[]){ 0x5C, 0x01, 0x7E },
	    3, rsp, &rlen, &sw), PIV_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(rlen, 6);
	assert_memory_equal(rsp, ((uint8_t[]){ 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF }), 6);
	assert_int_equal(f.ncmd, 3);
	assert_memory_equal(f.cmd[1], ((uint8_t[]){ 0x00, 0xC0, 0x00, 0x00, 0x03 }), 5);
	assert_memory_equal(f.cmd[2], ((uint8_t[]){ 0x00, 0xC0, 0x00, 0x00, 0x00 }), 5);
}

static void test_wrong_le(void **state)
{
	struct fake f = { 0 };
	uint8_t rsp[64];
	size_t rlen = sizeof rsp;
	uint16_t sw;

	(void)state;
	script(&f, (uint8_t[]){ 0x6C, 0x03 }, 2);
	script(&f, (uint8_t[]){ 0x05, 0x04, 0x03, 0x90, 0x00 }, 5);
	assert_int_equal(apdu_transfer(fake_xmit, &f, APDU_GET_VERSION, NULL, 0, rsp, &rlen, &sw),
	    PIV_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(rlen, 3);
	assert_int_equal(f.ncmd, 2);
	assert_memory_equal(f.cmd[1], ((uint8_t[]){ 0x00, 0xFD, 0x00, 0x00, 0x03 }), 5);
}

static void test_overflow_and_garbage(void **state)
{
	struct fake f = { 0 };
	uint8_t rsp[2];
	size_t rlen = sizeof rsp;
	uint16_t sw;

	(void)state;
	script(&f, (uint8_t[]){ 1, 2, 3, 0x90, 0x00 }, 5);
	assert_int_equal(apdu_transfer(fake_xmit, &f, APDU_GET_VERSION, NULL, 0, rsp, &rlen, &sw),
	    PIV_E_ARG);
	memset(&f, 0, sizeof f);
	script(&f, (uint8_t[]){ 0x90 }, 1);
	rlen = sizeof rsp;
	assert_int_equal(apdu_transfer(fake_xmit, &f, APDU_GET_VERSION, NULL, 0, rsp, &rlen, &sw),
	    PIV_E_COMM);
	/* a card that says "more data" forever is cut off */
	memset(&f, 0, sizeof f);
	script(&f, (uint8_t[]){ 0x61, 0x00 }, 2);
	f.loop_last = 1;
	rlen = sizeof rsp;
	assert_int_equal(apdu_transfer(fake_xmit, &f, APDU_GET_VERSION, NULL, 0, rsp, &rlen, &sw),
	    PIV_E_COMM);
	/* transport errors come through */
	memset(&f, 0, sizeof f);
	rlen = sizeof rsp;
	assert_int_equal(apdu_transfer(fake_xmit, &f, APDU_GET_VERSION, NULL, 0, rsp, &rlen, &sw),
	    PIV_E_PCSC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_chaining_stops_on_error),
		cmocka_unit_test(test_get_response),
		cmocka_unit_test(test_wrong_le),
		cmocka_unit_test(test_overflow_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
