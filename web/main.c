/*
 * main.c: ra-web, the subscriber's website back end and the RA's HTTP front door.
 *
 * main reads as: options; configuration (all errors at once, --check); the test-only
 * verification code, refused without --insecure-test; TLS key and certificate, the API
 * token; the session store and rate limit; libmicrohttpd with a pool of serving threads
 * (HTTPS through GnuTLS, or plain HTTP on loopback behind a TLS proxy); wait for SIGTERM.
 *
 * Rules: ra-web opens no database and holds no CA or worker key: it reaches the back
 * office only as the "web" producer through ra-queue, and each job is checked there with
 * the subscriber's password. Nothing secret is logged: log lines name the source, the
 * method, the path (never a query string) and the status.
 */
#include "web.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void usage(int code)
{
	printf("usage: ra-web [-c CONFIG] [--check] [--now TIME] [--insecure-test]\n"
	       "\n"
	       "The subscriber's website (pages in Traditional Chinese, English on request: log in\n"
	       "with account, password and verification code; certificates; suspend; change the\n"
	       "website password; card operations through the local card agent) and the RA's JSON\n"
	       "API (/api/v1, docs/openapi.yaml). Serves HTTPS on web.listen with web.tls_cert and\n"
	       "web.tls_key, or plain HTTP on a loopback address behind a TLS reverse proxy\n"
	       "(web.tls: false). Reaches the back office only through ra-queue, with the client\n"
	       "key keys/clients/web. Stops cleanly on SIGTERM or SIGINT.\n"
	       "\n"
	       "  -c, --config FILE   configuration (default: $RA_CONFIG, else embedded defaults)\n"
	       "      --check         check the configuration, keys and certificate, and exit\n"
	       "      --now TIME      pretend the time is TIME (tests)\n"
	       "      --insecure-test allow web.test_code (a fixed verification code): TESTS ONLY;\n"
	       "                      without this flag a configured web.test_code stops ra-web\n"
	       "  -h, --help          this help\n");
	exit(code);
}

struct opts {
	const char *config;
	int check, insecure_test;
};

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, 0, 'c' }, { "check", no_argument, 0, 'k' },
		{ "now", required_argument, 0, 'n' }, { "insecure-test", no_argument, 0, 'I' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;

	memset(o, 0, sizeof *o);
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'k': o->check = 1; break;
		case 'n': if (clock_set(optarg) < 0) fatal("--now %s is not a time", optarg); break;
		case 'I': o->insecure_test = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
}

/* "A.B.C.D:PORT" into SA. 0/-1. */
static int parse_listen(const char *spec, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	char *end;
	long port;

	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - spec) >= sizeof host)
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

