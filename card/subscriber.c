/*
 * subscriber.c: the pieces the subscriber's card operations share (see subscriber.h):
 * the message table (zh-TW first: the subscribers' language; en on request), secrets
 * asked through the channel (the console by default) and wiped by their owners, the card
 * held in one transaction, and the back office's management-key challenge.
 *
 * Rules kept here: a password, PIN or PUK is never logged nor put on a command line; the
 * website password leaves this process only as the channel's password hook carries it;
 * the management key is never known here.
 */
#include "subscriber.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"
#include "derive.h"
#include "log.h"
#include "secret_read.h"
#include "util.h"

#define SUB_BLOCK_MAX 16

static const char *const sub_texts[SUB_MSG_COUNT][2] = {
	[SUB_ASK_PASSWORD] = { "網站密碼：", "Website password: " },
	[SUB_ASK_OLD_PIN] = { "目前的卡片 PIN 碼：", "Current card PIN: " },
	[SUB_ASK_NEW_PIN] = { "新的 PIN 碼（6 至 8 位數字）：", "New PIN (6 to 8 digits): " },
	[SUB_ASK_CONFIRM_PIN] = { "再輸入一次新的 PIN 碼：", "New PIN again: " },
	[SUB_ASK_PIN] = { "卡片 PIN 碼：", "Card PIN: " },
	[SUB_PIN_POLICY] = { "PIN 碼須為 6 至 8 位數字，不可全部相同，也不可為連續數字（如 123456）。",
	    "The PIN must be 6 to 8 digits, not all the same digit, and not a simple sequence (like 123456)." },
	[SUB_PIN_MISMATCH] = { "兩次輸入的新 PIN 碼不同。", "The two new PINs differ." },
	[SUB_PIN_SAME] = { "新的 PIN 碼與目前的相同。", "The new PIN is the same as the current one." },
	[SUB_PIN_WRONG] = { "PIN 碼錯誤，還可以再試 %d 次。", "Wrong PIN: %d tries left." },
	[SUB_PIN_BLOCKED] = { "卡片已鎖住（PIN 碼錯誤 3 次）。請到網站的「卡片」頁面選「解鎖卡片」，以網站密碼解鎖並設定新的 PIN 碼。",
	    "The card is locked (3 wrong PINs). On the website's Card page choose \"Unlock the card\": your website password unlocks it and you set a new PIN." },
	[SUB_PIN_CHANGED] = { "PIN 碼已變更。", "PIN changed." },
	[SUB_CHECKING] = { "正在向註冊中心查核帳號與卡片…", "Checking the account and the card with the RA..." },
	[SUB_REFUSED] = { "註冊中心拒絕：%s", "Refused by the RA: %s" },
	[SUB_CARD_VERIFIED] = { "卡片已驗證。", "card verified" },
	[SUB_UNLOCKED] = { "卡片已解鎖，PIN 碼已重設。", "card unlocked and PIN reset" },
	[SUB_CERTS_WRITTEN] = { "憑證已寫入卡片。", "certificates written to the card" },
	[SUB_EXPORTED] = { "已匯出：%s", "exported: %s" },
	[SUB_RENEW_KEYS] = { "正在卡片上產生新的金鑰…", "generating new keys on the card..." },
	[SUB_RENEW_OLD_KEYS] = { "注意：舊的金鑰會被新金鑰取代；寄給舊加密憑證的郵件之後將無法用這張卡片解密。",
	    "Note: the new keys replace the old ones; mail sent to the old encryption certificate can no longer be decrypted with this card." },
	[SUB_RENEWED] = { "憑證已展期，新憑證有效至 %s。", "certificates renewed; the new ones are valid until %s" },
	[SUB_RENEW_WRITE_FAILED] = { "新憑證已簽發，但未能寫入卡片：請在網站的「卡片」頁面選「重新下載憑證」（或到櫃台辦理）。",
	    "The new certificates were issued but not written to the card: download them again (the website's Card page, or at the counter)." },
	[SUB_CARD_ERROR] = { "卡片錯誤：%s", "card error: %s" },
	[SUB_NOT_PERSONALIZED] = { "卡片上沒有憑證。", "There is no certificate on the card." },
};

int sub_lang_parse(const char *s, enum sub_lang *out)
{
	if (strcmp(s, "zh-TW") == 0 || strcmp(s, "zh") == 0)
		*out = SUB_LANG_ZH;
	else if (strcmp(s, "en") == 0)
		*out = SUB_LANG_EN;
	else
		return -1;
	return 0;
}

const char *sub_text(const struct sub *s, enum sub_msg m)
{
	return sub_texts[m][s->lang == SUB_LANG_EN];
}

void sub_say(const struct sub *s, enum sub_msg m, ...)
{
	va_list ap;

	char text[512];

	va_start(ap, m);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(text, sizeof text, sub_text(s, m), ap);
#pragma GCC diagnostic pop
	va_end(ap);
	if (s->io && s->io->say) {
		s->io->say(s->io->ctx, (int)m, text);
		return;
	}
	puts(text);
	fflush(stdout);
}

/* The console's prompt: the terminal without echo, else one line of stdin (scripts). */
static int sub_console_secret(const struct sub *s, enum sub_msg prompt, char *buf, size_t cap)
{
	if (secret_read_line(stdin, stderr, sub_text(s, prompt), buf, cap) < 0) {
		log_err("no input for \"%s\"", sub_texts[prompt][1]);
		return -1;
	}
	return 0;
}

