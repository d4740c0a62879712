/*
 * subtext.c: see subtext.h.
 */
#include "subtext.h"

#include <string.h>

const struct text T_MISMATCH = { "兩次輸入的新密碼不相同，密碼未變更。",
	"The new password and its confirmation differ; nothing was changed." };
const struct text T_UNREACHABLE = { "目前無法連線至註冊中心，請稍後再試。",
	"The RA cannot be reached now; please try again later." };
const struct text T_PENDING = { "申請已送出（案件 %lld），但尚未完成；請稍後以 status 查詢。",
	"Your request (job %lld) was received but is not finished yet; check later with status." };
const struct text T_FAILED = { "申請未完成：%s", "The request was not carried out: %s" };
const struct text T_SUSPENDED = { "已停用 %zu 張憑證（暫時停止使用）。如需恢復使用，請填寫復用申請書。",
	"%zu certificate(s) are now on hold (suspended). To lift the hold, file a resume form." };
const struct text T_CHANGED = { "網站密碼已變更。", "Your website password has been changed." };
const struct text T_ACCOUNT = { "帳號 %s", "Account %s" };
const struct text T_NO_CERTS = { "（尚無憑證）", "(no certificate yet)" };

const char *subtext_usage(int en, const char *usage)
{
	if (en)
		return usage;
	return strcmp(usage, "signature") == 0 ? "簽章" : strcmp(usage, "encryption") == 0 ? "加密" : usage;
}

const char *subtext_status(int en, const char *status, int expired)
{
	if (expired)
		return en ? "expired" : "已逾期";
	if (en)
		return status;
	return strcmp(status, "valid") == 0 ? "有效" : strcmp(status, "held") == 0 ? "停用中" :
	    strcmp(status, "revoked") == 0 ? "已廢止" : status;
}
