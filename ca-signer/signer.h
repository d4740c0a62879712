/*
 * signer.h: the CA signer's core, the only code that touches the CA key.
 *
 * ca-signer's main loop receives requests from workers and calls this API; nothing else
 * links it. The signer keeps its own database (signer.db: every certificate, its status
 * and an append-only journal) and builds every certificate from its own profile
 * (configuration), never from what a request asks for: a CSR supplies only its public key
 * and proof of possession. Each certificate is linted before it is signed.
 *
 * Issuance is CPU-bound (one RSA signature per certificate): the signing threads sign
 * on every core while signer.db stays on the caller's thread, which stores, commits and
 * answers one batch while they sign the next (signer_issue_start / _finish).
 *
 * Every state change is idempotent by request id: a request id that was already served
 * gets the same answer again (for issuance: the same certificate, `repeated` set), and a
 * request id reused for a different request is an error. Errors are returned as a clear
 * one-line English reason in the caller's buffer; no secret ever appears in one.
 */
#ifndef RA_SIGNER_H
#define RA_SIGNER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

#define SIGNER_ERR_LEN 256
#define SIGNER_SERIAL_LEN 41	/* lower-case hex of up to 20 octets, NUL */

typedef struct signer signer_t;

/*
 * Load the CA certificate and key (encrypted PEM with its passphrase file or a tty prompt,
 * or a PKCS#11 token), check they match, open signer.db and the profile. NULL on failure,
 * every reason logged.
 */
signer_t *signer_new(const config_t *cfg);
/* Wipe and free everything; accepts NULL and clears the pointer. Every issuance job
 * started must be finished first. */
void signer_destroy(signer_t **s);

struct sign_request {
	const char *request_id;		/* idempotency: same id -> same certificate */
	const char *usage;		/* "signature" or "encryption" */
	const uint8_t *csr_der;		/* PKCS#10, DER */
	size_t csr_len;
	const char *subject_name;	/* CN, UTF-8, from the subscriber record */
	const char *subject_serial;	/* the subscriber's account id (serialNumber attribute) */
	const char *email;		/* rfc822Name SAN; NULL or "" for none */
};

struct sign_result {
	uint8_t *der;			/* the certificate (DER), malloc'd: signer_result_clear */
	size_t der_len;
	char serial[SIGNER_SERIAL_LEN];	/* lower-case hex */
	time_t not_after;
	int repeated;			/* 1: this request id had been served before */
	char error[SIGNER_ERR_LEN];	/* why, when signer_issue returned -1 */
};

/*
 * Issue (or, for a request id seen before, return again) one certificate. 0 and *res
 * filled, or -1 with res->error saying why. Outside a batch the certificate is committed
 * before this returns; inside one, only when signer_batch_commit succeeds.
 */
int signer_issue(signer_t *s, const struct sign_request *req, struct sign_result *res);
/*
 * Issue N requests at once, signing on every core (the loop's batch: everything waiting
 * on its socket). Each res[i] is filled as by signer_issue: res[i].der set on success,
 * res[i].error otherwise; the same request id twice in one call gets one certificate.
 * Returns 0, or -1 when signer.db failed and no result stands (each says so).
 */
int signer_issue_many(signer_t *s, const struct sign_request *reqs, struct sign_result *res,
    size_t n);
/* Free the certificate held by a result and zero it. Accepts NULL. */
void signer_result_clear(struct sign_result *res);

/*
 * Group commit: everything between begin and commit is one transaction, so a loop can sign
 * every request waiting on its socket, commit once, then reply. If commit fails (-1) none
 * of the batch's certificates or status changes are stored: reply an error to all of
 * them. Rollback discards the batch on purpose. 0/-1.
 */
int signer_batch_begin(signer_t *s);
int signer_batch_commit(signer_t *s);
int signer_batch_rollback(signer_t *s);
/*
 * Commit the batch without waiting for the disk: the sync runs on the signer's syncing
 * thread, and *TICKET names it (0: already durable). Until signer_batch_durable says 1,
 * nothing of the batch may be reported as stored. 0, or -1 as signer_batch_commit.
 */
