/*
 * pages.c: the subscriber's pages: log in, certificates, suspend, change the website
 * password, the card page, and the error pages. Plain HTML rendered here, forms that work
 * without JavaScript; only the card page uses a script, to reach the subscriber's local
 * card agent (web.agent_origin, card-agent/).
 *
 * Rules: every value written into a page goes through esc(); every form that changes
 * state carries the session's CSRF token (route.c checks it); a password is sealed to the
 * workers' key at once and the form is wiped when the request ends (http_wipe); the pages
 * say the same words as ra-self (lib/subtext.c) and the back office's own refusals, with
 * one answer for an unknown account and a wrong password (text.c); a request that
 * changed something answers with a redirect to a page that shows the result once
 * (Post/Redirect/Get), so reloading that page sends nothing again.
 */
#include "web.h"
#include "idcheck.h"
#include "log.h"
#include "util.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static const struct text T_SITE = { "憑證註冊中心", "Certificate Registration Authority" };
static const struct text T_LOGIN = { "登入", "Log in" };
static const struct text T_ACCOUNT_F = { "網站帳號", "Website account" };
static const struct text T_PASSWORD_F = { "網站密碼", "Website password" };
static const struct text T_CODE_F = { "驗證碼（請輸入圖中的字）", "Verification code (type the characters in the picture)" };
static const struct text T_CODE_IMG = { "驗證碼圖片", "verification code picture" };
static const struct text T_CODE_NEW = { "換一張驗證碼", "Another code" };
static const struct text T_CERTS = { "我的憑證", "My certificates" };
static const struct text T_SUSPEND = { "停用憑證", "Suspend certificates" };
static const struct text T_PWCHANGE = { "變更網站密碼", "Change the website password" };
static const struct text T_CARD = { "卡片作業", "Card operations" };
static const struct text T_LOGOUT = { "登出", "Log out" };
static const struct text T_LANG = { "English", "中文" };
static const struct text T_SERIAL = { "序號", "Serial" };
static const struct text T_USAGE = { "用途", "Usage" };
static const struct text T_STATUS = { "狀態", "Status" };
static const struct text T_EXPIRES = { "到期", "Expires" };
static const struct text T_SUSPEND_INTRO = { "勾選要暫時停止使用的憑證並說明原因。停用後如需恢復，請填寫復用申請書。",
	"Tick the certificates to put on hold and say why. To lift a hold later, file a resume form." };
static const struct text T_SIGN_CERT = { "簽章憑證", "Signature certificate" };
static const struct text T_ENC_CERT = { "加密憑證", "Encryption certificate" };
static const struct text T_REASON = { "原因", "Reason" };
static const struct text T_CONFIRM_PW = { "請再輸入網站密碼以確認", "Type your website password to confirm" };
static const struct text T_NONE_TICKED = { "請至少勾選一張憑證。", "Tick at least one certificate." };
static const struct text T_REASON_LONG = { "原因過長（最多 200 位元組）。", "The reason is too long (at most 200 bytes)." };
static const struct text T_OLD_F = { "目前的網站密碼", "Current website password" };
static const struct text T_NEW_F = { "新的網站密碼", "New website password" };
static const struct text T_AGAIN_F = { "再輸入一次新密碼", "New password again" };
static const struct text T_PW_RULES = { "新密碼至少 10 個字元，混用小寫、大寫、數字、符號中至少 3 種，不得包含帳號。",
	"At least 10 characters, mixing at least 3 of lower case, upper case, digits and symbols, without the account id." };
static const struct text T_SUBMIT = { "送出", "Submit" };
static const struct text T_CARD_INTRO = { "變更 PIN 碼、解鎖、重新下載憑證、匯出憑證與展期，需在您的電腦上執行讀卡程式，並插入卡片。PIN 碼只在讀卡程式的視窗輸入，不會經過本網頁。",
	"PIN change, unlock, downloading the certificates again, export and renewal need the card agent running on your computer, with your card in the reader. The PIN is typed only into the agent's own window, never into this page." };
static const struct text T_CARD_NOSCRIPT = { "卡片作業需要啟用 JavaScript。其他功能不需要。",
	"Card operations need JavaScript. Nothing else does." };
