/*
 * ocsp-bench.c: OCSP responses per second from a responder on 127.0.0.1, as relying
 * parties ask: each request is an HTTP POST of a DER OCSP request (RFC 6960 A.1), from
 * THREADS connections in parallel; by default HTTP/1.0 on a new TCP connection each, with
 * -k HTTP/1.1 keeping the connection (opened again whenever the server closes it). With
 * -P DEPTH, HTTP/1.1 pipelining as browsers and proxies did it: a connection's first
 * request is sent alone, and only once the server has answered it and kept the
 * connection open are DEPTH requests sent at a time, their answers read in order; a
 * server that closes every connection is therefore asked exactly as with -k. The
 * requests are the files given, taken in turn. An answer counts when it is "200 OK" with
 * a body; it is not verified here (the tests do that with openssl ocsp).
 *
 *   ocsp-bench -p PORT [-n COUNT] [-t THREADS] [-k] [-P DEPTH] REQUEST.der...
 *
 * Prints "COUNT MS ERRORS".
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct req {
	char *msg;	/* the whole HTTP request */
	size_t len;
};

static struct req *reqs;
static int nreqs, port, total, keep, depth = 1;
static int next_i, errors;

static int dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request on *FD (dialled if -1); the connection is kept when the server keeps it. */
static int ask(int *fd, const struct req *r)
{
	char buf[16384], *end = NULL, *cl;
	size_t have = 0, body = 0;
	int ok, closing;

	if (*fd < 0 && (*fd = dial()) < 0)
		return -1;
	if (write(*fd, r->msg, r->len) != (ssize_t)r->len)
		goto drop;
	for (;;) {
		ssize_t n = read(*fd, buf + have, sizeof buf - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			body = cl ? strtoul(cl + 17, NULL, 10) : 0;
		}
		if (end && keep && (size_t)(buf + have - (end + 4)) >= body)
			break;
		if (have == sizeof buf - 1)
			break;
	}
	buf[have] = '\0';
	ok = end && have > 12 && strncmp(buf + 9, "200", 3) == 0 && end + 4 < buf + have;
	closing = !keep || !end || strcasestr(buf, "\r\nConnection: close") || strncmp(buf, "HTTP/1.0", 8) == 0;
	if (closing) {
		close(*fd);
		*fd = -1;
	}
	return ok ? 0 : -1;
drop:
	close(*fd);
	*fd = -1;
	return -1;
}

/* Requests FIRST..FIRST+N-1 written at once on FD, then their N answers read in order.
 * Returns how many were "200 OK" with a body; the connection is closed on any trouble. */
static int ask_pipelined(int *fd, int first, int n)
{
	char buf[65536], *p, *end, *cl;
	size_t have = 0, body;
	int ok = 0, got = 0;

	/* one write for the batch, as a pipelining client sends what it has queued (separate
	 * small writes would wait for each other's acknowledgement: Nagle) */
	for (int i = 0; i < n; i++) {
		const struct req *r = &reqs[(first + i) % nreqs];
		if (have + r->len > sizeof buf)
			goto drop;
		memcpy(buf + have, r->msg, r->len);
		have += r->len;
	}
	if (write(*fd, buf, have) != (ssize_t)have)
		goto drop;
	have = 0;
	while (got < n) {
		ssize_t k = read(*fd, buf + have, sizeof buf - 1 - have);
		if (k <= 0)
			goto drop;
		have += (size_t)k;
		buf[have] = '\0';
		/* every whole answer in the buffer */
		while (got < n && (end = strstr(buf, "\r\n\r\n"))) {
			*end = '\0';
			cl = strcasestr(buf, "\r\nContent-Length:");
			body = cl ? strtoul(cl + 17, NULL, 10) : 0;
			if ((size_t)(buf + have - (end + 4)) < body) {
				*end = '\r';
				break;
			}
			if (strncmp(buf + 9, "200", 3) == 0 && body > 0)
				ok++;
			if (strcasestr(buf, "\r\nConnection: close")) {
				got++;
				goto drop;
			}
			p = end + 4 + body;
			have -= (size_t)(p - buf);
			memmove(buf, p, have + 1);
			got++;
		}
		if (have == sizeof buf - 1)
			goto drop;
	}
	return ok;
drop:
	close(*fd);
	*fd = -1;
	return ok;
}

static void *worker(void *arg)
{
	int i, fd = -1, kept = 0;

	(void)arg;
	for (;;) {
		/* pipelined only on a connection the server has kept after an answer */
		int n = kept && depth > 1 ? depth : 1;

		if ((i = __atomic_fetch_add(&next_i, n, __ATOMIC_RELAXED)) >= total)
			break;
		if (i + n > total)
			n = total - i;
		if (n == 1) {
			if (ask(&fd, &reqs[i % nreqs]) < 0)
				__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_fetch_add(&errors, n - ask_pipelined(&fd, i, n), __ATOMIC_RELAXED);
		}
		kept = fd >= 0;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option help_opt[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	int threads = 4, c;
	pthread_t *tids;
	int64_t t0, t1;

	log_init("ocsp-bench", LV_WARN);
	total = 10000;
	while ((c = getopt_long(argc, argv, "p:n:t:kP:h", help_opt, NULL)) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'n': total = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'k': keep = 1; break;
		case 'P': depth = atoi(optarg); keep = 1; break;
		default:
			fprintf(c == 'h' ? stdout : stderr, "usage: ocsp-bench -p PORT [-n COUNT] [-t THREADS] [-k] [-P DEPTH] REQUEST.der...\n");
			return c == 'h' ? 0 : 2;
		}
	}
	nreqs = argc - optind;
	if (port <= 0 || nreqs <= 0 || threads <= 0 || depth < 1 || depth > 256)
		fatal("give a port and at least one request file");
	reqs = xcalloc((size_t)nreqs, sizeof *reqs);
	for (int i = 0; i < nreqs; i++) {
		size_t len;
		char *der = file_read(argv[optind + i], &len);
		if (!der)
			fatal("cannot read %s", argv[optind + i]);
		char *head = xasprintf("POST / HTTP/1.%d\r\nHost: 127.0.0.1\r\nContent-Type: "
		    "application/ocsp-request\r\nContent-Length: %zu\r\n%s\r\n", keep, len,
		    keep ? "Connection: keep-alive\r\n" : "");
		size_t hl = strlen(head);
		reqs[i].msg = xmalloc(hl + len);
		memcpy(reqs[i].msg, head, hl);
		memcpy(reqs[i].msg + hl, der, len);
		reqs[i].len = hl + len;
		free(head);
		free(der);
	}
	tids = xcalloc((size_t)threads, sizeof *tids);
	t0 = mono_ms();
	for (int i = 0; i < threads; i++)
		pthread_create(&tids[i], NULL, worker, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	t1 = mono_ms();
	printf("%d %lld %d\n", total, (long long)(t1 - t0), errors);
	for (int i = 0; i < nreqs; i++)
		free(reqs[i].msg);
	free(reqs);
	free(tids);
	return 0;
}
