/*
 * b64.h: base64 for binary values inside JSON payloads (sealed secrets, DER).
 */
#ifndef RA_B64_H
#define RA_B64_H

#include <stddef.h>
#include <stdint.h>

/* Encode LEN bytes; returns a malloc'd NUL-terminated string. */
char *b64_encode(const uint8_t *in, size_t len);
/* Decode strict base64 (no line breaks); malloc'd bytes in *out, or -1 if malformed. */
int b64_decode(const char *in, uint8_t **out, size_t *len);

#endif
