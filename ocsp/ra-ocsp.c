/*
 * ra-ocsp.c: the OCSP responder (RFC 6960) relying parties ask before they fall back to
 * the CRL. It serves HTTP on ocsp.listen (libmicrohttpd: HTTP/1.0 and 1.1 with
 * keep-alive): POST with an application/ocsp-request body, or GET with the request in the
 * URL (base64, URL-encoded), as RFC 6960 appendix A.1 says. Its answers come from what ca-signer publishes in its CRL
 * folder (the complete and delta CRLs and the list of issued serials, status.c) and are
 * signed by the responder's own delegated key (responder.c): it holds no CA key, talks to
 * no daemon and opens no database, so it can face the network on its own host. When no
 * request waits, it signs again the kept answers that changed or are getting old.
 * ocsp.threads serving threads (default: one per core) each hold their own responder and
 * socket on the same port (SO_REUSEPORT) and share nothing.
 *
 * A kept answer (already signed, see responder.h) is made into its whole HTTP response
 * once, when it is signed: the body and its headers, with the caching headers of RFC 5019
 * section 6 (Last-Modified, Expires, ETag, Cache-Control max-age) so that HTTP caches and
 * CDNs may serve it in our place; every request for it then queues that same response.
 * Answers signed for one request (a nonce to echo) and errors are never cached.
 */
#include "config.h"
#include "log.h"
#include "ocsp_metrics.h"
#include "request.h"
#include "responder.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <microhttpd.h>
#include "cli.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OCSP_IDLE_SECONDS 5	/* an idle keep-alive connection is closed after this */
#define OCSP_MAX_CONNECTIONS 512

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(int code)
{
	printf("usage: ra-ocsp [-c CONFIG] [--check] [--now TIME]\n"
	       "\n"
	       "OCSP responder: answers from what ca-signer publishes in signer.crl_dir (the\n"
	       "complete and delta CRLs, the list of issued serials): revoked, good (issued, not\n"
	       "revoked) or unknown (never issued), and unauthorized for another CA's certificate;\n"
	       "signed with ocsp.key / ocsp.cert, on HTTP at ocsp.listen (POST, or GET as RFC 6960\n"
	       "A.1, whose kept answers carry RFC 5019 caching headers).\n"
	       "\n"
	       "  -c, --config FILE  configuration (default: $RA_CONFIG, else embedded defaults)\n"
	       "      --check        check the configuration and the keys, and exit\n"
	       "      --now TIME     pretend the time is TIME (tests)\n"
	       "  -h, --help         this help\n");
	exit(code);
}

/* A listening TCP socket for "ADDRESS:PORT". -1 on error (logged). */
static int listen_on(const char *spec)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, one = 1;
	long port;

	if (!colon || (size_t)(colon - spec) >= sizeof host || (port = strtol(colon + 1, NULL, 10)) <= 0 || port > 65535) {
		log_err("ocsp.listen must be ADDRESS:PORT, not '%s'", spec);
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		log_err("ocsp.listen: '%s' is not an IPv4 address", host);
		return -1;
	}
	sa.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    /* one socket per serving thread; the kernel spreads connections over them (only
	     * sockets of the same user may join) */
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
	    /* wake up for a connection only once its request has arrived */
	    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
		log_err("cannot listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
    uint8_t *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-cache, no-store");
	rc = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
	return reply(c, code, "text/plain", (uint8_t *)xstrdup(text), strlen(text));
}

/* A kept answer as a whole HTTP response (ocsp_responder_set_wrap). */
struct kept_http {
	struct MHD_Response *resp;	/* owns the DER */
	enum ocsp_answer kind;
};

static void http_date(char *buf, size_t len, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void *kept_wrap(void *arg, uint8_t *der, size_t len, const struct ocsp_kept_info *info)
{
	struct kept_http *h = xcalloc(1, sizeof *h);
	unsigned char md[32];
	char date[64], etag[2 * 16 + 3], cc[96];
	time_t age = info->next_update - info->served_until;

	(void)arg;
	/* Served until served_until at the latest, so a cache that takes it then must drop
	 * it by nextUpdate (RFC 5019 6.2: max-age below nextUpdate - now); and no longer than
	 * ocsp.refresh_seconds either, as we do. */
	if (age > info->served_until - info->produced_at)
		age = info->served_until - info->produced_at;
	if (age < 0)
		age = 0;
	h->kind = info->status == V_OCSP_CERTSTATUS_GOOD ? OCSP_ANSWER_GOOD :
	    info->status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_ANSWER_REVOKED : OCSP_ANSWER_UNKNOWN;
	h->resp = MHD_create_response_from_buffer_with_free_callback(len, der, free);
	if (!h->resp)
		fatal("out of memory for an HTTP response");
	EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL);
	etag[0] = '"';
	hex_encode(md, 16, etag + 1);
	strcpy(etag + 33, "\"");
	snprintf(cc, sizeof cc, "max-age=%lld, public, no-transform, must-revalidate", (long long)age);
	MHD_add_response_header(h->resp, "Content-Type", "application/ocsp-response");
	MHD_add_response_header(h->resp, "Cache-Control", cc);
	MHD_add_response_header(h->resp, "ETag", etag);
	http_date(date, sizeof date, info->produced_at);
	MHD_add_response_header(h->resp, "Last-Modified", date);
	http_date(date, sizeof date, info->next_update);
	MHD_add_response_header(h->resp, "Expires", date);
	return h;
}