static const struct text T_AGENT_LOOK = { "正在尋找讀卡程式……", "Looking for the card agent…" };
static const struct text T_PIN_CHANGE = { "變更 PIN 碼", "Change the PIN" };
static const struct text T_UNLOCK = { "解鎖卡片", "Unlock the card" };
static const struct text T_DOWNLOAD = { "重新下載憑證", "Download the certificates again" };
static const struct text T_EXPORT = { "匯出憑證", "Export the certificates" };
static const struct text T_RENEW = { "憑證展期", "Renew the certificates" };
static const struct text T_NOT_FOUND = { "找不到此頁。", "No such page." };
static const struct text T_FORBIDDEN = { "表單已過期或不是來自本網站，請重新載入頁面。",
	"The form is stale or not from this site; please reload the page." };
static const struct text T_TOO_MANY = { "來自您的位址的請求過多，請稍候一分鐘再試。",
	"Too many requests from your address; please wait a minute." };
static const struct text T_BAD = { "無法處理此請求。", "This request cannot be handled." };
static const struct text T_LOGIN_FIRST = { "請先登入。", "Please log in first." };

struct page {
	FILE *f;
	char *buf;
	size_t len;
};

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void csrf_input(FILE *f, const struct web_req *r)
{
	fprintf(f, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", r->s.csrf);
}

static void begin(struct page *p, struct web_req *r, const struct text *title)
{
	FILE *f;

	p->buf = NULL;
	p->len = 0;
	if (!(p->f = f = open_memstream(&p->buf, &p->len)))
		fatal("out of memory");
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	    "<title>", r->s.en ? "en" : "zh-Hant-TW");
	esc(f, TR(r, *title));
	fputs(" – ", f);
	esc(f, TR(r, T_SITE));
	fputs("</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head><body><header><p class=\"site\">", f);
	esc(f, TR(r, T_SITE));
	fputs("</p>", f);
	if (r->has_session) {
		fputs("<form method=\"post\" action=\"/lang\" class=\"lang\">", f);
		csrf_input(f, r);
		fprintf(f, "<input type=\"hidden\" name=\"lang\" value=\"%s\">", r->s.en ? "zh-TW" : "en");
		fputs("<input type=\"hidden\" name=\"back\" value=\"", f);
		esc(f, r->path);
		fprintf(f, "\"><button id=\"lang\" type=\"submit\">%s</button></form>", TR(r, T_LANG));
	}
	if (r->s.logged_in) {
		fputs("<nav>", f);
		fprintf(f, "<a id=\"nav-certs\" href=\"/certs\">%s</a> <a id=\"nav-suspend\" href=\"/suspend\">%s</a> "
		    "<a id=\"nav-password\" href=\"/password\">%s</a> <a id=\"nav-card\" href=\"/card\">%s</a> ",
		    TR(r, T_CERTS), TR(r, T_SUSPEND), TR(r, T_PWCHANGE), TR(r, T_CARD));
		fputs("<form method=\"post\" action=\"/logout\" class=\"inline\">", f);
		csrf_input(f, r);
		fprintf(f, "<button id=\"logout\" type=\"submit\">%s</button></form> <span class=\"who\">", TR(r, T_LOGOUT));
		esc(f, r->s.account);
		fputs("</span></nav>", f);
	}
	fputs("</header><main><h1>", f);
	esc(f, TR(r, *title));
	fputs("</h1>", f);
}

static void message(struct page *p, const char *cls, const char *words)
{
	if (!words)
		return;
	fprintf(p->f, "<p id=\"message\" class=\"%s\" role=\"status\">", cls);
	esc(p->f, words);
	fputs("</p>", p->f);
}

static enum MHD_Result end(struct page *p, struct web_req *r, unsigned status)
{
	enum MHD_Result ok;

	fputs("</main></body></html>\n", p->f);
	fclose(p->f);
	ok = http_send(r, status, "text/html; charset=utf-8", p->buf, p->len);
	free(p->buf);
	return ok;
}

/* ---- log in ------------------------------------------------------------------------- */

static enum MHD_Result login_page(struct web_req *r, const char *msg, unsigned status)
{
	struct page p;
	FILE *f;