int signer_batch_commit_async(signer_t *s, uint64_t *ticket);
/* 1 when the batch of TICKET is on disk, 0 not yet (WAIT: block until settled), -1 when
 * its sync failed (answer its requests with an error; a retry is answered from
 * signer.db). */
int signer_batch_durable(signer_t *s, uint64_t ticket, int wait);
/*
 * Issuance in two steps, so that the caller works while the signing threads sign (the
 * daemon stores, commits and answers one batch while the next is signed). Start checks
 * the N requests and looks them up on the caller's thread, as signer_issue_many does (a
 * request id or a key held by a job started earlier and not yet finished counts as
 * taken: the same request again is answered with that job's certificate), queues their
 * signatures behind those of the jobs started before, and returns at once. REQS and RES
 * must stay until the job is finished. Never NULL: a job with nothing to sign is ready
 * at once.
 */
typedef struct signer_job signer_job_t;
signer_job_t *signer_issue_start(signer_t *s, const struct sign_request *reqs,
    struct sign_result *res, size_t n);
/* 1 when JOB's signatures are all made (signer_issue_finish will not wait), else 0. */
int signer_issue_ready(signer_t *s, signer_job_t *job);
/*
 * Wait for *JOB's signatures, store its certificates (in the open batch, else in a
 * transaction of its own) and fill its results, as signer_issue_many. Jobs finish in the
 * order they started. Frees the job and clears the pointer. 0, or -1 as
 * signer_issue_many.
 */
int signer_issue_finish(signer_t *s, signer_job_t **job);
/*
 * NOTIFY(ARG) is called on one of the signer's own threads when a job's signatures are
 * all made and when a batch's sync settles: the daemon's loop sleeps until one of them
 * (or a request) comes. It must only wake the loop. Set once, before any job. NULL: none.
 */
void signer_set_notify(signer_t *s, void (*notify)(void *arg), void *arg);

/* RFC 5280 CRLReason codes. */
enum signer_reason {
	SIGNER_REASON_UNSPECIFIED = 0,
	SIGNER_REASON_KEY_COMPROMISE = 1,
	SIGNER_REASON_CA_COMPROMISE = 2,
	SIGNER_REASON_AFFILIATION_CHANGED = 3,
	SIGNER_REASON_SUPERSEDED = 4,
	SIGNER_REASON_CESSATION_OF_OPERATION = 5,
	SIGNER_REASON_CERTIFICATE_HOLD = 6,
	SIGNER_REASON_REMOVE_FROM_CRL = 8,
	SIGNER_REASON_PRIVILEGE_WITHDRAWN = 9,
	SIGNER_REASON_AA_COMPROMISE = 10,
};
/* "keyCompromise" etc.; "unknown" for a value outside RFC 5280. */
const char *signer_reason_name(int reason);
/* Parse a reason by name (as above) or number; -1 if unknown. */
int signer_reason_parse(const char *text);

/*
 * Revoke certificate SERIAL (hex) for REASON (any RFC 5280 reason but certificateHold and
 * removeFromCRL), now; INVALIDITY_DATE (0: none) is when the key is known or suspected to
 * have become unusable, not later than now. A held certificate may be revoked; a revoked
 * one cannot be revoked again. Idempotent by (request id, serial). 0/-1 with err set.
 */
int signer_revoke(signer_t *s, const char *request_id, const char *serial, int reason,
    time_t invalidity_date, char err[SIGNER_ERR_LEN]);
/* Suspend a valid, unexpired certificate (certificateHold). Idempotent. 0/-1. */
int signer_hold(signer_t *s, const char *request_id, const char *serial, char err[SIGNER_ERR_LEN]);
/* Lift a hold (removeFromCRL): the certificate is valid again and leaves the next CRL.
 * Only a held, unexpired certificate can be released. Idempotent. 0/-1. */
int signer_release(signer_t *s, const char *request_id, const char *serial, char err[SIGNER_ERR_LEN]);

