/*
 * test_tlv.c: BER-TLV parsing of known encodings, rejection of malformed ones, building,
 * and a fuzz loop of random and mutated buffers (each in an exactly sized heap block, so
 * a sanitizer build catches any read past the end).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../card/tlv.h"

static void test_parse_known(void **state)
{
	static const uint8_t a[] = { 0x7C, 0x02, 0x80, 0x00 };
	static const uint8_t b[] = { 0x5F, 0xC1, 0x02, 0x01, 0xAB };
	static const uint8_t c[] = { 0x7F, 0x49, 0x81, 0x80 };
	struct tlv t;
	size_t used;

	(void)state;
	assert_int_equal(tlv_parse(a, sizeof a, &t, &used), 0);
	assert_int_equal(t.tag, 0x7C);
	assert_int_equal(t.len, 2);
	assert_ptr_equal(t.val, a + 2);
	assert_int_equal(used, 4);
	assert_int_equal(tlv_find(t.val, t.len, 0x80, &t), 0);
	assert_int_equal(t.len, 0);
	assert_int_equal(tlv_parse(b, sizeof b, &t, &used), 0);
	assert_int_equal(t.tag, 0x5FC102);
	assert_int_equal(t.len, 1);
	assert_int_equal(t.val[0], 0xAB);
	/* 81 80 says 128 bytes, none present */
	assert_int_equal(tlv_parse(c, sizeof c, &t, &used), -1);
}

static void test_long_lengths(void **state)
{
	uint8_t *buf = malloc(4 + 300);
	struct tlv t;
	size_t used;

	(void)state;
	buf[0] = 0x53;
	buf[1] = 0x82;
	buf[2] = 0x01;
	buf[3] = 0x2C;	/* 300 */
	memset(buf + 4, 0x11, 300);
	assert_int_equal(tlv_parse(buf, 304, &t, &used), 0);
	assert_int_equal(t.len, 300);
	assert_int_equal(used, 304);
	assert_int_equal(tlv_parse(buf, 303, &t, &used), -1);
	buf[1] = 0x83;	/* three length bytes: refused */
	assert_int_equal(tlv_parse(buf, 304, &t, &used), -1);
	buf[1] = 0x80;	/* indefinite: refused */
	assert_int_equal(tlv_parse(buf, 304, &t, &used), -1);
	free(buf);
}

static void test_malformed(void **state)
{
	struct tlv t;
	size_t used;

	(void)state;
	assert_int_equal(tlv_parse(NULL, 0, &t, &used), -1);
	assert_int_equal(tlv_parse((uint8_t[]){ 0x53 }, 1, &t, &used), -1);
	/* tag continuation running off the end, and a four-byte tag */
	assert_int_equal(tlv_parse((uint8_t[]){ 0x5F, 0xC1 }, 2, &t, &used), -1);
	assert_int_equal(tlv_parse((uint8_t[]){ 0x5F, 0xC1, 0x82, 0x01, 0x00 }, 5, &t, &used), -1);
	assert_int_equal(tlv_parse((uint8_t[]){ 0x53, 0x81 }, 2, &t, &used), -1);
	assert_int_equal(tlv_parse((uint8_t[]){ 0x53, 0x82, 0x00 }, 3, &t, &used), -1);
	assert_int_equal(tlv_parse((uint8_t[]){ 0x53, 0x05, 0x00 }, 3, &t, &used), -1);
	/* a trailing byte makes the sequence malformed */
	assert_int_equal(tlv_check_all((uint8_t[]){ 0x80, 0x00, 0x81 }, 3), -1);
	assert_int_equal(tlv_check_all((uint8_t[]){ 0x80, 0x00, 0x81, 0x00 }, 4), 0);
	assert_int_equal(tlv_find((uint8_t[]){ 0x80, 0x00, 0x81 }, 3, 0x82, &t), -1);
}

static void test_build(void **state)
{
	tlv_buf_t in, out;
	uint8_t big[300];
	struct tlv t, u;

	(void)state;
	memset(big, 0x22, sizeof big);
	tlv_buf_init(&in);
	tlv_buf_init(&out);
	tlv_buf_put(&in, 0x82, NULL, 0);
	tlv_buf_put(&in, 0x81, big, sizeof big);
	tlv_buf_wrap(&out, 0x7C, &in);
	assert_false(out.failed);
	assert_int_equal(out.len, tlv_size(0x7C, tlv_size(0x82, 0) + tlv_size(0x81, 300)));
	assert_int_equal(out.data[0], 0x7C);
	assert_int_equal(out.data[1], 0x82);
	assert_int_equal(tlv_parse(out.data, out.len, &t, NULL), 0);
	assert_int_equal(tlv_find(t.val, t.len, 0x81, &u), 0);
	assert_int_equal(u.len, 300);
	assert_memory_equal(u.val, big, 300);
	tlv_buf_free(&in);
	tlv_buf_free(&out);

	tlv_buf_init(&out);
	tlv_buf_put(&out, 0x5FC10A, big, 10);
	assert_int_equal(out.len, 3 + 1 + 10);
	assert_memory_equal(out.data, ((uint8_t[]){ 0x5F, 0xC1, 0x0A, 0x0A }), 4);
	tlv_buf_put(&out, 0x53, big, TLV_MAX_LEN + 1);
	assert_true(out.failed);
	tlv_buf_free(&out);
}

/* Walk every element of a random buffer, descending one level into each value. */
static void fuzz_one(const uint8_t *buf, size_t len)
{
	size_t off = 0, used;
	struct tlv t, u;

	while (off < len && tlv_parse(buf + off, len - off, &t, &used) == 0) {
		assert_true(used >= 2 && used <= len - off);
		assert_true(t.val >= buf && t.val + t.len <= buf + len);
		(void)tlv_find(t.val, t.len, 0x80, &u);
		(void)tlv_check_all(t.val, t.len);
		off += used;
	}
	(void)tlv_find(buf, len, 0x53, &t);
}

static void test_fuzz(void **state)
{
	static const uint8_t seed[] = { 0x7C, 0x0A, 0x82, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x53, 0x82,
		0x00, 0x02, 0x70, 0x00 };
	uint32_t x = 12345;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t len;
		uint8_t *buf;

		x = x * 1103515245u + 12345u;
		len = (x >> 16) % 64;
		buf = malloc(len ? len : 1);
		for (size_t j = 0; j < len; j++) {
			x = x * 1103515245u + 12345u;
			buf[j] = (uint8_t)(x >> 16);
			/* half the time, start from a valid shape and mutate a few bytes */
			if (i % 2 && j < sizeof seed && (x >> 8) % 8)
				buf[j] = seed[j];
		}
		fuzz_one(buf, len);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_known),
		cmocka_unit_test(test_long_lengths),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
