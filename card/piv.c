/*
 * piv.c: PIV commands over apdu_transfer(), each inside a PC/SC transaction.
 *
 * One function per card operation, named for it. Response data is parsed with tlv.c's
 * strict parser, so a confused or hostile card yields PIV_E_COMM, never a crash. Status
 * words become piv_rc through rc.c. Buffers that carried a PIN, PUK or key are wiped with
 * OPENSSL_cleanse on every path, and none of them is ever logged.
 */
#include "piv.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "apdu.h"
#include "log.h"
#include "tlv.h"
#include "util.h"

const uint8_t PIV_FACTORY_MGM[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};

#define PIV_RSP_MAX 16384	/* larger than any object the card stores */

struct piv {
	pcsc_card_t *card;	/* NULL for a card reached through piv_open_xmit() */
	apdu_xmit_fn xmit;
	void *xctx;
	char *name;
	piv_pin_blocked_fn pin_blocked;	/* told of each PIN try answered "blocked" */
	void *pin_blocked_arg;
};

static const char *const state_names[] = {
	[PIV_STATE_BLANK] = "blank",
	[PIV_STATE_PERSONALIZED] = "personalized",
	[PIV_STATE_LOCKED] = "locked",
	[PIV_STATE_SET_ASIDE] = "set-aside",
};

const char *piv_state_name(enum piv_card_state s)
{
	if ((unsigned)s >= ARRAY_LEN(state_names))
		return "unknown";
	return state_names[s];
}

piv_rc piv_begin(piv_t *p)
{
	piv_rc rc;

	if (!p->card)
		return PIV_OK;
	rc = pcsc_begin(p->card);
	if (rc != PIV_OK)
		return rc;
	if (pcsc_was_reset(p->card)) {
		log_info("%s: card was reset by another program; selecting PIV again", p->name);
		rc = piv_select(p);
		if (rc != PIV_OK)
			pcsc_end(p->card);
	}
	return rc;
}

piv_rc piv_end(piv_t *p)
{
	if (!p->card)
		return PIV_OK;
	return pcsc_end(p->card);
}

/* One command inside its own (nested) transaction. */
static piv_rc piv_xfer(piv_t *p, const apdu_hdr_t hdr, const uint8_t *data, size_t dlen,
    uint8_t *rsp, size_t *rlen, uint16_t *sw)
{
	piv_rc rc = piv_begin(p);

	if (rc != PIV_OK)
		return rc;
	rc = apdu_transfer(p->xmit, p->xctx, hdr, data, dlen, rsp, rlen, sw);
	piv_end(p);
	return rc;
}

/* As piv_xfer, and map the status word too. */
static piv_rc piv_cmd(piv_t *p, const apdu_hdr_t hdr, const uint8_t *data, size_t dlen,
    uint8_t *rsp, size_t *rlen)
{
	uint16_t sw = 0;
	piv_rc rc = piv_xfer(p, hdr, data, dlen, rsp, rlen, &sw);

	if (rc != PIV_OK)
		return rc;
	return piv_rc_from_sw(sw);
}

piv_rc piv_select(piv_t *p)
{
	uint8_t rsp[256];
	size_t rlen = sizeof rsp;
	piv_rc rc;

	rc = piv_cmd(p, APDU_SELECT, PIV_AID, sizeof PIV_AID, rsp, &rlen);
	if (rc != PIV_OK)
		log_debug("%s: SELECT PIV: %s", p->name, piv_strerror(rc));
	return rc;
}

piv_rc piv_open(pcsc_t *pc, const char *reader, piv_t **out)
{
	piv_t *p = xcalloc(1, sizeof *p);
	piv_rc rc;

	*out = NULL;
	p->name = xstrdup(reader);
	rc = pcsc_connect(pc, reader, &p->card);
	if (rc != PIV_OK)
		goto out;
	p->xmit = pcsc_transmit;
	p->xctx = p->card;
	rc = piv_select(p);
	if (rc != PIV_OK)
		goto out;
	*out = p;
	p = NULL;
out:
	piv_close(&p);
	return rc;
}

piv_rc piv_open_xmit(apdu_xmit_fn xmit, void *ctx, const char *name, piv_t **out)
{
	piv_t *p = xcalloc(1, sizeof *p);

	p->xmit = xmit;
	p->xctx = ctx;
	p->name = xstrdup(name);
	*out = p;
	return PIV_OK;
}

void piv_close(piv_t **pp)
{
	if (!pp || !*pp)
		return;
	pcsc_disconnect(&(*pp)->card);
	free((*pp)->name);
	free(*pp);
	*pp = NULL;
}

const char *piv_reader(const piv_t *p)
{
	return p->name;
}

const uint8_t *piv_atr(const piv_t *p, size_t *len)
{
	if (!p->card) {
		*len = 0;
		return NULL;
	}
	return pcsc_card_atr(p->card, len);
}

