/*
 * msg.h: every ZeroMQ message the RA sends, in one place.
 *
 * A message is a multipart ZeroMQ message:
 *   frame 0  the protocol version, MSG_PROTO ("RA/1"); bump it on any change below
 *   frame 1  the command name (e.g. "SUBMIT"), from msg_table
 *   frame 2… exactly msg_table[cmd].nframes body frames, in the order listed below
 * On a ROUTER socket the peer's routing id comes first. Numbers travel as decimal text,
 * JSON as UTF-8 text, certificates and requests as DER bytes. msg_recv() rejects a wrong
 * version, an unknown command, and a missing or extra frame, so handlers see only
 * well-formed messages.
 *
 *  producer → ra-queue (DEALER → ROUTER, domain "clients")
 *   SUBMIT     kind, idem_key ("" = none), payload JSON      → ACK job_id | ERROR
 *   WAIT       job_id, timeout_ms                            → STATE job_id, state, result JSON
 *   QUERY      what, args JSON                               → ANSWER json | ERROR
 *  ra-worker ↔ ra-queue (DEALER ↔ ROUTER, domain "workers"; Paranoid Pirate)
 *   READY      kinds ("all" or comma list)                   worker is idle
 *   HEARTBEAT  (none)                                        either way, while idle; from a
 *                                                            worker the queue does not know
 *                                                            → ERROR (the worker says READY)
 *   JOB        job_id, token, kind, payload JSON, attempt    queue leases a job
 *   DONE       job_id, token                                 committed (in ra.db) by the worker
 *   FAILED     job_id, token, retry (0/1), error, detail JSON worker gives the job back
 *                                                            (detail: a refusal's code and
 *                                                            Chinese words, or {})
 *   DISCONNECT (none)                                        worker → queue: it is stopping
 *                                                            (SIGTERM); hand it nothing more
 *  ra-worker → ca-signer (DEALER → ROUTER, domain "workers")
 *   SIGN       request_id, usage, csr DER, subject JSON      → CERT der, serial | ERROR
 *   STATUS     request_id, serial, action, reason, invalidity → ANSWER json | ERROR
 *   CRL        (none)                                        → ANSWER json | ERROR
 *   CHECKPOINT rows, head (the audit chain's row count and last hash)
 *                                            → ANSWER {rows, head, at, signature (base64)} | ERROR
 *  ra-worker → ra-cardkey (DEALER → ROUTER, domain "workers"; cardkey/)
 *   CARD_CHALLENGE  request_id (the challenge job's id), card serial, witness bytes
 *                   → ANSWER {witness (hex, decrypted), challenge (hex)} | ERROR
 *   CARD_PROOF      challenge request_id, card serial, response bytes, recipient (X25519
 *                   public key, 32 bytes; empty: check only), puk_version
 *                   → ANSWER {ok, sealed_puk, sealed_next_puk, sealed_after_puk (base64)} | ERROR
 *  any reply
 *   ERROR      code, text
 */
#ifndef RA_MSG_H
#define RA_MSG_H

#include <czmq.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MSG_PROTO "RA/1"

enum msg_cmd {
	MSG_SUBMIT, MSG_WAIT, MSG_QUERY, MSG_ACK, MSG_STATE, MSG_ANSWER,
	MSG_READY, MSG_HEARTBEAT, MSG_JOB, MSG_DONE, MSG_FAILED, MSG_DISCONNECT,
	MSG_SIGN, MSG_CERT, MSG_STATUS, MSG_CRL, MSG_CHECKPOINT,
	MSG_CARD_CHALLENGE, MSG_CARD_PROOF,
	MSG_ERROR,
	MSG_NCMDS
};

/* Error codes carried by ERROR: the caller can tell "try again" from "never". */
enum msg_err {
	MERR_BAD_MESSAGE = 1,	/* malformed: never retry */
	MERR_REFUSED = 2,	/* valid message, refused by a rule: never retry */
	MERR_NOT_FOUND = 3,
	MERR_INTERNAL = 4,	/* may succeed later */
};

struct msg_def {
	const char *name;
	int nframes;
};
extern const struct msg_def msg_table[MSG_NCMDS];

typedef struct msg {
	enum msg_cmd cmd;
	zframe_t *routing;	/* ROUTER side only, else NULL */
	char peer[32];		/* received: the sender's authenticated name (ZAP User-Id), or "" */
	int nframes;
	zframe_t *frames[6];
} msg_t;

/* New outgoing message; add exactly msg_table[cmd].nframes frames before sending. */
msg_t *msg_new(enum msg_cmd cmd);
void msg_destroy(msg_t **m);
void msg_add_mem(msg_t *m, const void *data, size_t len);
void msg_add_str(msg_t *m, const char *s);
void msg_add_i64(msg_t *m, int64_t v);
/* Adds the compact JSON text of J (not stolen). */
void msg_add_json(msg_t *m, const json_t *j);
/* Send to SOCK (to m->routing first if set). Destroys *m. 0/-1. */
int msg_send(msg_t **m, zsock_t *sock);
/*
 * Receive one message; on a ROUTER socket pass router=1 to take the routing frame. NULL on
 * interrupt or on a malformed message (then *why, if WHY is not NULL, says what was wrong).
 * A malformed message from a ROUTER peer comes back, when WHY is given, as a msg_t whose
 * cmd is MSG_NCMDS and which holds only the routing frame, so the caller can answer ERROR.
 */
msg_t *msg_recv(zsock_t *sock, int router, const char **why);
/* The same checks on a message already received (taken: *Z is destroyed and cleared). */
msg_t *msg_decode(zmsg_t **z, int router, const char **why);

/* Body frame accessors (index from 0). */
size_t msg_len(const msg_t *m, int i);
const uint8_t *msg_data(const msg_t *m, int i);
/* A fresh NUL-terminated copy; NULL if the frame has a NUL byte inside. Caller frees. */
char *msg_str(const msg_t *m, int i);
/* Strict decimal; -1 and *ok = 0 on anything else. */
int64_t msg_i64(const msg_t *m, int i, int *ok);
/* Parse a JSON object frame; NULL if it is not one. Caller decrefs. */
json_t *msg_json(const msg_t *m, int i);

/* Convenience: reply ERROR code, text to the sender of REQ (keeps its routing). */
int msg_send_error(zsock_t *sock, const msg_t *req, enum msg_err code, const char *text);

#endif
