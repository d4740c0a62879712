/*
 * ocsp-bench.c: OCSP responses per second from a responder on 127.0.0.1, as relying
 * parties ask: each request is an HTTP POST of a DER OCSP request (RFC 6960 A.1), from
 * THREADS connections in parallel; by default HTTP/1.0 on a new TCP connection each, with
 * -k HTTP/1.1 keeping the connection (opened again whenever the server closes it). The
 * requests are the files given, taken in turn. An answer counts when it is "200 OK" with
 * a body; it is not verified here (the tests do that with openssl ocsp).
 *
 *   ocsp-bench -p PORT [-n COUNT] [-t THREADS] [-k] REQUEST.der...
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
static int nreqs, port, total, keep;
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

static void *worker(void *arg)
{
	int i, fd = -1;

	(void)arg;
	while ((i = __atomic_fetch_add(&next_i, 1, __ATOMIC_RELAXED)) < total)
		if (ask(&fd, &reqs[i % nreqs]) < 0)
			__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED);
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
	while ((c = getopt_long(argc, argv, "p:n:t:kh", help_opt, NULL)) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'n': total = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'k': keep = 1; break;
		default:
			fprintf(c == 'h' ? stdout : stderr, "usage: ocsp-bench -p PORT [-n COUNT] [-t THREADS] [-k] REQUEST.der...\n");
			return c == 'h' ? 0 : 2;
		}
	}
	nreqs = argc - optind;
	if (port <= 0 || nreqs <= 0 || threads <= 0)
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