piv_rc piv_get_serial(piv_t *p, uint32_t *serial)
{
	uint8_t rsp[16];
	size_t rlen = sizeof rsp;
	piv_rc rc = piv_cmd(p, APDU_GET_SERIAL, NULL, 0, rsp, &rlen);

	if (rc != PIV_OK)
		return rc;
	if (rlen != 4)
		return PIV_E_COMM;
	*serial = (uint32_t)rsp[0] << 24 | (uint32_t)rsp[1] << 16 | (uint32_t)rsp[2] << 8 | rsp[3];
	return PIV_OK;
}

piv_rc piv_get_version(piv_t *p, uint8_t ver[3])
{
	uint8_t rsp[16];
	size_t rlen = sizeof rsp;
	piv_rc rc = piv_cmd(p, APDU_GET_VERSION, NULL, 0, rsp, &rlen);

	if (rc != PIV_OK)
		return rc;
	if (rlen != 3)
		return PIV_E_COMM;
	memcpy(ver, rsp, 3);
	return PIV_OK;
}

piv_rc piv_set_pin_retries(piv_t *p, int pin_tries, int puk_tries)
{
	apdu_hdr_t h;

	if (pin_tries < 1 || pin_tries > 15 || puk_tries < 1 || puk_tries > 15)
		return PIV_E_ARG;
	memcpy(h, APDU_SET_RETRIES, 4);
	h[2] = (uint8_t)pin_tries;
	h[3] = (uint8_t)puk_tries;
	return piv_cmd(p, h, NULL, 0, NULL, NULL);
}

piv_rc piv_pin_logout(piv_t *p)
{
	return piv_cmd(p, APDU_PIN_LOGOUT, NULL, 0, NULL, NULL);
}

piv_rc piv_pin_metadata(piv_t *p, uint8_t ref, int *max, int *left)
{
	uint8_t rsp[64];
	size_t rlen = sizeof rsp;
	struct tlv t;
	apdu_hdr_t h;
	piv_rc rc;

	memcpy(h, APDU_METADATA, 4);
	h[3] = ref;
	if ((rc = piv_cmd(p, h, NULL, 0, rsp, &rlen)) != PIV_OK)
		return rc;
	/* Tag 06: the retry limit, then the tries left. */
	if (tlv_find(rsp, rlen, 0x06, &t) < 0 || t.len != 2)
		return PIV_E_COMM;
	*max = t.val[0];
	*left = t.val[1];
	return PIV_OK;
}

int piv_pin_valid(const char *pin)
{
	size_t n = pin ? strlen(pin) : 0;

	if (n < 6 || n > 8)
		return 0;
	return strspn(pin, "0123456789") == n;
}

/* PIN or PUK into its 8-byte reference data form: the digits, then FF padding. */
static void piv_pad_pin(const char *pin, uint8_t out[8])
{
	size_t n = strlen(pin);

	memset(out, 0xFF, 8);
	memcpy(out, pin, n);
}

void piv_on_pin_blocked(piv_t *p, piv_pin_blocked_fn fn, void *arg)
{
	p->pin_blocked = fn;
	p->pin_blocked_arg = arg;
}

/* Map a PIN-type answer to reference REF: 63 Cx gives the tries left, 69 83 zero. */
static piv_rc piv_pin_result(piv_t *p, uint8_t ref, piv_rc rc, uint16_t sw, int *tries)
{
	int t = piv_sw_tries(sw);

	if (rc != PIV_OK)
		return rc;
	if (ref == PIV_REF_PIN && (sw == 0x63C0 || sw == 0x6983) && p->pin_blocked)
		p->pin_blocked(p->pin_blocked_arg, p->name);
	if (tries && t >= 0)
		*tries = t;
	if (tries && sw == 0x6983)
		*tries = 0;
	return piv_rc_from_sw(sw);
}

piv_rc piv_pin_tries(piv_t *p, int *tries)
{
	apdu_hdr_t h;
	uint16_t sw = 0;
	piv_rc rc;

	memcpy(h, APDU_VERIFY, 4);
	h[3] = PIV_REF_PIN;
	rc = piv_xfer(p, h, NULL, 0, NULL, NULL, &sw);
	if (rc != PIV_OK)
		return rc;
	if (sw == 0x9000) {
		*tries = -1;
		return PIV_OK;
	}
	if (sw == 0x6983) {
		*tries = 0;
		return PIV_OK;
	}
	if (piv_sw_tries(sw) >= 0) {
		*tries = piv_sw_tries(sw);
		return PIV_OK;
	}
	return piv_rc_from_sw(sw);
}

piv_rc piv_verify_pin(piv_t *p, const char *pin, int *tries)
{
	uint8_t data[8];
	apdu_hdr_t h;
	uint16_t sw = 0;
	piv_rc rc;

	if (!piv_pin_valid(pin))
		return PIV_E_ARG;
	memcpy(h, APDU_VERIFY, 4);
	h[3] = PIV_REF_PIN;
	piv_pad_pin(pin, data);
	rc = piv_xfer(p, h, data, sizeof data, NULL, NULL, &sw);
	OPENSSL_cleanse(data, sizeof data);
	return piv_pin_result(p, PIV_REF_PIN, rc, sw, tries);
}

