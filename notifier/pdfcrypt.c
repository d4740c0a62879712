/*
 * pdfcrypt.c: see pdfcrypt.h. The whole round trip stays in memory (qpdf_read_memory,
 * qpdf_init_write_memory) so the clear PDF of an e-mailed sheet never reaches a file.
 */
#include "pdfcrypt.h"

#include <openssl/crypto.h>
#include <qpdf/qpdf-c.h>
#include <string.h>

#include "log.h"
#include "util.h"

static int pdfcrypt_failed(qpdf_data q, const char *what)
{
	if (!qpdf_has_error(q))
		return 0;
	log_err("pdf encryption: %s: %s", what, qpdf_get_error_full_text(q, qpdf_get_error(q)));
	return 1;
}

int pdfcrypt_encrypt(const unsigned char *in, size_t inlen, const char *user_pw,
    const char *owner_pw, unsigned char **out, size_t *outlen)
{
	qpdf_data q = qpdf_init();
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (!user_pw || !*user_pw || !owner_pw || !*owner_pw) {
		log_err("pdf encryption: both passwords are required");
		goto out;
	}
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if (qpdf_read_memory(q, "sheet.pdf", (const char *)in, (unsigned long long)inlen, NULL) & QPDF_ERRORS ||
	    pdfcrypt_failed(q, "read"))
		goto out;
	if (qpdf_init_write_memory(q) & QPDF_ERRORS || pdfcrypt_failed(q, "prepare"))
		goto out;
	/* print: yes (the holder may want paper); extract, assemble, annotate, fill, modify: no */
	qpdf_set_r6_encryption_parameters2(q, user_pw, owner_pw, QPDF_TRUE, QPDF_FALSE,
	    QPDF_FALSE, QPDF_FALSE, QPDF_FALSE, QPDF_FALSE, qpdf_r3p_full, QPDF_TRUE);
	if (qpdf_write(q) & QPDF_ERRORS || pdfcrypt_failed(q, "write"))
		goto out;
	*outlen = qpdf_get_buffer_length(q);
	*out = xmalloc(*outlen);
	memcpy(*out, qpdf_get_buffer(q), *outlen);
	rc = 0;
out:
	qpdf_cleanup(&q);
	return rc;
}
