/*
 * pdfcrypt.h: AES-256 encryption of a PDF (PDF 2.0 security handler, revision 6) with
 * libqpdf, for sheets that travel by e-mail. cairo cannot encrypt, so the sheet is drawn
 * in clear in memory and encrypted before it touches the disk or the network.
 */
#ifndef RA_PDFCRYPT_H
#define RA_PDFCRYPT_H

#include <stddef.h>

/*
 * Encrypt the PDF IN (INLEN bytes) with USER_PW (needed to open it) and OWNER_PW (full
 * rights). The result allows printing only: no copying, no changes. *out is malloc'd;
 * the caller wipes and frees it. 0, or -1 (logged, without the passwords).
 */
int pdfcrypt_encrypt(const unsigned char *in, size_t inlen, const char *user_pw,
    const char *owner_pw, unsigned char **out, size_t *outlen);

#endif
