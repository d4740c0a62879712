/*
 * sheet.c: see sheet.h. Drawn with cairo's PDF surface and pango (fonts embedded as
 * subsets, so pdftotext reads the Chinese back). Coordinates are millimetres: the context
 * is scaled once, and pango's resolution is set to 25.4 "dots" per inch so that font
 * sizes stay in points. Values are laid out as plain text, never as pango markup, so a
 * name containing "<" cannot change the layout.
 */
#include "sheet.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <openssl/crypto.h>
#include <pango/pangocairo.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pagetext.h"
#include "util.h"

#define PAGE_W 210.0
#define PAGE_H 297.0
#define MM_TO_PT (72.0 / 25.4)
/* DL window envelope: the address field the window shows */
#define WIN_X 20.0
#define WIN_Y 45.0
#define WIN_W 90.0
#define WIN_H 45.0
#define FOLD1 99.0
#define FOLD2 198.0

struct sheet_doc {
	cairo_surface_t *surface;
	cairo_t *cr;
	char *family, *mono, *return_address, *contact;
	unsigned char *buf;
	size_t len, cap;
	int pages;
};

static cairo_status_t sheet_write(void *arg, const unsigned char *data, unsigned int n)
{
	sheet_doc_t *d = arg;
	if (d->len + n > d->cap) {
		size_t cap = (d->len + n) * 2;
		unsigned char *nb = xmalloc(cap);
		/* grow by copy-and-wipe rather than realloc: the old block holds a secret */
		if (d->buf) {
			memcpy(nb, d->buf, d->len);
			OPENSSL_cleanse(d->buf, d->cap);
			free(d->buf);
		}
		d->buf = nb;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, data, n);
	d->len += n;
	return CAIRO_STATUS_SUCCESS;
}

const char *sheet_title(const char *kind)
{
	return strcmp(kind, "pin") == 0 ? "晶片卡 PIN 碼單" : "網站密碼單";
}

static const char *sheet_title_en(const char *kind)
{
	return strcmp(kind, "pin") == 0 ? "Card PIN sheet" : "Website password sheet";
}

static const char *reason_label(const char *reason)
{
	if (!reason) return "";
	if (strcmp(reason, "registration") == 0) return "註冊 Registration";
	if (strcmp(reason, "resume") == 0) return "復用 Resume";
	if (strcmp(reason, "reset") == 0) return "密碼重設 Reset";
	if (strcmp(reason, "personalization") == 0) return "製卡 Card issue";
	return reason;
}

sheet_doc_t *sheet_doc_new(const char *family, const char *return_address)
{
	sheet_doc_t *d = xcalloc(1, sizeof *d);
	d->family = xstrdup(family && *family ? family : "WenQuanYi Micro Hei");
	d->mono = xasprintf("%s Mono", d->family);
	d->return_address = xstrdup(return_address ? return_address : "");
	d->surface = cairo_pdf_surface_create_for_stream(sheet_write, d,
	    PAGE_W * MM_TO_PT, PAGE_H * MM_TO_PT);
	if (cairo_surface_status(d->surface) != CAIRO_STATUS_SUCCESS) {
		log_err("sheet: cannot create a PDF surface");
		sheet_doc_destroy(&d);
		return NULL;
	}
	cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_CREATOR, "ra-notifier");
	d->cr = cairo_create(d->surface);
	cairo_scale(d->cr, MM_TO_PT, MM_TO_PT);
	return d;
}

void sheet_doc_destroy(sheet_doc_t **dp)
{
	sheet_doc_t *d;
	if (!dp || !(d = *dp))
		return;
	if (d->cr)
		cairo_destroy(d->cr);
	if (d->surface)
		cairo_surface_destroy(d->surface);
	if (d->buf) {
		OPENSSL_cleanse(d->buf, d->cap);
		free(d->buf);
	}
	free(d->family);
	free(d->mono);
	free(d->return_address);
	free(d->contact);
	free(d);
	*dp = NULL;
}

/* TEXT at (x, y) mm, wrapped to W mm (lib/pagetext.c); the height used in mm. */
static double text_at(sheet_doc_t *d, double x, double y, double w, const char *family,
    double size, int bold, PangoAlignment align, const char *text)
{
	return pagetext_draw(d->cr, family, x, y, w, size, bold, align, PAGETEXT_WRAP, text);
}

static void line(cairo_t *cr, double x0, double y0, double x1, double y1, double width, double grey)
{
	cairo_set_source_rgb(cr, grey, grey, grey);
	cairo_set_line_width(cr, width);
	cairo_move_to(cr, x0, y0);
	cairo_line_to(cr, x1, y1);
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
}

