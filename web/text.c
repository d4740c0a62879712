/*
 * text.c: how a back-office refusal reads on the website.
 *
 * Rule: an unknown account and a wrong password read the same ("denied"), and so does a
 * wrong verification code, so neither the pages nor the API tell anyone which accounts
 * exist. Every other refusal carries the back office's own words (error_zh / error),
 * which are the same ra-self shows.
 */
#include "web.h"

#include <string.h>

static const struct text T_DENIED = { "帳號、密碼或驗證碼錯誤。連續 3 次密碼錯誤帳號即鎖定。",
	"The account, password or verification code is wrong. Three wrong passwords in a row lock the account." };

const char *text_refusal(const json_t *result, int en, const char **words)
{
	const char *code = json_string_value(json_object_get(result, "code"));
	const char *zh = json_string_value(json_object_get(result, "error_zh"));
	const char *eng = json_string_value(json_object_get(result, "error"));

	if (!code || strcmp(code, "unknown") == 0 || strcmp(code, "wrong_password") == 0) {
		*words = en ? T_DENIED.en : T_DENIED.zh;
		return "denied";
	}
	*words = !en && zh ? zh : eng ? eng : "?";
	return code;
}

const char *text_denied(int en)
{
	return en ? T_DENIED.en : T_DENIED.zh;
}
