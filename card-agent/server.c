/*
 * server.c: the agent's local HTTP server (libmicrohttpd), on 127.0.0.1 only.
 *
 *   OPTIONS *           the CORS preflight (and Chromium's Private Network Access one)
 *   GET  /v1/hello      the agent's version and the card it sees
 *   POST /v1/<op>       one operation (ops.c): {account, lang}
 *
 * Rules, checked here before any handler runs, in this order:
 *  - the Host header must name the loopback address and our port (127.0.0.1 or
 *    localhost), so a page on a DNS name rebound to 127.0.0.1 is refused;
 *  - the Origin header must be one of agent.origins, exactly: any other page (and any
 *    request without an Origin, which no browser's cross-origin fetch lacks) gets 403 and
 *    no CORS header, so the browser shows the page nothing, and nothing reaches the card;
 *  - an allowed origin gets Access-Control-Allow-Origin with its own name (never "*"),
 *    Vary: Origin, no credentials; a preflight that asks for Private Network Access
 *    (Access-Control-Request-Private-Network: true) is answered
 *    Access-Control-Allow-Private-Network: true;
 *  - POST bodies are JSON objects of at most AGENT_MAX_BODY bytes.
 */
#include "agent.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct server_req {
	char *body;
	size_t len;
	int too_big;
};

int server_origin_allowed(const struct agent *a, const char *origin)
{
	if (!origin)
		return 0;
	for (size_t i = 0; i < a->norigins; i++)
		if (strcmp(a->origins[i], origin) == 0)
			return 1;
	return 0;
}

/* 1 if HOST is the loopback address or localhost with our port. */
static int server_host_ok(const struct agent *a, const char *host)
{
	char want[64];

	if (!host)
		return 0;
	snprintf(want, sizeof want, "127.0.0.1:%u", a->port);
	if (strcmp(host, want) == 0)
		return 1;
	snprintf(want, sizeof want, "localhost:%u", a->port);
	return strcmp(host, want) == 0;
}

/* Send OBJ (stolen) with STATUS; CORS headers for ORIGIN when it is allowed. */
static enum MHD_Result server_send(struct MHD_Connection *con, unsigned status, json_t *obj, const char *origin)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	json_decref(obj);
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Vary", "Origin");
	if (origin)
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
	ret = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result server_preflight(struct MHD_Connection *con, const char *origin)
{
	const char *pna = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Access-Control-Request-Private-Network");
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Content-Type");
	MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	MHD_add_response_header(resp, "Vary", "Origin");
	if (pna && strcmp(pna, "true") == 0)
		MHD_add_response_header(resp, "Access-Control-Allow-Private-Network", "true");
	ret = MHD_queue_response(con, MHD_HTTP_NO_CONTENT, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result server_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct agent *a = cls;
	struct server_req *r = *state;
	const char *origin = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Host");
	json_t *body, *out;
	unsigned status;

	(void)version;
	if (!r) {
		*state = xcalloc(1, sizeof *r);
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->len + *upload_size > AGENT_MAX_BODY) {
			r->too_big = 1;
		} else {
			r->body = realloc(r->body, r->len + *upload_size + 1);
			if (!r->body)
				fatal("out of memory");
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!server_host_ok(a, host)) {
		log_warn("refused a request for host %s", host ? host : "(none)");
		return server_send(con, MHD_HTTP_FORBIDDEN, json_pack("{s:b,s:s}", "ok", 0, "error", "wrong host"), NULL);
	}
	if (!server_origin_allowed(a, origin)) {
		log_warn("refused a %s %s from origin %s", method, url, origin ? origin : "(none)");
		return server_send(con, MHD_HTTP_FORBIDDEN, json_pack("{s:b,s:s}", "ok", 0, "error",
		    "this site may not use the card agent"), NULL);
	}
	if (strcmp(method, "OPTIONS") == 0)
		return server_preflight(con, origin);
	if (strcmp(method, "GET") == 0 && strcmp(url, "/v1/hello") == 0)
		return server_send(con, MHD_HTTP_OK, ops_hello(a), origin);
	if (strcmp(method, "POST") != 0 || strncmp(url, "/v1/", 4) != 0 || !ops_known(url + 4))
		return server_send(con, MHD_HTTP_NOT_FOUND, json_pack("{s:b,s:s}", "ok", 0, "error", "not found"), origin);
	body = r->too_big || !r->body ? NULL : json_loads(r->body, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		return server_send(con, MHD_HTTP_BAD_REQUEST, json_pack("{s:b,s:s}", "ok", 0, "error",
		    "the body must be a JSON object"), origin);
	}
	out = ops_run(a, url + 4, origin, body, &status);
	json_decref(body);
	return server_send(con, status, out, origin);
}

static void server_done(void *cls, struct MHD_Connection *con, void **state, enum MHD_RequestTerminationCode why)
{
	struct server_req *r = *state;

	(void)cls;
	(void)con;
	(void)why;
	if (r)
		free(r->body);
	free(r);
	*state = NULL;
}

static void server_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("http: %s", line);
}

int server_run(struct agent *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)a->port) };
	struct MHD_Daemon *d;
	sigset_t stop;
	int sig;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, server_request, a,
	    MHD_OPTION_EXTERNAL_LOGGER, server_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, server_done, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_END);
	if (!d) {
		log_err("cannot listen on 127.0.0.1:%u (in use?)", a->port);
		return -1;
	}
	log_info("card-agent ready on http://127.0.0.1:%u for %zu origin(s)", a->port, a->norigins);
	while (sigwait(&stop, &sig) != 0)
		;
	log_info("stopping on signal %d", sig);
	MHD_stop_daemon(d);
	return 0;
}
