/*
 * ctl_report_pdf.c: the report as a printable A4 PDF (see ctl_report.c), drawn with cairo
 * and pango like the notifier's sheets: millimetre coordinates, pango resolution set so
 * font sizes stay in points, fonts embedded as subsets so pdftotext reads the Chinese back,
 * values laid out as plain text (an officer id cannot change the layout). One table: the
 * item's label and total in bold, its breakdown indented below; a new page when the
 * table reaches the foot, with the title repeated and the page number at the bottom.
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "pagetext.h"
#include "util.h"

#define PAGE_W 210.0
#define PAGE_H 297.0
#define MM_TO_PT (72.0 / 25.4)
#define ROW_H 6.0
#define TOP 42.0
#define FOOT 280.0

struct report_pdf {
	cairo_t *cr;
	const char *family;
	int page;
};

static void pdf_text(struct report_pdf *d, double x, double y, double w, double size, int bold,
    PangoAlignment align, const char *text)
{
	pagetext_draw(d->cr, d->family, x, y, w, size, bold, align, PAGETEXT_ELLIPSIZE, text);
}

static void pdf_rule(cairo_t *cr, double y, double width, double grey)
{
	cairo_set_source_rgb(cr, grey, grey, grey);
	cairo_set_line_width(cr, width);
	cairo_move_to(cr, 20, y);
	cairo_line_to(cr, PAGE_W - 20, y);
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
}

/* The title, the period and the column heads; returns where the rows start. */
static double pdf_head(struct report_pdf *d, const struct ctl_report *r, int zh)
{
	char buf[160];

	snprintf(buf, sizeof buf, "%s　%s", r->monthly ? "每月作業報表" : "每日作業報表",
	    r->monthly ? "Monthly report" : "Daily report");
	pdf_text(d, 20, 14, 170, 16, 1, PANGO_ALIGN_LEFT, buf);
	snprintf(buf, sizeof buf, "%s %s　（UTC）　憑證註冊中心 Certificate Registration Authority",
	    zh ? "期間" : "Period", r->period);
	pdf_text(d, 20, 23, 170, 9, 0, PANGO_ALIGN_LEFT, buf);
	pdf_rule(d->cr, 30, 0.4, 0);
	pdf_text(d, 20, 33, 110, 8.5, 1, PANGO_ALIGN_LEFT, zh ? "項目" : "Item");
	pdf_text(d, 110, 33, 50, 8.5, 1, PANGO_ALIGN_LEFT, zh ? "承辦人員／原因／類別" : "Officer / reason / kind");
	pdf_text(d, 160, 33, 30, 8.5, 1, PANGO_ALIGN_RIGHT, zh ? "件數" : "Count");
	pdf_rule(d->cr, 39, 0.2, 0.3);
	return TOP;
}

static void pdf_foot(struct report_pdf *d)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%d", d->page);
	cairo_set_source_rgb(d->cr, 0.4, 0.4, 0.4);
	pdf_text(d, 20, PAGE_H - 12, 170, 7, 0, PANGO_ALIGN_CENTER, buf);
	cairo_set_source_rgb(d->cr, 0, 0, 0);
}

int ctl_report_pdf(const struct ctl_report *r, int zh, const char *font, const char *path)
{
	cairo_surface_t *sf = cairo_pdf_surface_create(path, PAGE_W * MM_TO_PT, PAGE_H * MM_TO_PT);
	struct report_pdf d = { NULL, font && *font ? font : "WenQuanYi Micro Hei", 1 };
	double y;
	char num[32];
	int rc = -1;

	if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
		log_err("report: cannot create %s", path);
		goto out;
	}
	cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR, "ra-ctl report");
	cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_TITLE, r->period);
	d.cr = cairo_create(sf);
	cairo_scale(d.cr, MM_TO_PT, MM_TO_PT);
	y = pdf_head(&d, r, zh);
	for (int i = 0; i < r->nrows; i++) {
		const struct ctl_report_row *row = &r->rows[i];
		int total = !*row->detail;

		if (y + ROW_H > FOOT) {
			pdf_foot(&d);
			cairo_show_page(d.cr);
			d.page++;
			y = pdf_head(&d, r, zh);
		}
		if (total && i > 0)
			pdf_rule(d.cr, y - 0.8, 0.1, 0.7);
		snprintf(num, sizeof num, "%lld", row->count);
		if (total)
			pdf_text(&d, 20, y, 88, 9.5, 1, PANGO_ALIGN_LEFT, zh ? row->zh : row->en);
		pdf_text(&d, 110, y, 48, 9, 0, PANGO_ALIGN_LEFT, total ? "" : row->detail);
		pdf_text(&d, 160, y, 30, 9.5, total, PANGO_ALIGN_RIGHT, num);
		y += ROW_H;
	}
	pdf_foot(&d);
	cairo_show_page(d.cr);
	if (cairo_status(d.cr) != CAIRO_STATUS_SUCCESS) {
		log_err("report: cairo: %s", cairo_status_to_string(cairo_status(d.cr)));
		goto out;
	}
	rc = 0;
out:
	if (d.cr)
		cairo_destroy(d.cr);
	cairo_surface_finish(sf);
	if (rc == 0 && cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
		log_err("report: cannot write %s", path);
		rc = -1;
	}
	cairo_surface_destroy(sf);
	return rc;
}