/* The perforation between cover and inner part, and the fold marks in the margin. */
static void draw_folds(sheet_doc_t *d)
{
	cairo_t *cr = d->cr;
	double dash[] = { 1.5, 1.0 };

	cairo_set_dash(cr, dash, 2, 0);
	line(cr, 8, FOLD1, PAGE_W - 8, FOLD1, 0.2, 0.45);
	cairo_set_dash(cr, NULL, 0, 0);
	cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
	text_at(d, 8, FOLD1 + 0.6, 80, d->family, 6, 0, PANGO_ALIGN_LEFT,
	    "沿虛線撕開 Tear along the perforation");
	line(cr, 0, FOLD2, 6, FOLD2, 0.3, 0.3);
	line(cr, PAGE_W - 6, FOLD2, PAGE_W, FOLD2, 0.3, 0.3);
}

/* Corner marks of the envelope window: a guide for the print room, not a frame. */
static void draw_window_marks(sheet_doc_t *d)
{
	const double x0 = WIN_X - 2, y0 = WIN_Y - 2, x1 = WIN_X + WIN_W, y1 = WIN_Y + WIN_H, k = 4;
	cairo_t *cr = d->cr;
	line(cr, x0, y0, x0 + k, y0, 0.2, 0.6); line(cr, x0, y0, x0, y0 + k, 0.2, 0.6);
	line(cr, x1, y0, x1 - k, y0, 0.2, 0.6); line(cr, x1, y0, x1, y0 + k, 0.2, 0.6);
	line(cr, x0, y1, x0 + k, y1, 0.2, 0.6); line(cr, x0, y1, x0, y1 - k, 0.2, 0.6);
	line(cr, x1, y1, x1 - k, y1, 0.2, 0.6); line(cr, x1, y1, x1, y1 - k, 0.2, 0.6);
}

static void draw_cover(sheet_doc_t *d, const struct sheet_info *s)
{
	char date[32], who[512];
	time_t t = (time_t)s->date;
	struct tm tm;
	double y;

	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);

	/* letterhead */
	text_at(d, 20, 12, 100, d->family, 15, 1, PANGO_ALIGN_LEFT, "憑證註冊中心");
	text_at(d, 20, 19.5, 100, d->family, 8.5, 0, PANGO_ALIGN_LEFT, "Certificate Registration Authority");
	text_at(d, 110, 12, 80, d->family, 12, 1, PANGO_ALIGN_RIGHT, "密件　限本人拆閱");
	text_at(d, 110, 18.5, 80, d->family, 8, 0, PANGO_ALIGN_RIGHT, "CONFIDENTIAL — to be opened by the addressee only");
	line(d->cr, 20, 26, 190, 26, 0.4, 0);
	text_at(d, 20, 28, 170, d->family, 9, 0, PANGO_ALIGN_LEFT, sheet_title(s->kind));

	/* the window */
	draw_window_marks(d);
	text_at(d, WIN_X, WIN_Y + 1, WIN_W - 4, d->family, 6.5, 0, PANGO_ALIGN_LEFT, d->return_address);
	line(d->cr, WIN_X, WIN_Y + 5, WIN_X + WIN_W - 5, WIN_Y + 5, 0.15, 0.4);
	y = WIN_Y + 8;
	y += text_at(d, WIN_X, y, WIN_W - 5, d->mono, 13, 1, PANGO_ALIGN_LEFT, s->postal_code) + 1;
	y += text_at(d, WIN_X, y, WIN_W - 5, d->family, 11, 0, PANGO_ALIGN_LEFT, s->address) + 2;
	snprintf(who, sizeof who, "%s　君啟", s->name);
	text_at(d, WIN_X + 8, y, WIN_W - 13, d->family, 14, 1, PANGO_ALIGN_LEFT, who);

	/* beside the window: what the envelope is about, without the secret */
	cairo_set_source_rgb(d->cr, 0.95, 0.95, 0.95);
	cairo_rectangle(d->cr, 120, WIN_Y - 2, 70, 47);
	cairo_fill(d->cr);
	cairo_set_source_rgb(d->cr, 0, 0, 0);
	text_at(d, 124, WIN_Y, 62, d->family, 7.5, 0, PANGO_ALIGN_LEFT, "網站帳號 Account ID");
	text_at(d, 124, WIN_Y + 4, 62, d->mono, 14, 1, PANGO_ALIGN_LEFT, s->account_id);
	text_at(d, 124, WIN_Y + 14, 62, d->family, 7.5, 0, PANGO_ALIGN_LEFT, "單號 Sheet No.");
	text_at(d, 124, WIN_Y + 18, 62, d->mono, 10, 0, PANGO_ALIGN_LEFT, s->serial);
	text_at(d, 124, WIN_Y + 25, 62, d->family, 7.5, 0, PANGO_ALIGN_LEFT, "參考 Reference");
	text_at(d, 124, WIN_Y + 29, 62, d->mono, 10, 0, PANGO_ALIGN_LEFT, s->reference);
	text_at(d, 124, WIN_Y + 36, 62, d->family, 7.5, 0, PANGO_ALIGN_LEFT, "日期 Date");
	text_at(d, 124, WIN_Y + 40, 62, d->mono, 10, 0, PANGO_ALIGN_LEFT, date);
}

