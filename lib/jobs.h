/*
 * jobs.h: the job kinds the RA knows, and the worker-side job ledger operations.
 *
 * Every change of state enters as a job (a row of ra.db's jobs table). ra-queue accepts
 * only the kinds listed here, each only from the producers named for it: a producer is
 * known by its CURVE key (keys/clients/NAME.cert), so the subscribers' website front end
 * ("self") cannot, say, bulk-revoke, and a card station cannot approve forms.
 *
 * Fencing: a worker completes a job only if the job's lease_token is still the one it
 * was given. job_complete() runs inside the worker's transaction, next to the job's
 * effects; if it returns 0 the caller must roll back, because another worker owns the
 * job now.
 */
#ifndef RA_JOBS_H
#define RA_JOBS_H

#include <jansson.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdint.h>

/*
 * The producers: a client is known by its key file's name (keys/clients/NAME.cert). What a
 * producer may submit or ask is a set of these bits.
 */
#define JOB_PRODUCERS(X) \
	X(intake)	/* ra-intake, the counter */ \
	X(self)		/* ra-self, the subscriber's command-line client */ \
	X(web)		/* ra-web, the subscribers' website and HTTP API */ \
	X(station)	/* card-station */ \
	X(ctl)		/* ra-ctl, the operator's tool on the RA host */

enum job_producer_bit {
#define X(name) PRODUCER_BIT_##name,
	JOB_PRODUCERS(X)
#undef X
	PRODUCER_COUNT
};
#define X(name) enum { PRODUCER_##name = 1u << PRODUCER_BIT_##name };
JOB_PRODUCERS(X)
#undef X

/* The producer names, in bit order ("intake", "self", ...). */
extern const char *const job_producer_names[PRODUCER_COUNT];
/* The bit of the producer named NAME or NAME.INSTANCE; 0 for an unknown or empty name. */
unsigned job_producer_bit(const char *name);
/*
 * A producer may have several instances, each with a key pair of its own named
 * "PRODUCER.INSTANCE" (keys/clients/station.counter2.cert: the card station "counter2").
 * Such a client has its producer's rights, follows only its own jobs, scopes its own
 * idempotency keys, and may submit a payload naming a "station" only if that is itself
 * (ra-queue checks it). An instance name is 1 to JOB_INSTANCE_MAX of a-z 0-9 and '-'
 * (not first).
 */
#define JOB_INSTANCE_MAX 20
int job_instance_valid(const char *instance);
/* The INSTANCE of a client named "PRODUCER.INSTANCE", or NULL (a producer's shared key). */
const char *job_producer_instance(const char *client);
/* The names of the producers in SET, comma-separated, in BUF (of SIZE). Returns BUF. */
char *job_producer_list(unsigned set, char *buf, size_t size);

/*
 * The officers' roles. A job kind an officer signs names the roles that may sign it;
 * ROLE_NONE: not an officer action (a subscriber's request, proved by their own password
 * or card). lib/officer.c names the roles; workers/officer_check.c enforces them.
 */
enum officer_role { ROLE_NONE = 0, ROLE_CLERK = 1, ROLE_SUPERVISOR = 2, ROLE_OPERATOR = 4, ROLE_ADMIN = 8 };
#define ROLE_ALL (ROLE_CLERK | ROLE_SUPERVISOR | ROLE_OPERATOR | ROLE_ADMIN)

/*
 * The job kinds: name, the producers that may submit it, the officer roles that may sign
 * it, and its help line. This list is the only one: the enum below, lib/jobs.c's table,
 * lib/officer.c's roles and the worker's handler table (workers/handlers.c, checked at
 * compile time to have every kind) derive from it; lib/jobs.c checks at compile time
 * that every kind's roles are roles.
 */
