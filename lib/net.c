/*
 * net.c: CURVE sockets and a ZAP handler with per-domain allowlists (see net.h).
 *
 * The allowlists are filled before the handler starts and never change afterwards, so the
 * handler thread reads them without locks. Unknown domains and non-CURVE mechanisms are
 * refused: a server socket without CURVE never accepts anyone. Server sockets set
 * ZMQ_ZAP_ENFORCE_DOMAIN: without it libzmq admits every CURVE client when no ZAP handler
 * answers (the handler thread died, or was never started), so authentication would fail
 * open; with it the handshake fails instead.
 */
#include "net.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <string.h>

#define NET_MAX_KEYS 1024
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93	/* libzmq >= 4.3 (a draft option in zmq.h) */
#endif

struct allow {
	char domain[32];
	char name[32];		/* the key file's name: the client's identity (ZAP User-Id) */
	uint8_t key[32];
};
static struct allow net_allow[NET_MAX_KEYS];
static int net_nallow;
static zactor_t *net_zap;

int net_auth_allow_dir(const char *domain, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d) {
		log_err("cannot read allowlist folder %s", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *path;
		zcert_t *c;
		if (len < 6 || strcmp(e->d_name + len - 5, ".cert") != 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		c = zcert_load(path);
		free(path);
		if (!c) {
			log_warn("allowlist: %s/%s is not a key certificate; skipped", dir, e->d_name);
			continue;
		}
		if (net_nallow < NET_MAX_KEYS) {
			snprintf(net_allow[net_nallow].domain, sizeof net_allow[0].domain, "%s", domain);
			snprintf(net_allow[net_nallow].name, sizeof net_allow[0].name, "%.*s", (int)(len - 5), e->d_name);
			memcpy(net_allow[net_nallow].key, zcert_public_key(c), 32);
			net_nallow++;
			n++;
		}
		zcert_destroy(&c);
	}
	closedir(d);
	log_debug("allowlist %s: %d keys from %s", domain, n, dir);
	return 0;
}

/* The allowlist entry for KEY in DOMAIN, or NULL. */
static const struct allow *net_allowed(const char *domain, const uint8_t *key, size_t len)
{
	if (len != 32)
		return NULL;
	for (int i = 0; i < net_nallow; i++)
		if (strcmp(net_allow[i].domain, domain) == 0 && memcmp(net_allow[i].key, key, 32) == 0)
			return &net_allow[i];
	return NULL;
}

/* The ZAP handler (RFC 27): one REP socket on inproc://zeromq.zap.01. */
static void net_zap_actor(zsock_t *pipe, void *arg)
{
	(void)arg;
	zsock_t *rep = zsock_new_rep("inproc://zeromq.zap.01");
	zpoller_t *poller = zpoller_new(pipe, rep, NULL);
	zsock_signal(pipe, rep ? 0 : 1);
	while (rep) {
		zsock_t *which = zpoller_wait(poller, -1);
		if (which == pipe || !which)
			break;
		zmsg_t *req = zmsg_recv(rep);
		if (!req)
			break;
		char *version = zmsg_popstr(req), *reqid = zmsg_popstr(req), *domain = zmsg_popstr(req);
		char *address = zmsg_popstr(req), *identity = zmsg_popstr(req), *mech = zmsg_popstr(req);
		zframe_t *key = zmsg_pop(req);
		const struct allow *who = version && mech && domain && strcmp(mech, "CURVE") == 0 && key ?
		    net_allowed(domain, zframe_data(key), zframe_size(key)) : NULL;
		int ok = who != NULL;
		if (!ok) {
			char txt[65] = "";
			if (key && zframe_size(key) == 32)
				zmq_z85_encode(txt, zframe_data(key), 32);
			log_warn("refused a %s connection from %s in domain '%s' (key %s not allowed)",
			    mech ? mech : "?", address ? address : "?", domain ? domain : "?", txt);
		}
		zmsg_t *rep_msg = zmsg_new();
		zmsg_addstr(rep_msg, "1.0");
		zmsg_addstr(rep_msg, reqid ? reqid : "");
		zmsg_addstr(rep_msg, ok ? "200" : "400");
		zmsg_addstr(rep_msg, ok ? "OK" : "key not allowed");
		zmsg_addstr(rep_msg, ok ? who->name : "");
		zmsg_addmem(rep_msg, "", 0);
		zmsg_send(&rep_msg, rep);
		free(version); free(reqid); free(domain); free(address); free(identity); free(mech);
		zframe_destroy(&key);
		zmsg_destroy(&req);
	}
	zpoller_destroy(&poller);
	zsock_destroy(&rep);
}

int net_auth_start(void)
{
	if (net_zap)
		return 0;
	net_zap = zactor_new(net_zap_actor, NULL);
	return net_zap ? 0 : -1;
}

void net_auth_stop(void) { zactor_destroy(&net_zap); }

zcert_t *net_cert_load(const char *path)
{
	char *secret = xasprintf("%s_secret", path);
	zcert_t *c = NULL;
	if (zsys_file_exists(secret))
		c = zcert_load(path);
	if (!c)
		log_err("cannot load the CURVE key pair %s (and %s)", path, secret);
	free(secret);
	return c;
}

zsock_t *net_server(int type, const char *endpoint, zcert_t *cert, const char *domain)
{
	zsock_t *s = zsock_new(type);
	if (!s)
		return NULL;
	zsock_set_zap_domain(s, domain);
	{
		int enforce = 1;
		if (zmq_setsockopt(zsock_resolve(s), ZMQ_ZAP_ENFORCE_DOMAIN, &enforce, sizeof enforce) < 0) {
			log_err("cannot require a ZAP handler on %s: %s", endpoint, zmq_strerror(zmq_errno()));
			zsock_destroy(&s);
			return NULL;
		}
	}
	zcert_apply(cert, s);
	zsock_set_curve_server(s, 1);
	zsock_set_linger(s, 0);
	zsock_set_sndhwm(s, 100000);
	zsock_set_rcvhwm(s, 100000);
	/* An ipc socket is reachable by every local user: CURVE and the ZAP allowlist decide
	 * who gets in, and the daemons of one host run as different users. */
	mode_t mask = umask(0);
	int rc = zsock_bind(s, "%s", endpoint);
	umask(mask);
	if (rc < 0) {
		log_err("cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
		zsock_destroy(&s);
	}
	return s;
}

zsock_t *net_client(int type, const char *endpoint, zcert_t *my, const char *server_cert)
{
	zcert_t *srv = zcert_load(server_cert);
	zsock_t *s = NULL;
	if (!srv) {
		log_err("cannot load the server's public key %s", server_cert);
		return NULL;
	}
	s = zsock_new(type);
	if (!s)
		goto out;
	zcert_apply(my, s);
	zsock_set_curve_serverkey(s, zcert_public_txt(srv));
	zsock_set_linger(s, 0);
	zsock_set_sndhwm(s, 100000);
	zsock_set_rcvhwm(s, 100000);
	if (zsock_connect(s, "%s", endpoint) < 0) {
		log_err("cannot connect to %s: %s", endpoint, zmq_strerror(zmq_errno()));
		zsock_destroy(&s);
	}
out:
	zcert_destroy(&srv);
	return s;
}

char *net_endpoint(const config_t *cfg, const char *key)
{
	const char *v = config_str(cfg, key);
	if (strncmp(v, "ipc://", 6) == 0 && v[6] != '/')
		return xasprintf("ipc://%s/%s", config_home(cfg), v + 6);
	return xstrdup(v);
}

char *net_key_path(const config_t *cfg, const char *sub, const char *name)
{
	char *dir = config_path(cfg, "keys_dir");
	char *p = *sub ? xasprintf("%s/%s/%s.cert", dir, sub, name) : xasprintf("%s/%s.cert", dir, name);
	free(dir);
	return p;
}

struct net_peer {
	char *what, *endpoint, *server_cert;
	zcert_t *cert;
	zsock_t *sock;		/* NULL until the first call, and after a silence */
};

net_peer_t *net_peer_new(const config_t *cfg, const char *what, const char *endpoint_key,
    const char *server, const char *sub, const char *name, int connect_now)
{
	net_peer_t *p = xcalloc(1, sizeof *p);
	char *mine = net_key_path(cfg, sub, name);

	p->what = xstrdup(what);
	p->endpoint = net_endpoint(cfg, endpoint_key);
	p->server_cert = net_key_path(cfg, "", server);
	p->cert = net_cert_load(mine);
	if (!p->cert)
		log_err("cannot load the key pair %s", mine);
	free(mine);
	if (!p->cert || (connect_now &&
	    !(p->sock = net_client(ZMQ_DEALER, p->endpoint, p->cert, p->server_cert))))
		net_peer_destroy(&p);
	return p;
}

void net_peer_destroy(net_peer_t **pp)
{
	net_peer_t *p = pp ? *pp : NULL;
	if (!p)
		return;
	zsock_destroy(&p->sock);
	zcert_destroy(&p->cert);
	free(p->what);
	free(p->endpoint);
	free(p->server_cert);
	free(p);
	*pp = NULL;
}

int net_peer_hmac(const net_peer_t *p, const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	return HMAC(EVP_sha256(), zcert_secret_key(p->cert), 32, data, len, out, &n) && n == 32 ? 0 : -1;
}

const char *net_peer_endpoint(const net_peer_t *p)
{
	return p->endpoint;
}

msg_t *net_call(net_peer_t *peer, net_build_fn build, const void *arg, int tries, int per_try_ms,
    int *code, char **err)
{
	for (int attempt = 1; attempt <= tries && !zsys_interrupted; attempt++) {
		msg_t *req, *rep;
		zpoller_t *poll;
		void *ready;

		if (!peer->sock && !(peer->sock = net_client(ZMQ_DEALER, peer->endpoint, peer->cert, peer->server_cert)))
			break;
		req = build(arg);
		if (msg_send(&req, peer->sock) < 0)
			break;
		poll = zpoller_new(peer->sock, NULL);
		ready = zpoller_wait(poll, per_try_ms);
		zpoller_destroy(&poll);
		if (!ready) {
			if (zsys_interrupted)
				break;
			log_warn("%s did not answer in %d ms at %s; asking again (%d/%d)", peer->what,
			    per_try_ms, peer->endpoint, attempt, tries);
			zsock_destroy(&peer->sock);	/* a fresh socket drops the lost request */
			continue;
		}
		rep = msg_recv(peer->sock, 0, NULL);
		if (rep && rep->cmd == MSG_ERROR) {
			int ok;
			char *t = msg_str(rep, 1);
			*code = (int)msg_i64(rep, 0, &ok);
			*err = xasprintf("%s", t ? t : "error");
			free(t);
			msg_destroy(&rep);
			return NULL;
		}
		if (!rep) {
			*code = NET_MALFORMED;
			*err = xasprintf("%s sent a malformed answer", peer->what);
		}
		return rep;
	}
	*code = NET_UNREACHABLE;
	*err = xasprintf("%s unreachable at %s", peer->what, peer->endpoint);
	return NULL;
}
