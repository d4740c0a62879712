/*
 * test_piv_cmds.c: the PIV command layer against an in-process fake card: the exact
 * bytes of PIN, PUK and management-key commands, mutual authentication (3DES and AES),
 * key generation replies (good and hostile), PKCS#1 v1.5 block building checked by a real
 * RSA key, certificate objects, and card classification.
 *
 * The fake reassembles chained commands and serves long answers with 61 xx, so the same
 * transport paths as a real card are used.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/pem.h>

#include "../../card/piv.h"
#include "../../card/tlv.h"

struct fake;
/* Answer one whole (unchained) command: data + SW into rsp. */
typedef size_t (*fake_fn)(struct fake *f, const uint8_t *cmd, size_t clen, uint8_t *rsp);

struct fake {
	fake_fn fn;
	uint8_t chain[4096];
	size_t chain_len;
	uint8_t pending[8192];
	size_t pending_len, pending_off;
	uint8_t last[4096];	/* last whole command */
	size_t last_len;
	int ncmd;
	/* state for the smart handlers */
	const uint8_t *key;
	int alg;
	uint8_t witness[16];
	int step;
	EVP_PKEY *pkey;
	uint8_t obj[4096];
	size_t obj_len;
	uint16_t sw;
};

static size_t sw_only(uint8_t *rsp, uint16_t sw)
{
	rsp[0] = (uint8_t)(sw >> 8);
	rsp[1] = (uint8_t)sw;
	return 2;
}

/* Serve DATA (with 90 00) through the pending buffer: 256 bytes at a time, 61 xx between. */
static size_t serve(struct fake *f, const uint8_t *data, size_t n, uint8_t *rsp)
{
	size_t chunk;

	if (data) {
		memcpy(f->pending, data, n);
		f->pending_len = n;
		f->pending_off = 0;
	}
	chunk = f->pending_len - f->pending_off;
	if (chunk > 256)
		chunk = 256;
	memcpy(rsp, f->pending + f->pending_off, chunk);
	f->pending_off += chunk;
	if (f->pending_off < f->pending_len) {
		size_t left = f->pending_len - f->pending_off;
		return chunk + sw_only(rsp + chunk, (uint16_t)(0x6100 | (left > 255 ? 0 : left)));
	}
	return chunk + sw_only(rsp + chunk, 0x9000);
}

static piv_rc fake_xmit(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *rsp, size_t *rlen)
{
	struct fake *f = ctx;
	size_t lc = clen > 5 ? cmd[4] : 0;

	f->ncmd++;
	if (cmd[1] == 0xC0) {
		*rlen = serve(f, NULL, 0, rsp);
		return PIV_OK;
	}
	if (f->chain_len == 0)
		memcpy(f->chain, cmd, 4);
	memcpy(f->chain + 5 + f->chain_len, cmd + 5, lc);
	f->chain_len += lc;
	if (cmd[0] & 0x10) {
		*rlen = sw_only(rsp, 0x9000);
		return PIV_OK;
	}
	/* the whole command as if unchained: header, total Lc (one byte, or 0 + two), data */
	memcpy(f->last, f->chain, 4);
	f->last[0] = cmd[0];
	memcpy(f->last + 5, f->chain + 5, f->chain_len);
	f->last[4] = (uint8_t)(f->chain_len > 255 ? 0 : f->chain_len);
	f->last_len = 5 + f->chain_len;
	f->chain_len = 0;
	*rlen = f->fn(f, f->last, f->last_len, rsp);
	return PIV_OK;
}

static size_t fn_sw(struct fake *f, const uint8_t *cmd, size_t clen, uint8_t *rsp)
{
	(void)cmd;
	(void)clen;
	return sw_only(rsp, f->sw);
}

static piv_t *open_fake(struct fake *f, fake_fn fn)
{
	piv_t *p = NULL;

	memset(f, 0, sizeof *f);
	f->fn = fn;
	f->sw = 0x9000;
	assert_int_equal(piv_open_xmit(fake_xmit, f, "fake", &p), PIV_OK);
	return p;
}

