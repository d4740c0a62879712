/*
 * derive.h: per-card secrets that are derived, never stored, and subscriber PINs.
 *
 * A card's management key and PUK are HKDF-SHA256 of the RA's card master key with the
 * card's serial number, under distinct labels, so any station holding the master key can
 * administer any card it personalized, and no database row holds a card secret. Subscriber
 * PINs are random (RAND_bytes, rejection sampling: no modulo bias) and refuse the obvious
 * ones (all one digit, a straight run up or down).
 */
#ifndef RA_DERIVE_H
#define RA_DERIVE_H

#include <stddef.h>
#include <stdint.h>

enum derive_mgm_alg { DERIVE_MGM_3DES = 0, DERIVE_MGM_AES128 = 1 };

#define DERIVE_MGM_MAX 24	/* 3DES key bytes; AES-128 uses 16 */
#define DERIVE_PUK_LEN 8
#define DERIVE_PIN_MIN 6
#define DERIVE_PIN_MAX 8

typedef struct derive derive_t;

/*
 * Load the master key from PATH: either 64 or more hex digits (whitespace around them
 * ignored) or at least 32 raw bytes. NULL on a missing, short or unreadable file (logged).
 */
derive_t *derive_new(const char *path);
/* The same from memory (copied); LEN >= 32. */
derive_t *derive_new_mem(const uint8_t *key, size_t len);
/* Wipe and free; accepts NULL and clears the pointer. */
void derive_destroy(derive_t **d);

/* Parse "3des" / "aes128"; -1 if neither. */
int derive_mgm_alg_parse(const char *s);
/* Key length of ALG: 24 or 16. */
size_t derive_mgm_len(enum derive_mgm_alg alg);

/*
 * The management key of card SERIAL into OUT (DERIVE_MGM_MAX bytes room); *len gets 24
 * (3DES, odd parity set, its three parts distinct) or 16 (AES-128). 0/-1.
 */
int derive_mgm_key(const derive_t *d, uint32_t serial, enum derive_mgm_alg alg, uint8_t *out,
    size_t *len);
/* The 8-digit PUK of card SERIAL, NUL-terminated into OUT (9 bytes). 0/-1. */
int derive_puk(const derive_t *d, uint32_t serial, char out[DERIVE_PUK_LEN + 1]);
/* The PUK of card SERIAL at VERSION (1: the one personalization sets, derive_puk; each
 * unlock moves the card to the next, under its own label). 0/-1. */
int derive_puk_version(const derive_t *d, uint32_t serial, int64_t version, char out[DERIVE_PUK_LEN + 1]);

/* The mutual-authentication challenge ra-cardkey gives card SERIAL for request RID (the
 * challenge job's id): LEN bytes (a cipher block) that only the master key's holder can
 * compute, the same each time it is asked, so the answer to it can be checked later
 * without keeping any state. 0/-1. */
int derive_challenge(const derive_t *d, uint32_t serial, const char *rid, uint8_t *out, size_t len);

/* A fresh random subscriber PIN of LEN digits (6..8) into OUT (LEN + 1 bytes). 0/-1. */
int derive_pin_generate(int len, char *out);
/* 1 if PIN is 6..8 digits and not all one digit nor a straight run; 0 otherwise. */
int derive_pin_acceptable(const char *pin);

#endif