	if (session_new_code(r, r->w->test_code) < 0)
		return page_error(r, 500);
	begin(&p, r, &T_LOGIN);
	f = p.f;
	message(&p, "error", msg);
	fputs("<form method=\"post\" action=\"/login\" id=\"login-form\">", f);
	csrf_input(f, r);
	fprintf(f, "<label for=\"account\">%s</label><input id=\"account\" name=\"account\" autocomplete=\"username\""
	    " required maxlength=\"9\" pattern=\"u[0-9]{8}\">", TR(r, T_ACCOUNT_F));
	fprintf(f, "<label for=\"password\">%s</label><input id=\"password\" name=\"password\" type=\"password\""
	    " autocomplete=\"current-password\" required maxlength=\"256\">", TR(r, T_PASSWORD_F));
	fprintf(f, "<label for=\"code\">%s</label><img id=\"code-img\" src=\"/code.png\" alt=\"%s\" width=\"180\""
	    " height=\"60\"><input id=\"code\" name=\"code\" required maxlength=\"%d\" autocomplete=\"off\">",
	    TR(r, T_CODE_F), TR(r, T_CODE_IMG), CAPTCHA_LEN);
	fprintf(f, "<button id=\"login-submit\" type=\"submit\">%s</button></form>", TR(r, T_LOGIN));
	fputs("<form method=\"post\" action=\"/code\">", f);
	csrf_input(f, r);
	fprintf(f, "<button id=\"code-new\" type=\"submit\" class=\"secondary\">%s</button></form>", TR(r, T_CODE_NEW));
	return end(&p, r, status);
}

enum MHD_Result page_root(struct web_req *r)
{
	return http_redirect(r, r->s.logged_in ? "/certs" : "/login");
}

enum MHD_Result page_login(struct web_req *r)
{
	if (r->s.logged_in)
		return http_redirect(r, "/certs");
	return login_page(r, NULL, MHD_HTTP_OK);
}

enum MHD_Result page_code_png(struct web_req *r)
{
	size_t len = 0;
	uint8_t *png = session_code_png(r, &len);
	enum MHD_Result ok;

	if (!png && (session_new_code(r, r->w->test_code) < 0 || !(png = session_code_png(r, &len))))
		return page_error(r, 500);
	ok = http_send(r, MHD_HTTP_OK, "image/png", png, len);
	free(png);
	return ok;
}

enum MHD_Result page_code_new(struct web_req *r)
{
	return http_redirect(r, "/login");
}

/* The words for a job that did not answer {"ok": true}; NULL result: unreachable. */
static const char *job_words(struct web_req *r, json_t *result, int pending, char *buf, size_t len)
{
	const char *words;

	if (!result) {
		if (pending)
			snprintf(buf, len, TR(r, T_PENDING), 0LL);
		else
			snprintf(buf, len, "%s", TR(r, T_UNREACHABLE));
		return buf;
	}
	if (json_is_true(json_object_get(result, "failed"))) {
		snprintf(buf, len, TR(r, T_FAILED), json_string_value(json_object_get(result, "error")));
		return buf;
	}
	text_refusal(result, r->s.en, &words);
	return words;
}

enum MHD_Result page_login_post(struct web_req *r)
{
	const char *account = http_field(r, "account"), *pw = http_field(r, "password");
	int code_ok = session_check_code(r, http_field(r, "code")), pending = 0;
	json_t *payload, *result;
	char *sealed, buf[512], acct[16];
	const char *words;
	enum MHD_Result ok;

	/* A wrong code, a malformed account or no password: the same one answer, no job. */
	if (!code_ok || idcheck_account(account) < 0 || !pw || !*pw)
		return login_page(r, text_denied(r->s.en), MHD_HTTP_OK);
	if (!(sealed = backend_seal(r->w, pw)))
		return login_page(r, TR(r, T_UNREACHABLE), MHD_HTTP_SERVICE_UNAVAILABLE);
	snprintf(acct, sizeof acct, "%s", account);
	http_wipe(r);	/* the clear password goes now */
	payload = json_pack("{s:s,s:s}", "account", acct, "password", sealed);
	free(sealed);
	result = backend_run(r->w, r->source, "login", payload, &pending);
	json_decref(payload);
	if (result && json_is_true(json_object_get(result, "ok"))) {
		log_info("%s: account %s logged in", r->source, json_string_value(json_object_get(result, "account")));
		session_login(r, json_string_value(json_object_get(result, "account")), json_object_get(result, "certs"));
		json_decref(result);
		return http_redirect(r, "/certs");
	}
	words = job_words(r, result, pending, buf, sizeof buf);
	ok = login_page(r, words, result ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE);
	json_decref(result);
	return ok;
}