static void test_pin_commands(void **state)
{
	struct fake f;
	piv_t *p = open_fake(&f, fn_sw);
	int tries = -5;

	(void)state;
	assert_int_equal(piv_verify_pin(p, "305917", &tries), PIV_OK);
	assert_memory_equal(f.last, ((uint8_t[]){ 0x00, 0x20, 0x00, 0x80, 0x08, '3', '0', '5', '9',
		'1', '7', 0xFF, 0xFF }), 13);
	f.sw = 0x63C2;
	assert_int_equal(piv_verify_pin(p, "305917", &tries), PIV_E_WRONG_PIN);
	assert_int_equal(tries, 2);
	f.sw = 0x6983;
	assert_int_equal(piv_verify_pin(p, "305917", &tries), PIV_E_PIN_BLOCKED);
	assert_int_equal(tries, 0);
	f.sw = 0x9000;
	assert_int_equal(piv_change_pin(p, "123456", "30591742", NULL), PIV_OK);
	assert_memory_equal(f.last, ((uint8_t[]){ 0x00, 0x24, 0x00, 0x80, 0x10, '1', '2', '3', '4',
		'5', '6', 0xFF, 0xFF, '3', '0', '5', '9', '1', '7', '4', '2' }), 21);
	assert_int_equal(piv_change_puk(p, "12345678", "87654321", NULL), PIV_OK);
	assert_int_equal(f.last[3], 0x81);
	assert_int_equal(piv_unblock_pin(p, "12345678", "654321", NULL), PIV_OK);
	assert_memory_equal(f.last, ((uint8_t[]){ 0x00, 0x2C, 0x00, 0x80, 0x10, '1', '2', '3', '4',
		'5', '6', '7', '8', '6', '5', '4', '3', '2', '1', 0xFF, 0xFF }), 21);
	/* bad PINs never reach the card */
	f.ncmd = 0;
	assert_int_equal(piv_verify_pin(p, "12345", NULL), PIV_E_ARG);
	assert_int_equal(piv_verify_pin(p, "123456789", NULL), PIV_E_ARG);
	assert_int_equal(piv_verify_pin(p, "12a456", NULL), PIV_E_ARG);
	assert_int_equal(piv_verify_pin(p, NULL, NULL), PIV_E_ARG);
	assert_int_equal(piv_change_pin(p, "123456", "1", NULL), PIV_E_ARG);
	assert_int_equal(f.ncmd, 0);
	/* tries without spending one */
	f.sw = 0x63C3;
	assert_int_equal(piv_pin_tries(p, &tries), PIV_OK);
	assert_int_equal(tries, 3);
	assert_int_equal(f.last_len, 5);
	piv_close(&p);
	assert_null(p);
}

static void test_set_mgm_key(void **state)
{
	struct fake f;
	piv_t *p = open_fake(&f, fn_sw);
	uint8_t k[16];

	(void)state;
	memset(k, 0x42, sizeof k);
	assert_int_equal(piv_set_mgm_key(p, PIV_ALG_3DES, PIV_FACTORY_MGM, 24), PIV_OK);
	assert_memory_equal(f.last, ((uint8_t[]){ 0x00, 0xFF, 0xFF, 0xFF, 27, 0x03, 0x9B, 24 }), 8);
	assert_memory_equal(f.last + 8, PIV_FACTORY_MGM, 24);
	assert_int_equal(piv_set_mgm_key(p, PIV_ALG_AES128, k, 16), PIV_OK);
	assert_memory_equal(f.last, ((uint8_t[]){ 0x00, 0xFF, 0xFF, 0xFF, 19, 0x08, 0x9B, 16 }), 8);
	assert_int_equal(piv_set_mgm_key(p, PIV_ALG_AES128, k, 15), PIV_E_ARG);
	assert_int_equal(piv_set_mgm_key(p, PIV_ALG_RSA2048, k, 16), PIV_E_ARG);
	piv_close(&p);
}

static const EVP_CIPHER *cipher_of(int alg)
{
	return alg == PIV_ALG_3DES ? EVP_des_ede3_ecb() : EVP_aes_128_ecb();
}

static void block(int alg, const uint8_t *key, int enc, const uint8_t *in, uint8_t *out, int bs)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n;

	EVP_CipherInit_ex(c, cipher_of(alg), NULL, key, NULL, enc);
	EVP_CIPHER_CTX_set_padding(c, 0);
	EVP_CipherUpdate(c, out, &n, in, bs);
	EVP_CIPHER_CTX_free(c);
}