/* A fine diagonal tint: the reason a PIN mailer's secret cannot be read against the light. */
static void draw_tint(cairo_t *cr, double x, double y, double w, double h)
{
	cairo_save(cr);
	cairo_rectangle(cr, x, y, w, h);
	cairo_clip(cr);
	cairo_set_source_rgb(cr, 0.78, 0.80, 0.86);
	cairo_set_line_width(cr, 0.25);
	for (double k = -h; k < w; k += 1.2) {
		cairo_move_to(cr, x + k, y + h);
		cairo_line_to(cr, x + k + h, y);
		cairo_move_to(cr, x + k, y);
		cairo_line_to(cr, x + k + h, y + h);
	}
	cairo_stroke(cr);
	cairo_restore(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
}

static void draw_inner(sheet_doc_t *d, const struct sheet_info *s)
{
	int pin = strcmp(s->kind, "pin") == 0;
	char buf[512];
	const double top = FOLD1 + 7;

	snprintf(buf, sizeof buf, "%s　%s", sheet_title(s->kind), sheet_title_en(s->kind));
	text_at(d, 20, top, 170, d->family, 15, 1, PANGO_ALIGN_LEFT, buf);
	snprintf(buf, sizeof buf, "單號 Sheet No. %s　　事由 Reason: %s", s->serial, reason_label(s->reason));
	text_at(d, 20, top + 9, 170, d->family, 8.5, 0, PANGO_ALIGN_LEFT, buf);
	snprintf(buf, sizeof buf, "%s　%s", pin ? "您的晶片卡 PIN 碼" : "您的網站密碼",
	    pin ? "Your card PIN" : "Your website password");
	text_at(d, 20, top + 20, 170, d->family, 10, 1, PANGO_ALIGN_LEFT, buf);

	draw_tint(d->cr, 20, top + 27, 170, 34);
	cairo_set_source_rgb(d->cr, 1, 1, 1);
	cairo_rectangle(d->cr, 45, top + 34, 120, 20);
	cairo_fill(d->cr);
	cairo_set_source_rgb(d->cr, 0, 0, 0);
	cairo_set_line_width(d->cr, 0.3);
	cairo_rectangle(d->cr, 45, top + 34, 120, 20);
	cairo_stroke(d->cr);
	/* a preview (secret NULL) shows where the secret goes, never the secret */
	text_at(d, 45, top + 38.5, 120, d->mono, 24, 1, PANGO_ALIGN_CENTER,
	    s->secret ? s->secret : "＊＊＊＊＊＊＊＊");

	text_at(d, 20, top + 65, 170, d->family, 8.5, 0, PANGO_ALIGN_LEFT, pin ?
	    "PIN 碼為數字；連續輸入錯誤 3 次晶片卡即鎖住，須以網站密碼辦理解鎖。\n"
	    "The PIN is digits only. Three wrong PINs lock the card; unlock it with your website password." :
	    "密碼區分大小寫；連續輸入錯誤 3 次帳號即鎖住，須書面申請重設。\n"
	    "The password is case-sensitive. Three wrong passwords lock the account; a reset needs a paper form.");
}

static void draw_notes(sheet_doc_t *d, const struct sheet_info *s)
{
	int pin = strcmp(s->kind, "pin") == 0;
	const double top = FOLD2 + 8;
	char foot[256];

	text_at(d, 20, top, 170, d->family, 11, 1, PANGO_ALIGN_LEFT, "注意事項　Please note");
	text_at(d, 20, top + 8, 170, d->family, 9, 0, PANGO_ALIGN_LEFT, pin ?
	    "1. 請於收到後立即以讀卡機變更 PIN 碼，並將本單銷毀。\n"
	    "    Change the PIN with a card reader as soon as you receive this sheet, then destroy it.\n"
	    "2. 本中心人員不會以任何方式向您索取 PIN 碼。\n"
	    "    RA staff will never ask you for your PIN, in any way.\n"
	    "3. 如信封有拆封痕跡或本單破損，請勿使用並立即與本中心聯絡。\n"
	    "    If the envelope was opened or this sheet is damaged, do not use it and call the RA.\n"
	    "4. 請勿將 PIN 碼與晶片卡存放在一起。\n"
	    "    Never keep the PIN together with the card." :
	    "1. 請於收到後立即登入網站變更密碼，並將本單銷毀。\n"
	    "    Log in and change this password as soon as you receive this sheet, then destroy it.\n"
	    "2. 本中心人員不會以任何方式向您索取密碼。\n"
	    "    RA staff will never ask you for your password, in any way.\n"
	    "3. 如信封有拆封痕跡或本單破損，請勿使用並立即與本中心聯絡。\n"
	    "    If the envelope was opened or this sheet is damaged, do not use it and call the RA.\n"
	    "4. 網站密碼用於展期、停用、PIN 碼解鎖等線上作業，請妥善保管。\n"
	    "    The website password is needed to renew, suspend and unlock your card online: keep it safe.");
	if (d->contact)
		text_at(d, 20, PAGE_H - 24, 170, d->family, 8.5, 0, PANGO_ALIGN_LEFT, d->contact);
	snprintf(foot, sizeof foot, "%s · %s · %d", s->serial, s->reference, d->pages + 1);
	cairo_set_source_rgb(d->cr, 0.4, 0.4, 0.4);
	text_at(d, 20, PAGE_H - 12, 170, d->mono, 7, 0, PANGO_ALIGN_RIGHT, foot);
	cairo_set_source_rgb(d->cr, 0, 0, 0);
}

void sheet_doc_set_contact(sheet_doc_t *d, const char *contact)
{
	free(d->contact);
	d->contact = contact ? xstrdup(contact) : NULL;
}

int sheet_doc_add(sheet_doc_t *d, const struct sheet_info *s)
{
	if (!s->kind || !s->serial || !s->reference || !s->name || !s->postal_code ||
	    !s->address || !s->account_id || !s->secret || !*s->secret ||
	    (strcmp(s->kind, "pin") != 0 && strcmp(s->kind, "password") != 0)) {
		log_err("sheet %s: a field is missing or the kind is unknown",
		    s->serial ? s->serial : "(no serial)");
		return -1;
	}
	draw_cover(d, s);
	draw_folds(d);
	draw_inner(d, s);
	draw_notes(d, s);
	cairo_show_page(d->cr);
	if (cairo_status(d->cr) != CAIRO_STATUS_SUCCESS) {
		log_err("sheet %s: cairo: %s", s->serial, cairo_status_to_string(cairo_status(d->cr)));
		return -1;
	}
	d->pages++;
	return 0;
}

/* A one-page image document for a preview at DPI, white, scaled to millimetres. */
static void preview_open(sheet_doc_t *d, const char *family, const char *return_address,
    const char *contact, int dpi)
{
	double px_per_mm = dpi / 25.4;

	d->family = xstrdup(family && *family ? family : "WenQuanYi Micro Hei");
	d->mono = xasprintf("%s Mono", d->family);
	d->return_address = xstrdup(return_address ? return_address : "");
	d->contact = contact ? xstrdup(contact) : NULL;
	d->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(PAGE_W * px_per_mm),
	    (int)(PAGE_H * px_per_mm));
	d->cr = cairo_create(d->surface);
	cairo_set_source_rgb(d->cr, 1, 1, 1);
	cairo_paint(d->cr);
	cairo_set_source_rgb(d->cr, 0, 0, 0);
	cairo_scale(d->cr, px_per_mm, px_per_mm);
}