/* CHANGE REFERENCE DATA for key reference REF (PIN or PUK). */
static piv_rc piv_change_ref(piv_t *p, uint8_t ref, const char *old, const char *new_,
    int *tries)
{
	uint8_t data[16];
	apdu_hdr_t h;
	uint16_t sw = 0;
	piv_rc rc;

	if (!piv_pin_valid(old) || !piv_pin_valid(new_))
		return PIV_E_ARG;
	memcpy(h, APDU_CHANGE_REF, 4);
	h[3] = ref;
	piv_pad_pin(old, data);
	piv_pad_pin(new_, data + 8);
	rc = piv_xfer(p, h, data, sizeof data, NULL, NULL, &sw);
	OPENSSL_cleanse(data, sizeof data);
	return piv_pin_result(p, ref, rc, sw, tries);
}

piv_rc piv_change_pin(piv_t *p, const char *old_pin, const char *new_pin, int *tries)
{
	return piv_change_ref(p, PIV_REF_PIN, old_pin, new_pin, tries);
}

piv_rc piv_change_puk(piv_t *p, const char *old_puk, const char *new_puk, int *tries)
{
	return piv_change_ref(p, PIV_REF_PUK, old_puk, new_puk, tries);
}

piv_rc piv_unblock_pin(piv_t *p, const char *puk, const char *new_pin, int *tries)
{
	uint8_t data[16];
	uint16_t sw = 0;
	piv_rc rc;

	if (!piv_pin_valid(puk) || !piv_pin_valid(new_pin))
		return PIV_E_ARG;
	piv_pad_pin(puk, data);
	piv_pad_pin(new_pin, data + 8);
	rc = piv_xfer(p, APDU_RESET_RETRY, data, sizeof data, NULL, NULL, &sw);
	OPENSSL_cleanse(data, sizeof data);
	return piv_pin_result(p, PIV_REF_PUK, rc, sw, tries);
}

/* The block cipher of a management key algorithm, and its key length. */
static const EVP_CIPHER *piv_mgm_cipher(enum piv_alg alg, size_t *klen)
{
	switch (alg) {
	case PIV_ALG_3DES:
		*klen = 24;
		return EVP_des_ede3_ecb();
	case PIV_ALG_AES128:
		*klen = 16;
		return EVP_aes_128_ecb();
	case PIV_ALG_AES192:
		*klen = 24;
		return EVP_aes_192_ecb();
	case PIV_ALG_AES256:
		*klen = 32;
		return EVP_aes_256_ecb();
	default:
		return NULL;
	}
}

/* One ECB block with KEY: encrypt if ENC, else decrypt. 0/-1. */
static int piv_block(const EVP_CIPHER *c, const uint8_t *key, int enc, const uint8_t *in,
    uint8_t *out, int bs)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = ctx && EVP_CipherInit_ex(ctx, c, NULL, key, NULL, enc) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 && EVP_CipherUpdate(ctx, out, &n, in, bs) == 1 &&
	    n == bs;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

size_t piv_mgm_block(enum piv_alg alg)
{
	size_t klen = 0;
	const EVP_CIPHER *c = piv_mgm_cipher(alg, &klen);
	return c ? (size_t)EVP_CIPHER_get_block_size(c) : 0;
}

/* One GENERAL AUTHENTICATE step with the management key of ALG: send 7C{IN}; *OUT gets
 * the answer's 7C element TAG, which must be LEN bytes. A refusal is PIV_E_AUTH (or
 * PIV_E_NOT_SUPPORTED for an algorithm the card lacks). */
static piv_rc piv_mgm_step(piv_t *p, enum piv_alg alg, const uint8_t *in, size_t inlen, uint8_t tag,
    uint8_t *out, size_t len)
{
	uint8_t rsp[64];
	size_t rlen = sizeof rsp;
	struct tlv t, inner;
	apdu_hdr_t h;
	uint16_t sw = 0;
	piv_rc rc;

	memcpy(h, APDU_GEN_AUTH, 4);
	h[2] = (uint8_t)alg;
	h[3] = PIV_REF_MGM;
	rc = piv_xfer(p, h, in, inlen, rsp, &rlen, &sw);
	if (rc == PIV_OK && sw != 0x9000)
		rc = piv_rc_from_sw(sw) == PIV_E_NOT_SUPPORTED ? PIV_E_NOT_SUPPORTED : PIV_E_AUTH;
	if (rc == PIV_OK && (tlv_parse(rsp, rlen, &t, NULL) < 0 || t.tag != 0x7C ||
	    tlv_find(t.val, t.len, tag, &inner) < 0 || inner.len != len))
		rc = PIV_E_COMM;
	if (rc == PIV_OK)
		memcpy(out, inner.val, len);
	OPENSSL_cleanse(rsp, sizeof rsp);
	return rc;
}