/* A card doing SP 800-73-4 mutual authentication with f->key; step 2 as the real thing. */
static size_t fn_auth(struct fake *f, const uint8_t *cmd, size_t clen, uint8_t *rsp)
{
	int bs = f->alg == PIV_ALG_3DES ? 8 : 16;
	struct tlv t, w, c;
	uint8_t out[64], enc[16];

	(void)clen;
	assert_int_equal(cmd[1], 0x87);
	assert_int_equal(cmd[3], 0x9B);
	if (cmd[2] != f->alg)
		return sw_only(rsp, 0x6A80);
	assert_int_equal(tlv_parse(cmd + 5, cmd[4], &t, NULL), 0);
	assert_int_equal(t.tag, 0x7C);
	if (tlv_find(t.val, t.len, 0x80, &w) == 0 && w.len == 0) {
		memset(f->witness, 0x5A, sizeof f->witness);
		block(f->alg, f->key, 1, f->witness, enc, bs);
		out[0] = 0x7C;
		out[1] = (uint8_t)(2 + bs);
		out[2] = 0x80;
		out[3] = (uint8_t)bs;
		memcpy(out + 4, enc, (size_t)bs);
		return serve(f, out, 4 + (size_t)bs, rsp);
	}
	assert_int_equal(tlv_find(t.val, t.len, 0x80, &w), 0);
	assert_int_equal(tlv_find(t.val, t.len, 0x81, &c), 0);
	if (w.len != (size_t)bs || memcmp(w.val, f->witness, (size_t)bs) != 0)
		return sw_only(rsp, 0x6982);
	block(f->alg, f->key, 1, c.val, enc, bs);
	if (f->step == 1)
		enc[0] ^= 1;	/* a card that does not hold the key */
	out[0] = 0x7C;
	out[1] = (uint8_t)(2 + bs);
	out[2] = 0x82;
	out[3] = (uint8_t)bs;
	memcpy(out + 4, enc, (size_t)bs);
	return serve(f, out, 4 + (size_t)bs, rsp);
}

