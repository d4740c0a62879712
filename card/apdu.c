/*
 * apdu.c: the templates of every command the card station sends, and the transfer loop.
 *
 * Templates are constant so that the set of commands the station can send is visible in
 * one place; callers copy one and fill in P1/P2. The transfer loop is the only code that
 * knows about chaining and response continuation; everything above it sees one command,
 * one answer, one status word.
 */
#include "apdu.h"

#include <openssl/crypto.h>
#include <string.h>

const apdu_hdr_t APDU_SELECT = { 0x00, 0xA4, 0x04, 0x00 };
const apdu_hdr_t APDU_GET_RESPONSE = { 0x00, 0xC0, 0x00, 0x00 };
const apdu_hdr_t APDU_VERIFY = { 0x00, 0x20, 0x00, 0x80 };
const apdu_hdr_t APDU_CHANGE_REF = { 0x00, 0x24, 0x00, 0x80 };
const apdu_hdr_t APDU_RESET_RETRY = { 0x00, 0x2C, 0x00, 0x80 };
const apdu_hdr_t APDU_GEN_AUTH = { 0x00, 0x87, 0x00, 0x00 };
const apdu_hdr_t APDU_GEN_ASYM = { 0x00, 0x47, 0x00, 0x00 };
const apdu_hdr_t APDU_GET_DATA = { 0x00, 0xCB, 0x3F, 0xFF };
const apdu_hdr_t APDU_PUT_DATA = { 0x00, 0xDB, 0x3F, 0xFF };
const apdu_hdr_t APDU_SET_MGMKEY = { 0x00, 0xFF, 0xFF, 0xFF };
const apdu_hdr_t APDU_GET_SERIAL = { 0x00, 0xF8, 0x00, 0x00 };
const apdu_hdr_t APDU_GET_VERSION = { 0x00, 0xFD, 0x00, 0x00 };
const apdu_hdr_t APDU_RESET = { 0x00, 0xFB, 0x00, 0x00 };
const apdu_hdr_t APDU_SET_RETRIES = { 0x00, 0xFA, 0x00, 0x00 };
const apdu_hdr_t APDU_METADATA = { 0x00, 0xF7, 0x00, 0x00 };
const apdu_hdr_t APDU_PIN_LOGOUT = { 0x00, 0x20, 0xFF, 0x80 };

const uint8_t PIV_AID[5] = { 0xA0, 0x00, 0x00, 0x03, 0x08 };

/* Raw response room: a short answer is at most 256 data bytes and SW1 SW2. */
#define RAW_RSP 258

size_t apdu_encode(const apdu_hdr_t hdr, const uint8_t *data, size_t dlen, int want_le,
    uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (dlen > APDU_SHORT_MAX || cap < 4 + (dlen ? 1 + dlen : 0) + (want_le ? 1 : 0))
		return 0;
	if (dlen && !data)
		return 0;
	memcpy(out, hdr, 4);
	n = 4;
	if (dlen) {
		out[n++] = (uint8_t)dlen;
		memcpy(out + n, data, dlen);
		n += dlen;
	}
	if (want_le)
		out[n++] = 0x00;
	return n;
}

/* One exchange; splits the raw answer into data (appended to RSP) and the status word. */
static piv_rc apdu_exchange(apdu_xmit_fn xmit, void *ctx, const uint8_t *cmd, size_t clen,
    uint8_t *rsp, size_t cap, size_t *have, uint16_t *sw)
{
	uint8_t raw[RAW_RSP];
	size_t rn = sizeof raw;
	piv_rc rc;

	rc = xmit(ctx, cmd, clen, raw, &rn);
	if (rc != PIV_OK)
		goto out;
	if (rn < 2 || rn > sizeof raw) {
		rc = PIV_E_COMM;
		goto out;
	}
	*sw = (uint16_t)(raw[rn - 2] << 8 | raw[rn - 1]);
	rn -= 2;
	if (rn) {
		if (!rsp || rn > cap - *have) {
			rc = PIV_E_ARG;
			goto out;
		}
		memcpy(rsp + *have, raw, rn);
		*have += rn;
	}
out:
	OPENSSL_cleanse(raw, sizeof raw);
	return rc;
}

piv_rc apdu_transfer(apdu_xmit_fn xmit, void *ctx, const apdu_hdr_t hdr, const uint8_t *data,
    size_t dlen, uint8_t *rsp, size_t *rlen, uint16_t *sw)
{
	uint8_t cmd[4 + 1 + APDU_SHORT_MAX + 1];
	apdu_hdr_t h;
	size_t cap = rlen ? *rlen : 0, have = 0, off = 0, chunk, clen;
	piv_rc rc = PIV_OK;
	int retried = 0, rounds = 0;

	if (dlen > 65535 || (dlen && !data) || (rsp && !rlen)) {
		rc = PIV_E_ARG;
		goto out;
	}
	if (!rsp)
		cap = 0;
	*sw = 0;
	/* Every chunk but the last goes with the chaining bit; the card answers 90 00. */
	while (dlen - off > APDU_SHORT_MAX) {
		memcpy(h, hdr, 4);
		h[0] |= 0x10;
		clen = apdu_encode(h, data + off, APDU_SHORT_MAX, 0, cmd, sizeof cmd);
		rc = apdu_exchange(xmit, ctx, cmd, clen, NULL, 0, &have, sw);
		if (rc != PIV_OK)
			goto out;
		if (*sw != 0x9000)
			goto out;
		off += APDU_SHORT_MAX;
	}
	chunk = dlen - off;
	clen = apdu_encode(hdr, chunk ? data + off : NULL, chunk, 1, cmd, sizeof cmd);
	for (;;) {
		rc = apdu_exchange(xmit, ctx, cmd, clen, rsp, cap, &have, sw);
		if (rc != PIV_OK)
			goto out;
		/* 6C xx: wrong Le; send the same command once more with the length asked for. */
		if ((*sw >> 8) == 0x6C && !retried) {
			cmd[clen - 1] = (uint8_t)(*sw & 0xFF);
			retried = 1;
			continue;
		}
		break;
	}
	/* 61 xx: more data waits; fetch it with GET RESPONSE until the card says done. */
	while ((*sw >> 8) == 0x61) {
		/* A card that never stops saying 61 xx must not hang the station. */
		if (++rounds > 512) {
			rc = PIV_E_COMM;
			goto out;
		}
		clen = apdu_encode(APDU_GET_RESPONSE, NULL, 0, 1, cmd, sizeof cmd);
		cmd[clen - 1] = (uint8_t)(*sw & 0xFF);
		rc = apdu_exchange(xmit, ctx, cmd, clen, rsp, cap, &have, sw);
		if (rc != PIV_OK)
			goto out;
	}
	if (rlen)
		*rlen = have;
out:
	OPENSSL_cleanse(cmd, sizeof cmd);
	return rc;
}
