/*
 * pdfpage.c: see pdfpage.h. libqpdf in memory, like pdfcrypt.c.
 */
#include "pdfpage.h"

#include <qpdf/qpdf-c.h>
#include <string.h>

#include "log.h"
#include "util.h"

int pdfpage_extract(const unsigned char *in, size_t inlen, int page, unsigned char **out,
    size_t *outlen)
{
	qpdf_data q = qpdf_init();
	int rc = -1, npages;

	*out = NULL;
	*outlen = 0;
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if (qpdf_read_memory(q, "batch.pdf", (const char *)in, (unsigned long long)inlen, NULL) & QPDF_ERRORS)
		goto fail;
	npages = qpdf_get_num_pages(q);
	if (page < 1 || page > npages) {
		log_err("pdf: page %d asked of a batch of %d pages", page, npages);
		goto out;
	}
	for (int i = npages - 1; i >= 0; i--)
		if (i != page - 1 && qpdf_remove_page(q, qpdf_get_page_n(q, (size_t)i)) & QPDF_ERRORS)
			goto fail;
	if (qpdf_init_write_memory(q) & QPDF_ERRORS || qpdf_write(q) & QPDF_ERRORS)
		goto fail;
	*outlen = qpdf_get_buffer_length(q);
	*out = xmalloc(*outlen);
	memcpy(*out, qpdf_get_buffer(q), *outlen);
	rc = 0;
	goto out;
fail:
	log_err("pdf: page extraction failed: %s",
	    qpdf_has_error(q) ? qpdf_get_error_full_text(q, qpdf_get_error(q)) : "unknown error");
out:
	qpdf_cleanup(&q);
	return rc;
}
