/*
 * responder.h: OCSP answers (RFC 6960) from the CRL ca-signer publishes.
 *
 * The responder holds no CA key and opens no database: it reads the signed CRL from
 * signer.crl_dir (checked against the CA certificate, reloaded when the file changes) and
 * signs each answer with its own delegated key (id-kp-OCSPSigning). A certificate the CRL
 * lists is "revoked" with the CRL's reason and date (certificateHold for a hold); any
 * other serial of this CA is "good"; another issuer's is "unknown". thisUpdate and
 * nextUpdate are the CRL's, so OCSP never says more than the CRL it comes from.
 */
#ifndef RA_OCSP_RESPONDER_H
#define RA_OCSP_RESPONDER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct ocsp_responder ocsp_responder_t;

/* Load the CA certificate and the responder's key and certificate. NULL on error (logged). */
ocsp_responder_t *ocsp_responder_new(const config_t *cfg);
void ocsp_responder_destroy(ocsp_responder_t **r);
/* The DER OCSP response to the DER request REQ (malloc'd, *outlen set); never NULL: a bad
 * request gets malformedRequest, a missing or bad CRL tryLater. */
uint8_t *ocsp_responder_answer(ocsp_responder_t *r, const uint8_t *req, size_t len, size_t *outlen);

#endif
