/*
 * pagetext.h: one block of text on a printed page whose unit is the millimetre (the
 * password and PIN sheets, the rejection letters, the day's report).
 */
#ifndef RA_PAGETEXT_H
#define RA_PAGETEXT_H

#include <pango/pangocairo.h>

/* How a text longer than its width is laid out. */
enum pagetext_fit { PAGETEXT_WRAP, PAGETEXT_ELLIPSIZE };

/*
 * Draw TEXT at (X, Y) mm, W mm wide, in FAMILY at SIZE points, bold or not, aligned ALIGN;
 * FIT says whether a long text wraps (word, then character) or ends in an ellipsis.
 * Returns the height it took in mm, so callers can stack blocks.
 */
double pagetext_draw(cairo_t *cr, const char *family, double x, double y, double w, double size,
    int bold, PangoAlignment align, enum pagetext_fit fit, const char *text);

#endif