enum MHD_Result page_lang(struct web_req *r)
{
	const char *lang = http_field(r, "lang"), *back = http_field(r, "back");
	int known = 0;

	session_set_lang(r, lang && strcmp(lang, "en") == 0);
	/* Back only to one of our own pages: never an open redirect. */
	for (size_t i = 0; back && i < web_nroutes; i++)
		known |= strcmp(web_routes[i].method, "GET") == 0 && strcmp(web_routes[i].path, back) == 0;
	return http_redirect(r, known ? back : "/");
}

enum MHD_Result page_logout(struct web_req *r)
{
	log_info("%s: account %s logged out", r->source, r->s.account);
	session_end(r);
	return http_redirect(r, "/login");
}

/* ---- certificates --------------------------------------------------------------------- */

/* The session's certificates with their status asked afresh (read-only, no password). */
static json_t *fresh_certs(struct web_req *r)
{
	json_t *certs = session_certs(r), *c;
	size_t i;

	json_array_foreach(certs, i, c) {
		json_t *args = json_pack("{s:O}", "serial", json_object_get(c, "serial"));
		json_t *st = backend_query(r->w, "cert_status", args);
		json_t *status = json_object_get(st, "status");
		if (json_is_string(status) && strcmp(json_string_value(status), "unknown") != 0)
			json_object_set(c, "status", status);
		json_decref(st);
		json_decref(args);
	}
	session_set_certs(r, certs);
	return certs;
}

static void certs_table(struct page *p, struct web_req *r, json_t *certs)
{
	FILE *f = p->f;
	json_t *c;
	size_t i;

	if (json_array_size(certs) == 0) {
		fprintf(f, "<p id=\"no-certs\">%s</p>", TR(r, T_NO_CERTS));
		return;
	}
	fprintf(f, "<table id=\"certs\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
	    TR(r, T_SERIAL), TR(r, T_USAGE), TR(r, T_STATUS), TR(r, T_EXPIRES));
	json_array_foreach(certs, i, c) {
		const char *serial = json_string_value(json_object_get(c, "serial"));
		const char *usage = json_string_value(json_object_get(c, "usage"));
		const char *status = json_string_value(json_object_get(c, "status"));
		int expired = json_is_true(json_object_get(c, "expired"));
		char when[24];

		if (!serial || !usage || !status)
			continue;
		time_format((time_t)json_integer_value(json_object_get(c, "not_after")), when, sizeof when);
		fputs("<tr data-serial=\"", f);
		esc(f, serial);
		fputs("\" data-usage=\"", f);
		esc(f, usage);
		fputs("\" data-status=\"", f);
		esc(f, expired ? "expired" : status);
		fputs("\"><td class=\"serial\">", f);
		esc(f, serial);
		fputs("</td><td>", f);
		esc(f, subtext_usage(r->s.en, usage));
		fputs("</td><td class=\"status\">", f);
		esc(f, subtext_status(r->s.en, status, expired));
		fprintf(f, "</td><td>%.10s</td></tr>", when);
	}
	fputs("</tbody></table>", f);
}

static enum MHD_Result certs_page(struct web_req *r, const char *msg)
{
	json_t *certs = fresh_certs(r);
	struct page p;

	begin(&p, r, &T_CERTS);
	message(&p, "done", msg);
	fprintf(p.f, "<p>");
	fprintf(p.f, TR(r, T_ACCOUNT), "");
	esc(p.f, r->s.account);
	fprintf(p.f, "</p>");
	certs_table(&p, r, certs);
	json_decref(certs);
	return end(&p, r, MHD_HTTP_OK);
}

enum MHD_Result page_certs(struct web_req *r)
{
	char flash[512];
	return certs_page(r, session_take_flash(r, flash, sizeof flash) ? flash : NULL);
}

/* ---- suspend ------------------------------------------------------------------------- */

static enum MHD_Result suspend_page(struct web_req *r, const char *msg)
{
	json_t *certs = session_certs(r), *c;
	struct page p;
	FILE *f;
	size_t i;