static void test_authenticate(void **state)
{
	static const uint8_t aes[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
	uint8_t wrong[24];
	struct fake f;
	piv_t *p = open_fake(&f, fn_auth);

	(void)state;
	f.key = PIV_FACTORY_MGM;
	f.alg = PIV_ALG_3DES;
	assert_int_equal(piv_authenticate(p, PIV_ALG_3DES, PIV_FACTORY_MGM, 24), PIV_OK);
	memcpy(wrong, PIV_FACTORY_MGM, 24);
	wrong[23] ^= 0x10;
	assert_int_equal(piv_authenticate(p, PIV_ALG_3DES, wrong, 24), PIV_E_AUTH);
	/* the card holds an AES key: asking with 3DES is refused, AES works */
	f.key = aes;
	f.alg = PIV_ALG_AES128;
	assert_int_equal(piv_authenticate(p, PIV_ALG_3DES, PIV_FACTORY_MGM, 24), PIV_E_AUTH);
	assert_int_equal(piv_authenticate(p, PIV_ALG_AES128, aes, 16), PIV_OK);
	/* a card that answers our challenge wrongly is not trusted */
	f.step = 1;
	assert_int_equal(piv_authenticate(p, PIV_ALG_AES128, aes, 16), PIV_E_AUTH);
	assert_int_equal(piv_authenticate(p, PIV_ALG_AES128, aes, 24), PIV_E_ARG);
	piv_close(&p);
}

static EVP_PKEY *rsa_key(void)
{
	static EVP_PKEY *k;

	if (!k)
		k = EVP_RSA_gen(2048);
	assert_non_null(k);
	return k;
}

/* GENERATE answers with the public part of f->pkey (or garbage when f->sw says so). */
static size_t fn_generate(struct fake *f, const uint8_t *cmd, size_t clen, uint8_t *rsp)
{
	uint8_t n[256], e[3] = { 1, 0, 1 }, pt[65];
	tlv_buf_t in, out;
	BIGNUM *bn = NULL;
	size_t r, ptlen;

	(void)clen;
	assert_memory_equal(cmd, ((uint8_t[]){ 0x00, 0x47, 0x00, 0x9C, 0x05, 0xAC, 0x03, 0x80, 0x01 }), 9);
	tlv_buf_init(&in);
	tlv_buf_init(&out);
	if (cmd[9] == PIV_ALG_RSA2048) {
		EVP_PKEY_get_bn_param(f->pkey, "n", &bn);
		BN_bn2binpad(bn, n, sizeof n);
		BN_free(bn);
		tlv_buf_put(&in, 0x81, n, sizeof n);
		tlv_buf_put(&in, 0x82, e, sizeof e);
	} else {
		EVP_PKEY_get_octet_string_param(f->pkey, "pub", pt, sizeof pt, &ptlen);
		tlv_buf_put(&in, 0x86, pt, ptlen);
	}
	tlv_buf_wrap(&out, 0x7F49, &in);
	if (f->sw == 0x6F00)	/* hostile: truncated */
		out.len -= 10;
	r = serve(f, out.data, out.len, rsp);
	tlv_buf_free(&in);
	tlv_buf_free(&out);
	return r;
}

static void test_generate(void **state)
{
	struct fake f;
	piv_t *p = open_fake(&f, fn_generate);
	EVP_PKEY *pub = NULL, *ec = EVP_EC_gen("P-256");

	(void)state;
	f.pkey = rsa_key();
	assert_int_equal(piv_generate_key(p, PIV_SLOT_SIGN, PIV_ALG_RSA2048, &pub), PIV_OK);
	assert_int_equal(EVP_PKEY_eq(pub, f.pkey), 1);
	assert_int_equal(piv_alg_of(pub), PIV_ALG_RSA2048);
	EVP_PKEY_free(pub);
	f.pkey = ec;
	assert_int_equal(piv_generate_key(p, PIV_SLOT_SIGN, PIV_ALG_ECCP256, &pub), PIV_OK);
	assert_int_equal(EVP_PKEY_eq(pub, ec), 1);
	assert_int_equal(piv_alg_of(pub), PIV_ALG_ECCP256);
	EVP_PKEY_free(pub);
	f.pkey = rsa_key();
	f.sw = 0x6F00;
	assert_int_equal(piv_generate_key(p, PIV_SLOT_SIGN, PIV_ALG_RSA2048, &pub), PIV_E_COMM);
	assert_null(pub);
	assert_int_equal(piv_generate_key(p, PIV_SLOT_SIGN, PIV_ALG_3DES, &pub), PIV_E_ARG);
	EVP_PKEY_free(ec);
	piv_close(&p);
}

/* GENERAL AUTHENTICATE with 9C: check the PKCS#1 block, answer with raw RSA. */
static size_t fn_sign(struct fake *f, const uint8_t *cmd, size_t clen, uint8_t *rsp)
{
	static const uint8_t sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
		0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
	uint8_t sig[256];
	size_t siglen = sizeof sig, r;
	struct tlv t, c, e;
	EVP_PKEY_CTX *ctx;
	tlv_buf_t in, out;

	assert_memory_equal(cmd, ((uint8_t[]){ 0x00, 0x87, 0x07, 0x9C }), 4);
	assert_int_equal(tlv_parse(cmd + 5, clen - 5, &t, NULL), 0);
	assert_int_equal(tlv_find(t.val, t.len, 0x82, &e), 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(tlv_find(t.val, t.len, 0x81, &c), 0);
	assert_int_equal(c.len, 256);
	assert_int_equal(c.val[0], 0x00);
	assert_int_equal(c.val[1], 0x01);
	for (size_t i = 2; i < 256 - 51 - 1; i++)
		assert_int_equal(c.val[i], 0xFF);
	assert_int_equal(c.val[256 - 52], 0x00);
	assert_memory_equal(c.val + 256 - 51, sha256_prefix, sizeof sha256_prefix);
	ctx = EVP_PKEY_CTX_new(f->pkey, NULL);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, sig, &siglen, c.val, 256), 1);
	EVP_PKEY_CTX_free(ctx);
	tlv_buf_init(&in);
	tlv_buf_init(&out);
	tlv_buf_put(&in, 0x82, sig, siglen);
	tlv_buf_wrap(&out, 0x7C, &in);
	r = serve(f, out.data, out.len, rsp);
	tlv_buf_free(&in);
	tlv_buf_free(&out);
	return r;
}

static void test_sign_rsa(void **state)
{
	struct fake f;
	piv_t *p = open_fake(&f, fn_sign);
	uint8_t digest[32], *sig = NULL;
	size_t siglen = 0;
	EVP_PKEY_CTX *v;

	(void)state;
	f.pkey = rsa_key();
	memset(digest, 0xD1, sizeof digest);
	assert_int_equal(piv_sign_digest(p, PIV_SLOT_SIGN, f.pkey, NID_sha256, digest, sizeof digest,
	    &sig, &siglen), PIV_OK);
	assert_int_equal(siglen, 256);
	/* the command was chained: 7C 82 01 06 82 00 81 82 01 00 <256> is 266 bytes */
	assert_true(f.ncmd >= 2);
	v = EVP_PKEY_CTX_new(f.pkey, NULL);
	EVP_PKEY_verify_init(v);
	EVP_PKEY_CTX_set_rsa_padding(v, RSA_PKCS1_PADDING);
	EVP_PKEY_CTX_set_signature_md(v, EVP_sha256());
	assert_int_equal(EVP_PKEY_verify(v, sig, siglen, digest, sizeof digest), 1);
	EVP_PKEY_CTX_free(v);
	free(sig);
	piv_close(&p);
}