enum signer_crl_kind {
	SIGNER_CRL_BASE,	/* complete, and the base of the delta CRLs that follow */
	SIGNER_CRL_COMPLETE,	/* complete; deltas keep naming the last base */
	SIGNER_CRL_DELTA,	/* the changes since the last base (RFC 5280 5.2.4) */
};
/*
 * Sign a CRL and write it atomically to signer.crl_dir: a complete one (every revoked or
 * held, unexpired certificate) as ra.crl (DER) and ra.crl.pem, a delta (every unexpired
 * certificate whose status changed since the base, released ones as removeFromCRL) as
 * ra-delta.crl and ra-delta.crl.pem. Entries come from the DER cached at each status
 * change; only the list is assembled and signed. The CRL number is committed before the
 * files are written, so a number is never reused (a crash may leave a gap). The first
 * complete CRL is always a base; a delta needs a base and signer.delta_crl_url. Not
 * inside a batch. 0/-1 with err set.
 */
int signer_crl_publish(signer_t *s, enum signer_crl_kind kind, char err[SIGNER_ERR_LEN]);
/* 1 when delta CRLs are on (signer.delta_crl_url set), else 0. */
int signer_crl_deltas(const signer_t *s);
/*
 * Write signer.crl_dir/ra.issued, every serial issued here, one lower-case hex serial a
 * line (atomically), and keep it open: from then on each committed issuance appends its
 * serials before it is answered. This is how an OCSP responder, on this host or one the
 * folder is copied to, tells "never issued" from "good". Not inside a batch. 0/-1.
 */
int signer_issued_publish(signer_t *s, char err[SIGNER_ERR_LEN]);
/* The CRL folder, open since signer_new: publishing writes only through it (the sandbox
 * allows writes below this descriptor). */
int signer_crl_fd(const signer_t *s);
/* The number of the last CRL published (0: none yet). */
long long signer_crl_number(signer_t *s);

enum signer_cert_state {
	SIGNER_CERT_UNKNOWN = 0,	/* no certificate with that serial was issued here */
	SIGNER_CERT_VALID = 1,
	SIGNER_CERT_REVOKED = 2,
	SIGNER_CERT_HELD = 3,
};
/* "unknown", "valid", "revoked", "held". */
const char *signer_cert_state_name(enum signer_cert_state st);

struct signer_cert_status {
	enum signer_cert_state state;
	int expired;			/* not_after has passed (by ra_now()) */
	int reason;			/* when revoked or held, else -1 */
	time_t revoked_at;		/* when revoked or held, else 0 */
	time_t invalidity_date;		/* 0: none */
	time_t not_before, not_after;
	char usage[16];
	char request_id[128];		/* the request it was issued for */
	char serial[SIGNER_SERIAL_LEN];	/* canonical form */
};

/*
 * Look up a certificate by serial (hex, any case), for queries and OCSP. 0 with *st
 * filled (state UNKNOWN when there is none), -1 with err set on a malformed serial or a
 * database error.
 */
int signer_status(signer_t *s, const char *serial, struct signer_cert_status *st,
    char err[SIGNER_ERR_LEN]);

/*
 * The stored certificate with SERIAL (DER, malloc'd into *der), for re-download. 0, 1 when
 * there is none, -1 with err set.
 */
int signer_cert_der(signer_t *s, const char *serial, uint8_t **der, size_t *len,
    char err[SIGNER_ERR_LEN]);

/*
 * Sign an audit checkpoint (lib/checkpoint.h): the RA's audit chain had ROWS rows ending
 * in HEAD (hex), now (*at, the signer's clock). Never for fewer rows than a checkpoint
 * signed before, so a cut chain cannot be certified again. *sig is malloc'd. 0/-1 with
 * err set. Inside a batch: the row count is committed with it.
 */
int signer_checkpoint(signer_t *s, int64_t rows, const char *head, int64_t *at, uint8_t **sig,
    size_t *sig_len, char err[SIGNER_ERR_LEN]);

#endif