piv_rc piv_mgm_witness(piv_t *p, enum piv_alg alg, uint8_t *witness)
{
	static const uint8_t ask_witness[] = { 0x7C, 0x02, 0x80, 0x00 };
	size_t bs = piv_mgm_block(alg);

	if (!bs)
		return PIV_E_ARG;
	return piv_mgm_step(p, alg, ask_witness, sizeof ask_witness, 0x80, witness, bs);
}

piv_rc piv_mgm_answer(piv_t *p, enum piv_alg alg, const uint8_t *witness, const uint8_t *challenge,
    uint8_t *response)
{
	size_t bs = piv_mgm_block(alg);
	tlv_buf_t in, out;
	piv_rc rc;

	if (!bs)
		return PIV_E_ARG;
	tlv_buf_init(&in);
	tlv_buf_init(&out);
	tlv_buf_put(&in, 0x80, witness, bs);
	tlv_buf_put(&in, 0x81, challenge, bs);
	tlv_buf_wrap(&out, 0x7C, &in);
	rc = out.failed ? PIV_E_CRYPTO : piv_mgm_step(p, alg, out.data, out.len, 0x82, response, bs);
	tlv_buf_free(&in);
	tlv_buf_free(&out);
	return rc;
}

piv_rc piv_authenticate(piv_t *p, enum piv_alg alg, const uint8_t *key, size_t len)
{
	uint8_t enc[16] = { 0 }, witness[16] = { 0 }, chal[16] = { 0 }, expect[16] = { 0 }, answer[16] = { 0 };
	const EVP_CIPHER *c;
	size_t klen = 0;
	int bs;
	piv_rc rc;

	c = piv_mgm_cipher(alg, &klen);
	if (!c || len != klen)
		return PIV_E_ARG;
	bs = EVP_CIPHER_get_block_size(c);
	rc = piv_begin(p);
	if (rc != PIV_OK)
		return rc;

	/* Step 1: the card's witness, encrypted under the management key. */
	if ((rc = piv_mgm_witness(p, alg, enc)) != PIV_OK)
		goto out;
	/* Step 2: prove the key by decrypting the witness; challenge the card in return. */
	if (piv_block(c, key, 0, enc, witness, bs) < 0 || RAND_bytes(chal, bs) != 1 ||
	    piv_block(c, key, 1, chal, expect, bs) < 0) {
		rc = PIV_E_CRYPTO;
		goto out;
	}
	if ((rc = piv_mgm_answer(p, alg, witness, chal, answer)) != PIV_OK) {
		if (rc == PIV_E_NOT_SUPPORTED)
			rc = PIV_E_AUTH;
		goto out;
	}
	/* Step 3: the card must have encrypted our challenge with the same key. */
	if (CRYPTO_memcmp(answer, expect, (size_t)bs) != 0) {
		log_warn("%s: the card's answer to our challenge is wrong", piv_reader(p));
		rc = PIV_E_AUTH;
		goto out;
	}
	rc = PIV_OK;
out:
	piv_end(p);
	OPENSSL_cleanse(enc, sizeof enc);
	OPENSSL_cleanse(witness, sizeof witness);
	OPENSSL_cleanse(chal, sizeof chal);
	OPENSSL_cleanse(expect, sizeof expect);
	OPENSSL_cleanse(answer, sizeof answer);
	return rc;
}

piv_rc piv_set_mgm_key(piv_t *p, enum piv_alg alg, const uint8_t *key, size_t len)
{
	uint8_t data[3 + 32];
	size_t klen = 0;
	piv_rc rc;

	if (!piv_mgm_cipher(alg, &klen) || len != klen)
		return PIV_E_ARG;
	data[0] = (uint8_t)alg;
	data[1] = PIV_REF_MGM;
	data[2] = (uint8_t)len;
	memcpy(data + 3, key, len);
	rc = piv_cmd(p, APDU_SET_MGMKEY, data, 3 + len, NULL, NULL);
	OPENSSL_cleanse(data, sizeof data);
	return rc;
}

/* An RSA public key from its modulus and exponent. */
static EVP_PKEY *piv_rsa_pub(const struct tlv *n, const struct tlv *e)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = BN_bin2bn(n->val, (int)n->len, NULL), *be = BN_bin2bn(e->val, (int)e->len, NULL);

	if (!bld || !bn || !be || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
out:
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* An EC public key on GROUP from its uncompressed point. */
static EVP_PKEY *piv_ec_pub(const char *group, const struct tlv *pt)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt->val,
	    pt->len);
	params[2] = OSSL_PARAM_construct_end();
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

