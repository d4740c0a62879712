/*
 * tlv.c: strict BER-TLV parsing and building for PIV data (SP 800-73-4 part 2 uses
 * BER-TLV for every object and for GENERAL AUTHENTICATE templates).
 *
 * The parser is written for hostile input: every read is bounded by the caller's length,
 * indefinite lengths (80) and length fields longer than two bytes are refused, and tags
 * longer than three bytes are refused, since PIV defines none.
 */
#include "tlv.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static size_t tlv_tag_size(uint32_t tag)
{
	if (tag > 0xFFFF)
		return 3;
	if (tag > 0xFF)
		return 2;
	return 1;
}

int tlv_parse(const uint8_t *buf, size_t len, struct tlv *out, size_t *used)
{
	size_t i = 0, vlen;
	uint32_t tag;

	if (!buf || len < 2)
		return -1;
	tag = buf[i++];
	if ((tag & 0x1F) == 0x1F) {
		/* Multi-byte tag: subsequent bytes continue while bit 8 is set. */
		do {
			if (i >= len || i >= 3)
				return -1;
			tag = tag << 8 | buf[i];
		} while (buf[i++] & 0x80);
	}
	if (i >= len)
		return -1;
	if (buf[i] < 0x80) {
		vlen = buf[i++];
	} else if (buf[i] == 0x81) {
		if (len - i < 2)
			return -1;
		vlen = buf[i + 1];
		i += 2;
	} else if (buf[i] == 0x82) {
		if (len - i < 3)
			return -1;
		vlen = (size_t)buf[i + 1] << 8 | buf[i + 2];
		i += 3;
	} else {
		return -1;
	}
	if (vlen > len - i)
		return -1;
	out->tag = tag;
	out->val = buf + i;
	out->len = vlen;
	if (used)
		*used = i + vlen;
	return 0;
}

int tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *out)
{
	size_t off = 0, used;
	struct tlv t;

	while (off < len) {
		if (tlv_parse(buf + off, len - off, &t, &used) < 0)
			return -1;
		if (t.tag == tag) {
			*out = t;
			return 0;
		}
		off += used;
	}
	return -1;
}

int tlv_check_all(const uint8_t *buf, size_t len)
{
	size_t off = 0, used;
	struct tlv t;

	while (off < len) {
		if (tlv_parse(buf + off, len - off, &t, &used) < 0)
			return -1;
		off += used;
	}
	return 0;
}

size_t tlv_put_len(uint8_t *out, size_t len)
{
	if (len < 0x80) {
		out[0] = (uint8_t)len;
		return 1;
	}
	if (len <= 0xFF) {
		out[0] = 0x81;
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= TLV_MAX_LEN) {
		out[0] = 0x82;
		out[1] = (uint8_t)(len >> 8);
		out[2] = (uint8_t)len;
		return 3;
	}
	return 0;
}

size_t tlv_size(uint32_t tag, size_t len)
{
	uint8_t l[3];
	return tlv_tag_size(tag) + tlv_put_len(l, len) + len;
}

void tlv_buf_init(tlv_buf_t *b)
{
	memset(b, 0, sizeof *b);
}

void tlv_buf_raw(tlv_buf_t *b, const void *p, size_t n)
{
	uint8_t *nd;
	size_t ncap;

	if (b->failed || n == 0)
		return;
	if (n > TLV_MAX_LEN * 2 || b->len + n > TLV_MAX_LEN * 2) {
		b->failed = 1;
		return;
	}
	if (b->len + n > b->cap) {
		/* Grow by hand so the old copy can be wiped: values may be keys. */
		ncap = b->cap ? b->cap * 2 : 256;
		while (ncap < b->len + n)
			ncap *= 2;
		nd = xmalloc(ncap);
		if (b->len)
			memcpy(nd, b->data, b->len);
		if (b->data) {
			OPENSSL_cleanse(b->data, b->cap);
			free(b->data);
		}
		b->data = nd;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void tlv_buf_put(tlv_buf_t *b, uint32_t tag, const void *p, size_t n)
{
	uint8_t hdr[6];
	size_t h = 0, ts = tlv_tag_size(tag), ls;

	for (size_t i = ts; i > 0; i--)
		hdr[h++] = (uint8_t)(tag >> (8 * (i - 1)));
	ls = tlv_put_len(hdr + h, n);
	if (ls == 0) {
		b->failed = 1;
		return;
	}
	tlv_buf_raw(b, hdr, h + ls);
	tlv_buf_raw(b, p, n);
}

void tlv_buf_wrap(tlv_buf_t *b, uint32_t tag, const tlv_buf_t *inner)
{
	if (inner->failed) {
		b->failed = 1;
		return;
	}
	tlv_buf_put(b, tag, inner->data, inner->len);
}

void tlv_buf_free(tlv_buf_t *b)
{
	if (b->data) {
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof *b);
}
