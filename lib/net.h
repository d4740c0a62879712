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

#endif
