/*
 * ra-ocsp.c: the OCSP responder (RFC 6960) relying parties ask before they fall back to
 * the CRL. It serves HTTP on ocsp.listen: POST with an application/ocsp-request body, or
 * GET with the request in the URL (base64, URL-encoded), as RFC 6960 appendix A.1 says,
 * one request per connection. Its answers come from what ca-signer publishes in its CRL
 * folder (the complete and delta CRLs and the list of issued serials, status.c) and are
 * signed by the responder's own delegated key (responder.c): it holds no CA key, talks to
 * no daemon and opens no database, so it can face the network on its own host. When no
 * request waits, it signs again the kept answers that changed or are getting old.
 */
#include "config.h"
#include "log.h"
#include "responder.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include "cli.h"
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OCSP_MAX_REQUEST 16384	/* a request for a few certificates is well under 1 KiB */

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
	       "revoked) or unknown (never issued); signed with ocsp.key / ocsp.cert, on HTTP at\n"
	       "ocsp.listen (POST, or GET as RFC 6960 A.1).\n"
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
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
		log_err("cannot listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void reply(int fd, const char *status, const char *type, const uint8_t *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof head, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-cache\r\nConnection: close\r\n\r\n", status, type, len);
	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

/* "%2B" and friends back to bytes, in place; -1 on a bad escape. */
static int url_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '%') {
			unsigned v;
			if (!s[1] || !s[2] || sscanf(s + 1, "%2x", &v) != 1)
				return -1;
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

/* The DER request of a GET: the path after the last '/' is URL-encoded base64. */
static uint8_t *get_request(char *path, size_t *len)
{
	char *b64 = strrchr(path, '/');
	size_t n;
	uint8_t *der;
	int out;

	if (!b64 || url_decode(++b64) < 0 || (n = strlen(b64)) == 0 || n % 4 != 0 || n > OCSP_MAX_REQUEST)
		return NULL;
	der = xmalloc(n);
	if ((out = EVP_DecodeBlock(der, (unsigned char *)b64, (int)n)) < 0) {
		free(der);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	*len = (size_t)out - (b64[n - 1] == '=') - (b64[n - 2] == '=');
	return der;
}

/* Read, answer and close one connection. */
static void serve(ocsp_responder_t *r, int fd)
{
	char buf[OCSP_MAX_REQUEST + 4096 + 1], method[8], path[OCSP_MAX_REQUEST + 64];
	size_t have = 0, body_len = 0, der_len = 0, out_len;
	char *end = NULL, *cl;
	uint8_t *der = NULL, *out;
	struct timeval tv = { 5, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	while (!end && have < sizeof buf - 1) {
		ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
		if (n <= 0)
			goto out;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end || sscanf(buf, "%7s %16447s", method, path) != 2) {
		reply(fd, "400 Bad Request", "text/plain", (const uint8_t *)"bad request\n", 12);
		goto out;
	}
	if (strcmp(method, "GET") == 0) {
		if (!(der = get_request(path, &der_len))) {
			reply(fd, "400 Bad Request", "text/plain", (const uint8_t *)"bad request\n", 12);
			goto out;
		}
	} else if (strcmp(method, "POST") == 0) {
		end += 4;
		cl = strcasestr(buf, "\r\nContent-Length:");
		body_len = cl ? strtoul(cl + 17, NULL, 10) : 0;
		if (body_len == 0 || body_len > OCSP_MAX_REQUEST) {
			reply(fd, "413 Payload Too Large", "text/plain", (const uint8_t *)"bad length\n", 11);
			goto out;
		}
		while ((size_t)(buf + have - end) < body_len && have < sizeof buf - 1) {
			ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
			if (n <= 0)
				goto out;
			have += (size_t)n;
		}
		if ((size_t)(buf + have - end) < body_len)
			goto out;
		der_len = body_len;
		der = xmalloc(der_len);
		memcpy(der, end, der_len);
	} else {
		reply(fd, "405 Method Not Allowed", "text/plain", (const uint8_t *)"POST or GET\n", 12);
		goto out;
	}
	out = ocsp_responder_answer(r, der, der_len, &out_len);
	reply(fd, "200 OK", "application/ocsp-response", out, out_len);
	free(out);
out:
	free(der);
	close(fd);
}

int main(int argc, char **argv)
{
	struct cli_daemon opt;
	int lfd;
	config_t *cfg;
	ocsp_responder_t *r;
	struct sigaction sa = { .sa_handler = on_signal };

	log_init("ra-ocsp", LV_INFO);
	cli_daemon_parse(argc, argv, usage, &opt);
	cfg = config_open(opt.config);
	if (!(r = ocsp_responder_new(cfg)))
		fatal("cannot start the OCSP responder (see above)");
	if (opt.check) {
		printf("%s: configuration and responder keys are valid\n", config_file(cfg));
		return 0;
	}
	if ((lfd = listen_on(config_str(cfg, "ocsp.listen"))) < 0)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("ra-ocsp ready on %s", config_str(cfg, "ocsp.listen"));
	while (!stopping) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int fd;
		int ready = poll(&p, 1, 200);
		if (ready == 0)
			ocsp_responder_presign(r, 20);
		if (ready <= 0)
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			serve(r, fd);
	}
	log_info("ra-ocsp stopping");
	close(lfd);
	ocsp_responder_destroy(&r);
	config_destroy(&cfg);
	return 0;
}