int sub_secret(const struct sub *s, enum sub_msg prompt, char *buf, size_t cap)
{
	int rc;

	if (!s->io || !s->io->secret)
		return sub_console_secret(s, prompt, buf, cap);
	if ((rc = s->io->secret(s->io->ctx, (int)prompt, sub_text(s, prompt), buf, cap)) < 0) {
		OPENSSL_cleanse(buf, cap);
		log_err("no input for \"%s\"", sub_texts[prompt][1]);
	}
	return rc;
}

int sub_new_pin(const struct sub *s, char *pin)
{
	char first[32], again[32];
	int rc = -1;

	if (sub_secret(s, SUB_ASK_NEW_PIN, first, sizeof first) < 0 ||
	    sub_secret(s, SUB_ASK_CONFIRM_PIN, again, sizeof again) < 0)
		goto out;
	if (!derive_pin_acceptable(first)) {
		sub_say(s, SUB_PIN_POLICY);
		goto out;
	}
	if (strcmp(first, again) != 0) {
		sub_say(s, SUB_PIN_MISMATCH);
		goto out;
	}
	memcpy(pin, first, strlen(first) + 1);	/* at most DERIVE_PIN_MAX digits: checked above */
	rc = 0;
out:
	OPENSSL_cleanse(first, sizeof first);
	OPENSSL_cleanse(again, sizeof again);
	return rc;
}

int sub_open(struct sub *s, pcsc_t *pcsc, const char *reader)
{
	piv_rc rc;

	s->reader = xstrdup(reader);
	if ((rc = piv_open(pcsc, s->reader, &s->p)) != PIV_OK)
		goto fail;
	if ((rc = piv_begin(s->p)) != PIV_OK)
		goto fail;
	s->began = 1;
	if ((rc = piv_get_serial(s->p, &s->serial)) != PIV_OK)
		goto fail;
	snprintf(s->serial_text, sizeof s->serial_text, "%u", s->serial);
	return 0;
fail:
	log_err("%s: %s", s->reader, piv_strerror(rc));
	sub_say(s, SUB_CARD_ERROR, piv_strerror(rc));
	return -1;
}

void sub_close(struct sub *s)
{
	if (s->began)
		piv_end(s->p);
	s->began = 0;
	piv_close(&s->p);
	free(s->reader);
	s->reader = NULL;
}

static enum piv_alg sub_mgm_alg(const struct sub *s)
{
	return s->mgm_alg ? s->mgm_alg : PIV_ALG_AES128;
}

json_t *sub_submit(struct sub *s, const char *kind, json_t *payload)
{
	json_t *result = NULL;
	int64_t job = 0;
	char *why = NULL;

	if (!s->io || !s->io->submit) {
		log_err("%s: no back office on this channel", kind);
		return NULL;
	}
	if (s->io->submit(s->io->ctx, kind, payload, &result, &job, &why) < 0) {
		log_err("%s: %s", kind, why ? why : "?");
		sub_say(s, SUB_REFUSED, why ? why : "?");
		free(why);
		return NULL;
	}
	if (json_is_false(json_object_get(result, "ok"))) {
		/* Refusals meant for the subscriber carry both languages. */
		const char *zh = json_string_value(json_object_get(result, "error_zh"));
		sub_say(s, SUB_REFUSED, s->lang == SUB_LANG_ZH && zh ? zh :
		    json_string_value(json_object_get(result, "error")) ?: "?");
		json_decref(result);
		return NULL;
	}
	json_object_set_new(result, "job", json_integer(job));
	return result;
}

json_t *sub_challenge(struct sub *s, const char *purpose, const char *account, const char *password,
    int64_t *job)
{
	enum piv_alg alg = sub_mgm_alg(s);
	uint8_t enc[SUB_BLOCK_MAX], w[SUB_BLOCK_MAX], c[SUB_BLOCK_MAX], r[SUB_BLOCK_MAX];
	char hex[2 * SUB_BLOCK_MAX + 1];
	size_t bs = piv_mgm_block(alg);
	json_t *payload = NULL, *res = NULL;
	piv_rc rc;

	if ((rc = piv_mgm_witness(s->p, alg, enc)) != PIV_OK) {
		sub_say(s, SUB_CARD_ERROR, piv_strerror(rc));
		goto out;
	}
	hex_encode(enc, bs, hex);
	payload = json_pack("{s:s,s:s,s:s,s:s,s:s}", "purpose", purpose, "account", account,
	    "card_serial", s->serial_text, "witness", hex, "station", s->producer ? s->producer : "station");
	if (!s->io || !s->io->password || s->io->password(s->io->ctx, payload, password) < 0)
		goto out;
	sub_say(s, SUB_CHECKING);
	if (!(res = sub_submit(s, "card_challenge", payload)))
		goto out;
	if (answer_challenge(res, bs, w, c) < 0) {
		log_err("the back office's challenge is malformed");
		goto fail;
	}
	/* The card checks the witness, so only the card's own key could have opened it. */
	if ((rc = piv_mgm_answer(s->p, alg, w, c, r)) != PIV_OK) {
		log_err("%s: the card refused the back office's answer: %s", s->reader, piv_strerror(rc));
		sub_say(s, SUB_CARD_ERROR, piv_strerror(rc));
		goto fail;
	}
	hex_encode(r, bs, hex);
	json_object_set_new(res, "response", json_string(hex));
	*job = json_integer_value(json_object_get(res, "job"));
	goto out;
fail:
	json_decref(res);
	res = NULL;
out:
	OPENSSL_cleanse(w, sizeof w);
	{
		/* A channel that carries the password in clear (to its relay) put it here. */
		json_t *clear = json_object_get(payload, "password");
		if (json_is_string(clear))
			OPENSSL_cleanse((char *)json_string_value(clear), json_string_length(clear));
	}
	json_decref(payload);
	return res;
}