piv_rc piv_generate_key(piv_t *p, uint8_t slot, enum piv_alg alg, EVP_PKEY **pub)
{
	uint8_t data[5] = { 0xAC, 0x03, 0x80, 0x01, (uint8_t)alg };
	uint8_t *rsp = xmalloc(PIV_RSP_MAX);
	size_t rlen = PIV_RSP_MAX;
	struct tlv t, a, b;
	apdu_hdr_t h;
	piv_rc rc;

	*pub = NULL;
	if (alg != PIV_ALG_RSA2048 && alg != PIV_ALG_ECCP256) {
		rc = PIV_E_ARG;
		goto out;
	}
	memcpy(h, APDU_GEN_ASYM, 4);
	h[3] = slot;
	rc = piv_cmd(p, h, data, sizeof data, rsp, &rlen);
	if (rc != PIV_OK)
		goto out;
	rc = PIV_E_COMM;
	if (tlv_parse(rsp, rlen, &t, NULL) < 0 || t.tag != 0x7F49)
		goto out;
	if (alg == PIV_ALG_RSA2048) {
		if (tlv_find(t.val, t.len, 0x81, &a) < 0 || tlv_find(t.val, t.len, 0x82, &b) < 0 ||
		    a.len == 0 || a.len > 512 || b.len == 0 || b.len > 8)
			goto out;
		*pub = piv_rsa_pub(&a, &b);
		if (*pub && EVP_PKEY_get_bits(*pub) != 2048) {
			EVP_PKEY_free(*pub);
			*pub = NULL;
		}
	} else {
		if (tlv_find(t.val, t.len, 0x86, &a) < 0 || a.len != 65)
			goto out;
		*pub = piv_ec_pub("prime256v1", &a);
	}
	rc = *pub ? PIV_OK : PIV_E_COMM;
out:
	free(rsp);
	return rc;
}

piv_rc piv_sign_raw(piv_t *p, uint8_t slot, enum piv_alg alg, const uint8_t *in, size_t inlen,
    uint8_t **out, size_t *outlen)
{
	uint8_t rsp[1024];
	size_t rlen = sizeof rsp;
	tlv_buf_t inner, req;
	struct tlv t, s;
	apdu_hdr_t h;
	piv_rc rc;

	*out = NULL;
	tlv_buf_init(&inner);
	tlv_buf_init(&req);
	/* 82 00 asks for the response; 81 carries the challenge (the block to sign). */
	tlv_buf_put(&inner, 0x82, NULL, 0);
	tlv_buf_put(&inner, 0x81, in, inlen);
	tlv_buf_wrap(&req, 0x7C, &inner);
	if (req.failed) {
		rc = PIV_E_ARG;
		goto out;
	}
	memcpy(h, APDU_GEN_AUTH, 4);
	h[2] = (uint8_t)alg;
	h[3] = slot;
	rc = piv_cmd(p, h, req.data, req.len, rsp, &rlen);
	if (rc != PIV_OK)
		goto out;
	if (tlv_parse(rsp, rlen, &t, NULL) < 0 || t.tag != 0x7C ||
	    tlv_find(t.val, t.len, 0x82, &s) < 0 || s.len == 0) {
		rc = PIV_E_COMM;
		goto out;
	}
	*out = xmalloc(s.len);
	memcpy(*out, s.val, s.len);
	*outlen = s.len;
out:
	tlv_buf_free(&inner);
	tlv_buf_free(&req);
	return rc;
}

enum piv_alg piv_alg_of(EVP_PKEY *pub)
{
	if (EVP_PKEY_is_a(pub, "RSA") && EVP_PKEY_get_bits(pub) == 2048)
		return PIV_ALG_RSA2048;
	if (EVP_PKEY_is_a(pub, "EC") && EVP_PKEY_get_bits(pub) == 256)
		return PIV_ALG_ECCP256;
	return 0;
}

/* The DER DigestInfo of DIGEST under MD_NID (PKCS#1 v1.5, RFC 8017 section 9.2). */
static int piv_digest_info(int md_nid, const uint8_t *digest, size_t dlen, uint8_t **der)
{
	X509_SIG *sig = X509_SIG_new();
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *oct;
	int n = -1;

	*der = NULL;
	if (!sig)
		return -1;
	X509_SIG_getm(sig, &alg, &oct);
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(md_nid), V_ASN1_NULL, NULL) &&
	    ASN1_OCTET_STRING_set(oct, digest, (int)dlen))
		n = i2d_X509_SIG(sig, der);
	X509_SIG_free(sig);
	return n;
}

