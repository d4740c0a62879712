/*
 * checkpoint.c: signing the RA's audit checkpoints (see signer.h, lib/checkpoint.h).
 *
 * The CA key signs a versioned ASCII text naming the audit chain's row count, its last
 * hash and the signer's own time; that text can never parse as a certificate or a CRL.
 * The signer keeps the highest row count it signed (signer.db meta) and refuses fewer,
 * so whoever cuts the chain's tail cannot have the shorter chain signed again. Nothing
 * here opens a file or a socket: the signature is the same key operation as a CRL's.
 */
#include "checkpoint.h"
#include "log.h"
#include "signer_int.h"
#include "util.h"

#include <string.h>

int signer_checkpoint(signer_t *s, int64_t rows, const char *head, int64_t *at, uint8_t **sig,
    size_t *sig_len, char err[SIGNER_ERR_LEN])
{
	EVP_MD_CTX *md = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = -1, adv;

	*sig = NULL;
	*sig_len = 0;
	if (rows < 0 || !checkpoint_head_ok(head)) {
		snprintf(err, SIGNER_ERR_LEN, "a checkpoint needs a row count and a SHA-256 head in lower-case hex");
		return -1;
	}
	if ((adv = store_checkpoint_advance(s->store, rows)) <= 0) {
		snprintf(err, SIGNER_ERR_LEN, adv == 0 ? "a checkpoint of more rows was signed before: the audit "
		    "chain is shorter than it was" : "signer.db cannot record the checkpoint");
		return -1;
	}
	*at = (int64_t)ra_now();
	text = checkpoint_text(rows, head, *at);
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, cakey_pkey(s->key)) != 1 ||
	    EVP_DigestSign(md, NULL, &len, (const unsigned char *)text, strlen(text)) != 1) {
		snprintf(err, SIGNER_ERR_LEN, "the CA key cannot sign the checkpoint");
		goto out;
	}
	*sig = xmalloc(len);
	if (EVP_DigestSign(md, *sig, &len, (const unsigned char *)text, strlen(text)) != 1) {
		snprintf(err, SIGNER_ERR_LEN, "the CA key cannot sign the checkpoint");
		free(*sig);
		*sig = NULL;
		goto out;
	}
	*sig_len = len;
	log_info("audit checkpoint signed: %lld rows, head %.16s...", (long long)rows, head);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	free(text);
	return rc;
}
