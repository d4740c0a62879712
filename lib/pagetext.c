/*
 * pagetext.c: see pagetext.h. Pages are drawn in millimetres (cairo's unit scaled so),
 * so the font resolution is 25.4 dots per inch and hinting is off: hinted metrics would
 * round advances to whole device units, which are millimetres here.
 */
#include "pagetext.h"

double pagetext_draw(cairo_t *cr, const char *family, double x, double y, double w, double size,
    int bold, PangoAlignment align, enum pagetext_fit fit, const char *text)
{
	PangoLayout *lay = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_new();
	PangoContext *pc = pango_layout_get_context(lay);
	cairo_font_options_t *fo = cairo_font_options_create();
	int pw, ph;

	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	pango_cairo_context_set_font_options(pc, fo);
	cairo_font_options_destroy(fo);
	pango_cairo_context_set_resolution(pc, 25.4);
	pango_layout_context_changed(lay);
	pango_font_description_set_family(fd, family);
	pango_font_description_set_size(fd, (gint)(size * PANGO_SCALE));
	pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(lay, fd);
	pango_layout_set_width(lay, (int)(w * PANGO_SCALE));
	if (fit == PAGETEXT_ELLIPSIZE)
		pango_layout_set_ellipsize(lay, PANGO_ELLIPSIZE_END);
	else
		pango_layout_set_wrap(lay, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(lay, align);
	pango_layout_set_text(lay, text, -1);
	cairo_move_to(cr, x, y);
	pango_cairo_show_layout(cr, lay);
	pango_layout_get_size(lay, &pw, &ph);
	pango_font_description_free(fd);
	g_object_unref(lay);
	return (double)ph / PANGO_SCALE;
}