/* GET DATA / PUT DATA over one stored object (f->obj holds the 53 value). */
static size_t fn_object(struct fake *f, const uint8_t *cmd, size_t clen, uint8_t *rsp)
{
	tlv_buf_t out;
	struct tlv t;
	size_t r, used;

	if (f->sw != 0x9000)
		return sw_only(rsp, f->sw);
	if (cmd[1] == 0xDB) {
		assert_int_equal(tlv_parse(cmd + 5, clen - 5, &t, &used), 0);
		assert_int_equal(t.tag, 0x5C);
		assert_int_equal(tlv_parse(cmd + 5 + used, clen - 5 - used, &t, NULL), 0);
		assert_int_equal(t.tag, 0x53);
		memcpy(f->obj, t.val, t.len);
		f->obj_len = t.len;
		return sw_only(rsp, 0x9000);
	}
	assert_memory_equal(cmd, ((uint8_t[]){ 0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1,
		0x0A }), 10);
	tlv_buf_init(&out);
	tlv_buf_put(&out, 0x53, f->obj, f->obj_len);
	r = serve(f, out.data, out.len, rsp);
	tlv_buf_free(&out);
	return r;
}

static void test_cert_object(void **state)
{
	struct fake f;
	piv_t *p = open_fake(&f, fn_object);
	X509 *c = X509_new(), *back = NULL;
	uint8_t *der = NULL;
	int n;

	(void)state;
	X509_set_version(c, 2);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
	    (const unsigned char *)"object test", -1, -1, 0);
	X509_set_issuer_name(c, X509_get_subject_name(c));
	X509_gmtime_adj(X509_getm_notBefore(c), 0);
	X509_gmtime_adj(X509_getm_notAfter(c), 3600);
	X509_set_pubkey(c, rsa_key());
	assert_true(X509_sign(c, rsa_key(), EVP_sha256()) > 0);
	n = i2d_X509(c, &der);
	assert_true(n > 300);
	assert_int_equal(piv_write_cert(p, PIV_SLOT_SIGN, der, (size_t)n), PIV_OK);
	/* 70 <cert> 71 01 00 FE 00 */
	assert_int_equal(f.obj[0], 0x70);
	assert_memory_equal(f.obj + f.obj_len - 5, ((uint8_t[]){ 0x71, 0x01, 0x00, 0xFE, 0x00 }), 5);
	assert_int_equal(piv_read_cert(p, PIV_SLOT_SIGN, &back), PIV_OK);
	assert_int_equal(X509_cmp(back, c), 0);
	X509_free(back);
	/* an empty object and an absent one are "no certificate"; garbage is an error */
	f.obj_len = 0;
	assert_int_equal(piv_read_cert(p, PIV_SLOT_SIGN, &back), PIV_E_NOT_FOUND);
	f.sw = 0x6A82;
	assert_int_equal(piv_read_cert(p, PIV_SLOT_SIGN, &back), PIV_E_NOT_FOUND);
	f.sw = 0x9000;
	memcpy(f.obj, (uint8_t[]){ 0x70, 0x03, 0x30, 0x01, 0x00 }, 5);
	f.obj_len = 5;
	assert_int_equal(piv_read_cert(p, PIV_SLOT_SIGN, &back), PIV_E_COMM);
	assert_null(back);
	assert_int_equal(piv_read_cert(p, 0x42, &back), PIV_E_ARG);
	assert_int_equal(piv_cert_object(PIV_SLOT_KEYMGMT), PIV_OBJ_CERT_9D);
	OPENSSL_free(der);
	X509_free(c);
	piv_close(&p);
}

/* Serial, version, and the CHUID's layout. */
static size_t fn_misc(struct fake *f, const uint8_t *cmd, size_t clen, uint8_t *rsp)
{
	(void)clen;
	if (cmd[1] == 0xF8)
		return serve(f, (uint8_t[]){ 0x00, 0x01, 0xE2, 0x40 }, f->sw == 0x6F00 ? 3 : 4, rsp);
	if (cmd[1] == 0xFD)
		return serve(f, (uint8_t[]){ 5, 4, 3 }, 3, rsp);
	if (cmd[1] == 0xDB) {
		memcpy(f->obj, cmd, clen);
		f->obj_len = clen;
	}
	return sw_only(rsp, 0x9000);
}

