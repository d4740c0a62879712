/*
 * test_mail.c: message composition (encoded-words, base64, MIME structure, required
 * headers) and the outbox sender. Delivery through a real SMTP server is exercised by
 * tests/integration/test_notifier_mail.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../notifier/mail.h"
#include "util.h"

static void test_base64(void **state)
{
	(void)state;
	char *s = mail_base64("foobar", 6);
	assert_string_equal(s, "Zm9vYmFy\r\n");
	free(s);
	s = mail_base64("fo", 2);
	assert_string_equal(s, "Zm8=\r\n");
	free(s);
	char big[100];
	memset(big, 'a', sizeof big);
	s = mail_base64(big, sizeof big);
	/* 57 bytes make one 76-character line */
	assert_int_equal(strchr(s, '\r') - s, 76);
	free(s);
}

static void test_encode_word(void **state)
{
	(void)state;
	char *s = mail_encode_word("plain subject");
	assert_string_equal(s, "plain subject");
	free(s);
	s = mail_encode_word("憑證");
	assert_string_equal(s, "=?UTF-8?B?5oaR6K2J?=");
	free(s);
	/* long text is split into words of at most 75 characters, never inside a character */
	const char *longtext = "您的憑證即將到期，請於到期前持卡至網站辦理展期，逾期須重新申請註冊。";
	s = mail_encode_word(longtext);
	int words = 0;
	for (char *w = strstr(s, "=?UTF-8?B?"); w; w = strstr(w + 1, "=?UTF-8?B?")) {
		char *end = strstr(w, "?=");
		assert_non_null(end);
		assert_true(end + 2 - w <= 75);
		words++;
	}
	assert_true(words >= 2);
	free(s);
	/* text that looks like an encoded-word must be encoded itself */
	s = mail_encode_word("=?x?");
	assert_true(strncmp(s, "=?UTF-8?B?", 10) == 0);
	free(s);
}

static void test_addresses(void **state)
{
	(void)state;
	mail_msg_t *m = mail_msg_new();
	assert_int_equal(mail_msg_set_from(m, "RA <ra@example.org>"), 0);
	assert_string_equal(mail_msg_from_addr(m), "ra@example.org");
	assert_int_equal(mail_msg_set_from(m, "ra2@example.org"), 0);
	assert_int_equal(mail_msg_set_from(m, "RA <broken"), -1);
	assert_int_equal(mail_msg_add_to(m, "王小明", "no-at-sign"), -1);
	assert_int_equal(mail_msg_add_to(m, "王小明", "a@b\r\nBcc: x@y"), -1);
	assert_int_equal(mail_msg_add_to(m, "王小明", "ming@example.org"), 0);
	mail_msg_destroy(&m);
	assert_null(m);
	mail_msg_destroy(NULL);
}

static void test_render(void **state)
{
	(void)state;
	mail_msg_t *m = mail_msg_new();
	size_t len;
	assert_null(mail_msg_render(m, 0, &len));
	mail_msg_set_from(m, "憑證註冊中心 <ra@example.org>");
	mail_msg_add_to(m, "王小明", "ming@example.org");
	mail_msg_add_to(m, "Bob \"B\" Smith", "bob@example.org");
	mail_msg_set_subject(m, "憑證到期通知\r\nBcc: evil@example.org");
	mail_msg_set_text(m, "第一行\n第二行\n");
	mail_msg_set_html(m, "<p>第一行</p>");
	mail_msg_attach(m, "sheet.pdf", "application/pdf", "%PDF-1.5", 8);
	char *s = mail_msg_render(m, 1795564800, &len);	/* 2026-11-25T00:00:00Z */
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	assert_non_null(strstr(s, "Date: Wed, 25 Nov 2026 00:00:00 +0000\r\n"));
	assert_non_null(strstr(s, "Message-ID: <1795564800."));
	assert_non_null(strstr(s, "@example.org>\r\n"));
	assert_non_null(strstr(s, "MIME-Version: 1.0\r\n"));
	assert_non_null(strstr(s, "multipart/mixed"));
	assert_non_null(strstr(s, "multipart/alternative"));
	assert_non_null(strstr(s, "text/html; charset=UTF-8"));
	assert_non_null(strstr(s, "application/pdf; name=\"sheet.pdf\""));
	assert_non_null(strstr(s, "\"Bob \\\"B\\\" Smith\" <bob@example.org>"));
	/* a line break in a header value never starts a new header */
	assert_null(strstr(s, "\r\nBcc:"));
	/* no bare LF anywhere */
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n')
			assert_true(i > 0 && s[i - 1] == '\r');
	free(s);
	mail_msg_destroy(&m);
}

static void test_outbox(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_mail.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *box = xasprintf("%s/outbox", dir);
	struct mail_conf conf = { .outbox = box };
	mail_sender_t *snd = mail_sender_new(&conf);
	assert_non_null(snd);
	mail_msg_t *m = mail_msg_new();
	mail_msg_set_from(m, "ra@example.org");
	mail_msg_add_to(m, NULL, "ming@example.org");
	mail_msg_set_subject(m, "hello");
	mail_msg_set_text(m, "body");
	char *reply = NULL;
	assert_int_equal(mail_send(snd, m, 1795564800, &reply), 0);
	assert_non_null(reply);
	assert_true(strncmp(reply, "outbox:", 7) == 0);
	size_t len;
	char *eml = file_read(reply + 7, &len);
	assert_non_null(eml);
	assert_non_null(strstr(eml, "Subject: hello\r\n"));
	/* only the finished file is in the folder, no temporary left behind */
	DIR *d = opendir(box);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	assert_int_equal(n, 1);
	unlink(reply + 7);
	rmdir(box);
	rmdir(dir);
	free(eml);
	free(reply);
	free(box);
	mail_msg_destroy(&m);
	mail_sender_destroy(&snd);
	assert_null(snd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_encode_word),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_outbox),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