/* The client's address: the peer, or what web.trusted_proxy says it forwarded for. */
static void source_of(struct web *w, struct MHD_Connection *con, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *proxy = config_str(w->cfg, "web.trusted_proxy"), *xff, *last;
	const struct sockaddr_in *sin = ci ? (const struct sockaddr_in *)ci->client_addr : NULL;

	snprintf(out, len, "?");
	if (sin && sin->sin_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)len);
	if (!*proxy || strcmp(proxy, out) != 0)
		return;
	if (!(xff = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-Forwarded-For")))
		return;
	last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	while (*last == ' ')
		last++;
	if (*last && strlen(last) < len && strspn(last, "0123456789abcdefABCDEF.:") == strlen(last))
		snprintf(out, len, "%s", last);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct web *w = cls;
	struct web_req *r = *con_cls;

	(void)version;
	if (!r) {
		r = xcalloc(1, sizeof *r);
		r->w = w;
		r->con = con;
		r->method = method;
		r->path = url;
		source_of(w, con, r->source, sizeof r->source);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->body_len + *upload_size > WEB_MAX_BODY) {
			r->too_big = 1;
		} else {
			r->body = xrealloc(r->body, r->body_len + *upload_size + 1);
			memcpy(r->body + r->body_len, upload, *upload_size);
			r->body_len += *upload_size;
			r->body[r->body_len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return route_dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct web_req *r = *con_cls;

	(void)cls;
	(void)con;
	(void)toe;
	if (!r)
		return;
	http_wipe(r);
	free(r->set_cookie);
	OPENSSL_cleanse(r, sizeof *r);
	free(r);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("http: %s", line);
}

/* The site's API token, hashed; the clear token is wiped. 0/-1 (logged). */
static int load_api_token(struct web *w)
{
	char *path = config_path(w->cfg, "web.api_token_file"), *tok;
	size_t len = 0;
	int rc = -1;

	if (!*config_str(w->cfg, "web.api_token_file")) {
		free(path);
		return 0;
	}
	if (!(tok = file_read(path, &len))) {
		log_err("cannot read web.api_token_file %s", path);
		goto out;
	}
	len = strcspn(tok, "\r\n");
	if (len < 32)
		log_err("web.api_token_file %s: the token must have at least 32 characters", path);
	else {
		EVP_Digest(tok, len, w->api_token_hash, NULL, EVP_sha256(), NULL);
		w->api_on = 1;
		rc = 0;
	}
	OPENSSL_cleanse(tok, strlen(tok));
	free(tok);
out:
	free(path);
	return rc;
}

/* The TLS certificate (first of the chain) and key parse and belong together. 0/-1 (logged). */
static int tls_pair_ok(const char *cert, const char *key)
{
	BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
	X509 *x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	int ok = x && k && X509_check_private_key(x, k) == 1;

	if (!x || !k)
		log_err("web.tls_%s is not a PEM %s", !x ? "cert" : "key", !x ? "certificate" : "unencrypted private key");
	else if (!ok)
		log_err("web.tls_key does not belong to web.tls_cert");
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	return ok ? 0 : -1;
}

/* Everything the configuration must allow before ra-web serves; all problems logged. */
static int web_check(struct web *w, const struct opts *o, struct sockaddr_in *sa, char **cert, char **key)
{
	const char *code = config_str(w->cfg, "web.test_code");
	int bad = 0;

	if (*code && !o->insecure_test) {
		log_err("web.test_code is set: a fixed verification code is for tests only; ra-web refuses it"
		    " unless started with --insecure-test");
		bad = 1;
	} else if (*code) {
		if (strlen(code) != CAPTCHA_LEN) {
			log_err("web.test_code must have %d characters", CAPTCHA_LEN);
			bad = 1;
		}
		log_warn("INSECURE TEST MODE: every verification code is the configured web.test_code");
		w->test_code = code;
	}
	if (parse_listen(config_str(w->cfg, "web.listen"), sa) < 0) {
		log_err("web.listen must be IPv4-ADDRESS:PORT, not \"%s\"", config_str(w->cfg, "web.listen"));
		bad = 1;
	}
	w->tls = config_bool(w->cfg, "web.tls");
	if (!w->tls && (ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
		log_err("web.tls is false: plain HTTP is served only on a loopback address, behind a TLS reverse proxy");
		bad = 1;
	}
	if (w->tls) {
		char *cp = config_path(w->cfg, "web.tls_cert"), *kp = config_path(w->cfg, "web.tls_key");
		if (!(*cert = file_read(cp, NULL)))
			log_err("cannot read web.tls_cert %s", cp), bad = 1;
		if (!(*key = file_read(kp, NULL)))
			log_err("cannot read web.tls_key %s", kp), bad = 1;
		free(cp);
		free(kp);
		if (*cert && *key && tls_pair_ok(*cert, *key) < 0)
			bad = 1;
	}
	if (load_api_token(w) < 0)
		bad = 1;
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct web w = { 0 };
	struct opts o;
	struct sockaddr_in sa;
	struct MHD_Daemon *d = NULL;
	char *cert = NULL, *key = NULL;
	sigset_t stop;
	int sig;
	char *mpath = NULL;
	long long every;
	struct timespec tick;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int rc = 1;

	log_init("ra-web", LV_INFO);
	parse(argc, argv, &o);
	w.cfg = config_open(o.config);
	if (log_level_parse(config_str(w.cfg, "log_level")) >= 0)
		log_set_level((enum log_level)log_level_parse(config_str(w.cfg, "log_level")));
	if (web_check(&w, &o, &sa, &cert, &key) < 0)
		goto out;
	if (o.check) {
		printf("%s: ra-web configuration is valid\n", config_file(w.cfg));
		rc = 0;
		goto out;
	}
	w.sessions = session_store_new(w.cfg);
	w.rate = ratelimit_new((int)config_int(w.cfg, "web.rate_per_minute"), (int)config_int(w.cfg, "web.rate_burst"));
	w.csp = xasprintf("default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src %s;"
	    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'", config_str(w.cfg, "web.agent_origin"));
	signal(SIGPIPE, SIG_IGN);
	/* Blocked before the serving threads start, so they inherit it and only sigwait sees it. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (w.tls)
		flags |= MHD_USE_TLS;
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &w,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)config_int(w.cfg, "web.threads"),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    w.tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_HTTPS_PRIORITIES, "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	    MHD_OPTION_END);
	if (!d) {
		log_err("cannot serve on %s (address in use, or a bad TLS key or certificate?)",
		    config_str(w.cfg, "web.listen"));
		goto out;
	}
	log_info("ra-web ready on %s://%s", w.tls ? "https" : "http", config_str(w.cfg, "web.listen"));
	/* Between signals, the metrics file every metrics.interval_ms. */
	mpath = metrics_path(w.cfg, "ra-web");
	every = config_int(w.cfg, "metrics.interval_ms");
	tick.tv_sec = every / 1000;
	tick.tv_nsec = (every % 1000) * 1000000;
	do
		web_metrics_write(mpath);
	while ((sig = sigtimedwait(&stop, NULL, &tick)) < 0);
	web_metrics_write(mpath);
	log_info("ra-web stopping");
	rc = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	if (key)
		OPENSSL_cleanse(key, strlen(key));
	free(key);
	free(cert);
	free(w.csp);
	free(mpath);
	session_store_destroy(&w.sessions);
	ratelimit_destroy(&w.rate);
	config_destroy(&w.cfg);
	return rc;
}
