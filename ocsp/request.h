/*
 * request.h: the OCSP request in an HTTP GET's URL (RFC 6960 appendix A.1): the last
 * path segment is the DER request in base64, URL-encoded. libmicrohttpd parses the rest
 * of the request head; this is the part ra-ocsp reads itself, from any relying party on
 * the network, so it takes any bytes and answers NULL for anything that is not one
 * bounded, well-formed request (the responder then checks the DER).
 */
#ifndef RA_OCSP_REQUEST_H
#define RA_OCSP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define OCSP_MAX_REQUEST 16384	/* a request for a few certificates is well under 1 KiB */

/* The DER request carried by URL (a NUL-terminated path as sent, escapes kept): malloc'd,
 * *len its length; NULL if the last segment is empty, too long, badly escaped or not
 * base64. */
uint8_t *ocsp_request_from_url(const char *url, size_t *len);

#endif
