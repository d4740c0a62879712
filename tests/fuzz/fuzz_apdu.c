/*
 * fuzz_apdu.c: libFuzzer target for card-station's APDU response handling: a card that
 * answers with arbitrary responses (61 xx chains, 6C xx, short or empty answers).
 * The input is a sequence of responses, each a length byte and that many bytes, handed
 * out one per transmit; apdu_transfer() must never write past RSP or loop forever.
 */
#include "../../card/apdu.h"

#include <stdint.h>
#include <string.h>

struct card {
	const uint8_t *p, *end;
	int calls;
};

static piv_rc xmit(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *rsp, size_t *rlen)
{
	struct card *c = ctx;
	size_t n;
	(void)cmd;
	(void)clen;
	if (c->p >= c->end || ++c->calls > 4096)
		return PIV_E_COMM;
	n = *c->p++;
	if (n > (size_t)(c->end - c->p))
		n = (size_t)(c->end - c->p);
	if (n > *rlen)
		return PIV_E_COMM;
	memcpy(rsp, c->p, n);
	*rlen = n;
	c->p += n;
	return PIV_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rsp[APDU_MAX_RSP];
	static uint8_t big[300];
	struct card c = { data, data + size, 0 };
	size_t rlen;
	uint16_t sw;

	if (size < 1)
		return 0;
	/* the first byte picks the receive buffer: full, small, or none */
	rlen = data[0] % 3 == 0 ? sizeof rsp : data[0] % 3 == 1 ? 16 : 0;
	c.p++;
	(void)apdu_transfer(xmit, &c, APDU_GET_DATA, big, data[0] & 0x80 ? sizeof big : 5,
	    rlen ? rsp : NULL, &rlen, &sw);
	return 0;
}
