/*
 * pdfpage.h: one page out of a printed batch, for an audited reprint. The other pages
 * (other subscribers' secrets) are not carried over: qpdf writes only the objects the
 * kept page still reaches.
 */
#ifndef RA_PDFPAGE_H
#define RA_PDFPAGE_H

#include <stddef.h>

/* A new PDF holding page PAGE (1-based) of IN. *out is malloc'd (caller wipes). 0/-1 (logged). */
int pdfpage_extract(const unsigned char *in, size_t inlen, int page, unsigned char **out,
    size_t *outlen);

#endif