	begin(&p, r, &T_SUSPEND);
	f = p.f;
	message(&p, "error", msg);
	fprintf(f, "<p>%s</p><form method=\"post\" action=\"/suspend\" id=\"suspend-form\">", TR(r, T_SUSPEND_INTRO));
	csrf_input(f, r);
	fputs("<fieldset>", f);
	for (int u = 0; u < 2; u++) {
		const char *usage = u == 0 ? "signature" : "encryption";
		const char *serial = NULL;
		json_array_foreach(certs, i, c)
			if (strcmp(json_string_value(json_object_get(c, "usage")), usage) == 0)
				serial = json_string_value(json_object_get(c, "serial"));
		fprintf(f, "<label><input type=\"checkbox\" id=\"cert-%s\" name=\"%s\" value=\"on\"> %s", usage, usage,
		    TR(r, u == 0 ? T_SIGN_CERT : T_ENC_CERT));
		if (serial) {
			fputs(" <span class=\"serial\">", f);
			esc(f, serial);
			fputs("</span>", f);
		}
		fputs("</label>", f);
	}
	fputs("</fieldset>", f);
	fprintf(f, "<label for=\"reason\">%s</label><textarea id=\"reason\" name=\"reason\" maxlength=\"200\" rows=\"3\">"
	    "</textarea>", TR(r, T_REASON));
	fprintf(f, "<label for=\"password\">%s</label><input id=\"password\" name=\"password\" type=\"password\""
	    " autocomplete=\"current-password\" required maxlength=\"256\">", TR(r, T_CONFIRM_PW));
	fprintf(f, "<button id=\"suspend-submit\" type=\"submit\">%s</button></form>", TR(r, T_SUSPEND));
	json_decref(certs);
	return end(&p, r, MHD_HTTP_OK);
}

enum MHD_Result page_suspend(struct web_req *r)
{
	return suspend_page(r, NULL);
}

enum MHD_Result page_suspend_post(struct web_req *r)
{
	const char *pw = http_field(r, "password"), *reason = http_field(r, "reason");
	int sign = http_field(r, "signature") != NULL, enc = http_field(r, "encryption") != NULL, pending = 0;
	json_t *payload, *result;
	char *sealed, buf[512];
	enum MHD_Result ok;

	if (!sign && !enc)
		return suspend_page(r, TR(r, T_NONE_TICKED));
	if (reason && strlen(reason) > 200)
		return suspend_page(r, TR(r, T_REASON_LONG));
	if (!pw || !*pw)
		return suspend_page(r, text_denied(r->s.en));
	if (!(sealed = backend_seal(r->w, pw)))
		return suspend_page(r, TR(r, T_UNREACHABLE));
	payload = json_pack("{s:s,s:s,s:s}", "account", r->s.account, "password", sealed, "certs",
	    sign && enc ? "both" : sign ? "signature" : "encryption");
	if (reason && *reason)
		json_object_set_new(payload, "reason", json_string(reason));
	free(sealed);
	http_wipe(r);
	result = backend_run(r->w, r->source, "suspend", payload, &pending);
	json_decref(payload);
	if (result && json_is_true(json_object_get(result, "ok"))) {
		size_t n = json_array_size(json_object_get(result, "held"));
		log_info("%s: account %s suspended %zu certificate(s)", r->source, r->s.account, n);
		snprintf(buf, sizeof buf, TR(r, T_SUSPENDED), n);
		json_decref(result);
		session_flash(r, buf);
		return http_redirect(r, "/certs");
	}
	ok = suspend_page(r, job_words(r, result, pending, buf, sizeof buf));
	json_decref(result);
	return ok;
}

/* ---- password change ------------------------------------------------------------------ */

static enum MHD_Result password_page(struct web_req *r, const char *cls, const char *msg)
{
	struct page p;
	FILE *f;

	begin(&p, r, &T_PWCHANGE);
	f = p.f;
	message(&p, cls, msg);
	fprintf(f, "<p>%s</p><form method=\"post\" action=\"/password\" id=\"password-form\">", TR(r, T_PW_RULES));
	csrf_input(f, r);
	fprintf(f, "<label for=\"password\">%s</label><input id=\"password\" name=\"password\" type=\"password\""
	    " autocomplete=\"current-password\" required maxlength=\"256\">", TR(r, T_OLD_F));
	fprintf(f, "<label for=\"new_password\">%s</label><input id=\"new_password\" name=\"new_password\""
	    " type=\"password\" autocomplete=\"new-password\" required maxlength=\"256\">", TR(r, T_NEW_F));
	fprintf(f, "<label for=\"confirm\">%s</label><input id=\"confirm\" name=\"confirm\" type=\"password\""
	    " autocomplete=\"new-password\" required maxlength=\"256\">", TR(r, T_AGAIN_F));
	fprintf(f, "<button id=\"password-submit\" type=\"submit\">%s</button></form>", TR(r, T_SUBMIT));
	return end(&p, r, MHD_HTTP_OK);
}

