/*
 * tlv.h: BER-TLV as PIV uses it: tags of one to three bytes (7C, 7F 49, 5F C1 02),
 * lengths in short form or 81 xx / 82 xx xx, values up to 65535 bytes.
 *
 * Parsing never reads past the buffer it is given and rejects any length that does not
 * fit, so card answers (and fuzzed input) can be fed to it untrusted. Building goes into
 * a growable buffer that remembers its first failure, so a sequence of puts is checked
 * once at the end.
 */
#ifndef CS_TLV_H
#define CS_TLV_H

#include <stddef.h>
#include <stdint.h>

#define TLV_MAX_LEN 65535u

struct tlv {
	uint32_t tag;		/* the tag's bytes, big-endian: 0x5FC102 */
	const uint8_t *val;	/* points into the parsed buffer */
	size_t len;
};

/* Parse one TLV at BUF; *used gets the bytes it spans. 0, or -1 if malformed or truncated. */
int tlv_parse(const uint8_t *buf, size_t len, struct tlv *out, size_t *used);
/* Find TAG among the TLVs that exactly fill BUF (one level, no descent). 0 found, -1 not
 * found or any element malformed. */
int tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *out);
/* Check that BUF is exactly a sequence of well-formed TLVs. 0/-1. */
int tlv_check_all(const uint8_t *buf, size_t len);
/* Encode LEN as a BER length into OUT (3 bytes room). Returns bytes written, 0 if > 65535. */
size_t tlv_put_len(uint8_t *out, size_t len);
/* Bytes a TLV with TAG and a LEN-byte value takes. */
size_t tlv_size(uint32_t tag, size_t len);

typedef struct tlv_buf {
	uint8_t *data;
	size_t len, cap;
	int failed;		/* set on the first overflow; later puts do nothing */
} tlv_buf_t;

/* An empty buffer (no allocation until the first put). */
void tlv_buf_init(tlv_buf_t *b);
/* Append raw bytes. */
void tlv_buf_raw(tlv_buf_t *b, const void *p, size_t n);
/* Append TAG, the length of N, and the N bytes at P. */
void tlv_buf_put(tlv_buf_t *b, uint32_t tag, const void *p, size_t n);
/* Append one TLV whose value is the whole of INNER. */
void tlv_buf_wrap(tlv_buf_t *b, uint32_t tag, const tlv_buf_t *inner);
/* Wipe and free the contents (values may hold secrets). */
void tlv_buf_free(tlv_buf_t *b);

#endif
