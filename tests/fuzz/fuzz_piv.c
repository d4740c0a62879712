/*
 * fuzz_piv.c: libFuzzer target for card-station's PIV layer against a hostile card:
 * every answer comes from the input (a length byte, then that many bytes, per transmit,
 * as in fuzz_apdu.c), and the station reads what it reads from a card it is handed:
 * serial, version, PIN tries, CHUID, the signature certificate, a generated public key,
 * the management-key witness, and the card's classification. Nothing a card answers may
 * lead a read or write out of bounds.
 */
#include "../../card/piv.h"

#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
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
	if (n == 0xFF) {	/* long answer: two length bytes */
		if (c->end - c->p < 2)
			return PIV_E_COMM;
		n = (size_t)c->p[0] << 8 | c->p[1];
		c->p += 2;
	}
	if (n > (size_t)(c->end - c->p))
		n = (size_t)(c->end - c->p);
	if (n > *rlen)
		n = *rlen;
	memcpy(rsp, c->p, n);
	*rlen = n;
	c->p += n;
	return PIV_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct card c = { data, data + size, 0 };
	piv_t *p = NULL;
	uint32_t serial;
	uint8_t ver[3], witness[32], *obj = NULL;
	size_t len = 0;
	int tries;
	X509 *cert = NULL;
	EVP_PKEY *pub = NULL;
	enum piv_card_state state;

	if (piv_open_xmit(xmit, &c, "fuzz", &p) != PIV_OK)
		return 0;
	(void)piv_get_serial(p, &serial);
	(void)piv_get_version(p, ver);
	(void)piv_pin_tries(p, &tries);
	if (piv_read_object(p, PIV_OBJ_CHUID, &obj, &len) == PIV_OK)
		free(obj);
	if (piv_read_cert(p, PIV_SLOT_SIGN, &cert) == PIV_OK)
		X509_free(cert);
	if (piv_generate_key(p, PIV_SLOT_SIGN, PIV_ALG_RSA2048, &pub) == PIV_OK)
		EVP_PKEY_free(pub);
	(void)piv_mgm_witness(p, PIV_ALG_AES128, witness);
	(void)piv_classify(p, &state);
	piv_close(&p);
	return 0;
}