static void test_misc(void **state)
{
	struct fake f;
	piv_t *p = open_fake(&f, fn_misc);
	uint8_t ver[3], guid[16] = { 0 };
	uint32_t serial = 0;
	struct tlv t, u;
	size_t used;

	(void)state;
	assert_int_equal(piv_get_serial(p, &serial), PIV_OK);
	assert_int_equal(serial, 123456);
	assert_int_equal(piv_get_version(p, ver), PIV_OK);
	assert_memory_equal(ver, ((uint8_t[]){ 5, 4, 3 }), 3);
	f.sw = 0x6F00;
	assert_int_equal(piv_get_serial(p, &serial), PIV_E_COMM);
	/* CHUID: 5C 03 5F C1 02, then 53 { 30 FASC-N, 34 GUID, 35 YYYYMMDD, 3E, FE } */
	assert_int_equal(piv_write_chuid(p, 123456, guid, 1830297600 /* 2028-01-01 */), PIV_OK);
	assert_memory_equal(f.obj + 5, ((uint8_t[]){ 0x5C, 0x03, 0x5F, 0xC1, 0x02 }), 5);
	assert_int_equal(tlv_parse(f.obj + 10, f.obj_len - 10, &t, &used), 0);
	assert_int_equal(t.tag, 0x53);
	assert_int_equal(tlv_check_all(t.val, t.len), 0);
	assert_int_equal(tlv_find(t.val, t.len, 0x30, &u), 0);
	assert_int_equal(u.len, 25);
	assert_int_equal(tlv_find(t.val, t.len, 0x34, &u), 0);
	assert_int_equal(u.len, 16);
	assert_int_equal(tlv_find(t.val, t.len, 0x35, &u), 0);
	assert_memory_equal(u.val, "20280101", 8);
	assert_int_equal(tlv_find(t.val, t.len, 0xFE, &u), 0);
	assert_int_equal(piv_write_ccc(p, guid), PIV_OK);
	assert_memory_equal(f.obj + 5, ((uint8_t[]){ 0x5C, 0x03, 0x5F, 0xC1, 0x07 }), 5);
	piv_close(&p);
}

/* Classification: PIN blocked -> locked; a certificate -> personalized; else by mgm key. */
static size_t fn_classify(struct fake *f, const uint8_t *cmd, size_t clen, uint8_t *rsp)
{
	if (cmd[1] == 0x20)
		return sw_only(rsp, f->step == 0 ? 0x6983 : 0x63C3);
	if (cmd[1] == 0xCB) {
		if (f->step == 1)
			return serve(f, (uint8_t[]){ 0x53, 0x00 }, 2, rsp);
		return sw_only(rsp, 0x6A82);
	}
	if (cmd[1] == 0x87) {
		f->key = PIV_FACTORY_MGM;
		f->alg = f->step == 2 ? PIV_ALG_3DES : PIV_ALG_AES128;
		return fn_auth(f, cmd, clen, rsp);
	}
	return sw_only(rsp, 0x6D00);
}

static void test_classify(void **state)
{
	struct fake f;
	piv_t *p = open_fake(&f, fn_classify);
	enum piv_card_state s;

	(void)state;
	f.step = 0;
	assert_int_equal(piv_classify(p, &s), PIV_OK);
	assert_int_equal(s, PIV_STATE_LOCKED);
	f.step = 2;
	assert_int_equal(piv_classify(p, &s), PIV_OK);
	assert_int_equal(s, PIV_STATE_BLANK);
	f.step = 3;
	assert_int_equal(piv_classify(p, &s), PIV_OK);
	assert_int_equal(s, PIV_STATE_SET_ASIDE);
	assert_string_equal(piv_state_name(PIV_STATE_SET_ASIDE), "set-aside");
	assert_string_equal(piv_state_name(PIV_STATE_PERSONALIZED), "personalized");
	piv_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_commands),
		cmocka_unit_test(test_set_mgm_key),
		cmocka_unit_test(test_authenticate),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_sign_rsa),
		cmocka_unit_test(test_cert_object),
		cmocka_unit_test(test_misc),
		cmocka_unit_test(test_classify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