piv_rc piv_sign_digest(piv_t *p, uint8_t slot, EVP_PKEY *pub, int md_nid, const uint8_t *digest,
    size_t dlen, uint8_t **sig, size_t *siglen)
{
	enum piv_alg alg = piv_alg_of(pub);
	uint8_t *di = NULL, block[256];
	size_t klen = 256;
	int dilen;
	piv_rc rc;

	*sig = NULL;
	if (alg == PIV_ALG_ECCP256) {
		/* ECDSA signs the hash's leftmost bits: the field is 32 bytes. */
		return piv_sign_raw(p, slot, alg, digest, dlen > 32 ? 32 : dlen, sig, siglen);
	}
	if (alg != PIV_ALG_RSA2048)
		return PIV_E_ARG;
	dilen = piv_digest_info(md_nid, digest, dlen, &di);
	if (dilen <= 0 || (size_t)dilen + 11 > klen) {
		rc = PIV_E_CRYPTO;
		goto out;
	}
	/* EMSA-PKCS1-v1_5: 00 01 FF..FF 00 DigestInfo; the card does the raw RSA. */
	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xFF, klen - (size_t)dilen - 3);
	block[klen - (size_t)dilen - 1] = 0x00;
	memcpy(block + klen - (size_t)dilen, di, (size_t)dilen);
	rc = piv_sign_raw(p, slot, alg, block, klen, sig, siglen);
	if (rc == PIV_OK && *siglen != klen) {
		free(*sig);
		*sig = NULL;
		rc = PIV_E_COMM;
	}
out:
	OPENSSL_free(di);
	return rc;
}

/* 5C with the object id's bytes (one for 7E, three for 5F C1 xx). */
static void piv_tag_list(tlv_buf_t *b, uint32_t id)
{
	uint8_t idb[3];
	size_t n = 0;

	if (id > 0xFFFF)
		idb[n++] = (uint8_t)(id >> 16);
	if (id > 0xFF)
		idb[n++] = (uint8_t)(id >> 8);
	idb[n++] = (uint8_t)id;
	tlv_buf_put(b, 0x5C, idb, n);
}

piv_rc piv_read_object(piv_t *p, uint32_t id, uint8_t **data, size_t *len)
{
	uint8_t *rsp = xmalloc(PIV_RSP_MAX);
	size_t rlen = PIV_RSP_MAX;
	tlv_buf_t req;
	struct tlv t;
	piv_rc rc;

	*data = NULL;
	*len = 0;
	tlv_buf_init(&req);
	piv_tag_list(&req, id);
	rc = piv_cmd(p, APDU_GET_DATA, req.data, req.len, rsp, &rlen);
	if (rc != PIV_OK)
		goto out;
	/* The discovery object comes back under its own tag, the others under 53. */
	if (tlv_parse(rsp, rlen, &t, NULL) < 0 || t.tag != (id == PIV_OBJ_DISCOVERY ? 0x7E : 0x53)) {
		rc = PIV_E_COMM;
		goto out;
	}
	*data = xmalloc(t.len + 1);
	memcpy(*data, t.val, t.len);
	*len = t.len;
out:
	tlv_buf_free(&req);
	free(rsp);
	return rc;
}

piv_rc piv_write_object(piv_t *p, uint32_t id, const uint8_t *data, size_t len)
{
	tlv_buf_t req;
	piv_rc rc;

	tlv_buf_init(&req);
	piv_tag_list(&req, id);
	tlv_buf_put(&req, 0x53, data, len);
	if (req.failed) {
		rc = PIV_E_ARG;
		goto out;
	}
	rc = piv_cmd(p, APDU_PUT_DATA, req.data, req.len, NULL, NULL);
out:
	tlv_buf_free(&req);
	return rc;
}

uint32_t piv_cert_object(uint8_t slot)
{
	switch (slot) {
	case PIV_SLOT_AUTH:
		return PIV_OBJ_CERT_9A;
	case PIV_SLOT_SIGN:
		return PIV_OBJ_CERT_9C;
	case PIV_SLOT_KEYMGMT:
		return PIV_OBJ_CERT_9D;
	case PIV_SLOT_CARDAUTH:
		return PIV_OBJ_CERT_9E;
	default:
		return 0;
	}
}

piv_rc piv_read_cert(piv_t *p, uint8_t slot, X509 **cert)
{
	uint32_t id = piv_cert_object(slot);
	uint8_t *obj = NULL;
	const uint8_t *q;
	size_t len = 0;
	struct tlv c, info;
	piv_rc rc;

	*cert = NULL;
	if (!id)
		return PIV_E_ARG;
	rc = piv_read_object(p, id, &obj, &len);
	if (rc != PIV_OK)
		goto out;
	if (len == 0 || tlv_find(obj, len, 0x70, &c) < 0 || c.len == 0) {
		rc = PIV_E_NOT_FOUND;
		goto out;
	}
	if (tlv_find(obj, len, 0x71, &info) == 0 && info.len == 1 && (info.val[0] & 0x01)) {
		log_err("%s: slot %02X holds a compressed certificate", piv_reader(p), slot);
		rc = PIV_E_NOT_SUPPORTED;
		goto out;
	}
	q = c.val;
	*cert = d2i_X509(NULL, &q, (long)c.len);
	rc = *cert && q == c.val + c.len ? PIV_OK : PIV_E_COMM;
	if (rc != PIV_OK) {
		X509_free(*cert);
		*cert = NULL;
	}
out:
	free(obj);
	return rc;
}

