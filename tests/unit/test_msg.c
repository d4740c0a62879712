/*
 * test_msg.c: messages are built and read only through lib/msg.c, which must refuse a
 * wrong version, an unknown command and a missing or extra frame. Real ZeroMQ sockets
 * (an inproc pair) carry the frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "b64.h"
#include "log.h"
#include "msg.h"

static zsock_t *a, *b;

static int setup(void **state)
{
	(void)state;
	a = zsock_new_pair("@inproc://test-msg");
	b = zsock_new_pair(">inproc://test-msg");
	zsock_set_rcvtimeo(b, 2000);
	return a && b ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	zsock_destroy(&a);
	zsock_destroy(&b);
	return 0;
}

/* Send raw frames (NULL-terminated list of strings). */
static void raw(const char *first, ...)
{
	va_list ap;
	zmsg_t *m = zmsg_new();
	va_start(ap, first);
	for (const char *f = first; f; f = va_arg(ap, const char *))
		zmsg_addstr(m, f);
	va_end(ap);
	zmsg_send(&m, a);
}

static void round_trip(void **state)
{
	(void)state;
	msg_t *m = msg_new(MSG_SUBMIT), *r;
	json_t *p = json_pack("{s:s,s:i}", "serial", "R1", "n", 3), *q;
	int ok;
	char *s;

	msg_add_str(m, "form_key");
	msg_add_str(m, "key-1");
	msg_add_json(m, p);
	assert_int_equal(msg_send(&m, a), 0);
	assert_null(m);
	r = msg_recv(b, 0, NULL);
	assert_non_null(r);
	assert_int_equal(r->cmd, MSG_SUBMIT);
	s = msg_str(r, 0);
	assert_string_equal(s, "form_key");
	free(s);
	q = msg_json(r, 2);
	assert_true(json_equal(p, q));
	msg_destroy(&r);
	json_decref(p);
	json_decref(q);

	m = msg_new(MSG_ACK);
	msg_add_i64(m, 1234567890123LL);
	msg_send(&m, a);
	r = msg_recv(b, 0, NULL);
	assert_int_equal(msg_i64(r, 0, &ok), 1234567890123LL);
	assert_true(ok);
	msg_destroy(&r);
}

static void binary_frames_keep_bytes(void **state)
{
	(void)state;
	uint8_t der[300];
	msg_t *m = msg_new(MSG_CERT), *r;
	for (size_t i = 0; i < sizeof der; i++)
		der[i] = (uint8_t)i;
	msg_add_mem(m, der, sizeof der);
	msg_add_str(m, "00ff");
	msg_send(&m, a);
	r = msg_recv(b, 0, NULL);
	assert_non_null(r);
	assert_int_equal(msg_len(r, 0), sizeof der);
	assert_memory_equal(msg_data(r, 0), der, sizeof der);
	/* a frame with a NUL inside is not text */
	assert_null(msg_str(r, 0));
	msg_destroy(&r);
}

static void expect_rejected(const char *want)
{
	const char *why = NULL;
	msg_t *r = msg_recv(b, 0, &why);
	assert_null(r);
	assert_non_null(why);
	assert_string_equal(why, want);
}

static void wrong_version(void **state)
{
	(void)state;
	raw("RA/0", "ACK", "1", NULL);
	expect_rejected("wrong protocol version");
	raw("HELLO", NULL);
	expect_rejected("wrong protocol version");
}

static void unknown_command(void **state)
{
	(void)state;
	raw(MSG_PROTO, "EXPLODE", "1", NULL);
	expect_rejected("unknown command");
	raw(MSG_PROTO, NULL);
	expect_rejected("unknown command");
}

static void truncated_and_extra(void **state)
{
	(void)state;
	raw(MSG_PROTO, "SUBMIT", "issue", "", NULL);
	expect_rejected("missing frames");
	raw(MSG_PROTO, "ACK", NULL);
	expect_rejected("missing frames");
	raw(MSG_PROTO, "ACK", "1", "2", NULL);
	expect_rejected("extra frames");
	raw(MSG_PROTO, "HEARTBEAT", "x", NULL);
	expect_rejected("extra frames");
}

static void strict_numbers_and_json(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "12a", "1.5", " 1", "0x10", "99999999999999999999", "-" };
	int ok;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		msg_t *r;
		raw(MSG_PROTO, "ACK", bad[i], NULL);
		r = msg_recv(b, 0, NULL);
		assert_non_null(r);
		msg_i64(r, 0, &ok);
		assert_false(ok);
		msg_destroy(&r);
	}
	{
		msg_t *r;
		raw(MSG_PROTO, "ANSWER", "[1,2]", NULL);
		r = msg_recv(b, 0, NULL);
		assert_null(msg_json(r, 0));	/* not an object */
		msg_destroy(&r);
		raw(MSG_PROTO, "ANSWER", "{\"a\":1,\"a\":2}", NULL);
		r = msg_recv(b, 0, NULL);
		assert_null(msg_json(r, 0));	/* duplicate keys */
		msg_destroy(&r);
		raw(MSG_PROTO, "ANSWER", "{\"a\":", NULL);
		r = msg_recv(b, 0, NULL);
		assert_null(msg_json(r, 0));	/* truncated */
		msg_destroy(&r);
	}
}

static void router_error_keeps_routing(void **state)
{
	(void)state;
	zsock_t *router = zsock_new_router("@inproc://test-router");
	zsock_t *dealer = zsock_new_dealer(">inproc://test-router");
	zmsg_t *z = zmsg_new();
	const char *why = NULL;
	msg_t *r, *e;

	zsock_set_rcvtimeo(router, 2000);
	zsock_set_rcvtimeo(dealer, 2000);
	zmsg_addstr(z, MSG_PROTO);
	zmsg_addstr(z, "WAIT");
	zmsg_addstr(z, "1");
	zmsg_send(&z, dealer);
	r = msg_recv(router, 1, &why);
	assert_non_null(r);
	assert_int_equal(r->cmd, MSG_NCMDS);
	assert_string_equal(why, "missing frames");
	assert_int_equal(msg_send_error(router, r, MERR_BAD_MESSAGE, why), 0);
	e = msg_recv(dealer, 0, NULL);
	assert_non_null(e);
	assert_int_equal(e->cmd, MSG_ERROR);
	msg_destroy(&e);
	msg_destroy(&r);
	zsock_destroy(&dealer);
	zsock_destroy(&router);
}

static void base64_strict(void **state)
{
	(void)state;
	uint8_t *out;
	size_t n;
	char *e = b64_encode((const uint8_t *)"sealed", 6);
	assert_string_equal(e, "c2VhbGVk");
	assert_int_equal(b64_decode(e, &out, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "sealed", 6);
	free(out);
	free(e);
	assert_int_equal(b64_decode("YQ==", &out, &n), 0);
	assert_int_equal(n, 1);
	free(out);
	assert_int_equal(b64_decode("YQ=", &out, &n), -1);
	assert_int_equal(b64_decode("Y Q==", &out, &n), -1);
	assert_int_equal(b64_decode("YQ\n==", &out, &n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(binary_frames_keep_bytes),
		cmocka_unit_test(wrong_version),
		cmocka_unit_test(unknown_command),
		cmocka_unit_test(truncated_and_extra),
		cmocka_unit_test(strict_numbers_and_json),
		cmocka_unit_test(router_error_keeps_routing),
		cmocka_unit_test(base64_strict),
	};
	log_init("test_msg", LV_ERR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