#define JOB_KINDS(X) \
	X(form_key, PRODUCER_intake | PRODUCER_ctl, ROLE_CLERK | ROLE_SUPERVISOR, \
	  "store keyed forms (first keying); one job per batch") \
	X(form_verify, PRODUCER_intake | PRODUCER_ctl, ROLE_CLERK | ROLE_SUPERVISOR, \
	  "second, blind keying of a stored form") \
	X(form_approve, PRODUCER_intake | PRODUCER_ctl, ROLE_SUPERVISOR, \
	  "approve a verified form (not by its keyer or verifier) and carry it out in the same transaction") \
	X(form_reject, PRODUCER_intake | PRODUCER_ctl, ROLE_SUPERVISOR, \
	  "reject a keyed form with a listed reason (a supervisor); the applicant is told") \
	X(subscriber_find, PRODUCER_intake | PRODUCER_ctl, ROLE_CLERK | ROLE_SUPERVISOR, \
	  "find subscribers by ID number, UBN, name, e-mail, account, card or certificate (audited)") \
	X(issue, PRODUCER_station | PRODUCER_ctl, ROLE_OPERATOR, \
	  "issue the signature and encryption certificates of a card order") \
	X(order_claim, PRODUCER_station, ROLE_OPERATOR, \
	  "give the next approved card order to a card being personalized") \
	X(card_done, PRODUCER_station, ROLE_OPERATOR, \
	  "record a personalized card against its order; PIN sheet") \
	X(card_fail, PRODUCER_station, ROLE_OPERATOR, \
	  "a card failed half way: revoke what it got, put its order back") \
	X(card_challenge, PRODUCER_station | PRODUCER_web, ROLE_NONE, \
	  "website password and card check; answer the card's management-key witness") \
	X(card_unlock, PRODUCER_station | PRODUCER_web, ROLE_NONE, \
	  "release a card's PUK and the next one, sealed to the station, after its challenge") \
	X(card_puk, PRODUCER_station | PRODUCER_web, ROLE_NONE, \
	  "record that an unlocked card's PUK was changed to the next one released") \
	X(card_renew, PRODUCER_station | PRODUCER_web, ROLE_NONE, \
	  "new certificates for a card in its renewal window, after its challenge") \
	X(card_dispatch, PRODUCER_station | PRODUCER_ctl, ROLE_CLERK | ROLE_OPERATOR | ROLE_SUPERVISOR, \
	  "where a personalized card went: handed over at the counter, mailed (tracking number), returned undelivered (or returned, revoked and set aside)") \
	X(revoke, PRODUCER_ctl, ROLE_ADMIN, \
	  "RA-initiated revocation of listed certificates (bulk, e.g. a compromised card batch)") \
	X(suspend, PRODUCER_self | PRODUCER_web, ROLE_NONE, \
	  "hold one or both certificates of an account, with a reason (subscriber online, website password)") \
	X(login, PRODUCER_self | PRODUCER_web, ROLE_NONE, \
	  "check an account's website password (lockout rule); answers the account's status") \
	X(password_change, PRODUCER_self | PRODUCER_web, ROLE_NONE, \
	  "change a website password (old, new; password policy)") \
	X(renew, PRODUCER_self | PRODUCER_web, ROLE_NONE, \
	  "renew an account's certificates from new requests within the renewal window (subscriber's password)") \
	X(counter_renew, PRODUCER_ctl, ROLE_SUPERVISOR, \
	  "renewal at the counter, signed by a supervisor (ra-ctl renew)") \
	X(officer_add, PRODUCER_ctl, ROLE_ADMIN, \
	  "record a new officer and their certificate (signed by an administrator)") \
	X(officer_disable, PRODUCER_ctl, ROLE_ADMIN, \
	  "refuse an officer's signatures from now on (signed by an administrator)")

enum job_kind_id {
#define X(name, producers, roles, help) JOB_KIND_##name,
	JOB_KINDS(X)
#undef X
	JOB_KIND_COUNT
};

struct job_kind {
	enum job_kind_id id;
	const char *name;
	unsigned producers;	/* PRODUCER_* bits: who may submit it */
	int roles;		/* enum officer_role bits: who may sign it (ROLE_NONE: no officer) */
	const char *help;
};
extern const struct job_kind job_kinds[JOB_KIND_COUNT];
extern const int job_nkinds;
/* The kind named NAME, or NULL. */
const struct job_kind *job_kind_find(const char *name);
/* Whether CLIENT (the authenticated name of a producer's CURVE key) may submit K. */
int job_kind_allows(const struct job_kind *k, const char *client);
/* A set of kinds, one bit per enum job_kind_id: a worker's `--kinds` / READY list. */
typedef uint64_t job_kind_set;
_Static_assert(JOB_KIND_COUNT <= 64, "a job_kind_set holds at most 64 kinds");
/* The set named by LIST: "all", or kind names separated by commas (unknown names are
 * left out and logged). */
job_kind_set job_kind_set_parse(const char *list);
/* Whether SET holds the kind named KIND. */
int job_kind_set_has(job_kind_set set, const char *kind);

/*
 * What a failed attempt asks of the queue (the FAILED message's retry frame): give up
 * (park the job as failed), try again (the attempt counts against queue.max_attempts), or
 * wait for a service the job needs and cannot reach (ca-signer down): the attempt does
 * not count, so an outage of any length parks nothing, and the waits are spaced out
 * (retry_backoff_ms x 32, at most a minute) so that the waiting jobs do not storm.
 */
enum { JOB_GIVE_UP = 0, JOB_RETRY = 1, JOB_RETRY_WAIT = 2 };

/* Insert a job in the current transaction (idempotent by IDEM if not NULL/empty, within
 * SUBMITTED_BY and KIND). Returns the job id, the existing one if the same submitter sent
 * IDEM for KIND before (then *existed = 1), or -1. */
/* The key as its producer sent it: a stored idem_key without its "SUBMITTER/KIND/" scope. */
const char *job_idem_sent(const char *stored);
int64_t job_insert(sqlite3 *db, const char *kind, const char *idem, const char *payload,
    const char *submitted_by, int64_t parent, int *existed);
/* Replace payload member MEMBER of job ID (a sealed secret) with "(redacted)", in the current
 * transaction, so nothing secret stays in the ledger once the job is done. 0/-1. */
int job_redact(sqlite3 *db, int64_t id, const char *member);
/*
 * Replace every payload member that may hold a sealed secret (password, new_password,
 * sealed_password, sealed_pin) with "(redacted)". Done by job_complete() and when the
 * queue parks a job as failed, so a finished job keeps no secret, not even sealed. 0/-1.
 */
int job_redact_secrets(sqlite3 *db, int64_t id);
/* Mark job ID done with RESULT if TOKEN is still its lease token. 1 done, 0 fenced off, -1 error. */
int job_complete(sqlite3 *db, int64_t id, int64_t token, json_t *result);

#endif