piv_rc piv_write_cert(piv_t *p, uint8_t slot, const uint8_t *der, size_t len)
{
	/* CertInfo 71 01 00: not compressed; FE 00: the (empty) error detection code. */
	static const uint8_t tail[] = { 0x71, 0x01, 0x00, 0xFE, 0x00 };
	uint32_t id = piv_cert_object(slot);
	tlv_buf_t obj;
	piv_rc rc;

	if (!id || !der || len == 0)
		return PIV_E_ARG;
	tlv_buf_init(&obj);
	tlv_buf_put(&obj, 0x70, der, len);
	tlv_buf_raw(&obj, tail, sizeof tail);
	rc = obj.failed ? PIV_E_ARG : piv_write_object(p, id, obj.data, obj.len);
	tlv_buf_free(&obj);
	return rc;
}

/*
 * FASC-N characters are five bits, written least significant bit first: four data bits
 * and an odd parity bit. Digits are 0-9; SS, FS and ES are the start, field and end
 * sentinels. The last character is the LRC: the XOR of every character's data bits.
 */
enum { FASCN_SS = 0xB, FASCN_FS = 0xD, FASCN_ES = 0xF };

static void fascn_put(uint8_t out[25], int *bit, unsigned v, unsigned *lrc)
{
	unsigned ones = 0;

	*lrc ^= v & 0xF;
	for (int i = 0; i < 4; i++) {
		unsigned b = v >> i & 1;
		ones += b;
		if (b)
			out[*bit / 8] |= (uint8_t)(0x80 >> (*bit % 8));
		(*bit)++;
	}
	if (!(ones & 1))
		out[*bit / 8] |= (uint8_t)(0x80 >> (*bit % 8));
	(*bit)++;
}

static void fascn_digits(uint8_t out[25], int *bit, unsigned v, int n, unsigned *lrc)
{
	unsigned div = 1;

	for (int i = 1; i < n; i++)
		div *= 10;
	for (; div; div /= 10)
		fascn_put(out, bit, v / div % 10, lrc);
}

void piv_fascn_encode(unsigned agency, unsigned system, unsigned credential, uint8_t out[25])
{
	unsigned lrc = 0, final;
	int bit = 0;

	memset(out, 0, 25);
	fascn_put(out, &bit, FASCN_SS, &lrc);
	fascn_digits(out, &bit, agency % 10000, 4, &lrc);
	fascn_put(out, &bit, FASCN_FS, &lrc);
	fascn_digits(out, &bit, system % 10000, 4, &lrc);
	fascn_put(out, &bit, FASCN_FS, &lrc);
	fascn_digits(out, &bit, credential % 1000000, 6, &lrc);
	fascn_put(out, &bit, FASCN_FS, &lrc);
	fascn_digits(out, &bit, 1, 1, &lrc);		/* credential series */
	fascn_put(out, &bit, FASCN_FS, &lrc);
	fascn_digits(out, &bit, 1, 1, &lrc);		/* individual credential issue */
	fascn_put(out, &bit, FASCN_FS, &lrc);
	fascn_digits(out, &bit, 0, 10, &lrc);		/* person identifier: none */
	fascn_digits(out, &bit, 1, 1, &lrc);		/* organizational category: federal */
	fascn_digits(out, &bit, agency % 10000, 4, &lrc);	/* organizational identifier */
	fascn_digits(out, &bit, 1, 1, &lrc);		/* association: employee */
	fascn_put(out, &bit, FASCN_ES, &lrc);
	final = lrc;
	fascn_put(out, &bit, final, &lrc);
}

piv_rc piv_write_chuid(piv_t *p, uint32_t serial, const uint8_t guid[16], time_t expiry)
{
	uint8_t fascn[25];
	char date[16];
	struct tm tm;
	tlv_buf_t obj;
	piv_rc rc;

	gmtime_r(&expiry, &tm);
	if (strftime(date, sizeof date, "%Y%m%d", &tm) != 8)
		return PIV_E_ARG;
	piv_fascn_encode(9999, 9999, serial, fascn);
	tlv_buf_init(&obj);
	tlv_buf_put(&obj, 0x30, fascn, sizeof fascn);
	tlv_buf_put(&obj, 0x34, guid, 16);
	tlv_buf_put(&obj, 0x35, date, 8);
	tlv_buf_put(&obj, 0x3E, NULL, 0);	/* issuer signature: none, the RA does not sign it */
	tlv_buf_put(&obj, 0xFE, NULL, 0);
	rc = obj.failed ? PIV_E_ARG : piv_write_object(p, PIV_OBJ_CHUID, obj.data, obj.len);
	tlv_buf_free(&obj);
	return rc;
}