/* Write the preview D drew (unless DRAWN < 0) to PATH as PNG and free D. 0/-1 (logged). */
static int preview_close(sheet_doc_t *d, int drawn, const char *what, const char *path)
{
	int rc = -1;

	cairo_surface_flush(d->surface);
	if (drawn < 0 || cairo_status(d->cr) != CAIRO_STATUS_SUCCESS ||
	    cairo_surface_write_to_png(d->surface, path) != CAIRO_STATUS_SUCCESS)
		log_err("%s: cannot write the preview %s", what, path);
	else
		rc = 0;
	cairo_destroy(d->cr);
	cairo_surface_destroy(d->surface);
	free(d->family);
	free(d->mono);
	free(d->return_address);
	free(d->contact);
	return rc;
}

int sheet_preview_png(const char *family, const char *return_address, const char *contact,
    const struct sheet_info *info, int dpi, const char *path)
{
	sheet_doc_t d = { 0 };
	struct sheet_info masked = *info;
	char what[96];

	masked.secret = NULL;
	preview_open(&d, family, return_address, contact, dpi);
	draw_cover(&d, &masked);
	draw_folds(&d);
	draw_inner(&d, &masked);
	draw_notes(&d, &masked);
	snprintf(what, sizeof what, "sheet %s", info->serial);
	return preview_close(&d, 0, what, path);
}

