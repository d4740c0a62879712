/*
 * checkpoint.c: the signed text of an audit checkpoint and its verification (see
 * checkpoint.h). No database code: ca-signer links it.
 */
#include "checkpoint.h"
#include "util.h"

#include <string.h>

char *checkpoint_text(int64_t rows, const char *head, int64_t at)
{
	return xasprintf("ra audit checkpoint v1\nrows=%lld\nhead=%s\nat=%lld\n", (long long)rows, head,
	    (long long)at);
}

int checkpoint_head_ok(const char *head)
{
	if (!head || strlen(head) != CHECKPOINT_HEAD_LEN)
		return 0;
	for (const char *p = head; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int checkpoint_verify(EVP_PKEY *pub, int64_t rows, const char *head, int64_t at, const uint8_t *sig,
    size_t sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char *text = checkpoint_text(rows, head, at);
	int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)text, strlen(text)) == 1;

	EVP_MD_CTX_free(md);
	free(text);
	return ok;
}
