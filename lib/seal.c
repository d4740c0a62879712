/*
 * seal.c: see seal.h. Every buffer that held a shared secret, a derived key or a clear
 * secret is cleansed before it is freed, on every path.
 */
#include "seal.h"
#include "log.h"
#include "util.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define SEAL_V1 0x01
#define PUBLEN 32
#define NONCELEN 12
#define TAGLEN 16
#define HDRLEN (1 + PUBLEN + NONCELEN)

static char *read_passphrase(const char *passfile)
{
	size_t n = 0;
	char *p;
	if (!passfile || !*passfile)
		return NULL;
	p = file_read(passfile, &n);
	if (!p)
		return NULL;
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		p[--n] = '\0';
	return p;
}

static void free_passphrase(char *p)
{
	if (p) {
		OPENSSL_cleanse(p, strlen(p));
		free(p);
	}
}

EVP_PKEY *seal_load_public(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;
	if (!f) {
		log_err("cannot open sheet public key %s", path);
		return NULL;
	}
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_X25519) {
		log_err("%s is not an X25519 public key", path);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

EVP_PKEY *seal_load_private(const char *path, const char *passfile)
{
	FILE *f = fopen(path, "r");
	char *pass = read_passphrase(passfile);
	EVP_PKEY *k = NULL;
	if (!f) {
		log_err("cannot open sheet private key %s", path);
		goto out;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, pass ? pass : (char *)"");
	fclose(f);
	if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_X25519) {
		log_err("%s is not an X25519 private key (or the passphrase is wrong)", path);
		EVP_PKEY_free(k);
		k = NULL;
	}
out:
	free_passphrase(pass);
	return k;
}

/* ECDH between PRIV and PEER, then HKDF to a 32-byte key. 0/-1. */
static int seal_kdf(EVP_PKEY *priv, EVP_PKEY *peer, const uint8_t salt[2 * PUBLEN], uint8_t key[32])
{
	EVP_PKEY_CTX *dh = EVP_PKEY_CTX_new(priv, NULL), *kdf = NULL;
	uint8_t shared[32];
	size_t slen = sizeof shared, klen = 32;
	int rc = -1;

	if (!dh || EVP_PKEY_derive_init(dh) <= 0 || EVP_PKEY_derive_set_peer(dh, peer) <= 0 ||
	    EVP_PKEY_derive(dh, shared, &slen) <= 0)
		goto out;
	kdf = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	if (!kdf || EVP_PKEY_derive_init(kdf) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_md(kdf, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_salt(kdf, salt, 2 * PUBLEN) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(kdf, shared, (int)slen) <= 0 ||
	    EVP_PKEY_CTX_add1_hkdf_info(kdf, (const unsigned char *)"ra sheet seal v1", 16) <= 0 ||
	    EVP_PKEY_derive(kdf, key, &klen) <= 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(shared, sizeof shared);
	EVP_PKEY_CTX_free(dh);
	EVP_PKEY_CTX_free(kdf);
	return rc;
}

static int raw_pub(EVP_PKEY *k, uint8_t out[PUBLEN])
{
	size_t n = PUBLEN;
	return EVP_PKEY_get_raw_public_key(k, out, &n) > 0 && n == PUBLEN ? 0 : -1;
}

/* AES-256-GCM in either direction. 0/-1 (-1 also on a bad tag). */
static int gcm(int enc, const uint8_t key[32], const uint8_t *nonce, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t tag[TAGLEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, rc = -1;
	if (!c || EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) <= 0)
		goto out;
	if (len && EVP_CipherUpdate(c, out, &n, in, (int)len) <= 0)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAGLEN, tag) <= 0)
		goto out;
	if (EVP_CipherFinal_ex(c, out + n, &n) <= 0)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAGLEN, tag) <= 0)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int seal_box(EVP_PKEY *pub, const uint8_t *msg, size_t len, uint8_t **box, size_t *boxlen)
{
	EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	uint8_t salt[2 * PUBLEN], key[32];
	uint8_t *b = NULL;
	int rc = -1;

	if (!eph || raw_pub(eph, salt) < 0 || raw_pub(pub, salt + PUBLEN) < 0 ||
	    seal_kdf(eph, pub, salt, key) < 0)
		goto out;
	b = xmalloc(HDRLEN + len + TAGLEN);
	b[0] = SEAL_V1;
	memcpy(b + 1, salt, PUBLEN);
	if (RAND_bytes(b + 1 + PUBLEN, NONCELEN) != 1 ||
	    gcm(1, key, b + 1 + PUBLEN, msg, len, b + HDRLEN, b + HDRLEN + len) < 0)
		goto out;
	*box = b;
	*boxlen = HDRLEN + len + TAGLEN;
	b = NULL;
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	free(b);
	EVP_PKEY_free(eph);
	if (rc < 0)
		log_err("sealing a secret failed");
	return rc;
}

int seal_open(EVP_PKEY *priv, const uint8_t *box, size_t boxlen, uint8_t **msg, size_t *msglen)
{
	EVP_PKEY *eph = NULL;
	uint8_t salt[2 * PUBLEN], key[32], tag[TAGLEN];
	uint8_t *m = NULL;
	size_t len;
	int rc = -1;

	if (boxlen < HDRLEN + TAGLEN || box[0] != SEAL_V1) {
		log_err("sealed secret is malformed");
		return -1;
	}
	len = boxlen - HDRLEN - TAGLEN;
	eph = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, box + 1, PUBLEN);
	memcpy(salt, box + 1, PUBLEN);
	if (!eph || raw_pub(priv, salt + PUBLEN) < 0 || seal_kdf(priv, eph, salt, key) < 0)
		goto out;
	m = xmalloc(len + 1);
	memcpy(tag, box + HDRLEN + len, TAGLEN);
	if (gcm(0, key, box + 1 + PUBLEN, box + HDRLEN, len, m, tag) < 0) {
		log_err("sealed secret does not open with this key (wrong key or tampered)");
		goto out;
	}
	m[len] = '\0';
	*msg = m;
	*msglen = len;
	m = NULL;
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	if (m) {
		OPENSSL_cleanse(m, len);
		free(m);
	}
	EVP_PKEY_free(eph);
	return rc;
}

int seal_keygen(const char *priv_path, const char *passfile, const char *pub_path)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	char *pass = read_passphrase(passfile);
	FILE *f = NULL;
	int rc = -1;

	if (!k)
		goto out;
	if (!(f = fopen(priv_path, "w")))
		goto out;
	if (!PEM_write_PrivateKey(f, k, pass ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL, pass))
		goto out;
	fclose(f);
	if (!(f = fopen(pub_path, "w")) || !PEM_write_PUBKEY(f, k))
		goto out;
	rc = 0;
out:
	if (f)
		fclose(f);
	free_passphrase(pass);
	EVP_PKEY_free(k);
	return rc;
}