static void kept_unwrap(void *arg, void *handle)
{
	struct kept_http *h = handle;

	(void)arg;
	MHD_destroy_response(h->resp);	/* freed once the last connection sending it is done */
	free(h);
}

/* One serving thread: its own responder (kept answers, loaded files), socket and HTTP
 * server, so that threads share nothing and need no lock. */
struct server {
	ocsp_responder_t *r;
	struct MHD_Daemon *d;
	struct ocsp_tally tally;	/* its requests (served: to tell a quiet spell), answers, times */
	pthread_t tid;
};

/* A POST body being received (its buffer grows as pieces come, up to OCSP_MAX_REQUEST). */
struct body {
	uint8_t *buf;
	size_t len, cap;
	int too_long;
	uint64_t t0;	/* its first piece's arrival (ocsp_metrics_clock) */
};

/* The answer to the DER request REQ: the kept one when there is one, else a fresh one. */
static enum MHD_Result answer(struct MHD_Connection *c, struct server *sv, const uint8_t *req,
    size_t len, uint64_t t0)
{
	struct kept_http *h;
	size_t out_len;
	uint8_t *out = ocsp_responder_answer(sv->r, req, len, (void **)&h, &out_len);

	if (!out) {
		ocsp_tally_add(&sv->tally, h->kind, ocsp_metrics_clock() - t0);
		return MHD_queue_response(c, MHD_HTTP_OK, h->resp);
	}
	ocsp_tally_add(&sv->tally, ocsp_metrics_classify(out, out_len), ocsp_metrics_clock() - t0);
	return reply(c, MHD_HTTP_OK, "application/ocsp-response", out, out_len);
}

/* Count the answer OUT (NULL: an HTTP error with no OCSP answer) to a request that arrived at T0. */
static void count_answer(struct ocsp_tally *t, const uint8_t *out, size_t len, uint64_t t0)
{
	ocsp_tally_add(t, out ? ocsp_metrics_classify(out, len) : OCSP_ANSWER_MALFORMED,
	    ocsp_metrics_clock() - t0);
}

/*
 * One HTTP request (libmicrohttpd calls this first with the headers, then with each piece
 * of a POST body, then once more with none): the OCSP request from the URL (GET) or the
 * body (POST), the answer as application/ocsp-response.
 */
static enum MHD_Result on_request(void *arg, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload, size_t *upload_len,
    void **state)
{
	struct server *sv = arg;
	struct body *b = *state;
	uint8_t *der;
	size_t der_len = 0;
	enum MHD_Result rc;
	uint64_t t0;

	(void)version;
	if (strcmp(method, "GET") == 0) {
		t0 = ocsp_metrics_clock();
		if (!(der = ocsp_request_from_url(url, &der_len))) {
			count_answer(&sv->tally, NULL, 0, t0);
			return reply_text(c, MHD_HTTP_BAD_REQUEST, "bad request\n");
		}
		rc = answer(c, sv, der, der_len, t0);
		free(der);
		return rc;
	}
	if (strcmp(method, "POST") != 0) {
		count_answer(&sv->tally, NULL, 0, ocsp_metrics_clock());
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST or GET\n");
	}
	if (!b) {
		*state = b = xcalloc(1, sizeof *b);
		b->t0 = ocsp_metrics_clock();
		return MHD_YES;
	}
	if (*upload_len > 0) {
		if (b->len + *upload_len > OCSP_MAX_REQUEST) {
			b->too_long = 1;
		} else {
			if (b->len + *upload_len > b->cap) {
				b->cap = b->len + *upload_len + 512;
				b->buf = xrealloc(b->buf, b->cap);
			}
			memcpy(b->buf + b->len, upload, *upload_len);
			b->len += *upload_len;
		}
		*upload_len = 0;
		return MHD_YES;
	}
	if (b->too_long || b->len == 0) {
		count_answer(&sv->tally, NULL, 0, b->t0);
		return reply_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "bad length\n");
	}
	return answer(c, sv, b->buf, b->len, b->t0);
}

/* Keep the URL as sent: a GET request's base64 may hold "%2F", which must not become a
 * path separator before ocsp_request_from_url has found the last '/'. */
