/*
 * ctl_keyarchive.c: the RA host's key folder as one encrypted file, for `ra-ctl backup
 * --with-keys` and `ra-ctl restore`. A backup holds no secret key unless the operator
 * asks, and then only in this form.
 *
 * Format: the magic "RAKEYS1\n", a 16-byte salt, a 12-byte nonce, then AES-256-GCM over
 * the entries (the magic is the additional data) and the 16-byte tag. The key is scrypt
 * (N = 2^15, r = 8, p = 1) of the passphrase file's first line and the salt. An entry is
 * the path relative to the folder, a NUL, the mode and the size as 4 and 8 big-endian
 * bytes, and the bytes of the file. Only regular files are kept; a path with ".." or a
 * leading "/" is refused on the way back. The clear archive and the key are wiped on
 * every path.
 */
#include "ctl.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KA_MAGIC "RAKEYS1\n"
#define KA_SALT 16
#define KA_NONCE 12
#define KA_TAG 16
#define KA_HEAD (sizeof KA_MAGIC - 1 + KA_SALT + KA_NONCE)

struct ka_buf {
	uint8_t *p;
	size_t len, cap;
};

static void ka_put(struct ka_buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *q;
		while (cap < b->len + n)
			cap *= 2;
		/* grow by hand so the old copy of secret bytes can be wiped */
		q = xmalloc(cap);
		if (b->p) {
			memcpy(q, b->p, b->len);
			OPENSSL_cleanse(b->p, b->cap);
			free(b->p);
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void ka_wipe(struct ka_buf *b)
{
	if (b->p) {
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof *b);
}

static void ka_be(uint8_t *out, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static uint64_t ka_unbe(const uint8_t *in, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | in[i];
	return v;
}

/* Add every regular file under TOP/REL to B. 0/-1. */
static int ka_collect(struct ka_buf *b, const char *top, const char *rel, int *nfiles)
{
	char *dirp = *rel ? xasprintf("%s/%s", top, rel) : xstrdup(top);
	DIR *d = opendir(dirp);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		log_err("cannot read %s: %s", dirp, strerror(errno));
		free(dirp);
		return -1;
	}
	while (rc == 0 && (e = readdir(d))) {
		char *r, *full;
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		r = *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		full = xasprintf("%s/%s", top, r);
		if (lstat(full, &st) < 0) {
			log_err("cannot read %s: %s", full, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = ka_collect(b, top, r, nfiles);
		} else if (S_ISREG(st.st_mode)) {
			size_t n = 0;
			char *data = file_read(full, &n);
			uint8_t head[12];
			if (!data) {
				log_err("cannot read %s: %s", full, strerror(errno));
				rc = -1;
			} else {
				ka_put(b, r, strlen(r) + 1);
				ka_be(head, st.st_mode & 07777, 4);
				ka_be(head + 4, n, 8);
				ka_put(b, head, sizeof head);
				ka_put(b, data, n);
				OPENSSL_cleanse(data, n);
				free(data);
				(*nfiles)++;
			}
		}
		free(r);
		free(full);
	}
	closedir(d);
	free(dirp);
	return rc;
}

/* The passphrase (first line of PASSFILE) stretched with SALT into KEY. 0/-1. */
static int ka_key(const char *passfile, const uint8_t *salt, uint8_t key[32])
{
	size_t n = 0;
	char *pass = passfile ? file_read(passfile, &n) : NULL;
	int rc = -1;

	if (!pass) {
		log_err("cannot read the passphrase file %s", passfile ? passfile : "(none given)");
		return -1;
	}
	n = strcspn(pass, "\r\n");
	if (n < 12)
		log_err("the passphrase in %s is shorter than 12 characters", passfile);
	else if (EVP_PBE_scrypt(pass, n, salt, KA_SALT, 1 << 15, 8, 1, 64ull << 20, key, 32) == 1)
		rc = 0;
	else
		log_err("scrypt failed");
	OPENSSL_cleanse(pass, strlen(pass));
	free(pass);
	return rc;
}

int ctl_keyarchive_write(const char *dir, const char *out, const char *passfile, int *nfiles)
{
	struct ka_buf clear = { 0 }, sealed = { 0 };
	uint8_t key[32], head[KA_HEAD], tag[KA_TAG];
	EVP_CIPHER_CTX *c = NULL;
	int len, rc = -1;

	*nfiles = 0;
	memcpy(head, KA_MAGIC, sizeof KA_MAGIC - 1);
	if (RAND_bytes(head + sizeof KA_MAGIC - 1, KA_SALT + KA_NONCE) != 1 ||
	    ka_key(passfile, head + sizeof KA_MAGIC - 1, key) < 0)
		goto out;
	if (ka_collect(&clear, dir, "", nfiles) < 0)
		goto out;
	ka_put(&sealed, head, sizeof head);
	sealed.cap = sealed.len + clear.len + KA_TAG;
	sealed.p = xrealloc(sealed.p, sealed.cap);
	c = EVP_CIPHER_CTX_new();
	if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, KA_NONCE, NULL) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, key, head + sizeof KA_MAGIC - 1 + KA_SALT) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &len, (const uint8_t *)KA_MAGIC, sizeof KA_MAGIC - 1) != 1 ||
	    EVP_EncryptUpdate(c, sealed.p + sealed.len, &len, clear.p, (int)clear.len) != 1)
		goto out;
	sealed.len += (size_t)len;
	if (EVP_EncryptFinal_ex(c, sealed.p + sealed.len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, KA_TAG, tag) != 1)
		goto out;
	sealed.len += (size_t)len;
	ka_put(&sealed, tag, KA_TAG);
	rc = file_write_atomic(out, sealed.p, sealed.len, 0600);
	if (rc < 0)
		log_err("cannot write %s: %s", out, strerror(errno));