int sheet_letter_preview_png(const char *family, const char *return_address, const char *contact,
    const struct sheet_letter *l, int dpi, const char *path)
{
	sheet_doc_t d = { 0 };
	char what[96];
	int drawn;

	preview_open(&d, family, return_address, contact, dpi);
	drawn = sheet_doc_add_letter(&d, l);
	snprintf(what, sizeof what, "letter %s", l->reference ? l->reference : "(no reference)");
	return preview_close(&d, drawn, what, path);
}

int sheet_doc_add_letter(sheet_doc_t *d, const struct sheet_letter *l)
{
	char date[32], who[512];
	time_t t = (time_t)l->date;
	struct tm tm;
	double y;

	if (!l->name || !l->postal_code || !l->address || !l->title || !l->body || !l->reference) {
		log_err("letter %s: a field is missing", l->reference ? l->reference : "(no reference)");
		return -1;
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	text_at(d, 20, 12, 100, d->family, 15, 1, PANGO_ALIGN_LEFT, "憑證註冊中心");
	text_at(d, 20, 19.5, 100, d->family, 8.5, 0, PANGO_ALIGN_LEFT, "Certificate Registration Authority");
	line(d->cr, 20, 26, 190, 26, 0.4, 0);
	draw_window_marks(d);
	text_at(d, WIN_X, WIN_Y + 1, WIN_W - 4, d->family, 6.5, 0, PANGO_ALIGN_LEFT, d->return_address);
	line(d->cr, WIN_X, WIN_Y + 5, WIN_X + WIN_W - 5, WIN_Y + 5, 0.15, 0.4);
	y = WIN_Y + 8;
	y += text_at(d, WIN_X, y, WIN_W - 5, d->mono, 13, 1, PANGO_ALIGN_LEFT, l->postal_code) + 1;
	y += text_at(d, WIN_X, y, WIN_W - 5, d->family, 11, 0, PANGO_ALIGN_LEFT, l->address) + 2;
	snprintf(who, sizeof who, "%s　君啟", l->name);
	text_at(d, WIN_X + 8, y, WIN_W - 13, d->family, 14, 1, PANGO_ALIGN_LEFT, who);
	text_at(d, 124, WIN_Y, 62, d->family, 7.5, 0, PANGO_ALIGN_LEFT, "參考 Reference");
	text_at(d, 124, WIN_Y + 4, 62, d->mono, 10, 0, PANGO_ALIGN_LEFT, l->reference);
	text_at(d, 124, WIN_Y + 11, 62, d->family, 7.5, 0, PANGO_ALIGN_LEFT, "日期 Date");
	text_at(d, 124, WIN_Y + 15, 62, d->mono, 10, 0, PANGO_ALIGN_LEFT, date);
	y = FOLD1 + 8;
	y += text_at(d, 20, y, 170, d->family, 13, 1, PANGO_ALIGN_LEFT, l->title) + 4;
	text_at(d, 20, y, 170, d->family, 10, 0, PANGO_ALIGN_LEFT, l->body);
	draw_folds(d);
	if (d->contact)
		text_at(d, 20, PAGE_H - 24, 170, d->family, 8.5, 0, PANGO_ALIGN_LEFT, d->contact);
	cairo_show_page(d->cr);
	if (cairo_status(d->cr) != CAIRO_STATUS_SUCCESS) {
		log_err("letter %s: cairo: %s", l->reference, cairo_status_to_string(cairo_status(d->cr)));
		return -1;
	}
	d->pages++;
	return 0;
}

int sheet_doc_finish(sheet_doc_t *d, unsigned char **pdf, size_t *len)
{
	*pdf = NULL;
	*len = 0;
	cairo_destroy(d->cr);
	d->cr = NULL;
	cairo_surface_finish(d->surface);
	if (cairo_surface_status(d->surface) != CAIRO_STATUS_SUCCESS || d->pages == 0) {
		log_err("sheet: the PDF could not be finished");
		return -1;
	}
	*pdf = d->buf;
	*len = d->len;
	d->buf = NULL;
	d->len = d->cap = 0;
	return 0;
}