enum MHD_Result page_password(struct web_req *r)
{
	char flash[512];
	if (session_take_flash(r, flash, sizeof flash))
		return password_page(r, "done", flash);
	return password_page(r, "error", NULL);
}

enum MHD_Result page_password_post(struct web_req *r)
{
	const char *old = http_field(r, "password"), *new_pw = http_field(r, "new_password");
	const char *confirm = http_field(r, "confirm");
	char *old_sealed = NULL, *new_sealed = NULL, buf[512];
	json_t *payload, *result;
	enum MHD_Result ok;
	int pending = 0;

	if (!old || !*old || !new_pw || !confirm)
		return password_page(r, "error", text_denied(r->s.en));
	/* The confirmation is the subscriber's own check: it never leaves ra-web. */
	if (!http_equal(new_pw, confirm))
		return password_page(r, "error", TR(r, T_MISMATCH));
	if (!(old_sealed = backend_seal(r->w, old)) || !(new_sealed = backend_seal(r->w, new_pw))) {
		free(old_sealed);
		return password_page(r, "error", TR(r, T_UNREACHABLE));
	}
	http_wipe(r);
	payload = json_pack("{s:s,s:s,s:s}", "account", r->s.account, "password", old_sealed, "new_password", new_sealed);
	free(old_sealed);
	free(new_sealed);
	result = backend_run(r->w, r->source, "password_change", payload, &pending);
	json_decref(payload);
	if (result && json_is_true(json_object_get(result, "ok"))) {
		log_info("%s: account %s changed its website password", r->source, r->s.account);
		json_decref(result);
		session_flash(r, TR(r, T_CHANGED));
		return http_redirect(r, "/password");
	}
	ok = password_page(r, "error", job_words(r, result, pending, buf, sizeof buf));
	json_decref(result);
	return ok;
}

/* ---- the card page -------------------------------------------------------------------- */

enum MHD_Result page_card(struct web_req *r)
{
	static const struct { const char *op; const struct text *label; } ops[] = {
		{ "pin-change", &T_PIN_CHANGE }, { "unlock", &T_UNLOCK }, { "download", &T_DOWNLOAD },
		{ "export", &T_EXPORT }, { "renew", &T_RENEW },
	};
	struct page p;
	FILE *f;

	begin(&p, r, &T_CARD);
	f = p.f;
	fprintf(f, "<p>%s</p><noscript><p id=\"noscript\" class=\"error\">%s</p></noscript>", TR(r, T_CARD_INTRO),
	    TR(r, T_CARD_NOSCRIPT));
	/* The script reads the agent's origin and the account from here; it sends no secret. */
	fputs("<div id=\"card\" data-agent=\"", f);
	esc(f, config_str(r->w->cfg, "web.agent_origin"));
	fputs("\" data-account=\"", f);
	esc(f, r->s.account);
	fprintf(f, "\" data-lang=\"%s\"><p id=\"agent-status\">%s</p><ul class=\"ops\">", r->s.en ? "en" : "zh-TW",
	    TR(r, T_AGENT_LOOK));
	for (size_t i = 0; i < ARRAY_LEN(ops); i++)
		fprintf(f, "<li><button type=\"button\" class=\"card-op\" data-op=\"%s\" disabled>%s</button></li>",
		    ops[i].op, TR(r, *ops[i].label));
	fputs("</ul><div id=\"card-result\" aria-live=\"polite\"></div></div><script src=\"/static/card.js\"></script>", f);
	return end(&p, r, MHD_HTTP_OK);
}

/* ---- errors ------------------------------------------------------------------------- */

enum MHD_Result page_error(struct web_req *r, unsigned status)
{
	const struct text *t = status == 404 ? &T_NOT_FOUND : status == 403 ? (r->s.logged_in ? &T_FORBIDDEN :
	    &T_LOGIN_FIRST) : status == 429 ? &T_TOO_MANY : &T_BAD;
	struct page p;

	begin(&p, r, t);
	fprintf(p.f, "<p><a id=\"home\" href=\"/\">%s</a></p>", TR(r, T_SITE));
	return end(&p, r, status);
}
