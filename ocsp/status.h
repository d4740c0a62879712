/*
 * status.h: what the OCSP responder knows about a serial, from the files ca-signer
 * publishes in signer.crl_dir (read-only here; copied as they are to a responder on
 * another host):
 *
 *   ra.crl        the complete CRL, signed by the CA (checked here against the CA)
 *   ra-delta.crl  the delta CRL (RFC 5280 5.2.4), signed by the CA, after every change
 *   ra.issued     every serial ever issued, one hex serial a line, only appended to
 *
 * A serial is revoked (with the reason and date) when the newest CRL information says so,
 * good when it was issued and is not revoked, and unknown when it was never issued. Files
 * are checked for changes (inode, size, time) on every refresh; a CRL that does not verify
 * is refused and the previous one kept.
 */
#ifndef RA_OCSP_STATUS_H
#define RA_OCSP_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

typedef struct ocsp_status ocsp_status_t;

/* Status of one serial: V_OCSP_CERTSTATUS_GOOD, _REVOKED or _UNKNOWN. */
struct ocsp_status_answer {
	int status;
	int reason;			/* revoked: the CRL reason (0 unspecified) */
	time_t revoked_at;		/* revoked: when */
	time_t this_update, next_update;	/* of the CRL the answer comes from */
};

/* Read from DIR; CA checks the CRLs (kept, reference counted). Never NULL. */
ocsp_status_t *ocsp_status_new(const char *dir, X509 *ca);
void ocsp_status_destroy(ocsp_status_t **st);
/* Read again whatever changed. 0 when a complete CRL is loaded, -1 when none is. */
int ocsp_status_refresh(ocsp_status_t *st);
/* The answer for the serial whose magnitude bytes are SN[0..LEN). 0, or -1 if no CRL. */
int ocsp_status_lookup(ocsp_status_t *st, const uint8_t *sn, size_t len,
    struct ocsp_status_answer *a);
/* thisUpdate and nextUpdate of the newest CRL information (0 when there is none). */
void ocsp_status_times(ocsp_status_t *st, time_t *this_update, time_t *next_update);
/* The next issued serial from *CURSOR on (magnitude bytes into SN, *LEN set; the cursor
 * moves past it): 1, or 0 when the walk reached the end (the cursor starts over). */
int ocsp_status_issued_next(ocsp_status_t *st, size_t *cursor, uint8_t sn[20], size_t *len);
/* A counter that moves whenever what the responder knows changes. */
unsigned long ocsp_status_generation(const ocsp_status_t *st);
/* Issued serials known. */
size_t ocsp_status_issued(const ocsp_status_t *st);

#endif
