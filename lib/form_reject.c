/*
 * form_reject.c: the fixed list of reasons for rejecting a form (see form_reject.h).
 * Codes are never renamed once used: the ledger keeps them.
 */
#include "form_reject.h"
#include "util.h"

#include <ctype.h>
#include <string.h>

static const struct form_reject_reason reasons[] = {
	{ "incomplete", "the form is incomplete", "表單填寫不完整", 0 },
	{ "illegible", "the form cannot be read", "表單字跡無法辨識", 0 },
	{ "not_signed", "the form is not signed or sealed", "表單未經簽名或蓋章", 0 },
	{ "documents", "the documents shown do not match the form", "所附身分證明文件與表單不符", 0 },
	{ "duplicate", "the applicant already holds a live registration", "申請人已有有效之註冊", 0 },
	{ "withdrawn", "the applicant withdrew the application", "申請人撤回申請", 0 },
	{ "other", "other reason (see the note)", "其他原因（詳見說明）", 1 },
};

const struct form_reject_reason *form_reject_reason_at(size_t i)
{
	return i < ARRAY_LEN(reasons) ? &reasons[i] : NULL;
}

const struct form_reject_reason *form_reject_reason_find(const char *code)
{
	char buf[32];
	size_t n = code ? strlen(code) : 0;

	if (n == 0 || n >= sizeof buf)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		buf[i] = code[i] == '-' ? '_' : (char)tolower((unsigned char)code[i]);
	for (size_t i = 0; i < ARRAY_LEN(reasons); i++)
		if (strcmp(reasons[i].code, buf) == 0)
			return &reasons[i];
	return NULL;
}
