/*
 * captcha.c: the login form's verification code, drawn with cairo as a PNG: each
 * character in its own size, slant and angle over crossing lines and dots, so that a
 * program must work to read it while a person need not.
 *
 * Rules: the code comes from RAND_bytes over an alphabet without look-alikes (no 0/O,
 * 1/I/L); it is drawn once when made and only its hash is kept (session.c), so the store
 * never holds the code in clear.
 */
#include "web.h"
#include "util.h"

#include <cairo.h>
#include <math.h>
#include <openssl/rand.h>
#include <string.h>

#define CAPTCHA_W 180
#define CAPTCHA_H 60

static const char captcha_alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

void captcha_code(char out[CAPTCHA_LEN + 1])
{
	uint8_t r[CAPTCHA_LEN];
	size_t n = sizeof captcha_alphabet - 1;

	RAND_bytes(r, sizeof r);
	for (int i = 0; i < CAPTCHA_LEN; i++)
		out[i] = captcha_alphabet[r[i] % n];	/* 256 % 31 bias is immaterial for a one-try code */
	out[CAPTCHA_LEN] = '\0';
}

/* A random number in [0, 1). */
static double rnd(void)
{
	uint32_t v;
	RAND_bytes((uint8_t *)&v, sizeof v);
	return v / 4294967296.0;
}

struct png_buf {
	uint8_t *data;
	size_t len;
};

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct png_buf *b = closure;
	b->data = xrealloc(b->data, b->len + len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return CAIRO_STATUS_SUCCESS;
}

uint8_t *captcha_png(const char *code, size_t *len)
{
	cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, CAPTCHA_W, CAPTCHA_H);
	cairo_t *cr = cairo_create(sf);
	struct png_buf b = { NULL, 0 };
	size_t n = strlen(code);

	cairo_set_source_rgb(cr, 0.96, 0.95, 0.90);
	cairo_paint(cr);
	for (int i = 0; i < 6; i++) {
		cairo_set_source_rgb(cr, 0.3 + 0.5 * rnd(), 0.3 + 0.5 * rnd(), 0.3 + 0.5 * rnd());
		cairo_set_line_width(cr, 1 + 1.5 * rnd());
		cairo_move_to(cr, 0, CAPTCHA_H * rnd());
		cairo_curve_to(cr, CAPTCHA_W * 0.3, CAPTCHA_H * rnd(), CAPTCHA_W * 0.6, CAPTCHA_H * rnd(),
		    CAPTCHA_W, CAPTCHA_H * rnd());
		cairo_stroke(cr);
	}
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	for (size_t i = 0; i < n; i++) {
		char ch[2] = { code[i], '\0' };
		cairo_save(cr);
		cairo_translate(cr, 14 + i * (CAPTCHA_W - 24) / (double)n, 40 + 8 * (rnd() - 0.5));
		cairo_rotate(cr, (rnd() - 0.5) * 0.7);
		cairo_set_font_size(cr, 28 + 8 * rnd());
		cairo_set_source_rgb(cr, 0.1 + 0.3 * rnd(), 0.1 + 0.3 * rnd(), 0.2 + 0.4 * rnd());
		cairo_show_text(cr, ch);
		cairo_restore(cr);
	}
	for (int i = 0; i < 120; i++) {
		cairo_set_source_rgb(cr, rnd(), rnd(), rnd());
		cairo_arc(cr, CAPTCHA_W * rnd(), CAPTCHA_H * rnd(), 0.8, 0, 2 * M_PI);
		cairo_fill(cr);
	}
	cairo_destroy(cr);
	if (cairo_surface_write_to_png_stream(sf, png_write, &b) != CAIRO_STATUS_SUCCESS) {
		free(b.data);
		b.data = NULL;
	}
	cairo_surface_destroy(sf);
	*len = b.len;
	return b.data;
}
