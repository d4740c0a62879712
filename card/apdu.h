/*
 * apdu.h: the PIV command headers as constant templates, and the one function that moves
 * a command to the card and its answer back.
 *
 * apdu_transfer() hides ISO 7816-4 transport details from the PIV layer: command chaining
 * (CLA bit 0x10) for data over 255 bytes, GET RESPONSE loops on 61 xx, and one retry with
 * the right Le on 6C xx. It talks to the card through an apdu_xmit_fn, which is PC/SC in
 * the program and a scripted fake in unit tests.
 */
#ifndef CS_APDU_H
#define CS_APDU_H

#include <stddef.h>
#include <stdint.h>

#include "rc.h"

/* CLA INS P1 P2. P1/P2 marked "var" are filled in by the caller from a copy. */
typedef uint8_t apdu_hdr_t[4];

extern const apdu_hdr_t APDU_SELECT;		/* 00 A4 04 00 */
extern const apdu_hdr_t APDU_GET_RESPONSE;	/* 00 C0 00 00 */
extern const apdu_hdr_t APDU_VERIFY;		/* 00 20 00 var(key ref) */
extern const apdu_hdr_t APDU_CHANGE_REF;	/* 00 24 00 var(key ref) */
extern const apdu_hdr_t APDU_RESET_RETRY;	/* 00 2C 00 80 */
extern const apdu_hdr_t APDU_GEN_AUTH;		/* 00 87 var(alg) var(key ref) */
extern const apdu_hdr_t APDU_GEN_ASYM;		/* 00 47 00 var(slot) */
extern const apdu_hdr_t APDU_GET_DATA;		/* 00 CB 3F FF */
extern const apdu_hdr_t APDU_PUT_DATA;		/* 00 DB 3F FF */
extern const apdu_hdr_t APDU_SET_MGMKEY;	/* 00 FF FF FF (YubiKey extension) */
extern const apdu_hdr_t APDU_GET_SERIAL;	/* 00 F8 00 00 (YubiKey extension) */
extern const apdu_hdr_t APDU_GET_VERSION;	/* 00 FD 00 00 (YubiKey extension) */
extern const apdu_hdr_t APDU_RESET;		/* 00 FB 00 00 (YubiKey extension) */
extern const apdu_hdr_t APDU_SET_RETRIES;	/* 00 FA var(PIN) var(PUK) (YubiKey extension) */
extern const apdu_hdr_t APDU_METADATA;		/* 00 F7 00 var(key ref) (YubiKey extension) */
extern const apdu_hdr_t APDU_PIN_LOGOUT;	/* 00 20 FF 80: forget the PIN verification */

/* The PIV application identifier (NIST RID + PIX, no version), as SELECT sends it. */
extern const uint8_t PIV_AID[5];

#define APDU_SHORT_MAX 255	/* data bytes in one short command */
#define APDU_MAX_RSP 65536	/* most bytes apdu_transfer will gather */

/*
 * Send one raw command APDU and receive one raw response (data + SW1 SW2) into RSP of
 * capacity *RLEN; set *RLEN. Returns PIV_OK or a transport error.
 */
typedef piv_rc (*apdu_xmit_fn)(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *rsp,
    size_t *rlen);

/*
 * Encode a short APDU: HDR, Lc and DATA if DLEN > 0, then Le = 00 if WANT_LE. OUT must
 * hold 4 + 1 + DLEN + 1 bytes; DLEN <= 255. Returns the length written, 0 on bad input.
 */
size_t apdu_encode(const apdu_hdr_t hdr, const uint8_t *data, size_t dlen, int want_le,
    uint8_t *out, size_t cap);

/*
 * Send HDR with DATA (any length up to 65535, chained as needed) and collect the answer
 * into RSP (capacity *RLEN; set to the data length). *SW gets the final status word.
 * Returns PIV_OK when the exchange completed, whatever the status word; a transport
 * error, PIV_E_COMM for a malformed answer, or PIV_E_ARG if the answer would not fit.
 * RSP may be NULL when no data is expected. The command copies are wiped (they may hold
 * PINs or keys).
 */
piv_rc apdu_transfer(apdu_xmit_fn xmit, void *ctx, const apdu_hdr_t hdr, const uint8_t *data,
    size_t dlen, uint8_t *rsp, size_t *rlen, uint16_t *sw);

#endif