out:
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(key, sizeof key);
	ka_wipe(&clear);
	ka_wipe(&sealed);
	return rc;
}

/* Write the entries of CLEAR under DIR. 0/-1. */
static int ka_unpack(const uint8_t *p, size_t n, const char *dir, int *nfiles)
{
	size_t at = 0;

	while (at < n) {
		const char *rel = (const char *)p + at;
		size_t rl = strnlen(rel, n - at), size;
		unsigned mode;
		char *path, *slash;
		int rc;

		if (rl == n - at || at + rl + 1 + 12 > n)
			goto bad;
		at += rl + 1;
		mode = (unsigned)ka_unbe(p + at, 4) & 0700;
		size = (size_t)ka_unbe(p + at + 4, 8);
		at += 12;
		if (size > n - at || rel[0] == '/' || strstr(rel, "..") || rl == 0)
			goto bad;
		path = xasprintf("%s/%s", dir, rel);
		slash = strrchr(path, '/');
		*slash = '\0';
		rc = mkdir_p(path, 0700);
		*slash = '/';
		if (rc == 0)
			rc = file_write_atomic(path, p + at, size, (int)(mode ? mode : 0600));
		if (rc < 0)
			log_err("cannot write %s: %s", path, strerror(errno));
		free(path);
		if (rc < 0)
			return -1;
		at += size;
		(*nfiles)++;
	}
	return 0;
bad:
	log_err("the key archive is malformed");
	return -1;
}

int ctl_keyarchive_read(const char *in, const char *dir, const char *passfile, int *nfiles)
{
	size_t n = 0;
	uint8_t *box = (uint8_t *)file_read(in, &n), key[32], *clear = NULL;
	EVP_CIPHER_CTX *c = NULL;
	int len, total = 0, rc = -1;

	*nfiles = 0;
	if (!box) {
		log_err("cannot read %s: %s", in, strerror(errno));
		return -1;
	}
	if (n < KA_HEAD + KA_TAG || memcmp(box, KA_MAGIC, sizeof KA_MAGIC - 1) != 0) {
		log_err("%s is not a key archive of ra-ctl backup", in);
		free(box);
		return -1;
	}
	if (ka_key(passfile, box + sizeof KA_MAGIC - 1, key) < 0)
		goto out;
	clear = xmalloc(n);
	c = EVP_CIPHER_CTX_new();
	if (!c || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, KA_NONCE, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, box + sizeof KA_MAGIC - 1 + KA_SALT) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &len, (const uint8_t *)KA_MAGIC, sizeof KA_MAGIC - 1) != 1 ||
	    EVP_DecryptUpdate(c, clear, &len, box + KA_HEAD, (int)(n - KA_HEAD - KA_TAG)) != 1)
		goto out;
	total = len;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, KA_TAG, box + n - KA_TAG) != 1 ||
	    EVP_DecryptFinal_ex(c, clear + total, &len) != 1) {
		log_err("%s: wrong passphrase, or the archive was changed", in);
		goto out;
	}
	total += len;
	rc = ka_unpack(clear, (size_t)total, dir, nfiles);
out:
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(key, sizeof key);
	if (clear) {
		OPENSSL_cleanse(clear, n);
		free(clear);
	}
	free(box);
	return rc;
}
