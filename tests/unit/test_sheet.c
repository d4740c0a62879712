/*
 * test_sheet.c: the sheet PDF (one page per sheet, the text pdftotext gets back), the
 * refusal of incomplete sheets, and AES-256 encryption with libqpdf (qpdf and pdftotext
 * refuse the file without its password and read it with it). SHEET_PNG=FILE also writes
 * page 1 as a PNG to look at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../notifier/pdfcrypt.h"
#include "../../notifier/sheet.h"
#include "util.h"

static char dir[] = "/tmp/test_sheet.XXXXXX";

static const struct sheet_info one = {
	.kind = "password", .serial = "PW-20261125-0001", .reference = "R-2026-000123",
	.reason = "registration", .name = "王小明", .postal_code = "10617",
	.address = "臺北市大安區羅斯福路四段1號 <5樓>", .account_id = "u1234567",
	.secret = "Kx7#pQ2mZr9w", .date = 1795564800,
};

/* Run CMD and return its stdout (caller frees), with the exit status in *status. */
static char *run(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	char *out = xmalloc(1 << 20);
	size_t n = fread(out, 1, (1 << 20) - 1, p);
	out[n] = '\0';
	*status = pclose(p);
	return out;
}

static char *make_pdf(size_t *len)
{
	struct sheet_info two = one;
	unsigned char *pdf;
	two.kind = "pin";
	two.serial = "PIN-20261125-0002";
	two.name = "Alice Chen";
	two.secret = "482913";
	sheet_doc_t *d = sheet_doc_new("WenQuanYi Micro Hei", "10055 臺北市中正區某路1號 憑證註冊中心");
	assert_non_null(d);
	assert_int_equal(sheet_doc_add(d, &one), 0);
	assert_int_equal(sheet_doc_add(d, &two), 0);
	assert_int_equal(sheet_doc_finish(d, &pdf, len), 0);
	sheet_doc_destroy(&d);
	return (char *)pdf;
}

static void test_sheet_text(void **state)
{
	(void)state;
	size_t len;
	int st;
	char *pdf = make_pdf(&len);
	char *path = xasprintf("%s/sheet.pdf", dir);
	assert_int_equal(memcmp(pdf, "%PDF-", 5), 0);
	assert_int_equal(file_write_atomic(path, pdf, len, 0600), 0);
	char *cmd = xasprintf("pdfinfo %s | grep '^Pages:'", path);
	char *out = run(cmd, &st);
	assert_non_null(strstr(out, "2"));
	free(out);
	free(cmd);
	cmd = xasprintf("pdftotext -f 1 -l 1 %s -", path);
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "王小明"));
	assert_non_null(strstr(out, "10617"));
	assert_non_null(strstr(out, "臺北市大安區羅斯福路四段1號 <5樓>"));
	assert_non_null(strstr(out, "u1234567"));
	assert_non_null(strstr(out, "Kx7#pQ2mZr9w"));
	assert_non_null(strstr(out, "PW-20261125-0001"));
	assert_non_null(strstr(out, "網站密碼單"));
	free(out);
	free(cmd);
	cmd = xasprintf("pdftotext -f 2 -l 2 %s -", path);
	out = run(cmd, &st);
	assert_non_null(strstr(out, "PIN"));
	assert_non_null(strstr(out, "482913"));
	free(out);
	free(cmd);
	const char *png = getenv("SHEET_PNG");
	if (png) {
		cmd = xasprintf("pdftoppm -png -r 100 -f 1 -l 1 -singlefile %s %s", path, png);
		free(run(cmd, &st));
		free(cmd);
	}
	unlink(path);
	free(path);
	free(pdf);
}

static void test_sheet_refuses_incomplete(void **state)
{
	(void)state;
	struct sheet_info bad = one;
	bad.secret = "";
	sheet_doc_t *d = sheet_doc_new(NULL, NULL);
	assert_int_equal(sheet_doc_add(d, &bad), -1);
	bad = one;
	bad.kind = "puk";
	assert_int_equal(sheet_doc_add(d, &bad), -1);
	sheet_doc_destroy(&d);
	assert_null(d);
	sheet_doc_destroy(NULL);
}

static void test_sheet_encrypted(void **state)
{
	(void)state;
	size_t len, elen;
	int st;
	unsigned char *enc;
	char *pdf = make_pdf(&len);
	assert_int_equal(pdfcrypt_encrypt((unsigned char *)pdf, len, "", "owner", &enc, &elen), -1);
	assert_int_equal(pdfcrypt_encrypt((unsigned char *)pdf, len, "A123456789", "owner-pw-x", &enc, &elen), 0);
	char *path = xasprintf("%s/enc.pdf", dir);
	assert_int_equal(file_write_atomic(path, enc, elen, 0600), 0);
	char *cmd = xasprintf("qpdf --check %s 2>&1", path);
	char *out = run(cmd, &st);
	assert_int_not_equal(st, 0);
	free(out);
	free(cmd);
	cmd = xasprintf("pdftotext %s - 2>&1", path);
	out = run(cmd, &st);
	assert_int_not_equal(st, 0);
	assert_null(strstr(out, "Kx7#pQ2mZr9w"));
	free(out);
	free(cmd);
	cmd = xasprintf("qpdf --password=A123456789 --show-encryption %s", path);
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "AESv3"));
	free(out);
	free(cmd);
	cmd = xasprintf("pdftotext -upw A123456789 %s -", path);
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "Kx7#pQ2mZr9w"));
	free(out);
	free(cmd);
	unlink(path);
	free(path);
	free(enc);
	free(pdf);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sheet_text),
		cmocka_unit_test(test_sheet_refuses_incomplete),
		cmocka_unit_test(test_sheet_encrypted),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
