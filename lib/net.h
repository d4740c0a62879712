/*
 * net.h: ZeroMQ sockets with CURVE on, and the allowlists that say who may connect.
 *
 * Every server socket has a ZAP domain ("clients" for producers, "workers" for workers);
 * the process's ZAP handler accepts a connection only if the client's CURVE public key is
 * one of the *.cert files in the folder allowed for that domain. A refused client's
 * messages never reach the program. An accepted client is known by its key file's name
 * (keys/clients/intake.cert: "intake"), which every message it sends carries as its ZAP
 * User-Id (msg_t.peer), so a server can decide what each client may ask. Key pairs are CZMQ certificate files: NAME.cert
 * (public) and NAME.cert_secret (secret, mode 0600).
 */
#ifndef RA_NET_H
#define RA_NET_H

#include <czmq.h>

#include "config.h"
#include "msg.h"

/* Allow every public key found in DIR (files NAME.cert) for DOMAIN. Call before net_auth_start. 0/-1. */
int net_auth_allow_dir(const char *domain, const char *dir);
/* Start the ZAP handler for this process. 0/-1. */
int net_auth_start(void);
void net_auth_stop(void);

/* Load a key pair (PATH is the public file; PATH_secret must exist). NULL if missing or bad. */
zcert_t *net_cert_load(const char *path);
/* Bind a CURVE server socket of TYPE with CERT's secret key, in DOMAIN. NULL on failure. */
zsock_t *net_server(int type, const char *endpoint, zcert_t *cert, const char *domain);
/* Connect a CURVE client socket of TYPE using MY key pair to the server whose public
 * certificate file is SERVER_CERT. NULL on failure. */
zsock_t *net_client(int type, const char *endpoint, zcert_t *my, const char *server_cert);

/* The endpoint in config KEY, with a relative ipc:// path made absolute against home. Caller frees. */
char *net_endpoint(const config_t *cfg, const char *key);
/* DIR/NAME.cert under the config's keys_dir. Caller frees. */
char *net_key_path(const config_t *cfg, const char *sub, const char *name);

/*
 * A server asked with Lazy Pirate retries (the ZeroMQ Guide): a request that gets no
 * answer in time is sent again on a fresh socket, a few times, before the server is
 * declared unreachable. Only for requests that are safe to repeat: idempotent by their
 * own key (SUBMIT, SIGN, STATUS) or changing nothing (WAIT, QUERY).
 */
typedef struct net_peer net_peer_t;
/* The server WHAT (for messages: "the queue", "ca-signer") at config ENDPOINT_KEY whose
 * public key file is keys_dir/SERVER.cert, asked with our key pair keys_dir/SUB/NAME.cert.
 * With CONNECT_NOW the socket is made at once, else at the first call. NULL (logged) if
 * the key pair cannot be loaded or the socket made. */
net_peer_t *net_peer_new(const config_t *cfg, const char *what, const char *endpoint_key,
    const char *server, const char *sub, const char *name, int connect_now);
void net_peer_destroy(net_peer_t **p);
const char *net_peer_endpoint(const net_peer_t *p);
/* HMAC-SHA256 of DATA under our own CURVE secret key into OUT: a value only this key's
 * holder can compute (producers' idempotency keys); the key itself never leaves. 0/-1. */
int net_peer_hmac(const net_peer_t *p, const void *data, size_t len, uint8_t out[32]);

/* Builds the request afresh for each try (a sent message is consumed). */
typedef msg_t *(*net_build_fn)(const void *arg);
enum { NET_UNREACHABLE = -1, NET_MALFORMED = -2 };
/*
 * Send BUILD(ARG) to PEER and wait up to PER_TRY_MS for the reply, TRIES times at most.
 * Returns the reply, never an ERROR; otherwise NULL with *err (malloc'd) and *code: the
 * ERROR reply's code (enum msg_err) and text, NET_MALFORMED, or NET_UNREACHABLE.
 */
msg_t *net_call(net_peer_t *peer, net_build_fn build, const void *arg, int tries, int per_try_ms,
    int *code, char **err);

#endif