static size_t keep_escapes(void *arg, struct MHD_Connection *c, char *s)
{
	(void)arg;
	(void)c;
	return strlen(s);
}

static void on_done(void *arg, struct MHD_Connection *c, void **state,
    enum MHD_RequestTerminationCode why)
{
	struct body *b = *state;
	struct server *sv = arg;

	(void)c;
	(void)why;
	__atomic_fetch_add(&sv->tally.served, 1, __ATOMIC_RELAXED);
	if (b)
		free(b->buf);
	free(b);
	*state = NULL;
}


static int server_start(struct server *sv, const config_t *cfg)
{
	int lfd;

	if (!(sv->r = ocsp_responder_new(cfg)) || (lfd = listen_on(config_str(cfg, "ocsp.listen"))) < 0)
		return -1;
	ocsp_responder_set_wrap(sv->r, kept_wrap, kept_unwrap, NULL);
	/* libmicrohttpd serves HTTP/1.0 and 1.1 (keep-alive) on this socket, driven from the
	 * thread's loop, so the responder is only ever used from that thread. */
	sv->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_EPOLL_TURBO, 0, NULL, NULL, on_request,
	    sv, MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_NOTIFY_COMPLETED, on_done, sv,
	    MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)OCSP_IDLE_SECONDS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)OCSP_MAX_CONNECTIONS, MHD_OPTION_END);
	if (!sv->d) {
		log_err("cannot start the HTTP server on %s", config_str(cfg, "ocsp.listen"));
		close(lfd);
		return -1;
	}
	return 0;
}

/* All serving threads, and their metrics file, which the first one writes. */
static struct server *servers;
static long nservers;
static ocsp_metrics_t *metrics;

static void metrics_tick(int force)
{
	struct ocsp_tally t[16];

	for (long i = 0; i < nservers; i++)
		t[i] = servers[i].tally;	/* each field read whole; a count a moment old is fine */
	ocsp_metrics_tick(metrics, t, force);
}

static void *server_run(void *arg)
{
	struct server *sv = arg;

	while (!stopping) {
		unsigned long before = __atomic_load_n(&sv->tally.served, __ATOMIC_RELAXED);

		if (sv == servers)
			metrics_tick(0);

		uint64_t t0 = ocsp_metrics_clock();

		/* Waits up to 200 ms for work and does it; a quiet spell (nothing served, and
		 * libmicrohttpd really waited: it also returns at once while a connection holds
		 * unread requests) is for signing again. */
		MHD_run_wait(sv->d, 200);
		if (__atomic_load_n(&sv->tally.served, __ATOMIC_RELAXED) == before &&
		    ocsp_metrics_clock() - t0 >= 50000000u)
			ocsp_responder_presign(sv->r, 20);
	}
	return NULL;
}

static void server_stop(struct server *sv)
{
	if (sv->d)
		MHD_stop_daemon(sv->d);
	ocsp_responder_destroy(&sv->r);
}

int main(int argc, char **argv)
{
	struct cli_daemon opt;
	struct server *sv;
	config_t *cfg;
	ocsp_responder_t *r;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t all, old;
	long n;

	log_init("ra-ocsp", LV_INFO);
	cli_daemon_parse(argc, argv, usage, &opt);
	cfg = config_open(opt.config);
	if (!(r = ocsp_responder_new(cfg)))
		fatal("cannot start the OCSP responder (see above)");
	ocsp_responder_destroy(&r);
	if (opt.check) {
		printf("%s: configuration and responder keys are valid\n", config_file(cfg));
		return 0;
	}
	n = config_int(cfg, "ocsp.threads");
	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	n = n < 1 ? 1 : n > 16 ? 16 : n;
	sv = xcalloc((size_t)n, sizeof *sv);
	servers = sv;
	nservers = n;
	metrics = ocsp_metrics_new(cfg, n);
	for (long i = 0; i < n; i++)
		if (server_start(&sv[i], cfg) < 0)
			fatal("cannot serve on %s (see above)", config_str(cfg, "ocsp.listen"));
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Serving threads leave signals to the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (long i = 1; i < n; i++)
		if (pthread_create(&sv[i].tid, NULL, server_run, &sv[i]) != 0)
			fatal("cannot start serving thread %ld", i);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	log_info("ra-ocsp ready on %s (%ld thread%s)", config_str(cfg, "ocsp.listen"), n, n > 1 ? "s" : "");
	server_run(&sv[0]);
	for (long i = 1; i < n; i++)
		pthread_join(sv[i].tid, NULL);
	metrics_tick(1);
	ocsp_metrics_destroy(&metrics);
	log_info("ra-ocsp stopping");
	for (long i = 0; i < n; i++)
		server_stop(&sv[i]);
	free(sv);
	config_destroy(&cfg);
	return 0;
}
