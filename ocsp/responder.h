/*
 * responder.h: OCSP answers (RFC 6960) from what ca-signer publishes (status.h).
 *
 * The responder holds no CA key and opens no database: it reads the signed complete and
 * delta CRLs and the list of issued serials from signer.crl_dir and signs each answer
 * with its own delegated key (id-kp-OCSPSigning). A serial the CRLs list is "revoked"
 * with the CRL's reason and date (certificateHold for a hold); a serial this CA issued
 * and did not revoke is "good"; a serial it never issued, or another issuer's, is
 * "unknown" (RFC 6960 2.2). A request that names another CA gets "unauthorized" (RFC 6960
 * 2.3 and RFC 5019 2.2.3: no authoritative record here), unsigned. thisUpdate and nextUpdate are those of the CRL the answer
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
#include <time.h>

#include "config.h"

typedef struct ocsp_responder ocsp_responder_t;

/* Load the CA certificate and the responder's key and certificate. NULL on error (logged). */
ocsp_responder_t *ocsp_responder_new(const config_t *cfg);
void ocsp_responder_destroy(ocsp_responder_t **r);
/* The answer to the DER request REQ. With WRAPPED and a wrapper set, a kept answer is
 * given as its handle in *WRAPPED and NULL is returned; otherwise the DER OCSP response
 * (malloc'd, *outlen set), never NULL: a bad request gets malformedRequest, one about
 * another CA's certificate unauthorized, a missing or bad CRL tryLater. A request seen
 * before is found by its bytes, without being decoded. */
uint8_t *ocsp_responder_answer(ocsp_responder_t *r, const uint8_t *req, size_t len, void **wrapped,
    size_t *outlen);
/* What a kept answer says, for its wrapper (ocsp_responder_set_wrap). */
struct ocsp_kept_info {
	int status;		/* V_OCSP_CERTSTATUS_GOOD, _REVOKED or _UNKNOWN */
	time_t produced_at;	/* when it was signed */
	time_t next_update;	/* its nextUpdate */
	time_t served_until;	/* it is served at most until then (ocsp.refresh_seconds) */
};
/* WRAP makes what the caller serves from a kept answer just signed (for example the
 * whole HTTP response) and takes DER over (malloc'd; the handle frees it); UNWRAP lets a
 * handle go when its answer is replaced or dropped. */
typedef void *(*ocsp_wrap_fn)(void *arg, uint8_t *der, size_t len, const struct ocsp_kept_info *info);
typedef void (*ocsp_unwrap_fn)(void *arg, void *handle);
/* Wrap every kept answer from now on (those kept so far are dropped). */
void ocsp_responder_set_wrap(ocsp_responder_t *r, ocsp_wrap_fn wrap, ocsp_unwrap_fn unwrap, void *arg);
/* Sign up to BUDGET answers ahead: kept ones whose status changed or that are getting
 * old, then issued certificates not signed yet. Returns how many were signed. */
int ocsp_responder_presign(ocsp_responder_t *r, int budget);

#endif