piv_rc piv_write_ccc(piv_t *p, const uint8_t card_id[14])
{
	/* Card identifier: GSC-RID A0 00 00 01 16, manufacturer FF, card type 02 (Java Card). */
	static const uint8_t id_prefix[7] = { 0xA0, 0x00, 0x00, 0x01, 0x16, 0xFF, 0x02 };
	/* Capability container version 21, grammar 21, PKCS#15 0, data model 10, and the
	 * empty fields SP 800-73-4 part 1 table 8 requires, then the error detection code. */
	static const uint8_t rest[] = {
		0xF1, 0x01, 0x21, 0xF2, 0x01, 0x21, 0xF3, 0x00, 0xF4, 0x01, 0x00, 0xF5, 0x01, 0x10,
		0xF6, 0x00, 0xF7, 0x00, 0xFA, 0x00, 0xFB, 0x00, 0xFC, 0x00, 0xFD, 0x00, 0xFE, 0x00,
	};
	uint8_t ident[21];
	tlv_buf_t obj;
	piv_rc rc;

	memcpy(ident, id_prefix, sizeof id_prefix);
	memcpy(ident + sizeof id_prefix, card_id, 14);
	tlv_buf_init(&obj);
	tlv_buf_put(&obj, 0xF0, ident, sizeof ident);
	tlv_buf_raw(&obj, rest, sizeof rest);
	rc = obj.failed ? PIV_E_ARG : piv_write_object(p, PIV_OBJ_CCC, obj.data, obj.len);
	tlv_buf_free(&obj);
	return rc;
}

piv_rc piv_classify(piv_t *p, enum piv_card_state *state)
{
	X509 *cert = NULL;
	int tries = 0;
	piv_rc rc;

	rc = piv_begin(p);
	if (rc != PIV_OK)
		return rc;
	rc = piv_pin_tries(p, &tries);
	if (rc != PIV_OK)
		goto out;
	if (tries == 0) {
		*state = PIV_STATE_LOCKED;
		goto out;
	}
	rc = piv_read_cert(p, PIV_SLOT_SIGN, &cert);
	if (rc == PIV_OK) {
		*state = PIV_STATE_PERSONALIZED;
		goto out;
	}
	if (rc != PIV_E_NOT_FOUND)
		goto out;
	rc = piv_authenticate(p, PIV_ALG_3DES, PIV_FACTORY_MGM, sizeof PIV_FACTORY_MGM);
	if (rc == PIV_OK)
		*state = PIV_STATE_BLANK;
	else if (rc == PIV_E_AUTH || rc == PIV_E_NOT_SUPPORTED || rc == PIV_E_BAD_PARAM)
		*state = PIV_STATE_SET_ASIDE;
	else
		goto out;
	rc = PIV_OK;
out:
	X509_free(cert);
	piv_end(p);
	return rc;
}

/* A random 8-digit value to spend a try with: never a fixed guess that could be real. */
static int piv_random_digits(char out[9])
{
	uint8_t r[8];

	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	for (int i = 0; i < 8; i++)
		out[i] = (char)('0' + r[i] % 10);	/* bias is harmless: this is a wrong guess */
	out[8] = '\0';
	return 0;
}

piv_rc piv_block_pin_puk(piv_t *p)
{
	char guess[9], guess2[9];
	int tries = -1;
	piv_rc rc;

	rc = piv_begin(p);
	if (rc != PIV_OK)
		return rc;
	/* Bounded: a card that never runs out of tries is refused, not looped on. */
	for (int i = 0; i < 32; i++) {
		if (piv_random_digits(guess) < 0) {
			rc = PIV_E_CRYPTO;
			goto out;
		}
		rc = piv_verify_pin(p, guess, &tries);
		if (rc == PIV_E_PIN_BLOCKED || (rc == PIV_E_WRONG_PIN && tries == 0))
			break;
		if (rc != PIV_OK && rc != PIV_E_WRONG_PIN)
			goto out;
	}
	if (rc != PIV_E_PIN_BLOCKED && !(rc == PIV_E_WRONG_PIN && tries == 0)) {
		rc = PIV_E_CONDITIONS;
		goto out;
	}
	for (int i = 0; i < 32; i++) {
		if (piv_random_digits(guess) < 0 || piv_random_digits(guess2) < 0) {
			rc = PIV_E_CRYPTO;
			goto out;
		}
		rc = piv_change_puk(p, guess, guess2, &tries);
		if (rc == PIV_E_PIN_BLOCKED || (rc == PIV_E_WRONG_PIN && tries == 0)) {
			rc = PIV_OK;
			goto out;
		}
		if (rc != PIV_OK && rc != PIV_E_WRONG_PIN)
			goto out;
	}
	rc = PIV_E_CONDITIONS;
out:
	OPENSSL_cleanse(guess, sizeof guess);
	OPENSSL_cleanse(guess2, sizeof guess2);
	piv_end(p);
	return rc;
}

piv_rc piv_reset(piv_t *p)
{
	return piv_cmd(p, APDU_RESET, NULL, 0, NULL, NULL);
}
