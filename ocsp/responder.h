/*
 * responder.h: OCSP answers (RFC 6960) from what ca-signer publishes (status.h).
 *
 * The responder holds no CA key and opens no database: it reads the signed complete and
 * delta CRLs and the list of issued serials from signer.crl_dir and signs each answer
 * with its own delegated key (id-kp-OCSPSigning). A serial the CRLs list is "revoked"
 * with the CRL's reason and date (certificateHold for a hold); a serial this CA issued
 * and did not revoke is "good"; a serial it never issued, or another issuer's, is
 * "unknown" (RFC 6960 2.2). thisUpdate and nextUpdate are those of the CRL the answer
 * comes from, so OCSP never says more than the signer published.
 *
 * Signed answers are kept per (CertID hash, serial) and served again while the status is
 * the same, their nextUpdate is ahead and they are younger than ocsp.refresh_seconds. In
 * idle moments (ocsp_responder_presign) the kept answers whose status changed or that
 * used half their life are signed again, and answers for issued certificates not asked
 * about yet are signed ahead (SHA-1 CertID), up to ocsp.cache_entries. A request with a nonce of 16 to 32 octets gets a fresh answer
 * that echoes it; other nonce lengths are answered without one (RFC 8954 2.1).
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
/* Sign up to BUDGET answers ahead: kept ones whose status changed or that are getting
 * old, then issued certificates not signed yet. Returns how many were signed. */
int ocsp_responder_presign(ocsp_responder_t *r, int budget);

#endif
